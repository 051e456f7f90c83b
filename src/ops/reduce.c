/* reduce.c — ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
 * ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp over a
 * set of axes: the `axes` attribute (ReduceSum before opset 13, the others
 * before 18) or an s64 constant input; keepdims (default 1);
 * noop_with_empty_axes (default 0: no axes reduces every dim; 1: the input
 * as it is). Each output element accumulates its inputs in index order, in
 * double for the sums (float for Max, Min); ReduceLogSumExp subtracts the
 * maximum first. Max and Min propagate NaN. Backward for ReduceSum and
 * ReduceMean (each input gets its output's gradient, divided by the count
 * for Mean); the others are inference-only. */
#include <math.h>

#include "ops/op_util.h"

enum { R_SUM = 0, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SUMSQ, R_LOGSUM, R_LOGSUMEXP };

typedef struct {
    int kind, keepdims, noop, n; /* n: axes given (-1: none) */
    int64_t axes[NNS_MAX_DIMS];
} reduce_params;

static nns_status reduce_prepare_kind(const nns_graph *g, const nns_node *n, void *params, int kind) {
    reduce_params *p = params;
    p->kind = kind;
    p->keepdims = nns_node_attr_int(n, "keepdims", 1) != 0;
    p->noop = nns_node_attr_int(n, "noop_with_empty_axes", 0) != 0;
    const int64_t *v = NULL;
    int64_t cnt;
    if (n->n_in >= 2 && n->in[1] >= 0) {
        const nns_value *a = &g->values[n->in[1]];
        if (!a->data || a->dtype != NNS_DTYPE_S64 || a->shape.ndim != 1)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): the axes input '%s' must be an s64 constant, 1-D",
                             n->name, n->op_type, a->name);
        v = a->data;
        cnt = a->shape.dims[0];
    } else {
        cnt = nns_node_attr_ints(n, "axes", &v);
        if (!v) cnt = 0;
    }
    if (cnt > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): %lld axes (at most %d)", n->name, n->op_type,
                         (long long)cnt, NNS_MAX_DIMS);
    p->n = (int)cnt;
    for (int i = 0; i < p->n; i++) p->axes[i] = v[i];
    return NNS_OK;
}

/* Which input dims are reduced (red[d]); 0 reduced dims with noop: none. */
static nns_status reduced_dims(const nns_node *n, const reduce_params *p, int r, int *red) {
    for (int d = 0; d < r; d++) red[d] = p->n == 0 && !p->noop;
    for (int i = 0; i < p->n; i++) {
        const int64_t a = p->axes[i] < 0 ? p->axes[i] + r : p->axes[i];
        if (a < 0 || a >= r)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): axis %lld is out of range for rank %d", n->name,
                             n->op_type, (long long)p->axes[i], r);
        red[a] = 1;
    }
    return NNS_OK;
}

static nns_status reduce_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                               nns_shape *out) {
    (void)g;
    const reduce_params *p = params;
    int red[NNS_MAX_DIMS];
    nns_status st = reduced_dims(n, p, in[0]->ndim, red);
    if (st) return st;
    nns_shape o;
    memset(&o, 0, sizeof o);
    for (int d = 0; d < in[0]->ndim; d++) {
        if (red[d] && in[0]->dims[d] == 0)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): reduces an empty dim %d", n->name, n->op_type, d);
        if (!red[d]) o.dims[o.ndim++] = in[0]->dims[d];
        else if (p->keepdims) o.dims[o.ndim++] = 1;
    }
    out[0] = o;
    return NNS_OK;
}

/* For each input element, the index of its output element: os[d] the
 * output stride of input dim d (0 where reduced). */
static void out_strides(const nns_shape *x, const int *red, int64_t *os, int64_t *count) {
    int64_t s = 1;
    *count = 1;
    for (int d = x->ndim - 1; d >= 0; d--) {
        os[d] = red[d] ? 0 : s;
        if (red[d]) *count *= x->dims[d];
        else s *= x->dims[d];
    }
}

/* Runs the statements given last with i (input index) and o (output index) for every input element. */
#define FOR_EACH(x, os, ...)                                                                      \
    do {                                                                                           \
        int64_t idx_[NNS_MAX_DIMS] = {0}, o = 0;                                                   \
        const int64_t total_ = nns_shape_numel(x);                                                 \
        for (int64_t i = 0; i < total_; i++) {                                                     \
            __VA_ARGS__;                                                                           \
            for (int d = (x)->ndim - 1; d >= 0; d--) {                                             \
                o += (os)[d];                                                                      \
                if (++idx_[d] < (x)->dims[d]) break;                                               \
                o -= (os)[d] * (x)->dims[d];                                                       \
                idx_[d] = 0;                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* The reduced dims are the trailing ones: output j reduces the cnt
 * consecutive inputs from x + j * cnt, in index order as FOR_EACH would
 * (the same results), outputs split among threads. */
static void reduce_trailing(int k, const float *x, float *y, int64_t ny, int64_t cnt) {
#pragma omp parallel for schedule(static) if (ny > 1 && ny * cnt > NNS_OMP_MIN_ELEMS)
    for (int64_t j = 0; j < ny; j++) {
        const float *v = x + j * cnt;
        if (k == R_MAX || k == R_MIN) {
            float c = k == R_MIN ? INFINITY : -INFINITY;
            for (int64_t i = 0; i < cnt; i++)
                if (v[i] != v[i] || (k == R_MIN ? v[i] < c : v[i] > c)) c = c != c ? c : v[i];
            y[j] = c;
            continue;
        }
        double a = k == R_PROD ? 1.0 : 0.0;
        for (int64_t i = 0; i < cnt; i++) {
            const double t = v[i];
            a = k == R_PROD ? a * t : k == R_L1 ? a + fabs(t) : k == R_L2 || k == R_SUMSQ ? a + t * t : a + t;
        }
        y[j] = (float)(k == R_MEAN ? a / (double)cnt : k == R_L2 ? sqrt(a) : k == R_LOGSUM ? log(a) : a);
    }
}

static void reduce_forward(nns_exec_node *e) {
    const reduce_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape;
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    const int64_t ny = nns_tv_numel(e->out[0]);
    int red[NNS_MAX_DIMS];
    int64_t os[NNS_MAX_DIMS], cnt;
    reduced_dims(e->node, p, xs->ndim, red);
    out_strides(xs, red, os, &cnt);
    double *acc = e->work;
    const int k = p->kind;
    int t = xs->ndim, trailing = 1;
    while (t > 0 && red[t - 1]) t--;
    for (int d = 0; d < t; d++) trailing &= !red[d];
    if (trailing && t < xs->ndim && k != R_LOGSUMEXP) {
        reduce_trailing(k, x, y, ny, cnt);
        return;
    }
    if (k == R_MAX || k == R_MIN || k == R_LOGSUMEXP) { /* the extreme (for LogSumExp, its shift) */
        for (int64_t j = 0; j < ny; j++) y[j] = k == R_MIN ? INFINITY : -INFINITY;
        FOR_EACH(xs, os, {
            const float v = x[i], c = y[o];
            if (v != v || (k == R_MIN ? v < c : v > c)) y[o] = c != c ? c : v;
        });
        if (k != R_LOGSUMEXP) return;
    }
    for (int64_t j = 0; j < ny; j++) acc[j] = k == R_PROD ? 1.0 : 0.0;
    FOR_EACH(xs, os, {
        const double v = x[i];
        switch (k) {
        case R_PROD: acc[o] *= v; break;
        case R_L1: acc[o] += fabs(v); break;
        case R_L2:
        case R_SUMSQ: acc[o] += v * v; break;
        case R_LOGSUMEXP: acc[o] += isinf(y[o]) ? 0.0 : exp(v - y[o]); break;
        default: acc[o] += v;
        }
    });
    for (int64_t j = 0; j < ny; j++) {
        const double a = acc[j];
        y[j] = (float)(k == R_MEAN     ? a / (double)cnt
                       : k == R_L2     ? sqrt(a)
                       : k == R_LOGSUM ? log(a)
                       : k == R_LOGSUMEXP ? (isinf(y[j]) ? (double)y[j] : y[j] + log(a))
                                       : a);
    }
}

static size_t reduce_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)params, (void)in, (void)training;
    return (size_t)(nns_shape_numel(out) > 0 ? nns_shape_numel(out) : 1) * sizeof(double);
}

static void reduce_backward(nns_exec_node *e) {
    const reduce_params *p = e->params;
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad;
    if (!gx || !gy) return;
    const nns_shape *xs = &e->in[0]->shape;
    int red[NNS_MAX_DIMS];
    int64_t os[NNS_MAX_DIMS], cnt;
    reduced_dims(e->node, p, xs->ndim, red);
    out_strides(xs, red, os, &cnt);
    const float sc = p->kind == R_MEAN ? 1.0f / (float)cnt : 1.0f;
    FOR_EACH(xs, os, { gx[i] += gy[o] * sc; });
}

#define REDUCE_DEF(sym, onnx, kind, bwd)                                                                   \
    static nns_status sym##_prepare(const nns_graph *g, const nns_node *n, void *p) {                       \
        return reduce_prepare_kind(g, n, p, kind);                                                         \
    }                                                                                                      \
    const nns_op_def sym = {                                                                               \
        .name = onnx,                                                                                      \
        .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,                                              \
        .params_size = sizeof(reduce_params),                                                              \
        .prepare = sym##_prepare,                                                                          \
        .f32_inputs = 1u,                                                                                  \
        .infer = reduce_infer,                                                                             \
        .work_bytes = reduce_work_bytes,                                                                   \
        .forward = reduce_forward,                                                                         \
        .backward = bwd,                                                                                   \
        .nontrainable_inputs = 1u << 1,                                                                    \
    };

REDUCE_DEF(nns_op_reducesum, "ReduceSum", R_SUM, reduce_backward)
REDUCE_DEF(nns_op_reducemean, "ReduceMean", R_MEAN, reduce_backward)
REDUCE_DEF(nns_op_reducemax, "ReduceMax", R_MAX, NULL)
REDUCE_DEF(nns_op_reducemin, "ReduceMin", R_MIN, NULL)
REDUCE_DEF(nns_op_reduceprod, "ReduceProd", R_PROD, NULL)
REDUCE_DEF(nns_op_reducel1, "ReduceL1", R_L1, NULL)
REDUCE_DEF(nns_op_reducel2, "ReduceL2", R_L2, NULL)
REDUCE_DEF(nns_op_reducesumsquare, "ReduceSumSquare", R_SUMSQ, NULL)
REDUCE_DEF(nns_op_reducelogsum, "ReduceLogSum", R_LOGSUM, NULL)
REDUCE_DEF(nns_op_reducelogsumexp, "ReduceLogSumExp", R_LOGSUMEXP, NULL)
