/* int8gemm.c — Int8Gemm: y[N, M] = x[N, K] times the weight, in integers
 * (int8_impl.h has the definition). Up to I8GEMV_N rows of x: each row
 * (shifted to u8, zero-padded) times the weight rows by the GEMV kernel.
 * More: the rows of x are transposed into the GEMM's [K][N] operand. The
 * output channels are split over threads in blocks. */
#include <omp.h>

#include "kernels/kernels.h"
#include "ops/int8_impl.h"

/* Output channels per task. */
#define I8GEMM_BLOCK 16
/* Rows of x up to which each runs as a matrix-vector product. */
#define I8GEMV_N 4

/* M and K of the weight. */
static void weight_mk(const i8_params *p, const nns_shape *w, int64_t *m, int64_t *k) {
    *m = p->trans_b ? w->dims[0] : w->dims[1];
    *k = p->trans_b ? w->dims[1] : w->dims[0];
}

static nns_status i8gemm_prepare(const nns_graph *g, const nns_node *n, void *params) {
    i8_params *p = params;
    p->trans_b = (int)nns_node_attr_int(n, "trans_b", 1) != 0;
    nns_i8_parse_act(n, p);
    p->nthreads = omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
    const nns_shape *w = &g->values[n->in[I8_W]].shape;
    if (w->ndim != 2) return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Int8Gemm): the weight must be 2-D", n->name);
    int64_t m, k;
    weight_mk(p, w, &m, &k);
    return nns_i8_check(g, n, m, k);
}

static nns_status i8gemm_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                               nns_shape *out) {
    (void)g;
    int64_t m, k;
    weight_mk(params, in[I8_W], &m, &k);
    if (in[I8_X]->ndim != 2 || in[I8_X]->dims[1] != k)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Int8Gemm): input '%s' must be [N, %lld]", n->name,
                         g->values[n->in[I8_X]].name, (long long)k);
    const int64_t dims[2] = {in[I8_X]->dims[0], m};
    out[0] = nns_shape_make(2, dims);
    return nns_i8_check_residual(n, in, &out[0]);
}

/* The input in quads (u8), or its rows padded for the GEMV, then the
 * accumulators [M][N]. */
static size_t i8gemm_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)training, (void)out;
    int64_t m, k;
    weight_mk(params, in[I8_W], &m, &k);
    const size_t n = (size_t)(in[I8_X]->dims[0] > 0 ? in[I8_X]->dims[0] : 1);
    const size_t quads = (size_t)nns_quads((int)k) * nns_quad_row_bytes((int)n), rows = n * (size_t)nns_qgemv_pad((int)k);
    return ((quads > rows ? quads : rows) + 63) / 64 * 64 + (size_t)m * n * 4;
}

static size_t i8gemm_packed_bytes(const nns_exec_node *e) {
    int64_t m, k;
    weight_mk(e->params, &e->in[I8_W]->shape, &m, &k);
    return nns_i8_packed_bytes(m, k);
}

static int32_t gemm_w_at(const nns_exec_node *e, int64_t c, int64_t l) {
    const i8_params *p = e->params;
    const nns_shape *w = &e->in[I8_W]->shape;
    return nns_i8_int_at(e->in[I8_W], p->trans_b ? c * w->dims[1] + l : l * w->dims[1] + c);
}

static void i8gemm_pack(nns_exec_node *e, void *packed) {
    int64_t m, k;
    weight_mk(e->params, &e->in[I8_W]->shape, &m, &k);
    nns_i8_pack(e, m, k, gemm_w_at, packed);
}

/* Few rows: acc [N][M] by the GEMV, row by row, the channels in blocks. */
static void gemv_rows(nns_exec_node *e, int64_t n) {
    const i8_head *h = e->packed;
    const i8_params *p = e->params;
    const int64_t k = h->k, m = h->m, kp = nns_qgemv_pad((int)k);
    const uint8_t *x = e->in[I8_X]->data, flip = h->x_signed ? 0x80 : 0;
    uint8_t *xr = e->work;
    int32_t *acc = (int32_t *)(xr + ((size_t)(n * kp) + 63) / 64 * 64);
    for (int64_t b = 0; b < n; b++)
        for (int64_t l = 0; l < kp; l++) xr[b * kp + l] = l < k ? (uint8_t)(x[b * k + l] ^ flip) : 0;
    const int64_t blocks = (m + I8GEMM_BLOCK - 1) / I8GEMM_BLOCK;
#pragma omp parallel for num_threads(p->nthreads) schedule(static) if (n * m * k > (1 << 16))
    for (int64_t t = 0; t < blocks; t++) {
        const int64_t c0 = t * I8GEMM_BLOCK, rows = m - c0 < I8GEMM_BLOCK ? m - c0 : I8GEMM_BLOCK;
        for (int64_t b = 0; b < n; b++)
            e->kern->qgemv_u8s8((int)rows, (int)k, i8_w(h) + c0 * h->ldw, (size_t)h->ldw, xr + b * kp, i8_bias(h) + c0,
                                acc + b * m + c0);
        for (int64_t c = c0; c < c0 + rows; c++) {
            int32_t col[I8GEMV_N];
            for (int64_t b = 0; b < n; b++) col[b] = acc[b * m + c];
            nns_i8_store(e->kern, h, p, c, col, n, e->out[0]->data, c, m, residual(e));
        }
    }
}

static void i8gemm_forward(nns_exec_node *e) {
    const i8_head *h = e->packed;
    const i8_params *p = e->params;
    const int64_t n = e->in[I8_X]->shape.dims[0], k = h->k, m = h->m;
    if (n <= I8GEMV_N) {
        gemv_rows(e, n);
        return;
    }
    const uint8_t *x = e->in[I8_X]->data;
    uint8_t *xq = e->work;
    const size_t ldq = nns_quad_row_bytes((int)n);
    int32_t *acc = (int32_t *)(xq + ((size_t)nns_quads((int)k) * ldq + 63) / 64 * 64);
    const uint8_t flip = h->x_signed ? 0x80 : 0; /* s8 + 128 */
    for (int64_t b = 0; b < n; b++) /* row b's values 4l..4l+3 are quad l's column b */
        for (int64_t l = 0; l < 4 * (int64_t)nns_quads((int)k); l++)
            xq[(size_t)(l / 4) * ldq + 4 * (size_t)b + (size_t)(l % 4)] = l < k ? (uint8_t)(x[b * k + l] ^ flip) : 0;
    const int64_t blocks = (m + I8GEMM_BLOCK - 1) / I8GEMM_BLOCK;
    const double ops = (double)n * (double)m * (double)k;
#pragma omp parallel for num_threads(p->nthreads) schedule(static) if (ops > (1 << 18))
    for (int64_t t = 0; t < blocks; t++) {
        const int64_t c0 = t * I8GEMM_BLOCK, rows = m - c0 < I8GEMM_BLOCK ? m - c0 : I8GEMM_BLOCK;
        e->kern->qgemm_u8s8((int)rows, (int)n, (int)k, i8_w(h) + c0 * h->ldw, (size_t)h->ldw, xq, ldq, i8_bias(h) + c0,
                            acc + c0 * n, (size_t)n);
        for (int64_t c = c0; c < c0 + rows; c++) nns_i8_store(e->kern, h, p, c, acc + c * n, n, e->out[0]->data, c, m, residual(e));
    }
}

static int64_t i8gemm_macs(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    (void)n;
    return nns_macs_mul(nns_shape_numel(out), in[I8_X]->ndim == 2 ? in[I8_X]->dims[1] : 0);
}

const nns_op_def nns_op_int8gemm = {
    .name = "Int8Gemm",
    .internal = 1,
    .min_in = 5, .max_in = I8_NIN, .min_out = 1, .max_out = 1,
    .params_size = sizeof(i8_params),
    .prepare = i8gemm_prepare,
    .infer = i8gemm_infer,
    .work_bytes = i8gemm_work_bytes,
    .forward = i8gemm_forward,
    .packed_bytes = i8gemm_packed_bytes,
    .pack = i8gemm_pack,
    .f32_inputs = 1u << I8_XS | 1u << I8_WS | 1u << I8_YS | 1u << I8_RS,
    .out_dtype = NNS_OUT_SAME_AS(I8_YZ),
    .out_dtype_omitted = NNS_DTYPE_F32,
    .nontrainable_inputs = ~0u,
    .macs = i8gemm_macs,
};
