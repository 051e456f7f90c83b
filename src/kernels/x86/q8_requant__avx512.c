/* q8_requant__avx512.c — int32 accumulators to u8 / s8, 16 at a time: the
 * product in float as the reference computes it, clamped in float to the
 * range minus the zero point (so that no conversion overflows), converted
 * rounding half to even (the default MXCSR mode, which nnslim never
 * changes), the zero point added, narrowed to bytes (exact: in range) in a
 * register, then stored (under a byte mask at the tail only): vpmovdb's
 * memory form and masked byte stores are slow on AMD's cores (each took
 * half the kernel's time), and compilers merge the narrowing into the
 * store unless an empty asm keeps the register. */
#include <immintrin.h>

#include "kernels/kernels.h"

void nns_q8_requant__avx512(int n, const int32_t *acc, float mult, int32_t zp, int32_t qlo, int32_t qhi, int y_signed,
                            void *y) {
    (void)y_signed; /* in range, the low byte is the u8 or the s8 value */
    const __m512 m = _mm512_set1_ps(mult), lo = _mm512_set1_ps((float)(qlo - zp)), hi = _mm512_set1_ps((float)(qhi - zp));
    const __m512i z = _mm512_set1_epi32(zp);
    uint8_t *o = y;
    for (int j = 0; j < n; j += 16) {
        const __mmask16 k = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(k, acc + j)), m);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), z);
        __m128i b = _mm512_cvtepi32_epi8(q);
        __asm__("" : "+x"(b));
        if (k == 0xffff) _mm_storeu_si128((__m128i *)(o + j), b); /* masked byte stores are slow on AMD too */
        else _mm_mask_storeu_epi8(o + j, k, b);
    }
}
