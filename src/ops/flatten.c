/* flatten.c — Flatten: [d0..dk-1, dk..] -> [d0*..*dk-1, dk*..] with k = axis
 * (default 1, in [-r, r]). A dynamic batch stays dynamic for axis >= 1. */
#include "ops/op_util.h"

typedef struct { int64_t axis; } flatten_params;

static nns_status flatten_prepare(const nns_graph *g, const nns_node *n, void *params) {
    flatten_params *p = params;
    p->axis = nns_node_attr_int(n, "axis", 1);
    return NNS_OK;
}

static nns_status flatten_infer(const nns_graph *g, const nns_node *n, const void *params,
                                const nns_shape *const *in, nns_shape *out) {
    const flatten_params *p = params;
    int axis;
    nns_status st = nns_op_norm_axis(n, "axis", p->axis, in[0]->ndim, 1, &axis);
    if (st) return st;
    int64_t a = 1, b = 1;
    int dyn = 0;
    for (int d = 0; d < in[0]->ndim; d++) {
        int64_t v = in[0]->dims[d];
        if (v < 0) {
            if (d >= axis || d != 0)
                return nns_error(NNS_STATUS_SHAPE,
                                 "node '%s' (Flatten): axis %lld would merge the dynamic batch dim into dim 1",
                                 n->name, (long long)p->axis);
            dyn = 1;
            continue;
        }
        if (d < axis) a *= v; else b *= v;
    }
    int64_t dims[2] = {dyn ? -1 : a, b};
    out[0] = nns_shape_make(2, dims);
    return NNS_OK;
}

const nns_op_def nns_op_flatten = {
    .name = "Flatten",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(flatten_params),
    .prepare = flatten_prepare,
    .f32_inputs = 1u,
    .q8_inputs = 1u,
    .out_dtype = NNS_OUT_SAME_AS(0),
    .infer = flatten_infer,
    .forward = nns_op_copy_forward,
    .backward = nns_op_copy_backward,
    .chan = NNS_OP_CHAN_FLATTEN,
};
