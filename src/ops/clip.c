/* clip.c — Clip: y = min(max(x, lo), hi). From opset 11 lo and hi are
 * optional constant inputs (read once at prepare time); older opsets give
 * them as attributes min / max. ReLU6 exports as Clip(0, 6).
 * Backward (PyTorch's clamp): dx += dy where lo <= x <= hi. */
#include "ops/op_util.h"

typedef struct { float lo, hi; } clip_params;

static nns_status clip_prepare(const nns_graph *g, const nns_node *n, void *params) {
    clip_params *p = params;
    p->lo = nns_node_attr_float(n, "min", -FLT_MAX);
    p->hi = nns_node_attr_float(n, "max", FLT_MAX);
    nns_status st = nns_op_const_scalar(g, n, 1, "min", &p->lo);
    if (!st) st = nns_op_const_scalar(g, n, 2, "max", &p->hi);
    if (st) return st;
    if (p->lo != p->lo || p->hi != p->hi)
        return nns_error(NNS_STATUS_INVALID_ARG, "node '%s' (Clip): min or max is NaN", n->name);
    return NNS_OK;
}

static void clip_forward(nns_exec_node *e) {
    const clip_params *p = e->params;
    const float lo = p->lo, hi = p->hi;
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    int64_t n = nns_tv_numel(e->out[0]);
    /* ONNX: when min > max every output is max. */
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) {
        float v = nns_selectf(x[i] < lo, lo, x[i]);
        y[i] = nns_selectf(v > hi, hi, v);
    }
}

static void clip_backward(nns_exec_node *e) {
    const clip_params *p = e->params;
    const float lo = p->lo, hi = p->hi;
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad, *x = nns_tv_cf32(e->in[0]);
    if (!gx || !gy) return;
    int64_t n = nns_tv_numel(e->out[0]);
    if (e->grad_overwrite & 1u) {
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
        for (int64_t i = 0; i < n; i++) gx[i] = 0.0f + nns_selectf((x[i] >= lo) & (x[i] <= hi), gy[i], 0.0f);
    } else {
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
        for (int64_t i = 0; i < n; i++) gx[i] += nns_selectf((x[i] >= lo) & (x[i] <= hi), gy[i], 0.0f);
    }
}

/* As an epilogue: min(max(y, lo), hi). */
static void clip_clamp(const void *params, nns_epilogue *epi) {
    const clip_params *p = params;
    epi->act = NNS_FUSE_ACT_CLIP;
    epi->lo = p->lo;
    epi->hi = p->hi;
}

const nns_op_def nns_op_clip = {
    .name = "Clip",
    .min_in = 1, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(clip_params),
    .prepare = clip_prepare,
    .f32_inputs = 1u,
    .infer = nns_op_infer_same,
    .forward = clip_forward,
    .backward = clip_backward,
    .nontrainable_inputs = (1u << 1) | (1u << 2),
    .grad_overwrite_inputs = 1u << 0,
    .chan = NNS_OP_CHAN_PASS,
    .clamp = clip_clamp,
};
