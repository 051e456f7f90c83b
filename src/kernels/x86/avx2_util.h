/* avx2_util.h — helpers for AVX2 kernels (include only from *avx2* files). */
#ifndef NNS_KERNELS_AVX2_UTIL_H
#define NNS_KERNELS_AVX2_UTIL_H

#include <immintrin.h>

/* Mask with the first n (0..8) lanes set. */
static inline __m256i nns_avx2_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Sum of the 8 lanes (fixed order). */
static inline float nns_avx2_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
