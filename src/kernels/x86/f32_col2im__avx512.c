/* f32_col2im__avx512.c — fold GEMM columns back into an image, accumulating
 * (the adjoint of im2col), AVX-512, for column stride 1 without column
 * dilation and input rows of at most 64.
 *
 * For a channel, tap row i and output row oy, the input row that they reach
 * is read once per 16-column piece, the kw tap columns' rows of col are
 * added to it (each shifted by its tap's column offset, under a mask of the
 * lanes that an output column reaches), and it is stored once. Each
 * element receives its taps in the reference's order (tap row, then tap
 * column; one output row per tap row at stride 1), so the bits are the
 * reference's. Other geometries take the AVX2 kernel. */
#include <immintrin.h>

#include "kernels/kernels.h"

#define MAXCH 4  /* 16-column pieces per input row */
#define MAXKW 16 /* tap columns */

void nns_f32_col2im__avx512(const nns_conv2d_geom *g, int c, const float *col, size_t ldc, float *x) {
    const int nch = (g->iw + 15) / 16;
    if (g->sw != 1 || g->dw != 1 || nch > MAXCH || g->kw > MAXKW) {
        nns_f32_col2im__avx2(g, c, col, ldc, x);
        return;
    }
    __mmask16 m[MAXCH][MAXKW], rowm[MAXCH];
    for (int ch = 0; ch < nch; ch++) {
        const int left = g->iw - ch * 16;
        rowm[ch] = (__mmask16)(left >= 16 ? 0xffffu : (1u << left) - 1u);
        for (int j = 0; j < g->kw; j++) {
            unsigned mk = 0;
            for (int l = 0; l < 16; l++) {
                const int t = ch * 16 + l, ox = t - (j - g->pl);
                if (t < g->iw && ox >= 0 && ox < g->ow) mk |= 1u << l;
            }
            m[ch][j] = (__mmask16)mk;
        }
    }
    for (int ci = 0; ci < c; ci++) {
        float *xp = x + (size_t)ci * g->ih * g->iw;
        for (int i = 0; i < g->kh; i++) {
            const float *rows = col + (size_t)(ci * g->kh + i) * g->kw * ldc;
            for (int oy = 0; oy < g->oh; oy++) {
                const int iy = oy * g->sh - g->pt + i * g->dh;
                if (iy < 0 || iy >= g->ih) continue;
                float *dst = xp + (size_t)iy * g->iw;
                const float *src = rows + (size_t)oy * g->ow + g->pl; /* + t - j: output column t - j + pl */
                for (int ch = 0; ch < nch; ch++) {
                    __m512 acc = _mm512_maskz_loadu_ps(rowm[ch], dst + ch * 16);
                    for (int j = 0; j < g->kw; j++)
                        acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m[ch][j], src + (size_t)j * ldc + ch * 16 - j));
                    _mm512_mask_storeu_ps(dst + ch * 16, rowm[ch], acc);
                }
            }
        }
    }
}
