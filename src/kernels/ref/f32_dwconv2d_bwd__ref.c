/* f32_dwconv2d_bwd__ref.c — depthwise 2-D convolution backward for one
 * channel over n images (portable). */
#include "kernels/kernels.h"

void nns_f32_dwconv2d_bwd__ref(const nns_conv2d_geom *g, int n, const float *x,
                               size_t x_stride, const float *dy, size_t dy_stride,
                               const float *w, float *dx, size_t dx_stride, float *dw,
                               float *db, float *scratch) {
    (void)scratch;
    const int taps = g->kh * g->kw;
    float dwacc[taps > 0 ? taps : 1];
    for (int t = 0; t < taps; t++) dwacc[t] = 0.0f;
    float dbacc = 0.0f;
    for (int b = 0; b < n; b++) {
        const float *xb = x + (size_t)b * x_stride;
        const float *dyb = dy + (size_t)b * dy_stride;
        float *dxb = dx ? dx + (size_t)b * dx_stride : NULL;
        for (int oy = 0; oy < g->oh; oy++) {
            for (int ox = 0; ox < g->ow; ox++) {
                float d = dyb[(size_t)oy * g->ow + ox];
                dbacc += d;
                for (int i = 0; i < g->kh; i++) {
                    int iy = oy * g->sh - g->pt + i * g->dh;
                    if (iy < 0 || iy >= g->ih) continue;
                    for (int j = 0; j < g->kw; j++) {
                        int ix = ox * g->sw - g->pl + j * g->dw;
                        if (ix < 0 || ix >= g->iw) continue;
                        size_t k = (size_t)iy * g->iw + ix;
                        dwacc[i * g->kw + j] += d * xb[k];
                        if (dxb) dxb[k] += d * w[i * g->kw + j];
                    }
                }
            }
        }
    }
    if (dw)
        for (int t = 0; t < taps; t++) dw[t] += dwacc[t];
    if (db) *db += dbacc;
}
