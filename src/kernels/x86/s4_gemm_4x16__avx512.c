/* s4_gemm_4x16__avx512.c — 4-bit weight-only GEMM with AVX-512: one
 * 16-byte chunk of a weight row (32 codes) is widened to 16 dwords, its low
 * and high nibbles sign-extended by shifts into two runs of 16 codes and
 * converted to float, then multiplied into up to MR = 4 rows of x at once
 * (the unpacking paid once for four rows). Each group's sums stay in vector
 * accumulators, are scaled by the group's scale into a running vector per
 * row, and reduced once per output. The last chunk's x loads are masked to
 * k (codes past k are zero, and x past k is not read). Groups that are not
 * a whole number of chunks (bs % 32 != 0) take the reference. */
#include <immintrin.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

static inline __mmask16 mask_of(int avail) {
    return avail >= 16 ? (__mmask16)0xffff : avail <= 0 ? (__mmask16)0 : (__mmask16)((1u << avail) - 1);
}

/* Output j for rows [0, MR) of x. */
ALWAYS_INLINE void out_rows(const int MR, int k, const float *x, size_t ldx, const uint8_t *row, const float *sc, int bs,
                            int ng, float b, float *y, size_t ldy) {
    __m512 tot[4];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) tot[r] = _mm512_setzero_ps();
    for (int g = 0; g < ng; g++) {
        __m512 acc[4];
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) acc[r] = _mm512_setzero_ps();
        const int l1 = (g + 1) * bs < k ? (g + 1) * bs : k;
        for (int l0 = g * bs; l0 < l1; l0 += 32) {
            const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(row + (size_t)l0 / 2)));
            const __m512 lo = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(v, 28), 28));
            const __m512 hi = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(v, 24), 28));
            if (l0 + 32 <= k) {
#pragma GCC unroll 4
                for (int r = 0; r < MR; r++) {
                    const float *xr = x + (size_t)r * ldx + l0;
                    acc[r] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(xr), acc[r]);
                    acc[r] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xr + 16), acc[r]);
                }
            } else {
                const __mmask16 ml = mask_of(k - l0), mh = mask_of(k - l0 - 16);
#pragma GCC unroll 4
                for (int r = 0; r < MR; r++) {
                    const float *xr = x + (size_t)r * ldx + l0;
                    acc[r] = _mm512_fmadd_ps(lo, _mm512_maskz_loadu_ps(ml, xr), acc[r]);
                    acc[r] = _mm512_fmadd_ps(hi, _mm512_maskz_loadu_ps(mh, xr + 16), acc[r]);
                }
            }
        }
        const __m512 s = _mm512_set1_ps(sc[g]);
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) tot[r] = _mm512_fmadd_ps(acc[r], s, tot[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) y[(size_t)r * ldy] = b + _mm512_reduce_add_ps(tot[r]);
}

void nns_s4_gemm_4x16__avx512(int m, int n, int k, const float *x, size_t ldx, const uint8_t *w, size_t ldw,
                              const float *scale, int bs, const float *bias, float *y, size_t ldy) {
    if (bs <= 0 || bs % 32) {
        nns_s4_gemm__ref(m, n, k, x, ldx, w, ldw, scale, bs, bias, y, ldy);
        return;
    }
    const int ng = (k + bs - 1) / bs;
    for (int j = 0; j < n; j++) {
        const uint8_t *row = w + (size_t)j * ldw;
        const float *sc = scale + (size_t)j * ng, b = bias ? bias[j] : 0.0f;
        int i = 0;
        for (; i + 4 <= m; i += 4) out_rows(4, k, x + (size_t)i * ldx, ldx, row, sc, bs, ng, b, y + (size_t)i * ldy + j, ldy);
        for (; i < m; i++) out_rows(1, k, x + (size_t)i * ldx, ldx, row, sc, bs, ng, b, y + (size_t)i * ldy + j, ldy);
    }
}
