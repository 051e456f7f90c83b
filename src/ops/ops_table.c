/* ops_table.c — the op table, indexed by nns_op. */
#include <string.h>
#include <strings.h>
#include <stdio.h>

#include "core/checked.h"
#include "ops/op.h"


const nns_op_def *const nns_op_table[] = {
    [NNS_OP_CONV] = &nns_op_conv,
    [NNS_OP_GEMM] = &nns_op_gemm,
    [NNS_OP_MATMUL] = &nns_op_matmul,
    [NNS_OP_BATCHNORM] = &nns_op_batchnorm,
    [NNS_OP_RELU] = &nns_op_relu,
    [NNS_OP_CLIP] = &nns_op_clip,
    [NNS_OP_LEAKYRELU] = &nns_op_leakyrelu,
    [NNS_OP_SIGMOID] = &nns_op_sigmoid,
    [NNS_OP_HARDSIGMOID] = &nns_op_hardsigmoid,
    [NNS_OP_HARDSWISH] = &nns_op_hardswish,
    [NNS_OP_ADD] = &nns_op_add,
    [NNS_OP_SUB] = &nns_op_sub,
    [NNS_OP_MUL] = &nns_op_mul,
    [NNS_OP_DIV] = &nns_op_div,
    [NNS_OP_MAXPOOL] = &nns_op_maxpool,
    [NNS_OP_AVERAGEPOOL] = &nns_op_averagepool,
    [NNS_OP_GLOBALAVERAGEPOOL] = &nns_op_globalaveragepool,
    [NNS_OP_CONCAT] = &nns_op_concat,
    [NNS_OP_FLATTEN] = &nns_op_flatten,
    [NNS_OP_RESHAPE] = &nns_op_reshape,
    [NNS_OP_TRANSPOSE] = &nns_op_transpose,
    [NNS_OP_DROPOUT] = &nns_op_dropout,
    [NNS_OP_SOFTMAX] = &nns_op_softmax,
    [NNS_OP_LOGSOFTMAX] = &nns_op_logsoftmax,
    [NNS_OP_IDENTITY] = &nns_op_identity,
    [NNS_OP_FAKEQUANT] = &nns_op_fakequant,
    [NNS_OP_QUANTIZELINEAR] = &nns_op_quantizelinear,
    [NNS_OP_DEQUANTIZELINEAR] = &nns_op_dequantizelinear,
    [NNS_OP_INT8CONV] = &nns_op_int8conv,
    [NNS_OP_INT8GEMM] = &nns_op_int8gemm,
    [NNS_OP_INT8ADD] = &nns_op_int8add,
    [NNS_OP_INT8LUT] = &nns_op_int8lut,
    [NNS_OP_CAST] = &nns_op_cast,
    [NNS_OP_DYNAMICQUANTIZELINEAR] = &nns_op_dynamicquantizelinear,
    [NNS_OP_CONVINTEGER] = &nns_op_convinteger,
    [NNS_OP_MATMULINTEGER] = &nns_op_matmulinteger,
    [NNS_OP_ROUND16] = &nns_op_round16,
    [NNS_OP_GEMMW4] = &nns_op_gemmw4,
    [NNS_OP_GEMMF16] = &nns_op_gemmf16,
    [NNS_OP_ABS] = &nns_op_abs,
    [NNS_OP_NEG] = &nns_op_neg,
    [NNS_OP_SQRT] = &nns_op_sqrt,
    [NNS_OP_EXP] = &nns_op_exp,
    [NNS_OP_LOG] = &nns_op_log,
    [NNS_OP_TANH] = &nns_op_tanh,
    [NNS_OP_ERF] = &nns_op_erf,
    [NNS_OP_RECIPROCAL] = &nns_op_reciprocal,
    [NNS_OP_FLOOR] = &nns_op_floor,
    [NNS_OP_CEIL] = &nns_op_ceil,
    [NNS_OP_SOFTPLUS] = &nns_op_softplus,
    [NNS_OP_ELU] = &nns_op_elu,
    [NNS_OP_SELU] = &nns_op_selu,
    [NNS_OP_POW] = &nns_op_pow,
    [NNS_OP_MIN] = &nns_op_min,
    [NNS_OP_MAX] = &nns_op_max,
    [NNS_OP_ROUND] = &nns_op_round,
    [NNS_OP_SIGN] = &nns_op_sign,
    [NNS_OP_SIN] = &nns_op_sin,
    [NNS_OP_COS] = &nns_op_cos,
    [NNS_OP_TAN] = &nns_op_tan,
    [NNS_OP_ASIN] = &nns_op_asin,
    [NNS_OP_ACOS] = &nns_op_acos,
    [NNS_OP_ATAN] = &nns_op_atan,
    [NNS_OP_SINH] = &nns_op_sinh,
    [NNS_OP_COSH] = &nns_op_cosh,
    [NNS_OP_ASINH] = &nns_op_asinh,
    [NNS_OP_ACOSH] = &nns_op_acosh,
    [NNS_OP_ATANH] = &nns_op_atanh,
    [NNS_OP_SOFTSIGN] = &nns_op_softsign,
    [NNS_OP_MISH] = &nns_op_mish,
    [NNS_OP_CELU] = &nns_op_celu,
    [NNS_OP_THRESHOLDEDRELU] = &nns_op_thresholdedrelu,
    [NNS_OP_PRELU] = &nns_op_prelu,
    [NNS_OP_SQUEEZE] = &nns_op_squeeze,
    [NNS_OP_UNSQUEEZE] = &nns_op_unsqueeze,
    [NNS_OP_REDUCESUM] = &nns_op_reducesum,
    [NNS_OP_REDUCEMEAN] = &nns_op_reducemean,
    [NNS_OP_REDUCEMAX] = &nns_op_reducemax,
    [NNS_OP_REDUCEMIN] = &nns_op_reducemin,
    [NNS_OP_REDUCEPROD] = &nns_op_reduceprod,
    [NNS_OP_REDUCEL1] = &nns_op_reducel1,
    [NNS_OP_REDUCEL2] = &nns_op_reducel2,
    [NNS_OP_REDUCESUMSQUARE] = &nns_op_reducesumsquare,
    [NNS_OP_REDUCELOGSUM] = &nns_op_reducelogsum,
    [NNS_OP_REDUCELOGSUMEXP] = &nns_op_reducelogsumexp,
    [NNS_OP_SLICE] = &nns_op_slice,
    [NNS_OP_SPLIT] = &nns_op_split,
    [NNS_OP_PAD] = &nns_op_pad,
    [NNS_OP_ARGMAX] = &nns_op_argmax,
    [NNS_OP_ARGMIN] = &nns_op_argmin,
    [NNS_OP_LAYERNORM] = &nns_op_layernorm,
    [NNS_OP_TRILU] = &nns_op_trilu,
    [NNS_OP_EQUAL] = &nns_op_equal,
    [NNS_OP_LESS] = &nns_op_less,
    [NNS_OP_GREATER] = &nns_op_greater,
    [NNS_OP_LESSOREQUAL] = &nns_op_lessorequal,
    [NNS_OP_GREATEROREQUAL] = &nns_op_greaterorequal,
    [NNS_OP_AND] = &nns_op_and,
    [NNS_OP_OR] = &nns_op_or,
    [NNS_OP_XOR] = &nns_op_xor,
    [NNS_OP_NOT] = &nns_op_not,
    [NNS_OP_WHERE] = &nns_op_where,
    [NNS_OP_SUM] = &nns_op_sum,
    [NNS_OP_MEAN] = &nns_op_mean,
    [NNS_OP_NLLLOSS] = &nns_op_nllloss,
    [NNS_OP_SCELOSS] = &nns_op_sceloss,
    [NNS_OP_RESIZE] = &nns_op_resize,
    [NNS_OP_UPSAMPLE] = &nns_op_upsample,
    [NNS_OP_CONVTRANSPOSE] = &nns_op_convtranspose,
    [NNS_OP_INSTNORM] = &nns_op_instnorm,
    [NNS_OP_LRN] = &nns_op_lrn,
    [NNS_OP_DEPTHTOSPACE] = &nns_op_depthtospace,
    [NNS_OP_SPACETODEPTH] = &nns_op_spacetodepth,
    [NNS_OP_GATHER] = &nns_op_gather,
    [NNS_OP_GATHERELEMENTS] = &nns_op_gatherelements,
    [NNS_OP_EXPAND] = &nns_op_expand,
    [NNS_OP_TILE] = &nns_op_tile,
    [NNS_OP_SHRINK] = &nns_op_shrink,
    [NNS_OP_HARDMAX] = &nns_op_hardmax,
    [NNS_OP_ISNAN] = &nns_op_isnan,
    [NNS_OP_ISINF] = &nns_op_isinf,
};
_Static_assert(sizeof nns_op_table / sizeof nns_op_table[0] == NNS_OP_COUNT,
               "op table must have one entry per nns_op");


/* An inferred output shape that a kernel can be given: rank 0..NNS_MAX_DIMS,
 * dims in 0..NNS_MAX_DIM, and at most nns_limit_tensor_elems() elements. A
 * dim may be -1 (unknown: the batch, wherever a Transpose or Reshape moved
 * it) only when an input has one, i.e. in a graph's shapes, never in a
 * plan's; the known dims are then checked. */
static nns_status check_output(const nns_graph *g, const nns_node *n, int j, const nns_shape *s,
                               int dynamic) {
    const char *vname = n->out[j] >= 0 ? g->values[n->out[j]].name : "?";
    char buf[160];
    if (s->ndim < 0 || s->ndim > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): output '%s' has rank %d, outside 0..%d",
                         n->name, n->op_type, vname, s->ndim, NNS_MAX_DIMS);
    nns_shape known = *s;
    for (int d = 0; d < known.ndim; d++) {
        if (dynamic && known.dims[d] == -1) known.dims[d] = 1;
        if (!nns_ck_dim_ok(known.dims[d]))
            return nns_error(known.dims[d] < 0 ? NNS_STATUS_SHAPE : NNS_STATUS_LIMIT,
                             "node '%s' (%s): output '%s' would have shape %s (dim %d outside 0..%lld)",
                             n->name, n->op_type, vname, nns_shape_str(s, buf, sizeof buf), d,
                             (long long)NNS_MAX_DIM);
    }
    int64_t numel;
    char what[256];
    snprintf(what, sizeof what, "node '%s' (%s): output '%s'", n->name, n->op_type, vname);
    return nns_shape_numel_checked(&known, what, &numel);
}

nns_status nns_op_prepare(const nns_graph *g, const nns_node *n, void *params) {
    const nns_op_def *def = nns_op_table[n->op];
    /* an op's prepare reads its required inputs: an omitted one ("") stops here */
    for (int j = 0; j < def->min_in; j++)
        if (j >= n->n_in || n->in[j] < 0)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): required input %d is omitted (empty name)", n->name,
                             n->op_type, j);
    for (int j = 0; j < n->n_in; j++) {
        if (n->in[j] < 0 || j >= 32 || !(def->f32_inputs >> j & 1u)) continue;
        const nns_value *v = &g->values[n->in[j]];
        const int q8 = def->q8_inputs >> j & 1u && (v->dtype == NNS_DTYPE_U8 || v->dtype == NNS_DTYPE_S8);
        if (v->dtype != NNS_DTYPE_F32 && !q8)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input %d '%s' is %s, only f32 is supported",
                             n->name, n->op_type, j, v->name, nns_dtype_name(v->dtype));
    }
    return def->prepare ? def->prepare(g, n, params) : NNS_OK;
}

nns_status nns_op_infer(const nns_graph *g, const nns_node *n, const void *params,
                        const nns_shape *const *in, const nns_dtype *in_dt,
                        nns_shape *out, nns_dtype *out_dt) {
    const nns_op_def *def = nns_op_table[n->op];
    /* an input named "" is omitted: allowed only past the required ones */
    for (int j = 0; j < def->min_in && j < n->n_in; j++)
        if (!in[j])
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): required input %d is omitted (empty name)",
                             n->name, n->op_type, j);
    int dynamic = 0;
    for (int j = 0; j < n->n_in; j++)
        for (int d = 0; in[j] && d < in[j]->ndim; d++) dynamic |= in[j]->dims[d] == -1;
    nns_status st = def->infer(g, n, params, in, out);
    for (int j = 0; !st && j < n->n_out; j++) st = check_output(g, n, j, &out[j], dynamic);
    const int k = def->out_dtype - 1; /* NNS_OUT_SAME_AS(k) */
    const nns_dtype omitted = def->out_dtype_omitted != NNS_DTYPE_UNDEFINED ? def->out_dtype_omitted : NNS_DTYPE_F32;
    const nns_dtype dt = k < 0 ? NNS_DTYPE_F32 : k < n->n_in && in[k] ? in_dt[k] : omitted;
    for (int j = 0; !st && j < n->n_out; j++)
        out_dt[j] = def->out_dtype_of ? def->out_dtype_of(n, j) : def->out_fixed ? def->out_fixed[j] : dt;
    return st;
}

/* ---- per-op facts (op.h) ---- */

const nns_op_def *nns_op_def_of(const nns_node *n) {
    return n->op >= 0 && n->op < NNS_OP_COUNT ? nns_op_table[n->op] : NULL;
}

static int slot_of(const nns_node *n, int slot) {
    return slot > 0 && slot < n->n_in && n->in[slot] >= 0 ? slot : -1;
}

int nns_op_weight_in(const nns_node *n) {
    const nns_op_def *d = nns_op_def_of(n);
    return d ? slot_of(n, d->weight_in) : -1;
}

int nns_op_bias_in(const nns_node *n) {
    const nns_op_def *d = nns_op_def_of(n);
    return d ? slot_of(n, d->bias_in) : -1;
}

int nns_op_weight_axes(const nns_node *n, int slot, int rank, nns_weight_axes *ax) {
    const nns_op_def *d = nns_op_def_of(n);
    return d && d->weight_axes ? d->weight_axes(n, slot, rank, ax) : 0;
}

int nns_op_channelwise(const nns_graph *g, const nns_node *n) {
    const nns_op_def *d = nns_op_def_of(n);
    return d && d->channelwise ? d->channelwise(g, n) : 0;
}

int64_t nns_macs_mul(int64_t a, int64_t b) {
    int64_t r;
    if (a < 0 || b < 0) return 0;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

int64_t nns_weight_fan_in(const nns_shape *s, const nns_weight_axes *ax) {
    int64_t f = 1;
    for (int d = ax->red_first; d <= ax->red_last && d < s->ndim; d++) f *= s->dims[d];
    return f;
}
