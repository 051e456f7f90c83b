/* matmulinteger.c — MatMulInteger (ONNX opset 10): A [..., M, K] (or [K])
 * times B [K, N], both u8/s8 less their zero points (a_zero_point: one
 * value or one per row of A, [M]; b_zero_point: one value or one per
 * column, [N]), summed in int32: y [..., M, N] s32 (sums wrap modulo 2^32
 * without undefined behaviour). B of another rank is refused by name: the
 * dynamic-quantization graphs that use this op multiply by a 2-D weight.
 * Reference path, forward only. */
#include "core/checked.h"
#include "ops/integer_util.h"

enum { MI_A, MI_B, MI_AZ, MI_BZ };

static nns_status mi_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)params;
    nns_status st = nns_integer_check_dtypes(g, n, MI_A, MI_AZ);
    return st ? st : nns_integer_check_dtypes(g, n, MI_B, MI_BZ);
}

static nns_status mi_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    (void)params;
    const nns_shape *a = in[MI_A], *b = in[MI_B];
    char as[96], bs[96];
    if (b->ndim != 2 || a->ndim < 1)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (MatMulInteger): B '%s' is %s; only a 2-D B is supported",
                         n->name, nns_node_in_name(g, n, MI_B), nns_shape_str(b, bs, sizeof bs));
    if (a->dims[a->ndim - 1] != b->dims[0] || b->dims[0] <= 0)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (MatMulInteger): A %s and B %s do not multiply", n->name,
                         nns_shape_str(a, as, sizeof as), nns_shape_str(b, bs, sizeof bs));
    const int64_t m = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1;
    nns_status st = nns_integer_check_zp(g, n, n->n_in > MI_AZ ? in[MI_AZ] : NULL, MI_AZ, m > 0 ? m : 1);
    if (!st) st = nns_integer_check_zp(g, n, n->n_in > MI_BZ ? in[MI_BZ] : NULL, MI_BZ, b->dims[1]);
    if (st) return st;
    out[0] = *a;
    out[0].dims[a->ndim - 1] = b->dims[1];
    return NNS_OK;
}

/* B less its zero points, 16-bit: K * N values. */
static size_t mi_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)params, (void)out, (void)training;
    int64_t kn;
    if (nns_ck_mul_i64(in[MI_B]->dims[0], in[MI_B]->dims[1], &kn) || kn > INT64_MAX / 2 || (uint64_t)kn * 2 > SIZE_MAX)
        return SIZE_MAX;
    return (size_t)kn * 2;
}

static void mi_forward(nns_exec_node *e) {
    const nns_tv *a = e->in[MI_A], *b = e->in[MI_B];
    const int64_t k = b->shape.dims[0], n = b->shape.dims[1];
    const int64_t rows = nns_tv_numel(a) / k, m = a->shape.ndim >= 2 ? a->shape.dims[a->shape.ndim - 2] : 1;
    int16_t *bd = e->work;
    for (int64_t r = 0; r < k; r++)
        for (int64_t j = 0; j < n; j++) bd[r * n + j] = (int16_t)(nns_q8_at(b, r * n + j) - nns_zp_at(e, MI_BZ, j));
    uint32_t *y = e->out[0]->data; /* int32 storage, summed unsigned: wraps, defined */
#pragma omp parallel for schedule(static) if (rows * k * n > 65536)
    for (int64_t i = 0; i < rows; i++) {
        uint32_t *acc = y + i * n;
        for (int64_t j = 0; j < n; j++) acc[j] = 0;
        const int32_t az = nns_zp_at(e, MI_AZ, i % m);
        for (int64_t r = 0; r < k; r++) {
            const int32_t av = nns_q8_at(a, i * k + r) - az;
            if (!av) continue;
            const int16_t *src = bd + r * n;
            for (int64_t j = 0; j < n; j++) acc[j] += (uint32_t)(av * (int32_t)src[j]);
        }
    }
}

static int64_t mi_macs(const nns_node *nd, const nns_shape *const *in, const nns_shape *out) {
    (void)nd;
    return nns_macs_mul(nns_shape_numel(out), in[MI_B]->dims[0]);
}

static const nns_dtype mi_out_dtypes[1] = {NNS_DTYPE_S32};

const nns_op_def nns_op_matmulinteger = {
    .name = "MatMulInteger",
    .min_in = 2, .max_in = 4, .min_out = 1, .max_out = 1,
    .out_fixed = mi_out_dtypes,
    .prepare = mi_prepare,
    .infer = mi_infer,
    .work_bytes = mi_work_bytes,
    .forward = mi_forward,
    .nontrainable_inputs = ~0u,
    .macs = mi_macs,
};
