/* wrappers.c - TimeDistributed and Bidirectional: layers that run other layers (l->sub)
 * inside their own calls and hold those layers' weights as their own (TimeDistributed
 * under the wrapped layer's names, Bidirectional as forward_<name>/kernel, ...). */
#include <stdio.h>
#include <string.h>

#include "lib/layers/layer.h"
#include "ops/ops.h"

static bool is_recurrent(const loom_layer *l) {
  const lm_kind_id id = l->kind->id;
  return id == LM_KIND_LSTM || id == LM_KIND_GRU || id == LM_KIND_SIMPLE_RNN;
}

/* A layer that may be wrapped: given, of this graph, a plain layer, never called, not
 * wrapped yet. */
static int check_wrappable(loom_graph *g, const lm_layer_kind *k, const void *o, const loom_layer *w,
                           const char *what) {
  if (!w) return lm_opts_fail(g, k, o, LOOM_EINVAL, "%s is NULL (an earlier error?)", what);
  if (w->g != g) return lm_opts_fail(g, k, o, LOOM_EINVAL, "%s \"%s\" belongs to another graph", what, w->name);
  if (w->model || !w->kind->build)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "%s \"%s\" (%s) cannot be wrapped: not yet for models and inputs", what,
                        w->name, w->kind->class_name);
  if (w->n_calls)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "%s \"%s\" has been called already: wrap a layer not yet called", what,
                        w->name);
  if (w->wrapper)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "%s \"%s\" is wrapped by %s \"%s\" already", what, w->name,
                        w->wrapper->kind->class_name, w->wrapper->name);
  return LOOM_OK;
}

/* The sub-layer's weights become the wrapper's, named "<sub>/<weight>" with prefix. */
static int adopt_weights(loom_layer *l, const loom_layer *sub, bool prefix) {
  for (int k = 0; k < sub->n_weights; ++k) {
    if (l->n_weights == LM_MAX_WEIGHTS)
      return lm_layer_fail(l, LOOM_EINVAL, "the layers it wraps hold more than %d weights", LM_MAX_WEIGHTS);
    const char *name = sub->w_name[k];
    if (prefix) {
      const size_t len = strlen(sub->name) + strlen(name) + 2;
      char *s = loom_arena_alloc(l->g->params, len);
      if (!s) return lm_layer_fail(l, LOOM_ENOMEM, "out of memory naming %s", name);
      snprintf(s, len, "%s/%s", sub->name, name);
      name = s;
    }
    l->w[l->n_weights] = sub->w[k];
    l->w_trainable[l->n_weights] = sub->w_trainable[k];
    l->w_name[l->n_weights++] = name;
  }
  return LOOM_OK;
}

/* Build a wrapped layer on symbolic inputs (its first build adopts its weights). */
static int build_sub(loom_layer *l, loom_layer *sub, int n, loom_node *const *in, int *n_out, lm_shape *out,
                     loom_dtype *dt, bool prefix) {
  if (n < sub->kind->min_in || n > sub->kind->max_in)
    return lm_layer_fail(l, LOOM_EINVAL, "%s \"%s\" takes %d to %d inputs, got %d", sub->kind->class_name, sub->name,
                         sub->kind->min_in, sub->kind->max_in, n);
  for (int i = 0; i < LOOM_MAX_IO; ++i) dt[i] = LOOM_F32;
  *n_out = 1;
  const bool first = !sub->built;
  const int st = sub->kind->build(sub, n, in, n_out, out, dt);
  if (st) return st; /* the error names the wrapped layer */
  sub->built = true;
  return first ? adopt_weights(l, sub, prefix) : LOOM_OK;
}

/* A run of a wrapped layer: no folding into it, no fused ReLU after it. */
static lm_run sub_run(const lm_run *run, bool logits) {
  lm_run r = *run;
  r.fold = NULL;
  r.relu_after = false;
  r.want_logits = logits && run->want_logits;
  r.zero_output_for_mask = false;
  return r;
}

static int sub_forward(loom_layer *sub, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                       loom_tensor **logits) {
  const int st = sub->kind->forward(sub, run, n, in, out, logits);
  if (st || !out[0]) return st ? st : loom_ctx_status(run->cx) ? loom_ctx_status(run->cx) : LOOM_EINVAL;
  return LOOM_OK;
}

/* ---------------------------------------------------------------- TimeDistributed */

static int td_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_time_distributed_opts *o = opts;
  return check_wrappable(g, k, o, o->layer, "layer");
}

static int td_made(loom_layer *l) {
  loom_layer *sub = l->o.td.layer;
  l->sub[0] = sub;
  l->n_sub = 1;
  sub->wrapper = l;
  return LOOM_OK;
}

static int td_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  (void)n;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 3, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  loom_node step = *x; /* one step of every sample: [batch * steps, ...] */
  step.shape.rank = x->shape.rank - 1;
  for (int d = 1; d < step.shape.rank; ++d) step.shape.d[d] = x->shape.d[d + 1];
  loom_node *const step_in[1] = {&step};
  lm_shape sub_out[LOOM_MAX_IO];
  loom_dtype sub_dt[LOOM_MAX_IO];
  int sub_n = 1;
  const int st = build_sub(l, l->sub[0], 1, step_in, &sub_n, sub_out, sub_dt, false);
  if (st) return st;
  if (sub_n != 1 || sub_dt[0] != LOOM_F32 || sub_out[0].rank + 1 > LOOM_MAX_RANK)
    return lm_layer_fail(l, LOOM_EINVAL, "%s \"%s\" must give one float output of rank < %d per step",
                         l->sub[0]->kind->class_name, l->sub[0]->name, LOOM_MAX_RANK);
  out[0] = (lm_shape){sub_out[0].rank + 1, {LOOM_NONE, x->shape.d[1]}};
  for (int d = 1; d < sub_out[0].rank; ++d) out[0].d[d + 1] = sub_out[0].d[d];
  *n_out = 1;
  dt[0] = LOOM_F32;
  return LOOM_OK;
}

/* [b * t, ...] back to [b, t, ...] */
static loom_tensor *unfold_steps(loom_ctx *cx, loom_tensor *y, int64_t b, int64_t t) {
  int64_t shape[LOOM_MAX_RANK] = {b, t};
  for (int d = 1; d < y->rank; ++d) shape[d + 1] = y->shape[d];
  return loom_reshape(cx, y, y->rank + 1, shape);
}

static int td_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                      loom_tensor **logits) {
  (void)n;
  loom_tensor *x = in[0];
  const int64_t B = x->shape[0], T = x->shape[1];
  int64_t shape[LOOM_MAX_RANK] = {B * T};
  for (int d = 2; d < x->rank; ++d) shape[d - 1] = x->shape[d];
  loom_tensor *xs = loom_reshape(run->cx, x, x->rank - 1, shape);
  if (!xs) return loom_ctx_status(run->cx);
  loom_tensor *ys[LOOM_MAX_IO] = {0}, *zs[LOOM_MAX_IO] = {0};
  lm_run r = sub_run(run, true);
  r.mask = NULL; /* the steps' mask stays on the wrapper's output; one step has none */
  const int st = sub_forward(l->sub[0], &r, 1, &xs, ys, zs);
  if (st) return st;
  out[0] = unfold_steps(run->cx, ys[0], B, T);
  if (zs[0]) logits[0] = unfold_steps(run->cx, zs[0], B, T);
  return loom_ctx_status(run->cx);
}

/* What the wrapped layer ends in (compile's logits rule) */
static loom_activation td_activation(const loom_layer *l) {
  const loom_layer *sub = l->sub[0];
  return sub->kind->activation ? sub->kind->activation(sub) : LOOM_LINEAR;
}

static const lm_opt td_opts[] = {LM_OPT(loom_time_distributed_opts, layer, "layer", LM_OPT_LAYER, 0, 0), LM_OPTS_END};

const lm_layer_kind lm_kind_time_distributed = {
    .id = LM_KIND_TIME_DISTRIBUTED, .class_name = "TimeDistributed", .prefix = "time_distributed", .min_in = 1,
    .max_in = 1, .opts_size = sizeof(loom_time_distributed_opts),
    .name_offset = offsetof(loom_time_distributed_opts, name), .opts = td_opts, .check = td_check, .made = td_made,
    .build = td_build, .forward = td_forward, .activation = td_activation, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_time_distributed(loom_graph *g, const loom_time_distributed_opts *o) {
  return lm_layer_make(g, &lm_kind_time_distributed, o);
}

/* ---------------------------------------------------------------- Bidirectional */

static int bidir_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_bidirectional_opts *o = opts;
  if ((unsigned)o->merge_mode > LOOM_MERGE_NONE)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "merge_mode %d is none of LOOM_MERGE_CONCAT, _SUM, _MUL, _AVE, _NONE",
                        (int)o->merge_mode);
  if (!o->merge_mode) o->merge_mode = LOOM_MERGE_CONCAT;
  int st = check_wrappable(g, k, o, o->layer, "layer");
  if (st) return st;
  if (!is_recurrent(o->layer))
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "wraps an LSTM, GRU or SimpleRNN; \"%s\" is a %s", o->layer->name,
                        o->layer->kind->class_name);
  const loom_layer *b = o->backward_layer;
  if (!b) return o->layer->o.rnn.go_backwards
                    ? lm_opts_fail(g, k, o, LOOM_EINVAL, "layer \"%s\" goes backwards: the backward layer made from "
                                   "it would too (give backward_layer)", o->layer->name)
                    : LOOM_OK;
  if (b == o->layer) return lm_opts_fail(g, k, o, LOOM_EINVAL, "layer and backward_layer are the same layer");
  if ((st = check_wrappable(g, k, o, b, "backward_layer"))) return st;
  const loom_rnn_opts *f = &o->layer->o.rnn, *r = &b->o.rnn;
  if (b->kind != o->layer->kind)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "backward_layer \"%s\" is a %s and layer \"%s\" a %s: not yet for two kinds",
                        b->name, b->kind->class_name, o->layer->name, o->layer->kind->class_name);
  if (f->go_backwards == r->go_backwards)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "layer and backward_layer must differ in go_backwards (both %s)",
                        f->go_backwards ? "true" : "false");
  if (f->return_sequences != r->return_sequences || f->return_state != r->return_state)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "layer and backward_layer must agree on return_sequences and return_state");
  return LOOM_OK;
}

/* The layer `from` made again as "<prefix><name without prefix>", unless it is so named. */
static loom_layer *renamed(loom_layer *l, loom_layer *from, const char *prefix, bool go_backwards) {
  const size_t np = strlen(prefix);
  const char *base = strncmp(from->name, prefix, np) ? from->name : from->name + np;
  char name[80];
  snprintf(name, sizeof name, "%s%s", prefix, base);
  if (!strcmp(name, from->name)) return from;
  loom_rnn_opts o = from->o.rnn;
  o.name = name;
  o.go_backwards = go_backwards || o.go_backwards;
  loom_layer *made = lm_layer_make(l->g, from->kind, &o);
  if (!made) lm_layer_fail(l, l->g->status, "%s", l->g->err);
  return made;
}

static int bidir_made(loom_layer *l) {
  loom_bidirectional_opts *o = &l->o.bidir;
  loom_layer *fwd = renamed(l, o->layer, "forward_", false);
  loom_layer *bwd = !fwd ? NULL : o->backward_layer ? o->backward_layer : renamed(l, o->layer, "backward_", true);
  if (!bwd) return l->g->status;
  l->sub[0] = fwd, l->sub[1] = bwd;
  l->n_sub = 2;
  fwd->wrapper = bwd->wrapper = l;
  o->layer = fwd; /* the config holds both, as Keras 3 writes it */
  o->backward_layer = bwd;
  return LOOM_OK;
}

static int bidir_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  loom_layer *fwd = l->sub[0], *bwd = l->sub[1];
  const int ns = lm_rnn_states(fwd);
  if (n != 1 && n != 1 + 2 * ns)
    return lm_layer_fail(l, LOOM_EINVAL, "takes [x] or [x, %d forward state%s, %d backward state%s], got %d inputs", ns,
                         ns > 1 ? "s" : "", ns, ns > 1 ? "s" : "", n);
  loom_node *fin[LOOM_MAX_IO] = {in[0]}, *bin[LOOM_MAX_IO] = {in[0]};
  for (int i = 1; i < n; ++i) {
    if (i <= ns) fin[i] = in[i];
    else bin[i - ns] = in[i];
  }
  const int nd = n > 1 ? 1 + ns : 1;
  lm_shape fo[LOOM_MAX_IO], bo[LOOM_MAX_IO];
  loom_dtype fd[LOOM_MAX_IO], bd[LOOM_MAX_IO];
  int nf = 1, nb = 1, st = build_sub(l, fwd, nd, fin, &nf, fo, fd, true);
  if (st || (st = build_sub(l, bwd, nd, bin, &nb, bo, bd, true))) return st;
  const loom_merge_mode mode = l->o.bidir.merge_mode;
  int k = 0;
  if (mode == LOOM_MERGE_NONE) {
    out[k++] = fo[0];
    out[k++] = bo[0];
  } else {
    out[k] = fo[0];
    const int last = fo[0].rank - 1;
    if (mode == LOOM_MERGE_CONCAT) out[k].d[last] = fo[0].d[last] + bo[0].d[last];
    else if (fo[0].d[last] != bo[0].d[last])
      return lm_layer_fail(l, LOOM_ESHAPE, "merge_mode %s needs outputs of one size: %lld and %lld units",
                           mode == LOOM_MERGE_SUM ? "sum" : mode == LOOM_MERGE_MUL ? "mul" : "ave",
                           (long long)fo[0].d[last], (long long)bo[0].d[last]);
    ++k;
  }
  for (int i = 1; i < nf; ++i) out[k++] = fo[i];
  for (int i = 1; i < nb; ++i) out[k++] = bo[i];
  for (int i = 0; i < k; ++i) dt[i] = LOOM_F32;
  *n_out = k;
  return LOOM_OK;
}

static int bidir_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                         loom_tensor **logits) {
  (void)logits;
  loom_layer *fwd = l->sub[0], *bwd = l->sub[1];
  loom_ctx *cx = run->cx;
  const int ns = lm_rnn_states(fwd), nd = n > 1 ? 1 + ns : 1;
  loom_tensor *fin[LOOM_MAX_IO] = {in[0]}, *bin[LOOM_MAX_IO] = {in[0]};
  for (int i = 1; i < n; ++i) {
    if (i <= ns) fin[i] = in[i];
    else bin[i - ns] = in[i];
  }
  loom_tensor *yf[LOOM_MAX_IO] = {0}, *yb[LOOM_MAX_IO] = {0}, *z[LOOM_MAX_IO] = {0};
  lm_run r = sub_run(run, false);
  r.zero_output_for_mask = fwd->o.rnn.return_sequences; /* Keras' force_zero_output_for_mask */
  int st = sub_forward(fwd, &r, nd, fin, yf, z);
  if (st || (st = sub_forward(bwd, &r, nd, bin, yb, z))) return st;
  loom_tensor *back = fwd->o.rnn.return_sequences ? loom_reverse_steps(cx, yb[0]) : yb[0];
  if (!back) return loom_ctx_status(cx);
  loom_tensor *both[2] = {yf[0], back};
  int k = 1;
  switch (l->o.bidir.merge_mode) {
  case LOOM_MERGE_SUM: out[0] = loom_add(cx, yf[0], back); break;
  case LOOM_MERGE_MUL: out[0] = loom_mul(cx, yf[0], back); break;
  case LOOM_MERGE_AVE: out[0] = loom_average_n(cx, 2, both); break;
  case LOOM_MERGE_NONE:
    out[0] = yf[0], out[1] = back;
    k = 2;
    break;
  default: out[0] = loom_concatenate(cx, 2, both, -1); break;
  }
  if (fwd->o.rnn.return_state)
    for (int i = 1; i <= ns; ++i) out[k - 1 + i] = yf[i], out[k - 1 + ns + i] = yb[i];
  return loom_ctx_status(cx);
}

/* Keras' Bidirectional.compute_mask: the input's mask on the output(s) with the steps */
static int bidir_masked_outputs(const loom_layer *l) {
  return !l->sub[0]->o.rnn.return_sequences ? 0 : l->o.bidir.merge_mode == LOOM_MERGE_NONE ? 2 : 1;
}

static const lm_opt bidir_opts[] = {LM_OPT(loom_bidirectional_opts, layer, "layer", LM_OPT_LAYER, 0, 0),
                                    LM_OPT(loom_bidirectional_opts, merge_mode, "merge_mode", LM_OPT_MERGE, 0, 0),
                                    LM_OPT(loom_bidirectional_opts, backward_layer, "backward_layer", LM_OPT_LAYER, 0, 0),
                                    LM_OPTS_END};

const lm_layer_kind lm_kind_bidirectional = {
    .id = LM_KIND_BIDIRECTIONAL, .class_name = "Bidirectional", .prefix = "bidirectional", .min_in = 1, .max_in = 5,
    .opts_size = sizeof(loom_bidirectional_opts), .name_offset = offsetof(loom_bidirectional_opts, name),
    .opts = bidir_opts, .check = bidir_check, .made = bidir_made, .build = bidir_build, .forward = bidir_forward,
    .mask = LM_MASK_SEQUENCE, .masked_outputs = bidir_masked_outputs};

loom_layer *loom_layer_bidirectional(loom_graph *g, const loom_bidirectional_opts *o) {
  return lm_layer_make(g, &lm_kind_bidirectional, o);
}
