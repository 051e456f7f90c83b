/* u8_pack_quads__avx512.c — a [k][n] u8 operand into quads, 16 columns at
 * a time as the AVX2 variant interleaves them (two unpack rounds), with the
 * column tail in masked loads and a masked 64-byte store (AVX-512 BW/VL):
 * the short rows of small planes (7 or 14 columns, all tail) cost one step
 * each. Rows past k read as zeros. */
#include <immintrin.h>

#include "kernels/kernels.h"

void nns_u8_pack_quads__avx512(int k, int n, const uint8_t *x, size_t ldx, uint8_t *xq, size_t ldq) {
    for (int q = 0; q < nns_quads(k); q++) {
        const uint8_t *r[4];
        for (int t = 0; t < 4; t++) r[t] = 4 * q + t < k ? x + (size_t)(4 * q + t) * ldx : NULL;
        uint8_t *o = xq + (size_t)q * ldq;
        for (int j = 0; j < n; j += 16) {
            const int left = n - j < 16 ? n - j : 16;
            const __mmask16 m = (__mmask16)((1u << left) - 1);
            __m128i v[4];
            for (int t = 0; t < 4; t++) v[t] = r[t] ? _mm_maskz_loadu_epi8(m, r[t] + j) : _mm_setzero_si128();
            const __m128i a0 = _mm_unpacklo_epi8(v[0], v[1]), a1 = _mm_unpackhi_epi8(v[0], v[1]);
            const __m128i b0 = _mm_unpacklo_epi8(v[2], v[3]), b1 = _mm_unpackhi_epi8(v[2], v[3]);
            __m512i w = _mm512_castsi128_si512(_mm_unpacklo_epi16(a0, b0));
            w = _mm512_inserti32x4(w, _mm_unpackhi_epi16(a0, b0), 1);
            w = _mm512_inserti32x4(w, _mm_unpacklo_epi16(a1, b1), 2);
            w = _mm512_inserti32x4(w, _mm_unpackhi_epi16(a1, b1), 3);
            const __mmask64 mo = left == 16 ? ~(__mmask64)0 : (((__mmask64)1 << (4 * left)) - 1);
            _mm512_mask_storeu_epi8(o + 4 * (size_t)j, mo, w);
        }
    }
}
