/* test_saved_fixtures.c - model files written on x86 (tests/fixtures/models, made by
 * make_model_fixtures.c) load on every SIMD target here and under qemu (NEON, SVE) and
 * predict what loom predicted on x86 and what PyTorch predicts from the same file
 * (torch_load.py). Tolerance: 1e-5 absolute + 1e-4 relative, the spread of float sums
 * in another order (vector widths differ between targets; PyTorch sums its own way). */
#include <criterion/criterion.h>
#include <math.h>

#include "common/util.h"
#include "lib/io/safetensors.h"

#define DIR "tests/fixtures/models/"

static loom_tensor *tensor_of(loom_arena *a, const lm_st_file *f, const char *name) {
  const lm_st_tensor *t = lm_st_find(f, name);
  cr_assert(t, "%s missing", name);
  loom_tensor *x = loom_tensor_new(a, t->dtype, t->rank, t->shape);
  lm_st_read(f, t, x->data);
  return x;
}

static void compare(const loom_tensor *got, const lm_st_file *f, const char *name, const char *who) {
  const lm_st_tensor *t = lm_st_find(f, name);
  cr_assert(t && t->size == got->size, "%s: %s has another shape", who, name);
  float *want = malloc((size_t)t->size * 4);
  lm_st_read(f, t, want);
  for (int64_t i = 0; i < t->size; ++i)
    cr_assert(tu_close(loom_tensor_f32(got)[i], want[i], 1e-5, 1e-4), "%s %s[%lld]: loom %.9g, %s %.9g",
              loom_simd_target(), name, (long long)i, loom_tensor_f32(got)[i], who, want[i]);
  free(want);
}

Test(saved_fixtures, files_from_x86_predict_the_same_here_and_in_pytorch) {
  lm_st_file in, x86, torch;
  cr_assert_eq(lm_st_open(&in, DIR "inputs.safetensors", "test"), LOOM_OK, "%s", loom_last_error());
  cr_assert_eq(lm_st_open(&x86, DIR "predictions_loom_x86.safetensors", "test"), LOOM_OK);
  cr_assert_eq(lm_st_open(&torch, DIR "predictions_torch.safetensors", "test"), LOOM_OK);
  loom_arena *a = loom_arena_new(NULL);
  loom_model *mlp = loom_model_load(DIR "mlp.safetensors");
  loom_model *qa = loom_model_load(DIR "qa_small.safetensors");
  cr_assert(mlp && qa, "%s", loom_last_error());
  loom_tensor *y[1];
  cr_assert_eq(loom_predict(mlp, a, y, .x = {tensor_of(a, &in, "mlp_x")}), LOOM_OK);
  compare(y[0], &x86, "mlp_y", "x86");
  compare(y[0], &torch, "mlp_y", "PyTorch");
  cr_assert_eq(loom_predict(qa, a, y, .x_by_name = {{"question", tensor_of(a, &in, "qa_question")},
                                                    {"text", tensor_of(a, &in, "qa_text")}}), LOOM_OK);
  compare(y[0], &x86, "qa_y", "x86");
  compare(y[0], &torch, "qa_y", "PyTorch");
  loom_graph_free(loom_model_graph(mlp));
  loom_graph_free(loom_model_graph(qa));
  loom_arena_free(a);
  lm_st_close(&in), lm_st_close(&x86), lm_st_close(&torch);
}
