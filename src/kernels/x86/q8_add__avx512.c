/* q8_add__avx512.c — the sum of two quantized tensors, quantized, 16
 * values at a time: widen to int32, subtract the zero points, to float,
 * two multiplies and an add (no FMA, as the reference), round half to even
 * (the default rounding mode), add the zero point, clamp, narrow with a
 * truncating pack (the value is in range). The tail in masked loads and
 * stores. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m512i widen(const void *x, int sgn, __mmask16 m) {
    const __m128i v = _mm_maskz_loadu_epi8(m, x);
    return sgn ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}

void nns_q8_add__avx512(int n, const void *a, int32_t az, float ma, const void *b, int32_t bz, float mb, int32_t yz,
                        int32_t lo, int32_t hi, int sgn, void *y) {
    const __m512i vaz = _mm512_set1_epi32(az), vbz = _mm512_set1_epi32(bz);
    const __m512 vma = _mm512_set1_ps(ma), vmb = _mm512_set1_ps(mb), vyz = _mm512_set1_ps((float)yz);
    const __m512 vlo = _mm512_set1_ps((float)lo), vhi = _mm512_set1_ps((float)hi);
    for (int j = 0; j < n; j += 16) {
        const __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        const __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(widen((const char *)a + j, sgn & 1, m), vaz)), vma);
        const __m512 u =
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(widen((const char *)b + j, sgn >> 1 & 1, m), vbz)), vmb);
        __m512 r = _mm512_add_ps(_mm512_roundscale_ps(_mm512_add_ps(t, u), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vyz);
        r = _mm512_min_ps(_mm512_max_ps(r, vlo), vhi);
        __m128i q = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(r));
        __asm__("" : "+x"(q)); /* keeps vpmovdb in a register: its memory form is slow on AMD */
        if (m == 0xffff) _mm_storeu_si128((__m128i *)((char *)y + j), q); /* masked byte stores: the tail only */
        else _mm_mask_storeu_epi8((char *)y + j, m, q);
    }
}
