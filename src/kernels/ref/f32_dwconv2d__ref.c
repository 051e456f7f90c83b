/* f32_dwconv2d__ref.c — depthwise 2-D convolution of n images x nc
 * channels, and one input channel by m filters (portable). */
#include "kernels/kernels.h"

void nns_f32_dwconv2d__ref(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                           const float *w, const float *bias, float *y, size_t y_stride, float *scratch) {
    (void)scratch;
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    const int taps = g->kh * g->kw;
    for (int b = 0; b < n; b++)
        for (int c = 0; c < nc; c++) {
            const float *xb = x + (size_t)b * x_stride + c * ihw, *wc = w + (size_t)c * taps;
            float *yb = y + (size_t)b * y_stride + c * ohw;
            for (int oy = 0; oy < g->oh; oy++)
                for (int ox = 0; ox < g->ow; ox++) {
                    float acc = bias ? bias[c] : 0.0f;
                    for (int i = 0; i < g->kh; i++) {
                        int iy = oy * g->sh - g->pt + i * g->dh;
                        if (iy < 0 || iy >= g->ih) continue;
                        for (int j = 0; j < g->kw; j++) {
                            int ix = ox * g->sw - g->pl + j * g->dw;
                            if (ix < 0 || ix >= g->iw) continue;
                            acc += wc[i * g->kw + j] * xb[(size_t)iy * g->iw + ix];
                        }
                    }
                    yb[(size_t)oy * g->ow + ox] = acc;
                }
        }
}

void nns_f32_conv2d_1ch__ref(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                             const float *w, const float *bias, float *y, size_t y_stride, float *scratch) {
    const size_t ohw = (size_t)g->oh * g->ow;
    const int taps = g->kh * g->kw;
    /* output channel c of image b is the depthwise result of the image's
     * only plane with filter c */
    for (int b = 0; b < n; b++)
        for (int c = 0; c < m; c++)
            nns_f32_dwconv2d__ref(g, 1, 1, x + (size_t)b * x_stride, 0, w + (size_t)c * taps, bias ? bias + c : NULL,
                                  y + (size_t)b * y_stride + (size_t)c * ohw, 0, scratch);
}
