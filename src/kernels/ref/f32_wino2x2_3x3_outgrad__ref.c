/* f32_wino2x2_3x3_outgrad__ref.c — the adjoint of the F(2x2,3x3) output
 * transform: dm = A dy A^T for 2x2 tiles of dy (zero outside the plane),
 * portable. */
#include "kernels/kernels.h"

void nns_f32_wino2x2_3x3_outgrad__ref(const float *dy, int k, size_t dy_plane, int oh, int ow, int tx_count,
                                      int t0, int t1, float *dm, size_t dm_kstride, size_t dm_hstride) {
    for (int ki = 0; ki < k; ki++) {
        const float *p = dy + (size_t)ki * dy_plane;
        for (int t = t0; t < t1; t++) {
            const int ty = t / tx_count, tx = t % tx_count;
            float d[2][2], e[4][2];
            for (int r = 0; r < 2; r++)
                for (int s = 0; s < 2; s++) {
                    int yy = 2 * ty + r, xx = 2 * tx + s;
                    d[r][s] = (yy < oh && xx < ow) ? p[(size_t)yy * ow + xx] : 0.0f;
                }
            for (int s = 0; s < 2; s++) {
                e[0][s] = d[0][s];
                e[1][s] = d[0][s] + d[1][s];
                e[2][s] = d[0][s] - d[1][s];
                e[3][s] = -d[1][s];
            }
            float *o0 = dm + (size_t)ki * dm_kstride + (size_t)(t - t0) * 8;
            for (int i = 0; i < 4; i++) {
                float *o = (i < 2 ? o0 : o0 + dm_hstride) + (i & 1) * 4;
                o[0] = e[i][0];
                o[1] = e[i][0] + e[i][1];
                o[2] = e[i][0] - e[i][1];
                o[3] = -e[i][1];
            }
        }
    }
}
