/* cast.c — Cast (ONNX opset 13) to float: y = x as float32, for any dtype
 * nnslim holds (f16 and bf16 weights stored in 16 bits, integers); and
 * from float to float16 or bfloat16 (to nearest even, a NaN stays a NaN),
 * which a model with 16-bit activations uses to round them
 * (Cast to 16 bits, then back to float). Other targets are refused by name. Shape subgraphs' Casts of constants
 * are folded at import (src/onnx/onnx_fold.c); a Cast of an f16 or bf16
 * weight stays a node so that the model keeps its 16-bit weight, and
 * sessions fold it once (nns_graph_exec_copy). No gradient flows through
 * it (a 16-bit weight is not trained). */
#include <omp.h>

#include "ops/op_util.h"

#define ONNX_FLOAT 1
#define ONNX_FLOAT16 10
#define ONNX_BFLOAT16 16

/* The dtype a Cast to ONNX type `to` writes, NNS_DTYPE_UNDEFINED if none
 * of ours. */
static nns_dtype cast_target(int64_t to) {
    return to == ONNX_FLOAT ? NNS_DTYPE_F32 : to == ONNX_FLOAT16 ? NNS_DTYPE_F16 : to == ONNX_BFLOAT16 ? NNS_DTYPE_BF16
                                                                                                    : NNS_DTYPE_UNDEFINED;
}

static nns_dtype cast_out_dtype(const nns_node *n, int j) {
    (void)j;
    const nns_dtype t = cast_target(nns_node_attr_int(n, "to", 0));
    return t == NNS_DTYPE_UNDEFINED ? NNS_DTYPE_F32 : t;
}

static nns_status cast_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)params;
    const int64_t to = nns_node_attr_int(n, "to", 0);
    const nns_dtype t = cast_target(to);
    if (t == NNS_DTYPE_UNDEFINED)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (Cast): only casts to float, float16 or bfloat16 (to=1, 10, 16) are supported, "
                         "not to=%lld",
                         n->name, (long long)to);
    const nns_value *x = &g->values[n->in[0]];
    if (x->dtype != NNS_DTYPE_UNDEFINED && !nns_dtype_get_info(x->dtype))
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Cast): input '%s' has an unknown dtype", n->name, x->name);
    if (t != NNS_DTYPE_F32 && x->dtype != NNS_DTYPE_UNDEFINED && x->dtype != NNS_DTYPE_F32 && x->dtype != t)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Cast): a cast to %s reads f32 or %s, not %s ('%s')",
                         n->name, nns_dtype_name(t), nns_dtype_name(t), nns_dtype_name(x->dtype), x->name);
    return NNS_OK;
}

static nns_status cast_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                             nns_shape *out) {
    (void)g, (void)n, (void)params;
    out[0] = *in[0];
    return NNS_OK;
}

/* To 16 bits: from f32 (rounded), or a copy of the same type. */
static void cast_to_half(nns_exec_node *e) {
    const nns_dtype_info *di = nns_dtype_get_info(e->out[0]->dtype);
    const int64_t n = nns_tv_numel(e->out[0]);
    uint16_t *y = e->out[0]->data;
    if (e->in[0]->dtype != NNS_DTYPE_F32) {
        if (n > 0 && y != e->in[0]->data) memcpy(y, e->in[0]->data, (size_t)n * sizeof *y);
        return;
    }
    const float *x = nns_tv_cf32(e->in[0]);
#pragma omp parallel for schedule(static) if (n > 262144)
    for (int64_t i = 0; i < n; i++) di->from_f32(x[i], &y[i]);
}

static void cast_forward(nns_exec_node *e) {
    if (e->out[0]->dtype != NNS_DTYPE_F32) {
        cast_to_half(e);
        return;
    }
    const nns_dtype_info *di = nns_dtype_get_info(e->in[0]->dtype);
    const char *x = e->in[0]->data;
    float *y = nns_tv_f32(e->out[0]);
    const int64_t n = nns_tv_numel(e->out[0]);
    const size_t es = di->size;
#pragma omp parallel for schedule(static) if (n > 262144)
    for (int64_t i = 0; i < n; i++) y[i] = di->to_f32(x + (size_t)i * es);
}

const nns_op_def nns_op_cast = {
    .name = "Cast",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .prepare = cast_prepare,
    .infer = cast_infer,
    .forward = cast_forward,
    .out_dtype_of = cast_out_dtype,
    .nontrainable_inputs = ~0u,
};
