/*
 * conv_impl.h — what the files of the Conv op share (conv.c: the op, its
 * shapes, algorithm choice, workspace and dispatch; conv_wino.c,
 * conv_im2col.c, conv_pointwise.c, conv_dw.c: one algorithm each).
 */
#ifndef NNS_CONV_IMPL_H
#define NNS_CONV_IMPL_H

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ops/op_util.h"
#include "ops/window2d.h"

typedef struct conv_params {
    nns_window2d win;
    int group;
    int nthreads;   /* threads the workspace is sized for */
    int bf16_in;    /* the input is a Round16 to bfloat16 (bf16_util.h) */
} conv_params;

enum { CONV_ALGO_DW = 0, CONV_ALGO_1X1, CONV_ALGO_IM2COL, CONV_ALGO_WINO };

/* Winograd F(2x2,3x3) over one direction: an input plane ih x iw, padded at
 * (pt, pl) into ph x pw, gives an output oh x ow in ty x tx tiles; tiles are
 * processed in chunks of tc. */
typedef struct wino_geom {
    int ih, iw, oh, ow, pt, pl, ph, pw, ty, tx, t, tc;
} wino_geom;

typedef struct conv_dims {
    int64_t n;
    int c, m, cg, mg, group;
    nns_conv2d_geom g;   /* X plane -> Y plane */
    size_t ihw, ohw, kk, ckg, wsize;
    int algo;
    wino_geom wf, wb;    /* WINO: forward, and data gradient (dY -> dX) */
    int ib;              /* IM2COL: images per GEMM */
    int act;             /* forward: activation applied to the output (nns_fuse_act) */
    float lo, hi;        /* its Clip bounds */
    /* forward: SiLU or HardSwish (nns_fuse_act) after act, or NONE. A
     * path that applies it image by image while the image is in cache
     * clears it in conv_forward's copy (conv_forward_paths); else
     * conv_forward applies it to the whole output after the path. */
    int post;
    /* forward: a residual of the output's shape added before ract, the
     * clamp that then applies (a fused Add and its Relu / Clip, with act
     * NONE and lo, hi its bounds), or NULL. The direct same-size and
     * stride-2 kernels add it in their stores, the GEMM paths as their
     * output comes out (conv_res_rows), and those paths clear it in
     * conv_forward's copy; else conv_forward adds it over the whole output
     * after the path. Never with post (a SiLU or HardSwish output feeds no
     * Add). */
    const float *res;
    int ract;
} conv_dims;

/* Workspace layout, in floats (every part 16-float aligned): per-thread
 * parts, then shared ones. */
typedef struct conv_ws {
    size_t per_thread;           /* floats per thread */
    size_t part;                 /* weight-gradient partial (threads > 1) */
    size_t col, yb;              /* IM2COL: columns, output / dY of a batch of images */
    size_t xb;                   /* bf16 path: the columns in bf16 pairs */
    size_t xpad, ypad, v, m, dm; /* WINO: padded input / dY, transforms */
    size_t wt;                   /* shared: WINO transformed weights (when not packed) */
    size_t ct, yt;               /* one image of few pixels, transposed (conv_wt_cols) */
    size_t wtg;                  /* IM2COL training: a group's W^T for the data gradient's own GEMM */
    size_t dyt, dwt;             /* IM2COL training: dY^T of a batch, its dW^T (conv_own_wgrad) */
    size_t total;
} conv_ws;

static inline size_t r16(size_t n) { return (n + 15) & ~(size_t)15; }

static inline size_t zmax(size_t a, size_t b) { return a > b ? a : b; }

/* Threads for the per-image paths: one below ~1 MFLOP (the fork/join costs
 * more), else up to one per image. */
static inline int conv_team(const conv_params *p, const conv_dims *d) {
    double flops = 2.0 * (double)d->n * d->m * (double)d->ckg * (double)d->ohw;
    if (p->nthreads <= 1 || d->n <= 1 || flops < (double)(1 << 20)) return 1;
    return (int)(d->n < p->nthreads ? d->n : p->nthreads);
}

/* d->post over n floats of y: SiLU by the table's f32_sigmoid (as the
 * unfused Sigmoid and Mul compute it), HardSwish as nns_fuse_act_rows. */
static inline void conv_post_rows(const nns_kernels *k, int post, float *y, size_t n) {
    if (post == NNS_FUSE_ACT_SILU)
        k->f32_sigmoid((int64_t)n, y, y, 1);
    else if (post)
        nns_fuse_act_rows(y, n, post, 0.0f, 0.0f);
}

/* n floats of the output y: y + r (d->res at the same offset), then
 * d->ract. */
static inline void conv_res_rows(const conv_dims *d, float *y, const float *r, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) y[i] += r[i];
    nns_fuse_act_rows(y, n, d->ract, d->lo, d->hi);
}

/* d->res at offset off of the output, or NULL. */
static inline const float *conv_res_at(const conv_dims *d, size_t off) { return d->res ? d->res + off : NULL; }

/* Threads for the depthwise kernels, over `items` planes or channels. */
static inline int conv_dw_team(const conv_params *p, const conv_dims *d, int64_t items) {
    double work = (double)d->n * d->c * (double)d->ohw * (double)d->kk;
    if (p->nthreads <= 1 || items <= 1 || work < (double)(1 << 16)) return 1;
    return p->nthreads;
}

/* conv_wino.c: Winograd F(2x2,3x3) (forward; data and weight gradients) */
void nns_conv_wino_geom_make(int ih, int iw, int oh, int ow, int pt, int pl, int cin, int cout, wino_geom *w);
/* W's transformed filters U [2][M][C][8] (nns_conv_wino_forward's layout). */
void nns_conv_wino_pack(const conv_dims *d, const float *W, float *U);
/* Upacked: W's transformed filters made once (conv_pack), or NULL to
 * transform W into the workspace. */
void nns_conv_wino_forward(const nns_kernels *k, const conv_params *p, const conv_dims *d, const float *X,
                           const float *W, const float *Upacked, const float *B, float *Y, float *work,
                           const conv_ws *ws);
void nns_conv_wino_backward(const nns_kernels *k, const conv_params *p, const conv_dims *d, const float *X,
                          const float *W, const float *dY, float *dX, int dx_write, float *dW, float *work,
                          const conv_ws *ws);
/* conv_im2col.c: im2col + GEMM, several images per GEMM (images [i0, i1)) */
void nns_conv_im2col_forward(const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                                  const float *B, float *Y, float *base, const conv_ws *ws, int64_t i0, int64_t i1);
void nns_conv_im2col_backward(const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                                   const float *dY, float *dX, int dx_write, float *dw, int overwrite, float *base,
                                   const conv_ws *ws, int64_t i0, int64_t i1);
/* conv_bf16.c: 1x1 or im2col convolution on the bf16 GEMM (images [i0, i1);
 * d as made by nns_conv_bf16_dims; Wb: M bf16 rows ldw apart) */
void nns_conv_bf16_dims(conv_dims *d);
/* Images per im2col GEMM (d->ib) so that the columns and the output of one
 * batch stay within conv.c's CONV_IM2COL_COL_FLOATS. */
void nns_conv_im2col_batch(conv_dims *d);
void nns_conv_bf16_forward(const conv_dims *d, const nns_kernels *k, const float *X, const uint16_t *Wb, size_t ldw,
                           const float *B, float *Y, float *base, const conv_ws *ws, int64_t i0, int64_t i1);
/* 1 if the forward's GEMMs of depth k run on the table's f32_gemm (bias
 * and activation fused) rather than OpenBLAS: the AVX-512 kernel always
 * (2-2.7x OpenBLAS's sgemm on these shapes, one core), the AVX2 one for k up
 * to 128 (1.0-1.3x; behind it on deeper sums), never the reference. */
/* The same for one image on several threads splitting the rows
 * (nns_conv_own_forward_rows): there OpenBLAS's packing is not shared by
 * images, and the AVX2 kernel wins at any depth too (ResNet-18 and
 * GoogLeNet at 64x64, batch 1, bench/zoo_speed.sh). */
static inline int conv_own_gemm_1image(const nns_kernels *k) {
    return k->f32_gemm == nns_f32_gemm_8x48__avx512 || k->f32_gemm == nns_f32_gemm_4x24__avx2;
}
static inline int conv_own_gemm(const nns_kernels *k, size_t depth) {
    if (k->f32_gemm == nns_f32_gemm_8x48__avx512) return 1;
    return k->f32_gemm == nns_f32_gemm_4x24__avx2 && depth <= 128;
}
/* The im2col path's weight gradient on the table's f32_gemm, as
 * dW^T = col dY^T (the output channels as the kernel's columns): the
 * AVX-512 kernel, and at least 16 channels a group (one whole vector). */
static inline int conv_own_wgrad(const nns_kernels *k, int mg) {
    return k->f32_gemm == nns_f32_gemm_8x48__avx512 && mg >= 16;
}
/* Output pixels per image up to which one image's GEMM runs transposed
 * (pixels as the kernel's rows, output channels as its wide columns: a
 * 2x2 plane fills 4 of the AVX2 kernel's 24 columns otherwise), on packed
 * weights W^T [K][M]; 0: never (no own kernel in the table). */
static inline size_t conv_wt_cols(const nns_kernels *k) {
    return k->f32_gemm == nns_f32_gemm_8x48__avx512 ? 48 : k->f32_gemm == nns_f32_gemm_4x24__avx2 ? 24 : 0;
}
/* One image, group 1, transposed on WT (conv_im2col.c): the columns
 * transposed into ws->ct, f32_gemm with the threads splitting the output
 * channels into ws->yt, then bias and activation on the way back to Y. */
void nns_conv_own_forward_t(const conv_dims *d, const nns_kernels *k, const float *x, const float *WT,
                            const float *B, float *y, float *base, const conv_ws *ws, int nt);
/* One image (IM2COL or 1X1) on the table's f32_gemm, nt threads splitting
 * the output rows (conv_im2col.c). */
void nns_conv_own_forward_rows(const conv_dims *d, const nns_kernels *k, const float *x, const float *W,
                               const float *B, float *y, float *base, const conv_ws *ws, int nt);
/* conv_pointwise.c: 1x1, stride 1, no padding: GEMMs on one image */
void nns_conv_pw_forward(const conv_dims *d, const float *x, const float *w, const float *b, float *y);
/* The same on the kernel table's f32_gemm, d->act applied. */
void nns_conv_pw_forward_own(const conv_dims *d, const nns_kernels *k, const float *x, const float *w, const float *b,
                             float *y);
void nns_conv_pw_backward(const conv_dims *d, const float *x, const float *w, const float *dy, float *dx,
                              int dx_write, float *dw, int overwrite);
/* conv_dw.c: depthwise (group == C == M), all images */
void nns_conv_dw_forward(const conv_params *p, const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                         const float *B, float *Y, float *work, const conv_ws *ws);
void nns_conv_dw_backward(const conv_params *p, const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                          const float *dY, float *dX, int dx_write, float *dW, float *dB, float *work, const conv_ws *ws);

#endif
