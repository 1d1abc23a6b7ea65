/* activation_ref.c - the activation functions of lm_k_act and their derivatives, in double
 * with libm: the definitions the vector kernels are held to. */
#include <math.h>

#include "simd/ref.h"

static const double kSqrt2OverPi = 0.79788456080286535588, kGeluC = 0.044715;

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

static double value(lm_actfn f, const lm_act_param *p, double x) {
  switch (f) {
    case LM_F_RELU: return x > p->b ? fmin(x, p->c) : p->a * (x - p->b);
    case LM_F_ELU: return p->b * (x > 0 ? x : p->a * expm1(x));
    case LM_F_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case LM_F_GELU_TANH: return 0.5 * x * (1.0 + tanh(kSqrt2OverPi * (x + kGeluC * x * x * x)));
    case LM_F_SWISH: return x * sigm(x);
    case LM_F_SOFTPLUS: return fmax(x, 0.0) + log1p(exp(-fabs(x)));
    case LM_F_SOFTSIGN: return x / (1.0 + fabs(x));
    case LM_F_HARD_SIGMOID: return fmin(fmax(p->a * x + p->b, 0.0), 1.0);
    case LM_F_EXP: return exp(x);
    case LM_F_SIGMOID: return sigm(x);
    case LM_F_TANH: return tanh(x);
    default: return x;
  }
}

static double slope(lm_actfn f, const lm_act_param *p, double x) {
  switch (f) {
    case LM_F_RELU: return x > p->b ? (x < p->c ? 1.0 : 0.0) : p->a;
    case LM_F_ELU: return p->b * (x > 0 ? 1.0 : p->a * exp(x));
    case LM_F_GELU: return 0.5 * (1.0 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) * 0.39894228040143267794 /* 1/sqrt(2 pi) */;
    case LM_F_GELU_TANH: {
      const double t = tanh(kSqrt2OverPi * (x + kGeluC * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kGeluC * x * x);
    }
    case LM_F_SWISH: {
      const double s = sigm(x);
      return s * (1.0 + x * (1.0 - s));
    }
    case LM_F_SOFTPLUS: return sigm(x);
    case LM_F_SOFTSIGN: return 1.0 / ((1.0 + fabs(x)) * (1.0 + fabs(x)));
    case LM_F_HARD_SIGMOID: {
      const double z = p->a * x + p->b;
      return z > 0.0 && z < 1.0 ? p->a : 0.0;
    }
    case LM_F_EXP: return exp(x);
    case LM_F_SIGMOID: return sigm(x) * (1.0 - sigm(x));
    case LM_F_TANH: return 1.0 - tanh(x) * tanh(x);
    default: return 1.0;
  }
}

void lm_ref_act(lm_actfn f, const lm_act_param *p, const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = (float)value(f, p, x[i]);
}

void lm_ref_act_grad(lm_actfn f, const lm_act_param *p, const float *x, const float *dy, float *dx,
                     size_t n) {
  for (size_t i = 0; i < n; ++i) dx[i] = (float)(dx[i] + dy[i] * slope(f, p, x[i]));
}
