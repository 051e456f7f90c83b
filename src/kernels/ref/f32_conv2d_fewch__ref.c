/* f32_conv2d_fewch__ref.c — a dense convolution of a few input channels,
 * output rows [oy0, oy1) (portable). */
#include "kernels/kernels.h"

void nns_f32_conv2d_fewch__ref(const nns_conv2d_geom *g, int c, int m, int oy0, int oy1, const float *x,
                               const float *w, const float *bias, int clamp, float lo, float hi, float *y) {
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * g->kw;
    for (int f = 0; f < m; f++)
        for (int oy = oy0; oy < oy1; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                float acc = bias ? bias[f] : 0.0f;
                for (int cc = 0; cc < c; cc++)
                    for (int i = 0; i < g->kh; i++) {
                        const int iy = oy * g->sh - g->pt + i;
                        if (iy < 0 || iy >= g->ih) continue;
                        for (int j = 0; j < g->kw; j++) {
                            const int ix = ox * g->sw - g->pl + j;
                            if (ix >= 0 && ix < g->iw)
                                acc += w[((size_t)f * c + cc) * kk + (size_t)i * g->kw + j] *
                                       x[cc * ihw + (size_t)iy * g->iw + ix];
                        }
                    }
                if (clamp) acc = acc > lo ? (acc < hi ? acc : hi) : lo;
                y[f * ohw + (size_t)oy * g->ow + ox] = acc;
            }
}
