/* window_util.h — small helpers for sliding-window kernels (internal). */
#ifndef NNS_KERNELS_WINDOW_UTIL_H
#define NNS_KERNELS_WINDOW_UTIL_H

#include <stddef.h>

#include "kernels/kernels.h"

/* ceil(a / b) for b > 0 and any a. */
static inline int nns_cdiv(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* Outputs ox in [*lo, *hi) read an in-bounds column ox*s + off of a row of
 * n inputs; out is the number of outputs. */
static inline void nns_window_valid_range(int off, int s, int n, int out, int *lo, int *hi) {
    int l = off >= 0 ? 0 : nns_cdiv(-off, s);
    int h = nns_cdiv(n - off, s);
    if (l > out) l = out;
    if (h > out) h = out;
    if (h < l) h = l;
    *lo = l;
    *hi = h;
}

/* A 1x1 window at stride 1 without padding over the whole plane: each
 * channel's plane is its row of im2col columns as it stands. */
static inline int nns_im2col_is_copy(const nns_conv2d_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->oh == g->ih &&
           g->ow == g->iw;
}

/* Of the k taps start + i*d of a window, *in_pad counts those inside the
 * padded extent [-pad_begin, n + pad_end) and *in_n those inside [0, n). */
static inline void nns_window_count(int start, int k, int d, int n, int pad_begin, int pad_end,
                                    int *in_pad, int *in_n) {
    int a = 0, b = 0;
    for (int i = 0; i < k; i++) {
        int p = start + i * d;
        if (p >= -pad_begin && p < n + pad_end) a++;
        if (p >= 0 && p < n) b++;
    }
    *in_pad = a;
    *in_n = b;
}

/* For each output pixel q of g's plane, its window taps inside the input:
 * tap[(q * max_taps + k) * 2] the tap's index (i * kw + j) and [.. + 1] the
 * input pixel (iy * iw + ix), k < tap_n[q] (the depthwise kernels' small
 * planes; g->kh * g->kw <= max_taps). */
static inline void nns_window_taps(const nns_conv2d_geom *g, int max_taps, int *tap_n, int *tap) {
    for (int oy = 0, q = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++, q++) {
            int *t = tap + (size_t)q * max_taps * 2;
            tap_n[q] = 0;
            for (int i = 0; i < g->kh; i++)
                for (int j = 0; j < g->kw; j++) {
                    const int iy = oy * g->sh - g->pt + i * g->dh, ix = ox * g->sw - g->pl + j * g->dw;
                    if (iy < 0 || iy >= g->ih || ix < 0 || ix >= g->iw) continue;
                    t[tap_n[q] * 2] = i * g->kw + j;
                    t[tap_n[q]++ * 2 + 1] = iy * g->iw + ix;
                }
        }
}

#endif
