/* concat.c — Concat along `axis` (required; negative counts from the end).
 * All inputs share every dim but the axis. Forward copies each input's rows
 * into the output; backward adds the matching slices of the output gradient. */
#include "ops/op_util.h"

typedef struct { int64_t axis; } concat_params;

static nns_status concat_prepare(const nns_graph *g, const nns_node *n, void *params) {
    concat_params *p = params;
    if (!nns_node_attr(n, "axis"))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Concat): attribute 'axis' is required", n->name);
    p->axis = nns_node_attr_int(n, "axis", 0);
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (Concat): input %d is omitted", n->name, i);
    }
    return NNS_OK;
}

static nns_status concat_infer(const nns_graph *g, const nns_node *n, const void *params,
                               const nns_shape *const *in, nns_shape *out) {
    const concat_params *p = params;
    int rank = in[0]->ndim, axis;
    nns_status st = nns_op_norm_axis(n, "axis", p->axis, rank, 0, &axis);
    if (st) return st;
    nns_shape o = *in[0];
    for (int i = 1; i < n->n_in; i++) {
        const nns_shape *s = in[i];
        char sa[128], sb[128];
        if (s->ndim != rank)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Concat): input %d has shape %s, input 0 has %s (ranks differ)",
                             n->name, i, nns_shape_str(s, sa, sizeof sa), nns_shape_str(in[0], sb, sizeof sb));
        for (int d = 0; d < rank; d++) {
            if (d == axis) {
                o.dims[d] = (o.dims[d] < 0 || s->dims[d] < 0) ? -1 : o.dims[d] + s->dims[d];
                continue;
            }
            /* a dynamic dim (-1) matches anything; the plan checks again */
            if (s->dims[d] != o.dims[d] && s->dims[d] >= 0 && o.dims[d] >= 0)
                return nns_error(NNS_STATUS_SHAPE,
                                 "node '%s' (Concat): input %d has shape %s, input 0 has %s: dim %d differs (axis %d)",
                                 n->name, i, nns_shape_str(s, sa, sizeof sa),
                                 nns_shape_str(in[0], sb, sizeof sb), d, axis);
            if (s->dims[d] < 0) o.dims[d] = -1;
        }
    }
    out[0] = o;
    return NNS_OK;
}

static void concat_geometry(const nns_exec_node *e, int *axis, int64_t *outer, int64_t *inner) {
    const concat_params *p = e->params;
    const nns_shape *s = &e->out[0]->shape;
    int a = (int)(p->axis < 0 ? p->axis + s->ndim : p->axis);
    int64_t o = 1, in = 1;
    for (int d = 0; d < a; d++) o *= s->dims[d];
    for (int d = a + 1; d < s->ndim; d++) in *= s->dims[d];
    *axis = a;
    *outer = o;
    *inner = in;
}

static void concat_forward(nns_exec_node *e) {
    int axis;
    int64_t outer, inner;
    concat_geometry(e, &axis, &outer, &inner);
    const int64_t orow = e->out[0]->shape.dims[axis] * inner;
    float *y = nns_tv_f32(e->out[0]);
    int64_t off = 0;
    for (int k = 0; k < e->n_in; k++) {
        const int64_t row = e->in[k]->shape.dims[axis] * inner;
        const float *x = nns_tv_cf32(e->in[k]);
        if (outer == 1 && x == y + off) { /* written in place (a batch-1 inference plan) */
            off += row;
            continue;
        }
#pragma omp parallel for schedule(static) if (outer * row > NNS_OMP_MIN_ELEMS && outer > 1)
        for (int64_t o = 0; o < outer; o++)
            memcpy(y + o * orow + off, x + o * row, (size_t)row * sizeof(float));
        off += row;
    }
}

static void concat_backward(nns_exec_node *e) {
    const float *gy = e->out[0]->grad;
    if (!gy) return;
    int axis;
    int64_t outer, inner;
    concat_geometry(e, &axis, &outer, &inner);
    const int64_t orow = e->out[0]->shape.dims[axis] * inner;
    int64_t off = 0;
    for (int k = 0; k < e->n_in; k++) {
        const int64_t row = e->in[k]->shape.dims[axis] * inner;
        float *gx = e->in[k]->grad;
        if (gx) {
#pragma omp parallel for schedule(static) if (outer * row > NNS_OMP_MIN_ELEMS)
            for (int64_t o = 0; o < outer; o++) {
                const float *src = gy + o * orow + off;
                float *dst = gx + o * row;
#pragma omp simd
                for (int64_t i = 0; i < row; i++) dst[i] += src[i];
            }
        }
        off += row;
    }
}

const nns_op_def nns_op_concat = {
    .name = "Concat",
    .min_in = 1, .max_in = NNS_MAX_NODE_IO, .min_out = 1, .max_out = 1,
    .params_size = sizeof(concat_params),
    .prepare = concat_prepare,
    .f32_inputs = NNS_IN_ALL,
    .infer = concat_infer,
    .forward = concat_forward,
    .backward = concat_backward,
    .chan = NNS_OP_CHAN_CONCAT,
};
