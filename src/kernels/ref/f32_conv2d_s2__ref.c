/* f32_conv2d_s2__ref.c — a dense convolution at stride 2 on the input as
 * f32_conv2d_s2_split lays it out (four phase planes), filters packed by
 * nns_conv2d_same_pack (portable). */
#include "kernels/kernels.h"

void nns_f32_conv2d_s2_split__ref(const nns_conv2d_geom *g, int c, const float *x, float *xs2) {
    const int ph = (g->ih + 1) / 2;
    const size_t ihw = (size_t)g->ih * g->iw;
    float *o = xs2;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int cc = 0; cc < c; cc++)
                for (int y = 0; y < ph; y++, o += g->ow)
                    for (int ox = 0; ox < g->ow; ox++) {
                        const int iy = 2 * y + a, ix = 2 * ox + b;
                        o[ox] = iy < g->ih && ix < g->iw ? x[cc * ihw + (size_t)iy * g->iw + ix] : 0.0f;
                    }
}

/* One image, from its phase planes s. */
static void image(const nns_conv2d_geom *g, int c, int m, int p0, int p1, const float *s, const float *wp,
                  const float *bias, int clamp, float lo, float hi, float *y, const float *r) {
    const int ph = (g->ih + 1) / 2, kk = g->kh * g->kw;
    const size_t ps = (size_t)ph * g->ow, ohw = (size_t)g->oh * g->ow;
    for (int f = 0; f < m; f++)
        for (int p = p0; p < p1; p++) {
            const int oy = p / g->ow, ox = p % g->ow;
            float acc = bias ? bias[f] : 0.0f;
            for (int i = 0; i < g->kh; i++) {
                const int a = nns_conv2d_s2_phase(i, g->pt), r = oy + nns_conv2d_s2_d(i, g->pt);
                if (r < 0 || r >= (g->ih - a + 1) / 2) continue;
                for (int j = 0; j < g->kw; j++) {
                    const int b = nns_conv2d_s2_phase(j, g->pl), q = ox + nns_conv2d_s2_d(j, g->pl);
                    if (q < 0 || q >= (g->iw - b + 1) / 2) continue;
                    for (int cc = 0; cc < c; cc++)
                        acc += nns_conv2d_same_packed_w(wp, m, c, kk, f, cc, i * g->kw + j) *
                               s[((size_t)(a * 2 + b) * c + cc) * ps + (size_t)r * g->ow + q];
                }
            }
            if (r) acc += r[f * ohw + (size_t)p];
            if (clamp) acc = acc > lo ? (acc < hi ? acc : hi) : lo;
            y[f * ohw + (size_t)p] = acc;
        }
}

void nns_f32_conv2d_s2__ref(const nns_conv2d_geom *g, int c, int m, int n, int p0, int p1, const float *x, size_t xs,
                            const float *wp, const float *bias, int clamp, float lo, float hi, float *y, size_t ys,
                            const float *r) {
    for (int i = 0; i < n; i++)
        image(g, c, m, p0, p1, x + (size_t)i * xs, wp, bias, clamp, lo, hi, y + (size_t)i * ys, r ? r + (size_t)i * ys : NULL);
}
