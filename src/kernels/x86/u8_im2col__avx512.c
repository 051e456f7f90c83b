/* u8_im2col__avx512.c — rows of the im2col of u8 planes, padded with the
 * zero point, with AVX-512 BW: each output row's valid span is copied in
 * masked 64-byte moves (stride 1) or, for stride 2, 64 input bytes narrowed
 * to their 32 even bytes (vpmovwb), the padding filled by masked stores.
 * Masked loads read no byte outside the span. Other strides: the
 * reference's loop. */
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/window_util.h"

static inline __mmask64 first_n(int n) { return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1); }

static void fill(uint8_t *d, int n, __m512i pad) {
    for (int i = 0; i < n; i += 64) _mm512_mask_storeu_epi8(d + i, first_n(n - i), pad);
}

/* One output row: dst[ox] = src[ox * sw + off] for ox in [lo, hi), pad
 * elsewhere. */
static void row(const uint8_t *src, int off, int sw, int lo, int hi, int ow, __m512i pad, uint8_t *dst) {
    fill(dst, lo, pad);
    fill(dst + hi, ow - hi, pad);
    if (sw == 1) {
        for (int ox = lo; ox < hi; ox += 64) {
            const __mmask64 m = first_n(hi - ox);
            _mm512_mask_storeu_epi8(dst + ox, m, _mm512_maskz_loadu_epi8(m, src + off + ox));
        }
    } else if (sw == 2) {
        for (int ox = lo; ox < hi; ox += 32) {
            const int n = hi - ox < 32 ? hi - ox : 32;
            const __m512i v = _mm512_maskz_loadu_epi8(first_n(2 * n - 1), src + 2 * ox + off);
            _mm256_mask_storeu_epi8(dst + ox, (__mmask32)first_n(n), _mm512_cvtepi16_epi8(v));
        }
    } else {
        for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * sw + off];
    }
}

void nns_u8_im2col__avx512(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, int l0, int l1, uint8_t *col,
                           size_t ldc) {
    const int kk = g->kh * g->kw;
    const __m512i vpad = _mm512_set1_epi8((char)pad);
    for (int l = l0; l < l1; l++) {
        const int ci = l / kk, i = l % kk / g->kw, j = l % g->kw;
        const uint8_t *xp = x + (size_t)ci * g->ih * g->iw;
        uint8_t *dst = col + (size_t)(l - l0) * ldc;
        const int off = j * g->dw - g->pl;
        int lo, hi;
        nns_window_valid_range(off, g->sw, g->iw, g->ow, &lo, &hi);
        for (int oy = 0; oy < g->oh; oy++, dst += g->ow) {
            const int iy = oy * g->sh - g->pt + i * g->dh;
            if (iy < 0 || iy >= g->ih) fill(dst, g->ow, vpad);
            else row(xp + (size_t)iy * g->iw, off, g->sw, lo, hi, g->ow, vpad, dst);
        }
    }
}
