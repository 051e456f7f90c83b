/* sigmoid.c — Sigmoid: y = 1 / (1 + exp(-x)), computed without overflow
 * (f32_sigmoid: nns_sigmoidf, 0 below -87, SIMD).
 * Backward uses the output: dx += dy * y * (1 - y). */
#include <math.h>

#include "kernels/kernels.h"
#include "ops/op_util.h"

static void sigmoid_forward(nns_exec_node *e) {
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    const int64_t n = nns_tv_numel(e->out[0]), chunk = 16384, nch = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > NNS_OMP_MIN_ELEMS / 2)
    for (int64_t c = 0; c < nch; c++) {
        const int64_t a = c * chunk;
        e->kern->f32_sigmoid(n - a < chunk ? n - a : chunk, x + a, y + a, 0);
    }
}

static void sigmoid_backward(nns_exec_node *e) {
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad, *y = nns_tv_f32(e->out[0]);
    if (!gx || !gy) return;
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) gx[i] += gy[i] * y[i] * (1.0f - y[i]);
}

const nns_op_def nns_op_sigmoid = {
    .name = "Sigmoid",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .f32_inputs = 1u,
    .infer = nns_op_infer_same,
    .forward = sigmoid_forward,
    .backward = sigmoid_backward,
    .chan = NNS_OP_CHAN_PASS,
};
