/* step.c - one step on one batch: forward in the step context, the weighted sum of the
 * outputs' losses, backward, the optimiser's update of every weight, the metrics. After
 * the first step of a batch size everything lives in arenas already held: no malloc. */
#include "lib/graph/model.h"
#include "ops/loss.h"
#include "simd/optim.h"

/* An output's weights per row of its loss (NULL: none): with Keras' mask still on it,
 * mask * rows / valid for the loss (its mean over the valid rows, Keras' apply_mask) and
 * the mask itself for the metrics. NULL with the graph's error when the mask does not
 * line up with the loss's rows. */
typedef struct {
  const float *loss, *metric;
} row_weights;

static int output_weights(loom_model *m, int i, row_weights *w) {
  *w = (row_weights){0};
  const loom_node *out = m->out[i];
  if (!out->mask_from || !out->mask) return LOOM_OK;
  const loom_tensor *p = out->value, *mask = out->mask;
  const int64_t rows = p->rank ? p->size / p->shape[p->rank - 1] : 0;
  if (p->rank < 3 || mask->size != rows) {
    char sp[96], sm[96];
    return lm_graph_fail(m->g, LOOM_ESHAPE,
                         "output \"%s\" %s carries the mask %s of \"%s\", which does not line up with its loss's "
                         "rows (expected [batch, steps, ...] outputs)",
                         loom_model_output_name(m, i), lm_shape_str(p, sp, sizeof sp),
                         lm_shape_str(mask, sm, sizeof sm), out->mask_from->name);
  }
  float *lw = loom_arena_alloc(loom_ctx_arena(m->cx), (size_t)rows * sizeof(float));
  if (!lw) return lm_graph_fail(m->g, LOOM_ENOMEM, "%s", loom_arena_error(loom_ctx_arena(m->cx)));
  const float *mv = mask->data;
  int64_t valid = 0;
  for (int64_t r = 0; r < rows; ++r) valid += mv[r] != 0.0f;
  const float scale = valid ? (float)((double)rows / (double)valid) : 0.0f; /* Keras' divide_no_nan */
  for (int64_t r = 0; r < rows; ++r) lw[r] = mv[r] != 0.0f ? scale : 0.0f;
  *w = (row_weights){lw, mv};
  return LOOM_OK;
}

static loom_tensor *loss_of(loom_ctx *cx, const lm_output_spec *s, loom_tensor *y, const loom_node *out,
                            const float *w) {
  loom_tensor *p = s->logits && out->logits ? out->logits : out->value;
  const bool lg = p == out->logits;
  switch (s->loss) {
    case LM_LOSS_MSE: return lm_loss_mse_w(cx, y, p, w);
    case LM_LOSS_MAE: return lm_loss_mae_w(cx, y, p, w);
    case LM_LOSS_BCE: return lg ? lm_loss_bce_logits_w(cx, y, p, w) : lm_loss_bce_w(cx, y, p, w);
    case LM_LOSS_CCE: return lg ? lm_loss_cce_logits_w(cx, y, p, w) : lm_loss_cce_w(cx, y, p, w);
    case LM_LOSS_SPARSE_CCE: return lg ? lm_loss_scce_logits_w(cx, y, p, w) : lm_loss_scce_w(cx, y, p, w);
    default: return NULL;
  }
}

static loom_tensor *metric_of(loom_ctx *cx, lm_metric_kind k, loom_tensor *y, loom_tensor *p, const row_weights *w) {
  switch (k) {
    case LM_METRIC_BINARY_ACC: return lm_metric_binary_accuracy_w(cx, y, p, w->metric);
    case LM_METRIC_CATEGORICAL_ACC: return lm_metric_categorical_accuracy_w(cx, y, p, w->metric);
    case LM_METRIC_SPARSE_ACC: return lm_metric_sparse_categorical_accuracy_w(cx, y, p, w->metric);
    case LM_METRIC_MAE: {
      const bool was = loom_ctx_training(cx); /* a metric records nothing */
      loom_ctx_set_training(cx, false);
      loom_tensor *v = lm_loss_mae_w(cx, y, p, w->loss);
      loom_ctx_set_training(cx, was);
      return v;
    }
    default: return NULL;
  }
}

static void update(loom_model *m) {
  const loom_optimizer *o = &m->opt;
  ++m->step;
  for (int i = 0; i < m->n_weights; ++i) {
    loom_tensor *w = m->weights[i];
    if (!w->grad) continue; /* this batch did not reach it */
    const size_t n = (size_t)w->size;
    float *s1 = m->slot1[i] ? m->slot1[i]->data : NULL, *s2 = m->slot2[i] ? m->slot2[i]->data : NULL;
    switch (o->kind) {
      case LOOM_SGD: lm_k_sgd(w->data, w->grad, s1, n, o->learning_rate, o->momentum, o->nesterov); break;
      case LOOM_RMSPROP: lm_k_rmsprop(w->data, w->grad, s1, n, o->learning_rate, o->rho, o->epsilon); break;
      case LOOM_ADAM:
        lm_k_adam(w->data, w->grad, s1, s2, n, o->learning_rate, o->beta_1, o->beta_2, o->epsilon, m->step);
        break;
    }
  }
}

static int step_fail(loom_model *m) {
  const int st = loom_ctx_status(m->cx);
  if (st && m->g->status == LOOM_OK) lm_graph_fail(m->g, st, "%s", loom_ctx_error(m->cx));
  return st ? st : m->g->status ? m->g->status : LOOM_EINVAL;
}

int lm_step(loom_model *m, const lm_dataset *ds, const int64_t *idx, int64_t n, bool train,
            lm_step_values *out) {
  loom_ctx *cx = m->cx;
  loom_ctx_reset(cx);
  /* a weight shared with another model may still point at that model's last gradient
   * (its context forgets it only at its own next step): start from none */
  for (int i = 0; i < m->n_vars; ++i) m->weights[i]->grad = NULL;
  loom_ctx_set_training(cx, train);
  loom_arena *a = loom_ctx_arena(cx);
  loom_tensor *x[LOOM_MAX_IO], *y[LOOM_MAX_IO];
  for (int i = 0; i < m->n_in; ++i)
    if (!(x[i] = lm_take_rows(a, ds->x[i], idx, n)))
      return lm_graph_fail(m->g, LOOM_ENOMEM, "cannot hold a batch: %s", loom_arena_error(a));
  for (int i = 0; i < m->n_out; ++i)
    if (!(y[i] = lm_take_rows(a, ds->y[i], idx, n)))
      return lm_graph_fail(m->g, LOOM_ENOMEM, "cannot hold a batch: %s", loom_arena_error(a));
  bool logits[LOOM_MAX_IO];
  for (int i = 0; i < m->n_out; ++i) logits[i] = m->spec[i].logits;
  const lm_run run = {.cx = cx, .training = train};
  int st = lm_model_run(m, &run, x, logits);
  if (st) return st;
  loom_tensor *terms[LOOM_MAX_IO];
  double losses[LOOM_MAX_IO];
  row_weights rw[LOOM_MAX_IO];
  for (int i = 0; i < m->n_out; ++i)
    if ((st = output_weights(m, i, &rw[i]))) return st;
  for (int i = 0; i < m->n_out; ++i) {
    loom_tensor *l = loss_of(cx, &m->spec[i], y[i], m->out[i], rw[i].loss);
    if (!l) return step_fail(m);
    losses[i] = loom_tensor_f32(l)[0];
    terms[i] = l;
    if (m->spec[i].weight != 1.0f) {
      loom_tensor *w = loom_tensor_new(a, LOOM_F32, 0, NULL);
      if (!w) return lm_graph_fail(m->g, LOOM_ENOMEM, "%s", loom_arena_error(a));
      loom_tensor_f32(w)[0] = m->spec[i].weight;
      terms[i] = loom_mul(cx, l, w);
    }
  }
  loom_tensor *total = m->n_out == 1 ? terms[0] : loom_add_n(cx, m->n_out, terms);
  if (!total) return step_fail(m);
  if (train) {
    if (loom_backward(cx, total)) return step_fail(m);
    update(m);
  }
  int k = 0;
  out->v[k++] = loom_tensor_f32(total)[0];
  for (int i = 0; m->n_out > 1 && i < m->n_out; ++i) out->v[k++] = losses[i];
  for (int i = 0; i < m->n_out; ++i)
    for (int j = 0; j < m->spec[i].n_metrics; ++j) {
      loom_tensor *v = metric_of(cx, m->spec[i].metric[j], y[i], m->out[i]->value, &rw[i]);
      if (!v) return step_fail(m);
      out->v[k++] = loom_tensor_f32(v)[0];
    }
  return LOOM_OK;
}
