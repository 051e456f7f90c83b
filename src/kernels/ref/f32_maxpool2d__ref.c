/* f32_maxpool2d__ref.c — max pooling of one plane with argmax (portable). */
#include "kernels/kernels.h"

void nns_f32_maxpool2d__ref(const nns_conv2d_geom *g, const float *x, float *y,
                            int32_t *idx) {
    for (int oy = 0; oy < g->oh; oy++) {
        for (int ox = 0; ox < g->ow; ox++) {
            float best = 0.0f;
            int32_t bi = -1;
            for (int i = 0; i < g->kh; i++) {
                int iy = oy * g->sh - g->pt + i * g->dh;
                if (iy < 0 || iy >= g->ih) continue;
                for (int j = 0; j < g->kw; j++) {
                    int ix = ox * g->sw - g->pl + j * g->dw;
                    if (ix < 0 || ix >= g->iw) continue;
                    int32_t k = iy * g->iw + ix;
                    /* NaN propagates: a NaN input becomes the maximum. */
                    if (bi < 0 || x[k] > best || (x[k] != x[k] && best == best)) {
                        best = x[k];
                        bi = k;
                    }
                }
            }
            y[oy * g->ow + ox] = best;
            if (idx) idx[oy * g->ow + ox] = bi;
        }
    }
}
