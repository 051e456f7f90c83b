/* q8_maxpool2d__ref.c — max pooling of one u8 or s8 plane (portable). A
 * quantized value's order is its real value's order, so the maximum of the
 * quantized window is the quantized maximum. */
#include "kernels/kernels.h"

void nns_q8_maxpool2d__ref(const nns_conv2d_geom *g, const uint8_t *x, uint8_t *y, int sgn) {
    const uint8_t flip = sgn ? 0x80 : 0; /* s8 + 128 orders as u8 */
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
            int best = 0; /* the lowest value when the window holds no input */
            for (int i = 0; i < g->kh; i++) {
                const int iy = oy * g->sh - g->pt + i * g->dh;
                if (iy < 0 || iy >= g->ih) continue;
                for (int j = 0; j < g->kw; j++) {
                    const int ix = ox * g->sw - g->pl + j * g->dw;
                    if (ix < 0 || ix >= g->iw) continue;
                    const int v = x[(size_t)iy * g->iw + ix] ^ flip;
                    if (v > best) best = v;
                }
            }
            y[(size_t)oy * g->ow + ox] = (uint8_t)(best ^ flip);
        }
}
