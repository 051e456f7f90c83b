/* f32_conv2d_1ch_wgrad__avx2.c — the weight gradient of a one-input-channel
 * convolution, AVX2: the depthwise backward kernel per filter. */
#include "kernels/kernels.h"

void nns_f32_conv2d_1ch_wgrad__avx2(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                    const float *dy, size_t dy_stride, const float *w, float *dw, float *scratch) {
    const size_t ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * g->kw;
    for (int c = 0; c < m; c++)
        nns_f32_dwconv2d_bwd__avx2(g, n, 1, x, x_stride, dy + (size_t)c * ohw, dy_stride, w + (size_t)c * kk, NULL, 0,
                                   dw + (size_t)c * kk, NULL, scratch);
}
