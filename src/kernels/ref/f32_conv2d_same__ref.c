/* f32_conv2d_same__ref.c — a dense convolution at stride 1 that keeps the
 * plane's size, on filters packed by nns_conv2d_same_pack (portable). */
#include "kernels/kernels.h"

void nns_conv2d_same_pack(int m, int c, int kk, const float *w, float *wp) {
    for (int f0 = 0; f0 < m;) {
        const int mb = nns_conv_same_block(m - f0);
        float *b = wp + (size_t)f0 * c * kk;
        for (int f = 0; f < mb; f++)
            for (int cc = 0; cc < c; cc++)
                for (int t = 0; t < kk; t++)
                    b[((size_t)t * c + cc) * mb + f] = w[((size_t)(f0 + f) * c + cc) * kk + t];
        f0 += mb;
    }
}

float nns_conv2d_same_packed_w(const float *wp, int m, int c, int kk, int f, int cc, int t) {
    int f0 = 0, mb = nns_conv_same_block(m);
    while (f >= f0 + mb) {
        f0 += mb;
        mb = nns_conv_same_block(m - f0);
    }
    return wp[(size_t)f0 * c * kk + ((size_t)t * c + cc) * mb + (f - f0)];
}

/* One image. */
static void image(const nns_conv2d_geom *g, int c, int m, int p0, int p1, const float *x, const float *wp,
                  const float *bias, int clamp, float lo, float hi, float *y, const float *r) {
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    const int kk = g->kh * g->kw;
    for (int f = 0; f < m; f++)
        for (int p = p0; p < p1; p++) {
            const int oy = p / g->ow, ox = p % g->ow;
            float acc = bias ? bias[f] : 0.0f;
            for (int i = 0; i < g->kh; i++) {
                const int iy = oy - g->pt + i;
                if (iy < 0 || iy >= g->ih) continue;
                for (int j = 0; j < g->kw; j++) {
                    const int ix = ox - g->pl + j;
                    if (ix < 0 || ix >= g->iw) continue;
                    for (int cc = 0; cc < c; cc++)
                        acc += nns_conv2d_same_packed_w(wp, m, c, kk, f, cc, i * g->kw + j) *
                               x[cc * ihw + (size_t)iy * g->iw + ix];
                }
            }
            if (r) acc += r[f * ohw + (size_t)p];
            if (clamp) acc = acc > lo ? (acc < hi ? acc : hi) : lo;
            y[f * ohw + (size_t)p] = acc;
        }
}

void nns_f32_conv2d_same__ref(const nns_conv2d_geom *g, int c, int m, int n, int p0, int p1, const float *x,
                              size_t xs, const float *wp, const float *bias, int clamp, float lo, float hi, float *y,
                              size_t ys, const float *r) {
    for (int i = 0; i < n; i++)
        image(g, c, m, p0, p1, x + (size_t)i * xs, wp, bias, clamp, lo, hi, y + (size_t)i * ys, r ? r + (size_t)i * ys : NULL);
}
