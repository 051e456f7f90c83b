/* f32_wino2x2_3x3_output__ref.c — Winograd F(2x2,3x3) output transform
 * y = A^T m A into 2x2 output tiles, cropped to the plane (portable). */
#include "kernels/kernels.h"

void nns_f32_wino2x2_3x3_output__ref(const float *m, int k, size_t m_kstride, size_t m_hstride, int tx_count,
                                     int t0, int t1,
                                     const float *bias, float *y, size_t y_plane, int oh, int ow,
                                     int accumulate) {
    for (int ki = 0; ki < k; ki++) {
        float *yp = y + (size_t)ki * y_plane;
        const float b = bias ? bias[ki] : 0.0f;
        for (int t = t0; t < t1; t++) {
            const int ty = t / tx_count, tx = t % tx_count;
            const float *q0 = m + (size_t)ki * m_kstride + (size_t)(t - t0) * 8, *q1 = q0 + m_hstride;
            float u[2][4], o[2][2];
            for (int j = 0; j < 4; j++) {
                u[0][j] = q0[j] + q0[4 + j] + q1[j];
                u[1][j] = q0[4 + j] - q1[j] - q1[4 + j];
            }
            for (int r = 0; r < 2; r++) {
                o[r][0] = u[r][0] + u[r][1] + u[r][2];
                o[r][1] = u[r][1] - u[r][2] - u[r][3];
            }
            for (int r = 0; r < 2; r++)
                for (int s = 0; s < 2; s++) {
                    int yy = 2 * ty + r, xx = 2 * tx + s;
                    if (yy >= oh || xx >= ow) continue;
                    float *dst = yp + (size_t)yy * ow + xx;
                    *dst = (accumulate ? *dst : 0.0f) + b + o[r][s];
                }
        }
    }
}
