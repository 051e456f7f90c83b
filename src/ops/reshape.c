/* reshape.c — Reshape with the target shape as an s64 constant input (or the
 * `shape` attribute of opset < 5). A 0 copies the input dim at the same index
 * (unless allowzero = 1); one -1 is inferred from the element count.
 *
 * With a dynamic batch (input dim 0 = -1, at graph level) the output's
 * dim 0 is dynamic when the target copies it (0 in position 0) or infers it
 * (-1 in position 0, the other dims dividing the per-sample size); any other
 * target fixes or splits the batch and is an error. The plan re-infers with
 * the concrete batch. */
#include "core/checked.h"
#include "ops/op_util.h"

typedef struct {
    int n;
    int allowzero;
    int64_t shape[NNS_MAX_DIMS];
} reshape_params;

static const char *reshape_target_str(const reshape_params *p, char *buf, size_t len) {
    nns_shape s = nns_shape_make(p->n, p->shape);
    return nns_shape_str(&s, buf, len);
}

static nns_status reshape_prepare(const nns_graph *g, const nns_node *n, void *params) {
    reshape_params *p = params;
    p->allowzero = (int)nns_node_attr_int(n, "allowzero", 0);
    const int64_t *v = NULL;
    int64_t cnt = 0;
    if (n->n_in >= 2 && n->in[1] >= 0) {
        const nns_value *sv = &g->values[n->in[1]];
        if (!sv->data || sv->dtype != NNS_DTYPE_S64)
            return nns_error(NNS_STATUS_UNSUPPORTED,
                             "node '%s' (Reshape): the shape input '%s' must be an s64 constant", n->name, sv->name);
        if (sv->shape.ndim != 1)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Reshape): the shape input '%s' must be 1-D", n->name, sv->name);
        v = sv->data;
        cnt = sv->shape.dims[0];
    } else {
        cnt = nns_node_attr_ints(n, "shape", &v);
        if (!v)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (Reshape): no shape input and no 'shape' attribute", n->name);
    }
    if (cnt > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Reshape): target rank %lld exceeds %d",
                         n->name, (long long)cnt, NNS_MAX_DIMS);
    p->n = (int)cnt;
    int neg = 0, zero = 0;
    for (int i = 0; i < p->n; i++) {
        p->shape[i] = v[i];
        if (v[i] < -1 || v[i] > NNS_MAX_DIM)
            return nns_error(v[i] < -1 ? NNS_STATUS_SHAPE : NNS_STATUS_LIMIT,
                             "node '%s' (Reshape): invalid target dim %lld (outside -1..%lld)", n->name,
                             (long long)v[i], (long long)NNS_MAX_DIM);
        neg += v[i] == -1;
        zero += v[i] == 0;
    }
    char buf[160];
    if (neg > 1)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Reshape): target shape %s has more than one -1",
                         n->name, reshape_target_str(p, buf, sizeof buf));
    if (p->allowzero && zero)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Reshape): target shape %s with allowzero=1 makes an empty tensor",
                         n->name, reshape_target_str(p, buf, sizeof buf));
    return NNS_OK;
}

static nns_status reshape_infer(const nns_graph *g, const nns_node *n, const void *params,
                                const nns_shape *const *in, nns_shape *out) {
    const reshape_params *p = params;
    const nns_shape *s = in[0];
    char bt[160], bi[128];
    nns_shape o;
    memset(&o, 0, sizeof o);
    o.ndim = p->n;
    int neg = -1, copied_dyn = 0, overflow = 0;
    int64_t known = 1;
    for (int i = 0; i < p->n; i++) {
        int64_t v = p->shape[i];
        if (v == 0 && !p->allowzero) {
            if (i >= s->ndim)
                return nns_error(NNS_STATUS_SHAPE, "node '%s' (Reshape): target %s copies dim %d of input %s, which has rank %d",
                                 n->name, reshape_target_str(p, bt, sizeof bt), i,
                                 nns_shape_str(s, bi, sizeof bi), s->ndim);
            o.dims[i] = s->dims[i];
            if (s->dims[i] < 0) copied_dyn = 1;
            else if (nns_ck_mul_i64(known, s->dims[i], &known)) overflow = 1;
        } else if (v == -1) {
            neg = i;
        } else {
            o.dims[i] = v;
            if (nns_ck_mul_i64(known, v, &known)) overflow = 1;
        }
    }
    if (overflow || known > nns_limit_tensor_elems())
        return nns_error(NNS_STATUS_LIMIT, "node '%s' (Reshape): target %s of input %s has more than %lld elements",
                         n->name, reshape_target_str(p, bt, sizeof bt), nns_shape_str(s, bi, sizeof bi),
                         (long long)nns_limit_tensor_elems());
    int dyn = 0;
    int64_t total = 1; /* input elements, without a dynamic dim */
    for (int d = 0; d < s->ndim; d++) {
        if (s->dims[d] < 0) dyn = 1;
        else total *= s->dims[d];
    }
    if (dyn && !copied_dyn && neg != 0)
        return nns_error(NNS_STATUS_SHAPE,
                         "node '%s' (Reshape): target shape %s fixes or splits the dynamic batch of input %s "
                         "(use 0 or -1 as the batch dim)",
                         n->name, reshape_target_str(p, bt, sizeof bt), nns_shape_str(s, bi, sizeof bi));
    if (neg >= 0) {
        if (known <= 0 || total % known)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Reshape): input %s (%lld elements%s) cannot be reshaped to %s",
                             n->name, nns_shape_str(s, bi, sizeof bi), (long long)total,
                             dyn ? " per sample" : "", reshape_target_str(p, bt, sizeof bt));
        o.dims[neg] = (dyn && !copied_dyn) ? -1 : total / known;
    } else if (known != total) {
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Reshape): input %s (%lld elements%s) cannot be reshaped to %s (%lld elements)",
                         n->name, nns_shape_str(s, bi, sizeof bi), (long long)total,
                         dyn ? " per sample" : "", reshape_target_str(p, bt, sizeof bt), (long long)known);
    }
    out[0] = o;
    return NNS_OK;
}

const nns_op_def nns_op_reshape = {
    .name = "Reshape",
    .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .params_size = sizeof(reshape_params),
    .prepare = reshape_prepare,
    .f32_inputs = 1u,
    .q8_inputs = 1u,
    .out_dtype = NNS_OUT_SAME_AS(0),
    .infer = reshape_infer,
    .forward = nns_op_copy_forward,
    .backward = nns_op_copy_backward,
    .nontrainable_inputs = 1u << 1,
};
