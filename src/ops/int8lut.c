/* int8lut.c — Int8Lut: y = table[x] for a u8 or s8 tensor x (indexed by
 * its stored byte) and a constant table of 256 u8 or s8 values, y of the
 * table's dtype (nnslim's own op, internal). The int8 lowering puts it in
 * place of DequantizeLinear [-> Relu | Clip] -> QuantizeLinear, the table
 * holding what those compute for each byte, so a change of scale between
 * two quantized activations costs one load per value. */
#include <omp.h>

#include "ops/op_util.h"

static nns_status lut_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)params;
    const nns_value *x = &g->values[n->in[0]], *t = &g->values[n->in[1]];
    if (x->dtype != NNS_DTYPE_U8 && x->dtype != NNS_DTYPE_S8)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Int8Lut): input '%s' is %s, not u8 or s8", n->name, x->name,
                         nns_dtype_name(x->dtype));
    if (!t->data || (t->dtype != NNS_DTYPE_U8 && t->dtype != NNS_DTYPE_S8) || nns_shape_numel(&t->shape) != 256)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Int8Lut): table '%s' must be a constant of 256 u8 or s8 values",
                         n->name, t->name);
    return NNS_OK;
}

static nns_status lut_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                            nns_shape *out) {
    (void)g, (void)n, (void)params;
    out[0] = *in[0];
    return NNS_OK;
}

static void lut_forward(nns_exec_node *e) {
    const uint8_t *x = e->in[0]->data, *t = e->in[1]->data;
    uint8_t *y = e->out[0]->data;
    const int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for schedule(static) if (n > 262144)
    for (int64_t i = 0; i < n; i++) y[i] = t[x[i]];
}

const nns_op_def nns_op_int8lut = {
    .name = "Int8Lut",
    .internal = 1,
    .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .prepare = lut_prepare,
    .infer = lut_infer,
    .forward = lut_forward,
    .out_dtype = NNS_OUT_SAME_AS(1),
    .nontrainable_inputs = ~0u,
};
