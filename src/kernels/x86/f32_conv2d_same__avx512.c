/* f32_conv2d_same__avx512.c — a dense convolution at stride 1 that keeps
 * the plane's size, straight from the planes, AVX-512.
 *
 * The output positions are one run across the plane's rows
 * (avx512_conv_taps.h): for every tap a vector's inputs are the 16 floats
 * one fixed offset away (the tap's row times the row length plus its
 * column), under a mask that zeroes the lanes whose tap falls in the
 * padding (above, below, or past either end of the lane's row: the float
 * there belongs to another row, or to nothing, and is not read). So a
 * small plane (3x3, 7x7) fills its vectors as a large one does. */
#include "kernels/x86/avx512_conv_taps.h"

/* The masks and offsets of vectors [v0, v1) of positions below p1. */
static void make_masks(const nns_conv2d_geom *g, int v0, int v1, int p1, cs_masks *mk) {
    mk->kh = g->kh;
    mk->kw = g->kw;
    mk->cs = (size_t)g->ih * g->iw;
    mk->ohw = (size_t)g->oh * g->ow;
    for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++) mk->toff[i * g->kw + j] = (ptrdiff_t)(i - g->pt) * g->iw + (j - g->pl);
    for (int v = v0; v < v1; v++) {
        __mmask16 *r = mk->rows[v - v0], *c = mk->cols[v - v0];
        for (int i = 0; i < g->kh; i++) r[i] = 0;
        for (int j = 0; j < g->kw; j++) c[j] = 0;
        mk->out[v - v0] = 0;
        for (int l = 0; l < 16; l++) {
            const int p = v * 16 + l, oy = p / g->ow, ox = p % g->ow;
            if (p >= p1) break;
            mk->out[v - v0] |= (__mmask16)(1u << l);
            for (int i = 0; i < g->kh; i++)
                if (oy - g->pt + i >= 0 && oy - g->pt + i < g->ih) r[i] |= (__mmask16)(1u << l);
            for (int j = 0; j < g->kw; j++)
                if (ox - g->pl + j >= 0 && ox - g->pl + j < g->iw) c[j] |= (__mmask16)(1u << l);
        }
    }
}

/* Positions [p0, p1) with p0 a multiple of 16 (as the op splits them), or
 * the reference where it is not. */
void nns_f32_conv2d_same__avx512(const nns_conv2d_geom *g, int c, int m, int n, int p0, int p1, const float *x,
                                 size_t xs, const float *wp, const float *bias, int clamp, float lo, float hi,
                                 float *y, size_t ys, const float *r) {
    if (p0 % 16) {
        nns_f32_conv2d_same__ref(g, c, m, n, p0, p1, x, xs, wp, bias, clamp, lo, hi, y, ys, r);
        return;
    }
    if (p1 <= p0) return;
    cs_masks mk;
    const int v0 = p0 / 16, v1 = (p1 + 15) / 16;
    make_masks(g, v0, v1, p1, &mk);
    ct_images(c, m, n, v0, v1 - v0, x, xs, wp, bias, clamp, lo, hi, y, ys, r, &mk);
}
