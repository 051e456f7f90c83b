/* f32_sigmoid__avx2.c — Sigmoid and SiLU, 8 at a time (the tail by the
 * reference): nns_sigmoidf's operations in its order, separate multiplies and
 * adds (no FMA), so the bits are the reference's. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m256 expf_fast(__m256 x) { /* nns_expf_fast */
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), magic);
    const __m256 fn = _mm256_sub_ps(t, magic);
    const __m256i bits = _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000)),
                                          _mm256_set1_epi32(127));
    const __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23));
    const __m256 r = _mm256_add_ps(_mm256_sub_ps(x, _mm256_mul_ps(fn, _mm256_set1_ps(0.693359375f))),
                                   _mm256_mul_ps(fn, _mm256_set1_ps(2.12194440e-4f)));
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0.5f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    return _mm256_mul_ps(p, scale);
}

static inline __m256 neg(__m256 v) { /* -v: the sign bit flipped */
    return _mm256_xor_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)));
}

static inline __m256 sigmoid(__m256 x, int silu) {
    const __m256 lim = _mm256_set1_ps(87.336f);
    const __m256 a = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
    const __m256 c = _mm256_min_ps(a, lim); /* a < lim ? a : lim */
    const __m256 in = _mm256_cmp_ps(a, lim, _CMP_LT_OQ);
    const __m256 t = _mm256_and_ps(in, expf_fast(neg(c)));
    const __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), t));
    const __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    __m256 y = _mm256_blendv_ps(_mm256_mul_ps(t, s), s, pos);
    y = _mm256_blendv_ps(y, x, nan);
    return silu ? _mm256_mul_ps(x, y) : y;
}

void nns_f32_sigmoid__avx2(int64_t n, const float *x, float *y, int silu) {
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, sigmoid(_mm256_loadu_ps(x + j), silu));
    if (j < n) nns_f32_sigmoid__ref(n - j, x + j, y + j, silu);
}
