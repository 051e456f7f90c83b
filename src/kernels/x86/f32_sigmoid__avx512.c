/* f32_sigmoid__avx512.c — Sigmoid and SiLU, 16 at a time (the tail with a
 * mask): nns_sigmoidf's operations in its order, separate multiplies and
 * adds (no FMA), so the bits are the reference's. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m512 expf_fast(__m512 x) { /* nns_expf_fast */
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), magic);
    const __m512 fn = _mm512_sub_ps(t, magic);
    const __m512i bits = _mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000)),
                                          _mm512_set1_epi32(127));
    const __m512 scale = _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23));
    const __m512 r = _mm512_add_ps(_mm512_sub_ps(x, _mm512_mul_ps(fn, _mm512_set1_ps(0.693359375f))),
                                   _mm512_mul_ps(fn, _mm512_set1_ps(2.12194440e-4f)));
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(0.5f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f));
    return _mm512_mul_ps(p, scale);
}

static inline __m512 neg(__m512 v) { /* -v: the sign bit flipped */
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)));
}

static inline __m512 sigmoid(__m512 x, int silu) {
    const __m512 lim = _mm512_set1_ps(87.336f);
    const __m512 a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
    const __m512 c = _mm512_min_ps(a, lim); /* a < lim ? a : lim */
    const __mmask16 in = _mm512_cmp_ps_mask(a, lim, _CMP_LT_OQ);
    const __m512 t = _mm512_maskz_mov_ps(in, expf_fast(neg(c)));
    const __m512 s = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), t));
    const __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
    const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    __m512 y = _mm512_mask_mov_ps(_mm512_mul_ps(t, s), pos, s);
    y = _mm512_mask_mov_ps(y, nan, x);
    return silu ? _mm512_mul_ps(x, y) : y;
}

void nns_f32_sigmoid__avx512(int64_t n, const float *x, float *y, int silu) {
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(y + j, sigmoid(_mm512_loadu_ps(x + j), silu));
    if (j < n) {
        const __mmask16 m = (__mmask16)((1u << (n - j)) - 1u);
        _mm512_mask_storeu_ps(y + j, m, sigmoid(_mm512_maskz_loadu_ps(m, x + j), silu));
    }
}
