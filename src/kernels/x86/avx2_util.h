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

/* dst[k] = src[2k] for k < n (reads src[0 .. 2n-2] only). */
static inline void nns_avx2_gather_stride2(const float *src, float *dst, int n) {
    int k = 0;
    for (; k + 9 <= n; k += 8) {
        const __m256 a = _mm256_loadu_ps(src + 2 * k), b = _mm256_loadu_ps(src + 2 * k + 8);
        const __m256 e = _mm256_shuffle_ps(a, b, 0x88);
        _mm256_storeu_ps(dst + k, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
    }
    for (; k < n; k++) dst[k] = src[2 * k];
}

/* dst[2k] += src[k] for k < n (touches dst[0 .. 2n-2] only; odd positions
 * are rewritten with their own values). */
static inline void nns_avx2_scatter_add_stride2(const float *src, float *dst, int n) {
    int k = 0;
    const __m256 z = _mm256_setzero_ps();
    for (; k + 9 <= n; k += 8) {
        const __m256 s = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_loadu_ps(src + k)), 0xD8));
        const __m256 lo = _mm256_unpacklo_ps(s, z), hi = _mm256_unpackhi_ps(s, z);
        _mm256_storeu_ps(dst + 2 * k, _mm256_add_ps(_mm256_loadu_ps(dst + 2 * k), lo));
        _mm256_storeu_ps(dst + 2 * k + 8, _mm256_add_ps(_mm256_loadu_ps(dst + 2 * k + 8), hi));
    }
    for (; k < n; k++) dst[2 * k] += src[k];
}

#endif
