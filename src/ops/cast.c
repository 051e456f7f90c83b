/* cast.c — Cast (ONNX opset 13) to float: y = x as float32, for any dtype
 * nnslim holds (f16 and bf16 weights stored in 16 bits, integers).
 * Other targets are refused by name. Shape subgraphs' Casts of constants
 * are folded at import (src/onnx/onnx_fold.c); a Cast of an f16 or bf16
 * weight stays a node so that the model keeps its 16-bit weight, and
 * sessions fold it once (nns_graph_exec_copy). No gradient flows through
 * it (a 16-bit weight is not trained). */
#include <omp.h>

#include "ops/op_util.h"

#define ONNX_FLOAT 1

static nns_status cast_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)params;
    const int64_t to = nns_node_attr_int(n, "to", 0);
    if (to != ONNX_FLOAT)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Cast): only a cast to float (to=1) is supported, not to=%lld",
                         n->name, (long long)to);
    const nns_value *x = &g->values[n->in[0]];
    if (x->dtype != NNS_DTYPE_UNDEFINED && !nns_dtype_get_info(x->dtype))
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Cast): input '%s' has an unknown dtype", n->name, x->name);
    return NNS_OK;
}

static nns_status cast_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                             nns_shape *out) {
    (void)g, (void)n, (void)params;
    out[0] = *in[0];
    return NNS_OK;
}

static void cast_forward(nns_exec_node *e) {
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
    .nontrainable_inputs = ~0u,
};
