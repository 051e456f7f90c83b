/*
 * fold.c — fold inference-mode BatchNormalization into the Conv or Gemm that
 * produces its input (nns_graph_fold_batchnorm, nnslim/graph.h):
 *   a = scale / sqrt(var + epsilon)
 *   W'[o, ...] = W[o, ...] * a[o]  (o on the weight's output-channel axis)
 *   b'[o]      = (beta_gemm * b[o] - mean[o]) * a[o] + B[o]  (b = 0 if absent)
 * The producer takes over the BatchNormalization's output; the
 * BatchNormalization and the parameters no one else reads are removed.
 * Quantization folds first, so that the weights it quantizes are the ones
 * the model computes with.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "ops/op.h"
#include "ops/op_util.h"

/* Readers of each value when the pass began; a value it added (a bias)
 * has one reader. */
typedef struct fold_uses {
    int *n;
    int n_values;
} fold_uses;

static int uses_of(const fold_uses *u, int v) { return v < u->n_values ? u->n[v] : 1; }

/* A float initializer of n elements read by one node only. */
static int own_param(const nns_graph *g, const fold_uses *u, int v, int64_t n) {
    if (v < 0) return 0;
    const nns_value *x = &g->values[v];
    return (x->kind == NNS_VALUE_KIND_PARAM || x->kind == NNS_VALUE_KIND_CONST) && x->dtype == NNS_DTYPE_F32 &&
           x->data && uses_of(u, v) == 1 && nns_shape_numel(&x->shape) == n;
}

/* Count the readers of every value (node inputs and graph outputs). */
static void count_uses(const nns_graph *g, int *uses) {
    memset(uses, 0, (size_t)(g->n_values ? g->n_values : 1) * sizeof *uses);
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) uses[g->nodes[i].in[j]]++;
    for (int i = 0; i < g->n_outputs; i++) uses[g->outputs[i]]++;
}

/* The node producing BatchNormalization bn's input when it can absorb it:
 * a Conv or Gemm with its only reader bn, a float weight of its own whose
 * output channels are the BatchNormalization's, a bias slot, and (Gemm)
 * a bias that is absent or one per channel. Else -1. */
static int foldable_producer(const nns_graph *g, const fold_uses *uses, const nns_node *bn, nns_weight_axes *ax) {
    if (bn->n_in != 5 || bn->n_out != 1) return -1;
    const int x = bn->in[0], p = x >= 0 ? g->values[x].producer : -1;
    if (p < 0 || uses_of(uses, x) != 1) return -1;
    const nns_node *c = &g->nodes[p];
    if ((c->op != NNS_OP_CONV && c->op != NNS_OP_GEMM) || c->n_out != 1 || c->out[0] != x) return -1;
    const int wi = nns_op_weight_in(c), def_bias = nns_op_def_of(c)->bias_in;
    if (wi < 0 || def_bias <= 0 || bn->in[1] < 0) return -1;
    const int64_t ch = nns_shape_numel(&g->values[bn->in[1]].shape);
    const nns_value *w = &g->values[c->in[wi]];
    if (!own_param(g, uses, c->in[wi], nns_shape_numel(&w->shape)) ||
        !nns_op_weight_axes(c, wi, w->shape.ndim, ax) || ax->out_axis < 0 || w->shape.dims[ax->out_axis] != ch)
        return -1;
    const int b = nns_op_bias_in(c);
    if (b >= 0 && !own_param(g, uses, c->in[b], ch)) return -1;
    for (int i = 1; i < 5; i++)
        if (bn->in[i] < 0 || g->values[bn->in[i]].dtype != NNS_DTYPE_F32 || !g->values[bn->in[i]].data ||
            nns_shape_numel(&g->values[bn->in[i]].shape) != ch)
            return -1;
    return p;
}

/* Give node p a zero bias of ch floats in its bias slot. */
static nns_status add_bias(nns_graph *g, int p, int64_t ch) {
    nns_node *c = &g->nodes[p];
    const int slot = nns_op_def_of(c)->bias_in;
    char name[256];
    int k = 0;
    do snprintf(name, sizeof name, k ? "%s.bias%d" : "%s.bias", c->name, k);
    while (nns_graph_find_value(g, name) >= 0 && ++k < 1000);
    int *in = realloc(c->in, (size_t)(slot + 1) * sizeof *in);
    if (!in) return nns_error(NNS_STATUS_NOMEM, "out of memory folding into node '%s'", c->name);
    c->in = in;
    for (int j = c->n_in; j <= slot; j++) in[j] = -1;
    const nns_shape s = nns_shape_make(1, &ch);
    int v;
    nns_status st = nns_graph_add_param(g, name, NNS_DTYPE_F32, &s, NULL, 1, &v);
    if (st) return st;
    c = &g->nodes[p];
    c->in[slot] = v;
    if (c->n_in <= slot) c->n_in = slot + 1;
    return NNS_OK;
}

void nns_weight_scale_channels(nns_value *w, const nns_weight_axes *ax, const double *a) {
    int64_t outer = 1, inner = 1;
    const int64_t ch = w->shape.dims[ax->out_axis];
    for (int i = 0; i < ax->out_axis; i++) outer *= w->shape.dims[i];
    for (int i = ax->out_axis + 1; i < w->shape.ndim; i++) inner *= w->shape.dims[i];
    float *d = w->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < ch; c++)
            for (int64_t i = 0; i < inner; i++) d[(o * ch + c) * inner + i] = (float)(d[(o * ch + c) * inner + i] * a[c]);
}

/* Fold BatchNormalization node i into its producer p. */
static nns_status fold_one(nns_graph *g, int i, int p, const nns_weight_axes *ax) {
    const int64_t ch = nns_shape_numel(&g->values[g->nodes[i].in[1]].shape);
    nns_status st = nns_op_bias_in(&g->nodes[p]) < 0 ? add_bias(g, p, ch) : NNS_OK;
    double *a = malloc((size_t)ch * sizeof *a);
    if (st || !a) {
        free(a);
        return st ? st : nns_error(NNS_STATUS_NOMEM, "out of memory folding '%s'", g->nodes[i].name);
    }
    nns_node *bn = &g->nodes[i], *c = &g->nodes[p];
    const float *gamma = g->values[bn->in[1]].data, *beta = g->values[bn->in[2]].data;
    const float *mean = g->values[bn->in[3]].data, *var = g->values[bn->in[4]].data;
    const double eps = nns_node_attr_float(bn, "epsilon", 1e-5f);
    const double bscale = c->op == NNS_OP_GEMM ? nns_node_attr_float(c, "beta", 1.0f) : 1.0;
    float *bias = g->values[c->in[nns_op_bias_in(c)]].data;
    for (int64_t k = 0; k < ch; k++) {
        a[k] = gamma[k] / sqrt((double)var[k] + eps);
        bias[k] = (float)((bscale * bias[k] - mean[k]) * a[k] + beta[k]);
    }
    nns_weight_scale_channels(&g->values[c->in[nns_op_weight_in(c)]], ax, a);
    free(a);
    if (c->op == NNS_OP_GEMM && bscale != 1.0 && (st = nns_graph_set_attr_float(g, p, "beta", 1.0f))) return st;
    /* the producer writes the BatchNormalization's output; the
     * BatchNormalization is left reading and writing the old value, which
     * no one else reads, and goes with nns_graph_prune_dead */
    const int x = g->nodes[p].out[0], y = g->nodes[i].out[0];
    g->nodes[p].out[0] = y;
    g->values[y].producer = p;
    g->nodes[i].out[0] = x;
    g->values[x].producer = i;
    return NNS_OK;
}

/* After n folds (st: the first error): drop what no one reads. */
static nns_status fold_done(nns_graph *g, int n, nns_status st, int *folded) {
    if (n) {
        nns_graph_params_changed(g);
        nns_status st2 = nns_graph_prune_dead(g);
        if (!st) st = st2;
    }
    if (folded) *folded = n;
    return st;
}

nns_status nns_graph_fold_batchnorm(nns_graph *g, int *folded) {
    int n = 0;
    fold_uses uses = {malloc((size_t)(g->n_values ? g->n_values : 1) * sizeof(int)), g->n_values};
    if (!uses.n) return nns_error(NNS_STATUS_NOMEM, "out of memory folding BatchNormalization");
    count_uses(g, uses.n);
    nns_status st = NNS_OK;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        nns_weight_axes ax;
        if (g->nodes[i].op != NNS_OP_BATCHNORM) continue;
        const int p = foldable_producer(g, &uses, &g->nodes[i], &ax);
        if (p < 0) continue;
        if (!(st = fold_one(g, i, p, &ax))) n++;
    }
    free(uses.n);
    return fold_done(g, n, st, folded);
}

/* ---- DequantizeLinear of constants, computed once ---------------------- */

/* Node n is a DequantizeLinear, or a Cast to float, whose inputs are all
 * initializers with data. */
static int const_dequant(const nns_graph *g, const nns_node *n) {
    if ((n->op != NNS_OP_DEQUANTIZELINEAR && n->op != NNS_OP_CAST) || n->n_out != 1) return 0;
    for (int j = 0; j < n->n_in; j++) {
        const int v = n->in[j];
        if (j < 2 && v < 0) return 0;
        if (v >= 0 && (!g->values[v].data || (g->values[v].kind != NNS_VALUE_KIND_PARAM &&
                                                g->values[v].kind != NNS_VALUE_KIND_CONST)))
            return 0;
    }
    return 1;
}

static int32_t int_elem(const nns_value *v, int64_t i) {
    switch (v->dtype) {
    case NNS_DTYPE_U8:
    case NNS_DTYPE_U4: return ((const uint8_t *)v->data)[i];
    case NNS_DTYPE_S8:
    case NNS_DTYPE_S4: return ((const int8_t *)v->data)[i];
    default: return ((const int32_t *)v->data)[i];
    }
}

/* Blocked (block_size B > 0): row (o, c) of x's [outer, D, inner] view
 * reads row (o, c / B) of the scale's [outer, ceil(D / B), inner]. */
static void dequant_blocked(const nns_value *x, const nns_value *s, const nns_value *z, int64_t axis, int64_t block,
                            float *y) {
    const int a = (int)(axis < 0 ? axis + x->shape.ndim : axis);
    int64_t outer = 1, inner = 1;
    const int64_t d = x->shape.dims[a], nb = d / block + (d % block != 0); /* block from a file: no d + block */
    for (int k = 0; k < a; k++) outer *= x->shape.dims[k];
    for (int k = a + 1; k < x->shape.ndim; k++) inner *= x->shape.dims[k];
    const float *sc = s->data;
    for (int64_t r = 0; r < outer * d; r++) {
        const int64_t srow = (r / d * nb + r % d / block) * inner;
        for (int64_t i = 0; i < inner; i++)
            y[r * inner + i] = (float)(int_elem(x, r * inner + i) - (z ? int_elem(z, srow + i) : 0)) * sc[srow + i];
    }
}

/* y = (x - zp) * scale as the op computes it (ops/qdq.c), per tensor, per
 * slice of `axis` or per block. */
static void dequant_into(const nns_graph *g, const nns_node *n, float *y) {
    const nns_value *x = &g->values[n->in[0]];
    if (n->op == NNS_OP_CAST) { /* an f16 or bf16 weight: Cast's conversion */
        const nns_dtype_info *di = nns_dtype_get_info(x->dtype);
        for (int64_t i = 0; i < nns_shape_numel(&x->shape); i++) y[i] = di->to_f32((const char *)x->data + (size_t)i * di->size);
        return;
    }
    const nns_value *s = &g->values[n->in[1]];
    const nns_value *z = n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]] : NULL;
    const int64_t block = nns_node_attr_int(n, "block_size", 0);
    if (block > 0) {
        dequant_blocked(x, s, z, nns_node_attr_int(n, "axis", 1), block, y);
        return;
    }
    const nns_axis_view a = nns_axis_view_of(&x->shape, nns_node_attr_int(n, "axis", 1), nns_shape_numel(&s->shape));
    const float *sc = s->data;
    for (int64_t o = 0; o < a.outer; o++)
        for (int64_t c = 0; c < a.ch; c++) {
            const int32_t zp = z ? int_elem(z, c) : 0;
            const int64_t off = (o * a.ch + c) * a.inner;
            for (int64_t i = 0; i < a.inner; i++) y[off + i] = (float)(int_elem(x, off + i) - zp) * sc[c];
        }
}

nns_status nns_graph_fold_dequantize(nns_graph *g, int *folded) {
    int n = 0;
    nns_status st = NNS_OK;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        if (!const_dequant(g, &g->nodes[i])) continue;
        const int y = g->nodes[i].out[0];
        const int64_t numel = nns_shape_numel(&g->values[g->nodes[i].in[0]].shape);
        float *buf = malloc((size_t)(numel ? numel : 1) * sizeof *buf);
        char dead[512];
        snprintf(dead, sizeof dead, "%s.folded", g->nodes[i].name);
        const int d = buf ? nns_graph_new_value(g, dead) : -1;
        if (d < 0) {
            free(buf);
            st = nns_error(NNS_STATUS_NOMEM, "out of memory folding '%s'", g->nodes[i].name);
            break;
        }
        dequant_into(g, &g->nodes[i], buf);
        nns_value *v = &g->values[y];
        v->kind = NNS_VALUE_KIND_PARAM;
        v->dtype = NNS_DTYPE_F32;
        v->shape = g->values[g->nodes[i].in[0]].shape;
        v->data = buf;
        v->trainable = 0;
        v->param_offset = -1;
        v->producer = -1;
        g->nodes[i].out[0] = d; /* the node now writes what no one reads */
        g->values[d].producer = i;
        n++;
    }
    return fold_done(g, n, st, folded);
}

nns_status nns_graph_exec_copy(const nns_graph *g, nns_graph **out) {
    *out = NULL;
    int any = 0; /* a constant to decode once, or activations to run in integers */
    for (int i = 0; i < g->n_nodes && !any; i++)
        any = g->nodes[i].op == NNS_OP_DEQUANTIZELINEAR || g->nodes[i].op == NNS_OP_CAST || const_dequant(g, &g->nodes[i]);
    if (!any) return NNS_OK;
    nns_graph *c = NULL;
    nns_status st = nns_graph_clone(g, &c);
    const char *env = getenv("NNS_INT8");
    if (!st && !(env && strcmp(env, "0") == 0)) st = nns_graph_lower_int8(c, NULL);
    if (!st) st = nns_graph_fuse_round16(c, NULL);
    if (!st) st = nns_graph_lower_w4(c, NULL);
    if (!st) st = nns_graph_lower_f16w(c, NULL);
    if (!st) st = nns_graph_fold_dequantize(c, NULL);
    if (!st) st = nns_graph_finalize(c);
    if (st) {
        nns_graph_free(c);
        return st;
    }
    *out = c;
    return NNS_OK;
}
