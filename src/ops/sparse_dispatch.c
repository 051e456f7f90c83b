/* sparse_dispatch.c — the sparse path of Gemm's inference forward (see
 * sparse_dispatch.h). The thresholds come from bench/bench_sparse.c on the
 * fc layers of lenet300 / lenet5 / vggsmall (docs/pruning.md). */
#include <omp.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ops/sparse_dispatch.h"

/* Batches of at most this many rows run one sparse dot per output (gathers);
 * larger ones transpose op(A) into panels and run 32 rows at a time (the
 * panel path measured faster from batch 2 on). */
#define SPGEMM_ROWWISE_MAX 1
#define SPGEMM_BLOCK 32
#define SPGEMM_MAGIC 0x43535231u /* "CSR1" */

static int force_mode = -1;

void nns_sparse_gemm_force(int mode) { force_mode = mode < 0 ? -1 : mode > 0; }

/* Crossovers measured by bench/bench_sparse.c (docs/pruning.md,
 * bench/results/sparse_gemm.txt): at batch 1 the sparse dot wins from 50%
 * zeros on every fc layer of the built-in models; for larger batches the
 * panel path wins from 70-75% (at 70% a few small shapes were still a tie).
 * With only the scalar reference kernel (NNS_ISA=scalar or no AVX2) batch 1
 * wins from 60% and batches from 98% (lenet300 fc1, batch 64). */
float nns_sparse_gemm_threshold(const nns_kernels *k, int64_t m) {
    if (k->f32_spmm_csr == nns_f32_spmm_csr__ref) /* the reference kernel */
        return m <= 1 ? 0.60f : 0.97f;
    return m <= 1 ? 0.50f : 0.75f;
}

/* The lowest threshold of any table: a layer qualifies at prepare time (no
 * plan, hence no table, yet) if some table may take the sparse path; the
 * plan's table decides at each forward. */
static float lowest_threshold(void) {
    float lo = 1.0f;
    for (int l = 0; l < NNS_ISA_COUNT; l++) {
        const float t = nns_sparse_gemm_threshold(nns_kernels_for_isa((nns_isa)l), 1);
        if (t < lo) lo = t;
    }
    return lo;
}

typedef struct spgemm_hdr {
    uint32_t magic;
    int32_t built, bad;
    int32_t n;
    int64_t cap;              /* nonzeros the arrays hold */
    unsigned char pad[40];
} spgemm_hdr;
_Static_assert(sizeof(spgemm_hdr) == 64, "CSR header is one cache line");

static size_t al64(size_t b) { return (b + 63) & ~(size_t)63; }

void nns_sparse_gemm_prepare(const nns_graph *g, const nns_node *n, int trans_b, nns_sparse_gemm *sp) {
    memset(sp, 0, sizeof *sp);
    if (n->n_in < 2 || n->in[1] < 0 || force_mode == 0) return;
    const nns_value *b = &g->values[n->in[1]];
    if (b->kind != NNS_VALUE_KIND_PARAM || b->dtype != NNS_DTYPE_F32 || !b->data || b->shape.ndim != 2) return;
    if (n->in[0] >= 0 && g->values[n->in[0]].kind == NNS_VALUE_KIND_PARAM) return;
    int64_t numel = nns_shape_numel(&b->shape);
    if (numel <= 0 || numel > INT32_MAX) return;
    const float *w = b->data;
    int64_t nnz = 0;
    for (int64_t i = 0; i < numel; i++) nnz += w[i] != 0.0f;
    sp->k = (int)(trans_b ? b->shape.dims[1] : b->shape.dims[0]);
    sp->n = (int)(trans_b ? b->shape.dims[0] : b->shape.dims[1]);
    sp->trans_b = trans_b;
    sp->nnz = nnz;
    sp->sparsity = (float)(1.0 - (double)nnz / (double)numel);
    float lowest = lowest_threshold();
    sp->enabled = force_mode == 1 || sp->sparsity >= lowest;
}

size_t nns_sparse_gemm_packed_bytes(const nns_sparse_gemm *sp) {
    if (!sp->enabled) return 0;
    return sizeof(spgemm_hdr) + al64((size_t)sp->nnz * sizeof(float)) + al64((size_t)sp->nnz * sizeof(int32_t)) +
           al64((size_t)(sp->n + 1) * sizeof(int32_t));
}

size_t nns_sparse_gemm_work_bytes(const nns_sparse_gemm *sp, const nns_shape *a, int trans_a, int training) {
    if (!sp->enabled || training || a->ndim != 2 || trans_a) return 0;
    int64_t m = a->dims[0];
    if (m <= SPGEMM_ROWWISE_MAX) return 0;
    return (size_t)m * (size_t)sp->k * sizeof(float);
}

static void csr_arrays(const spgemm_hdr *h, float **val, int32_t **col, int32_t **row_ptr) {
    unsigned char *p = (unsigned char *)h + sizeof *h;
    *val = (float *)p;
    p += al64((size_t)h->cap * sizeof(float));
    *col = (int32_t *)p;
    p += al64((size_t)h->cap * sizeof(int32_t));
    *row_ptr = (int32_t *)p;
}

/* CSR of op(B)^T: row n lists the k with op(B)[k][n] != 0. */
void nns_sparse_gemm_pack(const nns_sparse_gemm *sp, const float *B, void *packed) {
    spgemm_hdr *h = packed;
    h->magic = SPGEMM_MAGIC;
    h->n = sp->n;
    h->cap = sp->nnz;
    h->built = 1;
    h->bad = 0;
    float *val;
    int32_t *col, *rp;
    csr_arrays(h, &val, &col, &rp);
    const int K = sp->k, N = sp->n;
    int64_t j = 0;
    rp[0] = 0;
    for (int n = 0; n < N; n++) {
        for (int k = 0; k < K; k++) {
            float w = sp->trans_b ? B[(size_t)n * K + k] : B[(size_t)k * N + n];
            if (w == 0.0f) continue;
            if (j == h->cap) { /* B has more nonzeros than when the plan was made */
                h->bad = 1;
                return;
            }
            val[j] = w;
            col[j++] = k;
        }
        rp[n + 1] = (int32_t)j;
    }
}

/* P[k][i] = A[i][k] for i < mb, k < K (A rows K apart), in 16-wide tiles. */
static void pack_panel(const float *A, int K, int mb, float *P) {
    for (int k0 = 0; k0 < K; k0 += 16) {
        const int k1 = k0 + 16 < K ? k0 + 16 : K;
        for (int i = 0; i < mb; i++) {
            const float *a = A + (size_t)i * K;
            for (int k = k0; k < k1; k++) P[(size_t)k * mb + i] = a[k];
        }
    }
}

int nns_sparse_gemm_forward(nns_exec_node *e, const nns_sparse_gemm *sp, int m, int trans_a, float alpha,
                            int accumulate) {
    if (!sp->enabled || e->training || !e->packed || m < 1) return 0;
    if (force_mode != 1 && sp->sparsity < nns_sparse_gemm_threshold(e->kern, m)) return 0;
    const spgemm_hdr *h = e->packed;
    if (!h->built || h->bad || h->magic != SPGEMM_MAGIC) return 0;
    float *val;
    int32_t *col, *rp;
    csr_arrays(h, &val, &col, &rp);
    const nns_f32_spmm_csr_fn spmm = e->kern->f32_spmm_csr;
    const int K = sp->k, N = sp->n;
    const float *A = nns_tv_cf32(e->in[0]);
    float *Y = nns_tv_f32(e->out[0]);
    const int nt = omp_get_max_threads();
    const int par = (int64_t)h->cap * m > 32768 && nt > 1;
    if (trans_a) { /* A is [K, M]: already op(A)^T */
        const int nb = (m + SPGEMM_BLOCK - 1) / SPGEMM_BLOCK;
        const int ns = nb >= nt ? 1 : (nt + nb - 1) / nb;
#pragma omp parallel for schedule(static) if (par)
        for (int c = 0; c < nb * ns; c++) {
            const int b = c / ns, s = c % ns, i0 = b * SPGEMM_BLOCK;
            const int mb = m - i0 < SPGEMM_BLOCK ? m - i0 : SPGEMM_BLOCK;
            spmm((int)((int64_t)N * s / ns), (int)((int64_t)N * (s + 1) / ns), mb, rp, col, val, A + i0, m, alpha,
                 Y + (size_t)i0 * N, 1, N, accumulate);
        }
        return 1;
    }
    if (m <= SPGEMM_ROWWISE_MAX || !e->work) {
#pragma omp parallel for schedule(static) if (par)
        for (int s = 0; s < nt; s++) {
            const int n0 = (int)((int64_t)N * s / nt), n1 = (int)((int64_t)N * (s + 1) / nt);
            for (int i = 0; i < m; i++)
                spmm(n0, n1, 1, rp, col, val, A + (size_t)i * K, 1, alpha, Y + (size_t)i * N, 1, 1, accumulate);
        }
        return 1;
    }
    /* op(A)^T in panels of 32 columns: panel b (rows i0 .. i0+mb-1 of A) is
     * [K][mb] at X + i0*K, so that each block reads one contiguous panel. */
    float *X = e->work;
    const int nb = (m + SPGEMM_BLOCK - 1) / SPGEMM_BLOCK;
    if (nb >= nt || !par) {
#pragma omp parallel for schedule(static) if (par)
        for (int b = 0; b < nb; b++) {
            const int i0 = b * SPGEMM_BLOCK, mb = m - i0 < SPGEMM_BLOCK ? m - i0 : SPGEMM_BLOCK;
            pack_panel(A + (size_t)i0 * K, K, mb, X + (size_t)i0 * K);
            spmm(0, N, mb, rp, col, val, X + (size_t)i0 * K, mb, alpha, Y + (size_t)i0 * N, 1, N, accumulate);
        }
        return 1;
    }
    const int ns = (nt + nb - 1) / nb;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < nb; b++) {
        const int i0 = b * SPGEMM_BLOCK, mb = m - i0 < SPGEMM_BLOCK ? m - i0 : SPGEMM_BLOCK;
        pack_panel(A + (size_t)i0 * K, K, mb, X + (size_t)i0 * K);
    }
#pragma omp parallel for schedule(static)
    for (int c = 0; c < nb * ns; c++) {
        const int b = c / ns, s = c % ns, i0 = b * SPGEMM_BLOCK;
        const int mb = m - i0 < SPGEMM_BLOCK ? m - i0 : SPGEMM_BLOCK;
        spmm((int)((int64_t)N * s / ns), (int)((int64_t)N * (s + 1) / ns), mb, rp, col, val, X + (size_t)i0 * K, mb,
             alpha, Y + (size_t)i0 * N, 1, N, accumulate);
    }
    return 1;
}
