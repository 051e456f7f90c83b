/* s4_gemm_4x8__avx2.c — 4-bit weight-only GEMM with AVX2: the AVX-512
 * variant's scheme on 8 lanes. A 16-byte chunk (32 codes) is widened as two
 * halves of 8 bytes; each half's low nibbles are codes 32c + 0..7 (or
 * 8..15) and its high nibbles codes 32c + 16..23 (24..31), sign-extended by
 * shifts; up to MR = 4 rows of x share each unpacking. The last chunk's x
 * loads are masked to k. Groups that are not a whole number of chunks take
 * the reference. */
#include <immintrin.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Lanes below avail (0..8) on. */
static inline __m256i mask_of(int avail) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(avail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Codes of one chunk as floats: c[0] = codes 0..7, c[1] = 8..15, c[2] =
 * 16..23, c[3] = 24..31. */
static inline void unpack(const uint8_t *p, __m256 c[4]) {
    const __m128i b = _mm_loadu_si128((const __m128i *)p);
    const __m256i v0 = _mm256_cvtepu8_epi32(b), v1 = _mm256_cvtepu8_epi32(_mm_srli_si128(b, 8));
    c[0] = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v0, 28), 28));
    c[1] = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v1, 28), 28));
    c[2] = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v0, 24), 28));
    c[3] = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v1, 24), 28));
}

ALWAYS_INLINE void out_rows(const int MR, int k, const float *x, size_t ldx, const uint8_t *row, const float *sc, int bs,
                            int ng, float b, float *y, size_t ldy) {
    __m256 tot[4];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) tot[r] = _mm256_setzero_ps();
    for (int g = 0; g < ng; g++) {
        __m256 acc[4];
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) acc[r] = _mm256_setzero_ps();
        const int l1 = (g + 1) * bs < k ? (g + 1) * bs : k;
        for (int l0 = g * bs; l0 < l1; l0 += 32) {
            __m256 c[4];
            unpack(row + (size_t)l0 / 2, c);
            if (l0 + 32 <= k) {
#pragma GCC unroll 4
                for (int r = 0; r < MR; r++) {
                    const float *xr = x + (size_t)r * ldx + l0;
#pragma GCC unroll 4
                    for (int q = 0; q < 4; q++) acc[r] = _mm256_fmadd_ps(c[q], _mm256_loadu_ps(xr + 8 * q), acc[r]);
                }
            } else {
#pragma GCC unroll 4
                for (int r = 0; r < MR; r++) {
                    const float *xr = x + (size_t)r * ldx + l0;
                    for (int q = 0; q < 4; q++)
                        if (k - l0 - 8 * q > 0)
                            acc[r] = _mm256_fmadd_ps(c[q], _mm256_maskload_ps(xr + 8 * q, mask_of(k - l0 - 8 * q)), acc[r]);
                }
            }
        }
        const __m256 s = _mm256_set1_ps(sc[g]);
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) tot[r] = _mm256_fmadd_ps(acc[r], s, tot[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) y[(size_t)r * ldy] = b + hsum(tot[r]);
}

void nns_s4_gemm_4x8__avx2(int m, int n, int k, const float *x, size_t ldx, const uint8_t *w, size_t ldw,
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
