/* f32_avgpool2d__ref.c — average pooling of one plane (portable). */
#include "kernels/kernels.h"
#include "kernels/window_util.h"

void nns_f32_avgpool2d__ref(const nns_conv2d_geom *g, int pb, int pr,
                            int count_include_pad, const float *x, float *y) {
    for (int oy = 0; oy < g->oh; oy++) {
        int ry, vy; /* taps inside the padded extent / inside the input */
        nns_window_count(oy * g->sh - g->pt, g->kh, g->dh, g->ih, g->pt, pb, &ry, &vy);
        for (int ox = 0; ox < g->ow; ox++) {
            int rx, vx;
            nns_window_count(ox * g->sw - g->pl, g->kw, g->dw, g->iw, g->pl, pr, &rx, &vx);
            int cnt = count_include_pad ? ry * rx : vy * vx;
            float acc = 0.0f;
            for (int i = 0; i < g->kh; i++) {
                int iy = oy * g->sh - g->pt + i * g->dh;
                if (iy < 0 || iy >= g->ih) continue;
                for (int j = 0; j < g->kw; j++) {
                    int ix = ox * g->sw - g->pl + j * g->dw;
                    if (ix < 0 || ix >= g->iw) continue;
                    acc += x[(size_t)iy * g->iw + ix];
                }
            }
            y[(size_t)oy * g->ow + ox] = cnt > 0 ? acc / (float)cnt : 0.0f;
        }
    }
}
