/* u8_pack_quads__avx2.c — a [k][n] u8 operand into quads, 16 columns at a
 * time: the four rows' bytes interleaved by two unpack rounds (bytes, then
 * 16-bit pairs); the column tail and rows past k as the reference does. */
#include <immintrin.h>

#include "kernels/kernels.h"

void nns_u8_pack_quads__avx2(int k, int n, const uint8_t *x, size_t ldx, uint8_t *xq, size_t ldq) {
    const __m128i zero = _mm_setzero_si128();
    for (int q = 0; q < nns_quads(k); q++) {
        const uint8_t *r[4];
        for (int t = 0; t < 4; t++) r[t] = 4 * q + t < k ? x + (size_t)(4 * q + t) * ldx : NULL;
        uint8_t *o = xq + (size_t)q * ldq;
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            __m128i v[4];
            for (int t = 0; t < 4; t++) v[t] = r[t] ? _mm_loadu_si128((const __m128i *)(r[t] + j)) : zero;
            const __m128i a0 = _mm_unpacklo_epi8(v[0], v[1]), a1 = _mm_unpackhi_epi8(v[0], v[1]);
            const __m128i b0 = _mm_unpacklo_epi8(v[2], v[3]), b1 = _mm_unpackhi_epi8(v[2], v[3]);
            _mm_storeu_si128((__m128i *)(o + 4 * j), _mm_unpacklo_epi16(a0, b0));
            _mm_storeu_si128((__m128i *)(o + 4 * j + 16), _mm_unpackhi_epi16(a0, b0));
            _mm_storeu_si128((__m128i *)(o + 4 * j + 32), _mm_unpacklo_epi16(a1, b1));
            _mm_storeu_si128((__m128i *)(o + 4 * j + 48), _mm_unpackhi_epi16(a1, b1));
        }
        for (; j < n; j++)
            for (int t = 0; t < 4; t++) o[4 * j + t] = r[t] ? r[t][j] : 0;
    }
}
