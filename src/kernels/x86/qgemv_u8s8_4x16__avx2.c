/* qgemv_u8s8_4x16__avx2.c — u8 vector times s8 matrix rows with AVX2,
 * exact: 16 values of x widened to 16 bits (zero-extended) against 16
 * weights widened (sign-extended), vpmaddwd sums each pair into int32
 * (|255 * 128| * 2 fits: no saturation, unlike vpmaddubsw's 16-bit pair
 * sums), four rows at a time sharing x. Reads up to nns_qgemv_pad(k). */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline int32_t hsum(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static inline __m256i wrow(const int8_t *w) { return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w)); }

void nns_qgemv_u8s8_4x16__avx2(int m, int k, const int8_t *w, size_t ldw, const uint8_t *x, const int32_t *bias,
                               int32_t *acc) {
    const int kp = (k + 15) / 16 * 16; /* within nns_qgemv_pad(k) */
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        const int8_t *w0 = w + (size_t)i * ldw;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int l = 0; l < kp; l += 16) {
            const __m256i xv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + l)));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(xv, wrow(w0 + l)));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(xv, wrow(w0 + ldw + l)));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(xv, wrow(w0 + 2 * ldw + l)));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(xv, wrow(w0 + 3 * ldw + l)));
        }
        acc[i] = hsum(a0) + (bias ? bias[i] : 0);
        acc[i + 1] = hsum(a1) + (bias ? bias[i + 1] : 0);
        acc[i + 2] = hsum(a2) + (bias ? bias[i + 2] : 0);
        acc[i + 3] = hsum(a3) + (bias ? bias[i + 3] : 0);
    }
    for (; i < m; i++) {
        const int8_t *wi = w + (size_t)i * ldw;
        __m256i a = _mm256_setzero_si256();
        for (int l = 0; l < kp; l += 16)
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + l))),
                                                      wrow(wi + l)));
        acc[i] = hsum(a) + (bias ? bias[i] : 0);
    }
}
