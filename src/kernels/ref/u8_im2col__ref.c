/* u8_im2col__ref.c — rows of the im2col of u8 planes, padded with the zero
 * point (portable). */
#include "kernels/kernels.h"
#include "kernels/window_util.h"

void nns_u8_im2col__ref(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, int l0, int l1, uint8_t *col,
                        size_t ldc) {
    const int ih = g->ih, iw = g->iw, oh = g->oh, ow = g->ow, sw = g->sw, kk = g->kh * g->kw;
    for (int l = l0; l < l1; l++) {
        const int ci = l / kk, i = l % kk / g->kw, j = l % g->kw;
        const uint8_t *xp = x + (size_t)ci * ih * iw;
        uint8_t *dst = col + (size_t)(l - l0) * ldc;
        const int off = j * g->dw - g->pl;
        int lo, hi;
        nns_window_valid_range(off, sw, iw, ow, &lo, &hi);
        for (int oy = 0; oy < oh; oy++, dst += ow) {
            const int iy = oy * g->sh - g->pt + i * g->dh;
            if (iy < 0 || iy >= ih) {
                for (int ox = 0; ox < ow; ox++) dst[ox] = pad;
                continue;
            }
            /* rows are short (a few dozen bytes): loops, not library calls */
            const uint8_t *src = xp + (size_t)iy * iw;
            for (int ox = 0; ox < lo; ox++) dst[ox] = pad;
            if (sw == 1) {
                const uint8_t *s = src + off;
                for (int ox = lo; ox < hi; ox++) dst[ox] = s[ox];
            } else {
                for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * sw + off];
            }
            for (int ox = hi; ox < ow; ox++) dst[ox] = pad;
        }
    }
}
