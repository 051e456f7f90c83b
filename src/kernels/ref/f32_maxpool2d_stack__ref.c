/* f32_maxpool2d_stack__ref.c — max pooling of several planes (portable):
 * the one-plane reference, plane by plane. */
#include "kernels/kernels.h"

void nns_f32_maxpool2d_stack__ref(const nns_conv2d_geom *g, int64_t planes, const float *x, float *y) {
    const size_t ihw = (size_t)g->ih * (size_t)g->iw, ohw = (size_t)g->oh * (size_t)g->ow;
    for (int64_t p = 0; p < planes; p++) nns_f32_maxpool2d__ref(g, x + (size_t)p * ihw, y + (size_t)p * ohw, NULL);
}
