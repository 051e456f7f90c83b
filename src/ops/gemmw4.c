/* gemmw4.c — GemmW4 (nnslim's own op, internal): y[M, N] = x[M, K] times
 * the transpose of a 4-bit weight, plus a bias: the form sessions give a
 * Gemm (transB) whose weight is a blocked DequantizeLinear of constant 4-bit
 * codes (nns_graph_lower_w4), so that the weight stays 4-bit in memory and
 * is unpacked in registers (the s4_gemm kernels) instead of being decoded
 * to float once.
 *
 * Inputs: x (float), codes [N, K] (s4, or s8 holding -8..7: one value per
 * byte, constant), scale [N, ceil(K / block_size)] (float, constant), bias
 * [N] (float, optional). Attribute block_size. Packed once: the codes two
 * per byte in the kernels' chunk layout. Output rows are split over
 * threads by blocks of outputs. Forward only. */
#include <omp.h>

#include "kernels/kernels.h"
#include "ops/op_util.h"

#define W4_BLOCK 16 /* outputs per task */

typedef struct {
    int bs, n, k, ng;
} w4_params;

static nns_status w4_prepare(const nns_graph *g, const nns_node *n, void *params) {
    w4_params *p = params;
    const nns_value *q = &g->values[n->in[1]], *s = &g->values[n->in[2]];
    const int64_t bs = nns_node_attr_int(n, "block_size", 0);
    if (!q->data || (q->dtype != NNS_DTYPE_S4 && q->dtype != NNS_DTYPE_S8) || q->shape.ndim != 2)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (GemmW4): codes '%s' must be constant 2-D s4", n->name, q->name);
    const int64_t N = q->shape.dims[0], K = q->shape.dims[1];
    if (bs <= 0 || bs > K || N <= 0 || K <= 0 || N > (1 << 24) || K > (1 << 24))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (GemmW4): block_size %lld for codes [%lld, %lld]", n->name,
                         (long long)bs, (long long)N, (long long)K);
    const int64_t ng = (K + bs - 1) / bs;
    if (!s->data || s->shape.ndim != 2 || s->shape.dims[0] != N || s->shape.dims[1] != ng)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (GemmW4): scale '%s' must be constant [%lld, %lld]", n->name, s->name,
                         (long long)N, (long long)ng);
    if (n->n_in > 3 && n->in[3] >= 0) {
        const nns_shape *b = &g->values[n->in[3]].shape;
        if (nns_shape_numel(b) != N)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (GemmW4): bias '%s' must have %lld values", n->name,
                             g->values[n->in[3]].name, (long long)N);
    }
    const int8_t *c = q->data;
    for (int64_t i = 0; i < N * K; i++)
        if (c[i] < -8 || c[i] > 7)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (GemmW4): code %lld of '%s' is %d, outside -8..7", n->name,
                             (long long)i, q->name, c[i]);
    *p = (w4_params){(int)bs, (int)N, (int)K, (int)ng};
    return NNS_OK;
}

static nns_status w4_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    const w4_params *p = params;
    if (in[0]->ndim != 2 || in[0]->dims[1] != p->k)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (GemmW4): input '%s' must be [M, %d]", n->name,
                         g->values[n->in[0]].name, p->k);
    const int64_t dims[2] = {in[0]->dims[0], p->n};
    out[0] = nns_shape_make(2, dims);
    return NNS_OK;
}

static size_t w4_packed_bytes(const nns_exec_node *e) {
    const w4_params *p = e->params;
    return (size_t)p->n * nns_s4_row_bytes(p->k);
}

static void w4_pack(nns_exec_node *e, void *packed) {
    const w4_params *p = e->params;
    nns_s4_pack_rows(p->n, p->k, e->in[1]->data, (size_t)p->k, packed, nns_s4_row_bytes(p->k));
}

static void w4_forward(nns_exec_node *e) {
    const w4_params *p = e->params;
    const float *x = nns_tv_cf32(e->in[0]), *sc = nns_tv_cf32(e->in[2]);
    const float *b = e->n_in > 3 && e->in[3] ? nns_tv_cf32(e->in[3]) : NULL;
    float *y = nns_tv_f32(e->out[0]);
    const int m = (int)e->in[0]->shape.dims[0];
    const size_t ldw = nns_s4_row_bytes(p->k);
    const uint8_t *w = e->packed;
    const int blocks = (p->n + W4_BLOCK - 1) / W4_BLOCK;
    const double work = 2.0 * m * (double)p->n * p->k;
#pragma omp parallel for schedule(static) if (work > (double)(1 << 20) && blocks > 1)
    for (int c = 0; c < blocks; c++) {
        const int j0 = c * W4_BLOCK, nj = p->n - j0 < W4_BLOCK ? p->n - j0 : W4_BLOCK;
        e->kern->s4_gemm(m, nj, p->k, x, (size_t)p->k, w + (size_t)j0 * ldw, ldw, sc + (size_t)j0 * p->ng, p->bs,
                         b ? b + j0 : NULL, y + j0, (size_t)p->n);
    }
}

static int64_t w4_macs(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    (void)n;
    return nns_macs_mul(nns_shape_numel(out), in[0]->ndim == 2 ? in[0]->dims[1] : 0);
}

const nns_op_def nns_op_gemmw4 = {
    .name = "GemmW4",
    .internal = 1,
    .min_in = 3, .max_in = 4, .min_out = 1, .max_out = 1,
    .params_size = sizeof(w4_params),
    .prepare = w4_prepare,
    .infer = w4_infer,
    .forward = w4_forward,
    .packed_bytes = w4_packed_bytes,
    .pack = w4_pack,
    .f32_inputs = 1u << 0 | 1u << 2 | 1u << 3,
    .nontrainable_inputs = ~0u,
    .macs = w4_macs,
};
