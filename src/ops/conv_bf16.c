/* conv_bf16.c — Conv on the bfloat16 GEMM (a layer whose input and weights
 * are bf16 values, bf16_util.h): the columns of several images side by side
 * (X itself for a 1x1 layer, else im2col), rounded into bf16 pairs, one
 * nns_bf16_gemm per group with the bias, then the activation. */
#include "ops/bf16_util.h"
#include "ops/conv_impl.h"

/* Images per GEMM as for im2col (1x1 layers too). A layer that takes
 * Winograd at the plan's batch may take im2col at a smaller one: sized as
 * im2col. */
void nns_conv_bf16_dims(conv_dims *d) {
    if (d->algo == CONV_ALGO_WINO) d->algo = CONV_ALGO_IM2COL;
    nns_conv_im2col_batch(d);
}

/* Group g of images [n0, n0 + nb) into bf16 pairs at xb (pair rows 2*ldc
 * elements apart). */
static void columns(const conv_dims *d, const nns_kernels *k, const float *X, int64_t n0, int nb, int g, float *col,
                    uint16_t *xb) {
    const size_t xs = (size_t)d->c * d->ihw, ldc = (size_t)nb * d->ohw;
    for (int j = 0; j < nb; j++) {
        const float *xg = X + (size_t)(n0 + j) * xs + (size_t)g * d->cg * d->ihw;
        if (d->algo == CONV_ALGO_1X1)
            k->bf16_pack_pairs(d->cg, (int)d->ohw, xg, d->ihw, xb + 2 * (size_t)j * d->ohw, 2 * ldc);
        else
            k->f32_im2col(&d->g, d->cg, xg, col + (size_t)j * d->ohw, ldc);
    }
    if (d->algo != CONV_ALGO_1X1) k->bf16_pack_pairs((int)d->ckg, (int)ldc, col, ldc, xb, 2 * ldc);
}

/* Rows of yb (nb images side by side) to their images in Y, with the
 * activation. */
static void scatter(const conv_dims *d, const float *yb, int64_t n0, int nb, int g, float *Y) {
    const size_t ys = (size_t)d->m * d->ohw, ldc = (size_t)nb * d->ohw;
    for (int j = 0; j < nb; j++)
        for (int m = 0; m < d->mg; m++) {
            float *dst = Y + (size_t)(n0 + j) * ys + (size_t)(g * d->mg + m) * d->ohw;
            memcpy(dst, yb + (size_t)m * ldc + (size_t)j * d->ohw, d->ohw * sizeof(float));
            nns_fuse_act_rows(dst, d->ohw, d->act, d->lo, d->hi);
        }
}

void nns_conv_bf16_forward(const conv_dims *d, const nns_kernels *k, const float *X, const uint16_t *Wb, size_t ldw,
                           const float *B, float *Y, float *base, const conv_ws *ws, int64_t i0, int64_t i1) {
    float *col = base + ws->col, *yb = base + ws->yb;
    uint16_t *xb = (uint16_t *)(base + ws->xb);
    const size_t ys = (size_t)d->m * d->ohw;
    for (int64_t n0 = i0; n0 < i1; n0 += d->ib) {
        const int nb = (int)(i1 - n0 < d->ib ? i1 - n0 : d->ib);
        const size_t ldc = (size_t)nb * d->ohw;
        for (int g = 0; g < d->group; g++) {
            columns(d, k, X, n0, nb, g, col, xb);
            const float *bg = B ? B + (size_t)g * d->mg : NULL;
            if (nb == 1) { /* straight into Y */
                float *out = Y + (size_t)n0 * ys + (size_t)g * d->mg * d->ohw;
                k->bf16_gemm(d->mg, (int)ldc, (int)d->ckg, Wb + (size_t)g * d->mg * ldw, ldw, xb, 2 * ldc, bg, out, ldc);
                nns_fuse_act_rows(out, (size_t)d->mg * ldc, d->act, d->lo, d->hi);
            } else {
                k->bf16_gemm(d->mg, (int)ldc, (int)d->ckg, Wb + (size_t)g * d->mg * ldw, ldw, xb, 2 * ldc, bg, yb, ldc);
                scatter(d, yb, n0, nb, g, Y);
            }
        }
    }
}
