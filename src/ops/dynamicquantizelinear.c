/* dynamicquantizelinear.c — DynamicQuantizeLinear (ONNX opset 11): x (f32)
 * to u8 with a range computed from x itself, as dynamic-quantization graphs
 * (ONNX Runtime's quantize_dynamic) put before ConvInteger and
 * MatMulInteger:
 *   lo = min(0, min(x)), hi = max(0, max(x)), scale = (hi - lo) / 255,
 *   zero_point = saturate(round_half_even(-lo / scale)),
 *   y = saturate(round_half_even(x / scale) + zero_point).
 * Outputs y (x's shape, u8), y_scale (f32 scalar) and y_zero_point (u8
 * scalar). The range is the whole tensor's, so the images of a batch share
 * it, as they do in ONNX Runtime. NaN values are left out of the range and
 * quantize to the zero point; infinities are clamped to the finite range.
 * An input of zeros only (hi == lo) gives scale 0, zero point 0 and y 0:
 * y - zero_point is then exact whatever the scale. Forward only. */
#include <math.h>

#include "core/qmath.h"
#include "ops/op_util.h"

static nns_status dql_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                            nns_shape *out) {
    (void)g, (void)params;
    out[0] = *in[0];
    out[1] = nns_shape_make(0, NULL);
    out[2] = nns_shape_make(0, NULL);
    return NNS_OK;
}

/* min and max of the finite values of x (0 when there are none). */
static void dql_range(const float *x, int64_t n, float *lo, float *hi) {
    float mn = 0.0f, mx = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        if (!isfinite(v)) continue;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    *lo = mn;
    *hi = mx;
}

static void dql_forward(nns_exec_node *e) {
    const float *x = nns_tv_cf32(e->in[0]);
    uint8_t *y = e->out[0]->data;
    float *scale = nns_tv_f32(e->out[1]);
    uint8_t *zp = e->out[2]->data;
    const int64_t n = nns_tv_numel(e->in[0]);
    float lo, hi;
    dql_range(x, n, &lo, &hi);
    const float s = (hi - lo) / 255.0f;
    *scale = s;
    if (!(s > 0.0f) || !isfinite(s)) { /* zeros only (or a range too wide for f32) */
        *zp = 0;
        for (int64_t i = 0; i < n; i++) y[i] = 0;
        if (!isfinite(s)) *scale = 0.0f;
        return;
    }
    const int32_t z = nns_q_round(-lo / s, 0, 0, 255);
    *zp = (uint8_t)z;
#pragma omp parallel for schedule(static) if (n > 262144)
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] < lo ? lo : x[i] > hi ? hi : x[i]; /* clamps infinities; NaN stays NaN */
        y[i] = (uint8_t)nns_q_round(v / s, z, 0, 255);
    }
}

static const nns_dtype dql_out_dtypes[3] = {NNS_DTYPE_U8, NNS_DTYPE_F32, NNS_DTYPE_U8};

const nns_op_def nns_op_dynamicquantizelinear = {
    .name = "DynamicQuantizeLinear",
    .min_in = 1, .max_in = 1, .min_out = 3, .max_out = 3,
    .f32_inputs = 1u,
    .out_fixed = dql_out_dtypes,
    .infer = dql_infer,
    .forward = dql_forward,
};
