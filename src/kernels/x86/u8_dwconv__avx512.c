/* u8_dwconv__avx512.c — an int8 depthwise convolution of one plane, 16
 * outputs of a row at a time: for each tap, 16 u8 inputs widened to int32
 * (stride 1: 16 adjacent bytes; stride 2: the even bytes of 32) times the
 * broadcast weight, added. Other strides take the reference's loop. Reads
 * past a padded row stay within the scratch's 64 spare bytes. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m512i taps16(const uint8_t *r, int sw) {
    if (sw == 1) return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)r));
    return _mm512_and_si512(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)r)), _mm512_set1_epi32(0xff));
}

void nns_u8_dwconv__avx512(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, const int8_t *w, int32_t bias,
                           int32_t *acc, uint8_t *scratch) {
    if (g->sw > 2) {
        nns_u8_dwconv__ref(g, x, pad, w, bias, acc, scratch);
        return;
    }
    nns_u8_dw_pad(g, x, pad, scratch);
    const size_t pw = nns_u8_dw_stride(g);
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox += 16) {
            const __mmask16 k = g->ow - ox >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (g->ow - ox)) - 1);
            __m512i a = _mm512_set1_epi32(bias);
            for (int i = 0; i < g->kh; i++) {
                const uint8_t *r = scratch + (size_t)(oy * g->sh + i * g->dh) * pw + (size_t)ox * g->sw;
                for (int j = 0; j < g->kw; j++)
                    a = _mm512_add_epi32(a, _mm512_mullo_epi32(taps16(r + (size_t)j * g->dw, g->sw),
                                                               _mm512_set1_epi32(w[i * g->kw + j])));
            }
            _mm512_mask_storeu_epi32(acc + (size_t)oy * g->ow + ox, k, a);
        }
}
