/* summary.c - model.summary() as tf.keras 2 prints it (print_summary of TF 2.0-2.8):
 * the same columns, widths, truncation, separators and thousands separators. */
#include <stdlib.h>
#include <string.h>

#include "lib/graph/model.h"
#include "lib/layers/kind.h"

/* Keras' print_row: each field cut or padded to end at its position; a field after
 * the first replaces the last character before it with a space. */
static void print_row(FILE *f, int n, const char *const *fields, const int *pos) {
  char line[256] = "";
  size_t len = 0;
  for (int i = 0; i < n; ++i) {
    if (i > 0 && len > 0) line[len - 1] = ' ';
    len += (size_t)snprintf(line + len, sizeof line - len, "%s", fields[i]);
    if (len > (size_t)pos[i]) len = (size_t)pos[i];
    while (len < (size_t)pos[i]) line[len++] = ' ';
    line[len] = '\0';
  }
  fprintf(f, "%s\n", line);
}

static void rule(FILE *f, char c, int n) {
  for (int i = 0; i < n; ++i) fputc(c, f);
  fputc('\n', f);
}

static bool is_relevant(const loom_model *m, const lm_call *c) {
  for (int i = 0; i < m->n_order; ++i)
    if (m->order[i] == c) return true;
  return false;
}

/* Output shape as Keras' layer.output_shape prints: a tuple, a list for inputs and for
 * several outputs, "multiple" when calls disagree. */
static const char *output_shape(const loom_layer *l, char *buf, size_t cap) {
  char first[160] = "", cur[160];
  for (int i = 0; i < l->n_calls; ++i) {
    const lm_call *c = l->calls[i];
    size_t k = 0;
    const bool list = c->n_out > 1 || c->n_in == 0;
    if (c->n_out > 1) k += (size_t)snprintf(cur + k, sizeof cur - k, "[");
    for (int j = 0; j < c->n_out && k < sizeof cur; ++j) {
      char s[96];
      k += (size_t)snprintf(cur + k, sizeof cur - k, "%s%s", j ? ", " : "",
                            lm_shape_py(&c->out[j]->shape, list && c->n_out == 1, s, sizeof s));
    }
    if (c->n_out > 1 && k < sizeof cur) snprintf(cur + k, sizeof cur - k, "]");
    if (i == 0) memcpy(first, cur, sizeof first);
    else if (strcmp(first, cur)) return snprintf(buf, cap, "multiple"), buf;
  }
  snprintf(buf, cap, "%s", first);
  return buf;
}

/* Keras' node_index: a model has its own node 0, so its calls count from 1. */
static int node_index(const lm_call *c) { return c->index + (c->layer->model ? 1 : 0); }

loom_status loom_model_summary(const loom_model *m, FILE *f) {
  if (!m || !f) return lm_error(LOOM_EINVAL, "loom_model_summary", "model or file is NULL");
  const bool seq = m->sequential_like;
  const int width = seq ? 65 : 98;
  const int seq_pos[3] = {29, 55, 65}, graph_pos[4] = {32, 53, 65, 98};
  const int *pos = seq ? seq_pos : graph_pos;
  const int nf = seq ? 3 : 4;
  static const char *const head[4] = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
  fprintf(f, "Model: \"%s\"\n", m->layer->name);
  rule(f, '_', width);
  print_row(f, nf, head, pos);
  rule(f, '=', width);
  for (int i = 0; i < m->n_layers; ++i) {
    const loom_layer *l = m->layers[i];
    char name[160], shape[200], params[32], conn[LOOM_MAX_IO * 4][96];
    snprintf(name, sizeof name, "%s (%s)", l->name, l->kind->class_name);
    output_shape(l, shape, sizeof shape);
    snprintf(params, sizeof params, "%lld", (long long)lm_layer_count_params(l, false));
    int nc = 0;
    for (int k = 0; k < l->n_calls; ++k) {
      const lm_call *c = l->calls[k];
      if (!is_relevant(m, c)) continue;
      for (int j = 0; j < c->n_in && nc < (int)(sizeof conn / sizeof conn[0]); ++j) {
        const loom_node *x = c->in[j];
        snprintf(conn[nc++], sizeof conn[0], "%s[%d][%d]", x->call->layer->name,
                 node_index(x->call), x->index);
      }
    }
    const char *row[4] = {name, shape, params, nc ? conn[0] : ""};
    print_row(f, nf, row, pos);
    for (int k = 1; !seq && k < nc; ++k) {
      const char *more[4] = {"", "", "", conn[k]};
      print_row(f, nf, more, pos);
    }
    rule(f, i == m->n_layers - 1 ? '=' : '_', width);
  }
  char total[40], trainable[40];
  const int64_t t = loom_model_count_params(m, false), tr = loom_model_count_params(m, true);
  fprintf(f, "Total params: %s\n", lm_thousands(t, total, sizeof total));
  fprintf(f, "Trainable params: %s\n", lm_thousands(tr, trainable, sizeof trainable));
  fprintf(f, "Non-trainable params: %s\n", lm_thousands(t - tr, total, sizeof total));
  rule(f, '_', width);
  return LOOM_OK;
}

/* 1000052 -> "1,000,052" */
const char *lm_thousands(int64_t v, char *buf, size_t cap) {
  char digits[32];
  const int n = snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
  size_t k = 0;
  if (v < 0 && k + 1 < cap) buf[k++] = '-';
  for (int i = 0; i < n && k + 2 < cap; ++i) {
    if (i > 0 && (n - i) % 3 == 0) buf[k++] = ',';
    buf[k++] = digits[i];
  }
  buf[k] = '\0';
  return buf;
}
