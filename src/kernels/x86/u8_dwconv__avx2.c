/* u8_dwconv__avx2.c — an int8 depthwise convolution of one plane with
 * AVX2, 8 outputs of a row at a time: for each tap, 8 u8 inputs widened to
 * int32 lanes (stride 1: 8 adjacent bytes; stride 2: the even bytes of 16)
 * times the broadcast weight by vpmaddwd (exact: each lane's high 16 bits
 * are zero), added; a row's last outputs are stored under a mask. Other
 * strides take the reference's loop. Reads past a padded row stay within
 * the scratch's 64 spare bytes. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m256i taps8(const uint8_t *r, int sw) {
    if (sw == 1) return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)r));
    return _mm256_and_si256(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)r)), _mm256_set1_epi32(0xff));
}

static inline __m256i tail_mask(int left) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void nns_u8_dwconv__avx2(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, const int8_t *w, int32_t bias,
                         int32_t *acc, uint8_t *scratch) {
    if (g->sw > 2) {
        nns_u8_dwconv__ref(g, x, pad, w, bias, acc, scratch);
        return;
    }
    nns_u8_dw_pad(g, x, pad, scratch);
    const size_t pw = nns_u8_dw_stride(g);
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox += 8) {
            __m256i a = _mm256_set1_epi32(bias);
            for (int i = 0; i < g->kh; i++) {
                const uint8_t *r = scratch + (size_t)(oy * g->sh + i * g->dh) * pw + (size_t)ox * g->sw;
                for (int j = 0; j < g->kw; j++)
                    a = _mm256_add_epi32(a, _mm256_madd_epi16(taps8(r + (size_t)j * g->dw, g->sw),
                                                              _mm256_set1_epi32((uint16_t)w[i * g->kw + j])));
            }
            int32_t *o = acc + (size_t)oy * g->ow + ox;
            if (g->ow - ox >= 8) _mm256_storeu_si256((__m256i *)o, a);
            else _mm256_maskstore_epi32(o, tail_mask(g->ow - ox), a);
        }
}
