/* f32_conv2d_s2_split__avx512.c — one image split into its four phase
 * planes for the stride-2 convolution (kernels.h: f32_conv2d_s2_split),
 * AVX-512: 32 consecutive floats of an input row (two loads under the mask
 * of the columns inside the row) give 16 floats of its even-column plane
 * and 16 of its odd one (two two-source permutes). A piece's last store is
 * whole (its lanes past the row land at the next row's start, which is
 * written after it) but at a plane's end. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

/* Row of iw floats (NULL: none, zeros) into ow floats of each column phase. */
static inline void split_row(const float *row, int iw, int ow, float *e, float *o, const float *e_end) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int x0 = 0; x0 < ow; x0 += 16) {
        const int hi = row ? iw - 2 * x0 : 0; /* input lanes [0, hi) of 32 */
        const uint32_t in = hi >= 32 ? 0xFFFFFFFFu : hi <= 0 ? 0u : (1u << hi) - 1u;
        const float *s = row ? row + 2 * x0 : NULL;
        const __m512 v0 = (__mmask16)in ? _mm512_maskz_loadu_ps((__mmask16)in, s) : _mm512_setzero_ps();
        const __m512 v1 = (__mmask16)(in >> 16) ? _mm512_maskz_loadu_ps((__mmask16)(in >> 16), s + 16)
                                                : _mm512_setzero_ps();
        const __m512 ve = _mm512_permutex2var_ps(v0, even, v1), vo = _mm512_permutex2var_ps(v0, odd, v1);
        if (e + x0 + 16 <= e_end) {
            _mm512_storeu_ps(e + x0, ve);
            _mm512_storeu_ps(o + x0, vo);
        } else {
            const int left = ow - x0;
            const __mmask16 om = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
            _mm512_mask_storeu_ps(e + x0, om, ve);
            _mm512_mask_storeu_ps(o + x0, om, vo);
        }
    }
}

void nns_f32_conv2d_s2_split__avx512(const nns_conv2d_geom *g, int c, const float *x, float *xs2) {
    const int ph = (g->ih + 1) / 2;
    const size_t ihw = (size_t)g->ih * g->iw, plane = (size_t)c * ph * g->ow; /* a phase's floats */
    for (int a = 0; a < 2; a++) {
        float *e = xs2 + (size_t)(2 * a) * plane, *o = e + plane;
        const float *e_end = e + plane; /* o's end is xs2's end or the next phase's start: the same margin */
        for (int cc = 0; cc < c; cc++)
            for (int y = 0; y < ph; y++, e += g->ow, o += g->ow) {
                const int iy = 2 * y + a;
                split_row(iy < g->ih ? x + cc * ihw + (size_t)iy * g->iw : NULL, g->iw, g->ow, e, o, e_end);
            }
    }
}
