/* test_dot.c - the Dot layer: Keras' output shapes for every pairing of ranks 2 and 3 and
 * of axes, values against the direct sum (and the cosine with normalize), training
 * through it, and bad axes refused by name. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common/util.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(dot, .init = setup, .fini = teardown);

typedef struct {
  int ra, rb;          /* ranks, batch included */
  int64_t da[2], db[2]; /* the dims past the batch */
  int axes[2];
  int out_rank;
  int64_t out[3];
} dot_case;

static const dot_case cases[] = {
    {2, 2, {5}, {5}, {1, 1}, 2, {0, 1}},           /* [b, 5] . [b, 5] -> [b, 1] */
    {3, 3, {4, 6}, {3, 6}, {2, 2}, 3, {0, 4, 3}},  /* scores: [b, 4, 6] . [b, 3, 6] -> [b, 4, 3] */
    {3, 3, {4, 3}, {3, 6}, {2, 1}, 3, {0, 4, 6}},  /* weights . values -> [b, 4, 6] */
    {3, 3, {4, 3}, {4, 2}, {1, 1}, 3, {0, 3, 2}},  /* over the steps -> [b, 3, 2] */
    {2, 3, {6}, {4, 6}, {1, 2}, 2, {0, 4}},        /* [b, 6] . [b, 4, 6] -> [b, 4] */
    {3, 2, {4, 6}, {6}, {-1, -1}, 2, {0, 4}},      /* negative axes */
};

/* element (b, rest...) of the input: index from its dims past the batch */
static float at(const loom_tensor *x, int64_t b, int rank, const int64_t *idx) {
  int64_t k = b;
  for (int d = 1; d < rank; ++d) k = k * x->shape[d] + idx[d - 1];
  return loom_tensor_f32((loom_tensor *)x)[k];
}

static void run_case(const dot_case *c, bool normalize) {
  loom_graph *g = loom_graph_new(2);
  loom_node *a = c->ra == 2 ? loom_Input(g, .shape = {c->da[0]}) : loom_Input(g, .shape = {c->da[0], c->da[1]});
  loom_node *b = c->rb == 2 ? loom_Input(g, .shape = {c->db[0]}) : loom_Input(g, .shape = {c->db[0], c->db[1]});
  loom_node *y = loom_call_n(loom_Dot(g, .axes = {c->axes[0], c->axes[1]}, .normalize = normalize), 2,
                             (loom_node *[]){a, b});
  cr_assert(y, "%s", loom_graph_error(g));
  int64_t shape[LOOM_MAX_RANK];
  cr_assert_eq(loom_node_shape(y, shape), c->out_rank);
  for (int d = 1; d < c->out_rank; ++d) cr_assert_eq(shape[d], c->out[d], "dim %d", d);
  loom_model *m = loom_Model(g, .inputs = {a, b}, .outputs = {y});
  const int64_t B = 2, sa[3] = {B, c->da[0], c->da[1]}, sb[3] = {B, c->db[0], c->db[1]};
  loom_tensor *xa = tu_tensor(arena, c->ra, sa, -1, 1, 3), *xb = tu_tensor(arena, c->rb, sb, -1, 1, 4), *out[1];
  cr_assert_eq(loom_predict(m, arena, out, .x = {xa, xb}), LOOM_OK, "%s", loom_graph_error(g));
  const int ax = c->axes[0] < 0 ? c->ra + c->axes[0] : c->axes[0], ay = c->axes[1] < 0 ? c->rb + c->axes[1] : c->axes[1];
  const int64_t K = xa->shape[ax], M = c->ra == 3 ? xa->shape[3 - ax] : 1, N = c->rb == 3 ? xb->shape[3 - ay] : 1;
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0, na = 0, nb = 0;
        for (int64_t k = 0; k < K; ++k) {
          int64_t ia[2], ib[2];
          ia[ax - 1] = k, ib[ay - 1] = k;
          if (c->ra == 3) ia[2 - ax] = i;
          if (c->rb == 3) ib[2 - ay] = j;
          const float va = at(xa, bi, c->ra, ia), vb = at(xb, bi, c->rb, ib);
          s += (double)va * vb, na += (double)va * va, nb += (double)vb * vb;
        }
        if (normalize) s /= sqrt(na) * sqrt(nb);
        const float got = loom_tensor_f32(out[0])[(bi * M + i) * N + j];
        cr_assert(tu_close(got, s, 1e-6, 1e-5), "case ranks %d,%d axes %d,%d: [%lld, %lld, %lld] %g vs %g", c->ra, c->rb,
                  c->axes[0], c->axes[1], (long long)bi, (long long)i, (long long)j, got, s);
      }
  loom_graph_free(g);
}

Test(dot, keras_shapes_and_values) {
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    run_case(&cases[i], false);
    run_case(&cases[i], true);
  }
}

Test(dot, trains_through_it) {
  loom_graph *g = loom_graph_new(3);
  loom_node *a = loom_Input(g, .shape = {4, 3}), *b = loom_Input(g, .shape = {5, 3});
  loom_node *ha = loom_call(loom_Dense(g, .units = 3), a);
  loom_node *s = loom_call_n(loom_Dot(g, .axes = {2}), 2, (loom_node *[]){ha, b});
  loom_node *y = loom_call(loom_Dense(g, .units = 1), loom_call(loom_Flatten(g), s));
  loom_model *m = loom_Model(g, .inputs = {a, b}, .outputs = {y});
  cr_assert(m && loom_compile(m, .optimizer = {.kind = LOOM_ADAM, .learning_rate = 0.01f}, .loss = "mse") == LOOM_OK,
            "%s", loom_graph_error(g));
  const int64_t sa[3] = {32, 4, 3}, sb[3] = {32, 5, 3}, sy[2] = {32, 1};
  loom_tensor *xa = tu_tensor(arena, 3, sa, -1, 1, 1), *xb = tu_tensor(arena, 3, sb, -1, 1, 2), *t = tu_tensor(arena, 2, sy, -1, 1, 3);
  const loom_history *h = loom_fit(m, .x = {xa, xb}, .y = {t}, .epochs = 20, .batch_size = 8, .verbose = LOOM_SILENT);
  cr_assert(h, "%s", loom_graph_error(g));
  const float *loss = loom_history_get(h, "loss");
  cr_assert(loss[19] < 0.8f * loss[0], "loss %g -> %g", loss[0], loss[19]);
  loom_graph_free(g);
}

Test(dot, bad_axes_are_refused_by_name) {
  loom_graph *g = loom_graph_new(1);
  cr_assert_null(loom_Dot(g, .name = "sim"));
  cr_assert(strstr(loom_graph_error(g), "Dot \"sim\": axes must be given"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  loom_node *a = loom_Input(g, .shape = {4, 3}), *b = loom_Input(g, .shape = {5, 3});
  cr_assert_null(loom_call_n(loom_Dot(g, .axes = {1}), 2, (loom_node *[]){a, b}));
  cr_assert(strstr(loom_graph_error(g), "dot: [None, 4, 3] and [None, 5, 3] differ along axes 1 and 1 (4, 5)"), "%s",
            loom_graph_error(g));
  loom_graph_clear_error(g);
  cr_assert_null(loom_call_n(loom_Dot(g, .axes = {3}), 2, (loom_node *[]){a, b}));
  cr_assert(strstr(loom_graph_error(g), "axes (3, 3) are not axes of [None, 4, 3] and [None, 5, 3] past the batch"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
}
