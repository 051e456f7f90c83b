/* u8_dwconv__avx512.c — an int8 depthwise convolution of one plane, 16
 * outputs of a row at a time: for each tap, 16 u8 inputs widened to int32
 * lanes (stride 1: 16 adjacent bytes; stride 2: the even bytes of 32) times
 * the broadcast weight by vpmaddwd (each lane's low 16 bits times the
 * weight, its high 16 bits, zero, times zero: exact, and much cheaper than
 * a 32-bit multiply), added. Other strides take the reference's loop. Reads
 * past a padded row stay within the scratch's 64 spare bytes. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m512i taps16(const uint8_t *r, int sw) {
    if (sw == 1) return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)r));
    return _mm512_and_si512(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)r)), _mm512_set1_epi32(0xff));
}

/* 3x3 undilated windows (the common depthwise case): the nine weights
 * broadcast once, no per-tap branches. */
static void dw3x3(const nns_conv2d_geom *g, const uint8_t *P, size_t pw, const int8_t *w, int32_t bias, int32_t *acc) {
    __m512i wv[9];
    for (int t = 0; t < 9; t++) wv[t] = _mm512_set1_epi32((uint16_t)w[t]);
    const int sw = g->sw;
    for (int oy = 0; oy < g->oh; oy++) {
        const uint8_t *r0 = P + (size_t)(oy * g->sh) * pw, *r1 = r0 + pw, *r2 = r1 + pw;
        for (int ox = 0; ox < g->ow; ox += 16) {
            const __mmask16 k = g->ow - ox >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (g->ow - ox)) - 1);
            const size_t o = (size_t)ox * sw;
            __m512i a = _mm512_set1_epi32(bias), b = _mm512_setzero_si512();
            a = _mm512_add_epi32(a, _mm512_madd_epi16(taps16(r0 + o, sw), wv[0]));
            b = _mm512_add_epi32(b, _mm512_madd_epi16(taps16(r0 + o + 1, sw), wv[1]));
            a = _mm512_add_epi32(a, _mm512_madd_epi16(taps16(r0 + o + 2, sw), wv[2]));
            b = _mm512_add_epi32(b, _mm512_madd_epi16(taps16(r1 + o, sw), wv[3]));
            a = _mm512_add_epi32(a, _mm512_madd_epi16(taps16(r1 + o + 1, sw), wv[4]));
            b = _mm512_add_epi32(b, _mm512_madd_epi16(taps16(r1 + o + 2, sw), wv[5]));
            a = _mm512_add_epi32(a, _mm512_madd_epi16(taps16(r2 + o, sw), wv[6]));
            b = _mm512_add_epi32(b, _mm512_madd_epi16(taps16(r2 + o + 1, sw), wv[7]));
            a = _mm512_add_epi32(a, _mm512_madd_epi16(taps16(r2 + o + 2, sw), wv[8]));
            _mm512_mask_storeu_epi32(acc + (size_t)oy * g->ow + ox, k, _mm512_add_epi32(a, b));
        }
    }
}

void nns_u8_dwconv__avx512(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, const int8_t *w, int32_t bias,
                           int32_t *acc, uint8_t *scratch) {
    if (g->sw > 2) {
        nns_u8_dwconv__ref(g, x, pad, w, bias, acc, scratch);
        return;
    }
    nns_u8_dw_pad(g, x, pad, scratch);
    const size_t pw = nns_u8_dw_stride(g);
    if (g->kh == 3 && g->kw == 3 && g->dh == 1 && g->dw == 1) {
        dw3x3(g, scratch, pw, w, bias, acc);
        return;
    }
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox += 16) {
            const __mmask16 k = g->ow - ox >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (g->ow - ox)) - 1);
            __m512i a = _mm512_set1_epi32(bias);
            for (int i = 0; i < g->kh; i++) {
                const uint8_t *r = scratch + (size_t)(oy * g->sh + i * g->dh) * pw + (size_t)ox * g->sw;
                for (int j = 0; j < g->kw; j++)
                    a = _mm512_add_epi32(a, _mm512_madd_epi16(taps16(r + (size_t)j * g->dw, g->sw),
                                                              _mm512_set1_epi32((uint16_t)w[i * g->kw + j])));
            }
            _mm512_mask_storeu_epi32(acc + (size_t)oy * g->ow + ox, k, a);
        }
}
