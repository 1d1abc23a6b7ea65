/* test_threads.c - loom.h's promise: graphs are independent, so threads each building,
 * fitting, saving and loading their own model get what one thread alone gets. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/models.h"

#define N_THREADS 4

typedef struct job {
  int id;
  char path[96];
  float pred[8 * 10];
  int status;
} job;

/* Models of several kinds, built so that the layer sort runs over many layers. */
static void *run(void *arg) {
  job *j = arg;
  loom_graph *g = loom_graph_new(11);
  loom_arena *a = loom_arena_new(NULL);
  loom_model *m = j->id % 2 ? build_mlp_model(g) : build_residual_model(g);
  loom_model *mlp = j->id % 2 ? m : build_mlp_model(g);
  loom_tensor *x, *y, *out[1];
  make_blobs(a, 64, 3, &x, &y);
  j->status = loom_compile(mlp, .loss = "categorical_crossentropy", .metrics = {"acc"});
  if (!j->status && !loom_fit(mlp, .x = {x}, .y = {y}, .epochs = 2, .batch_size = 16, .verbose = LOOM_SILENT))
    j->status = loom_graph_status(g);
  if (!j->status) j->status = loom_save(mlp, j->path);
  loom_model *back = j->status ? NULL : loom_model_load(j->path);
  if (!j->status && !back) j->status = LOOM_EINVAL;
  if (!j->status) j->status = loom_predict(back, a, out, .x = {x});
  if (!j->status) memcpy(j->pred, out[0]->data, sizeof j->pred);
  if (back) loom_graph_free(loom_model_graph(back));
  loom_arena_free(a);
  loom_graph_free(g);
  return NULL;
}

Test(threads, models_built_and_trained_on_several_threads_equal_the_serial_run) {
  loom_set_num_threads(1);
  char dir[] = "/tmp/loom-threads-XXXXXX";
  cr_assert(mkdtemp(dir));
  job serial[2] = {{.id = 0}, {.id = 1}}, par[N_THREADS];
  for (int i = 0; i < 2; ++i) {
    snprintf(serial[i].path, sizeof serial[i].path, "%s/serial%d.safetensors", dir, i);
    run(&serial[i]);
    cr_assert_eq(serial[i].status, LOOM_OK, "%s", loom_last_error());
  }
  pthread_t t[N_THREADS];
  for (int i = 0; i < N_THREADS; ++i) {
    par[i] = (job){.id = i};
    snprintf(par[i].path, sizeof par[i].path, "%s/par%d.safetensors", dir, i);
    cr_assert_eq(pthread_create(&t[i], NULL, run, &par[i]), 0);
  }
  for (int i = 0; i < N_THREADS; ++i) cr_assert_eq(pthread_join(t[i], NULL), 0);
  for (int i = 0; i < N_THREADS; ++i) {
    cr_assert_eq(par[i].status, LOOM_OK, "thread %d", i);
    cr_assert(!memcmp(par[i].pred, serial[i % 2].pred, sizeof par[i].pred), "thread %d differs from the serial run", i);
  }
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
