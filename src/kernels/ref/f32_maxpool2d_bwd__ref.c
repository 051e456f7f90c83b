/* f32_maxpool2d_bwd__ref.c — max pooling backward from saved argmax
 * indices (portable). */
#include "kernels/kernels.h"

void nns_f32_maxpool2d_bwd__ref(const nns_conv2d_geom *g, const float *dy,
                                const int32_t *idx, float *dx) {
    const int n = g->oh * g->ow;
    for (int o = 0; o < n; o++)
        if (idx[o] >= 0) dx[idx[o]] += dy[o];
}
