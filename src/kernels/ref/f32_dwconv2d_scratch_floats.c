/* f32_dwconv2d_scratch_floats.c — scratch size of the depthwise kernels
 * (the largest any ISA variant needs). */
#include "kernels/dwconv2d_layout.h"

size_t nns_f32_dwconv2d_scratch_floats(const nns_conv2d_geom *g) {
    nns_dwconv2d_layout L;
    nns_dwconv2d_layout_make(g, &L);
    return L.total + 8;
}
