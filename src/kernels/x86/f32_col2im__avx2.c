/* f32_col2im__avx2.c — fold GEMM columns back into an image, accumulating
 * (the adjoint of im2col); unit-stride and stride-2 rows with AVX2. */
#include "kernels/kernels.h"
#include "kernels/window_util.h"
#include "kernels/x86/avx2_util.h"

void nns_f32_col2im__avx2(const nns_conv2d_geom *g, int c, const float *col, size_t ldc, float *x) {
    const int ih = g->ih, iw = g->iw, oh = g->oh, ow = g->ow, sw = g->sw;
    for (int ci = 0; ci < c; ci++) {
        float *xp = x + (size_t)ci * ih * iw;
        for (int i = 0; i < g->kh; i++) {
            for (int j = 0; j < g->kw; j++) {
                const float *src = col + ((size_t)(ci * g->kh + i) * g->kw + j) * ldc;
                int off = j * g->dw - g->pl;
                int lo, hi;
                nns_window_valid_range(off, sw, iw, ow, &lo, &hi);
                for (int oy = 0; oy < oh; oy++, src += ow) {
                    int iy = oy * g->sh - g->pt + i * g->dh;
                    if (iy < 0 || iy >= ih) continue;
                    float *dst = xp + (size_t)iy * iw;
                    if (sw == 1) {
                        int ox = lo;
                        for (; ox + 8 <= hi; ox += 8)
                            _mm256_storeu_ps(dst + ox + off, _mm256_add_ps(_mm256_loadu_ps(dst + ox + off),
                                                                           _mm256_loadu_ps(src + ox)));
                        for (; ox < hi; ox++) dst[ox + off] += src[ox];
                    } else if (sw == 2) {
                        const size_t end = (size_t)iy * iw + lo * 2 + off + 16 * (size_t)((hi - lo + 7) / 8);
                        if (hi > lo)
                            nns_avx2_scatter_add_stride2(src + lo, dst + lo * 2 + off, hi - lo,
                                                         end <= (size_t)ih * iw);
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox * sw + off] += src[ox];
                    }
                }
            }
        }
    }
}
