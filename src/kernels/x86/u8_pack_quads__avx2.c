/* u8_pack_quads__avx2.c — a [k][n] u8 operand into quads, 16 columns at a
 * time: the four rows' bytes interleaved by two unpack rounds (bytes, then
 * 16-bit pairs); rows past k read as zeros. The column tail goes through
 * the same code by way of a 16-column copy on the stack (short rows, e.g.
 * 28 or 14 columns, are mostly tail). */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

/* 16 columns of four rows into 64 bytes of quads. */
static inline void interleave16(const __m128i v[4], uint8_t *o) {
    const __m128i a0 = _mm_unpacklo_epi8(v[0], v[1]), a1 = _mm_unpackhi_epi8(v[0], v[1]);
    const __m128i b0 = _mm_unpacklo_epi8(v[2], v[3]), b1 = _mm_unpackhi_epi8(v[2], v[3]);
    _mm_storeu_si128((__m128i *)o, _mm_unpacklo_epi16(a0, b0));
    _mm_storeu_si128((__m128i *)(o + 16), _mm_unpackhi_epi16(a0, b0));
    _mm_storeu_si128((__m128i *)(o + 32), _mm_unpacklo_epi16(a1, b1));
    _mm_storeu_si128((__m128i *)(o + 48), _mm_unpackhi_epi16(a1, b1));
}

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
            interleave16(v, o + 4 * j);
        }
        if (j < n) {
            uint8_t in[4][16] = {{0}}, out[64];
            __m128i v[4];
            for (int t = 0; t < 4; t++) {
                if (r[t]) memcpy(in[t], r[t] + j, (size_t)(n - j));
                v[t] = _mm_loadu_si128((const __m128i *)in[t]);
            }
            interleave16(v, out);
            memcpy(o + 4 * j, out, (size_t)(n - j) * 4);
        }
    }
}
