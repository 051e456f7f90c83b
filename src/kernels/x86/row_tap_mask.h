/* row_tap_mask.h — the lane mask of a tap column for kernels that run
 * along output rows in 16-column pieces, straight from the input plane. */
#ifndef NNS_ROW_TAP_MASK_H
#define NNS_ROW_TAP_MASK_H
#include <immintrin.h>

#include "kernels/kernels.h"

/* Lanes l of piece ch whose output column ch*16 + l exists and whose input
 * column (at stride 1, no dilation) ch*16 + l + j - pl is inside the row. */
static inline __mmask16 nns_row_tap_mask(const nns_conv2d_geom *g, int ch, int j) {
    unsigned mk = 0;
    for (int l = 0; l < 16; l++) {
        const int ox = ch * 16 + l, ix = ox + j - g->pl;
        if (ox < g->ow && ix >= 0 && ix < g->iw) mk |= 1u << l;
    }
    return (__mmask16)mk;
}
#endif
