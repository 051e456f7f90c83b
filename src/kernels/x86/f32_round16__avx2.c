/* f32_round16__avx2.c — float values rounded to float16 (F16C's
 * vcvtps2ph with round-to-nearest-even, then vcvtph2ps) or to bfloat16
 * (integer arithmetic on the bits: add 0x7fff plus the lowest kept bit,
 * clear the 16 dropped ones; a NaN is kept as a quiet NaN), 8 at a time;
 * the tail goes to the reference. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m256 round_bf16(__m256 v) {
    const __m256i u = _mm256_castps_si256(v);
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), odd);
    const __m256i hi = _mm256_set1_epi32((int)0xffff0000u);
    const __m256i nan = _mm256_or_si256(u, _mm256_set1_epi32(0x400000)); /* quiet, top 16 bits kept */
    const __m256 is_nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    return _mm256_blendv_ps(_mm256_castsi256_ps(_mm256_and_si256(r, hi)), _mm256_castsi256_ps(_mm256_and_si256(nan, hi)),
                            is_nan);
}

void nns_f32_round16__avx2(int64_t n, const float *x, float *y, int bf16) {
    int64_t j = 0;
    if (bf16)
        for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, round_bf16(_mm256_loadu_ps(x + j)));
    else
        for (; j + 8 <= n; j += 8)
            _mm256_storeu_ps(y + j, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + j), _MM_FROUND_TO_NEAREST_INT)));
    if (j < n) nns_f32_round16__ref(n - j, x + j, y + j, bf16);
}
