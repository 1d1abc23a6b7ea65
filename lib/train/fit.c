/* fit.c - fit / evaluate / predict: batches, epochs, shuffling, validation, Keras'
 * progress line, the history. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fileno */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/graph/model.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Keras' number format in logs: %.4f, or %.4e for magnitudes at or under 1e-3. */
static int put_value(char *buf, size_t cap, const char *key, double v) {
  return snprintf(buf, cap, fabs(v) > 1e-3 ? " - %s: %.4f" : " - %s: %.4e", key, v);
}

/* " 3ms/step" (sep " ") or " - 3ms/step" (sep " - "), as Keras picks the unit. */
static int put_rate(char *buf, size_t cap, const char *sep, double per, const char *unit) {
  if (per >= 1 || per == 0) return snprintf(buf, cap, "%s%.0fs/%s", sep, per, unit);
  if (per >= 1e-3) return snprintf(buf, cap, "%s%.0fms/%s", sep, per * 1e3, unit);
  return snprintf(buf, cap, "%s%.0fus/%s", sep, per * 1e6, unit);
}

typedef struct progress {
  FILE *f;
  loom_verbosity verbose;
  bool tty;
  int64_t target;
  double start;
  size_t last_width;
} progress;

static void progress_line(progress *p, const loom_model *m, int64_t step, const double *avg,
                          const double *val, bool final) {
  if (p->verbose == LOOM_SILENT || (p->verbose == LOOM_EPOCH_LINES && !final) ||
      (!p->tty && !final))
    return;
  char line[2048];
  size_t k = 0;
  const int digits = (int)floor(log10((double)(p->target > 0 ? p->target : 1))) + 1;
  const double elapsed = now_s() - p->start;
  k += (size_t)snprintf(line + k, sizeof line - k, "%*lld/%lld", digits, (long long)step,
                        (long long)p->target);
  if (p->verbose != LOOM_EPOCH_LINES) {
    char bar[40];
    const int width = (int)(30 * step / (p->target ? p->target : 1));
    int b = 0;
    bar[b++] = '[';
    for (int i = 0; i + 1 < width; ++i) bar[b++] = '=';
    if (width > 0) bar[b++] = step < p->target ? '>' : '=';
    for (int i = width; i < 30; ++i) bar[b++] = '.';
    bar[b++] = ']', bar[b] = '\0';
    k += (size_t)snprintf(line + k, sizeof line - k, " %s", bar);
  }
  if (!final) {
    const double eta = step ? elapsed / (double)step * (double)(p->target - step) : 0;
    if (eta > 3600)
      k += (size_t)snprintf(line + k, sizeof line - k, " - ETA: %d:%02d:%02d", (int)eta / 3600,
                            ((int)eta % 3600) / 60, (int)eta % 60);
    else if (eta > 60)
      k += (size_t)snprintf(line + k, sizeof line - k, " - ETA: %d:%02d", (int)eta / 60, (int)eta % 60);
    else
      k += (size_t)snprintf(line + k, sizeof line - k, " - ETA: %.0fs", eta);
  } else {
    k += (size_t)snprintf(line + k, sizeof line - k, " - %.0fs", elapsed);
    if (p->verbose != LOOM_EPOCH_LINES)
      k += (size_t)put_rate(line + k, sizeof line - k, " ", step ? elapsed / (double)step : 0, "step");
  }
  for (int i = 0; i < m->n_names && k < sizeof line; ++i)
    k += (size_t)put_value(line + k, sizeof line - k, m->names[i], avg[i]);
  for (int i = 0; val && i < m->n_names && k < sizeof line; ++i) {
    char key[96];
    snprintf(key, sizeof key, "val_%s", m->names[i]);
    k += (size_t)put_value(line + k, sizeof line - k, key, val[i]);
  }
  if (final && p->verbose == LOOM_EPOCH_LINES && k < sizeof line) {
    k += (size_t)put_rate(line + k, sizeof line - k, " - ", elapsed, "epoch");
    k += (size_t)put_rate(line + k, sizeof line - k, " - ", step ? elapsed / (double)step : 0, "step");
  }
  if (k >= sizeof line) k = sizeof line - 1;
  if (p->tty && p->verbose == LOOM_PROGRESS_BAR) {
    fputc('\r', p->f);
    fputs(line, p->f);
    for (size_t i = k; i < p->last_width; ++i) fputc(' ', p->f);
    p->last_width = k;
  } else {
    fputs(line, p->f);
  }
  if (final) fputc('\n', p->f);
  fflush(p->f);
}

/* Sample-weighted means of the step values over idx[0..n) in batches. */
static int run_epoch(loom_model *m, const lm_dataset *ds, const int64_t *idx, int64_t n,
                     int64_t batch, bool train, progress *p, double *avg) {
  double sum[1 + LOOM_MAX_IO * (1 + LM_MAX_METRICS)] = {0};
  int64_t seen = 0, step = 0;
  if (!train) lm_fold_new_pass(m->g);
  for (int64_t b = 0; b < n; b += batch) {
    const int64_t bs = n - b < batch ? n - b : batch;
    lm_step_values v;
    const int st = lm_step(m, ds, idx + b, bs, train, &v);
    if (st) return st;
    seen += bs, ++step;
    for (int i = 0; i < m->n_names; ++i) sum[i] += v.v[i] * (double)bs, avg[i] = sum[i] / (double)seen;
    if (p) progress_line(p, m, step, avg, NULL, false);
  }
  if (!n)
    for (int i = 0; i < m->n_names; ++i) avg[i] = 0;
  return LOOM_OK;
}

static int history_init(loom_model *m, int epochs, bool val) {
  loom_history *h = &m->hist;
  for (int i = 0; i < h->n_keys; ++i) free(h->values[i]);
  free(h->values), free(h->key);
  h->n_keys = 0, h->epochs = 0, h->cap_epochs = epochs;
  const int n = (val ? 2 : 1) * m->n_names;
  h->key = malloc(sizeof *h->key * (size_t)n);
  h->values = calloc((size_t)n, sizeof *h->values);
  if (!h->key || !h->values) {
    free(h->key), free(h->values);
    h->key = NULL, h->values = NULL;
    return lm_graph_fail(m->g, LOOM_ENOMEM, "fit: out of memory for the history");
  }
  for (int pass = 0; pass < (val ? 2 : 1); ++pass)
    for (int i = 0; i < m->n_names; ++i) {
      snprintf(h->key[h->n_keys], sizeof h->key[0], "%s%s", pass ? "val_" : "", m->names[i]);
      if (!(h->values[h->n_keys++] = calloc((size_t)(epochs ? epochs : 1), sizeof(float))))
        return lm_graph_fail(m->g, LOOM_ENOMEM, "fit: out of memory for the history");
    }
  return LOOM_OK;
}

static int64_t *iota(int64_t n) {
  int64_t *idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
  for (int64_t i = 0; idx && i < n; ++i) idx[i] = i;
  return idx;
}

/* The data fields of an options struct as a loom_data. */
#define LM_DATA_OF(o) \
  lm_data_of((o)->x, (o)->x_by_name, (o)->y, (o)->y_by_name)
static loom_data lm_data_of(loom_tensor *const *x, const loom_named_tensor *xn,
                            loom_tensor *const *y, const loom_named_tensor *yn) {
  loom_data d;
  memcpy(d.x, x, sizeof d.x), memcpy(d.x_by_name, xn, sizeof d.x_by_name);
  memcpy(d.y, y, sizeof d.y), memcpy(d.y_by_name, yn, sizeof d.y_by_name);
  return d;
}

const loom_history *loom_model_fit(loom_model *m, const loom_fit_opts *o) {
  if (!m || !o) {
    lm_error(LOOM_EINVAL, "loom_model_fit", "model or options NULL");
    return NULL;
  }
  if (!m->compiled) {
    lm_graph_fail(m->g, LOOM_ESTATE, "fit: model \"%s\" is not compiled", m->layer->name);
    return NULL;
  }
  const int epochs = o->epochs ? o->epochs : 1;
  const int64_t batch = o->batch_size ? o->batch_size : 32;
  if (epochs < 0 || batch < 0 || !(o->validation_split >= 0 && o->validation_split < 1) ||
      (unsigned)o->verbose > LOOM_EPOCH_LINES) {
    lm_graph_fail(m->g, LOOM_EINVAL, "fit: epochs %d and batch_size %lld must be > 0, "
                  "validation_split in [0, 1), verbose known", epochs, (long long)batch);
    return NULL;
  }
  lm_dataset ds, vds;
  const loom_data data = LM_DATA_OF(o);
  if (lm_data_resolve(m, &data, true, "fit", &ds)) return NULL;
  const bool has_val_data = o->validation_data != NULL;
  if (has_val_data && lm_data_resolve(m, o->validation_data, true, "fit (validation_data)", &vds))
    return NULL;
  int64_t n_train = ds.samples, n_val = 0;
  if (!has_val_data && o->validation_split > 0) { /* Keras: the last samples, before shuffling */
    n_val = (int64_t)floor((double)ds.samples * o->validation_split);
    n_train = ds.samples - n_val;
    vds = ds;
  }
  const bool val = has_val_data || n_val > 0;
  if (has_val_data) n_val = vds.samples;
  int64_t *idx = iota(ds.samples), *vidx = iota(has_val_data ? vds.samples : ds.samples);
  if (!idx || !vidx || history_init(m, epochs, val)) {
    free(idx), free(vidx);
    if (!m->g->status) lm_graph_fail(m->g, LOOM_ENOMEM, "fit: out of memory");
    return NULL;
  }
  const int64_t *val_idx = has_val_data ? vidx : vidx + n_train;
  progress p = {o->out ? o->out : stdout, o->verbose ? o->verbose : LOOM_PROGRESS_BAR, false,
                (n_train + batch - 1) / batch, 0, 0};
  p.tty = isatty(fileno(p.f));
  int st = LOOM_OK;
  for (int e = 0; e < epochs && !st; ++e) {
    if (o->shuffle != LOOM_NO)
      for (int64_t i = n_train - 1; i > 0; --i) { /* Fisher-Yates over the training part */
        const int64_t j = (int64_t)(lm_rng_next(&m->g->rng) % (uint64_t)(i + 1));
        const int64_t t = idx[i];
        idx[i] = idx[j], idx[j] = t;
      }
    if (p.verbose != LOOM_SILENT) fprintf(p.f, "Epoch %d/%d\n", e + 1, epochs);
    p.start = now_s(), p.last_width = 0;
    double avg[1 + LOOM_MAX_IO * (1 + LM_MAX_METRICS)], vavg[1 + LOOM_MAX_IO * (1 + LM_MAX_METRICS)];
    st = run_epoch(m, &ds, idx, n_train, batch, true, &p, avg);
    if (!st && val) st = run_epoch(m, has_val_data ? &vds : &ds, val_idx, n_val, batch, false, NULL, vavg);
    if (st) break;
    progress_line(&p, m, p.target, avg, val ? vavg : NULL, true);
    loom_history *h = &m->hist;
    for (int i = 0; i < m->n_names; ++i) {
      h->values[i][e] = (float)avg[i];
      if (val) h->values[m->n_names + i][e] = (float)vavg[i];
    }
    h->epochs = e + 1;
    if (o->on_epoch_end && !o->on_epoch_end(m, e, h, o->user)) break;
  }
  free(idx), free(vidx);
  return st ? NULL : &m->hist;
}

int loom_model_evaluate(loom_model *m, const loom_eval_opts *o, float *values, int cap) {
  if (!m || !o) return lm_error(LOOM_EINVAL, "loom_model_evaluate", "model or options NULL");
  const int batch_size = o->batch_size;
  const loom_data data = LM_DATA_OF(o), *d = &data;
  if (!m->compiled) return lm_graph_fail(m->g, LOOM_ESTATE, "evaluate: model \"%s\" is not compiled", m->layer->name);
  if (batch_size < 0 || (cap > 0 && !values)) return lm_graph_fail(m->g, LOOM_EINVAL, "evaluate: bad batch_size or values");
  lm_dataset ds;
  int st = lm_data_resolve(m, d, true, "evaluate", &ds);
  if (st) return st;
  int64_t *idx = iota(ds.samples);
  if (!idx) return lm_graph_fail(m->g, LOOM_ENOMEM, "evaluate: out of memory");
  double avg[1 + LOOM_MAX_IO * (1 + LM_MAX_METRICS)];
  st = run_epoch(m, &ds, idx, ds.samples, batch_size ? batch_size : 32, false, NULL, avg);
  free(idx);
  if (st) return st;
  for (int i = 0; i < m->n_names && i < cap; ++i) values[i] = (float)avg[i];
  return m->n_names;
}

loom_status loom_model_predict(loom_model *m, const loom_eval_opts *o, loom_arena *arena,
                               loom_tensor **outputs) {
  if (!m || !o || !arena || !outputs)
    return lm_error(LOOM_EINVAL, "loom_model_predict", "model, options, arena or outputs NULL");
  const int batch_size = o->batch_size;
  const loom_data data = LM_DATA_OF(o), *d = &data;
  if (batch_size < 0) return lm_graph_fail(m->g, LOOM_EINVAL, "predict: batch_size %d < 0", batch_size);
  lm_dataset ds;
  int st = lm_data_resolve(m, d, false, "predict", &ds);
  if (st) return st;
  if (!m->cx && !(m->cx = loom_ctx_new(NULL))) return lm_graph_fail(m->g, LOOM_ENOMEM, "predict: no context");
  const int64_t batch = batch_size ? batch_size : 32;
  int64_t *idx = iota(ds.samples);
  if (!idx) return lm_graph_fail(m->g, LOOM_ENOMEM, "predict: out of memory");
  for (int i = 0; i < m->n_out; ++i) outputs[i] = NULL;
  lm_fold_new_pass(m->g);
  for (int64_t b = 0; b < ds.samples && !st; b += batch) {
    const int64_t bs = ds.samples - b < batch ? ds.samples - b : batch;
    loom_ctx_reset(m->cx);
    loom_ctx_set_training(m->cx, false);
    loom_tensor *x[LOOM_MAX_IO];
    for (int i = 0; i < m->n_in && !st; ++i)
      if (!(x[i] = lm_take_rows(loom_ctx_arena(m->cx), ds.x[i], idx + b, bs)))
        st = lm_graph_fail(m->g, LOOM_ENOMEM, "predict: cannot hold a batch");
    const lm_run run = {.cx = m->cx, .training = false};
    if (!st) st = lm_model_run(m, &run, x, NULL);
    for (int i = 0; i < m->n_out && !st; ++i) {
      const loom_tensor *y = m->out[i]->value;
      const size_t row = (size_t)(y->size / (y->shape[0] ? y->shape[0] : 1));
      if (!outputs[i]) {
        int64_t shape[LOOM_MAX_RANK];
        memcpy(shape, y->shape, sizeof shape);
        shape[0] = ds.samples;
        if (!(outputs[i] = loom_tensor_new(arena, LOOM_F32, y->rank, shape))) {
          st = lm_graph_fail(m->g, LOOM_ENOMEM, "predict: %s", loom_arena_error(arena));
          break;
        }
      } else if ((size_t)(outputs[i]->size / ds.samples) != row) {
        st = lm_graph_fail(m->g, LOOM_ESHAPE, "predict: output \"%s\" changes shape between "
                           "batches", loom_model_output_name(m, i));
        break;
      }
      memcpy((float *)outputs[i]->data + (size_t)b * row, y->data, (size_t)bs * row * sizeof(float));
    }
  }
  free(idx);
  return st;
}

int loom_history_epochs(const loom_history *h) { return h ? h->epochs : 0; }
int loom_history_num_keys(const loom_history *h) { return h ? h->n_keys : 0; }
const char *loom_history_key(const loom_history *h, int i) {
  return h && i >= 0 && i < h->n_keys ? h->key[i] : NULL;
}
const float *loom_history_get(const loom_history *h, const char *key) {
  for (int i = 0; h && key && i < h->n_keys; ++i)
    if (!strcmp(h->key[i], key)) return h->values[i];
  return NULL;
}
