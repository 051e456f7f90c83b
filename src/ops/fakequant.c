/* fakequant.c — FakeQuant (internal to nnslim: ONNX import and export never
 * see it): a QuantizeLinear -> DequantizeLinear pair computed in float, as
 * quantization-aware training runs it.
 *   y = (saturate(round_half_even(x / s) + zp, qmin, qmax) - zp) * s
 * Inputs: x; scale s and zero_point zp (float holding an integer), each one
 * value (per tensor) or one per channel of x's dim `axis` (attribute,
 * default 1). Attributes qmin, qmax: the integer range (required).
 * Backward: the straight-through estimator, dx += dy where the rounded value
 * is inside [qmin, qmax] (what PyTorch's fake_quantize does), and, when the
 * scale is trainable (learned step size, Esser et al., LSQ), ds += dy *
 * (inside: round(x / s) - x / s; below: qmin - zp; above: qmax - zp) * g,
 * g = 1 / sqrt(elements per scale * qmax). zero_point is not trained. */
#include <math.h>

#include "core/qmath.h"
#include "ops/op_util.h"

typedef struct {
    int32_t qmin, qmax;
    int64_t axis; /* as given; normalised per shape */
} fq_params;

/* |q| <= 2^24 keeps every integer of the range exact in a float. */
#define FQ_MAX_Q (1 << 24)

static nns_status fq_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    fq_params *p = params;
    const nns_attr *lo = nns_node_attr(n, "qmin"), *hi = nns_node_attr(n, "qmax");
    if (!lo || !hi)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (FakeQuant): attributes qmin and qmax are required", n->name);
    const int64_t a = nns_node_attr_int(n, "qmin", 0), b = nns_node_attr_int(n, "qmax", 0);
    if (a >= b || a < -FQ_MAX_Q || b > FQ_MAX_Q)
        return nns_error(NNS_STATUS_INVALID_ARG, "node '%s' (FakeQuant): qmin %lld and qmax %lld are not a range within +-2^24",
                         n->name, (long long)a, (long long)b);
    p->qmin = (int32_t)a;
    p->qmax = (int32_t)b;
    p->axis = nns_node_attr_int(n, "axis", 1);
    return NNS_OK;
}

/* Channels of the scale (1: per tensor) and, for per-channel, the axis. */
static nns_status fq_channels(const nns_node *n, const fq_params *p, const nns_shape *x, const nns_shape *s,
                              const nns_shape *zp, int *axis, int64_t *ch) {
    *ch = nns_shape_numel(s);
    *axis = 0;
    if (s->ndim > 1 || !nns_shape_eq(s, zp))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (FakeQuant): scale and zero_point must be one value or one per channel, of the same shape",
                         n->name);
    if (*ch == 1) return NNS_OK;
    nns_status st = nns_op_norm_axis(n, "axis", p->axis, x->ndim, 0, axis);
    if (st) return st;
    if (x->dims[*axis] != *ch && x->dims[*axis] != -1)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (FakeQuant): %lld scales for dim %d of length %lld", n->name,
                         (long long)*ch, *axis, (long long)x->dims[*axis]);
    return NNS_OK;
}

static nns_status fq_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    (void)g;
    int axis;
    int64_t ch;
    nns_status st = fq_channels(n, params, in[0], in[1], in[2], &axis, &ch);
    if (!st) out[0] = *in[0];
    return st;
}

/* x viewed around the scale's axis. */
static nns_axis_view fq_view_of(const nns_exec_node *e) {
    const fq_params *p = e->params;
    return nns_axis_view_of(&e->in[0]->shape, p->axis, nns_tv_numel(e->in[1]));
}

static inline float fq_scale(float s) { return s > 1e-30f ? s : 1e-30f; }

static void fq_forward(nns_exec_node *e) {
    const fq_params *p = e->params;
    const nns_axis_view v = fq_view_of(e);
    const float *x = nns_tv_cf32(e->in[0]), *sc = nns_tv_cf32(e->in[1]), *zpf = nns_tv_cf32(e->in[2]);
    float *y = nns_tv_f32(e->out[0]);
    const int64_t rows = v.outer * v.ch;
#pragma omp parallel for schedule(static) if (rows * v.inner > NNS_OMP_MIN_ELEMS)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t c = r % v.ch;
        const float s = fq_scale(sc[c]);
        const int32_t zp = (int32_t)lrintf(zpf[c]);
        const float *xr = x + r * v.inner;
        float *yr = y + r * v.inner;
        /* x / s, not x * (1 / s): QuantizeLinear divides, and the product can
         * round across a half step */
        for (int64_t i = 0; i < v.inner; i++) yr[i] = (float)(nns_q_round(xr[i] / s, zp, p->qmin, p->qmax) - zp) * s;
    }
}

/* dx (straight through inside the range) for one row; returns the row's
 * LSQ sum for ds (before the factor g). */
static double fq_row_backward(const fq_params *p, const float *x, const float *gy, float *gx, int64_t n, float s,
                              int32_t zp, int overwrite) {
    double ds = 0;
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i] / s, r = rintf(v) + (float)zp;
        const int below = r < (float)p->qmin, above = r > (float)p->qmax;
        const float pass = below | above ? 0.0f : gy[i];
        if (gx) gx[i] = overwrite ? pass : gx[i] + pass;
        ds += gy[i] * (below ? (double)(p->qmin - zp) : above ? (double)(p->qmax - zp) : (double)(rintf(v) - v));
    }
    return ds;
}

static void fq_backward(nns_exec_node *e) {
    const fq_params *p = e->params;
    const nns_axis_view v = fq_view_of(e);
    const float *x = nns_tv_cf32(e->in[0]), *sc = nns_tv_cf32(e->in[1]), *zpf = nns_tv_cf32(e->in[2]);
    const float *gy = e->out[0]->grad;
    float *gx = e->in[0]->grad, *gs = e->in[1]->grad;
    if (!gy || (!gx && !gs)) return;
    const int overwrite = (e->grad_overwrite & 1u) != 0;
    const double g = 1.0 / sqrt((double)(v.outer * v.inner) * (p->qmax > 0 ? p->qmax : 1));
    for (int64_t c = 0; c < v.ch; c++) {
        const float s = fq_scale(sc[c]);
        const int32_t zp = (int32_t)lrintf(zpf[c]);
        double ds = 0;
#pragma omp parallel for schedule(static) reduction(+ : ds) if (v.outer * v.inner > NNS_OMP_MIN_ELEMS)
        for (int64_t o = 0; o < v.outer; o++) {
            const int64_t off = (o * v.ch + c) * v.inner;
            ds += fq_row_backward(p, x + off, gy + off, gx ? gx + off : NULL, v.inner, s, zp, overwrite);
        }
        if (gs) gs[c] += (float)(ds * g);
    }
}

const nns_op_def nns_op_fakequant = {
    .name = "FakeQuant",
    .internal = 1,
    .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(fq_params),
    .prepare = fq_prepare,
    .infer = fq_infer,
    .f32_inputs = NNS_IN_ALL,
    .forward = fq_forward,
    .backward = fq_backward,
    .nontrainable_inputs = 1u << 2,
    .grad_overwrite_inputs = 1u << 0,
    .chan = NNS_OP_CHAN_PASS,
};
