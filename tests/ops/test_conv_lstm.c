/* test_conv_lstm.c - loom_conv_lstm2d by finite differences on odd shapes (one step, one
 * filter, one sample, 1x1 and 1xN images), with initial states, the last c, strides,
 * dilation, 'valid' and 'same', go_backwards, a step mask and both dropout masks; a masked
 * step carries the state; bad shapes refused naming the op. (PyTorch fixtures:
 * test_fixtures.c.) */
#include <criterion/criterion.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(conv_lstm, .init = setup, .fini = teardown);

/* in = x, kernel, recurrent kernel, [bias], [h0, c0]; out 0: the output, 1: last c, 2: both summed */
typedef struct {
  bool bias, states;
  int out;
  loom_conv_lstm_cfg cfg;
} case_t;

static loom_tensor *apply(loom_ctx *cx, loom_tensor **in, void *user) {
  const case_t *c = user;
  loom_tensor *bias = c->bias ? in[3] : NULL;
  loom_tensor *h0 = c->states ? in[3 + c->bias] : NULL, *c0 = c->states ? in[4 + c->bias] : NULL, *c_last = NULL;
  loom_tensor *y = loom_conv_lstm2d(cx, in[0], h0, c0, in[1], in[2], bias, &c->cfg, c->out ? &c_last : NULL);
  if (!y || c->out == 0) return y;
  return c->out == 1 ? c_last : loom_add(cx, y, c_last);
}

/* shape: batch, steps, rows, cols, in, filters, kh, kw */
static void check(case_t *c, const int64_t *d, uint64_t seed) {
  const int64_t b = d[0], t = d[1], f = d[5];
  const int64_t sx[5] = {b, t, d[2], d[3], d[4]}, sk[4] = {d[6], d[7], d[4], 4 * f}, sr[4] = {d[6], d[7], f, 4 * f};
  const int64_t sb[1] = {4 * f};
  loom_tensor *in[6];
  int n = 0;
  in[n++] = tu_tensor(arena, 5, sx, -1, 1, seed);
  in[n++] = tu_tensor(arena, 4, sk, -0.5f, 0.5f, seed + 1);
  in[n++] = tu_tensor(arena, 4, sr, -0.5f, 0.5f, seed + 2);
  if (c->bias) in[n++] = tu_tensor(arena, 1, sb, -0.4f, 0.4f, seed + 3);
  /* the output's rows and cols, for the states and the recurrent mask */
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_tensor *probe = loom_conv_lstm2d(cx, in[0], NULL, NULL, in[1], in[2], NULL,
                                        &(loom_conv_lstm_cfg){.strides = {c->cfg.strides[0], c->cfg.strides[1]},
                                                              .dilation = {c->cfg.dilation[0], c->cfg.dilation[1]},
                                                              .padding = c->cfg.padding},
                                        NULL);
  cr_assert(probe, "%s", loom_ctx_error(cx));
  const int64_t ss[4] = {b, probe->shape[1], probe->shape[2], f};
  loom_ctx_free(cx);
  if (c->states) {
    in[n++] = tu_tensor(arena, 4, ss, -1, 1, seed + 4);
    in[n++] = tu_tensor(arena, 4, ss, -1, 1, seed + 5);
  }
  gc_check("conv_lstm2d", apply, in, n, c);
}

Test(conv_lstm, gradients_on_odd_shapes) {
  static const int64_t dims[5][8] = {
      {2, 3, 4, 5, 2, 3, 3, 3}, /* 'same' */
      {1, 1, 1, 1, 1, 1, 1, 1}, /* one of everything */
      {1, 4, 5, 4, 3, 2, 2, 3}, /* even kernel rows: TF's 'same' pads after */
      {3, 2, 1, 7, 1, 1, 1, 3}, /* 1x7 images */
      {2, 2, 6, 5, 2, 2, 3, 3},
  };
  static const loom_activation acts[3][2] = {
      {LOOM_TANH, LOOM_SIGMOID}, {LOOM_SOFTSIGN, LOOM_HARD_SIGMOID}, {LOOM_LINEAR, LOOM_SIGMOID}};
  uint64_t seed = 10;
  for (int i = 0; i < 5; ++i)
    for (int a = 0; a < 3; ++a) {
      case_t c = {.bias = i != 1, .states = (i + a) % 2 == 0, .out = (i + a) % 3};
      c.cfg.rnn = (loom_rnn_cfg){acts[a][0], acts[a][1], .return_sequences = (i + a) % 2 == 1 && c.out == 0,
                                 .go_backwards = i % 2 == 0};
      c.cfg.padding = i == 4 && a != 0 ? LOOM_VALID : LOOM_SAME;
      if (i == 4 && a == 1) c.cfg.strides[0] = 2, c.cfg.strides[1] = 2;
      if (i == 4 && a == 2) c.cfg.dilation[0] = 2, c.cfg.dilation[1] = 1;
      if (i == 0 && a == 0) c.cfg.strides[1] = 2;
      check(&c, dims[i], seed += 10);
    }
}

/* masks: 0/1 values, the step mask [batch, steps] with a fully masked sample and a
 * masked first and last step; dropout masks already scaled */
static loom_tensor *values(const int64_t *shape, int rank, const float *v, int nv) {
  loom_tensor *m = loom_tensor_new(arena, LOOM_F32, rank, shape);
  for (int64_t i = 0; i < m->size; ++i) loom_tensor_f32(m)[i] = v[i % nv];
  return m;
}

Test(conv_lstm, gradients_with_masks_and_dropout) {
  const int64_t d[8] = {3, 4, 3, 4, 2, 2, 3, 3};
  const int64_t keep_shape[2] = {3, 4}, in_shape[4] = {3, 3, 4, 8}, rec_shape[4] = {3, 3, 4, 8};
  const float keep[12] = {1, 1, 0, 1, /* a hole */ 0, 1, 1, 0, /* ends masked */ 0, 0, 0, 0 /* none valid */};
  const float drop[5] = {0, 2, 2, 0, 2};
  for (int v = 0; v < 4; ++v) {
    case_t c = {.bias = true, .states = v >= 2, .out = v == 3 ? 0 : v % 3};
    c.cfg.padding = LOOM_SAME;
    c.cfg.rnn = (loom_rnn_cfg){LOOM_TANH, LOOM_SIGMOID, .return_sequences = v == 0 || v == 3, .go_backwards = v == 1};
    c.cfg.rnn.mask = values(keep_shape, 2, keep, 12);
    if (v >= 1) c.cfg.rnn.input_mask = values(in_shape, 4, drop, 5);
    if (v >= 2) c.cfg.rnn.recurrent_mask = values(rec_shape, 4, drop, 3);
    check(&c, d, 700 + 10 * (uint64_t)v);
  }
}

Test(conv_lstm, a_masked_step_carries_the_states) {
  loom_ctx *cx = loom_ctx_new(NULL);
  const int64_t sx[5] = {2, 3, 2, 2, 1}, sk[4] = {3, 3, 1, 4}, sr[4] = {3, 3, 1, 4}, keep_shape[2] = {2, 3};
  loom_tensor *x = tu_tensor(arena, 5, sx, -1, 1, 1), *k = tu_tensor(arena, 4, sk, -1, 1, 2);
  loom_tensor *r = tu_tensor(arena, 4, sr, -1, 1, 3);
  const float keep[6] = {1, 0, 1, 1, 1, 0};
  loom_conv_lstm_cfg cfg = {.rnn = {.return_sequences = true, .mask = values(keep_shape, 2, keep, 6)},
                            .padding = LOOM_SAME};
  loom_tensor *c_last, *y = loom_conv_lstm2d(cx, x, NULL, NULL, k, r, NULL, &cfg, &c_last);
  cr_assert(y, "%s", loom_ctx_error(cx));
  cr_assert_eq(y->rank, 5);
  const float *py = loom_tensor_f32(y);
  const int64_t img = 2 * 2 * 1; /* one step's h */
  cr_assert(!memcmp(py + 1 * img, py + 0 * img, img * sizeof(float)), "sample 0, step 1 is masked: h carried");
  cr_assert(!memcmp(py + (3 + 2) * img, py + (3 + 1) * img, img * sizeof(float)), "sample 1, step 2 is masked");
  cr_assert(memcmp(py + 2 * img, py + 1 * img, img * sizeof(float)), "sample 0, step 2 is valid");
  /* the valid steps alone give the same last state: sample 0 without its masked step */
  const int64_t s2[5] = {1, 2, 2, 2, 1};
  loom_tensor *x2 = loom_tensor_new(arena, LOOM_F32, 5, s2);
  memcpy(loom_tensor_f32(x2), loom_tensor_f32(x), img * sizeof(float));
  memcpy(loom_tensor_f32(x2) + img, loom_tensor_f32(x) + 2 * img, img * sizeof(float));
  loom_conv_lstm_cfg plain = {.padding = LOOM_SAME};
  loom_tensor *c2, *h2 = loom_conv_lstm2d(cx, x2, NULL, NULL, k, r, NULL, &plain, &c2);
  cr_assert(h2, "%s", loom_ctx_error(cx));
  for (int64_t i = 0; i < img; ++i) {
    cr_assert_float_eq(loom_tensor_f32(h2)[i], py[2 * img + i], 1e-6f);
    cr_assert_float_eq(loom_tensor_f32(c2)[i], loom_tensor_f32(c_last)[i], 1e-6f);
  }
  loom_ctx_free(cx);
}

Test(conv_lstm, bad_shapes_are_refused_by_name) {
  loom_ctx *cx = loom_ctx_new(NULL);
  const int64_t sx[5] = {2, 3, 4, 4, 2}, sk[4] = {3, 3, 2, 8}, sr[4] = {3, 3, 2, 8}, bad_r[4] = {3, 3, 3, 8};
  const int64_t sh[4] = {2, 4, 4, 3}, sm[2] = {2, 4};
  loom_tensor *x = tu_tensor(arena, 5, sx, -1, 1, 1), *k = tu_tensor(arena, 4, sk, -1, 1, 2);
  loom_tensor *r = tu_tensor(arena, 4, sr, -1, 1, 3), *r3 = tu_tensor(arena, 4, bad_r, -1, 1, 4);
  const loom_conv_lstm_cfg cfg = {.padding = LOOM_SAME};
  cr_assert_null(loom_conv_lstm2d(cx, x, NULL, NULL, k, r3, NULL, &cfg, NULL));
  cr_assert(strstr(loom_ctx_error(cx), "loom_conv_lstm2d: input [2, 3, 4, 4, 2], kernel [3, 3, 2, 8], recurrent "
                                       "kernel [3, 3, 3, 8]"), "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  cr_assert_null(loom_conv_lstm2d(cx, x, tu_tensor(arena, 4, sh, -1, 1, 5), NULL, k, r, NULL, &cfg, NULL));
  cr_assert(strstr(loom_ctx_error(cx), "initial h [2, 4, 4, 3] must be [2, 4, 4, 2]"), "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  loom_conv_lstm_cfg masked = cfg;
  masked.rnn.mask = values(sm, 2, (const float[]){1}, 1);
  cr_assert_null(loom_conv_lstm2d(cx, x, NULL, NULL, k, r, NULL, &masked, NULL));
  cr_assert(strstr(loom_ctx_error(cx), "mask [2, 4] does not fit"), "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  const loom_conv_lstm_cfg soft = {.rnn = {LOOM_SOFTMAX}};
  cr_assert_null(loom_conv_lstm2d(cx, x, NULL, NULL, k, r, NULL, &soft, NULL));
  cr_assert(strstr(loom_ctx_error(cx), "must be elementwise activations"), "%s", loom_ctx_error(cx));
  loom_ctx_free(cx);
}
