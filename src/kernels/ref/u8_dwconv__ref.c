/* u8_dwconv__ref.c — an int8 depthwise convolution of one plane
 * (portable): the plane is copied into a padded one (the zero point
 * outside), then every output sums its taps without bounds tests. */
#include <string.h>

#include "kernels/kernels.h"

void nns_u8_dw_pad(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, uint8_t *P) {
    const size_t pw = nns_u8_dw_stride(g);
    const int ph = (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1;
    memset(P, pad, nns_u8_dwconv_scratch_bytes(g));
    for (int r = 0; r < ph; r++) {
        const int iy = r - g->pt;
        if (iy < 0 || iy >= g->ih) continue;
        const int c0 = g->pl > 0 ? g->pl : 0, x0 = c0 - g->pl; /* first padded column with input, its input column */
        int len = g->iw - x0;
        if (len > (int)pw - c0) len = (int)pw - c0;
        if (len > 0) memcpy(P + (size_t)r * pw + c0, x + (size_t)iy * g->iw + x0, (size_t)len);
    }
}

void nns_u8_dwconv__ref(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, const int8_t *w, int32_t bias,
                        int32_t *acc, uint8_t *scratch) {
    nns_u8_dw_pad(g, x, pad, scratch);
    const size_t pw = nns_u8_dw_stride(g);
    for (int oy = 0; oy < g->oh; oy++) {
        int32_t *a = acc + (size_t)oy * g->ow;
        for (int ox = 0; ox < g->ow; ox++) a[ox] = bias;
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                const int32_t wv = w[i * g->kw + j];
                const uint8_t *r = scratch + (size_t)(oy * g->sh + i * g->dh) * pw + (size_t)j * g->dw;
                for (int ox = 0; ox < g->ow; ox++) a[ox] += wv * r[(size_t)ox * g->sw];
            }
    }
}
