/* q8_maxpool2d_2x2s2__avx512.c — 2x2 stride-2 max pooling of a u8 or s8
 * plane as the AVX2 variant does it (two rows' maximum, then each byte
 * pair's in its 16-bit lane), with the row tail in masked loads and stores
 * (AVX-512 BW/VL), so that the short rows of small planes (14 or 7
 * outputs) run vectorized too. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m256i pair_max(const uint8_t *r0, const uint8_t *r1, __mmask32 in, __m256i f) {
    const __m256i a = _mm256_xor_si256(_mm256_maskz_loadu_epi8(in, r0), f);
    const __m256i b = _mm256_xor_si256(_mm256_maskz_loadu_epi8(in, r1), f);
    const __m256i v = _mm256_max_epu8(a, b);
    const __m256i p = _mm256_and_si256(_mm256_max_epu8(v, _mm256_srli_epi16(v, 8)), _mm256_set1_epi16(0x00ff));
    return _mm256_permute4x64_epi64(_mm256_packus_epi16(p, p), 0x08); /* qwords 0 and 2: the 16 outputs */
}

void nns_q8_maxpool2d_2x2s2__avx512(const nns_conv2d_geom *g, const uint8_t *x, uint8_t *y, int sgn) {
    const __m256i f = _mm256_set1_epi8((char)(sgn ? 0x80 : 0));
    for (int oy = 0; oy < g->oh; oy++) {
        const uint8_t *r0 = x + (size_t)(2 * oy) * g->iw, *r1 = r0 + g->iw;
        uint8_t *o = y + (size_t)oy * g->ow;
        for (int ox = 0; ox < g->ow; ox += 16) {
            const int left = g->ow - ox < 16 ? g->ow - ox : 16;
            const __mmask32 in = left == 16 ? 0xffffffffu : (1u << (2 * left)) - 1;
            const __m256i w = pair_max(r0 + 2 * ox, r1 + 2 * ox, in, f);
            _mm_mask_storeu_epi8(o + ox, (__mmask16)((1u << left) - 1),
                                 _mm_xor_si128(_mm256_castsi256_si128(w), _mm256_castsi256_si128(f)));
        }
    }
}
