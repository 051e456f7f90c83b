/* f32_im2col__ref.c — unfold image patches into GEMM columns (portable). */
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/window_util.h"

void nns_f32_im2col__ref(const nns_conv2d_geom *g, int c, const float *x, float *col, size_t ldc) {
    const int ih = g->ih, iw = g->iw, oh = g->oh, ow = g->ow, sw = g->sw;
    for (int ci = 0; ci < c; ci++) {
        const float *xp = x + (size_t)ci * ih * iw;
        for (int i = 0; i < g->kh; i++) {
            for (int j = 0; j < g->kw; j++) {
                float *dst = col + ((size_t)(ci * g->kh + i) * g->kw + j) * ldc;
                int off = j * g->dw - g->pl;
                int lo, hi;
                nns_window_valid_range(off, sw, iw, ow, &lo, &hi);
                for (int oy = 0; oy < oh; oy++, dst += ow) {
                    int iy = oy * g->sh - g->pt + i * g->dh;
                    if (iy < 0 || iy >= ih) {
                        memset(dst, 0, (size_t)ow * sizeof(float));
                        continue;
                    }
                    const float *src = xp + (size_t)iy * iw;
                    for (int ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
                    if (sw == 1) {
                        if (hi > lo) memcpy(dst + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * sw + off];
                    }
                    for (int ox = hi; ox < ow; ox++) dst[ox] = 0.0f;
                }
            }
        }
    }
}
