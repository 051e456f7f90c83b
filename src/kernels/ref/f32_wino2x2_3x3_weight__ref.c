/* f32_wino2x2_3x3_weight__ref.c — F(2x2,3x3) weight transform U = G g G^T
 * and its adjoint dg += G^T dU G (portable; cheap, run once per step). */
#include "kernels/kernels.h"

/* G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]] */
void nns_f32_wino2x2_3x3_weight__ref(const float *g, int flip, float *u) {
    float w[3][3], a[4][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) w[i][j] = flip ? g[(2 - i) * 3 + (2 - j)] : g[i * 3 + j];
    for (int j = 0; j < 3; j++) {
        a[0][j] = w[0][j];
        a[1][j] = 0.5f * (w[0][j] + w[1][j] + w[2][j]);
        a[2][j] = 0.5f * (w[0][j] - w[1][j] + w[2][j]);
        a[3][j] = w[2][j];
    }
    for (int i = 0; i < 4; i++) {
        u[i * 4 + 0] = a[i][0];
        u[i * 4 + 1] = 0.5f * (a[i][0] + a[i][1] + a[i][2]);
        u[i * 4 + 2] = 0.5f * (a[i][0] - a[i][1] + a[i][2]);
        u[i * 4 + 3] = a[i][2];
    }
}

void nns_f32_wino2x2_3x3_weight_grad__ref(const float *du, float *dg) {
    /* dg = G^T du G: first b = G^T du (3x4), then b G (3x3). */
    float b[3][4];
    for (int j = 0; j < 4; j++) {
        float d0 = du[0 * 4 + j], d1 = du[1 * 4 + j], d2 = du[2 * 4 + j], d3 = du[3 * 4 + j];
        b[0][j] = d0 + 0.5f * (d1 + d2);
        b[1][j] = 0.5f * (d1 - d2);
        b[2][j] = 0.5f * (d1 + d2) + d3;
    }
    for (int i = 0; i < 3; i++) {
        float c0 = b[i][0], c1 = b[i][1], c2 = b[i][2], c3 = b[i][3];
        dg[i * 3 + 0] += c0 + 0.5f * (c1 + c2);
        dg[i * 3 + 1] += 0.5f * (c1 - c2);
        dg[i * 3 + 2] += 0.5f * (c1 + c2) + c3;
    }
}
