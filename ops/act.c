/* act.c - the activation table, the elementwise activation op, and the activation steps
 * shared by Dense and the convolutions. */
#include <math.h>
#include <string.h>

#include "ops/act.h"

#define NO_PARAM {0, 0, 0}
static const lm_activation_info table[] = {
    [LOOM_ACTIVATION_DEFAULT] = {"linear", LM_F_LINEAR, NO_PARAM, true}, /* as an op takes it */
    [LOOM_LINEAR] = {"linear", LM_F_LINEAR, NO_PARAM, true},
    [LOOM_RELU] = {"relu", LM_F_RELU, {0, 0, INFINITY}, true},
    [LOOM_SIGMOID] = {"sigmoid", LM_F_SIGMOID, NO_PARAM, true},
    [LOOM_TANH] = {"tanh", LM_F_TANH, NO_PARAM, true},
    [LOOM_SOFTMAX] = {"softmax", LM_F_LINEAR, NO_PARAM, true},
    [LOOM_ELU] = {"elu", LM_F_ELU, {1, 1, 0}, false},
    [LOOM_SELU] = {"selu", LM_F_ELU, {1.67326324f, 1.05070098f, 0}, false},
    [LOOM_GELU] = {"gelu", LM_F_GELU, NO_PARAM, false},
    [LOOM_GELU_TANH] = {"gelu_tanh", LM_F_GELU_TANH, NO_PARAM, false},
    [LOOM_SWISH] = {"swish", LM_F_SWISH, NO_PARAM, false},
    [LOOM_SOFTPLUS] = {"softplus", LM_F_SOFTPLUS, NO_PARAM, false},
    [LOOM_SOFTSIGN] = {"softsign", LM_F_SOFTSIGN, NO_PARAM, false},
    [LOOM_HARD_SIGMOID] = {"hard_sigmoid", LM_F_HARD_SIGMOID, {0.2f, 0.5f, 0}, false},
    [LOOM_RELU6] = {"relu6", LM_F_RELU, {0, 0, 6}, false},
    [LOOM_EXPONENTIAL] = {"exponential", LM_F_EXP, NO_PARAM, false},
    [LOOM_LEAKY_RELU] = {"leaky_relu", LM_F_RELU, {0.2f, 0, INFINITY}, false},
};
_Static_assert(sizeof table / sizeof table[0] == LOOM_ACTIVATION_COUNT, "one entry per loom_activation");

const lm_activation_info *lm_activation_get(loom_activation act) {
  return (unsigned)act < LOOM_ACTIVATION_COUNT ? &table[act] : NULL;
}

int lm_activation_find(const char *name) {
  if (!name) return -1;
  if (!strcmp(name, "silu")) return LOOM_SWISH; /* Keras 3's name for swish */
  for (int i = LOOM_LINEAR; i < LOOM_ACTIVATION_COUNT; ++i)
    if (!strcmp(name, table[i].name)) return i;
  return -1;
}

typedef struct {
  lm_actfn fn;
  lm_act_param p;
} act_saved;

static int act_backward(loom_ctx *cx, const lm_rec *r) {
  const act_saved *s = r->saved;
  loom_tensor *x = r->in[0];
  float *gx = lm_grad(cx, x);
  if (!gx) return cx->status;
  lm_k_act_grad(s->fn, &s->p, x->data, r->out->grad, gx, (size_t)x->size);
  return LOOM_OK;
}

loom_tensor *lm_act_op(loom_ctx *cx, const char *name, loom_tensor *x, lm_actfn f, const lm_act_param *p) {
  if (!lm_inputs_ok(cx, name, 1, &x)) return NULL;
  loom_tensor *y = lm_out(cx, name, x->rank, x->shape);
  act_saved *s = y ? lm_scratch(cx, name, sizeof *s) : NULL;
  if (!s) return NULL;
  *s = (act_saved){f, *p};
  lm_k_act(f, p, x->data, y->data, (size_t)x->size);
  return lm_record(cx, name, act_backward, y, 1, &x, s);
}

lm_act lm_fused_act(loom_activation act) {
  switch (act) {
    case LOOM_RELU: return LM_ACT_RELU;
    case LOOM_SIGMOID: return LM_ACT_SIGMOID;
    case LOOM_TANH: return LM_ACT_TANH;
    default: return LM_ACT_NONE;
  }
}

loom_activation lm_epilogue_part(loom_activation act) {
  const lm_activation_info *a = lm_activation_get(act);
  return a && a->epilogue ? act : LOOM_LINEAR;
}

loom_tensor *lm_activation_tail(loom_ctx *cx, loom_tensor *y, loom_activation act) {
  return lm_epilogue_part(act) == act ? y : lm_apply_activation(cx, y, act);
}

void lm_activation_finish(loom_activation act, float *y, size_t rows, size_t cols) {
  if (act == LOOM_SOFTMAX) lm_k_softmax(y, y, rows, cols);
}

const float *lm_activation_grad(loom_ctx *cx, const char *op, loom_activation act, const float *y,
                                const float *dy, size_t rows, size_t cols) {
  if (act == LOOM_LINEAR || act == LOOM_ACTIVATION_DEFAULT) return dy;
  const size_t n = rows * cols;
  float *dz = lm_scratch_f32(cx, op, (int64_t)n, 1);
  if (!dz) return NULL;
  memset(dz, 0, n * sizeof(float));
  switch (act) {
    case LOOM_RELU: lm_k_relu_grad(y, dy, dz, n); break;
    case LOOM_SIGMOID: lm_k_sigmoid_grad(y, dy, dz, n); break;
    case LOOM_TANH: lm_k_tanh_grad(y, dy, dz, n); break;
    default: lm_k_softmax_grad(y, dy, dz, rows, cols); break;
  }
  return dz;
}

void lm_bias_grad(const float *dz, size_t rows, size_t cols, float *gb) {
  for (size_t i = 0; i < rows; ++i) lm_k_axpy(1.0f, dz + i * cols, gb, cols);
}

loom_tensor *lm_apply_activation(loom_ctx *cx, loom_tensor *z, loom_activation act) {
  switch (act) {
    case LOOM_ACTIVATION_DEFAULT:
    case LOOM_LINEAR: return z;
    case LOOM_RELU: return loom_relu(cx, z);
    case LOOM_SIGMOID: return loom_sigmoid(cx, z);
    case LOOM_TANH: return loom_tanh(cx, z);
    case LOOM_SOFTMAX: return loom_softmax(cx, z);
    default: break;
  }
  const lm_activation_info *a = lm_activation_get(act);
  if (!a) {
    if (z) lm_fail(cx, LOOM_EINVAL, "loom_activate", "unknown activation %d", (int)act);
    return NULL;
  }
  return lm_act_op(cx, "loom_activate", z, a->fn, &a->p);
}

loom_tensor *loom_activate(loom_ctx *cx, loom_tensor *x, loom_activation act) {
  return lm_apply_activation(cx, x, act);
}
