/* f32_wino2x2_3x3_input__ref.c — Winograd F(2x2,3x3) input transform
 * V = B^T d B of 4x4 windows (portable). */
#include "kernels/kernels.h"

void nns_f32_wino2x2_3x3_input__ref(const float *xp, int c, size_t plane_stride, int row_stride, int tx_count,
                                    int t0, int t1, float *v, size_t v_cstride, size_t v_hstride) {
    for (int ci = 0; ci < c; ci++) {
        const float *pl = xp + (size_t)ci * plane_stride;
        for (int t = t0; t < t1; t++) {
            const int ty = t / tx_count, tx = t % tx_count;
            const float *p = pl + (size_t)(2 * ty) * row_stride + 2 * tx;
            float d[4][4], u[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) d[i][j] = p[(size_t)i * row_stride + j];
            for (int j = 0; j < 4; j++) {
                u[0][j] = d[0][j] - d[2][j];
                u[1][j] = d[1][j] + d[2][j];
                u[2][j] = d[2][j] - d[1][j];
                u[3][j] = d[1][j] - d[3][j];
            }
            float *o0 = v + (size_t)ci * v_cstride + (size_t)(t - t0) * 8;
            for (int i = 0; i < 4; i++) {
                float *o = (i < 2 ? o0 : o0 + v_hstride) + (i & 1) * 4;
                o[0] = u[i][0] - u[i][2];
                o[1] = u[i][1] + u[i][2];
                o[2] = u[i][2] - u[i][1];
                o[3] = u[i][1] - u[i][3];
            }
        }
    }
}
