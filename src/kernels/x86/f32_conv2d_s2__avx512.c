/* f32_conv2d_s2__avx512.c — a dense convolution at stride 2, on the input
 * split into its four phase planes (f32_conv2d_s2_split), AVX-512.
 *
 * In that layout every tap of an output position is one fixed offset from
 * it, as at stride 1, so the loop of f32_conv2d_same runs unchanged
 * (avx512_conv_taps.h): tap (i, j) reads the plane of phases
 * ((i - pt) mod 2, (j - pl) mod 2), nns_conv2d_s2_d rows and columns from
 * the output's, under the mask of the lanes whose row exists in that row
 * phase and whose column lies in the plane (the split wrote zeros where
 * the plane runs past the input). */
#include "kernels/x86/avx512_conv_taps.h"

/* The masks and offsets of vectors [v0, v1) of positions below p1. */
static void make_masks(const nns_conv2d_geom *g, int c, int v0, int v1, int p1, cs_masks *mk) {
    const int ph = (g->ih + 1) / 2;
    mk->kh = g->kh;
    mk->kw = g->kw;
    mk->cs = (size_t)ph * g->ow;
    mk->ohw = (size_t)g->oh * g->ow;
    for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++) {
            const int q = nns_conv2d_s2_phase(i, g->pt) * 2 + nns_conv2d_s2_phase(j, g->pl);
            mk->toff[i * g->kw + j] = (ptrdiff_t)((size_t)q * c * mk->cs) +
                                      (ptrdiff_t)nns_conv2d_s2_d(i, g->pt) * g->ow + nns_conv2d_s2_d(j, g->pl);
        }
    for (int v = v0; v < v1; v++) {
        __mmask16 *r = mk->rows[v - v0], *cl = mk->cols[v - v0];
        for (int i = 0; i < g->kh; i++) r[i] = 0;
        for (int j = 0; j < g->kw; j++) cl[j] = 0;
        mk->out[v - v0] = 0;
        for (int l = 0; l < 16 && v * 16 + l < p1; l++) {
            const int oy = (v * 16 + l) / g->ow, ox = (v * 16 + l) % g->ow;
            mk->out[v - v0] |= (__mmask16)(1u << l);
            for (int i = 0; i < g->kh; i++) {
                const int row = oy + nns_conv2d_s2_d(i, g->pt), a = nns_conv2d_s2_phase(i, g->pt);
                if (row >= 0 && row < (g->ih - a + 1) / 2) r[i] |= (__mmask16)(1u << l);
            }
            for (int j = 0; j < g->kw; j++) {
                const int col = ox + nns_conv2d_s2_d(j, g->pl); /* the plane holds zeros past the input */
                if (col >= 0 && col < g->ow) cl[j] |= (__mmask16)(1u << l);
            }
        }
    }
}

/* Positions [p0, p1) with p0 a multiple of 16 (as the op splits them), or
 * the reference where it is not. */
void nns_f32_conv2d_s2__avx512(const nns_conv2d_geom *g, int c, int m, int n, int p0, int p1, const float *x,
                               size_t xs, const float *wp, const float *bias, int clamp, float lo, float hi, float *y, size_t ys, const float *r) {
    if (p0 % 16) {
        nns_f32_conv2d_s2__ref(g, c, m, n, p0, p1, x, xs, wp, bias, clamp, lo, hi, y, ys, r);
        return;
    }
    if (p1 <= p0) return;
    cs_masks mk;
    const int v0 = p0 / 16, v1 = (p1 + 15) / 16;
    make_masks(g, c, v0, v1, p1, &mk);
    ct_images(c, m, n, v0, v1 - v0, x, xs, wp, bias, clamp, lo, hi, y, ys, r, &mk);
}
