/* compile.c - compile(): the optimiser with Keras' defaults and its state, a loss and
 * a weight per output (one for all, by position or by output name), metrics, and the
 * names Keras reports them under. */
#include <stdlib.h>
#include <string.h>

#include "lib/graph/model.h"
#include "lib/layers/kind.h"
#include "ops/ops.h"

static lm_loss_kind loss_kind(const char *s) {
  if (!strcmp(s, "mse") || !strcmp(s, "mean_squared_error")) return LM_LOSS_MSE;
  if (!strcmp(s, "mae") || !strcmp(s, "mean_absolute_error")) return LM_LOSS_MAE;
  if (!strcmp(s, "binary_crossentropy")) return LM_LOSS_BCE;
  if (!strcmp(s, "categorical_crossentropy")) return LM_LOSS_CCE;
  if (!strcmp(s, "sparse_categorical_crossentropy")) return LM_LOSS_SPARSE_CCE;
  return LM_LOSS_NONE;
}

static int output_slot(loom_model *m, const char *name, const char *what) {
  for (int i = 0; i < m->n_out; ++i)
    if (!strcmp(loom_model_output_name(m, i), name)) return i;
  char names[512] = "";
  for (int i = 0; i < m->n_out; ++i)
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s\"%s\"", i ? ", " : "",
             loom_model_output_name(m, i));
  lm_graph_fail(m->g, LOOM_EINVAL, "compile: %s names \"%s\", which is no output of model \"%s\" "
                "(its outputs: %s)", what, name, m->layer->name, names);
  return -1;
}

static int set_loss(loom_model *m, int i, const char *name) {
  const lm_loss_kind k = name ? loss_kind(name) : LM_LOSS_NONE;
  if (!k)
    return lm_graph_fail(m->g, LOOM_EINVAL, "compile: unknown loss \"%s\" for output \"%s\" "
                         "(mse, mae, binary_crossentropy, categorical_crossentropy, "
                         "sparse_categorical_crossentropy)", name ? name : "(null)",
                         loom_model_output_name(m, i));
  m->spec[i].loss = k;
  return LOOM_OK;
}

static int add_metric(loom_model *m, int i, const char *name) {
  lm_output_spec *s = &m->spec[i];
  lm_metric_kind k;
  const loom_node *y = m->out[i];
  if (!strcmp(name, "acc") || !strcmp(name, "accuracy"))
    k = s->loss == LM_LOSS_SPARSE_CCE                ? LM_METRIC_SPARSE_ACC
        : y->shape.d[y->shape.rank - 1] == 1         ? LM_METRIC_BINARY_ACC
                                                     : LM_METRIC_CATEGORICAL_ACC;
  else if (!strcmp(name, "mae") || !strcmp(name, "mean_absolute_error"))
    k = LM_METRIC_MAE;
  else
    return lm_graph_fail(m->g, LOOM_EINVAL, "compile: unknown metric \"%s\" (acc, accuracy, mae)",
                         name);
  if (s->n_metrics == LM_MAX_METRICS)
    return lm_graph_fail(m->g, LOOM_EINVAL, "compile: more than %d metrics for output \"%s\"",
                         LM_MAX_METRICS, loom_model_output_name(m, i));
  s->metric[s->n_metrics] = k;
  /* a copy: the caller's string may be freed after compile */
  snprintf(s->metric_name[s->n_metrics++], sizeof s->metric_name[0], "%s",
           !strcmp(name, "mean_absolute_error") ? "mae" : name);
  return LOOM_OK;
}

static int resolve_losses(loom_model *m, const loom_compile_opts *o) {
  int n_pos = 0, n_named = 0, st = LOOM_OK;
  while (n_pos < LOOM_MAX_IO && o->losses[n_pos]) ++n_pos;
  while (n_named < LOOM_MAX_IO && o->loss_by_name[n_named].name) ++n_named;
  if (!!o->loss + !!n_pos + !!n_named != 1)
    return lm_graph_fail(m->g, LOOM_EINVAL, "compile: give the loss one way: .loss, .losses (by "
                         "position) or .loss_by_name");
  if (n_pos && n_pos != m->n_out)
    return lm_graph_fail(m->g, LOOM_EINVAL, "compile: %d losses for %d outputs", n_pos, m->n_out);
  for (int i = 0; !st && i < m->n_out; ++i)
    if (o->loss || n_pos) st = set_loss(m, i, o->loss ? o->loss : o->losses[i]);
  for (int k = 0; !st && k < n_named; ++k) {
    const int i = output_slot(m, o->loss_by_name[k].name, "loss_by_name");
    st = i < 0 ? m->g->status : set_loss(m, i, o->loss_by_name[k].value);
  }
  for (int i = 0; !st && i < m->n_out; ++i)
    if (!m->spec[i].loss)
      st = lm_graph_fail(m->g, LOOM_EINVAL, "compile: no loss for output \"%s\"",
                         loom_model_output_name(m, i));
  return st;
}

static int resolve_weights_and_metrics(loom_model *m, const loom_compile_opts *o) {
  int st = LOOM_OK;
  for (int i = 0; i < m->n_out; ++i) m->spec[i].weight = o->loss_weights ? o->loss_weights[i] : 1.0f;
  for (int k = 0; !st && k < LOOM_MAX_IO && o->loss_weight_by_name[k].name; ++k) {
    if (o->loss_weights)
      return lm_graph_fail(m->g, LOOM_EINVAL, "compile: loss weights given both by position and by name");
    const int i = output_slot(m, o->loss_weight_by_name[k].name, "loss_weight_by_name");
    if (i < 0) return m->g->status;
    m->spec[i].weight = o->loss_weight_by_name[k].value;
  }
  for (int i = 0; !st && i < m->n_out; ++i)
    for (int k = 0; !st && k < 8 && o->metrics[k]; ++k) st = add_metric(m, i, o->metrics[k]);
  for (int k = 0; !st && k < LOOM_MAX_IO && o->metric_by_name[k].name; ++k) {
    const int i = output_slot(m, o->metric_by_name[k].name, "metric_by_name");
    st = i < 0 ? m->g->status : add_metric(m, i, o->metric_by_name[k].value ? o->metric_by_name[k].value : "");
  }
  return st;
}

/* Keras: an output that ends in softmax (sigmoid) trained with categorical (binary)
 * cross-entropy takes the loss on the logits. */
static bool ends_in(const loom_node *y, loom_activation act) {
  const loom_layer *l = y->call->layer;
  return l->kind->activation && l->kind->activation(l) == act;
}

static void name_metrics(loom_model *m) {
  m->n_names = 0;
  snprintf(m->names[m->n_names++], sizeof m->names[0], "loss");
  const bool multi = m->n_out > 1;
  for (int i = 0; multi && i < m->n_out; ++i)
    snprintf(m->names[m->n_names++], sizeof m->names[0], "%s_loss", loom_model_output_name(m, i));
  for (int i = 0; i < m->n_out; ++i)
    for (int k = 0; k < m->spec[i].n_metrics; ++k) {
      if (multi)
        snprintf(m->names[m->n_names++], sizeof m->names[0], "%s_%s", loom_model_output_name(m, i),
                 m->spec[i].metric_name[k]);
      else
        snprintf(m->names[m->n_names++], sizeof m->names[0], "%s", m->spec[i].metric_name[k]);
    }
}

static int make_state(loom_model *m) {
  const loom_optimizer_kind k = m->opt.kind;
  const bool two = k == LOOM_ADAM, one = k == LOOM_RMSPROP || k == LOOM_ADAM ||
                                         (k == LOOM_SGD && m->opt.momentum != 0.0f);
  loom_tensor **s1 = calloc((size_t)m->n_weights + 1, sizeof *s1);
  loom_tensor **s2 = calloc((size_t)m->n_weights + 1, sizeof *s2);
  if (!s1 || !s2) {
    free(s1), free(s2);
    return lm_graph_fail(m->g, LOOM_ENOMEM, "compile: out of memory");
  }
  free(m->slot1), free(m->slot2);
  m->slot1 = s1, m->slot2 = s2;
  for (int i = 0; i < m->n_weights; ++i) {
    const loom_tensor *w = m->weights[i];
    if (one && !(s1[i] = loom_tensor_new(m->g->params, LOOM_F32, w->rank, w->shape)))
      return lm_graph_fail(m->g, LOOM_ENOMEM, "compile: optimiser state: %s", loom_arena_error(m->g->params));
    if (two && !(s2[i] = loom_tensor_new(m->g->params, LOOM_F32, w->rank, w->shape)))
      return lm_graph_fail(m->g, LOOM_ENOMEM, "compile: optimiser state: %s", loom_arena_error(m->g->params));
  }
  m->step = 0;
  if (!m->cx && !(m->cx = loom_ctx_new(NULL)))
    return lm_graph_fail(m->g, LOOM_ENOMEM, "compile: cannot make the step context");
  lm_ctx_reuse_grads(m->cx, true); /* only the weights' gradients are read after backward */
  return LOOM_OK;
}

loom_status loom_model_compile(loom_model *m, const loom_compile_opts *o) {
  if (!m || !o) return lm_error(LOOM_EINVAL, "loom_model_compile", "model or options NULL");
  loom_optimizer opt = o->optimizer;
  if ((unsigned)opt.kind > LOOM_ADAM)
    return lm_graph_fail(m->g, LOOM_EINVAL, "compile: unknown optimizer kind %d", (int)opt.kind);
  if (opt.learning_rate < 0 || opt.momentum < 0 || opt.rho < 0 || opt.epsilon < 0 ||
      opt.beta_1 < 0 || opt.beta_1 >= 1 || opt.beta_2 < 0 || opt.beta_2 >= 1 || opt.rho >= 1)
    return lm_graph_fail(m->g, LOOM_EINVAL, "compile: optimizer constants out of range");
  if (!opt.learning_rate) opt.learning_rate = opt.kind == LOOM_SGD ? 0.01f : 0.001f;
  if (!opt.rho) opt.rho = 0.9f;
  if (!opt.beta_1) opt.beta_1 = 0.9f;
  if (!opt.beta_2) opt.beta_2 = 0.999f;
  if (!opt.epsilon) opt.epsilon = 1e-7f;
  lm_output_spec saved[LOOM_MAX_IO];
  memcpy(saved, m->spec, sizeof saved);
  memset(m->spec, 0, sizeof m->spec);
  int st = resolve_losses(m, o);
  if (!st) st = resolve_weights_and_metrics(m, o);
  if (st) { /* a failed compile changes nothing */
    memcpy(m->spec, saved, sizeof saved);
    return st;
  }
  for (int i = 0; i < m->n_out; ++i) {
    lm_output_spec *s = &m->spec[i];
    s->logits = (s->loss == LM_LOSS_BCE && ends_in(m->out[i], LOOM_SIGMOID)) ||
                ((s->loss == LM_LOSS_CCE || s->loss == LM_LOSS_SPARSE_CCE) &&
                 ends_in(m->out[i], LOOM_SOFTMAX));
  }
  m->opt = opt;
  st = make_state(m);
  if (st) return st;
  name_metrics(m);
  m->compiled = true;
  return LOOM_OK;
}

int loom_model_num_metrics(const loom_model *m) { return m && m->compiled ? m->n_names : 0; }
const char *loom_model_metric_name(const loom_model *m, int i) {
  return m && m->compiled && i >= 0 && i < m->n_names ? m->names[i] : NULL;
}
