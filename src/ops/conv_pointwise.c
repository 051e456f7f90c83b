/* conv_pointwise.c — 1x1 Conv, stride 1, no padding: GEMMs on X itself. */
#include "ops/conv_impl.h"

/* ---- 1x1, stride 1, no padding: GEMMs on X itself ---------------------- */

void nns_conv_pw_forward(const conv_dims *d, const float *x, const float *w, const float *b, float *y) {
    for (int g = 0; g < d->group; g++) {
        float *yg = y + (size_t)g * d->mg * d->ohw;
        float beta = 0.0f;
        if (b) {
            for (int m = 0; m < d->mg; m++) {
                const float bv = b[g * d->mg + m];
                float *row = yg + (size_t)m * d->ohw;
                for (size_t q = 0; q < d->ohw; q++) row[q] = bv;
            }
            beta = 1.0f;
        }
        if (d->ohw == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, d->mg, d->cg, 1.0f, w + (size_t)g * d->mg * d->cg, d->cg,
                        x + (size_t)g * d->cg * d->ihw, 1, beta, yg, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->mg, (int)d->ohw, d->cg, 1.0f,
                        w + (size_t)g * d->mg * d->cg, d->cg, x + (size_t)g * d->cg * d->ihw, (int)d->ohw, beta,
                        yg, (int)d->ohw);
    }
}

void nns_conv_pw_forward_own(const conv_dims *d, const nns_kernels *k, const float *x, const float *w, const float *b,
                             float *y) {
    for (int g = 0; g < d->group; g++)
        k->f32_gemm(d->mg, (int)d->ohw, d->cg, w + (size_t)g * d->mg * d->cg, (size_t)d->cg,
                    x + (size_t)g * d->cg * d->ihw, d->ihw, b ? b + (size_t)g * d->mg : NULL,
                    y + (size_t)g * d->mg * d->ohw, d->ohw, d->act, d->lo, d->hi);
}

void nns_conv_pw_backward(const conv_dims *d, const float *x, const float *w, const float *dy, float *dx,
                              int dx_write, float *dw, int overwrite) {
    for (int g = 0; g < d->group; g++) {
        const float *xg = x + (size_t)g * d->cg * d->ihw, *wg = w + (size_t)g * d->mg * d->cg;
        const float *dyg = dy + (size_t)g * d->mg * d->ohw;
        if (dw)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->mg, d->cg, (int)d->ohw, 1.0f, dyg, (int)d->ohw,
                        xg, (int)d->ohw, overwrite ? 0.0f : 1.0f, dw + (size_t)g * d->mg * d->cg, d->cg);
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->cg, (int)d->ohw, d->mg, 1.0f, wg, d->cg, dyg,
                        (int)d->ohw, dx_write ? 0.0f : 1.0f, dx + (size_t)g * d->cg * d->ihw, (int)d->ihw);
    }
}

