/* f16_gemm_4x16__avx512.c — float16 weight-only GEMM with AVX-512: 16
 * weights of a row converted per vcvtph2ps and multiplied into up to MR = 4
 * rows of x at once (the conversion paid once for four rows); one vector
 * accumulator per row, reduced once per output; the last k % 16 weights
 * and inputs loaded masked (nothing past k is read). */
#include <immintrin.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE void out_rows(const int MR, int k, const float *x, size_t ldx, const uint16_t *row, float b, float *y,
                            size_t ldy) {
    __m512 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) acc[r] = _mm512_setzero_ps();
    int l = 0;
    for (; l + 16 <= k; l += 16) {
        const __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + l)));
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) acc[r] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + (size_t)r * ldx + l), acc[r]);
    }
    if (l < k) {
        const __mmask16 t = (__mmask16)((1u << (k - l)) - 1);
        const __m512 wv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(t, row + l));
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++)
            acc[r] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(t, x + (size_t)r * ldx + l), acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) y[(size_t)r * ldy] = b + _mm512_reduce_add_ps(acc[r]);
}

void nns_f16_gemm_4x16__avx512(int m, int n, int k, const float *x, size_t ldx, const uint16_t *w, size_t ldw,
                               const float *bias, float *y, size_t ldy) {
    for (int j = 0; j < n; j++) {
        const uint16_t *row = w + (size_t)j * ldw;
        const float b = bias ? bias[j] : 0.0f;
        int i = 0;
        for (; i + 4 <= m; i += 4) out_rows(4, k, x + (size_t)i * ldx, ldx, row, b, y + (size_t)i * ldy + j, ldy);
        for (; i < m; i++) out_rows(1, k, x + (size_t)i * ldx, ldx, row, b, y + (size_t)i * ldy + j, ldy);
    }
}
