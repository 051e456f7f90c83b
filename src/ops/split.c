/* split.c — Split along `axis` (default 0, negative counts from the end)
 * into the node's outputs: the sizes from the `split` input (s64 constant,
 * opset 13+) or attribute (before 13); without them, equal parts (the last
 * smaller when `num_outputs` of opset 18 does not divide the dim). Sizes
 * that do not add up to the dim are an error naming the node. Each output is
 * a copy of its block of the input; backward copies the gradients back. */
#include "ops/op_util.h"

typedef struct {
    int64_t axis;
    int n;                            /* sizes given (0: equal parts) */
    int64_t sizes[NNS_MAX_NODE_IO];
} split_params;

static nns_status split_prepare(const nns_graph *g, const nns_node *n, void *params) {
    split_params *p = params;
    p->axis = nns_node_attr_int(n, "axis", 0);
    const int64_t *v = NULL;
    int64_t cnt = 0;
    if (n->n_in >= 2 && n->in[1] >= 0) {
        const nns_value *a = &g->values[n->in[1]];
        if (!a->data || a->dtype != NNS_DTYPE_S64 || a->shape.ndim != 1)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Split): the split input '%s' must be an s64 constant, 1-D",
                             n->name, a->name);
        v = a->data;
        cnt = a->shape.dims[0];
    } else {
        cnt = nns_node_attr_ints(n, "split", &v);
        if (!v) cnt = 0;
    }
    if (cnt && cnt != n->n_out)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Split): %lld sizes for %d outputs", n->name, (long long)cnt,
                         n->n_out);
    p->n = (int)cnt;
    for (int i = 0; i < p->n; i++) {
        if (v[i] < 0) return nns_error(NNS_STATUS_SHAPE, "node '%s' (Split): size %lld", n->name, (long long)v[i]);
        p->sizes[i] = v[i];
    }
    return NNS_OK;
}

/* The axis and each output's size along it. */
static nns_status split_sizes(const nns_node *n, const split_params *p, const nns_shape *x, int *axis, int64_t *sz) {
    nns_status st = nns_op_norm_axis(n, "axis", p->axis, x->ndim, 0, axis);
    if (st) return st;
    const int64_t dim = x->dims[*axis];
    if (dim < 0) return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Split): splits the dynamic dim %d", n->name, *axis);
    int64_t sum = 0;
    for (int i = 0; i < n->n_out; i++) {
        const int64_t part = (dim + n->n_out - 1) / n->n_out;
        sz[i] = p->n ? p->sizes[i] : (i < n->n_out - 1 ? part : dim - part * (n->n_out - 1));
        if (sz[i] < 0) sz[i] = 0;
        if (sz[i] > dim - sum) /* checked before adding: the sum cannot overflow */
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Split): sizes add up to more than the axis's %lld",
                             n->name, (long long)dim);
        sum += sz[i];
    }
    if (sum != dim)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Split): sizes add up to %lld, the axis has %lld", n->name,
                         (long long)sum, (long long)dim);
    return NNS_OK;
}

static nns_status split_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                              nns_shape *out) {
    (void)g;
    int axis;
    int64_t sz[NNS_MAX_NODE_IO];
    nns_status st = split_sizes(n, params, in[0], &axis, sz);
    for (int i = 0; !st && i < n->n_out; i++) {
        out[i] = *in[0];
        out[i].dims[axis] = sz[i];
    }
    return st;
}

/* Copies between the input and each output (back: output grads into the
 * input's): rows of `inner` floats, `outer` times. */
static void split_move(nns_exec_node *e, int back) {
    int axis;
    int64_t sz[NNS_MAX_NODE_IO];
    const nns_shape *x = &e->in[0]->shape;
    split_sizes(e->node, e->params, x, &axis, sz);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= x->dims[d];
    for (int d = axis + 1; d < x->ndim; d++) inner *= x->dims[d];
    const int64_t row = x->dims[axis] * inner;
    int64_t at = 0;
    for (int i = 0; i < e->n_out; i++) {
        const int64_t len = sz[i] * inner;
        if (back) {
            float *gx = e->in[0]->grad;
            const float *gy = e->out[i]->grad;
            for (int64_t o = 0; gx && gy && o < outer; o++)
                for (int64_t k = 0; k < len; k++) gx[o * row + at + k] += gy[o * len + k];
        } else {
            const float *xv = nns_tv_cf32(e->in[0]);
            float *y = nns_tv_f32(e->out[i]);
            for (int64_t o = 0; o < outer; o++) memcpy(y + o * len, xv + o * row + at, (size_t)len * sizeof(float));
        }
        at += len;
    }
}

static void split_forward(nns_exec_node *e) { split_move(e, 0); }
static void split_backward(nns_exec_node *e) { split_move(e, 1); }

const nns_op_def nns_op_split = {
    .name = "Split",
    .min_in = 1, .max_in = 2, .min_out = 1, .max_out = NNS_MAX_NODE_IO,
    .params_size = sizeof(split_params),
    .prepare = split_prepare,
    .f32_inputs = 1u,
    .infer = split_infer,
    .forward = split_forward,
    .backward = split_backward,
    .nontrainable_inputs = 1u << 1,
};
