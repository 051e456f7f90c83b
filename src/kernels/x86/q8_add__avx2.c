/* q8_add__avx2.c — the sum of two quantized tensors, quantized, 8 values
 * at a time as the AVX-512 variant does it (widen, subtract the zero
 * points, two multiplies and an add without FMA, round half to even, add
 * the zero point, clamp in float, convert); the narrowing and the tail go
 * through a small buffer. */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

static inline __m256i widen8(const uint8_t *x, int sgn) {
    const __m128i v = _mm_loadl_epi64((const __m128i *)x);
    return sgn ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

void nns_q8_add__avx2(int n, const void *a, int32_t az, float ma, const void *b, int32_t bz, float mb, int32_t yz,
                      int32_t lo, int32_t hi, int sgn, void *y) {
    const __m256i vaz = _mm256_set1_epi32(az), vbz = _mm256_set1_epi32(bz);
    const __m256 vma = _mm256_set1_ps(ma), vmb = _mm256_set1_ps(mb), vyz = _mm256_set1_ps((float)yz);
    const __m256 vlo = _mm256_set1_ps((float)lo), vhi = _mm256_set1_ps((float)hi);
    const uint8_t *pa = a, *pb = b;
    uint8_t *py = y;
    for (int j = 0; j < n; j += 8) {
        const int len = n - j < 8 ? n - j : 8;
        uint8_t ta[8] = {0}, tb[8] = {0};
        const uint8_t *xa = pa + j, *xb = pb + j;
        if (len < 8) {
            memcpy(ta, xa, (size_t)len), memcpy(tb, xb, (size_t)len);
            xa = ta, xb = tb;
        }
        const __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(widen8(xa, sgn & 1), vaz)), vma);
        const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(widen8(xb, sgn >> 1 & 1), vbz)), vmb);
        __m256 r = _mm256_add_ps(_mm256_round_ps(_mm256_add_ps(t, u), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vyz);
        r = _mm256_min_ps(_mm256_max_ps(r, vlo), vhi);
        const __m256i q = _mm256_cvtps_epi32(r); /* in range: the low byte of each lane is the value */
        const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        uint8_t out[16];
        _mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(w, _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1)));
        memcpy(py + j, out, (size_t)len);
    }
}
