/* integer_util.h — what ConvInteger and MatMulInteger share: reading u8/s8
 * operands and their zero points as int32, and the checks of their dtypes
 * and zero-point shapes. Internal: static inline, no state. */
#ifndef NNS_OPS_INTEGER_UTIL_H
#define NNS_OPS_INTEGER_UTIL_H

#include "ops/op_util.h"

static inline int nns_is_q8(nns_dtype t) { return t == NNS_DTYPE_U8 || t == NNS_DTYPE_S8; }

/* Element i of a u8 or s8 view, widened. */
static inline int32_t nns_q8_at(const nns_tv *t, int64_t i) {
    return t->dtype == NNS_DTYPE_S8 ? (int32_t)((const int8_t *)t->data)[i] : (int32_t)((const uint8_t *)t->data)[i];
}

/* Zero point j of the optional input `slot` (0 when omitted; element 0
 * when it holds a single value). */
static inline int32_t nns_zp_at(const nns_exec_node *e, int slot, int64_t j) {
    if (slot >= e->n_in || !e->in[slot]) return 0;
    return nns_q8_at(e->in[slot], nns_tv_numel(e->in[slot]) == 1 ? 0 : j);
}

/* Operand `slot` is u8 or s8, and its zero point `zslot` (if given) has
 * the same dtype. */
static inline nns_status nns_integer_check_dtypes(const nns_graph *g, const nns_node *n, int slot, int zslot) {
    const nns_dtype xt = g->values[n->in[slot]].dtype;
    if (!nns_is_q8(xt))
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input '%s' is %s; u8 and s8 are supported", n->name,
                         n->op_type, nns_node_in_name(g, n, slot), nns_dtype_name(xt));
    if (zslot < n->n_in && n->in[zslot] >= 0 && g->values[n->in[zslot]].dtype != xt)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): zero point '%s' is %s, input '%s' is %s", n->name,
                         n->op_type, nns_node_in_name(g, n, zslot), nns_dtype_name(g->values[n->in[zslot]].dtype),
                         nns_node_in_name(g, n, slot), nns_dtype_name(xt));
    return NNS_OK;
}

/* The zero point at `zslot` (if given) holds one value, or (allow > 1) a
 * 1-D list of `allow` values. */
static inline nns_status nns_integer_check_zp(const nns_graph *g, const nns_node *n, const nns_shape *z, int zslot,
                                              int64_t allow) {
    if (!z) return NNS_OK;
    const int64_t k = nns_shape_numel(z);
    const int ok = (k == 1 && z->ndim <= 1) || (allow > 1 && z->ndim == 1 && k == allow);
    if (ok) return NNS_OK;
    char zs[96];
    if (allow > 1)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): zero point '%s' has shape %s; one value or %lld are supported",
                         n->name, n->op_type, nns_node_in_name(g, n, zslot), nns_shape_str(z, zs, sizeof zs),
                         (long long)allow);
    return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): zero point '%s' has shape %s; one value is supported", n->name,
                     n->op_type, nns_node_in_name(g, n, zslot), nns_shape_str(z, zs, sizeof zs));
}

#endif
