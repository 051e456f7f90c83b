/* f32_col2im__ref.c — fold GEMM columns back into an image, accumulating
 * (the adjoint of nns_f32_im2col__ref; portable). */
#include "kernels/kernels.h"
#include "kernels/window_util.h"

void nns_f32_col2im__ref(const nns_conv2d_geom *g, int c, const float *col, size_t ldc, float *x) {
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
                        for (int ox = lo; ox < hi; ox++) dst[ox + off] += src[ox];
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox * sw + off] += src[ox];
                    }
                }
            }
        }
    }
}
