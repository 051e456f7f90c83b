/* f32_dwconv2d__ref.c — depthwise 2-D convolution of one plane (portable). */
#include "kernels/kernels.h"

void nns_f32_dwconv2d__ref(const nns_conv2d_geom *g, const float *x, const float *w,
                           float bias, float *y, float *scratch) {
    (void)scratch;
    for (int oy = 0; oy < g->oh; oy++) {
        for (int ox = 0; ox < g->ow; ox++) {
            float acc = bias;
            for (int i = 0; i < g->kh; i++) {
                int iy = oy * g->sh - g->pt + i * g->dh;
                if (iy < 0 || iy >= g->ih) continue;
                for (int j = 0; j < g->kw; j++) {
                    int ix = ox * g->sw - g->pl + j * g->dw;
                    if (ix < 0 || ix >= g->iw) continue;
                    acc += w[i * g->kw + j] * x[(size_t)iy * g->iw + ix];
                }
            }
            y[(size_t)oy * g->ow + ox] = acc;
        }
    }
}
