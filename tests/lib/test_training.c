/* test_training.c - the example models learn their synthetic tasks; training is
 * bitwise reproducible (same seed; 1 or 2 threads); a step after the first makes no
 * malloc; predict records no tape; a shared layer's gradient is the sum over its call
 * sites; a model used as a layer trains the original's weights. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "lib/graph/model.h"
#include "lib/models.h"

static loom_arena *data;
static void open_data(void) { data = loom_arena_new(NULL); }
static void close_data(void) { loom_arena_free(data); }
TestSuite(training, .init = open_data, .fini = close_data);

static const float *last(const loom_history *h, const char *key) {
  const float *v = loom_history_get(h, key);
  cr_assert(v, "no history key %s", key);
  return v + loom_history_epochs(h) - 1;
}

Test(training, mlp_learns_the_blobs) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_mlp_model(g);
  cr_assert_eq(loom_compile(m, .loss = "categorical_crossentropy", .metrics = {"acc"}), LOOM_OK,
               "%s", loom_graph_error(g));
  loom_tensor *x, *y, *tx, *ty;
  make_blobs(data, 1024, 1, &x, &y);
  make_blobs(data, 500, 2, &tx, &ty);
  const loom_history *h = loom_fit(m, .x = {x}, .y = {y}, .epochs = 5, .verbose = LOOM_SILENT);
  cr_assert(h, "%s", loom_graph_error(g));
  cr_assert_lt(*last(h, "loss"), loom_history_get(h, "loss")[0]);
  float v[2];
  cr_assert_eq(loom_evaluate(m, v, 2, .x = {tx}, .y = {ty}), 2, "%s", loom_graph_error(g));
  cr_assert_str_eq(loom_model_metric_name(m, 1), "acc");
  cr_assert_geq(v[1], 0.9f, "held-out accuracy %.3f", v[1]);
  loom_graph_free(g);
}

Test(training, qa_model_learns_the_last_word) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_qa_model(g);
  cr_assert_eq(loom_compile(m, .optimizer = {LOOM_RMSPROP, .learning_rate = 0.01f},
                            .loss = "categorical_crossentropy", .metrics = {"acc"}), LOOM_OK);
  const int64_t n = 256, steps = 8, s[2] = {n, steps}, s1[1] = {n};
  loom_tensor *text = loom_tensor_new(data, LOOM_I32, 2, s), *q = loom_tensor_new(data, LOOM_I32, 2, s);
  loom_tensor *ids = loom_tensor_new(data, LOOM_I32, 1, s1);
  uint64_t r = 5;
  for (int64_t i = 0; i < n * steps; ++i) {
    r = r * 6364136223846793005ull + 1;
    loom_tensor_i32(text)[i] = 1 + (int)((r >> 33) % 20);
    loom_tensor_i32(q)[i] = 1 + (int)((r >> 40) % 20);
  }
  for (int64_t i = 0; i < n; ++i) loom_tensor_i32(ids)[i] = loom_tensor_i32(text)[i * steps + steps - 1];
  loom_tensor *answers = loom_to_categorical(data, ids, 500);
  const loom_history *h = loom_fit(m, .x_by_name = {{"question", q}, {"text", text}}, .y = {answers},
                                   .epochs = 12, .batch_size = 32, .verbose = LOOM_SILENT);
  cr_assert(h, "%s", loom_graph_error(g));
  cr_assert_geq(*last(h, "acc"), 0.9f, "accuracy %.3f", *last(h, "acc"));
  loom_graph_free(g);
}

Test(training, multi_output_model_improves_all_three_heads) {
  loom_graph *g = loom_graph_new(4);
  loom_model *m = build_multi_output_model(g, 8);
  cr_assert_eq(compile_multi_output_model(m), LOOM_OK, "%s", loom_graph_error(g));
  const posts_data d = make_posts(data, 96, 300, 5);
  const loom_history *h = loom_fit(
      m, .x_by_name = {{"posts", d.posts}},
      .y_by_name = {{"gender", d.gender}, {"age", d.age}, {"income", d.income}}, .epochs = 6,
      .batch_size = 32, .verbose = LOOM_SILENT);
  cr_assert(h, "%s", loom_graph_error(g));
  static const char *heads[3] = {"age_loss", "income_loss", "gender_loss"};
  for (int i = 0; i < 3; ++i)
    cr_assert_lt(*last(h, heads[i]), loom_history_get(h, heads[i])[0], "%s did not fall", heads[i]);
  /* the total is the weighted sum of the heads (each epoch's mean of each) */
  const float want = 0.25f * *last(h, "age_loss") + *last(h, "income_loss") + 10 * *last(h, "gender_loss");
  cr_assert(tu_close(*last(h, "loss"), want, 1e-4, 1e-4), "loss %g vs %g", *last(h, "loss"), want);
  loom_graph_free(g);
}

Test(training, siamese_model_learns_to_compare) {
  loom_graph *g = loom_graph_new(6);
  loom_model *m = build_siamese_model(g);
  cr_assert_eq(loom_compile(m, .optimizer = {LOOM_RMSPROP, .learning_rate = 0.003f},
                            .loss = "binary_crossentropy", .metrics = {"acc"}), LOOM_OK);
  loom_tensor *l, *r, *t;
  make_pairs(data, 256, 6, 11, &l, &r, &t);
  const loom_history *h = loom_fit(m, .x = {l, r}, .y = {t}, .epochs = 10, .verbose = LOOM_SILENT);
  cr_assert(h, "%s", loom_graph_error(g));
  cr_assert_geq(*last(h, "acc"), 0.9f, "accuracy %.3f", *last(h, "acc"));
  loom_graph_free(g);
}

/* ---------------------------------------------------------------- reproducibility */

static void train_residual(int threads, uint64_t seed, float **weights, size_t *n) {
  loom_set_num_threads(threads);
  loom_graph *g = loom_graph_new(seed);
  loom_model *m = build_residual_model(g);
  cr_assert_eq(loom_compile(m, .optimizer = {LOOM_ADAM}, .loss = "binary_crossentropy"), LOOM_OK);
  loom_tensor *x, *y;
  make_images(data, 48, 9, &x, &y);
  cr_assert(loom_fit(m, .x = {x}, .y = {y}, .epochs = 2, .batch_size = 16, .verbose = LOOM_SILENT),
            "%s", loom_graph_error(g));
  *n = 0;
  for (int i = 0; i < m->n_weights; ++i) *n += (size_t)m->weights[i]->size;
  *weights = malloc(*n * sizeof(float));
  size_t k = 0;
  for (int i = 0; i < m->n_weights; ++i) {
    memcpy(*weights + k, m->weights[i]->data, (size_t)m->weights[i]->size * sizeof(float));
    k += (size_t)m->weights[i]->size;
  }
  loom_graph_free(g);
}

Test(training, same_seed_and_any_thread_count_give_bitwise_the_same_weights) {
  float *a, *b, *c, *d;
  size_t na, nb, nc, nd;
  train_residual(1, 7, &a, &na);
  train_residual(1, 7, &b, &nb);
  train_residual(2, 7, &c, &nc);
  train_residual(1, 8, &d, &nd);
  loom_set_num_threads(1);
  cr_assert(na == nb && na == nc && na == nd);
  cr_assert(memcmp(a, b, na * sizeof(float)) == 0, "same seed, same threads: weights differ");
  cr_assert(memcmp(a, c, na * sizeof(float)) == 0, "1 vs 2 threads: weights differ");
  cr_assert(memcmp(a, d, na * sizeof(float)) != 0, "another seed gives the same weights");
  free(a), free(b), free(c), free(d);
}

/* ---------------------------------------------------------------- memory */

#if !defined(__SANITIZE_ADDRESS__)
/* Count the program's allocations (glibc's own entry points do the work). */
extern void *__libc_malloc(size_t), *__libc_calloc(size_t, size_t), *__libc_realloc(void *, size_t);
static volatile long mallocs;
void *malloc(size_t n) { ++mallocs; return __libc_malloc(n); }
void *calloc(size_t n, size_t s) { ++mallocs; return __libc_calloc(n, s); }
void *realloc(void *p, size_t n) { ++mallocs; return __libc_realloc(p, n); }

static long at_epoch[8];
static bool note_epoch(loom_model *m, int epoch, const loom_history *h, void *user) {
  (void)m, (void)h, (void)user;
  at_epoch[epoch] = mallocs;
  return true;
}

Test(training, steps_after_the_first_make_no_malloc) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_qa_model(g);
  cr_assert_eq(loom_compile(m, .loss = "categorical_crossentropy", .metrics = {"acc"}), LOOM_OK);
  const int64_t s[2] = {64, 6}, s1[1] = {64};
  loom_tensor *text = loom_tensor_new(data, LOOM_I32, 2, s), *ids = loom_tensor_new(data, LOOM_I32, 1, s1);
  for (int64_t i = 0; i < text->size; ++i) loom_tensor_i32(text)[i] = (int32_t)(i * 7 % 100);
  loom_tensor *y = loom_to_categorical(data, ids, 500);
  cr_assert(loom_fit(m, .x = {text, text}, .y = {y}, .epochs = 4, .batch_size = 16,
                     .verbose = LOOM_SILENT, .on_epoch_end = note_epoch),
            "%s", loom_graph_error(g));
  /* epochs 2..4 (12 steps, shuffled batches) allocate nothing */
  cr_assert_eq(at_epoch[3], at_epoch[0], "%ld allocations in epochs 2-4", at_epoch[3] - at_epoch[0]);
  loom_graph_free(g);
}
#endif

Test(training, predict_records_no_tape_and_matches_the_layers) {
  loom_graph *g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {3});
  loom_layer *dense = loom_Dense(g, .units = 2, .activation = LOOM_TANH);
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {loom_call(dense, in)});
  const float xv[6] = {1, 2, 3, -1, 0.5f, 0};
  const int64_t sx[2] = {2, 3};
  loom_tensor *x = loom_tensor_from(data, LOOM_F32, 2, sx, xv), *out[1];
  cr_assert_eq(loom_predict(m, data, out, .x = {x}, .batch_size = 1), LOOM_OK, "%s", loom_graph_error(g));
  cr_assert_eq(loom_ctx_tape_length(m->cx), 0);
  const float *k = loom_layer_weight(dense, "kernel")->data;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double z = 0; /* bias starts at zero */
      for (int c = 0; c < 3; ++c) z += xv[i * 3 + c] * k[c * 2 + j];
      cr_assert(tu_close(loom_tensor_f32(out[0])[i * 2 + j], tanh(z), 1e-6, 1e-5));
    }
  loom_graph_free(g);
}

/* ---------------------------------------------------------------- shared weights */

/* Loss of a two-input model at its current weights: mean squared output. */
static double model_loss(loom_model *m, loom_tensor *a, loom_tensor *b, bool backward) {
  if (!m->cx) m->cx = loom_ctx_new(NULL);
  loom_ctx_reset(m->cx);
  loom_ctx_set_training(m->cx, backward);
  loom_tensor *in[2] = {a, b};
  const lm_run run = {.cx = m->cx, .training = backward};
  cr_assert_eq(lm_model_run(m, &run, in, NULL), LOOM_OK, "%s", loom_graph_error(m->g));
  loom_tensor *y = m->out[0]->value, *l = loom_mean(m->cx, loom_mul(m->cx, y, y));
  if (backward) cr_assert_eq(loom_backward(m->cx, l), LOOM_OK, "%s", loom_ctx_error(m->cx));
  return loom_tensor_f32(l)[0];
}

Test(training, a_shared_layer_gets_the_sum_of_both_call_sites_gradients) {
  loom_graph *g = loom_graph_new(3);
  loom_node *a = loom_Input(g, .shape = {4}), *b = loom_Input(g, .shape = {4});
  loom_layer *shared = loom_Dense(g, .units = 3, .activation = LOOM_TANH);
  loom_node *sum = loom_call_list(loom_Add(g), loom_call(shared, a), loom_call(shared, b));
  loom_model *m = loom_Model(g, .inputs = {a, b}, .outputs = {loom_call(loom_Dense(g, .units = 2), sum)});
  /* the same network with two separate layers holding copies of the weights */
  loom_node *a2 = loom_Input(g, .shape = {4}), *b2 = loom_Input(g, .shape = {4});
  loom_layer *left = loom_Dense(g, .units = 3, .activation = LOOM_TANH);
  loom_layer *right = loom_Dense(g, .units = 3, .activation = LOOM_TANH);
  loom_layer *head = loom_Dense(g, .units = 2);
  loom_node *sum2 = loom_call_list(loom_Add(g), loom_call(left, a2), loom_call(right, b2));
  loom_model *m2 = loom_Model(g, .inputs = {a2, b2}, .outputs = {loom_call(head, sum2)});
  cr_assert(m && m2, "%s", loom_graph_error(g));
  cr_assert_eq(m->n_weights, 4, "the shared layer's weights count once");
  loom_layer *mhead = m->out[0]->call->layer;
  for (int w = 0; w < 2; ++w) {
    memcpy(left->w[w]->data, shared->w[w]->data, (size_t)shared->w[w]->size * 4);
    memcpy(right->w[w]->data, shared->w[w]->data, (size_t)shared->w[w]->size * 4);
    memcpy(head->w[w]->data, mhead->w[w]->data, (size_t)mhead->w[w]->size * 4);
  }
  const int64_t s[2] = {3, 4};
  loom_tensor *xa = tu_tensor(data, 2, s, -1, 1, 1), *xb = tu_tensor(data, 2, s, -1, 1, 2);
  model_loss(m, xa, xb, true);
  model_loss(m2, xa, xb, true);
  for (int w = 0; w < 2; ++w)
    for (int64_t i = 0; i < shared->w[w]->size; ++i)
      cr_assert(tu_close(shared->w[w]->grad[i], left->w[w]->grad[i] + right->w[w]->grad[i], 1e-6, 1e-5),
                "weight %d [%lld]", w, (long long)i);
  /* and by finite differences of the whole model */
  float *grad = malloc((size_t)shared->w[0]->size * sizeof(float));
  memcpy(grad, shared->w[0]->grad, (size_t)shared->w[0]->size * sizeof(float));
  float *k = shared->w[0]->data;
  for (int64_t i = 0; i < shared->w[0]->size; ++i) {
    const float keep = k[i], h = 1e-2f;
    k[i] = keep + h;
    const double up = model_loss(m, xa, xb, false);
    k[i] = keep - h;
    const double down = model_loss(m, xa, xb, false);
    k[i] = keep;
    cr_assert(tu_close(grad[i], (up - down) / (2 * h), 2e-4, 2e-2), "[%lld] %g vs %g", (long long)i,
              grad[i], (up - down) / (2 * h));
  }
  free(grad);
  loom_graph_free(g);
}

Test(training, a_model_used_as_a_layer_trains_the_originals_weights) {
  loom_graph *g = loom_graph_new(2);
  loom_node *in = loom_Input(g, .shape = {5});
  loom_layer *dense = loom_Dense(g, .units = 1);
  loom_model *base = loom_Model(g, .inputs = {in}, .outputs = {loom_call(dense, in)});
  loom_node *x = loom_Input(g, .shape = {5});
  loom_model *outer = loom_Model(g, .inputs = {x}, .outputs = {loom_call(loom_model_layer(base), x)});
  cr_assert(outer, "%s", loom_graph_error(g));
  cr_assert_eq(outer->n_weights, 2);
  cr_assert_eq(outer->weights[0], loom_layer_weight(dense, "kernel"));
  const int64_t s[2] = {64, 5}, st[2] = {64, 1};
  loom_tensor *xv = tu_tensor(data, 2, s, -1, 1, 3), *yv = loom_tensor_new(data, LOOM_F32, 2, st);
  for (int i = 0; i < 64; ++i) /* y = sum of x */
    for (int j = 0; j < 5; ++j) loom_tensor_f32(yv)[i] += loom_tensor_f32(xv)[i * 5 + j];
  cr_assert_eq(loom_compile(outer, .optimizer = {LOOM_SGD, .learning_rate = 0.1f}, .loss = "mse"), LOOM_OK);
  cr_assert(loom_fit(outer, .x = {xv}, .y = {yv}, .epochs = 60, .verbose = LOOM_SILENT));
  const float *k = loom_layer_weight(dense, "kernel")->data;
  for (int j = 0; j < 5; ++j) cr_assert(tu_close(k[j], 1.0, 0.05, 0), "kernel[%d] = %g", j, k[j]);
  loom_graph_free(g);
}

/* ---------------------------------------------------------------- Keras' initialisers */

Test(training, weights_start_as_keras_draws_them) {
  loom_graph *g = loom_graph_new(9);
  loom_node *ids = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32);
  loom_layer *emb = loom_Embedding(g, .input_dim = 100, .output_dim = 16);
  loom_layer *lstm = loom_LSTM(g, .units = 8);
  loom_layer *dense = loom_Dense(g, .units = 30);
  cr_assert(loom_call(dense, loom_call(lstm, loom_call(emb, ids))), "%s", loom_graph_error(g));
  const loom_tensor *e = loom_layer_weight(emb, "embeddings");
  for (int64_t i = 0; i < e->size; ++i) cr_assert(fabsf(loom_tensor_f32(e)[i]) <= 0.05f);
  const loom_tensor *k = loom_layer_weight(dense, "kernel");
  const float limit = sqrtf(6.0f / (8 + 30));
  float biggest = 0;
  for (int64_t i = 0; i < k->size; ++i) biggest = fmaxf(biggest, fabsf(loom_tensor_f32(k)[i]));
  cr_assert(biggest <= limit && biggest > 0.8f * limit, "glorot limit %g, largest %g", limit, biggest);
  const loom_tensor *r = loom_layer_weight(lstm, "recurrent_kernel"); /* [8, 32]: R R^T = I */
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      double dot = 0;
      for (int c = 0; c < 32; ++c) dot += loom_tensor_f32(r)[i * 32 + c] * loom_tensor_f32(r)[j * 32 + c];
      cr_assert(tu_close(dot, i == j, 1e-5, 0), "R R^T [%d][%d] = %g", i, j, dot);
    }
  const loom_tensor *b = loom_layer_weight(lstm, "bias");
  for (int i = 0; i < 32; ++i) cr_assert_eq(loom_tensor_f32(b)[i], i >= 8 && i < 16 ? 1.0f : 0.0f);
  cr_assert_null(loom_layer_weight(dense, "recurrent_kernel"));
  loom_graph_free(g);
}

/* ---------------------------------------------------------------- fit's output */

static bool stop_after_first(loom_model *m, int epoch, const loom_history *h, void *user) {
  (void)m, (void)h, (void)user;
  return epoch < 0;
}

Test(training, fit_prints_keras_lines_and_stops_when_the_callback_says) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_mlp_model(g);
  cr_assert_eq(loom_compile(m, .loss = "categorical_crossentropy", .metrics = {"acc"}), LOOM_OK);
  loom_tensor *x, *y;
  make_blobs(data, 100, 1, &x, &y);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  /* not a terminal: one bar line per epoch, Keras' numbers */
  const loom_history *h = loom_fit(m, .x = {x}, .y = {y}, .epochs = 2, .out = f, .validation_split = 0.2f);
  cr_assert(h, "%s", loom_graph_error(g));
  fflush(f);
  cr_assert(strncmp(text, "Epoch 1/2\n3/3 [==============================] - ", 48) == 0, "%s", text);
  cr_assert(strstr(text, "/step - loss: "), "%s", text);
  cr_assert(strstr(text, " - acc: "), "%s", text);
  cr_assert(strstr(text, " - val_loss: "), "%s", text);
  cr_assert(strstr(text, "\nEpoch 2/2\n3/3 ["), "%s", text);
  int lines = 0;
  for (char *c = text; *c; ++c) lines += *c == '\n';
  cr_assert_eq(lines, 4, "%s", text);
  fclose(f);
  free(text);
  text = NULL;
  f = open_memstream(&text, &len);
  h = loom_fit(m, .x = {x}, .y = {y}, .epochs = 5, .out = f, .verbose = LOOM_EPOCH_LINES,
               .on_epoch_end = stop_after_first);
  fclose(f);
  cr_assert_eq(loom_history_epochs(h), 1);
  cr_assert(strncmp(text, "Epoch 1/5\n4/4 - ", 16) == 0, "%s", text);
  cr_assert(strstr(text, "/epoch - "), "%s", text);
  cr_assert_null(strstr(text, "Epoch 2/5"), "%s", text);
  free(text);
  loom_graph_free(g);
}

Test(training, dropout_zeroes_and_rescales_in_training_only) {
  loom_graph *g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {1000});
  loom_layer *drop = loom_Dropout(g, .rate = 0.25f);
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {loom_call(drop, in)});
  const int64_t s[2] = {4, 1000};
  loom_tensor *x = loom_tensor_new(data, LOOM_F32, 2, s), *out[1];
  for (int64_t i = 0; i < x->size; ++i) loom_tensor_f32(x)[i] = 1.0f;
  cr_assert_eq(loom_predict(m, data, out, .x = {x}), LOOM_OK);
  for (int64_t i = 0; i < x->size; ++i) cr_assert_eq(loom_tensor_f32(out[0])[i], 1.0f);
  m->cx = m->cx ? m->cx : loom_ctx_new(NULL);
  loom_ctx_reset(m->cx);
  const lm_run run = {.cx = m->cx, .training = true};
  cr_assert_eq(lm_model_run(m, &run, &x, NULL), LOOM_OK);
  const float *v = m->out[0]->value->data;
  int zeros = 0;
  for (int64_t i = 0; i < x->size; ++i) {
    cr_assert(v[i] == 0.0f || v[i] == 1.0f / 0.75f, "[%lld] = %g", (long long)i, v[i]);
    zeros += v[i] == 0.0f;
  }
  cr_assert(zeros > 850 && zeros < 1150, "%d of 4000 dropped at rate 0.25", zeros);
  loom_graph_free(g);
}

Test(training, a_model_trained_after_another_that_shares_its_weights_starts_from_no_gradient) {
  /* base is trained first; its context keeps pointing the shared weights at its last
   * gradient. outer's first step must use its own gradient alone: for a linear Dense
   * under mse, dW = 2/N X^T (X W + b - y), checked by hand. */
  loom_graph *g = loom_graph_new(4);
  loom_node *in = loom_Input(g, .shape = {3});
  loom_layer *dense = loom_Dense(g, .units = 1);
  loom_model *base = loom_Model(g, .inputs = {in}, .outputs = {loom_call(dense, in)});
  loom_node *x2 = loom_Input(g, .shape = {3});
  loom_model *outer = loom_Model(g, .inputs = {x2}, .outputs = {loom_call(loom_model_layer(base), x2)});
  const loom_optimizer sgd = {.kind = LOOM_SGD, .learning_rate = 0.1f};
  cr_assert_eq(loom_model_compile(base, &(loom_compile_opts){.optimizer = sgd, .loss = "mse"}), LOOM_OK);
  cr_assert_eq(loom_model_compile(outer, &(loom_compile_opts){.optimizer = sgd, .loss = "mse"}), LOOM_OK);
  const int64_t sx[2] = {4, 3}, sy[2] = {4, 1};
  loom_tensor *x = tu_tensor(data, 2, sx, -1, 1, 1), *y = tu_tensor(data, 2, sy, -1, 1, 2);
  cr_assert(loom_fit(base, .x = {x}, .y = {y}, .batch_size = 4, .verbose = LOOM_SILENT));
  float w[3], b;
  memcpy(w, loom_layer_weight(dense, "kernel")->data, sizeof w);
  b = loom_tensor_f32(loom_layer_weight(dense, "bias"))[0];
  double dw[3] = {0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    const float *xi = loom_tensor_f32(x) + 3 * i;
    const double r = xi[0] * w[0] + xi[1] * w[1] + xi[2] * w[2] + b - loom_tensor_f32(y)[i];
    for (int j = 0; j < 3; ++j) dw[j] += 2.0 / 4 * xi[j] * r;
  }
  cr_assert(loom_fit(outer, .x = {x}, .y = {y}, .batch_size = 4, .verbose = LOOM_SILENT));
  for (int j = 0; j < 3; ++j)
    cr_assert(tu_close(loom_tensor_f32(loom_layer_weight(dense, "kernel"))[j], w[j] - 0.1 * dw[j], 1e-6, 1e-5),
              "kernel[%d]: %g, want %g", j, loom_tensor_f32(loom_layer_weight(dense, "kernel"))[j], w[j] - 0.1 * dw[j]);
  loom_graph_free(g);
}
