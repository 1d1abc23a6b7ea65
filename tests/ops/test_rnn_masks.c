/* test_rnn_masks.c - masks and recurrent dropout in LSTM, GRU (both variants) and
 * SimpleRNN. Masks: a batch of lengths 1..T (post-padded) equals each sequence run alone
 * (outputs, carried or zeroed at the padding, last states), forwards and backwards;
 * gradients by finite differences with holes anywhere in the mask. Dropout (input and
 * recurrent): masks the same for every sample equal the op on kernels whose rows are
 * scaled gate by gate (Keras' one mask per gate, GRU's final mix on the undropped
 * h_{t-1}); gradients with masks drawn per sample. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

TestSuite(rnn_masks, .init = tu_suite_open, .fini = tu_suite_close);

typedef enum { K_LSTM, K_GRU, K_GRU_V1, K_RNN } kind;
static const char *const kind_name[] = {"lstm", "gru", "gru reset_after=false", "simple_rnn"};
static int gates_of(kind k) { return k == K_LSTM ? 4 : k == K_RNN ? 1 : 3; }

typedef struct {
  kind k;
  loom_rnn_cfg cfg;
  bool c_out; /* LSTM: differentiate output + last c */
} mcase;

/* in: x, kernel, recurrent kernel, bias */
static loom_tensor *run_op(loom_ctx *cx, const mcase *c, loom_tensor **in, loom_tensor **c_last) {
  loom_rnn_cfg cfg = c->cfg;
  cfg.reset_after = c->k == K_GRU;
  switch (c->k) {
  case K_LSTM: return loom_lstm(cx, in[0], NULL, NULL, in[1], in[2], in[3], &cfg, c_last);
  case K_RNN: return loom_simple_rnn(cx, in[0], NULL, in[1], in[2], in[3], &cfg);
  default: return loom_gru(cx, in[0], NULL, in[1], in[2], in[3], &cfg);
  }
}

static void make_weights(const mcase *c, int64_t d, int64_t u, loom_tensor **in, uint64_t seed) {
  const int64_t g = gates_of(c->k), sk[2] = {d, g * u}, sr[2] = {u, g * u}, sb2[2] = {2, g * u}, sb1[1] = {g * u};
  in[1] = tu_tensor(tu_params, 2, sk, -0.7f, 0.7f, seed + 1);
  in[2] = tu_tensor(tu_params, 2, sr, -0.7f, 0.7f, seed + 2);
  in[3] = c->k == K_GRU ? tu_tensor(tu_params, 2, sb2, -0.4f, 0.4f, seed + 3)
                        : tu_tensor(tu_params, 1, sb1, -0.4f, 0.4f, seed + 3);
}

static loom_tensor *new_tensor(int rank, const int64_t *shape) {
  return loom_tensor_new(tu_params, LOOM_F32, rank, shape);
}

/* ---------------------------------------------------------------- lengths 1..T in one batch */

static void lengths_case(kind k, bool seq, bool back, bool zero) {
  const int64_t T = 5, B = T, D = 3, U = 4;
  mcase c = {.k = k, .cfg = {.return_sequences = seq, .go_backwards = back, .zero_output_for_mask = zero}};
  loom_tensor *in[4];
  const int64_t sx[3] = {B, T, D}, sm[2] = {B, T};
  in[0] = tu_tensor(tu_params, 3, sx, -1, 1, 7);
  make_weights(&c, D, U, in, 70 + k);
  loom_tensor *mask = new_tensor(2, sm);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < T; ++s) loom_tensor_f32(mask)[b * T + s] = s <= b ? 1.0f : 0.0f; /* length b + 1 */
  c.cfg.mask = mask;
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_tensor *c_all = NULL;
  loom_tensor *y = run_op(cx, &c, in, k == K_LSTM ? &c_all : NULL);
  cr_assert(y, "%s: %s", kind_name[k], loom_ctx_error(cx));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = b + 1, sx1[3] = {1, len, D};
    loom_tensor *x1 = new_tensor(3, sx1);
    memcpy(loom_tensor_f32(x1), loom_tensor_f32(in[0]) + b * T * D, (size_t)(len * D) * sizeof(float));
    mcase alone = c;
    alone.cfg.mask = NULL;
    loom_tensor *in1[4] = {x1, in[1], in[2], in[3]}, *c1 = NULL;
    loom_ctx *cx1 = loom_ctx_new(NULL);
    loom_tensor *y1 = run_op(cx1, &alone, in1, k == K_LSTM ? &c1 : NULL);
    cr_assert(y1, "%s", loom_ctx_error(cx1));
    const float *got = loom_tensor_f32(y), *want = loom_tensor_f32(y1);
    for (int64_t s = 0; s < (seq ? T : 1); ++s) {
      /* the step's output alone: forwards, the padding comes after the sequence; backwards
       * (as Keras reverses it whole), before it */
      const int64_t pad = T - len, ss = back ? s - pad : s;
      const bool valid = seq ? ss >= 0 && ss < len : true;
      for (int64_t j = 0; j < U; ++j) {
        double w;
        if (!seq) w = zero && !back && len < T ? 0.0 : want[j]; /* Keras: the last step's output */
        else if (valid) w = want[ss * U + j];
        else if (zero) w = 0.0;
        else w = back ? 0.0 : want[(len - 1) * U + j]; /* carried: h_{-1} = 0 before, the last after */
        const double g = got[(b * (seq ? T : 1) + s) * U + j];
        cr_assert(tu_close(g, w, 1e-6, 1e-5), "%s seq=%d back=%d zero=%d: sample %lld step %lld unit %lld: %g, alone %g",
                  kind_name[k], seq, back, zero, (long long)b, (long long)s, (long long)j, g, w);
      }
    }
    if (k == K_LSTM)
      for (int64_t j = 0; j < U; ++j)
        cr_assert(tu_close(loom_tensor_f32(c_all)[b * U + j], loom_tensor_f32(c1)[j], 1e-6, 1e-5),
                  "lstm last c, sample %lld", (long long)b);
    loom_ctx_free(cx1);
  }
  loom_ctx_free(cx);
}

Test(rnn_masks, lengths_one_to_t_equal_each_sequence_alone) {
  for (int k = 0; k < 4; ++k)
    for (int v = 0; v < 8; ++v) lengths_case((kind)k, v & 1, v & 2, v & 4);
}

/* ---------------------------------------------------------------- gradients with masks */

static loom_tensor *apply(loom_ctx *cx, loom_tensor **in, void *user) {
  const mcase *c = user;
  loom_tensor *c_last = NULL;
  loom_tensor *y = run_op(cx, c, in, c->c_out ? &c_last : NULL);
  return y && c->c_out ? loom_add(cx, y, c_last) : y;
}

Test(rnn_masks, gradients_with_holes) {
  /* holes at the start, in the middle, at the end, a sample all masked */
  const float pattern[4][5] = {{0, 1, 1, 0, 1}, {1, 1, 1, 1, 1}, {1, 0, 0, 1, 0}, {0, 0, 0, 0, 0}};
  const int64_t B = 4, T = 5, D = 2, U = 3, sx[3] = {B, T, D}, sm[2] = {B, T};
  loom_tensor *mask = new_tensor(2, sm);
  memcpy(loom_tensor_f32(mask), pattern, sizeof pattern);
  uint64_t seed = 300;
  for (int k = 0; k < 4; ++k)
    for (int v = 0; v < 4; ++v) {
      mcase c = {.k = (kind)k, .cfg = {.mask = mask, .return_sequences = v & 1, .go_backwards = v == 1 || v == 2,
                                        .zero_output_for_mask = v >= 2}};
      c.c_out = k == K_LSTM && !c.cfg.return_sequences;
      if (v == 3) c.cfg.activation = LOOM_SOFTSIGN, c.cfg.recurrent_activation = LOOM_HARD_SIGMOID; /* not fused */
      loom_tensor *in[4];
      in[0] = tu_tensor(tu_params, 3, sx, -1, 1, seed += 10);
      make_weights(&c, D, U, in, seed);
      char what[64];
      snprintf(what, sizeof what, "%s variant %d", kind_name[k], v);
      gc_check(what, apply, in, 4, &c);
    }
}

/* ---------------------------------------------------------------- recurrent dropout */

Test(rnn_masks, dropout_scales_each_gates_rows) {
  const int64_t B = 3, T = 4, D = 2, U = 5, sx[3] = {B, T, D};
  for (int k = 0; k < 4; ++k) {
    const int64_t g = gates_of((kind)k), sd[2] = {B, g * U}, si[2] = {B, g * D};
    mcase c = {.k = (kind)k, .cfg = {.return_sequences = true}};
    loom_tensor *in[4];
    in[0] = tu_tensor(tu_params, 3, sx, -1, 1, 11);
    make_weights(&c, D, U, in, 20 + k);
    /* drop_g[j] the same for every sample: 0 or 1 / (1 - 0.4) */
    loom_tensor *drop = new_tensor(2, sd);
    float *m = loom_tensor_f32(drop);
    for (int64_t j = 0; j < g * U; ++j) m[j] = (j * 7 + k) % 3 == 0 ? 0.0f : 1.0f / 0.6f;
    for (int64_t b = 1; b < B; ++b) memcpy(m + b * g * U, m, (size_t)(g * U) * sizeof(float));
    c.cfg.recurrent_mask = drop;
    /* and the input's: in_g[i] the same for every sample */
    loom_tensor *idrop = new_tensor(2, si);
    float *mi = loom_tensor_f32(idrop);
    for (int64_t j = 0; j < g * D; ++j) mi[j] = (j * 5 + k) % 4 == 1 ? 0.0f : 1.0f / 0.75f;
    for (int64_t b = 1; b < B; ++b) memcpy(mi + b * g * D, mi, (size_t)(g * D) * sizeof(float));
    c.cfg.input_mask = idrop;
    loom_ctx *cx = loom_ctx_new(NULL);
    loom_tensor *y = run_op(cx, &c, in, NULL);
    cr_assert(y, "%s: %s", kind_name[k], loom_ctx_error(cx));
    /* the same without dropout on U' with U'[i, g u + j] = U[i, g u + j] drop_g[i], and W'
     * likewise from in_g */
    const int64_t sr[2] = {U, g * U}, sk[2] = {D, g * U};
    loom_tensor *scaled = new_tensor(2, sr), *wscaled = new_tensor(2, sk);
    for (int64_t i = 0; i < D; ++i)
      for (int64_t gg = 0; gg < g; ++gg)
        for (int64_t j = 0; j < U; ++j)
          loom_tensor_f32(wscaled)[i * g * U + gg * U + j] = loom_tensor_f32(in[1])[i * g * U + gg * U + j] * mi[gg * D + i];
    for (int64_t i = 0; i < U; ++i)
      for (int64_t gg = 0; gg < g; ++gg)
        for (int64_t j = 0; j < U; ++j)
          loom_tensor_f32(scaled)[i * g * U + gg * U + j] = loom_tensor_f32(in[2])[i * g * U + gg * U + j] * m[gg * U + i];
    mcase plain = c;
    plain.cfg.recurrent_mask = NULL, plain.cfg.input_mask = NULL;
    loom_tensor *in2[4] = {in[0], wscaled, scaled, in[3]};
    loom_ctx *cx2 = loom_ctx_new(NULL);
    loom_tensor *y2 = run_op(cx2, &plain, in2, NULL);
    cr_assert(y2, "%s", loom_ctx_error(cx2));
    for (int64_t i = 0; i < y->size; ++i)
      cr_assert(tu_close(loom_tensor_f32(y)[i], loom_tensor_f32(y2)[i], 1e-6, 1e-5), "%s: element %lld: %g vs %g",
                kind_name[k], (long long)i, loom_tensor_f32(y)[i], loom_tensor_f32(y2)[i]);
    loom_ctx_free(cx2);
    loom_ctx_free(cx);
  }
}

Test(rnn_masks, gradients_with_dropout_and_mask) {
  const float pattern[3][4] = {{1, 1, 0, 1}, {0, 1, 1, 1}, {1, 1, 1, 0}};
  const int64_t B = 3, T = 4, D = 2, U = 3, sx[3] = {B, T, D}, sm[2] = {B, T};
  loom_tensor *mask = new_tensor(2, sm);
  memcpy(loom_tensor_f32(mask), pattern, sizeof pattern);
  uint64_t seed = 700;
  for (int k = 0; k < 4; ++k)
    for (int v = 0; v < 2; ++v) {
      const int64_t g = gates_of((kind)k), sd[2] = {B, g * U}, si[2] = {B, g * D};
      loom_tensor *drop = new_tensor(2, sd), *idrop = new_tensor(2, si);
      for (int64_t j = 0; j < drop->size; ++j) loom_tensor_f32(drop)[j] = (j * 5 + v) % 4 == 0 ? 0.0f : 1.25f;
      for (int64_t j = 0; j < idrop->size; ++j) loom_tensor_f32(idrop)[j] = (j * 3 + v) % 4 == 2 ? 0.0f : 1.25f;
      mcase c = {.k = (kind)k, .cfg = {.recurrent_mask = drop, .input_mask = idrop, .mask = v ? mask : NULL,
                                        .return_sequences = v, .go_backwards = v}};
      c.c_out = k == K_LSTM && !v;
      loom_tensor *in[4];
      in[0] = tu_tensor(tu_params, 3, sx, -1, 1, seed += 10);
      make_weights(&c, D, U, in, seed);
      gc_check(kind_name[k], apply, in, 4, &c);
    }
}

Test(rnn_masks, bad_masks_refused) {
  const int64_t sx[3] = {2, 3, 2}, bad[2] = {2, 4}, badd[2] = {2, 5};
  mcase c = {.k = K_GRU};
  loom_tensor *in[4];
  in[0] = tu_tensor(tu_params, 3, sx, -1, 1, 1);
  make_weights(&c, 2, 5, in, 2);
  c.cfg.mask = new_tensor(2, bad);
  loom_ctx *cx = loom_ctx_new(NULL);
  cr_assert_null(run_op(cx, &c, in, NULL));
  cr_assert(strstr(loom_ctx_error(cx), "loom_gru: mask [2, 4] does not fit the input (expected f32 [2, 3]"), "%s",
            loom_ctx_error(cx));
  c.cfg.mask = NULL;
  c.cfg.recurrent_mask = new_tensor(2, badd);
  loom_ctx_reset(cx);
  cr_assert_null(run_op(cx, &c, in, NULL));
  cr_assert(strstr(loom_ctx_error(cx), "recurrent_mask [2, 5] does not fit the input (expected f32 [2, 15]: [batch, gates * units])"),
            "%s", loom_ctx_error(cx));
  loom_ctx_free(cx);
}
