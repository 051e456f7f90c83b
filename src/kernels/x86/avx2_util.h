/* avx2_util.h — helpers for AVX2 kernels (include only from *avx2* files). */
#ifndef NNS_KERNELS_AVX2_UTIL_H
#define NNS_KERNELS_AVX2_UTIL_H

#include <immintrin.h>
#include <stdint.h>

/* Mask with the first n (0..8) lanes set. */
static inline __m256i nns_avx2_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The first n (0..8) lanes of v to dst. (No vmaskmovps store: it is
 * microcoded and very slow on AMD Zen.) */
static inline void nns_avx2_store_first(float *dst, __m256 v, int n) {
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < n; i++) dst[i] = t[i];
}

static inline void nns_avx2_store_first_epi32(int32_t *dst, __m256i v, int n) {
    int32_t t[8];
    _mm256_storeu_si256((__m256i *)t, v);
    for (int i = 0; i < n; i++) dst[i] = t[i];
}

/* Sum of the 8 lanes (fixed order). */
static inline float nns_avx2_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* dst[k] = src[k] for k < n (8-float moves, masked at the end). */
static inline void nns_avx2_copy(const float *src, float *dst, int n) {
    int k = 0;
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(dst + k, _mm256_loadu_ps(src + k));
    for (; k < n; k++) dst[k] = src[k];
}

/* dst[k] += src[k] for k < n. */
static inline void nns_avx2_add_into(const float *src, float *dst, int n) {
    int k = 0;
    for (; k + 8 <= n; k += 8)
        _mm256_storeu_ps(dst + k, _mm256_add_ps(_mm256_loadu_ps(dst + k), _mm256_loadu_ps(src + k)));
    for (; k < n; k++) dst[k] += src[k];
}

/* Even and odd elements of 16 consecutive floats, in order. */
static inline __m256 nns_avx2_even(__m256 a, __m256 b) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}

/* dst[k] = src[2k] for k < n; reads src[0 .. 2n-2] only. spill: may write
 * up to 7 floats (garbage) past dst + n; else writes exactly n. */
static inline void nns_avx2_gather_stride2(const float *src, float *dst, int n, int spill) {
    int k = 0;
    for (; k + 8 < n; k += 8) _mm256_storeu_ps(dst + k, nns_avx2_even(_mm256_loadu_ps(src + 2 * k), _mm256_loadu_ps(src + 2 * k + 8)));
    if (k < n) {
        const int m = 2 * (n - k) - 1; /* floats left to read: 1..15 */
        const __m256 a = _mm256_maskload_ps(src + 2 * k, nns_avx2_mask(m < 8 ? m : 8));
        const __m256 b = _mm256_maskload_ps(src + 2 * k + 8, nns_avx2_mask(m > 8 ? m - 8 : 0));
        const __m256 v = nns_avx2_even(a, b);
        if (spill) _mm256_storeu_ps(dst + k, v);
        else nns_avx2_store_first(dst + k, v, n - k);
    }
}

/* dst[2k] += src[k] for k < n; odd positions are rewritten with their own
 * values. spill: the last step may read and rewrite (unchanged) up to 15
 * floats past dst + 2n - 2 (the caller owns them); else touches dst[0 ..
 * 2n-2] only. */
static inline void nns_avx2_scatter_add_stride2(const float *src, float *dst, int n, int spill) {
    int k = 0;
    const __m256 z = _mm256_setzero_ps();
    for (; k + 9 <= n || (spill && k < n); k += 8) {
        const int m = n - k < 8 ? n - k : 8;
        const __m256 sv = m == 8 ? _mm256_loadu_ps(src + k) : _mm256_maskload_ps(src + k, nns_avx2_mask(m));
        const __m256 s = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(sv), 0xD8));
        const __m256 lo = _mm256_unpacklo_ps(s, z), hi = _mm256_unpackhi_ps(s, z);
        _mm256_storeu_ps(dst + 2 * k, _mm256_add_ps(_mm256_loadu_ps(dst + 2 * k), lo));
        _mm256_storeu_ps(dst + 2 * k + 8, _mm256_add_ps(_mm256_loadu_ps(dst + 2 * k + 8), hi));
    }
    for (; k < n; k++) dst[2 * k] += src[k];
}

#endif
