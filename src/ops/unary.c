/* unary.c — elementwise float ops of one input: Abs, Neg, Sqrt, Exp, Log,
 * Tanh, Erf, Reciprocal, Floor, Ceil, Round (half to even), Sign, the
 * trigonometric and hyperbolic functions and their inverses, Softplus,
 * Softsign, Mish, Elu (alpha, default 1), Celu (alpha, default 1),
 * ThresholdedRelu (alpha, default 1), Shrink (lambd 0.5, bias 0) and Selu
 * (alpha, gamma: ONNX's defaults). Forward is the C library's function
 * per element (IEEE results for NaN, infinities and zeros: Log(0) = -inf,
 * Sqrt(-1) = NaN); Softplus is computed without overflow. Backward adds the
 * derivative times the output gradient (Floor, Ceil, Round and Sign have
 * none: those ops are inference-only). */
#include <math.h>

#include "ops/op_util.h"

typedef struct {
    float alpha, gamma;
} unary_params;

static nns_status elu_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    unary_params *p = params;
    p->alpha = nns_node_attr_float(n, "alpha", 1.0f);
    return NNS_OK;
}

static nns_status alpha1_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    ((unary_params *)params)->alpha = nns_node_attr_float(n, "alpha", 1.0f);
    return NNS_OK;
}

static nns_status selu_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    unary_params *p = params;
    p->alpha = nns_node_attr_float(n, "alpha", 1.67326319217681884765625f);
    p->gamma = nns_node_attr_float(n, "gamma", 1.05070102214813232421875f);
    return NNS_OK;
}

static nns_status shrink_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    unary_params *p = params;
    p->alpha = nns_node_attr_float(n, "lambd", 0.5f);
    p->gamma = nns_node_attr_float(n, "bias", 0.0f);
    return NNS_OK;
}

static inline float softplus(float x) { return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
static inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }
static inline float sign(float x) { return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x; }
/* Mish: x tanh(softplus(x)); its derivative tanh(sp) + x sigm(x) (1 - tanh(sp)^2). */
static inline float mish_grad(float x) {
    const float t = tanhf(softplus(x));
    return t + x * sigm(x) * (1.0f - t * t);
}

/* sym: the op def; FEXPR: y from x (and a, c: alpha, gamma); GEXPR: dx from
 * g, x, y (0 for none: no backward). */
#define UNARY_OP(sym, onnx, prep, FEXPR, GEXPR, HAS_BWD)                                                      \
    static void sym##_forward(nns_exec_node *e) {                                                             \
        const unary_params *p = e->params;                                                                    \
        const float a = p ? p->alpha : 0.0f, c = p ? p->gamma : 0.0f;                                         \
        (void)a, (void)c;                                                                                     \
        const float *X = nns_tv_cf32(e->in[0]);                                                               \
        float *Y = nns_tv_f32(e->out[0]);                                                                     \
        const int64_t n = nns_tv_numel(e->out[0]);                                                            \
        _Pragma("omp parallel for schedule(static) if (n > NNS_OMP_MIN_ELEMS / 8)")                           \
        for (int64_t i = 0; i < n; i++) {                                                                     \
            const float x = X[i];                                                                             \
            Y[i] = (FEXPR);                                                                                   \
        }                                                                                                     \
    }                                                                                                         \
    static void sym##_backward(nns_exec_node *e) {                                                            \
        const unary_params *p = e->params;                                                                    \
        const float a = p ? p->alpha : 0.0f, c = p ? p->gamma : 0.0f;                                         \
        (void)a, (void)c;                                                                                     \
        float *gx = e->in[0]->grad;                                                                           \
        const float *gy = e->out[0]->grad, *X = nns_tv_cf32(e->in[0]), *Y = nns_tv_f32(e->out[0]);           \
        if (!gx || !gy) return;                                                                               \
        const int64_t n = nns_tv_numel(e->out[0]);                                                            \
        _Pragma("omp parallel for schedule(static) if (n > NNS_OMP_MIN_ELEMS / 8)")                           \
        for (int64_t i = 0; i < n; i++) {                                                                     \
            const float g = gy[i], x = X[i], y = Y[i];                                                        \
            (void)g, (void)x, (void)y;                                                                        \
            gx[i] += (GEXPR);                                                                                 \
        }                                                                                                     \
    }                                                                                                         \
    const nns_op_def sym = {                                                                                  \
        .name = onnx,                                                                                         \
        .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,                                                 \
        .params_size = sizeof(unary_params),                                                                  \
        .prepare = prep,                                                                                      \
        .f32_inputs = 1u,                                                                                     \
        .infer = nns_op_infer_same,                                                                           \
        .forward = sym##_forward,                                                                             \
        .backward = HAS_BWD ? sym##_backward : NULL,                                                          \
        .chan = NNS_OP_CHAN_PASS,                                                                             \
    };

UNARY_OP(nns_op_abs, "Abs", NULL, fabsf(x), x > 0.0f ? g : x < 0.0f ? -g : 0.0f, 1)
UNARY_OP(nns_op_neg, "Neg", NULL, -x, -g, 1)
UNARY_OP(nns_op_sqrt, "Sqrt", NULL, sqrtf(x), g * 0.5f / y, 1)
UNARY_OP(nns_op_exp, "Exp", NULL, expf(x), g * y, 1)
UNARY_OP(nns_op_log, "Log", NULL, logf(x), g / x, 1)
UNARY_OP(nns_op_tanh, "Tanh", NULL, tanhf(x), g * (1.0f - y * y), 1)
UNARY_OP(nns_op_erf, "Erf", NULL, erff(x), g * 1.1283791670955126f * expf(-x * x), 1)
UNARY_OP(nns_op_reciprocal, "Reciprocal", NULL, 1.0f / x, -g * y * y, 1)
UNARY_OP(nns_op_floor, "Floor", NULL, floorf(x), 0.0f, 0)
UNARY_OP(nns_op_ceil, "Ceil", NULL, ceilf(x), 0.0f, 0)
UNARY_OP(nns_op_softplus, "Softplus", NULL, softplus(x), g * sigm(x), 1)
UNARY_OP(nns_op_elu, "Elu", elu_prepare, x > 0.0f ? x : a * expm1f(x), x > 0.0f ? g : g * (y + a), 1)
UNARY_OP(nns_op_selu, "Selu", selu_prepare, x > 0.0f ? c * x : c * a * expm1f(x), x > 0.0f ? g * c : g * (y + c * a), 1)
UNARY_OP(nns_op_round, "Round", NULL, rintf(x), 0.0f, 0)
UNARY_OP(nns_op_sign, "Sign", NULL, sign(x), 0.0f, 0)
UNARY_OP(nns_op_sin, "Sin", NULL, sinf(x), g * cosf(x), 1)
UNARY_OP(nns_op_cos, "Cos", NULL, cosf(x), -g * sinf(x), 1)
UNARY_OP(nns_op_tan, "Tan", NULL, tanf(x), g * (1.0f + y * y), 1)
UNARY_OP(nns_op_asin, "Asin", NULL, asinf(x), g / sqrtf(1.0f - x * x), 1)
UNARY_OP(nns_op_acos, "Acos", NULL, acosf(x), -g / sqrtf(1.0f - x * x), 1)
UNARY_OP(nns_op_atan, "Atan", NULL, atanf(x), g / (1.0f + x * x), 1)
UNARY_OP(nns_op_sinh, "Sinh", NULL, sinhf(x), g * coshf(x), 1)
UNARY_OP(nns_op_cosh, "Cosh", NULL, coshf(x), g * sinhf(x), 1)
UNARY_OP(nns_op_asinh, "Asinh", NULL, asinhf(x), g / sqrtf(x * x + 1.0f), 1)
UNARY_OP(nns_op_acosh, "Acosh", NULL, acoshf(x), g / sqrtf(x * x - 1.0f), 1)
UNARY_OP(nns_op_atanh, "Atanh", NULL, atanhf(x), g / (1.0f - x * x), 1)
UNARY_OP(nns_op_softsign, "Softsign", NULL, x / (1.0f + fabsf(x)), g / ((1.0f + fabsf(x)) * (1.0f + fabsf(x))), 1)
UNARY_OP(nns_op_mish, "Mish", NULL, x * tanhf(softplus(x)), g * mish_grad(x), 1)
UNARY_OP(nns_op_celu, "Celu", alpha1_prepare, x > 0.0f ? x : a * expm1f(x / a), x > 0.0f ? g : g * (y / a + 1.0f), 1)
UNARY_OP(nns_op_thresholdedrelu, "ThresholdedRelu", alpha1_prepare, x > a ? x : 0.0f, x > a ? g : 0.0f, 1)
UNARY_OP(nns_op_shrink, "Shrink", shrink_prepare, x < -a ? x + c : x > a ? x - c : 0.0f, x < -a || x > a ? g : 0.0f, 1)
