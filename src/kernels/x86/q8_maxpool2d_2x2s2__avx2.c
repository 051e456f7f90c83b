/* q8_maxpool2d_2x2s2__avx2.c — 2x2 stride-2 max pooling of a u8 or s8
 * plane, 16 outputs at a time: the two input rows' maximum (vpmaxub), then
 * each byte pair's maximum in its 16-bit lane, packed back to bytes. s8 is
 * flipped to u8 order (x ^ 0x80) and back. The row tail as the reference. */
#include <immintrin.h>

#include "kernels/kernels.h"

void nns_q8_maxpool2d_2x2s2__avx2(const nns_conv2d_geom *g, const uint8_t *x, uint8_t *y, int sgn) {
    const uint8_t flip = sgn ? 0x80 : 0;
    const __m256i f = _mm256_set1_epi8((char)flip), lo = _mm256_set1_epi16(0x00ff);
    for (int oy = 0; oy < g->oh; oy++) {
        const uint8_t *r0 = x + (size_t)(2 * oy) * g->iw, *r1 = r0 + g->iw;
        uint8_t *o = y + (size_t)oy * g->ow;
        int ox = 0;
        for (; ox + 16 <= g->ow; ox += 16) {
            const __m256i a = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r0 + 2 * ox)), f);
            const __m256i b = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r1 + 2 * ox)), f);
            const __m256i v = _mm256_max_epu8(a, b);
            const __m256i p = _mm256_and_si256(_mm256_max_epu8(v, _mm256_srli_epi16(v, 8)), lo);
            const __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi16(p, p), 0x08); /* qwords 0 and 2 */
            _mm_storeu_si128((__m128i *)(o + ox), _mm_xor_si128(_mm256_castsi256_si128(w), _mm256_castsi256_si128(f)));
        }
        for (; ox < g->ow; ox++) {
            int m = r0[2 * ox] ^ flip;
            if ((r0[2 * ox + 1] ^ flip) > m) m = r0[2 * ox + 1] ^ flip;
            if ((r1[2 * ox] ^ flip) > m) m = r1[2 * ox] ^ flip;
            if ((r1[2 * ox + 1] ^ flip) > m) m = r1[2 * ox + 1] ^ flip;
            o[ox] = (uint8_t)(m ^ flip);
        }
    }
}
