/* f32_bn_rows__avx2.c — BatchNormalization's row loops on vectors of 8
 * floats: the f32_bn_stats, f32_bn_apply, f32_bn_grad_sums and
 * f32_bn_grad_row variants for AVX2, a row's last floats under a mask. */
#include <immintrin.h>

/* Lanes below n set. */
static inline __m256i bn_mask8(long long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The 8 lanes summed, halves folded: 4 + 4, 2 + 2, 1 + 1. */
static inline float bn_reduce8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

#define BN_VW 8
#define BN_NAME(family) nns_##family##__avx2
#define BN_LOAD_N(p, n, pad)                                                                \
    ((bn_vf)_mm256_blendv_ps(_mm256_set1_ps(pad), _mm256_maskload_ps((p), bn_mask8(n)), \
                             _mm256_castsi256_ps(bn_mask8(n))))
#define BN_STORE_N(p, v, n) _mm256_maskstore_ps((p), bn_mask8(n), (__m256)(v))
#define BN_REDUCE(v) bn_reduce8((__m256)(v))
#include "kernels/bn_rows.h"
