/*
 * matmul.c — MatMul (ONNX opset 13, numpy semantics): A [..., M, K] times
 * B [..., K, N] -> [..., M, N], the leading (batch) dimensions broadcast.
 * A 1-D A is [1,K] with that dimension removed from the result; a 1-D B is
 * [K,1] likewise. Batch dimension 0 may be -1 (dynamic).
 *
 * Forward: when B has no batch dimensions and A's batch is not broadcast,
 * one GEMM with A viewed as [batch*M, K]; otherwise one GEMM per batch
 * element (in parallel when there are several, single-threaded GEMMs
 * inside). Backward accumulates dA and dB; a gradient that is broadcast
 * (several outputs map to one input slice) is accumulated serially in batch
 * order, so results are deterministic.
 */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "ops/window2d.h"

typedef struct matmul_params {
    int nthreads;
} matmul_params;

/* Broadcast geometry of a call, from the input shapes. */
typedef struct mm_dims {
    int m, n, k;
    int nb;                     /* batch rank */
    int64_t bdims[NNS_MAX_DIMS]; /* broadcast batch dims */
    int64_t astr[NNS_MAX_DIMS], bstr[NNS_MAX_DIMS]; /* batch strides in matrices (0: broadcast) */
    int64_t nbatch;
    int a_bcast, b_bcast;       /* some batch of the output reuses an A (B) slice */
    int fold;                   /* A viewed as [nbatch*M, K], one GEMM */
} mm_dims;

static nns_status mm_prepare(const nns_graph *g, const nns_node *n, void *params) {
    matmul_params *p = params;
    p->nthreads = omp_get_max_threads();
    return NNS_OK;
}

/* node NULL: shapes already validated, no messages. */
static nns_status mm_dims_make(const nns_graph *g, const nns_node *node, const nns_shape *a,
                               const nns_shape *b, mm_dims *d, nns_shape *out) {
    if (a->ndim < 1 || b->ndim < 1) {
        if (!node) return NNS_STATUS_SHAPE;
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (MatMul): inputs must have rank >= 1 (ranks %d and %d)",
                         node->name, a->ndim, b->ndim);
    }
    int64_t M = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1;
    int64_t K = a->dims[a->ndim - 1];
    int64_t Kb = b->ndim >= 2 ? b->dims[b->ndim - 2] : b->dims[0];
    int64_t N = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    int ra = a->ndim > 2 ? a->ndim - 2 : 0, rb = b->ndim > 2 ? b->ndim - 2 : 0;
    int nb = ra > rb ? ra : rb;
    if (K != Kb || K <= 0 || N <= 0 || (M <= 0 && a->ndim > 2) || (M <= 0 && a->ndim == 2 && M != -1)) {
        if (!node) return NNS_STATUS_SHAPE;
        char sa[80], sb[80];
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (MatMul): shapes %s and %s do not agree", node->name,
                         nns_shape_str(a, sa, sizeof sa), nns_shape_str(b, sb, sizeof sb));
    }
    d->nb = nb;
    d->nbatch = 1;
    d->a_bcast = d->b_bcast = 0;
    int64_t sa = M * K, sb = K * N;
    int dynamic = M < 0;
    for (int i = nb - 1; i >= 0; i--) {
        int ia = i - (nb - ra), ib = i - (nb - rb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        int64_t o;
        if (da == db || db == 1) o = da;
        else if (da == 1) o = db;
        else if (da < 0 && db > 0) o = db;
        else if (db < 0 && da > 0) o = da;
        else {
            if (!node) return NNS_STATUS_SHAPE;
            char s1[80], s2[80];
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (MatMul): batch dimensions of %s and %s do not broadcast",
                             node->name, nns_shape_str(a, s1, sizeof s1), nns_shape_str(b, s2, sizeof s2));
        }
        if (o < 0) dynamic = 1;
        d->bdims[i] = o;
        d->astr[i] = (da == 1 && o != 1) ? 0 : sa;
        d->bstr[i] = (db == 1 && o != 1) ? 0 : sb;
        if (o > 1 && d->astr[i] == 0) d->a_bcast = 1;
        if (o > 1 && d->bstr[i] == 0) d->b_bcast = 1;
        if (o > 0) {
            sa *= da > 0 ? da : 1;
            sb *= db > 0 ? db : 1;
            d->nbatch *= o;
        }
    }
    d->m = (int)M;
    d->n = (int)N;
    d->k = (int)K;
    d->fold = rb == 0 && !d->a_bcast;
    if (out) {
        int r = 0;
        for (int i = 0; i < nb; i++) out->dims[r++] = d->bdims[i];
        if (a->ndim >= 2) out->dims[r++] = M;
        if (b->ndim >= 2) out->dims[r++] = N;
        out->ndim = r;
    }
    (void)g;
    (void)dynamic;
    return NNS_OK;
}

static nns_status mm_infer(const nns_graph *g, const nns_node *n, const void *params,
                           const nns_shape *const *in, nns_shape *out) {
    (void)params;
    mm_dims d;
    memset(&out[0], 0, sizeof out[0]);
    return mm_dims_make(g, n, in[0], in[1], &d, &out[0]);
}

/* Offsets (in floats) of A's and B's slices for output batch index bi. */
static void mm_offsets(const mm_dims *d, int64_t bi, int64_t *ao, int64_t *bo) {
    int64_t a = 0, b = 0;
    for (int i = d->nb - 1; i >= 0; i--) {
        int64_t x = bi % d->bdims[i];
        bi /= d->bdims[i];
        a += x * d->astr[i];
        b += x * d->bstr[i];
    }
    *ao = a;
    *bo = b;
}

static void mm_forward(nns_exec_node *e) {
    const matmul_params *p = e->params;
    mm_dims d;
    mm_dims_make(e->g, NULL, &e->in[0]->shape, &e->in[1]->shape, &d, NULL);
    const float *A = nns_tv_cf32(e->in[0]), *B = nns_tv_cf32(e->in[1]);
    float *Y = nns_tv_f32(e->out[0]);
    const int M = d.m, N = d.n, K = d.k;
    if (d.fold) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(d.nbatch * M), N, K, 1.0f, A, K, B, N, 0.0f,
                    Y, N);
        return;
    }
    const int64_t nb = d.nbatch;
#pragma omp parallel for schedule(static) num_threads(p->nthreads) if (nb > 1)
    for (int64_t bi = 0; bi < nb; bi++) {
        int64_t ao, bo;
        mm_offsets(&d, bi, &ao, &bo);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A + ao, K, B + bo, N, 0.0f,
                    Y + bi * (int64_t)M * N, N);
    }
}

static void mm_backward(nns_exec_node *e) {
    const matmul_params *p = e->params;
    const float *dY = e->out[0]->grad;
    if (!dY) return;
    mm_dims d;
    mm_dims_make(e->g, NULL, &e->in[0]->shape, &e->in[1]->shape, &d, NULL);
    const float *A = nns_tv_cf32(e->in[0]), *B = nns_tv_cf32(e->in[1]);
    float *dA = e->in[0]->grad, *dB = e->in[1]->grad;
    const int M = d.m, N = d.n, K = d.k;
    const int64_t nb = d.nbatch;
    if (d.fold) {
        const int MM = (int)(nb * M);
        if (dA) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, MM, K, N, 1.0f, dY, N, B, N, 1.0f, dA, K);
        if (dB) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, MM, 1.0f, A, K, dY, N, 1.0f, dB, N);
        return;
    }
    if (dA) {
#pragma omp parallel for schedule(static) num_threads(p->nthreads) if (nb > 1 && !d.a_bcast)
        for (int64_t bi = 0; bi < nb; bi++) {
            int64_t ao, bo;
            mm_offsets(&d, bi, &ao, &bo);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, dY + bi * (int64_t)M * N, N,
                        B + bo, N, 1.0f, dA + ao, K);
        }
    }
    if (dB) {
#pragma omp parallel for schedule(static) num_threads(p->nthreads) if (nb > 1 && !d.b_bcast)
        for (int64_t bi = 0; bi < nb; bi++) {
            int64_t ao, bo;
            mm_offsets(&d, bi, &ao, &bo);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f, A + ao, K,
                        dY + bi * (int64_t)M * N, N, 1.0f, dB + bo, N);
        }
    }
}

/* ---- facts (op.h) ---- */

/* B [..., K, N]: output features on the last axis, K reduced; A [..., M, K]
 * (a weight where it is a parameter): rows on axis rank-2, K reduced. A 1-D
 * operand is one reduction row. */
static int mm_weight_axes(const nns_node *n, int slot, int rank, nns_weight_axes *ax) {
    if (slot > 1 || slot < 0 || rank < 1) return 0;
    if (rank == 1) *ax = (nns_weight_axes){.out_axis = -1, .red_first = 0, .red_last = 0};
    else if (slot == 1) *ax = (nns_weight_axes){.out_axis = rank - 1, .red_first = rank - 2, .red_last = rank - 2};
    else *ax = (nns_weight_axes){.out_axis = rank - 2, .red_first = rank - 1, .red_last = rank - 1};
    return 1;
}

/* Every output element sums K (A's last dim) products. */
static int64_t mm_macs(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    const nns_shape *a = in[0];
    return nns_macs_mul(nns_shape_numel(out), a->ndim ? a->dims[a->ndim - 1] : 1);
}

const nns_op_def nns_op_matmul = {
    .name = "MatMul",
    .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .params_size = sizeof(matmul_params),
    .prepare = mm_prepare,
    .f32_inputs = 3u,
    .infer = mm_infer,
    .forward = mm_forward,
    .backward = mm_backward,
    .chan = NNS_OP_CHAN_DENSE,
    .weight_in = 1,
    .weight_axes = mm_weight_axes,
    .macs = mm_macs,
};
