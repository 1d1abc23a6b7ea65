/* test_losses.c - Keras' loss values on cases worked by hand, gradients by finite
 * differences, bad inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

TestSuite(losses, .init = tu_suite_open, .fini = tu_suite_close);

static loom_tensor *F(int64_t rows, int64_t cols, const float *v) {
  const int64_t shape[2] = {rows, cols};
  return loom_tensor_from(tu_params, LOOM_F32, 2, shape, v);
}

static float value(loom_tensor *t) {
  cr_assert(t, "%s", loom_ctx_error(tu_cx));
  cr_assert_eq(t->rank, 0);
  return loom_tensor_f32(t)[0];
}

Test(losses, values_as_keras_computes_them) {
  const float t[4] = {0, 1, 1, 0}, p[4] = {0.5f, 0.5f, 0.2f, 0.8f};
  cr_assert_float_eq(value(loom_loss_mse(tu_cx, F(2, 2, t), F(2, 2, p))), 0.445f, 1e-6f);
  cr_assert_float_eq(value(loom_loss_mae(tu_cx, F(2, 2, t), F(2, 2, p))), 0.65f, 1e-6f);

  const float oh[6] = {0, 1, 0, 1, 0, 0}, pr[6] = {0.1f, 0.7f, 0.2f, 0.5f, 0.25f, 0.25f};
  const float want = (float)((-log(0.7) - log(0.5)) / 2); /* 0.52491 */
  cr_assert_float_eq(value(loom_loss_categorical_crossentropy(tu_cx, F(2, 3, oh), F(2, 3, pr))), want, 1e-6f);
  const float scaled[6] = {0.2f, 1.4f, 0.4f, 1.0f, 0.5f, 0.5f}; /* rows normalised first */
  cr_assert_float_eq(value(loom_loss_categorical_crossentropy(tu_cx, F(2, 3, oh), F(2, 3, scaled))), want, 1e-6f);
  const int32_t ids[2] = {1, 0};
  const int64_t s2[1] = {2};
  loom_tensor *idt = loom_tensor_from(tu_params, LOOM_I32, 1, s2, ids);
  cr_assert_float_eq(value(loom_loss_sparse_categorical_crossentropy(tu_cx, idt, F(2, 3, pr))), want, 1e-6f);

  const float bt[2] = {1, 0}, bp[2] = {0.9f, 0.2f};
  const double bwant = -(log(0.9 + 1e-7) + log(1 - 0.2 + 1e-7)) / 2; /* log(p + eps) */
  cr_assert_float_eq(value(loom_loss_binary_crossentropy(tu_cx, F(1, 2, bt), F(1, 2, bp))), (float)bwant, 1e-6f);
}

Test(losses, probabilities_are_clipped_as_keras_clips) {
  const float oh[3] = {0, 1, 0}, p[3] = {0.5f, 0.0f, 0.5f};
  cr_assert_float_eq(value(loom_loss_categorical_crossentropy(tu_cx, F(1, 3, oh), F(1, 3, p))),
                     (float)-log(1e-7), 1e-3f);
  const float bt[1] = {1}, bp[1] = {0.0f};
  cr_assert_float_eq(value(loom_loss_binary_crossentropy(tu_cx, F(1, 1, bt), F(1, 1, bp))),
                     (float)-log(2e-7), 1e-3f);
}

/* Gradient checks: y_true is held fixed (passed as user data), y_pred varies. */
typedef loom_tensor *(*loss_fn)(loom_ctx *, loom_tensor *, loom_tensor *);
typedef struct {
  loss_fn f;
  loom_tensor *y_true;
} loss_case;

static loom_tensor *apply_loss(loom_ctx *c, loom_tensor **in, void *user) {
  const loss_case *lc = user;
  return lc->f(c, lc->y_true, in[0]);
}

static void check(const char *name, loss_fn f, loom_tensor *y_true, loom_tensor *y_pred) {
  loss_case lc = {f, y_true};
  gc_check(name, apply_loss, &y_pred, 1, &lc);
}

Test(losses, gradients) {
  const int64_t s35[2] = {3, 5}, s17[2] = {1, 7};
  const int64_t *shapes[2] = {s35, s17};
  for (int s = 0; s < 2; ++s) {
    loom_tensor *t = tu_tensor(tu_params, 2, shapes[s], -1, 1, 1 + s);
    loom_tensor *p = tu_tensor(tu_params, 2, shapes[s], -1, 1, 3 + s);
    check("mse", loom_loss_mse, t, p);
    loom_tensor *pa = tu_tensor(tu_params, 2, shapes[s], -1, 1, 5 + s);
    for (int64_t i = 0; i < pa->size; ++i) /* keep |p - t| off the kink */
      loom_tensor_f32(pa)[i] = loom_tensor_f32(t)[i] + (i % 2 ? 0.3f : -0.4f);
    check("mae", loom_loss_mae, t, pa);
    loom_tensor *prob = tu_tensor(tu_params, 2, shapes[s], 0.2f, 0.8f, 7 + s);
    loom_tensor *bt = tu_tensor(tu_params, 2, shapes[s], 0, 1, 9 + s);
    check("binary_crossentropy", loom_loss_binary_crossentropy, bt, prob);
    loom_tensor *soft = tu_tensor(tu_params, 2, shapes[s], 0, 1, 11 + s); /* soft targets */
    check("categorical_crossentropy", loom_loss_categorical_crossentropy, soft, prob);
    const int64_t rows = shapes[s][0];
    int32_t ids[3] = {4, 0, 2};
    loom_tensor *idt = loom_tensor_from(tu_params, LOOM_I32, 1, &rows, ids);
    check("sparse_categorical_crossentropy", loom_loss_sparse_categorical_crossentropy, idt, prob);
    loom_tensor *z = tu_tensor(tu_params, 2, shapes[s], -3, 3, 13 + s);
    check("binary_crossentropy_logits", loom_loss_binary_crossentropy_logits, bt, z);
    check("categorical_crossentropy_logits", loom_loss_categorical_crossentropy_logits, soft, z);
    check("sparse_categorical_crossentropy_logits", loom_loss_sparse_categorical_crossentropy_logits,
          idt, z);
  }
}

Test(losses, logits_give_the_probability_losses_where_no_clip_bites) {
  const float z[6] = {0.1f, 1.0f, -0.5f, 2.0f, 0.0f, 0.3f}, oh[6] = {0, 1, 0, 1, 0, 0};
  loom_tensor *sm = loom_softmax(tu_cx, F(2, 3, z)), *sg = loom_sigmoid(tu_cx, F(2, 3, z));
  cr_assert_float_eq(value(loom_loss_categorical_crossentropy_logits(tu_cx, F(2, 3, oh), F(2, 3, z))),
                     value(loom_loss_categorical_crossentropy(tu_cx, F(2, 3, oh), sm)), 1e-6f);
  const int32_t ids[2] = {1, 0};
  const int64_t s2[1] = {2};
  loom_tensor *idt = loom_tensor_from(tu_params, LOOM_I32, 1, s2, ids);
  cr_assert_float_eq(value(loom_loss_sparse_categorical_crossentropy_logits(tu_cx, idt, F(2, 3, z))),
                     value(loom_loss_categorical_crossentropy(tu_cx, F(2, 3, oh), sm)), 1e-6f);
  /* BCE on probabilities adds eps inside its logs: equal to ~1e-6 */
  cr_assert_float_eq(value(loom_loss_binary_crossentropy_logits(tu_cx, F(2, 3, oh), F(2, 3, z))),
                     value(loom_loss_binary_crossentropy(tu_cx, F(2, 3, oh), sg)), 2e-6f);
}

Test(losses, logits_stay_finite_and_unclipped_far_out) {
  /* softmax(z) rounds to one-hot here; the probability path would clip at -log(1e-7) */
  const float z[3] = {200.0f, -200.0f, 0.0f}, oh[3] = {0, 1, 0};
  loom_tensor *zt = F(1, 3, z);
  loom_tensor_set_requires_grad(zt, true);
  loom_ctx_set_training(tu_cx, true);
  loom_tensor *l = loom_loss_categorical_crossentropy_logits(tu_cx, F(1, 3, oh), zt);
  cr_assert_float_eq(value(l), 400.0f, 1e-3f);
  cr_assert_eq(loom_backward(tu_cx, l), LOOM_OK);
  cr_assert_float_eq(zt->grad[0], 1.0f, 1e-6f);
  cr_assert_float_eq(zt->grad[1], -1.0f, 1e-6f);
  cr_assert_float_eq(zt->grad[2], 0.0f, 1e-6f);
  const float bz[2] = {-100.0f, 100.0f}, bt[2] = {1, 0};
  cr_assert_float_eq(value(loom_loss_binary_crossentropy_logits(tu_cx, F(1, 2, bt), F(1, 2, bz))),
                     100.0f, 1e-3f);
}

Test(losses, softmax_then_crossentropy_trains_through_the_tape) {
  /* d/dz CCE(softmax(z)) = (softmax(z) - t) / rows */
  const float z[6] = {0.1f, 1.0f, -0.5f, 2.0f, 0.0f, 0.3f}, oh[6] = {0, 1, 0, 1, 0, 0};
  loom_tensor *zt = F(2, 3, z);
  loom_tensor_set_requires_grad(zt, true);
  loom_ctx_set_training(tu_cx, true);
  loom_tensor *sm = loom_softmax(tu_cx, zt);
  cr_assert_eq(loom_backward(tu_cx, loom_loss_categorical_crossentropy(tu_cx, F(2, 3, oh), sm)), LOOM_OK);
  for (int i = 0; i < 6; ++i)
    cr_assert_float_eq(zt->grad[i], (loom_tensor_f32(sm)[i] - oh[i]) / 2, 1e-6f, "[%d]", i);
}

Test(losses, bad_inputs) {
  const float v[9] = {0};
  cr_assert_null(loom_loss_mse(tu_cx, F(2, 3, v), F(3, 2, v)));
  cr_assert(strstr(loom_ctx_error(tu_cx), "loom_loss_mse: y_true [2, 3] and y_pred [3, 2] differ"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  const int64_t s2[1] = {2};
  const int32_t bad[2] = {1, 3};
  loom_tensor *ids = loom_tensor_from(tu_params, LOOM_I32, 1, s2, bad);
  cr_assert_null(loom_loss_sparse_categorical_crossentropy(tu_cx, ids, F(2, 3, v)));
  cr_assert(strstr(loom_ctx_error(tu_cx), "class id 3 at [1] is outside [0, 3)"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_loss_sparse_categorical_crossentropy(tu_cx, ids, F(3, 3, v)));
  cr_assert(strstr(loom_ctx_error(tu_cx), "do not fit"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_loss_sparse_categorical_crossentropy(tu_cx, F(2, 3, v), F(2, 3, v)));
  cr_assert_eq(loom_ctx_status(tu_cx), LOOM_EDTYPE);
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_loss_categorical_crossentropy(tu_cx, ids, F(2, 3, v)));
  cr_assert_eq(loom_ctx_status(tu_cx), LOOM_EDTYPE);
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_loss_binary_crossentropy(tu_cx, NULL, F(2, 3, v)));
  cr_assert(strstr(loom_ctx_error(tu_cx), "input 0 is NULL"));
  cr_assert_null(loom_loss_mae(NULL, F(2, 3, v), F(2, 3, v)));
  cr_assert_null(loom_loss_sparse_categorical_crossentropy(NULL, ids, F(2, 3, v)));
}

Test(losses, accuracies) {
  const float oh[6] = {0, 1, 0, 1, 0, 0}, pr[6] = {0.1f, 0.7f, 0.2f, 0.2f, 0.5f, 0.3f};
  cr_assert_float_eq(value(loom_metric_categorical_accuracy(tu_cx, F(2, 3, oh), F(2, 3, pr))), 0.5f, 1e-7f);
  const int32_t ids[2] = {1, 1};
  const int64_t s2[1] = {2};
  loom_tensor *idt = loom_tensor_from(tu_params, LOOM_I32, 1, s2, ids);
  cr_assert_float_eq(value(loom_metric_sparse_categorical_accuracy(tu_cx, idt, F(2, 3, pr))), 1.0f, 1e-7f);
  const float bt[4] = {1, 0, 1, 0}, bp[4] = {0.9f, 0.4f, 0.3f, 0.6f};
  cr_assert_float_eq(value(loom_metric_binary_accuracy(tu_cx, F(1, 4, bt), F(1, 4, bp))), 0.5f, 1e-7f);
  const float nine[9] = {0};
  cr_assert_null(loom_metric_sparse_categorical_accuracy(tu_cx, idt, F(3, 3, nine)));
  cr_assert(strstr(loom_ctx_error(tu_cx), "do not fit"), "%s", loom_ctx_error(tu_cx));
  cr_assert_null(loom_metric_binary_accuracy(NULL, F(1, 4, bt), F(1, 4, bp)));
}

/* The clip of the cross-entropies never turns a NaN prediction into a finite loss (one
 * NaN weight once trained a model to 10% accuracy behind a steady loss of 2.30). */
Test(losses, a_nan_prediction_gives_a_nan_loss_and_gradient) {
  const float oh[6] = {0, 1, 0, 1, 0, 0}, pr[6] = {0.1f, NAN, 0.2f, 0.5f, 0.25f, 0.25f};
  loom_tensor *p = F(2, 3, pr);
  loom_tensor_set_requires_grad(p, true);
  loom_ctx_set_training(tu_cx, true);
  loom_tensor *l = loom_loss_categorical_crossentropy(tu_cx, F(2, 3, oh), p);
  cr_assert(isnan(value(l)), "categorical: %g", value(l));
  cr_assert_eq(loom_backward(tu_cx, l), LOOM_OK);
  cr_assert(isnan(p->grad[1]), "categorical gradient %g", p->grad[1]);
  const int32_t ids[2] = {1, 0};
  const int64_t s2[1] = {2};
  loom_tensor *idt = loom_tensor_from(tu_params, LOOM_I32, 1, s2, ids);
  cr_assert(isnan(value(loom_loss_sparse_categorical_crossentropy(tu_cx, idt, F(2, 3, pr)))));
  const float bt[2] = {1, 0}, bp[2] = {NAN, 0.2f};
  cr_assert(isnan(value(loom_loss_binary_crossentropy(tu_cx, F(1, 2, bt), F(1, 2, bp)))));
  const float bp2[2] = {0.9f, 0.2f};
  cr_assert(!isnan(value(loom_loss_binary_crossentropy(tu_cx, F(1, 2, bt), F(1, 2, bp2)))));
}
