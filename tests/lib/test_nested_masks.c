/* test_nested_masks.c - a mask into a model used as a layer, as Keras passes it: the
 * nested model's layers use it (a recurrent layer skips the padding) and pass it on (its
 * output keeps it where its last layer keeps it), so that a nested model gives what the
 * same layers give unnested; saved and loaded alike; a shared model fed masks on one call
 * and none on another is refused by name; run on its own the nested model takes none. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/util.h"
#include "lib/models.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(nested_masks, .init = setup, .fini = teardown);

enum { T = 6, B = 6, VOCAB = 12 };

static loom_tensor *padded_ids(void) {
  const int64_t s[2] = {B, T};
  loom_tensor *ids = loom_tensor_new(arena, LOOM_I32, 2, s);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) loom_tensor_i32(ids)[b * T + t] = t <= b ? 1 + (b * 7 + t * 3) % (VOCAB - 1) : 0;
  return ids;
}

/* ids -> Embedding(mask_zero) -> [Dense(tanh) -> GRU(seq) -> Dense] -> GlobalAveragePooling1D,
 * the bracket a nested model or the same layers inline (seeded alike, so equal weights) */
static loom_model *build(loom_graph *g, bool nest, loom_model **inner_out) {
  loom_node *in = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32);
  loom_layer *emb = loom_Embedding(g, .input_dim = VOCAB, .output_dim = 3, .mask_zero = true);
  loom_layer *d1 = loom_Dense(g, .units = 5, .activation = LOOM_TANH);
  loom_layer *gru = loom_GRU(g, .units = 4, .return_sequences = true);
  loom_layer *d2 = loom_Dense(g, .units = 2);
  loom_node *e = loom_call(emb, in), *h;
  if (nest) {
    loom_node *i = loom_Input(g, .shape = {LOOM_NONE, 3});
    loom_model *inner = loom_Model(g, .inputs = {i}, .outputs = {loom_call(d2, loom_call(gru, loom_call(d1, i)))},
                                   .name = "encoder");
    cr_assert(inner, "%s", loom_graph_error(g));
    if (inner_out) *inner_out = inner;
    h = loom_call(loom_model_layer(inner), e);
  } else {
    h = loom_call(d2, loom_call(gru, loom_call(d1, e)));
  }
  cr_assert(h, "%s", loom_graph_error(g));
  cr_assert(loom_node_has_mask(h), "the nested model's output keeps the mask");
  loom_node *y = loom_call(loom_GlobalAveragePooling1D(g), h);
  return loom_Model(g, .inputs = {in}, .outputs = {y});
}

static void copy_weights(loom_model *from, loom_model *to) {
  static const char *layers[3] = {"dense", "gru", "dense_1"};
  static const char *names[3] = {"kernel", "recurrent_kernel", "bias"};
  for (int l = 0; l < 3; ++l)
    for (int k = 0; k < 3; ++k) {
      loom_tensor *a = loom_layer_weight(loom_model_get_layer(from, layers[l]), names[k]);
      loom_tensor *b = loom_layer_weight(loom_model_get_layer(to, layers[l]), names[k]);
      if (!a) continue;
      cr_assert(b && a->size == b->size, "%s/%s", layers[l], names[k]);
      memcpy(loom_tensor_f32(b), loom_tensor_f32(a), (size_t)a->size * sizeof(float));
    }
}

Test(nested_masks, a_nested_model_uses_the_mask_as_the_same_layers_inline) {
  loom_graph *gn = loom_graph_new(3), *gi = loom_graph_new(3);
  loom_model *inner = NULL, *nested = build(gn, true, &inner), *inline_m = build(gi, false, NULL);
  cr_assert(nested && inline_m, "%s %s", loom_graph_error(gn), loom_graph_error(gi));
  memcpy(loom_tensor_f32(loom_layer_weight(loom_model_get_layer(inline_m, "embedding"), "embeddings")),
         loom_tensor_f32(loom_layer_weight(loom_model_get_layer(nested, "embedding"), "embeddings")),
         VOCAB * 3 * sizeof(float));
  copy_weights(inner, inline_m);
  loom_tensor *ids = padded_ids(), *a[1], *b[1];
  cr_assert_eq(loom_predict(nested, arena, a, .x = {ids}), LOOM_OK, "%s", loom_graph_error(gn));
  cr_assert_eq(loom_predict(inline_m, arena, b, .x = {ids}), LOOM_OK, "%s", loom_graph_error(gi));
  cr_assert(!memcmp(loom_tensor_f32(a[0]), loom_tensor_f32(b[0]), (size_t)a[0]->size * sizeof(float)),
            "nested and inline differ");
  /* the mask did act: without it the padded steps would count (sample 0 has one valid id) */
  loom_graph *gu = loom_graph_new(3);
  loom_node *in = loom_Input(gu, .shape = {LOOM_NONE}, .dtype = LOOM_I32);
  loom_node *e = loom_call(loom_Embedding(gu, .input_dim = VOCAB, .output_dim = 3), in);
  /* made one by one: the names (dense, gru, dense_1) follow the order of making */
  loom_layer *d1 = loom_Dense(gu, .units = 5, .activation = LOOM_TANH);
  loom_layer *gru = loom_GRU(gu, .units = 4, .return_sequences = true);
  loom_layer *d2 = loom_Dense(gu, .units = 2);
  loom_node *h = loom_call(d2, loom_call(gru, loom_call(d1, e)));
  loom_model *plain = loom_Model(gu, .inputs = {in}, .outputs = {loom_call(loom_GlobalAveragePooling1D(gu), h)});
  cr_assert(plain, "%s", loom_graph_error(gu));
  memcpy(loom_tensor_f32(loom_layer_weight(loom_model_get_layer(plain, "embedding"), "embeddings")),
         loom_tensor_f32(loom_layer_weight(loom_model_get_layer(nested, "embedding"), "embeddings")),
         VOCAB * 3 * sizeof(float));
  copy_weights(inner, plain);
  loom_tensor *c[1];
  cr_assert_eq(loom_predict(plain, arena, c, .x = {ids}), LOOM_OK, "%s", loom_graph_error(gu));
  cr_assert(memcmp(loom_tensor_f32(a[0]), loom_tensor_f32(c[0]), 2 * sizeof(float)), "the mask changed nothing");
  /* run on its own, the nested model takes no mask */
  const int64_t sx[3] = {2, T, 3};
  loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 4), *d[1];
  cr_assert_eq(loom_predict(inner, arena, d, .x = {x}), LOOM_OK, "%s", loom_graph_error(gn));
  loom_graph_free(gu);
  loom_graph_free(gi);
  loom_graph_free(gn);
}

Test(nested_masks, training_and_save_load_keep_it) {
  loom_graph *g = loom_graph_new(5);
  loom_model *m = build(g, true, NULL);
  cr_assert(m, "%s", loom_graph_error(g));
  loom_tensor *ids = padded_ids();
  const int64_t sy[2] = {B, 2};
  loom_tensor *y = tu_tensor(arena, 2, sy, -1, 1, 6);
  cr_assert_eq(loom_compile(m, .loss = "mse"), LOOM_OK, "%s", loom_graph_error(g));
  cr_assert(loom_fit(m, .x = {ids}, .y = {y}, .epochs = 2, .batch_size = 3, .verbose = LOOM_SILENT), "%s",
            loom_graph_error(g));
  loom_model *back = saved_and_loaded(m);
  cr_assert(back, "save and load: %s", loom_last_error());
  loom_tensor *a[1], *b[1];
  cr_assert_eq(loom_predict(m, arena, a, .x = {ids}), LOOM_OK);
  cr_assert_eq(loom_predict(back, arena, b, .x = {ids}), LOOM_OK, "%s", loom_last_error());
  cr_assert(!memcmp(loom_tensor_f32(a[0]), loom_tensor_f32(b[0]), (size_t)a[0]->size * sizeof(float)));
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

Test(nested_masks, a_shared_model_takes_masks_on_every_call_or_none) {
  loom_graph *g = loom_graph_new(1);
  loom_node *i = loom_Input(g, .shape = {T, 3});
  loom_model *inner = loom_Model(g, .inputs = {i}, .outputs = {loom_call(loom_Dense(g, .units = 2), i)},
                                 .name = "shared");
  loom_node *ids = loom_Input(g, .shape = {T}, .dtype = LOOM_I32), *x = loom_Input(g, .shape = {T, 3});
  loom_node *e = loom_call(loom_Embedding(g, .input_dim = VOCAB, .output_dim = 3, .mask_zero = true), ids);
  cr_assert(loom_call(loom_model_layer(inner), x), "%s", loom_graph_error(g));
  cr_assert_null(loom_call(loom_model_layer(inner), e));
  cr_assert(strstr(loom_graph_error(g), "shared: a model used as a layer takes masked inputs on every call or on "
                                        "none: this call's inputs carry a mask, an earlier call's did not"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
}
