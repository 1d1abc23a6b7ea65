/* step.c - one step on one batch: forward in the step context, the weighted sum of the
 * outputs' losses, backward, the optimiser's update of every weight, the metrics. After
 * the first step of a batch size everything lives in arenas already held: no malloc. */
#include "lib/graph/model.h"
#include "simd/optim.h"

static loom_tensor *loss_of(loom_ctx *cx, const lm_output_spec *s, loom_tensor *y, const loom_node *out) {
  loom_tensor *p = s->logits && out->logits ? out->logits : out->value;
  const bool lg = p == out->logits;
  switch (s->loss) {
    case LM_LOSS_MSE: return loom_loss_mse(cx, y, p);
    case LM_LOSS_MAE: return loom_loss_mae(cx, y, p);
    case LM_LOSS_BCE:
      return lg ? loom_loss_binary_crossentropy_logits(cx, y, p) : loom_loss_binary_crossentropy(cx, y, p);
    case LM_LOSS_CCE:
      return lg ? loom_loss_categorical_crossentropy_logits(cx, y, p)
                : loom_loss_categorical_crossentropy(cx, y, p);
    case LM_LOSS_SPARSE_CCE:
      return lg ? loom_loss_sparse_categorical_crossentropy_logits(cx, y, p)
                : loom_loss_sparse_categorical_crossentropy(cx, y, p);
    default: return NULL;
  }
}

static loom_tensor *metric_of(loom_ctx *cx, lm_metric_kind k, loom_tensor *y, loom_tensor *p) {
  switch (k) {
    case LM_METRIC_BINARY_ACC: return loom_metric_binary_accuracy(cx, y, p);
    case LM_METRIC_CATEGORICAL_ACC: return loom_metric_categorical_accuracy(cx, y, p);
    case LM_METRIC_SPARSE_ACC: return loom_metric_sparse_categorical_accuracy(cx, y, p);
    case LM_METRIC_MAE: {
      const bool was = loom_ctx_training(cx); /* a metric records nothing */
      loom_ctx_set_training(cx, false);
      loom_tensor *v = loom_loss_mae(cx, y, p);
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
  for (int i = 0; i < m->n_out; ++i) {
    loom_tensor *l = loss_of(cx, &m->spec[i], y[i], m->out[i]);
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
      loom_tensor *v = metric_of(cx, m->spec[i].metric[j], y[i], m->out[i]->value);
      if (!v) return step_fail(m);
      out->v[k++] = loom_tensor_f32(v)[0];
    }
  return LOOM_OK;
}
