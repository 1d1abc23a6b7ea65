// link_test.cpp - a C++ program that includes loom.h and links libloom (static or
// shared, as the Makefile builds it twice). Exits non-zero on a wrong result.
#include <cmath>
#include <cstdio>
#include <vector>

#include "loom.h"

int main() {
  loom_arena* params = loom_arena_new(nullptr);
  loom_ctx* cx = loom_ctx_new(nullptr);
  if (!params || !cx) return 1;
  loom_ctx_set_training(cx, true);

  const std::vector<float> v = {1.0f, 2.0f, 3.0f, 4.0f};
  const int64_t shape[2] = {2, 2};
  loom_tensor* x = loom_tensor_from(params, LOOM_F32, 2, shape, v.data());
  loom_tensor_set_requires_grad(x, true);
  loom_tensor* y = loom_softmax(cx, loom_matmul(cx, x, x));  // [[7,10],[15,22]]
  loom_tensor* loss = loom_sum(cx, loom_mul(cx, y, y));
  if (!loss || loom_backward(cx, loss) != LOOM_OK) {
    std::fprintf(stderr, "link_test: %s\n", loom_ctx_error(cx));
    return 1;
  }
  const float* p = loom_tensor_f32(y);
  const double want0 = 1.0 / (1.0 + std::exp(3.0));
  const bool ok = std::fabs(p[0] - want0) < 1e-6 && x->grad != nullptr &&
                  loom_add(cx, x, nullptr) == nullptr;
  std::printf("link_test (%s, %d threads, loom %s): %s\n", loom_simd_target(),
              loom_get_num_threads(), loom_version(), ok ? "ok" : "WRONG");
  loom_ctx_free(cx);
  loom_arena_free(params);
  return ok ? 0 : 1;
}
