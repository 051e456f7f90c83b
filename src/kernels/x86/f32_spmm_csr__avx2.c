/* f32_spmm_csr__avx2.c — sparse (CSR) times dense with AVX2 + FMA (see
 * kernels.h). mb >= 2: each stored weight is broadcast and multiplied into
 * up to 32 columns of its x row at once; narrower tails (16, then 8 or a
 * masked part) run two or four accumulator chains over alternate entries so
 * that the FMA latency is hidden. mb == 1 (a sparse dot per row): 16 x values at a time by
 * gathers, two accumulators. */
#include "kernels/kernels.h"
#include "kernels/x86/avx2_util.h"

static inline void put(float *py, ptrdiff_t ys_m, const float *r, int cnt, int accumulate) {
    for (int q = 0; q < cnt; q++) {
        float *p = py + (ptrdiff_t)q * ys_m;
        *p = accumulate ? *p + r[q] : r[q];
    }
}

void nns_f32_spmm_csr__avx2(int n0, int n1, int mb, const int32_t *row_ptr, const int32_t *col,
                            const float *val, const float *x, ptrdiff_t ldx, float alpha, float *y,
                            ptrdiff_t ys_n, ptrdiff_t ys_m, int accumulate) {
    const __m256 va = _mm256_set1_ps(alpha);
    if (mb == 1) {
        const __m256i vld = _mm256_set1_epi32((int)ldx);
        for (int n = n0; n < n1; n++) {
            const int32_t j0 = row_ptr[n], j1 = row_ptr[n + 1];
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            int32_t j = j0;
            for (; j + 16 <= j1; j += 16) {
                __m256i i0 = _mm256_loadu_si256((const __m256i *)(col + j));
                __m256i i1 = _mm256_loadu_si256((const __m256i *)(col + j + 8));
                if (ldx != 1) {
                    i0 = _mm256_mullo_epi32(i0, vld);
                    i1 = _mm256_mullo_epi32(i1, vld);
                }
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(val + j), _mm256_i32gather_ps(x, i0, 4), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(val + j + 8), _mm256_i32gather_ps(x, i1, 4), a1);
            }
            for (; j + 8 <= j1; j += 8) {
                __m256i i0 = _mm256_loadu_si256((const __m256i *)(col + j));
                if (ldx != 1) i0 = _mm256_mullo_epi32(i0, vld);
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(val + j), _mm256_i32gather_ps(x, i0, 4), a0);
            }
            float s = nns_avx2_hsum(_mm256_add_ps(a0, a1));
            for (; j < j1; j++) s += val[j] * x[(ptrdiff_t)col[j] * ldx];
            float *py = y + (ptrdiff_t)n * ys_n;
            *py = accumulate ? *py + alpha * s : alpha * s;
        }
        return;
    }
    float r[32];
    for (int n = n0; n < n1; n++) {
        const int32_t j0 = row_ptr[n], j1 = row_ptr[n + 1];
        float *yn = y + (ptrdiff_t)n * ys_n;
        int i = 0;
        for (; i + 32 <= mb; i += 32) {
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
            for (int32_t j = j0; j < j1; j++) {
                const __m256 w = _mm256_broadcast_ss(val + j);
                const float *xr = x + (ptrdiff_t)col[j] * ldx + i;
                a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(xr), a0);
                a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(xr + 8), a1);
                a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(xr + 16), a2);
                a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(xr + 24), a3);
            }
            _mm256_storeu_ps(r, _mm256_mul_ps(va, a0));
            _mm256_storeu_ps(r + 8, _mm256_mul_ps(va, a1));
            _mm256_storeu_ps(r + 16, _mm256_mul_ps(va, a2));
            _mm256_storeu_ps(r + 24, _mm256_mul_ps(va, a3));
            put(yn + (ptrdiff_t)i * ys_m, ys_m, r, 32, accumulate);
        }
        if (i + 16 <= mb) { /* 16 columns: two chains over alternate entries */
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
            int32_t j = j0;
            for (; j + 2 <= j1; j += 2) {
                const __m256 w0 = _mm256_broadcast_ss(val + j), w1 = _mm256_broadcast_ss(val + j + 1);
                const float *x0 = x + (ptrdiff_t)col[j] * ldx + i, *x1 = x + (ptrdiff_t)col[j + 1] * ldx + i;
                a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x0), a0);
                a1 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x0 + 8), a1);
                b0 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x1), b0);
                b1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x1 + 8), b1);
            }
            if (j < j1) {
                const __m256 w0 = _mm256_broadcast_ss(val + j);
                const float *x0 = x + (ptrdiff_t)col[j] * ldx + i;
                a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x0), a0);
                a1 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x0 + 8), a1);
            }
            _mm256_storeu_ps(r, _mm256_mul_ps(va, _mm256_add_ps(a0, b0)));
            _mm256_storeu_ps(r + 8, _mm256_mul_ps(va, _mm256_add_ps(a1, b1)));
            put(yn + (ptrdiff_t)i * ys_m, ys_m, r, 16, accumulate);
            i += 16;
        }
        while (i < mb) { /* 8 or fewer columns: four chains over the entries */
            const int cnt = mb - i < 8 ? mb - i : 8;
            const __m256i mk = nns_avx2_mask(cnt);
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
            int32_t j = j0;
            const float *xi = x + i;
            if (cnt == 8) {
                for (; j + 4 <= j1; j += 4) {
                    a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j), _mm256_loadu_ps(xi + (ptrdiff_t)col[j] * ldx), a0);
                    a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j + 1),
                                         _mm256_loadu_ps(xi + (ptrdiff_t)col[j + 1] * ldx), a1);
                    a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j + 2),
                                         _mm256_loadu_ps(xi + (ptrdiff_t)col[j + 2] * ldx), a2);
                    a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j + 3),
                                         _mm256_loadu_ps(xi + (ptrdiff_t)col[j + 3] * ldx), a3);
                }
                for (; j < j1; j++)
                    a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j), _mm256_loadu_ps(xi + (ptrdiff_t)col[j] * ldx), a0);
            } else {
                for (; j + 4 <= j1; j += 4) {
                    a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j),
                                         _mm256_maskload_ps(xi + (ptrdiff_t)col[j] * ldx, mk), a0);
                    a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j + 1),
                                         _mm256_maskload_ps(xi + (ptrdiff_t)col[j + 1] * ldx, mk), a1);
                    a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j + 2),
                                         _mm256_maskload_ps(xi + (ptrdiff_t)col[j + 2] * ldx, mk), a2);
                    a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j + 3),
                                         _mm256_maskload_ps(xi + (ptrdiff_t)col[j + 3] * ldx, mk), a3);
                }
                for (; j < j1; j++)
                    a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(val + j),
                                         _mm256_maskload_ps(xi + (ptrdiff_t)col[j] * ldx, mk), a0);
            }
            const __m256 sum = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
            _mm256_storeu_ps(r, _mm256_mul_ps(va, sum));
            put(yn + (ptrdiff_t)i * ys_m, ys_m, r, cnt, accumulate);
            i += cnt;
        }
    }
}
