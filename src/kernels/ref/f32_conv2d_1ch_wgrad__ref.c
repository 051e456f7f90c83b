/* f32_conv2d_1ch_wgrad__ref.c — the weight gradient of a one-input-channel
 * convolution (portable): each filter's gradient is the depthwise weight
 * gradient of the image plane against that filter's output gradient. */
#include "kernels/kernels.h"

void nns_f32_conv2d_1ch_wgrad_per_filter(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                         const float *dy, size_t dy_stride, const float *w, float *dw, float *scratch,
                                         nns_f32_dwconv2d_bwd_fn bwd) {
    const size_t ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * g->kw;
    for (int c = 0; c < m; c++)
        bwd(g, n, 1, x, x_stride, dy + (size_t)c * ohw, dy_stride, w + (size_t)c * kk, NULL, 0, dw + (size_t)c * kk,
            NULL, scratch);
}

void nns_f32_conv2d_1ch_wgrad__ref(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                   const float *dy, size_t dy_stride, const float *w, float *dw, float *scratch) {
    nns_f32_conv2d_1ch_wgrad_per_filter(g, n, m, x, x_stride, dy, dy_stride, w, dw, scratch,
                                        nns_f32_dwconv2d_bwd__ref);
}
