/* f32_gemm_4x24__avx2.c — float GEMM with bias and activation, AVX2 + FMA.
 *
 * A tile is MR = 4 weight rows by NV = 3 vectors of 8 columns: 12 ymm
 * accumulators started at the bias; per l, 3 loads of x's row l and 4
 * broadcasts feed 12 FMAs. Rows past the last 4 take 2- and 1-row tiles;
 * the last n % 24 columns 1-3 vectors, the last one masked (maskload /
 * maskstore: nothing past column n is read or written). Columns are the
 * outer loop. The activation as in the AVX-512 variant: Relu max(z, 0),
 * Clip min(hi, max(lo, z)). */
#include <immintrin.h>

#include "kernels/kernels.h"

#define MAX_NV 3
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE __m256 act_v(__m256 z, int act, __m256 lo, __m256 hi) {
    if (act == 1) return _mm256_max_ps(z, _mm256_setzero_ps());
    if (act == 2) return _mm256_min_ps(hi, _mm256_max_ps(lo, z));
    return z;
}

ALWAYS_INLINE void tile(const int MR, const int NV, const int TAIL, int k, const float *w, size_t ldw, const float *x,
                        size_t ldx, __m256i tail, const float *b, float *y, size_t ldy, int act, float lo, float hi) {
    __m256 a[4][MAX_NV];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) {
        const __m256 br = _mm256_set1_ps(b ? b[r] : 0.0f);
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) a[r][v] = br;
    }
    for (int l = 0; l < k; l++, x += ldx) {
        __m256 xv[MAX_NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            xv[v] = TAIL && v == NV - 1 ? _mm256_maskload_ps(x + 8 * v, tail) : _mm256_loadu_ps(x + 8 * v);
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            const __m256 wr = _mm256_broadcast_ss(w + (size_t)r * ldw + l);
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) a[r][v] = _mm256_fmadd_ps(wr, xv[v], a[r][v]);
        }
    }
    const __m256 lv = _mm256_set1_ps(lo), hv = _mm256_set1_ps(hi);
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) {
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) {
            float *o = y + (size_t)r * ldy + 8 * v;
            const __m256 z = act_v(a[r][v], act, lv, hv);
            if (TAIL && v == NV - 1)
                _mm256_maskstore_ps(o, tail, z);
            else
                _mm256_storeu_ps(o, z);
        }
    }
}

ALWAYS_INLINE void rows(const int NV, const int TAIL, int m, int k, const float *w, size_t ldw, const float *x,
                        size_t ldx, __m256i tail, const float *bias, float *y, size_t ldy, int act, float lo,
                        float hi) {
    int i = 0;
#define NNS_ROWS(MR)                                                                                               \
    for (; i + MR <= m; i += MR)                                                                                   \
        tile(MR, NV, TAIL, k, w + (size_t)i * ldw, ldw, x, ldx, tail, bias ? bias + i : NULL, y + (size_t)i * ldy, \
             ldy, act, lo, hi);
    NNS_ROWS(4)
    NNS_ROWS(2)
    NNS_ROWS(1)
#undef NNS_ROWS
}

#define NNS_COLS_FN(NV, TAIL)                                                                                      \
    static void cols_##NV##_##TAIL(int m, int k, const float *w, size_t ldw, const float *x, size_t ldx,          \
                                   __m256i tail, const float *bias, float *y, size_t ldy, int act, float lo,      \
                                   float hi) {                                                                    \
        rows(NV, TAIL, m, k, w, ldw, x, ldx, tail, bias, y, ldy, act, lo, hi);                                    \
    }
NNS_COLS_FN(3, 0)
NNS_COLS_FN(3, 1)
NNS_COLS_FN(2, 1)
NNS_COLS_FN(1, 1)
#undef NNS_COLS_FN

void nns_f32_gemm_4x24__avx2(int m, int n, int k, const float *w, size_t ldw, const float *x, size_t ldx,
                             const float *bias, float *y, size_t ldy, int act, float lo, float hi) {
    if (n <= 0) return;
    const int rem = n % 8 ? n % 8 : 8;
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const int nvec = (n + 7) / 8, n3 = nvec / 3, rest = nvec % 3;
    int j = 0;
    for (int b = 0; b < n3; b++, j += 24) {
        if (rest == 0 && b == n3 - 1)
            cols_3_1(m, k, w, ldw, x + j, ldx, tail, bias, y + j, ldy, act, lo, hi);
        else
            cols_3_0(m, k, w, ldw, x + j, ldx, tail, bias, y + j, ldy, act, lo, hi);
    }
    if (rest == 2)
        cols_2_1(m, k, w, ldw, x + j, ldx, tail, bias, y + j, ldy, act, lo, hi);
    else if (rest == 1)
        cols_1_1(m, k, w, ldw, x + j, ldx, tail, bias, y + j, ldy, act, lo, hi);
}
