/*
 * ptq_grouped.c — weight-only quantization of a layer's weight to s8 or s4
 * with one scale per group of input channels (nnslim/quant.h,
 * nns_ptq_config.weight_bits and group_size).
 *
 * A weight W (Conv [O, C/g, kH, kW], Gemm [N, K] or [K, N], MatMul [K, N])
 * has an output-channel axis and an input-channel axis (the op table's
 * first reduction axis). With groups of B input channels, every B
 * consecutive input channels of one output channel (and one kernel
 * position) share a scale: the scale tensor has W's shape with C/g
 * replaced by C/g / B, and the weight is read through ONNX opset 21's
 * DequantizeLinear(axis = the input-channel axis, block_size = B). B must
 * divide C/g or be at least C/g: then all of a layer's input channels are
 * one group, written with block_size C/g. A weight with one input channel
 * (depthwise, or a stem on one-channel images) has nothing to group and
 * keeps one scale per output channel (opset 13's axis form). Quantization is symmetric (zero point 0, so none is stored): s8
 * scale = max|w| / 127, s4 scale = max|w| / 7.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/graph_impl.h"
#include "ops/op.h"
#include "quant/ptq_internal.h"

/* Node i's weight slot, shape and its output and input axes. */
static int layer_axes(const nns_graph *g, int i, int *slot, nns_weight_axes *ax) {
    const nns_node *n = &g->nodes[i];
    *slot = nns_op_weight_in(n);
    return *slot >= 0 && nns_op_weight_axes(n, *slot, g->values[n->in[*slot]].shape.ndim, ax) && ax->out_axis >= 0;
}

nns_status nns_ptq_group_check(const nns_graph *g, int i, int group) {
    int slot;
    nns_weight_axes ax;
    if (group <= 0 || !layer_axes(g, i, &slot, &ax)) return NNS_OK;
    const nns_shape *s = &g->values[g->nodes[i].in[slot]].shape;
    const int64_t c = s->dims[ax.red_first];
    if (c <= group || c % group == 0) return NNS_OK;
    char buf[96];
    return nns_error(NNS_STATUS_INVALID_ARG,
                     "layer '%s' (%s): group size %d does not divide its %lld input channels (weight %s, axis %d); "
                     "choose a divisor, or one at least that, or keep the layer in float",
                     g->nodes[i].name, g->nodes[i].op_type, group, (long long)c, nns_shape_str(s, buf, sizeof buf),
                     ax.red_first);
}

/* The [outer, d, inner] view around axis a. */
static void view_around(const nns_shape *s, int a, int64_t *outer, int64_t *d, int64_t *inner) {
    *outer = *inner = 1;
    *d = s->dims[a];
    for (int k = 0; k < a; k++) *outer *= s->dims[k];
    for (int k = a + 1; k < s->ndim; k++) *inner *= s->dims[k];
}

/* The quantized weight, its scales (of shape *ss) and the DequantizeLinear
 * reading them, axis and block_size (0: per axis). */
static nns_status add_weight_dq(nns_graph *g, const char *base, nns_dtype qt, const nns_shape *ws, const int8_t *q,
                                const float *sc, const nns_shape *ss, int axis, int block, int *dq) {
    char qname[512], sname[512], node[512], out[512];
    nns_ptq_fresh_name(g, base, "_quantized", qname, sizeof qname);
    nns_status st = nns_graph_add_param(g, qname, qt, ws, q, 0, NULL);
    nns_ptq_fresh_name(g, base, "_scale", sname, sizeof sname);
    if (!st) st = nns_graph_add_param(g, sname, NNS_DTYPE_F32, ss, sc, 0, NULL);
    nns_ptq_fresh_name(g, base, "_dequantize", node, sizeof node);
    nns_ptq_fresh_name(g, base, "_dequantized", out, sizeof out);
    const char *in[2] = {qname, sname}, *outs[1] = {out};
    int idx = -1;
    if (!st) st = nns_graph_add_node(g, "DequantizeLinear", node, 2, in, 1, outs, &idx);
    if (!st) st = nns_graph_set_attr_int(g, idx, "axis", axis);
    if (!st && block > 0) st = nns_graph_set_attr_int(g, idx, "block_size", block);
    if (!st) *dq = nns_graph_find_value(g, out);
    return st;
}

nns_status nns_ptq_weight_grouped(nns_graph *g, int i, int slot, int bits, int group, int *dq) {
    nns_weight_axes ax;
    int s2;
    if (!layer_axes(g, i, &s2, &ax) || s2 != slot)
        return nns_error(NNS_STATUS_INTERNAL, "layer '%s': no weight axes", g->nodes[i].name);
    nns_status st = nns_ptq_group_check(g, i, group);
    if (st) return st;
    const int w = g->nodes[i].in[slot];
    const nns_shape shape = g->values[w].shape;
    const int grouped = group > 0 && shape.dims[ax.red_first] > 1;
    const int axis = grouped ? ax.red_first : ax.out_axis;
    if (grouped && group > shape.dims[axis]) group = (int)shape.dims[axis]; /* all input channels: one group */
    int64_t outer, d, inner;
    view_around(&shape, axis, &outer, &d, &inner);
    nns_shape ss = shape; /* grouped: d / group along the axis; per channel: [d] */
    if (grouped) ss.dims[axis] = d / group;
    else ss = nns_shape_make(1, &d);
    const int64_t numel = nns_shape_numel(&shape), ns = nns_shape_numel(&ss);
    char base[256];
    snprintf(base, sizeof base, "%s", g->values[w].name);
    int8_t *q = malloc((size_t)(numel ? numel : 1));
    float *sc = malloc((size_t)ns * sizeof *sc);
    int32_t *zp = malloc((size_t)ns * sizeof *zp);
    st = q && sc && zp ? NNS_OK : nns_error(NNS_STATUS_NOMEM, "out of memory quantizing '%s'", base);
    const nns_qtype t = {bits, 1};
    if (!st) st = nns_quantize_blocked(g->values[w].data, outer, d, inner, grouped ? group : 0, t, 1, sc, zp, q);
    if (!st)
        st = add_weight_dq(g, base, bits == 4 ? NNS_DTYPE_S4 : NNS_DTYPE_S8, &shape, q, sc, &ss, axis, grouped ? group : 0, dq);
    free(q);
    free(sc);
    free(zp);
    return st;
}
