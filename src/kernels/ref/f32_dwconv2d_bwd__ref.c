/* f32_dwconv2d_bwd__ref.c — depthwise 2-D convolution backward over n
 * images x nc channels (portable). */
#include "kernels/kernels.h"

void nns_f32_dwconv2d_bwd__ref(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                               const float *dy, size_t dy_stride, const float *w, float *dx, size_t dx_stride,
                               float *dw, float *db, float *scratch) {
    (void)scratch;
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    const int taps = g->kh * g->kw;
    for (int b = 0; b < n; b++)
        for (int c = 0; c < nc; c++) {
            const float *xb = x + (size_t)b * x_stride + c * ihw, *dyb = dy + (size_t)b * dy_stride + c * ohw;
            const float *wc = w + (size_t)c * taps;
            float *dxb = dx ? dx + (size_t)b * dx_stride + c * ihw : NULL;
            float dwacc[taps > 0 ? taps : 1];
            for (int t = 0; t < taps; t++) dwacc[t] = 0.0f;
            float dbacc = 0.0f;
            for (int oy = 0; oy < g->oh; oy++)
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
                            if (dxb) dxb[k] += d * wc[i * g->kw + j];
                        }
                    }
                }
            if (dw)
                for (int t = 0; t < taps; t++) dw[(size_t)c * taps + t] += dwacc[t];
            if (db) db[c] += dbacc;
        }
}
