/* data.c - the data given to fit / evaluate / predict: matched to the model's inputs
 * and outputs by position or by name, checked before anything runs, and cut into
 * batches. */
#include <string.h>

#include <math.h>

#include "lib/graph/model.h"
#include "lib/layers/kind.h"
#include "simd/simd.h"

static const char *dt_name(loom_dtype t) { return t == LOOM_I32 ? "int32" : "float32"; }

static const char *tensor_msg(const loom_tensor *t, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < t->rank && k < cap; ++i)
    k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
  if (k < cap) snprintf(buf + k, cap - k, "]");
  return buf;
}

/* Place the tensors given by position or by name into slot order. */
static int gather(loom_model *m, const char *what, const char *kind, loom_tensor *const *pos,
                  const loom_named_tensor *named, int n, const char *(*name_of)(const loom_model *, int),
                  loom_tensor **out) {
  int n_pos = 0, n_named = 0;
  while (n_pos < LOOM_MAX_IO && pos[n_pos]) ++n_pos;
  while (n_named < LOOM_MAX_IO && named[n_named].name) ++n_named;
  if (n_pos && n_named)
    return lm_graph_fail(m->g, LOOM_EINVAL, "%s: %s given both by position and by name", what, kind);
  for (int i = 0; i < n; ++i) out[i] = NULL;
  if (n_pos) {
    if (n_pos != n)
      return lm_graph_fail(m->g, LOOM_EINVAL, "%s: the model has %d %s%s, got %d", what, n, kind,
                           n == 1 ? "" : "s", n_pos);
    for (int i = 0; i < n; ++i) out[i] = pos[i];
    return LOOM_OK;
  }
  for (int k = 0; k < n_named; ++k) {
    int slot = -1;
    for (int i = 0; i < n; ++i)
      if (!strcmp(name_of(m, i), named[k].name)) slot = i;
    if (slot < 0) {
      char names[512] = "";
      for (int i = 0; i < n; ++i)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s\"%s\"", i ? ", " : "",
                 name_of(m, i));
      return lm_graph_fail(m->g, LOOM_EINVAL, "%s: \"%s\" is no %s of model \"%s\" (its %ss: %s)",
                           what, named[k].name, kind, m->layer->name, kind, names);
    }
    if (out[slot])
      return lm_graph_fail(m->g, LOOM_EINVAL, "%s: %s \"%s\" is given twice", what, kind,
                           named[k].name);
    if (!named[k].tensor)
      return lm_graph_fail(m->g, LOOM_EINVAL, "%s: %s \"%s\" is NULL", what, kind, named[k].name);
    out[slot] = named[k].tensor;
  }
  for (int i = 0; i < n; ++i)
    if (!out[i])
      return lm_graph_fail(m->g, LOOM_EINVAL, "%s: no data for %s \"%s\"", what, kind, name_of(m, i));
  return LOOM_OK;
}

/* t must hold samples of node x (dims after the batch equal where x knows them). */
static int check_fits(loom_model *m, const char *what, const char *kind, const char *name,
                      const loom_tensor *t, const lm_shape *want, loom_dtype dtype) {
  char a[96], b[96];
  bool fit = t->rank == want->rank && t->rank >= 1;
  for (int k = 1; fit && k < want->rank; ++k) fit = want->d[k] == LOOM_NONE || want->d[k] == t->shape[k];
  if (!fit)
    return lm_graph_fail(m->g, LOOM_ESHAPE, "%s: %s \"%s\" expects %s, got %s", what, kind, name,
                         lm_shape_msg(want, a, sizeof a), tensor_msg(t, b, sizeof b));
  if (t->dtype != dtype)
    return lm_graph_fail(m->g, LOOM_EDTYPE, "%s: %s \"%s\" expects %s data, got %s", what, kind,
                         name, dt_name(dtype), dt_name(t->dtype));
  return LOOM_OK;
}

/* Every value of an f32 tensor finite: a NaN or Inf would turn the weights to NaN behind a
 * loss that the cross-entropy's clip keeps finite. */
static int check_finite(loom_model *m, const char *what, const char *kind, const char *name,
                        const loom_tensor *t) {
  const float *v = t->data;
  /* a sum is finite only when every element is (NaN and Inf propagate): one vector pass;
   * the exact scan runs only to name the element, or when a finite sum overflowed */
  if (isfinite(lm_k_sum(v, (size_t)t->size))) return LOOM_OK;
  const int64_t row = t->shape[0] ? t->size / t->shape[0] : 0;
  for (int64_t i = 0; i < t->size; ++i)
    if (!isfinite(v[i]))
      return lm_graph_fail(m->g, LOOM_EINVAL, "%s: %s \"%s\" holds %s at sample %lld (value %lld of "
                           "the sample): the data must be finite", what, kind, name,
                           isnan(v[i]) ? "NaN" : "Inf", (long long)(i / row), (long long)(i % row));
  return LOOM_OK;
}

/* Ids of an int32 input that reaches a kind with a limit (an Embedding, here or inside a
 * nested model) must lie in [0, limit): checked before any step, not when their batch
 * comes, after earlier steps changed the weights. */
static int check_ids(loom_model *top, const loom_model *m, const loom_node *x, const char *what,
                     const char *name, const loom_tensor *t) {
  for (int i = 0; i < m->n_order; ++i) {
    const lm_call *c = m->order[i];
    for (int k = 0; k < c->n_in; ++k) {
      if (c->in[k] != x) continue;
      const loom_layer *l = c->layer;
      if (l->model) {
        const int st = check_ids(top, l->model, l->model->in[k], what, name, t);
        if (st) return st;
        continue;
      }
      if (!l->kind->ids_below) continue;
      const int64_t below = l->kind->ids_below(l), row = t->shape[0] ? t->size / t->shape[0] : 0;
      const int32_t *id = t->data;
      for (int64_t j = 0; j < t->size; ++j)
        if (id[j] < 0 || id[j] >= below)
          return lm_graph_fail(top->g, LOOM_EINVAL, "%s: input \"%s\", sample %lld: id %d is outside "
                               "[0, %lld) of layer \"%s\" (%s)", what, name, (long long)(j / row), id[j],
                               (long long)below, l->name, l->kind->class_name);
    }
  }
  return LOOM_OK;
}

/* Sparse targets are class ids of the output's last axis. */
static int check_classes(loom_model *m, const char *what, int out_i, const loom_tensor *t) {
  const int64_t classes = m->out[out_i]->shape.d[m->out[out_i]->shape.rank - 1];
  const int64_t row = t->shape[0] ? t->size / t->shape[0] : 0;
  const int32_t *id = t->data;
  for (int64_t j = 0; classes > 0 && j < t->size; ++j)
    if (id[j] < 0 || id[j] >= classes)
      return lm_graph_fail(m->g, LOOM_EINVAL, "%s: output \"%s\", sample %lld: class id %d is outside "
                           "[0, %lld)", what, loom_model_output_name(m, out_i), (long long)(j / row), id[j],
                           (long long)classes);
  return LOOM_OK;
}

/* The values, once the shapes fit: finite floats, ids the layers can take. */
static int check_values(loom_model *m, const char *what, const lm_dataset *ds) {
  int st = LOOM_OK;
  for (int i = 0; !st && i < m->n_in; ++i) {
    const char *name = loom_model_input_name(m, i);
    st = ds->x[i]->dtype == LOOM_F32 ? check_finite(m, what, "input", name, ds->x[i])
                                     : check_ids(m, m, m->in[i], what, name, ds->x[i]);
  }
  for (int i = 0; !st && ds->has_y && i < m->n_out; ++i)
    st = ds->y[i]->dtype == LOOM_F32 ? check_finite(m, what, "output", loom_model_output_name(m, i), ds->y[i])
                                     : check_classes(m, what, i, ds->y[i]);
  return st;
}

int lm_data_resolve(loom_model *m, const loom_data *d, bool need_y, const char *what,
                    lm_dataset *out) {
  memset(out, 0, sizeof *out);
  if (!d) return lm_graph_fail(m->g, LOOM_EINVAL, "%s: data is NULL", what);
  int st = gather(m, what, "input", d->x, d->x_by_name, m->n_in, loom_model_input_name, out->x);
  for (int i = 0; !st && i < m->n_in; ++i)
    st = check_fits(m, what, "input", loom_model_input_name(m, i), out->x[i], &m->in[i]->shape,
                    m->in[i]->dtype);
  if (st) return st;
  out->samples = out->x[0]->shape[0];
  if (out->samples == 0)
    return lm_graph_fail(m->g, LOOM_EINVAL, "%s: 0 samples in input \"%s\"", what, loom_model_input_name(m, 0));
  const bool any_y = d->y[0] || d->y_by_name[0].name;
  if (need_y && !any_y) return lm_graph_fail(m->g, LOOM_EINVAL, "%s: no targets (y) given", what);
  if (any_y) {
    st = gather(m, what, "output", d->y, d->y_by_name, m->n_out, loom_model_output_name, out->y);
    for (int i = 0; !st && i < m->n_out; ++i) {
      lm_shape want = m->out[i]->shape;
      loom_dtype dt = LOOM_F32;
      if (m->spec[i].loss == LM_LOSS_SPARSE_CCE) { /* class ids: the output's shape less its last axis */
        want.rank--, dt = LOOM_I32;
        if (out->y[i]->rank == want.rank + 1 && out->y[i]->shape[want.rank] == 1) want.d[want.rank++] = 1;
      }
      st = check_fits(m, what, "output", loom_model_output_name(m, i), out->y[i], &want, dt);
    }
    if (st) return st;
    out->has_y = true;
  }
  for (int i = 0; i < m->n_in + (out->has_y ? m->n_out : 0); ++i) {
    const loom_tensor *t = i < m->n_in ? out->x[i] : out->y[i - m->n_in];
    if (t->shape[0] != out->samples)
      return lm_graph_fail(m->g, LOOM_ESHAPE, "%s: %s \"%s\" has %lld samples, input \"%s\" has %lld",
                           what, i < m->n_in ? "input" : "output",
                           i < m->n_in ? loom_model_input_name(m, i) : loom_model_output_name(m, i - m->n_in),
                           (long long)t->shape[0], loom_model_input_name(m, 0), (long long)out->samples);
  }
  return check_values(m, what, out);
}

loom_tensor *lm_take_rows(loom_arena *a, const loom_tensor *t, const int64_t *idx, int64_t n) {
  int64_t shape[LOOM_MAX_RANK];
  memcpy(shape, t->shape, sizeof shape);
  shape[0] = n;
  loom_tensor *b = loom_tensor_new(a, t->dtype, t->rank, shape);
  if (!b) return NULL;
  const size_t row = t->shape[0] ? (size_t)(t->size / t->shape[0]) * 4 : 0; /* f32 and i32: 4 bytes */
  for (int64_t i = 0; i < n; ++i)
    memcpy((char *)b->data + (size_t)i * row, (const char *)t->data + (size_t)idx[i] * row, row);
  return b;
}

loom_tensor *loom_to_categorical(loom_arena *arena, const loom_tensor *ids, int classes) {
  static const char fn[] = "loom_to_categorical";
  if (!arena || !ids || classes <= 0 || ids->dtype != LOOM_I32 || ids->rank >= LOOM_MAX_RANK) {
    lm_error(LOOM_EINVAL, fn, "needs an arena, i32 ids of rank < %d and classes > 0", LOOM_MAX_RANK);
    return NULL;
  }
  const int32_t *id = ids->data;
  for (int64_t i = 0; i < ids->size; ++i)
    if (id[i] < 0 || id[i] >= classes) {
      lm_error(LOOM_EINVAL, fn, "id %d at [%lld] is outside [0, %d)", id[i], (long long)i, classes);
      return NULL;
    }
  int64_t shape[LOOM_MAX_RANK];
  memcpy(shape, ids->shape, sizeof shape);
  shape[ids->rank] = classes;
  loom_tensor *t = loom_tensor_new(arena, LOOM_F32, ids->rank + 1, shape);
  if (!t) return NULL;
  float *v = t->data;
  for (int64_t i = 0; i < ids->size; ++i) v[i * classes + id[i]] = 1.0f;
  return t;
}
