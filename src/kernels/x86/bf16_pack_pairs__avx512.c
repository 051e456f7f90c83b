/* bf16_pack_pairs__avx512.c — two float rows rounded to bfloat16 and
 * interleaved into pairs with AVX-512: 16 columns per step, each output
 * dword the two rows' top halves, rounded to nearest even by integer
 * arithmetic (a NaN kept a quiet NaN), the column tail masked. */
#include <immintrin.h>

#include "kernels/kernels.h"

/* The bf16 bits of 16 floats, in the low half of each dword. */
static inline __m512i round_bf16(__m512i u) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    const __m512i abs = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(abs, _mm512_set1_epi32(0x7f800000));
    const __m512i q = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
    return _mm512_mask_mov_epi32(r, nan, q);
}

void nns_bf16_pack_pairs__avx512(int k, int n, const float *x, size_t ldx, uint16_t *xp, size_t ldp) {
    for (int p = 0; p < nns_bf16_pairs(k); p++) {
        const float *a = x + (size_t)(2 * p) * ldx, *b = 2 * p + 1 < k ? a + ldx : NULL;
        uint16_t *o = xp + (size_t)p * ldp;
        for (int j = 0; j < n; j += 16) {
            const __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
            const __m512i lo = round_bf16(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, a + j)));
            const __m512i hi = b ? round_bf16(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, b + j))) : _mm512_setzero_si512();
            _mm512_mask_storeu_epi32(o + 2 * (size_t)j, m, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
        }
    }
}
