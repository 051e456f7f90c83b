/* f16_gemm_4x8__avx2.c — float16 weight-only GEMM with AVX2 and F16C: 8
 * weights of a row converted per vcvtph2ps into up to MR = 4 rows of x at
 * once, two vector accumulators per row (two chains cover the FMA
 * latency), reduced once per output; the last k % 8 weights and inputs
 * through zero-padded copies (nothing past k is read). */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 cvt8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

ALWAYS_INLINE void out_rows(const int MR, int k, const float *x, size_t ldx, const uint16_t *row, float b, float *y,
                            size_t ldy) {
    __m256 a0[4], a1[4];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) a0[r] = a1[r] = _mm256_setzero_ps();
    int l = 0;
    for (; l + 16 <= k; l += 16) {
        const __m256 w0 = cvt8(row + l), w1 = cvt8(row + l + 8);
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            const float *xr = x + (size_t)r * ldx + l;
            a0[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xr), a0[r]);
            a1[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xr + 8), a1[r]);
        }
    }
    for (; l < k; l += 8) {
        const int t = k - l < 8 ? k - l : 8;
        uint16_t wt[8] = {0};
        memcpy(wt, row + l, (size_t)t * sizeof *wt);
        const __m256 wv = cvt8(wt);
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            float xt[8] = {0};
            memcpy(xt, x + (size_t)r * ldx + l, (size_t)t * sizeof *xt);
            a0[r] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xt), a0[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) y[(size_t)r * ldy] = b + hsum(_mm256_add_ps(a0[r], a1[r]));
}

void nns_f16_gemm_4x8__avx2(int m, int n, int k, const float *x, size_t ldx, const uint16_t *w, size_t ldw,
                            const float *bias, float *y, size_t ldy) {
    for (int j = 0; j < n; j++) {
        const uint16_t *row = w + (size_t)j * ldw;
        const float b = bias ? bias[j] : 0.0f;
        int i = 0;
        for (; i + 4 <= m; i += 4) out_rows(4, k, x + (size_t)i * ldx, ldx, row, b, y + (size_t)i * ldy + j, ldy);
        for (; i < m; i++) out_rows(1, k, x + (size_t)i * ldx, ldx, row, b, y + (size_t)i * ldy + j, ldy);
    }
}
