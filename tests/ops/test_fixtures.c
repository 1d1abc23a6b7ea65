/* test_fixtures.c - LSTM, convolutions, pooling and losses against PyTorch 1.13
 * (tests/fixtures, made by make_fixtures.py with Keras layouts converted), and every
 * activation: outputs and
 * the gradients of sum(y * r) for every input and weight. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/fixture.h"
#include "ops/act.h"

static loom_arena *params;
static loom_ctx *cx;
static fx_file fx;
static void setup(void) {
  params = loom_arena_new(NULL);
  cx = loom_ctx_new(NULL);
  loom_ctx_set_training(cx, true);
}
static void teardown(void) {
  fx_free(&fx);
  loom_ctx_free(cx);
  loom_arena_free(params);
}
TestSuite(torch, .init = setup, .fini = teardown);

static loom_tensor *in(const char *name) {
  loom_tensor *t = fx_tensor_new(params, fx_get(&fx, name));
  loom_tensor_set_requires_grad(t, true);
  return t;
}

/* Output, then backward from r, then each named input's gradient. */
static void check(loom_tensor *y, loom_tensor **ins, const char **names, int n) {
  cr_assert(y, "%s", loom_ctx_error(cx));
  fx_expect("y", loom_tensor_f32(y), fx_get(&fx, "y"));
  cr_assert_eq(loom_backward_from(cx, y, fx_get(&fx, "r")->data), LOOM_OK, "%s", loom_ctx_error(cx));
  for (int i = 0; i < n; ++i) {
    char g[48];
    snprintf(g, sizeof g, "grad_%s", names[i]);
    fx_expect(g, ins[i]->grad, fx_get(&fx, g));
  }
}

static void lstm_case(const char *file, bool seq, bool back) {
  fx_load(file, &fx);
  const char *names[4] = {"x", "kernel", "recurrent_kernel", "bias"};
  loom_tensor *t[4] = {in("x"), in("kernel"), in("recurrent_kernel"), in("bias")};
  const loom_rnn_cfg cfg = {.return_sequences = seq, .go_backwards = back};
  check(loom_lstm(cx, t[0], NULL, NULL, t[1], t[2], t[3], &cfg, NULL), t, names, 4);
}
Test(torch, lstm_last_state) { lstm_case("lstm_last", false, false); }
Test(torch, lstm_sequences_backwards) { lstm_case("lstm_seq_backwards", true, true); }

static const char *conv_names[3] = {"x", "kernel", "bias"};
Test(torch, conv1d_valid_stride2) {
  fx_load("conv1d_valid_stride2", &fx);
  loom_tensor *t[3] = {in("x"), in("kernel"), in("bias")};
  check(loom_conv1d(cx, t[0], t[1], t[2], 2, 1, LOOM_VALID, LOOM_LINEAR), t, conv_names, 3);
}
Test(torch, conv1d_same_dilation2) {
  fx_load("conv1d_same_dilation2", &fx);
  loom_tensor *t[3] = {in("x"), in("kernel"), in("bias")};
  check(loom_conv1d(cx, t[0], t[1], t[2], 1, 2, LOOM_SAME, LOOM_LINEAR), t, conv_names, 3);
}
Test(torch, conv2d_same) {
  fx_load("conv2d_same", &fx);
  loom_tensor *t[3] = {in("x"), in("kernel"), in("bias")};
  check(loom_conv2d(cx, t[0], t[1], t[2], 1, 1, 1, 1, LOOM_SAME, LOOM_LINEAR), t, conv_names, 3);
}
Test(torch, conv2d_valid_stride2) {
  fx_load("conv2d_valid_stride2", &fx);
  loom_tensor *t[3] = {in("x"), in("kernel"), in("bias")};
  check(loom_conv2d(cx, t[0], t[1], t[2], 2, 2, 1, 1, LOOM_VALID, LOOM_LINEAR), t, conv_names, 3);
}
Test(torch, pooling) {
  const char *names[1] = {"x"};
  fx_load("maxpool1d_valid", &fx);
  loom_tensor *x = in("x");
  check(loom_max_pool1d(cx, x, 2, 0, LOOM_VALID), &x, names, 1);
  fx_free(&fx);
  loom_ctx_reset(cx);
  fx_load("avgpool2d_valid", &fx);
  loom_tensor *x2 = in("x");
  check(loom_avg_pool2d(cx, x2, 2, 2, 0, 0, LOOM_VALID), &x2, names, 1);
}

static void loss_case(const char *file, loom_tensor *(*f)(loom_ctx *, loom_tensor *, loom_tensor *)) {
  fx_load(file, &fx);
  loom_tensor *t = fx_tensor_new(params, fx_get(&fx, "y_true")), *p = in("y_pred");
  loom_tensor *loss = f(cx, t, p);
  cr_assert(loss, "%s", loom_ctx_error(cx));
  fx_expect("loss", loom_tensor_f32(loss), fx_get(&fx, "loss"));
  cr_assert_eq(loom_backward(cx, loss), LOOM_OK);
  fx_expect("grad_y_pred", p->grad, fx_get(&fx, "grad_y_pred"));
}
Test(torch, categorical_crossentropy) { loss_case("loss_cce", loom_loss_categorical_crossentropy); }
Test(torch, binary_crossentropy) { loss_case("loss_bce", loom_loss_binary_crossentropy); }

Test(torch, depthwise_same) {
  fx_load("depthwise_same", &fx);
  loom_tensor *t[3] = {in("x"), in("kernel"), in("bias")};
  check(loom_depthwise_conv2d(cx, t[0], t[1], t[2], 1, 1, LOOM_SAME, LOOM_LINEAR), t, conv_names, 3);
}
Test(torch, depthwise_valid_stride2_multiplier2) {
  fx_load("depthwise_valid_stride2_dm2", &fx);
  loom_tensor *t[3] = {in("x"), in("kernel"), in("bias")};
  check(loom_depthwise_conv2d(cx, t[0], t[1], t[2], 2, 2, LOOM_VALID, LOOM_LINEAR), t, conv_names, 3);
}
Test(torch, batch_norm_training_and_keras_moving_update) {
  fx_load("batch_norm_train", &fx);
  const char *names[3] = {"x", "gamma", "beta"};
  loom_tensor *t[3] = {in("x"), in("gamma"), in("beta")};
  loom_tensor *mm = fx_tensor_new(params, fx_get(&fx, "moving_mean"));
  loom_tensor *mv = fx_tensor_new(params, fx_get(&fx, "moving_variance"));
  check(loom_batch_norm(cx, t[0], t[1], t[2], mm, mv, 0.99f, 1e-3f), t, names, 3); /* cx is training */
  fx_expect("new_moving_mean", loom_tensor_f32(mm), fx_get(&fx, "new_moving_mean"));
  fx_expect("new_moving_variance", loom_tensor_f32(mv), fx_get(&fx, "new_moving_variance"));
}

/* Every activation against PyTorch's: loom_activate's output and gradient. */
static loom_tensor *apply_named(const char *name, loom_tensor *x) {
  static const lm_act_param torch_hardsigmoid = {1.0f / 6, 0.5f, 0}, elu_half = {0.5f, 1, 0};
  if (!strcmp(name, "hardsigmoid_torch")) return lm_act_op(cx, "hardsigmoid", x, LM_F_HARD_SIGMOID, &torch_hardsigmoid);
  if (!strcmp(name, "elu_alpha_0.5")) return lm_act_op(cx, "elu", x, LM_F_ELU, &elu_half);
  const int act = lm_activation_find(name);
  cr_assert_geq(act, 0, "%s", name);
  return loom_activate(cx, x, (loom_activation)act);
}

Test(torch, activations) {
  static const char *const names[] = {"elu", "selu", "gelu", "gelu_tanh", "swish", "softplus",
                                      "softsign", "relu6", "exponential", "leaky_relu", "sigmoid",
                                      "tanh", "relu", "hardsigmoid_torch", "elu_alpha_0.5"};
  fx_load("activations", &fx);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
    loom_tensor *x = in("x");
    loom_tensor *y = apply_named(names[i], x);
    cr_assert(y, "%s: %s", names[i], loom_ctx_error(cx));
    char key[64];
    snprintf(key, sizeof key, "y_%s", names[i]);
    fx_expect(key, loom_tensor_f32(y), fx_get(&fx, key));
    cr_assert_eq(loom_backward_from(cx, y, fx_get(&fx, "r")->data), LOOM_OK, "%s", loom_ctx_error(cx));
    snprintf(key, sizeof key, "grad_%s", names[i]);
    fx_expect(key, x->grad, fx_get(&fx, key));
    loom_ctx_reset(cx);
  }
}

Test(torch, prelu_shared_and_full) {
  const char *names[2] = {"x", "alpha"};
  fx_load("prelu_shared", &fx);
  loom_tensor *t[2] = {in("x"), in("alpha")};
  check(loom_prelu(cx, t[0], t[1]), t, names, 2);
  fx_free(&fx);
  loom_ctx_reset(cx);
  fx_load("prelu_full", &fx);
  loom_tensor *u[2] = {in("x"), in("alpha")};
  check(loom_prelu(cx, u[0], u[1]), u, names, 2);
}

Test(torch, softmax_axis1) {
  const char *names[1] = {"x"};
  fx_load("softmax_axis1", &fx);
  loom_tensor *t[1] = {in("x")};
  check(loom_softmax_axis(cx, t[0], 1), t, names, 1);
}

/* GRU (both variants) and SimpleRNN (tanh, relu) against PyTorch, with and without an
 * initial state, sequences and last states, forwards and backwards. */
static void recurrent_case(const char *file, bool gru, const loom_rnn_cfg *cfg, bool with_h0) {
  fx_load(file, &fx);
  const char *names[5] = {"x", "kernel", "recurrent_kernel", "bias", "h0"};
  loom_tensor *t[5] = {in("x"), in("kernel"), in("recurrent_kernel"), in("bias"), with_h0 ? in("h0") : NULL};
  loom_tensor *y = gru ? loom_gru(cx, t[0], t[4], t[1], t[2], t[3], cfg) : loom_simple_rnn(cx, t[0], t[4], t[1], t[2], t[3], cfg);
  check(y, t, names, with_h0 ? 5 : 4);
}
Test(torch, gru_sequences_with_initial_state) {
  recurrent_case("gru_seq_h0", true, &(loom_rnn_cfg){LOOM_TANH, LOOM_SIGMOID, .return_sequences = true, .reset_after = true}, true);
}
Test(torch, gru_last_state_backwards) {
  recurrent_case("gru_last_backwards", true, &(loom_rnn_cfg){LOOM_TANH, LOOM_SIGMOID, .go_backwards = true, .reset_after = true}, false);
}
Test(torch, gru_reset_before) {
  recurrent_case("gru_reset_before", true, &(loom_rnn_cfg){LOOM_TANH, LOOM_SIGMOID, .return_sequences = true}, true);
}
Test(torch, simple_rnn_tanh_sequences) {
  recurrent_case("rnn_tanh_seq_h0", false, &(loom_rnn_cfg){LOOM_TANH, LOOM_SIGMOID, .return_sequences = true}, true);
}
Test(torch, simple_rnn_relu_last_backwards) {
  recurrent_case("rnn_relu_last_backwards", false, &(loom_rnn_cfg){LOOM_RELU, LOOM_SIGMOID, .go_backwards = true}, false);
}

/* Causal and transposed convolutions, bilinear resizing: PyTorch computes the same with
 * its own padding (F.pad before the steps; the transposed convolution's full output cut
 * to Keras' length). */
Test(torch, conv1d_causal_dilation2) {
  fx_load("conv1d_causal_dilation2", &fx);
  loom_tensor *t[3] = {in("x"), in("kernel"), in("bias")};
  check(loom_conv1d(cx, t[0], t[1], t[2], 1, 2, LOOM_CAUSAL, LOOM_LINEAR), t, conv_names, 3);
}
static void conv_t_case(const char *file, bool one_d, int s, int d, loom_padding padding, int op) {
  fx_load(file, &fx);
  loom_tensor *t[3] = {in("x"), in("kernel"), in("bias")};
  check(one_d ? loom_conv1d_transpose(cx, t[0], t[1], t[2], s, d, padding, op)
              : loom_conv2d_transpose(cx, t[0], t[1], t[2], s, s, d, d, padding, op, op),
        t, conv_names, 3);
}
Test(torch, conv1d_transpose_valid_stride2) { conv_t_case("conv1d_transpose_valid_stride2", true, 2, 1, LOOM_VALID, LOOM_NONE); }
Test(torch, conv1d_transpose_same_dilation2) { conv_t_case("conv1d_transpose_same_dilation2", true, 1, 2, LOOM_SAME, LOOM_NONE); }
Test(torch, conv2d_transpose_same_stride2) { conv_t_case("conv2d_transpose_same_stride2", false, 2, 1, LOOM_SAME, LOOM_NONE); }
Test(torch, conv2d_transpose_valid_kernel_smaller_than_stride) {
  conv_t_case("conv2d_transpose_valid_k2s3", false, 3, 1, LOOM_VALID, LOOM_NONE);
}
Test(torch, conv2d_transpose_same_kernel4_stride2) { conv_t_case("conv2d_transpose_same_k4s2", false, 2, 1, LOOM_SAME, LOOM_NONE); }
/* output_padding given: Keras' (n - 1) * s + span - 2 * pad + p */
Test(torch, conv1d_transpose_valid_output_padding) {
  conv_t_case("conv1d_transpose_valid_s3_op2", true, 3, 1, LOOM_VALID, 2);
}
Test(torch, conv2d_transpose_same_output_padding) { conv_t_case("conv2d_transpose_same_s2_op1", false, 2, 1, LOOM_SAME, 1); }
Test(torch, conv2d_transpose_same_output_padding_0) { conv_t_case("conv2d_transpose_same_s3_op0", false, 3, 1, LOOM_SAME, 0); }
static void resize_case(const char *file) {
  fx_load(file, &fx);
  const char *names[1] = {"x"};
  loom_tensor *t[1] = {in("x")};
  const fx_tensor *y = fx_get(&fx, "y");
  check(loom_resize_bilinear(cx, t[0], y->shape[1], y->shape[2]), t, names, 1);
}
Test(torch, resize_bilinear_double) { resize_case("resize_bilinear_x2"); }
Test(torch, resize_bilinear_down_and_up) { resize_case("resize_bilinear_any"); }

/* Bidirectional over a mask, composed from the ops as the layer composes them: each
 * direction on the mask (the backward one reading it backwards), the backward sequence
 * put back in time order, zeros at the masked steps, joined; PyTorch runs each sample
 * alone on its valid steps. */
static void bidir_masked_case(const char *file, bool lstm, bool seq) {
  fx_load(file, &fx);
  const char *names[7] = {"x", "kernel_f", "recurrent_kernel_f", "bias_f", "kernel_b", "recurrent_kernel_b", "bias_b"};
  loom_tensor *t[7];
  for (int i = 0; i < 7; ++i) t[i] = in(names[i]);
  loom_tensor *mask = fx_tensor_new(params, fx_get(&fx, "mask"));
  loom_rnn_cfg f = {.return_sequences = seq, .reset_after = true, .mask = mask}, b = f;
  b.go_backwards = true;
  loom_tensor *yf = lstm ? loom_lstm(cx, t[0], NULL, NULL, t[1], t[2], t[3], &f, NULL) : loom_gru(cx, t[0], NULL, t[1], t[2], t[3], &f);
  loom_tensor *yb = lstm ? loom_lstm(cx, t[0], NULL, NULL, t[4], t[5], t[6], &b, NULL) : loom_gru(cx, t[0], NULL, t[4], t[5], t[6], &b);
  if (seq) {
    yf = loom_mask_steps(cx, yf, mask);
    yb = loom_mask_steps(cx, loom_reverse_steps(cx, yb), mask);
  }
  loom_tensor *both[2] = {yf, yb};
  check(loom_concatenate(cx, 2, both, -1), t, names, 7);
}
Test(torch, bidirectional_lstm_masked_sequences) { bidir_masked_case("bidir_lstm_masked_seq", true, true); }
Test(torch, bidirectional_gru_masked_last_states) { bidir_masked_case("bidir_gru_masked_last", false, false); }

/* ConvLSTM2D against the cell written with PyTorch's conv2d: 'same' sequences, 'valid'
 * with strides backwards from given states, dilation with an even kernel and Keras 2's
 * hard_sigmoid */
static void conv_lstm_case(const char *file, const loom_conv_lstm_cfg *cfg, bool states) {
  fx_load(file, &fx);
  const char *names[6] = {"x", "kernel", "recurrent_kernel", "bias", "h0", "c0"};
  loom_tensor *t[6] = {in("x"), in("kernel"), in("recurrent_kernel"), in("bias"), states ? in("h0") : NULL,
                       states ? in("c0") : NULL};
  check(loom_conv_lstm2d(cx, t[0], t[4], t[5], t[1], t[2], t[3], cfg, NULL), t, names, states ? 6 : 4);
}
Test(torch, conv_lstm2d_same_sequences) {
  conv_lstm_case("conv_lstm2d_same_seq", &(loom_conv_lstm_cfg){.rnn = {.return_sequences = true}, .padding = LOOM_SAME},
                 false);
}
Test(torch, conv_lstm2d_valid_strided_backwards_from_states) {
  conv_lstm_case("conv_lstm2d_valid_s2_back_states",
                 &(loom_conv_lstm_cfg){.rnn = {.go_backwards = true}, .strides = {2, 2}, .padding = LOOM_VALID}, true);
}
Test(torch, conv_lstm2d_dilated_even_kernel_hard_sigmoid) {
  conv_lstm_case("conv_lstm2d_dilated_same_hard_sigmoid",
                 &(loom_conv_lstm_cfg){.rnn = {LOOM_TANH, LOOM_HARD_SIGMOID, .return_sequences = true},
                                       .strides = {1, 1}, .dilation = {2, 1}, .padding = LOOM_SAME},
                 false);
}
