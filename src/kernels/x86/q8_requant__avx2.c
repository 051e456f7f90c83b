/* q8_requant__avx2.c — int32 accumulators to u8 / s8, 8 at a time (as the
 * AVX-512 variant: float product, float clamp, round half to even, zero
 * point, narrowing of in-range values); the tail in scalar. */
#include <immintrin.h>

#include "core/qmath.h"
#include "kernels/kernels.h"

void nns_q8_requant__avx2(int n, const int32_t *acc, float mult, int32_t zp, int32_t qlo, int32_t qhi, int y_signed,
                          void *y) {
    const __m256 m = _mm256_set1_ps(mult), lo = _mm256_set1_ps((float)(qlo - zp)), hi = _mm256_set1_ps((float)(qhi - zp));
    const __m256i z = _mm256_set1_epi32(zp);
    uint8_t *o = y;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(acc + j))), m);
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), z);
        const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(o + j), y_signed ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w));
    }
    for (; j < n; j++) o[j] = (uint8_t)nns_q_requant(acc[j], mult, zp, qlo, qhi);
}
