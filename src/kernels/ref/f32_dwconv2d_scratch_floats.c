/* f32_dwconv2d_scratch_floats.c — scratch size of the depthwise kernels
 * (the largest any ISA variant needs). */
#include "kernels/dwconv2d_layout.h"

size_t nns_f32_dwconv2d_scratch_floats(const nns_conv2d_geom *g) {
    nns_dwconv2d_layout L;
    nns_dwconv2d_layout_make(g, &L);
    size_t n = L.total + 8;
    if (nns_dw_is_3x3s2(g)) { /* the padded dx plane of the direct path */
        size_t d = (size_t)g->ih * nns_dw3x3s2_dx_row(g) + 8;
        if (d > n) n = d;
    }
    return n;
}
