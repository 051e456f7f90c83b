/* conv_im2col.c — Conv by im2col + OpenBLAS GEMM, several images side by
 * side in one GEMM; the data gradient is W^T dY then col2im. */
#include "ops/conv_impl.h"

/* ---- im2col + GEMM, several images per GEMM ------------------------- */

/* Columns of images [n0, n0 + nb), group g, side by side (row stride
 * nb*ohw). */
static void im2col_images(const conv_dims *d, const nns_kernels *k, const float *X, int64_t n0, int nb, int g,
                          float *col) {
    const size_t xs = (size_t)d->c * d->ihw, ldc = (size_t)nb * d->ohw;
    for (int j = 0; j < nb; j++)
        k->f32_im2col(&d->g, d->cg, X + (size_t)(n0 + j) * xs + (size_t)g * d->cg * d->ihw, col + (size_t)j * d->ohw,
                      ldc);
}

/* The forward on the table's f32_gemm: bias and activation in the GEMM,
 * several images' rows copied out of yb. */
static void im2col_forward_own(const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                               const float *B, float *Y, float *base, const conv_ws *ws, int64_t i0, int64_t i1) {
    float *col = base + ws->col, *yb = base + ws->yb;
    const size_t ys = (size_t)d->m * d->ohw;
    for (int64_t n0 = i0; n0 < i1; n0 += d->ib) {
        const int nb = (int)(i1 - n0 < d->ib ? i1 - n0 : d->ib);
        const size_t ldc = (size_t)nb * d->ohw;
        for (int g = 0; g < d->group; g++) {
            im2col_images(d, k, X, n0, nb, g, col);
            float *out = nb == 1 ? Y + (size_t)n0 * ys + (size_t)g * d->mg * d->ohw : yb;
            k->f32_gemm(d->mg, (int)ldc, (int)d->ckg, W + (size_t)g * d->mg * d->ckg, d->ckg, col, ldc,
                        B ? B + (size_t)g * d->mg : NULL, out, ldc, d->act, d->lo, d->hi);
            for (int j = 0; nb > 1 && j < nb; j++)
                for (int m = 0; m < d->mg; m++)
                    memcpy(Y + (size_t)(n0 + j) * ys + (size_t)(g * d->mg + m) * d->ohw,
                           yb + (size_t)m * ldc + (size_t)j * d->ohw, d->ohw * sizeof(float));
        }
        if (d->res) conv_res_rows(d, Y + (size_t)n0 * ys, d->res + (size_t)n0 * ys, (size_t)nb * ys);
    }
}

/* Thread t of n's share of one image's columns: a range of the group's
 * input channels, so that the others do not wait on one thread's im2col. */
static void im2col_share(const conv_dims *d, const nns_kernels *k, const float *x, float *col, int t, int n) {
    const int c0 = d->cg * t / n, c1 = d->cg * (t + 1) / n;
    const size_t khw = (size_t)d->g.kh * (size_t)d->g.kw;
    if (c1 > c0) k->f32_im2col(&d->g, c1 - c0, x + (size_t)c0 * d->ihw, col + (size_t)c0 * khw * d->ohw, d->ohw);
}

/* One image on nt threads that split each group's output rows (in blocks
 * of 8, the widest kernel's tile): the columns (IM2COL) made once by one
 * thread in base's column area; then every thread runs f32_gemm on its rows,
 * bias and activation included. What a batch of one needs, where images
 * cannot be split among threads. */
void nns_conv_own_forward_rows(const conv_dims *d, const nns_kernels *k, const float *x, const float *W,
                               const float *B, float *y, float *base, const conv_ws *ws, int nt) {
    float *col = base + ws->col;
    const int im2col = d->algo == CONV_ALGO_IM2COL;
    const size_t kd = im2col ? d->ckg : (size_t)d->cg, ldx = im2col ? d->ohw : d->ihw;
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), n = omp_get_num_threads();
        for (int g = 0; g < d->group; g++) {
            if (im2col) {
                im2col_share(d, k, x + (size_t)g * d->cg * d->ihw, col, t, n);
#pragma omp barrier
            }
            const float *xg = im2col ? col : x + (size_t)g * d->cg * d->ihw;
            const int per = (d->mg + 8 * n - 1) / (8 * n) * 8, m0 = t * per < d->mg ? t * per : d->mg;
            const int m1 = m0 + per < d->mg ? m0 + per : d->mg;
            const size_t r0 = (size_t)g * d->mg + (size_t)m0;
            if (m1 > m0)
                k->f32_gemm(m1 - m0, (int)d->ohw, (int)kd, W + r0 * kd, kd, xg, ldx, B ? B + r0 : NULL,
                            y + r0 * d->ohw, d->ohw, d->act, d->lo, d->hi);
            if (m1 > m0 && d->res) /* one image: d->res is its own */
                conv_res_rows(d, y + r0 * d->ohw, d->res + r0 * d->ohw, (size_t)(m1 - m0) * d->ohw);
            if (im2col && g + 1 < d->group) {
#pragma omp barrier
            }
        }
    }
}

/* Rows [p0, p1) of x [c][hw] transposed: xt [hw][c]. */
static void transpose_rows(const float *x, size_t c, size_t hw, size_t p0, size_t p1, float *xt) {
    for (size_t p = p0; p < p1; p++)
        for (size_t i = 0; i < c; i++) xt[p * c + i] = x[i * hw + p];
}

/* Row j of the transposed columns, taps outermost (K order (tap, c), as
 * conv_pack orders W^T): for each tap, the c channels of the input pixel it
 * reads (a row of xt), zeros in the padding. */
static void ct_row(const conv_dims *d, const float *xt, int j, float *row) {
    const nns_conv2d_geom *g = &d->g;
    const size_t c = (size_t)d->cg;
    const int oy = j / g->ow, ox = j % g->ow;
    for (int i = 0; i < g->kh; i++) {
        const int iy = oy * g->sh - g->pt + i * g->dh;
        for (int jj = 0; jj < g->kw; jj++, row += c) {
            const int ix = ox * g->sw - g->pl + jj * g->dw;
            if (iy < 0 || iy >= g->ih || ix < 0 || ix >= g->iw)
                memset(row, 0, c * sizeof(float));
            else
                memcpy(row, xt + ((size_t)iy * (size_t)g->iw + (size_t)ix) * c, c * sizeof(float));
        }
    }
}

void nns_conv_own_forward_t(const conv_dims *d, const nns_kernels *k, const float *x, const float *WT,
                            const float *B, float *y, float *base, const conv_ws *ws, int nt) {
    float *ct = base + ws->ct, *yt = base + ws->yt;
    const int im2col = d->algo == CONV_ALGO_IM2COL, q = (int)d->ohw, m = d->m;
    const size_t kd = im2col ? d->ckg : (size_t)d->cg, hw = (size_t)d->ihw;
    float *xt = im2col ? base + ws->col : ct; /* 1x1: x transposed is the columns */
    const int P = (int)conv_wt_cols(k), panels = (m + P - 1) / P;
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), n = omp_get_num_threads();
        transpose_rows(x, (size_t)d->cg, hw, hw * (size_t)t / (size_t)n, hw * (size_t)(t + 1) / (size_t)n, xt);
        if (im2col) {
#pragma omp barrier
            for (int j = q * t / n; j < q * (t + 1) / n; j++) ct_row(d, xt, j, ct + (size_t)j * kd);
        }
#pragma omp barrier
        const int p0 = panels * t / n, p1 = panels * (t + 1) / n;
        for (int pi = p0; pi < p1; pi++) /* panel pi: W^T [K][P], contiguous */
            k->f32_gemm(q, m - pi * P < P ? m - pi * P : P, (int)kd, ct, kd, WT + (size_t)pi * P * kd, (size_t)P,
                        NULL, yt + (size_t)pi * P, (size_t)m, NNS_FUSE_ACT_NONE, 0.0f, 0.0f);
        const int j0 = p0 * P < m ? p0 * P : m, j1 = p1 * P < m ? p1 * P : m;
        {
            for (int c = j0; c < j1; c++) {
                const float b = B ? B[c] : 0.0f;
                for (int j = 0; j < q; j++)
                    y[(size_t)c * q + j] = nns_fuse_act_apply(yt[(size_t)j * m + c] + b, d->act, d->lo, d->hi);
            }
            if (d->res && j1 > j0) /* one image: d->res is its own */
                conv_res_rows(d, y + (size_t)j0 * q, d->res + (size_t)j0 * q, (size_t)(j1 - j0) * q);
        }
    }
}

void nns_conv_im2col_forward(const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                                  const float *B, float *Y, float *base, const conv_ws *ws, int64_t i0, int64_t i1) {
    if (conv_own_gemm(k, d->ckg)) {
        im2col_forward_own(d, k, X, W, B, Y, base, ws, i0, i1);
        return;
    }
    float *col = base + ws->col, *yb = base + ws->yb;
    const size_t ys = (size_t)d->m * d->ohw;
    for (int64_t n0 = i0; n0 < i1; n0 += d->ib) {
        const int nb = (int)(i1 - n0 < d->ib ? i1 - n0 : d->ib);
        const int ldc = (int)((size_t)nb * d->ohw);
        for (int g = 0; g < d->group; g++) {
            im2col_images(d, k, X, n0, nb, g, col);
            /* One image: straight into Y; several: via yb. */
            float *out = nb == 1 ? Y + (size_t)n0 * ys + (size_t)g * d->mg * d->ohw : yb;
            if (ldc == 1) /* one output pixel: a GEMV streams W once (sgemm would pack it) */
                cblas_sgemv(CblasRowMajor, CblasNoTrans, d->mg, (int)d->ckg, 1.0f, W + (size_t)g * d->mg * d->ckg,
                            (int)d->ckg, col, 1, 0.0f, out, 1);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->mg, ldc, (int)d->ckg, 1.0f,
                            W + (size_t)g * d->mg * d->ckg, (int)d->ckg, col, ldc, 0.0f, out, ldc);
            for (int j = 0; j < nb; j++)
                for (int m = 0; m < d->mg; m++) {
                    const float bv = B ? B[g * d->mg + m] : 0.0f;
                    float *dst = Y + (size_t)(n0 + j) * ys + (size_t)(g * d->mg + m) * d->ohw;
                    const float *src = out + (size_t)m * ldc + (size_t)j * d->ohw;
                    /* one pass: the copy out of yb, the bias and the activation */
                    if (d->act == NNS_FUSE_ACT_RELU) {
#pragma omp simd
                        for (size_t q = 0; q < d->ohw; q++)
                            dst[q] = nns_fuse_act_apply(src[q] + bv, NNS_FUSE_ACT_RELU, 0, 0);
                    } else if (d->act == NNS_FUSE_ACT_CLIP) {
                        const float lo = d->lo, hi = d->hi;
#pragma omp simd
                        for (size_t q = 0; q < d->ohw; q++)
                            dst[q] = nns_fuse_act_apply(src[q] + bv, NNS_FUSE_ACT_CLIP, lo, hi);
                    } else if (bv == 0.0f) {
                        if (src != dst) memcpy(dst, src, d->ohw * sizeof(float));
                    } else {
                        for (size_t q = 0; q < d->ohw; q++) dst[q] = src[q] + bv;
                    }
                }
        }
        if (d->res) conv_res_rows(d, Y + (size_t)n0 * ys, d->res + (size_t)n0 * ys, (size_t)nb * ys);
    }
}

/* A group's weight gradient over a batch of columns on the table's
 * f32_gemm (conv_own_wgrad): dW^T [ckg][mg] = col [ckg][ldc] dY^T, dY^T
 * made in dyt; then dw [mg][ckg] written (or added to) from it. */
static void im2col_wgrad_own(const conv_dims *d, const nns_kernels *k, const float *dyb, int ldc, const float *col,
                             float *dyt, float *dwt, float *dw, int accumulate) {
    const int mg = d->mg;
    const size_t ckg = d->ckg;
    k->f32_transpose(mg, ldc, dyb, (size_t)ldc, dyt, (size_t)mg);
    k->f32_gemm((int)ckg, mg, ldc, col, (size_t)ldc, dyt, (size_t)mg, NULL, dwt, (size_t)mg, NNS_FUSE_ACT_NONE, 0.0f,
                0.0f);
    for (int m = 0; m < mg; m++) {
        float *row = dw + (size_t)m * ckg;
        if (accumulate)
            for (size_t l = 0; l < ckg; l++) row[l] += dwt[l * mg + m];
        else
            for (size_t l = 0; l < ckg; l++) row[l] = dwt[l * mg + m];
    }
}

/* Backward of images [i0, i1): dw (beta 0 on the first GEMM of each group
 * when overwrite) and dX. */
void nns_conv_im2col_backward(const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                                   const float *dY, float *dX, int dx_write, float *dw, int overwrite, float *base,
                                   const conv_ws *ws, int64_t i0, int64_t i1) {
    float *col = base + ws->col, *yb = base + ws->yb;
    const size_t xs = (size_t)d->c * d->ihw, ys = (size_t)d->m * d->ohw;
    /* The data gradient's GEMM on the table's f32_gemm where it has one:
     * W^T [ckg][mg] per group, made once per call (OpenBLAS's sgemm packed
     * W again for every batch of images). */
    float *wt = dX && conv_own_gemm(k, (size_t)d->mg) ? base + ws->wtg : NULL;
    if (wt && d->group != 1) wt = NULL; /* the area holds one group */
    if (wt)
        for (int m = 0; m < d->mg; m++)
            for (size_t l = 0; l < d->ckg; l++) wt[l * (size_t)d->mg + m] = W[(size_t)m * d->ckg + l];
    for (int64_t n0 = i0; n0 < i1; n0 += d->ib) {
        const int nb = (int)(i1 - n0 < d->ib ? i1 - n0 : d->ib);
        const int ldc = (int)((size_t)nb * d->ohw);
        for (int g = 0; g < d->group; g++) {
            /* dY of the batch side by side (in place for one image) */
            const float *dyb = dY + (size_t)n0 * ys + (size_t)g * d->mg * d->ohw;
            if (nb > 1) {
                for (int j = 0; j < nb; j++)
                    for (int m = 0; m < d->mg; m++)
                        memcpy(yb + (size_t)m * ldc + (size_t)j * d->ohw,
                               dY + (size_t)(n0 + j) * ys + (size_t)(g * d->mg + m) * d->ohw, d->ohw * sizeof(float));
                dyb = yb;
            }
            const float *wg = W + (size_t)g * d->mg * d->ckg;
            if (dw) {
                im2col_images(d, k, X, n0, nb, g, col);
                if (conv_own_wgrad(k, d->mg))
                    im2col_wgrad_own(d, k, dyb, ldc, col, base + ws->dyt, base + ws->dwt,
                                     dw + (size_t)g * d->mg * d->ckg, !(overwrite && n0 == i0));
                else
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->mg, (int)d->ckg, ldc, 1.0f, dyb, ldc, col,
                                ldc, overwrite && n0 == i0 ? 0.0f : 1.0f, dw + (size_t)g * d->mg * d->ckg,
                                (int)d->ckg);
            }
            if (dX) {
                if (wt)
                    k->f32_gemm((int)d->ckg, ldc, d->mg, wt, (size_t)d->mg, dyb,
                                (size_t)ldc, NULL, col, (size_t)ldc, NNS_FUSE_ACT_NONE, 0.0f, 0.0f);
                else
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d->ckg, ldc, d->mg, 1.0f, wg,
                                (int)d->ckg, dyb, ldc, 0.0f, col, ldc);
                for (int j = 0; j < nb; j++) {
                    float *dxg = dX + (size_t)(n0 + j) * xs + (size_t)g * d->cg * d->ihw;
                    if (dx_write) memset(dxg, 0, (size_t)d->cg * d->ihw * sizeof(float));
                    k->f32_col2im(&d->g, d->cg, col + (size_t)j * d->ohw, (size_t)ldc, dxg);
                }
            }
        }
    }
}

