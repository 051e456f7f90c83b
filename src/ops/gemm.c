/*
 * gemm.c — Gemm (ONNX opset 13): Y = alpha * op(A) op(B) + beta * C, with
 * op(A) = A^T if transA (A [K,M]) else A ([M,K]), op(B) likewise ([K,N] or
 * [N,K] if transB), C optional and unidirectionally broadcast to [M,N]
 * (shapes [], [1], [N], [1,N], [M,1], [M,N]). PyTorch exports Linear as Gemm
 * with transB=1 and W [out,in].
 *
 * Forward and backward are OpenBLAS sgemm calls (threaded by OpenBLAS;
 * deterministic for a fixed thread count, since OpenBLAS splits M and N,
 * never K), except in training where the table's f32_gemm is the AVX-512
 * kernel (see gemm_train_own below). Backward accumulates dA (or writes it,
 * when the plan says so), dB and dC (dC sums dY over the broadcast
 * dimensions).
 *
 * Inference on a layer whose A is a Round16 to bfloat16 and whose constant
 * B holds bf16 values only (bf16_util.h; alpha 1, A not transposed, B not
 * on the sparse path) runs on the bf16 GEMM instead: B packed once into
 * pairs, A's rows converted at each forward, rows split among threads, then
 * beta * C added. Other inference with a constant B, at more than one
 * row, runs on the table's f32_gemm where it is the AVX-512 kernel (B
 * packed once as [K][N]; 2.3x OpenBLAS on lenet300 at batch 64).
 */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "ops/bf16_util.h"
#include "ops/sparse_dispatch.h"
#include "ops/window2d.h"

typedef struct gemm_params {
    float alpha, beta;
    int trans_a, trans_b;
    nns_sparse_gemm sparse; /* inference with a pruned B (sparse_dispatch.h) */
    int bf16_in;            /* A is a Round16 to bfloat16 (and not transposed) */
} gemm_params;

static nns_status gemm_prepare(const nns_graph *g, const nns_node *n, void *params) {
    gemm_params *p = params;
    p->alpha = nns_node_attr_float(n, "alpha", 1.0f);
    p->beta = nns_node_attr_float(n, "beta", 1.0f);
    int64_t ta = nns_node_attr_int(n, "transA", 0), tb = nns_node_attr_int(n, "transB", 0);
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Gemm): transA and transB must be 0 or 1", n->name);
    p->trans_a = (int)ta;
    p->trans_b = (int)tb;
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Gemm): inputs A and B are required", n->name);
    nns_sparse_gemm_prepare(g, n, p->trans_b, &p->sparse);
    p->bf16_in = !p->trans_a && p->alpha == 1.0f && !p->sparse.enabled && nns_bf16_input(g, n, 0);
    return NNS_OK;
}

/* C's broadcast: rows (1 or M) and cols (1 or N) of its [rows, cols] view. */
static int gemm_c_view(const nns_shape *c, int64_t m, int64_t n, int64_t *rows, int64_t *cols) {
    if (c->ndim > 2) return 0;
    int64_t r = c->ndim == 2 ? c->dims[0] : 1;
    int64_t k = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
    if (k != 1 && k != n) return 0;
    if (r != 1 && r != m && !(m < 0 && r > 0)) return 0;
    *rows = r;
    *cols = k;
    return 1;
}

static nns_status gemm_infer(const nns_graph *g, const nns_node *n, const void *params,
                             const nns_shape *const *in, nns_shape *out) {
    const gemm_params *p = params;
    const nns_shape *a = in[0], *b = in[1], *c = n->n_in > 2 ? in[2] : NULL;
    if (a->ndim != 2 || b->ndim != 2)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Gemm): A '%s' and B '%s' must be 2-D (ranks %d and %d)",
                         n->name, g->values[n->in[0]].name, g->values[n->in[1]].name, a->ndim, b->ndim);
    int64_t m = p->trans_a ? a->dims[1] : a->dims[0];
    int64_t k = p->trans_a ? a->dims[0] : a->dims[1];
    int64_t kb = p->trans_b ? b->dims[1] : b->dims[0];
    int64_t nn = p->trans_b ? b->dims[0] : b->dims[1];
    if (k <= 0 || kb <= 0 || nn <= 0 || k != kb) {
        char sa[64], sb[64];
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Gemm): A %s (transA=%d) and B %s (transB=%d) do not agree",
                         n->name, nns_shape_str(a, sa, sizeof sa), p->trans_a, nns_shape_str(b, sb, sizeof sb),
                         p->trans_b);
    }
    if (m <= 0) m = -1;
    if (c) {
        int64_t r, cc;
        if (!gemm_c_view(c, m, nn, &r, &cc)) {
            char sc[64];
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Gemm): C '%s' %s does not broadcast to [%lld,%lld]",
                             n->name, g->values[n->in[2]].name, nns_shape_str(c, sc, sizeof sc), (long long)m,
                             (long long)nn);
        }
    }
    int64_t dims[2] = {m, nn};
    out[0] = nns_shape_make(2, dims);
    return NNS_OK;
}

typedef struct gemm_dims {
    int m, n, k;
    int64_t crows, ccols;
} gemm_dims;

static void gemm_dims_rt(const nns_exec_node *e, gemm_dims *d) {
    const gemm_params *p = e->params;
    const nns_shape *a = &e->in[0]->shape, *b = &e->in[1]->shape;
    d->m = (int)(p->trans_a ? a->dims[1] : a->dims[0]);
    d->k = (int)(p->trans_a ? a->dims[0] : a->dims[1]);
    d->n = (int)(p->trans_b ? b->dims[0] : b->dims[1]);
    d->crows = d->ccols = 0;
    if (e->n_in > 2 && e->in[2]) gemm_c_view(&e->in[2]->shape, d->m, d->n, &d->crows, &d->ccols);
}

/* The dense packs: a header, then B in bf16 pairs (pairs(K) rows of 2N),
 * or B as float [K][N] for the table's f32_gemm. */
typedef struct gemm_bf16 {
    int on;        /* bf16: B's values are all bf16 values; f32: 1 */
    int f32;       /* the float [K][N] pack, not bf16 */
    size_t ldp;    /* elements per pair row */
    unsigned char pad[64 - 2 * sizeof(int) - sizeof(size_t)];
} gemm_bf16;

/* Inference with a constant B on the table's f32_gemm (AVX-512 only: the
 * AVX2 kernel is behind OpenBLAS on deep sums), where neither the sparse
 * nor the bf16 path applies. */
static int gemm_f32_candidate(const nns_exec_node *e) {
    const gemm_params *p = e->params;
    const nns_value *b = &e->g->values[e->node->in[1]];
    return !p->trans_a && p->alpha == 1.0f && !p->sparse.enabled && !p->bf16_in && b->kind == NNS_VALUE_KIND_PARAM &&
           b->data && e->kern && e->kern->f32_gemm == nns_f32_gemm_8x48__avx512;
}

static int gemm_bf16_candidate(const nns_exec_node *e) {
    const gemm_params *p = e->params;
    const nns_value *b = &e->g->values[e->node->in[1]];
    return p->bf16_in && b->kind == NNS_VALUE_KIND_PARAM && b->data && nns_bf16_gemm_fast(e->kern);
}

/* B [K,N] (or [N,K] with transB) into pairs: xp[p][2n + t] = B[2p + t][n]. */
static void gemm_bf16_pack(const gemm_dims *d, int trans_b, const float *B, gemm_bf16 *h) {
    uint16_t *xp = (uint16_t *)(h + 1);
    h->ldp = 2 * (size_t)d->n;
    h->on = nns_bf16_exact(B, (size_t)d->k * d->n);
    if (!h->on) return;
    if (!trans_b) {
        nns_bf16_pack_pairs__ref(d->k, d->n, B, (size_t)d->n, xp, h->ldp);
        return;
    }
    for (int p = 0; p < nns_bf16_pairs(d->k); p++)
        for (int j = 0; j < d->n; j++)
            for (int t = 0; t < 2; t++) {
                const int l = 2 * p + t;
                uint32_t u = 0;
                if (l < d->k) memcpy(&u, &B[(size_t)j * d->k + l], 4);
                xp[(size_t)p * h->ldp + 2 * (size_t)j + t] = (uint16_t)(u >> 16);
            }
}

/* Pack once: the CSR of a sparse B (sparse_dispatch.h), or B in bf16 pairs,
 * or B as float [K][N]. */
static size_t gemm_packed_bytes(const nns_exec_node *e) {
    if (gemm_f32_candidate(e)) {
        gemm_dims d;
        gemm_dims_rt(e, &d);
        return sizeof(gemm_bf16) + (size_t)d.k * d.n * sizeof(float);
    }
    if (gemm_bf16_candidate(e)) {
        gemm_dims d;
        gemm_dims_rt(e, &d);
        return sizeof(gemm_bf16) + (size_t)nns_bf16_pairs(d.k) * 4 * (size_t)d.n;
    }
    return nns_sparse_gemm_packed_bytes(&((const gemm_params *)e->params)->sparse);
}

static void gemm_pack(nns_exec_node *e, void *packed) {
    const gemm_params *p = e->params;
    if (gemm_f32_candidate(e)) {
        gemm_dims d;
        gemm_dims_rt(e, &d);
        gemm_bf16 *h = packed;
        h->on = h->f32 = 1;
        float *bt = (float *)(h + 1);
        const float *B = nns_tv_cf32(e->in[1]);
        for (int l = 0; l < d.k; l++)
            for (int j = 0; j < d.n; j++) bt[(size_t)l * d.n + j] = p->trans_b ? B[(size_t)j * d.k + l] : B[(size_t)l * d.n + j];
        return;
    }
    if (gemm_bf16_candidate(e)) {
        gemm_dims d;
        gemm_dims_rt(e, &d);
        gemm_bf16_pack(&d, p->trans_b, nns_tv_cf32(e->in[1]), packed);
        return;
    }
    nns_sparse_gemm_pack(&p->sparse, nns_tv_cf32(e->in[1]), packed);
}

static size_t gemm_train_floats(const gemm_params *p, const nns_shape *a, const nns_shape *b, size_t *second);

static size_t gemm_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    const gemm_params *p = params;
    size_t w = nns_sparse_gemm_work_bytes(&p->sparse, in[0], p->trans_a, training);
    if (p->bf16_in && !training && in[0]->ndim == 2 && in[0]->dims[0] > 0) /* A's rows in bf16 */
        w = (size_t)in[0]->dims[0] * 4 * (size_t)nns_bf16_pairs((int)in[0]->dims[1]);
    size_t second;
    const size_t own = training ? gemm_train_floats(p, in[0], in[1], &second) * sizeof(float) : 0;
    return own > w ? own : w;
}

/* The packed bf16 B, or NULL: the layer runs in float. */
static const gemm_bf16 *gemm_packed_bf16(const nns_exec_node *e) {
    const gemm_params *p = e->params;
    if (!p->bf16_in || e->training || !e->packed) return NULL;
    const gemm_bf16 *h = e->packed;
    return h->on && !h->f32 ? h : NULL;
}

/* The packed float [K][N] B, or NULL. */
static const gemm_bf16 *gemm_packed_f32(const nns_exec_node *e) {
    if (e->training || !e->packed || !gemm_f32_candidate(e)) return NULL;
    const gemm_bf16 *h = e->packed;
    return h->f32 ? h : NULL;
}

/* Rows [i0, i1) of Y += beta * C (C broadcast; NULL: nothing). */
static void add_c_rows(const gemm_dims *d, float beta, const float *C, float *Y, int i0, int i1) {
    for (int i = i0; C && i < i1; i++) {
        const float *cr = C + (d->crows == 1 ? 0 : (size_t)i * d->ccols);
        float *yr = Y + (size_t)i * d->n;
        if (d->ccols == 1) {
            const float c = beta * cr[0];
#pragma omp simd
            for (int j = 0; j < d->n; j++) yr[j] += c;
        } else {
#pragma omp simd
            for (int j = 0; j < d->n; j++) yr[j] += beta * cr[j];
        }
    }
}

/* Y = A B on the table's f32_gemm (B packed [K][N]), then beta * C added;
 * rows split among threads. */
static void gemm_forward_f32(const nns_exec_node *e, const gemm_bf16 *h, const gemm_dims *d, const float *A, float *Y) {
    const gemm_params *p = e->params;
    const float *bt = (const float *)(h + 1);
    const double work = 2.0 * d->m * (double)d->n * d->k;
    const float *C = d->crows && p->beta != 0.0f ? nns_tv_cf32(e->in[2]) : NULL;
#pragma omp parallel if (work > (double)(1 << 21) && d->m > 1)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int i0 = (int)((int64_t)d->m * t / nt), i1 = (int)((int64_t)d->m * (t + 1) / nt);
        if (i1 > i0)
            e->kern->f32_gemm(i1 - i0, d->n, d->k, A + (size_t)i0 * d->k, (size_t)d->k, bt, (size_t)d->n, NULL,
                              Y + (size_t)i0 * d->n, (size_t)d->n, 0, 0.0f, 0.0f);
        add_c_rows(d, p->beta, C, Y, i0, i1);
    }
}

/* Y = A B on the bf16 GEMM (A's rows to bf16 in the workspace), then
 * beta * C added (Y's rows are the kernel's: one per image). */
static void gemm_forward_bf16(const nns_exec_node *e, const gemm_bf16 *h, const gemm_dims *d, const float *A, float *Y) {
    const gemm_params *p = e->params;
    const nns_kernels *k = e->kern;
    uint16_t *ab = e->work;
    const size_t lda = 2 * (size_t)nns_bf16_pairs(d->k);
    const uint16_t *xp = (const uint16_t *)(h + 1);
    const double work = 2.0 * d->m * (double)d->n * d->k;
    const float *C = d->crows && p->beta != 0.0f ? nns_tv_cf32(e->in[2]) : NULL;
#pragma omp parallel if (work > (double)(1 << 21) && d->m > 1)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int i0 = (int)((int64_t)d->m * t / nt), i1 = (int)((int64_t)d->m * (t + 1) / nt);
        if (i1 > i0) {
            nns_bf16_rows(i1 - i0, d->k, A + (size_t)i0 * d->k, (size_t)d->k, ab + (size_t)i0 * lda, lda);
            k->bf16_gemm(i1 - i0, d->n, d->k, ab + (size_t)i0 * lda, lda, xp, h->ldp, NULL, Y + (size_t)i0 * d->n,
                         (size_t)d->n);
            add_c_rows(d, p->beta, C, Y, i0, i1);
        }
    }
}

/* ---- training on the table's f32_gemm ----
 * Where the table's f32_gemm is the AVX-512 kernel, a training Gemm with A
 * not transposed and alpha 1 runs its three products on it rather than on
 * OpenBLAS (whose runtime dispatch in Debian 12 picks its AVX2 kernels on
 * AMD's AVX-512 CPUs): Y = A op(B), dA = dY op(B)^T and dB += dY^T A
 * (transB) or A^T dY. The kernel wants its right operand as [k][n]: an
 * operand laid out the other way is transposed into the workspace first.
 * Each product's rows are split among the threads, so the sums' order does
 * not depend on the thread count. Workspace (training): K*N floats (op(B)
 * transposed, or Y^T, then a product into dB) and max(N, K)*M (dY^T or
 * A^T, or a product into dA). */
static int gemm_train_own(const nns_exec_node *e, const gemm_dims *d) {
    const gemm_params *p = e->params;
    return e->training && !p->trans_a && p->alpha == 1.0f && d->m > 1 && e->kern &&
           e->kern->f32_gemm == nns_f32_gemm_8x48__avx512;
}

static size_t gemm_train_floats(const gemm_params *p, const nns_shape *a, const nns_shape *b, size_t *second) {
    if (p->trans_a || p->alpha != 1.0f || a->ndim != 2 || b->ndim != 2 || a->dims[0] <= 0) return 0;
    const size_t m = (size_t)a->dims[0], k = (size_t)a->dims[1];
    const size_t n = (size_t)(p->trans_b ? b->dims[0] : b->dims[1]);
    *second = (k * n + 15) & ~(size_t)15; /* the second area starts on a cache line */
    return *second + (n > k ? n : k) * m;
}

/* Rows [c0, c1) of t [cols][rows] = s [rows][cols] transposed. */
static void gemm_transpose_part(const nns_kernels *k, const float *s, int rows, int cols, float *t, int c0, int c1) {
    if (c1 > c0) k->f32_transpose(rows, c1 - c0, s + c0, (size_t)cols, t + (size_t)c0 * rows, (size_t)rows);
}

static int gemm_part(int n, int t, int nt) { return (int)((int64_t)n * t / nt); }

/* Y = A B^T (transB) computed as Y^T = B A^T: B is the kernel's left
 * operand as it is, C ([N] or [1, N], beta 1) its row bias, and only A
 * (the batch's rows, fewer than B's elements when K >= M) and Y^T are
 * transposed. Needs K >= M (Y^T fits the first area). */
static int gemm_train_fwd_t(const gemm_params *p, const gemm_dims *d) {
    return p->trans_b && d->k >= d->m && (!d->crows || p->beta == 0.0f || (p->beta == 1.0f && d->crows == 1 && d->ccols == d->n));
}

static void gemm_train_forward_t(const nns_exec_node *e, const gemm_dims *d, const float *A, const float *B, float *Y) {
    const gemm_params *p = e->params;
    size_t second = 0;
    gemm_train_floats(p, &e->in[0]->shape, &e->in[1]->shape, &second);
    float *yt = e->work, *at = (float *)e->work + second; /* Y^T [N][M], A^T [K][M] */
    const float *C = d->crows && p->beta != 0.0f ? nns_tv_cf32(e->in[2]) : NULL;
    const double work = 2.0 * d->m * (double)d->n * d->k;
#pragma omp parallel if (work > (double)(1 << 21))
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        gemm_transpose_part(e->kern, A, d->m, d->k, at, gemm_part(d->k, t, nt), gemm_part(d->k, t + 1, nt));
#pragma omp barrier
        const int j0 = gemm_part(d->n, t, nt), j1 = gemm_part(d->n, t + 1, nt);
        if (j1 > j0)
            e->kern->f32_gemm(j1 - j0, d->m, d->k, B + (size_t)j0 * d->k, (size_t)d->k, at, (size_t)d->m,
                              C ? C + j0 : NULL, yt + (size_t)j0 * d->m, (size_t)d->m, 0, 0.0f, 0.0f);
#pragma omp barrier
        gemm_transpose_part(e->kern, yt, d->n, d->m, Y, gemm_part(d->m, t, nt), gemm_part(d->m, t + 1, nt));
    }
}

static void gemm_train_forward(const nns_exec_node *e, const gemm_dims *d, const float *A, const float *B, float *Y) {
    const gemm_params *p = e->params;
    if (gemm_train_fwd_t(p, d)) {
        gemm_train_forward_t(e, d, A, B, Y);
        return;
    }
    float *bt = p->trans_b ? e->work : NULL; /* op(B) [K][N] */
    const float *C = d->crows && p->beta != 0.0f ? nns_tv_cf32(e->in[2]) : NULL;
    const double work = 2.0 * d->m * (double)d->n * d->k;
#pragma omp parallel if (work > (double)(1 << 21))
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        if (bt) {
            gemm_transpose_part(e->kern, B, d->n, d->k, bt, gemm_part(d->k, t, nt), gemm_part(d->k, t + 1, nt));
#pragma omp barrier
        }
        const int i0 = gemm_part(d->m, t, nt), i1 = gemm_part(d->m, t + 1, nt);
        if (i1 > i0)
            e->kern->f32_gemm(i1 - i0, d->n, d->k, A + (size_t)i0 * d->k, (size_t)d->k, bt ? bt : B, (size_t)d->n,
                              NULL, Y + (size_t)i0 * d->n, (size_t)d->n, 0, 0.0f, 0.0f);
        add_c_rows(d, p->beta, C, Y, i0, i1);
    }
}

/* y [rows][ld] written, or added to (accumulate) from tmp. */
static void gemm_rows_out(const nns_kernels *k, int rows, int n, int depth, const float *w, size_t ldw, const float *x,
                          size_t ldx, float *y, float *tmp, int accumulate) {
    if (rows <= 0) return;
    k->f32_gemm(rows, n, depth, w, ldw, x, ldx, NULL, accumulate ? tmp : y, (size_t)n, 0, 0.0f, 0.0f);
    if (!accumulate) return;
    const size_t tot = (size_t)rows * n;
#pragma omp simd
    for (size_t i = 0; i < tot; i++) y[i] += tmp[i];
}

static void gemm_train_backward(const nns_exec_node *e, const gemm_dims *d, const float *A, const float *B,
                                const float *dY, float *dA, float *dB) {
    const gemm_params *p = e->params;
    const int M = d->m, N = d->n, K = d->k, tb = p->trans_b, acc_a = !(e->grad_overwrite & 1u);
    size_t second = 0;
    gemm_train_floats(p, &e->in[0]->shape, &e->in[1]->shape, &second);
    float *w1 = e->work, *w2 = (float *)e->work + second;
    const double work = 2.0 * M * (double)N * K;
#pragma omp parallel if (work > (double)(1 << 21))
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        if (dA) { /* dA [M][K] = dY [M][N] op(B)^T, op(B)^T = B [N][K] (transB) */
            if (!tb) {
                gemm_transpose_part(e->kern, B, K, N, w1, gemm_part(N, t, nt), gemm_part(N, t + 1, nt));
#pragma omp barrier
            }
            const int i0 = gemm_part(M, t, nt), i1 = gemm_part(M, t + 1, nt);
            gemm_rows_out(e->kern, i1 - i0, K, N, dY + (size_t)i0 * N, (size_t)N, tb ? B : w1, (size_t)K,
                          dA + (size_t)i0 * K, w2 + (size_t)i0 * K, acc_a);
#pragma omp barrier
        }
        if (dB) { /* dB [N][K] += dY^T A (transB), else dB [K][N] += A^T dY */
            const int rows = tb ? N : K, cols = tb ? K : N;
            if (tb)
                gemm_transpose_part(e->kern, dY, M, N, w2, gemm_part(N, t, nt), gemm_part(N, t + 1, nt));
            else
                gemm_transpose_part(e->kern, A, M, K, w2, gemm_part(K, t, nt), gemm_part(K, t + 1, nt));
#pragma omp barrier
            const int r0 = gemm_part(rows, t, nt), r1 = gemm_part(rows, t + 1, nt);
            gemm_rows_out(e->kern, r1 - r0, cols, M, w2 + (size_t)r0 * M, (size_t)M, tb ? A : dY, (size_t)cols,
                          dB + (size_t)r0 * cols, w1 + (size_t)r0 * cols, 1);
        }
    }
}

static void gemm_forward_paths(nns_exec_node *e, const gemm_dims *dp, float *Y) {
    const gemm_params *p = e->params;
    const gemm_dims d = *dp;
    const float *A = nns_tv_cf32(e->in[0]), *B = nns_tv_cf32(e->in[1]);
    const gemm_bf16 *hb = gemm_packed_bf16(e), *hf = gemm_packed_f32(e);
    if (hb) {
        gemm_forward_bf16(e, hb, &d, A, Y);
        return;
    }
    if (hf && d.m > 1) { /* one row: OpenBLAS's GEMV below streams B as fast */
        gemm_forward_f32(e, hf, &d, A, Y);
        return;
    }
    if (gemm_train_own(e, &d)) {
        gemm_train_forward(e, &d, A, B, Y);
        return;
    }
    float beta = 0.0f;
    if (d.crows && p->beta != 0.0f) {
        const float *C = nns_tv_cf32(e->in[2]);
        const float bt = p->beta;
#pragma omp parallel for schedule(static) if ((int64_t)d.m * d.n > 65536)
        for (int i = 0; i < d.m; i++) {
            const float *cr = C + (d.crows == 1 ? 0 : (size_t)i * d.ccols);
            float *yr = Y + (size_t)i * d.n;
            if (d.ccols == 1)
                for (int j = 0; j < d.n; j++) yr[j] = bt * cr[0];
            else
                for (int j = 0; j < d.n; j++) yr[j] = bt * cr[j];
        }
        beta = 1.0f;
    }
    if (nns_sparse_gemm_forward(e, &p->sparse, d.m, p->trans_a, p->alpha, beta != 0.0f)) return;
    if (d.m == 1) { /* one row (batch 1): a GEMV streams B once, without packing it */
        if (p->trans_b)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, d.n, d.k, p->alpha, B, d.k, A, 1, beta, Y, 1);
        else
            cblas_sgemv(CblasRowMajor, CblasTrans, d.k, d.n, p->alpha, B, d.n, A, 1, beta, Y, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, p->trans_a ? CblasTrans : CblasNoTrans, p->trans_b ? CblasTrans : CblasNoTrans,
                d.m, d.n, d.k, p->alpha, A, p->trans_a ? d.m : d.k, B, p->trans_b ? d.k : d.n, beta, Y, d.n);
}

/* The product on its path, then an inference plan's fused Relu / Clip (the
 * activation node that was the only consumer, skipped) over the rows while
 * they are in cache. */
static void gemm_forward(nns_exec_node *e) {
    gemm_dims d;
    gemm_dims_rt(e, &d);
    float *Y = nns_tv_f32(e->out[0]);
    gemm_forward_paths(e, &d, Y);
    if (!e->training && e->epi.act) nns_fuse_act_rows(Y, (size_t)d.m * (size_t)d.n, e->epi.act, e->epi.lo, e->epi.hi);
}

/* The gradients of A (written when the plan says so, else added to) and B
 * (added to) on OpenBLAS's sgemm. */
static void gemm_backward_blas(const nns_exec_node *e, const gemm_dims *d, const float *A, const float *B,
                               const float *dY, float *dA, float *dB) {
    const gemm_params *p = e->params;
    const int M = d->m, N = d->n, K = d->k;
    const float al = p->alpha;
    /* dA written (beta 0) when the plan says so: same bits as adding to zeros */
    const float ba = (e->grad_overwrite & 1u) ? 0.0f : 1.0f;
    if (dA) {
        if (!p->trans_a) { /* dA [M,K] += alpha dY op(B)^T */
            if (!p->trans_b)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, al, dY, N, B, N, ba, dA, K);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, al, dY, N, B, K, ba, dA, K);
        } else { /* dA [K,M] += alpha op(B) dY^T */
            if (!p->trans_b)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, M, N, al, B, N, dY, N, ba, dA, M);
            else
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, K, M, N, al, B, K, dY, N, ba, dA, M);
        }
    }
    if (dB) {
        if (!p->trans_b) { /* dB [K,N] += alpha op(A)^T dY */
            if (!p->trans_a)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, al, A, K, dY, N, 1.0f, dB, N);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, N, M, al, A, M, dY, N, 1.0f, dB, N);
        } else { /* dB [N,K] += alpha dY^T op(A) */
            if (!p->trans_a)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, al, dY, N, A, K, 1.0f, dB, K);
            else
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, N, K, M, al, dY, N, A, M, 1.0f, dB, K);
        }
    }
}

static void gemm_backward(nns_exec_node *e) {
    const gemm_params *p = e->params;
    const float *dY = e->out[0]->grad;
    if (!dY) return;
    gemm_dims d;
    gemm_dims_rt(e, &d);
    const float *A = nns_tv_cf32(e->in[0]), *B = nns_tv_cf32(e->in[1]);
    float *dA = e->in[0]->grad, *dB = e->in[1]->grad;
    float *dC = d.crows ? e->in[2]->grad : NULL;
    const int M = d.m, N = d.n;
    if (gemm_train_own(e, &d))
        gemm_train_backward(e, &d, A, B, dY, dA, dB);
    else
        gemm_backward_blas(e, &d, A, B, dY, dA, dB);
    if (dC && p->beta != 0.0f) {
        const float bt = p->beta;
        if (d.crows == M && d.ccols == N && M > 1) {
            const int64_t tot = (int64_t)M * N;
#pragma omp parallel for schedule(static) if (tot > 65536)
            for (int64_t i = 0; i < tot; i++) dC[i] += bt * dY[i];
        } else if (d.ccols == N && N > 1) { /* [N] or [1,N]: sum over rows */
            const int nt = omp_get_max_threads();
#pragma omp parallel num_threads(nt) if ((int64_t)M * N > 65536)
            {
                const int t = omp_get_thread_num(), tn = omp_get_num_threads();
                const int j0 = (int)((int64_t)N * t / tn), j1 = (int)((int64_t)N * (t + 1) / tn);
                float acc[256];
                for (int jb = j0; jb < j1; jb += 256) {
                    const int je = jb + 256 < j1 ? jb + 256 : j1;
                    for (int j = jb; j < je; j++) acc[j - jb] = 0.0f;
                    for (int i = 0; i < M; i++) {
                        const float *r = dY + (size_t)i * N;
                        for (int j = jb; j < je; j++) acc[j - jb] += r[j];
                    }
                    for (int j = jb; j < je; j++) dC[j] += bt * acc[j - jb];
                }
            }
        } else if (d.crows == M && M > 1) { /* [M,1]: sum over columns */
#pragma omp parallel for schedule(static) if ((int64_t)M * N > 65536)
            for (int i = 0; i < M; i++) {
                float s = 0.0f;
                for (int j = 0; j < N; j++) s += dY[(size_t)i * N + j];
                dC[i] += bt * s;
            }
        } else { /* one element */
            float s = 0.0f;
            const int64_t tot = (int64_t)M * N;
            for (int64_t i = 0; i < tot; i++) s += dY[i];
            dC[0] += bt * s;
        }
    }
}

static const char *gemm_kernel_name(const nns_exec_node *e) {
    const int rows = e->in[0]->shape.ndim == 2 ? (int)e->in[0]->shape.dims[0] : 0;
    return gemm_packed_bf16(e) ? "bf16" : gemm_packed_f32(e) && rows > 1 ? "f32_gemm" : "float";
}

/* ---- facts (op.h) ---- */

/* B [K, N], or [N, K] with transB: output features on axis 1 (0). */
static int gemm_weight_axes(const nns_node *n, int slot, int rank, nns_weight_axes *ax) {
    if (slot != 1 || rank != 2) return 0;
    int tb = nns_node_attr_int(n, "transB", 0) != 0;
    *ax = (nns_weight_axes){.out_axis = tb ? 0 : 1, .red_first = tb ? 1 : 0, .red_last = tb ? 1 : 0};
    return 1;
}

/* Every output element sums K products. */
static int64_t gemm_macs(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    const nns_shape *w = in[1];
    int64_t tb = nns_node_attr_int(n, "transB", 0);
    int64_t k = w->ndim == 2 ? (tb ? w->dims[1] : w->dims[0]) : 0;
    return nns_macs_mul(nns_shape_numel(out), k);
}

const nns_op_def nns_op_gemm = {
    .name = "Gemm",
    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(gemm_params),
    .prepare = gemm_prepare,
    .f32_inputs = 7u,
    .infer = gemm_infer,
    .packed_bytes = gemm_packed_bytes,
    .pack = gemm_pack,
    .kernel_name = gemm_kernel_name,
    .work_bytes = gemm_work_bytes,
    .forward = gemm_forward,
    .backward = gemm_backward,
    .grad_overwrite_inputs = 1u << 0,
    .chan = NNS_OP_CHAN_DENSE,
    .weight_in = 1, .bias_in = 2,
    .weight_axes = gemm_weight_axes,
    .macs = gemm_macs,
};
