/* f32_conv2d_1ch_wgrad__avx2.c — the weight gradient of a one-input-channel
 * convolution, AVX2: the depthwise backward kernel per filter. */
#include "kernels/kernels.h"

void nns_f32_conv2d_1ch_wgrad__avx2(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                    const float *dy, size_t dy_stride, const float *w, float *dw, float *scratch) {
    nns_f32_conv2d_1ch_wgrad_per_filter(g, n, m, x, x_stride, dy, dy_stride, w, dw, scratch,
                                        nns_f32_dwconv2d_bwd__avx2);
}
