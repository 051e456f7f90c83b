/* softmax.c — Softmax and LogSoftmax along one axis (opset 13 semantics,
 * axis default -1). Numerically stable: the row maximum is subtracted before
 * exp, sums accumulate in double.
 * Backward: Softmax     dx += y * (dy - sum(dy * y))
 *           LogSoftmax  dx += dy - exp(y) * sum(dy)
 * Rows are the (outer, inner) pairs around the axis; a row's elements are
 * `inner` apart, so axis = -1 walks contiguous memory. */
#include <math.h>

#include "ops/op_util.h"

typedef struct { int64_t axis; int log; } softmax_params;

static nns_status softmax_prepare_common(const nns_graph *g, const nns_node *n, void *params, int log) {
    softmax_params *p = params;
    p->axis = nns_node_attr_int(n, "axis", -1);
    p->log = log;
    return NNS_OK;
}

static nns_status softmax_prepare(const nns_graph *g, const nns_node *n, void *params) {
    return softmax_prepare_common(g, n, params, 0);
}

static nns_status logsoftmax_prepare(const nns_graph *g, const nns_node *n, void *params) {
    return softmax_prepare_common(g, n, params, 1);
}

static nns_status softmax_infer(const nns_graph *g, const nns_node *n, const void *params,
                                const nns_shape *const *in, nns_shape *out) {
    const softmax_params *p = params;
    int axis;
    nns_status st = nns_op_norm_axis(n, "axis", p->axis, in[0]->ndim, 0, &axis);
    if (st) return st;
    out[0] = *in[0];
    return NNS_OK;
}

static void softmax_geometry(const nns_exec_node *e, int64_t *outer, int64_t *len, int64_t *inner) {
    const softmax_params *p = e->params;
    const nns_shape *s = &e->in[0]->shape;
    int a = (int)(p->axis < 0 ? p->axis + s->ndim : p->axis);
    int64_t o = 1, in = 1;
    for (int d = 0; d < a; d++) o *= s->dims[d];
    for (int d = a + 1; d < s->ndim; d++) in *= s->dims[d];
    *outer = o;
    *len = s->dims[a];
    *inner = in;
}

static void softmax_forward(nns_exec_node *e) {
    const softmax_params *p = e->params;
    int64_t outer, n, inner;
    softmax_geometry(e, &outer, &n, &inner);
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    const int64_t rows = outer * inner;
    const int lg = p->log;
#pragma omp parallel for schedule(static) if (rows * n > NNS_OMP_MIN_ELEMS / 8 && rows > 1)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t base = (r / inner) * n * inner + r % inner;
        const float *X = x + base;
        float *Y = y + base;
        float m = X[0];
        for (int64_t i = 1; i < n; i++) m = X[i * inner] > m ? X[i * inner] : m;
        double sum = 0.0;
        if (lg) {
            for (int64_t i = 0; i < n; i++) sum += exp((double)(X[i * inner] - m));
            const float lse = m + (float)log(sum);
            for (int64_t i = 0; i < n; i++) Y[i * inner] = X[i * inner] - lse;
        } else {
            for (int64_t i = 0; i < n; i++) {
                float t = expf(X[i * inner] - m);
                Y[i * inner] = t;
                sum += t;
            }
            const float inv = (float)(1.0 / sum);
            for (int64_t i = 0; i < n; i++) Y[i * inner] *= inv;
        }
    }
}

static void softmax_backward(nns_exec_node *e) {
    const softmax_params *p = e->params;
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad, *y = nns_tv_f32(e->out[0]);
    if (!gx || !gy) return;
    int64_t outer, n, inner;
    softmax_geometry(e, &outer, &n, &inner);
    const int64_t rows = outer * inner;
    const int lg = p->log;
#pragma omp parallel for schedule(static) if (rows * n > NNS_OMP_MIN_ELEMS / 4 && rows > 1)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t base = (r / inner) * n * inner + r % inner;
        const float *Y = y + base, *G = gy + base;
        float *GX = gx + base;
        double dot = 0.0;
        if (lg) {
            for (int64_t i = 0; i < n; i++) dot += G[i * inner];
            const float s = (float)dot;
            for (int64_t i = 0; i < n; i++) GX[i * inner] += G[i * inner] - expf(Y[i * inner]) * s;
        } else {
            for (int64_t i = 0; i < n; i++) dot += (double)G[i * inner] * Y[i * inner];
            const float s = (float)dot;
            for (int64_t i = 0; i < n; i++) GX[i * inner] += Y[i * inner] * (G[i * inner] - s);
        }
    }
}

const nns_op_def nns_op_softmax = {
    .name = "Softmax",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(softmax_params),
    .prepare = softmax_prepare,
    .f32_inputs = 1u,
    .infer = softmax_infer,
    .forward = softmax_forward,
    .backward = softmax_backward,
};

const nns_op_def nns_op_logsoftmax = {
    .name = "LogSoftmax",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(softmax_params),
    .prepare = logsoftmax_prepare,
    .f32_inputs = 1u,
    .infer = softmax_infer,
    .forward = softmax_forward,
    .backward = softmax_backward,
};
