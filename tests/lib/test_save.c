/* test_save.c - save and load: every example model round-trips to bitwise the same
 * predictions; training resumed from a file matches an uninterrupted run bitwise;
 * weights alone load by name with errors on any mismatch; bad files of every kind are
 * refused with a message, never a crash. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "lib/graph/model.h"
#include "lib/models.h"

static loom_arena *data;
static char dir[64];
static void open_all(void) {
  data = loom_arena_new(NULL);
  snprintf(dir, sizeof dir, "/tmp/loom-save-XXXXXX");
  cr_assert(mkdtemp(dir));
}
static void close_all(void) {
  loom_arena_free(data);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(save, .init = open_all, .fini = close_all);

static const char *path(const char *name) {
  static char p[4][128];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

/* predictions of m on x (one or two inputs), first output */
static loom_tensor *predict(loom_model *m, loom_tensor *x0, loom_tensor *x1) {
  loom_tensor *out[3];
  cr_assert_eq(loom_predict(m, data, out, .x = {x0, x1}), LOOM_OK, "%s", loom_last_error());
  return out[0];
}

static void same_predictions(loom_model *a, loom_model *b, loom_tensor *x0, loom_tensor *x1) {
  loom_tensor *pa = predict(a, x0, x1), *pb = predict(b, x0, x1);
  cr_assert_eq(pa->size, pb->size);
  for (int64_t i = 0; i < pa->size; ++i)
    cr_assert(memcmp((float *)pa->data + i, (float *)pb->data + i, 4) == 0,
              "model %s: prediction [%lld] %.9g after load, %.9g before", a->layer->name, (long long)i,
              ((float *)pb->data)[i], ((float *)pa->data)[i]);
}

static loom_model *round_trip(loom_model *m, const char *name) {
  cr_assert_eq(loom_save(m, path(name)), LOOM_OK, "%s", loom_last_error());
  loom_model *back = loom_model_load(path(name));
  cr_assert(back, "%s", loom_last_error());
  char *a = summary_text(m), *b = summary_text(back);
  cr_assert_str_eq(a, b);
  free(a), free(b);
  return back;
}

Test(save, every_example_model_round_trips) {
  loom_graph *g = loom_graph_new(1);
  loom_tensor *x, *y, *l, *r, *t;
  make_blobs(data, 16, 1, &x, &y);
  loom_model *mlp = build_mlp_model(g);
  loom_model *back = round_trip(mlp, "mlp.safetensors");
  same_predictions(mlp, back, x, NULL);
  loom_graph_free(loom_model_graph(back));

  loom_model *qa = build_qa_model(g);
  const int64_t s[2] = {4, 7};
  loom_tensor *ids = loom_tensor_new(data, LOOM_I32, 2, s);
  for (int i = 0; i < 28; ++i) loom_tensor_i32(ids)[i] = i * 37 % 10000;
  back = round_trip(qa, "qa.safetensors");
  same_predictions(qa, back, ids, ids);
  cr_assert_str_eq(loom_model_input_name(back, 1), "question");
  loom_graph_free(loom_model_graph(back));

  loom_model *mo = build_multi_output_model(g, 8);
  cr_assert_eq(compile_multi_output_model(mo), LOOM_OK);
  const posts_data d = make_posts(data, 4, 300, 2);
  back = round_trip(mo, "multi.safetensors");
  same_predictions(mo, back, d.posts, NULL);
  cr_assert_eq(loom_model_num_metrics(back), loom_model_num_metrics(mo));
  for (int i = 0; i < loom_model_num_metrics(mo); ++i)
    cr_assert_str_eq(loom_model_metric_name(back, i), loom_model_metric_name(mo, i));
  cr_assert_eq(back->spec[2].weight, 10.0f);
  loom_graph_free(loom_model_graph(back));

  loom_model *res = build_residual_model(g);
  make_images(data, 4, 3, &x, &y);
  back = round_trip(res, "residual.safetensors");
  same_predictions(res, back, x, NULL);
  loom_graph_free(loom_model_graph(back));

  loom_model *sia = build_siamese_model(g);
  make_pairs(data, 4, 5, 3, &l, &r, &t);
  back = round_trip(sia, "siamese.safetensors");
  same_predictions(sia, back, l, r);
  cr_assert_eq(back->n_weights, sia->n_weights, "the shared LSTM is one layer after load too");
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

Test(save, a_nested_model_keeps_its_shared_weights) {
  loom_graph *g = loom_graph_new(2);
  loom_node *in = loom_Input(g, .shape = {6});
  loom_model *base = loom_Model(g, .inputs = {in}, .outputs = {loom_call(loom_Dense(g, .units = 3, .activation = LOOM_TANH), in)}, .name = "base");
  loom_node *a = loom_Input(g, .shape = {6}), *b = loom_Input(g, .shape = {6});
  loom_node *sum = loom_call_list(loom_Add(g), loom_call(loom_model_layer(base), a), loom_call(loom_model_layer(base), b));
  loom_model *m = loom_Model(g, .inputs = {a, b}, .outputs = {loom_call(loom_Dense(g, .units = 1), sum)});
  loom_model *back = round_trip(m, "nested.safetensors");
  const int64_t s[2] = {5, 6};
  same_predictions(m, back, tu_tensor(data, 2, s, -1, 1, 1), tu_tensor(data, 2, s, -1, 1, 2));
  cr_assert_eq(back->n_weights, 4);
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

static void weights_of(const loom_model *m, float **out, size_t *n) {
  *n = 0;
  for (int i = 0; i < m->n_weights; ++i) *n += (size_t)m->weights[i]->size;
  *out = malloc(*n * 4);
  size_t k = 0;
  for (int i = 0; i < m->n_weights; ++i, k += (size_t)m->weights[i - 1]->size)
    memcpy(*out + k, m->weights[i]->data, (size_t)m->weights[i]->size * 4);
}

static void resume_matches(loom_optimizer opt, const char *name) {
  loom_graph *g = loom_graph_new(5);
  loom_node *in = loom_Input(g, .shape = {64});
  loom_node *h = loom_call(loom_Dropout(g, .rate = 0.2f), loom_call(loom_Dense(g, .units = 16, .activation = LOOM_RELU), in));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {loom_call(loom_Dense(g, .units = 10, .activation = LOOM_SOFTMAX), h)});
  cr_assert_eq(loom_model_compile(m, &(loom_compile_opts){.optimizer = opt, .loss = "categorical_crossentropy"}), LOOM_OK);
  loom_tensor *x, *y;
  make_blobs(data, 96, 4, &x, &y);
  cr_assert(loom_fit(m, .x = {x}, .y = {y}, .epochs = 2, .batch_size = 16, .verbose = LOOM_SILENT));
  cr_assert_eq(loom_save(m, path(name)), LOOM_OK, "%s", loom_last_error());
  cr_assert(loom_fit(m, .x = {x}, .y = {y}, .epochs = 2, .batch_size = 16, .verbose = LOOM_SILENT));
  loom_model *back = loom_model_load(path(name));
  cr_assert(back, "%s", loom_last_error());
  cr_assert(loom_fit(back, .x = {x}, .y = {y}, .epochs = 2, .batch_size = 16, .verbose = LOOM_SILENT));
  float *a, *b;
  size_t na, nb;
  weights_of(m, &a, &na);
  weights_of(back, &b, &nb);
  cr_assert_eq(na, nb);
  cr_assert(memcmp(a, b, na * 4) == 0, "%s: resumed training differs from the uninterrupted run", name);
  free(a), free(b);
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

Test(save, training_resumed_from_a_file_is_bitwise_the_uninterrupted_run) {
  resume_matches((loom_optimizer){.kind = LOOM_RMSPROP}, "rmsprop.safetensors");
  resume_matches((loom_optimizer){.kind = LOOM_ADAM}, "adam.safetensors");
  resume_matches((loom_optimizer){.kind = LOOM_SGD, .momentum = 0.9f, .nesterov = true}, "sgd.safetensors");
  /* no optimiser tensors at all: the step count and the generator (shuffle, dropout) must
   * still come back */
  resume_matches((loom_optimizer){.kind = LOOM_SGD}, "plain_sgd.safetensors");
}

/* compile copies what it keeps: the strings given to it may go at once, and the
 * checkpointing loop (save, load, save, load) reads no freed memory (make test SAN=1). */
Test(save, compile_keeps_copies_and_checkpoints_chain) {
  loom_graph *g = loom_graph_new(4);
  loom_model *m = build_mlp_model(g);
  char *loss = strdup("categorical_crossentropy"), *acc = strdup("accuracy"), *mae = strdup("mae");
  cr_assert_eq(loom_compile(m, .loss = loss, .metrics = {acc, mae}), LOOM_OK, "%s", loom_graph_error(g));
  memset(acc, 'x', strlen(acc)), memset(mae, 'x', strlen(mae));
  free(loss), free(acc), free(mae);
  cr_assert_str_eq(loom_model_metric_name(m, 1), "accuracy");
  cr_assert_eq(loom_save(m, path("c1.safetensors")), LOOM_OK, "%s", loom_last_error());
  loom_model *a = loom_model_load(path("c1.safetensors"));
  cr_assert(a, "%s", loom_last_error());
  cr_assert_eq(loom_save(a, path("c2.safetensors")), LOOM_OK, "%s", loom_last_error());
  loom_model *b = loom_model_load(path("c2.safetensors"));
  cr_assert(b, "%s", loom_last_error());
  cr_assert_str_eq(loom_model_metric_name(b, 1), "accuracy");
  cr_assert_str_eq(loom_model_metric_name(b, 2), "mae");
  const int64_t s[2] = {6, 64};
  loom_tensor *x = tu_tensor(data, 2, s, 0, 1, 9);
  same_predictions(m, b, x, NULL);
  loom_graph_free(loom_model_graph(a));
  loom_graph_free(loom_model_graph(b));
  loom_graph_free(g);
}

Test(save, weights_alone_load_by_name_and_mismatches_change_nothing) {
  loom_graph *g = loom_graph_new(1), *h = loom_graph_new(2);
  loom_model *a = build_mlp_model(g), *b = build_mlp_model(h);
  loom_tensor *x, *y;
  make_blobs(data, 8, 1, &x, &y);
  cr_assert_eq(loom_save_weights(a, path("w.safetensors")), LOOM_OK);
  cr_assert_null(loom_model_load(path("w.safetensors")));
  cr_assert(strstr(loom_last_error(), "holds no loom_config"), "%s", loom_last_error());
  cr_assert_eq(loom_load_weights(b, path("w.safetensors")), LOOM_OK, "%s", loom_last_error());
  same_predictions(a, b, x, NULL);
  /* another architecture: a wider first layer */
  loom_graph *k = loom_graph_new(3);
  loom_node *in = loom_Input(k, .shape = {64});
  loom_node *z = loom_call(loom_Dense(k, .units = 33, .activation = LOOM_RELU), in);
  z = loom_call(loom_Dense(k, .units = 32, .activation = LOOM_RELU), z);
  loom_model *c = loom_Model(k, .inputs = {in}, .outputs = {loom_call(loom_Dense(k, .units = 10), z)});
  float before[64 * 33];
  memcpy(before, c->weights[0]->data, sizeof before);
  cr_assert_eq(loom_load_weights(c, path("w.safetensors")), LOOM_ESHAPE);
  cr_assert(strstr(loom_last_error(), "weight dense/kernel is F32 [64, 32] in the file, the model's is F32 [64, 33]"),
            "%s", loom_last_error());
  cr_assert(memcmp(before, c->weights[0]->data, sizeof before) == 0, "weights changed");
  /* a model with one layer fewer: the file holds a weight it lacks */
  loom_graph *s = loom_graph_new(4);
  loom_node *in2 = loom_Input(s, .shape = {64});
  loom_node *z2 = loom_call(loom_Dense(s, .units = 32, .activation = LOOM_RELU), in2);
  loom_model *d = loom_Model(s, .inputs = {in2}, .outputs = {loom_call(loom_Dense(s, .units = 32), z2)});
  cr_assert_lt(loom_load_weights(d, path("w.safetensors")), 0);
  cr_assert(strstr(loom_last_error(), "holds dense_2/"), "%s", loom_last_error());
  loom_graph_free(g), loom_graph_free(h), loom_graph_free(k), loom_graph_free(s);
}

/* ---------------------------------------------------------------- bad files */

static void write_file(const char *p, const void *bytes, size_t n) {
  FILE *f = fopen(p, "wb");
  cr_assert(f);
  cr_assert_eq(fwrite(bytes, 1, n, f), n);
  fclose(f);
}

static unsigned char *read_file(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb");
  cr_assert(f);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*n + 1);
  cr_assert_eq(fread(b, 1, *n, f), *n);
  fclose(f);
  return b;
}

/* A file with this header text and `data_len` bytes of data. */
static void write_st(const char *p, const char *header, size_t data_len) {
  const size_t hl = strlen(header);
  unsigned char *b = calloc(8 + hl + data_len + 1, 1);
  for (int i = 0; i < 8; ++i) b[i] = (unsigned char)((uint64_t)hl >> (8 * i));
  memcpy(b + 8, header, hl);
  write_file(p, b, 8 + hl + data_len);
  free(b);
}

static void refused(const char *p, const char *text) {
  loom_model *m = loom_model_load(p);
  if (m) loom_graph_free(loom_model_graph(m));
  cr_assert_null(m, "loaded a bad file (%s)", text);
  cr_assert(strstr(loom_last_error(), text), "error \"%s\" lacks \"%s\"", loom_last_error(), text);
}

Test(save, every_header_field_gone_wrong_is_refused) {
  const char *p = path("bad.safetensors");
  refused(path("missing.safetensors"), "cannot open");
  write_file(p, "", 0);
  refused(p, "is empty");
  write_file(p, "\x05\0\0\0", 4);
  refused(p, "too short");
  write_file(p, "\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
  refused(p, "does not fit the file");
  write_st(p, "{\"a\":", 0);
  refused(p, "not valid JSON");
  write_st(p, "[1,2]", 0);
  refused(p, "not a JSON object");
  write_st(p, "{} x", 0);
  refused(p, "bytes after its JSON object");
  write_st(p, "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
  refused(p, "dtype F16 is not supported");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8);
  refused(p, "dim 0 is not a size");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4);
  refused(p, "at most 6 sizes");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}", 4);
  refused(p, "more elements than any file");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 8);
  refused(p, "within the 8 data bytes");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8);
  refused(p, "do not hold 2 elements");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
  refused(p, "(overlap)");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
  refused(p, "a hole begins");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8);
  refused(p, "the rest is a hole");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
  refused(p, "appears twice");
  write_st(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4);
  refused(p, "data_offsets");
  write_st(p, "{\"__metadata__\":{\"loom_config\":7}}", 0);
  refused(p, "is not a string");
  write_st(p, "{\"__metadata__\":{\"format\":\"loom\"}}", 0);
  refused(p, "holds no loom_config");
  write_st(p, "{\"__metadata__\":{\"loom_config\":\"{oops\"}}", 0);
  refused(p, "loom_config is not valid JSON");
  write_st(p, "{\"__metadata__\":{\"loom_config\":\"{\\\"loom_config\\\":9}\"}}", 0);
  refused(p, "loom_config\" must be an integer");
}

/* The MLP's file with its config changed by `edit` (old -> new). */
static void edited(const char *from, const char *old, const char *new, const char *p) {
  size_t n;
  unsigned char *b = read_file(from, &n);
  const size_t hl = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16;
  char *h = malloc(hl + 64);
  memcpy(h, b + 8, hl);
  h[hl] = '\0';
  char *at = strstr(h, old);
  cr_assert(at, "%s not in the header", old);
  char *nh = malloc(hl + strlen(new) + 64);
  snprintf(nh, hl + strlen(new) + 64, "%.*s%s%s", (int)(at - h), h, new, at + strlen(old));
  size_t len = strlen(nh);
  while ((len + 8) % 8) nh[len++] = ' ';
  nh[len] = '\0';
  unsigned char *out = malloc(8 + len + (n - 8 - hl));
  for (int i = 0; i < 8; ++i) out[i] = (unsigned char)((uint64_t)len >> (8 * i));
  memcpy(out + 8, nh, len);
  memcpy(out + 8 + len, b + 8 + hl, n - 8 - hl);
  write_file(p, out, 8 + len + n - 8 - hl);
  free(b), free(h), free(nh), free(out);
}

Test(save, a_config_that_lies_is_refused) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_mlp_model(g);
  const char *good = path("good.safetensors"), *p = path("lie.safetensors");
  cr_assert_eq(loom_save(m, good), LOOM_OK);
  edited(good, "\\\"units\\\":32", "\\\"units\\\":33", p);
  refused(p, "weight dense/kernel is F32 [64, 32] in the file, the model's is F32 [64, 33]");
  edited(good, "\\\"units\\\":32", "\\\"units\\\":16777216", p);
  refused(p, "cannot be met"); /* a huge layer: more weights than the file holds */
  edited(good, "\\\"units\\\":32", "\\\"units\\\":-3", p);
  refused(p, "\"units\" must be an integer in [1, 16777216]");
  edited(good, "\\\"class_name\\\":\\\"Dense\\\"", "\\\"class_name\\\":\\\"Dense3D\\\"", p);
  refused(p, "unknown layer class \"Dense3D\"");
  edited(good, "\\\"activation\\\":\\\"relu\\\"", "\\\"activation\\\":\\\"swoosh\\\"", p);
  refused(p, "layer \"dense\" (Dense): \"activation\" is \"swoosh\", which is no activation loom runs");
  edited(good, "\\\"inbound\\\":[[0,0]]", "\\\"inbound\\\":[[7,0]]", p);
  refused(p, "a node reference must be [an earlier call, one of its outputs]");
  edited(good, "\\\"inbound\\\":[[0,0]]", "\\\"inbound\\\":[[0,3]]", p);
  refused(p, "a node reference");
  edited(good, "dense_2/kernel", "dense_9/kernel", p);
  refused(p, "holds no weight dense_2/kernel");
  loom_graph_free(g);
}

Test(save, truncated_or_flipped_anywhere_is_an_error_not_a_crash) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_mlp_model(g);
  cr_assert_eq(loom_model_compile(m, &(loom_compile_opts){.loss = "mse"}), LOOM_OK);
  const char *good = path("t.safetensors"), *p = path("cut.safetensors");
  cr_assert_eq(loom_save(m, good), LOOM_OK);
  size_t n;
  unsigned char *b = read_file(good, &n);
  const size_t hl = (size_t)b[0] | (size_t)b[1] << 8;
  const size_t cuts[] = {1, 7, 8, 9, 8 + hl / 2, 8 + hl - 1, 8 + hl, 8 + hl + 1, 8 + hl + 4000, n - 4, n - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; ++i) {
    write_file(p, b, cuts[i]);
    loom_model *x = loom_model_load(p);
    cr_assert_null(x, "a file cut at %zu of %zu loaded", cuts[i], n);
  }
  /* every byte of the header changed in turn: refused or loaded, never a crash */
  int loaded = 0;
  for (size_t i = 0; i < 8 + hl; i += 1) {
    const unsigned char keep = b[i];
    b[i] ^= (unsigned char)(i < 8 ? 0x40 : 0x01);
    write_file(p, b, n);
    loom_model *x = loom_model_load(p);
    if (x) ++loaded, loom_graph_free(loom_model_graph(x));
    b[i] = keep;
  }
  cr_assert_lt(loaded, (int)hl / 2, "most flips must be caught (%d of %zu loaded)", loaded, hl);
  free(b);
  loom_graph_free(g);
}

/* The public file-of-tensors calls and the model from memory (what the loom command and
 * the fuzz target use instead of the internal reader). */
Test(save, named_tensor_files_and_models_from_memory) {
  const int64_t s1[2] = {3, 4}, s2[1] = {5};
  loom_tensor *a = tu_tensor(data, 2, s1, -1, 1, 1), *b = loom_tensor_new(data, LOOM_I32, 1, s2);
  for (int i = 0; i < 5; ++i) loom_tensor_i32(b)[i] = 7 * i - 3;
  const loom_named_tensor in[2] = {{"alpha", a}, {"beta/ids", b}};
  cr_assert_eq(loom_tensors_save(path("t.safetensors"), 2, in), LOOM_OK, "%s", loom_last_error());
  loom_named_tensor out[4];
  loom_arena *ar = loom_arena_new(NULL);
  cr_assert_eq(loom_tensors_load(path("t.safetensors"), ar, out, 4), 2, "%s", loom_last_error());
  for (int i = 0; i < 2; ++i) {
    int k = !strcmp(out[0].name, in[i].name) ? 0 : 1;
    cr_assert_str_eq(out[k].name, in[i].name);
    cr_assert_eq(out[k].tensor->dtype, in[i].tensor->dtype);
    cr_assert_eq(out[k].tensor->rank, in[i].tensor->rank);
    cr_assert(!memcmp(out[k].tensor->data, in[i].tensor->data, (size_t)in[i].tensor->size * 4));
  }
  cr_assert_eq(loom_tensors_load(path("t.safetensors"), ar, out, 1), 2, "cap 1 still counts the file's tensors");
  const loom_named_tensor twice[2] = {{"x", a}, {"x", a}};
  cr_assert_neq(loom_tensors_save(path("u.safetensors"), 2, twice), LOOM_OK);
  cr_assert(strstr(loom_last_error(), "two tensors are named \"x\""), "%s", loom_last_error());
  cr_assert_lt(loom_tensors_load(path("missing.safetensors"), ar, out, 4), 0);

  loom_graph *g = loom_graph_new(6);
  loom_model *m = build_mlp_model(g);
  cr_assert_eq(loom_save(m, path("m.safetensors")), LOOM_OK);
  size_t n;
  unsigned char *bytes = read_file(path("m.safetensors"), &n);
  loom_model *back = loom_model_load_buffer(bytes, n);
  cr_assert(back, "%s", loom_last_error());
  const int64_t xs[2] = {4, 64};
  same_predictions(m, back, tu_tensor(data, 2, xs, 0, 1, 2), NULL);
  cr_assert_null(loom_model_load_buffer(bytes, n / 2));
  cr_assert_null(loom_model_load_buffer(bytes, 3));
  /* A header that is valid JSON but names a bad dtype fails after cJSON has parsed it:
   * the parse must release the tree (the fuzzer found the leak; SAN=1 checks it). */
  unsigned char *f32 = bytes;
  while (f32 + 5 <= bytes + n && memcmp(f32, "\"F32\"", 5)) ++f32;
  cr_assert(f32 + 5 <= bytes + n);
  memcpy(f32, "\"F99\"", 5);
  cr_assert_null(loom_model_load_buffer(bytes, n));
  cr_assert(strstr(loom_last_error(), "F99"), "%s", loom_last_error());
  free(bytes);
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
  loom_arena_free(ar);
}
