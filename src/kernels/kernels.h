/*
 * kernels.h — compute kernels and the runtime dispatch table.
 *
 * Ops are not kernels (DESIGN.md 7-10). A kernel is a pure function on
 * pointers, sizes and a work range: it never allocates and never spawns
 * threads (the calling op parallelises over work ranges with OpenMP). Scratch
 * memory, where a kernel needs any, is passed in by the caller; its size comes
 * from a *_scratch_floats() function of the same family, which is the same for
 * every ISA variant.
 *
 * Names: nns_<dtype>_<operation>[_<tile>]__<suffix>, one file per symbol,
 * named after it: src/kernels/ref/ (portable C, the oracle and fallback, kept
 * forever) and src/kernels/x86/ (a file *__<suffix>.c is compiled with
 * exactly the flags of its suffix, src/kernels/isa.def).
 *
 * Registry: kernel_list.h lists every dispatched family, its reference and
 * its ISA variants (each with the suffix, hence the CPU features, it needs).
 * dispatch.c detects each CPU feature on its own bit and fills one table per
 * ISA level, and the process default (every feature the CPU has); a variant
 * is eligible in a table only if the table's features include all of its
 * suffix's. NNS_ISA=<level> (scalar, avx2, avx512, avx512vnni, avxvnni,
 * avx512bf16) lowers the default, never above the CPU. A plan is created
 * with a table (the default, or one chosen with nns_plan_create_with_kernels)
 * and its ops use that one, so one process can run a model at every level.
 * docs/kernels.md has the suffix table and how to add a kernel.
 *
 * Layouts: image planes are row-major [h][w] floats, contiguous; NCHW tensors
 * are N*C such planes back to back.
 */
#ifndef NNS_KERNELS_H
#define NNS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ---- CPU features, kernel-file suffixes, ISA levels ---------------------
 * X(ENUM, name): one bit per CPU feature, each detected on its own
 * (dispatch.c); name is the gcc / clang -m flag without "-m". */
#define NNS_CPU_FEATURE_LIST(X)                                                      \
    X(AVX2, avx2) X(FMA, fma) X(F16C, f16c) X(AVX512F, avx512f) X(AVX512BW, avx512bw) \
    X(AVX512DQ, avx512dq) X(AVX512VL, avx512vl) X(AVX512VNNI, avx512vnni)             \
    X(AVXVNNI, avxvnni) X(AVX512BF16, avx512bf16)

enum {
#define X(E, name) NNS_CPU_BIT_##E,
    NNS_CPU_FEATURE_LIST(X)
#undef X
    NNS_CPU_FEATURE_COUNT
};
enum {
#define X(E, name) NNS_CPU_##E = 1 << NNS_CPU_BIT_##E,
    NNS_CPU_FEATURE_LIST(X)
#undef X
};

/* NNS_SUFFIX_<suffix>: the features a kernel file *__<suffix>.c is compiled
 * with and requires (isa.def). */
#define NNS_F(E) | NNS_CPU_##E
enum {
#define NNS_SUFFIX(suffix, features) NNS_SUFFIX_##suffix = 0 features,
#include "kernels/isa.def"
};

/* ISA levels (isa.def; enums only grow at the end). */
typedef enum nns_isa {
#define NNS_LEVEL(E, name, suffixes) NNS_ISA_##E,
#include "kernels/isa.def"
    NNS_ISA_COUNT
} nns_isa;

/* Geometry of a 2-D sliding window (convolution or pooling) over one plane.
 * Output position (oy, ox) reads input rows oy*sh - pt + i*dh, i in [0, kh),
 * and columns ox*sw - pl + j*dw, j in [0, kw); positions outside
 * [0, ih) x [0, iw) are padding. Bottom/right padding is implied by oh/ow.
 * pt/pl may be negative (a crop). All values are > 0 except the pads. */
typedef struct nns_conv2d_geom {
    int ih, iw;   /* input plane  */
    int oh, ow;   /* output plane */
    int kh, kw;   /* window       */
    int sh, sw;   /* strides      */
    int dh, dw;   /* dilations    */
    int pt, pl;   /* top and left padding */
} nns_conv2d_geom;

/* ---- phase planes --------------------------------------------------------
 * A padded input plane split into sh*sw phase planes by row and column
 * phase: P[rp*sw + cp][rr][k] = xpad[rr*sh + rp][k*sw + cp], xpad being the
 * input shifted by (pt, pl) with zeros outside. Output (oy, ox), tap (i, j)
 * then reads phase plane ((i*dh) % sh, (j*dw) % sw) at row oy + (i*dh)/sh,
 * column ox + (j*dw)/sw: with row stride pw that is q + tap offset where
 * q = oy*pw + ox is the flattened output position. A convolution over a
 * plane becomes a 1-D one over q in [0, npos) (columns ox >= ow are
 * computed and dropped). Used by the depthwise kernels. */
typedef struct nns_phase_layout {
    int nph;       /* phase planes: sh*sw */
    int pw;        /* row stride: >= ow + maxco (rounded up to align) */
    int prr;       /* rows per phase plane: oh + maxro + 1 + maxco / pw */
    int maxro, maxco;
    size_t plane;  /* floats per phase plane: prr*pw */
    size_t npos;   /* flattened outputs: oh*pw */
} nns_phase_layout;

/* pw: a row must hold ow outputs and every input column of its phase; the
 * columns a row's last outputs read past pw wrap into the next row, which
 * is right when they land in that row's left padding (zeros), as they do
 * for the usual symmetric pads: a 7x7 plane with pad 1 gets pw 8, not 16. */
static inline void nns_phase_layout_make(const nns_conv2d_geom *g, int align, nns_phase_layout *L) {
    L->nph = g->sh * g->sw;
    L->maxro = ((g->kh - 1) * g->dh) / g->sh;
    L->maxco = ((g->kw - 1) * g->dw) / g->sw;
    int lo_min = 1 << 30, hi_max = 0;
    for (int cp = 0; cp < g->sw; cp++) {
        int off = cp - g->pl;
        int lo = off >= 0 ? 0 : (-off + g->sw - 1) / g->sw; /* zero columns on the left */
        int hi = (g->iw - off + g->sw - 1) / g->sw;           /* last input column + 1 */
        if (lo < lo_min) lo_min = lo;
        if (hi > hi_max) hi_max = hi;
    }
    int pw = g->ow + L->maxco - lo_min;
    if (pw < hi_max) pw = hi_max;
    if (pw < g->ow) pw = g->ow;
    L->pw = (pw + align - 1) / align * align;
    /* rows: a tap's run of npos floats from (ro, co) ends at row oh + ro - 1
     * plus co / pw + 1 wrapped rows (the dropped columns' reads stay in the
     * plane: a dilated window's co can pass pw, 9 against 8 for 1x4 taps at
     * dilation 3 on a 5-wide plane, and the weight gradient's dot products
     * had read past it, 0 * NaN) */
    L->prr = g->oh + L->maxro + 1 + L->maxco / L->pw;
    L->plane = (size_t)L->prr * L->pw;
    L->npos = (size_t)g->oh * L->pw;
}

/* Offset of tap (i, j) from the start of a channel's phase planes. */
static inline size_t nns_phase_tap_offset(const nns_conv2d_geom *g, const nns_phase_layout *L, int i,
                                          int j) {
    int ph = ((i * g->dh) % g->sh) * g->sw + (j * g->dw) % g->sw;
    return (size_t)ph * L->plane + (size_t)((i * g->dh) / g->sh) * L->pw + (size_t)((j * g->dw) / g->sw);
}

/* ---- im2col / col2im ---------------------------------------------------- */

/* col[(ci*kh + i)*kw + j][oy*ow + ox] = x[ci][oy*sh-pt+i*dh][ox*sw-pl+j*dw]
 * (0 in the padding), for ci in [0, c). x: c planes of ih*iw; col:
 * (c*kh*kw) rows of oh*ow values, ldc floats apart (ldc >= oh*ow: several
 * images side by side in one GEMM operand). */
typedef void nns_f32_im2col_kernel(const nns_conv2d_geom *g, int c, const float *x, float *col,
                                   size_t ldc);
typedef nns_f32_im2col_kernel *nns_f32_im2col_fn;
/* The adjoint: x[...] += col[...] (padding positions dropped). */
typedef void nns_f32_col2im_kernel(const nns_conv2d_geom *g, int c, const float *col, size_t ldc,
                                   float *x);
typedef nns_f32_col2im_kernel *nns_f32_col2im_fn;

/* ---- depthwise 2-D convolution (one filter per channel) --------------- */

/* Forward over n images x nc channels: y[oy][ox] = bias[c] + sum_ij
 * w[c][i*kw+j] * x[...]. Image b, channel c: x + b*x_stride + c*ih*iw,
 * y + b*y_stride + c*oh*ow (planes of one image contiguous, so memory is
 * walked in order). w: nc*kh*kw; bias: nc values or NULL. scratch:
 * nns_f32_dwconv2d_scratch_floats(g) floats, 32-byte aligned. */
typedef void nns_f32_dwconv2d_kernel(const nns_conv2d_geom *g, int n, int nc, const float *x,
                                     size_t x_stride, const float *w, const float *bias, float *y,
                                     size_t y_stride, float *scratch);
typedef nns_f32_dwconv2d_kernel *nns_f32_dwconv2d_fn;
/* Backward over the same planes: dx (NULL, or laid out like x, dx_stride)
 * += the data gradient; dw (NULL or nc*kh*kw) and db (NULL or nc) += the
 * weight and bias gradients, summed over images in order (deterministic). */
typedef void nns_f32_dwconv2d_bwd_kernel(const nns_conv2d_geom *g, int n, int nc, const float *x,
                                         size_t x_stride, const float *dy, size_t dy_stride,
                                         const float *w, float *dx, size_t dx_stride, float *dw,
                                         float *db, float *scratch);
typedef nns_f32_dwconv2d_bwd_kernel *nns_f32_dwconv2d_bwd_fn;
size_t nns_f32_dwconv2d_scratch_floats(const nns_conv2d_geom *g);
/* A convolution with ONE input channel (group 1) and m filters: image b's
 * plane x + b*x_stride gives y + b*y_stride + c*oh*ow = bias[c] + the plane
 * convolved with w + c*kh*kw, for c < m (a network's first layer on
 * grey-scale images). Same scratch as the depthwise kernels; the input is
 * packed once per image for all m filters. */
typedef void nns_f32_conv2d_1ch_kernel(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                       const float *w, const float *bias, float *y, size_t y_stride,
                                       float *scratch);
typedef nns_f32_conv2d_1ch_kernel *nns_f32_conv2d_1ch_fn;
/* Its weight gradient: dw[c*kh*kw + t] += the sum over images b < n and
 * output pixels p of dy[b*dy_stride + c*oh*ow + p] times the input under
 * tap t at p (0 in the padding), for c < m. w (the filters) and scratch
 * (as above) are used by variants that run the depthwise backward kernel
 * per filter; the sums' order differs between variants (float rounding
 * only). */
typedef void nns_f32_conv2d_1ch_wgrad_kernel(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                             const float *dy, size_t dy_stride, const float *w, float *dw,
                                             float *scratch);
typedef nns_f32_conv2d_1ch_wgrad_kernel *nns_f32_conv2d_1ch_wgrad_fn;
/* That gradient as the depthwise backward kernel bwd per filter (the
 * reference's and the AVX2 variant's way). */
void nns_f32_conv2d_1ch_wgrad_per_filter(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                         const float *dy, size_t dy_stride, const float *w, float *dw, float *scratch,
                                         nns_f32_dwconv2d_bwd_fn bwd);


/* Table entry f32_conv2d_fewch: a dense convolution (one group) of c input
 * planes x (ih*iw apart) by m filters w [m][c][kh][kw], output rows
 * [oy0, oy1) of the m planes y (oh*ow apart): bias[f] (0 when bias is NULL)
 * plus the sum over channels and taps, then clamped to [lo, hi] when clamp
 * (a fused Relu or Clip). Only where nns_f32_conv2d_fewch_fits: strides 1 or
 * 2 (each way on its own), no dilation, at most 8 taps a row and 8 rows,
 * 128 output columns, NNS_CONV_FEWCH_C channels (a network's stem on grey or colour
 * images, straight from the planes instead of im2col and a GEMM of depth
 * c*kh*kw). The sums' order differs between variants (float rounding
 * only). */
#define NNS_CONV_FEWCH_C 4
typedef void nns_f32_conv2d_fewch_kernel(const nns_conv2d_geom *g, int c, int m, int oy0, int oy1, const float *x,
                                         const float *w, const float *bias, int clamp, float lo, float hi, float *y);
typedef nns_f32_conv2d_fewch_kernel *nns_f32_conv2d_fewch_fn;
static inline int nns_f32_conv2d_fewch_fits(const nns_conv2d_geom *g, int c) {
    return c >= 1 && c <= NNS_CONV_FEWCH_C && (g->sh == 1 || g->sh == 2) && (g->sw == 1 || g->sw == 2) &&
           g->dh == 1 && g->dw == 1 && g->kw >= 1 && g->kw <= 8 && g->kh >= 1 && g->kh <= 8 && g->ow >= 1 &&
           g->ow <= 128 && g->oh >= 1 && g->pl >= 0 && g->pt >= 0;
}

/* ---- a dense convolution at stride 1 that keeps the plane's size -------
 * Table entry f32_conv2d_same: for each of n images (x xs floats apart, y
 * ys), output positions [p0, p1) (row-major across the plane) of the m
 * planes y (oh*ow apart) of a dense convolution (one group) of c input
 * planes x (ih*iw apart): bias[f] (0 when bias is NULL)
 * plus the sum over taps and channels, plus r at y's place when r is not
 * NULL (a fused residual Add, or the gradient a data gradient adds to: r
 * has y's layout and may be y itself, each output's r read before that
 * output is stored), clamped to [lo, hi] when
 * clamp (a fused Relu or Clip). wp holds the filters as nns_conv2d_same_pack lays
 * them out. Only where nns_f32_conv2d_same_fits: stride 1, no dilation,
 * the output the input's size (kh - 1 rows and kw - 1 columns of padding
 * in all, split any way), windows of at most 7x7, planes of at most
 * NNS_CONV_SAME_PIXELS. Taken as one run of positions, a vector of 16
 * outputs needs no row of its own (small planes fill it), and every tap is
 * one offset from the output's position, under a mask for the padding. The
 * sums' order differs between variants (float rounding only). */
#define NNS_CONV_SAME_PIXELS 4096
#define NNS_CONV_SAME_MB 12 /* filters a block, at most */
/* Filters in the block that starts with `left` filters to go: 12, 8, 4, 2, 1. */
static inline int nns_conv_same_block(int left) {
    return left >= 12 ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
}
/* w [m][c][kh*kw] into wp (m*c*kk floats): the block of filters from f0
 * (nns_conv_same_block(m - f0) of them) at wp + f0*c*kk, [tap][c][filter]. */
void nns_conv2d_same_pack(int m, int c, int kk, const float *w, float *wp);
/* Filter f's weight for channel cc, tap t, in that layout (references). */
float nns_conv2d_same_packed_w(const float *wp, int m, int c, int kk, int f, int cc, int t);
typedef void nns_f32_conv2d_same_kernel(const nns_conv2d_geom *g, int c, int m, int n, int p0, int p1,
                                        const float *x, size_t xs, const float *wp, const float *bias, int clamp,
                                        float lo, float hi, float *y, size_t ys, const float *r);
typedef nns_f32_conv2d_same_kernel *nns_f32_conv2d_same_fn;
static inline int nns_f32_conv2d_same_fits(const nns_conv2d_geom *g) {
    return g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 && g->oh == g->ih && g->ow == g->iw && g->ih >= 1 &&
           g->iw >= 1 && g->kh >= 1 && g->kw >= 1 && g->kh <= 7 && g->kw <= 7 && g->pt >= 0 && g->pl >= 0 &&
           g->pt < g->kh && g->pl < g->kw && (int64_t)g->ih * g->iw <= NNS_CONV_SAME_PIXELS;
}

/* ---- a dense convolution at stride 2, on the input split by phase ------
 * Table entry f32_conv2d_s2: f32_conv2d_same's contract for a layer where
 * nns_f32_conv2d_s2_fits, with the same packed filters, but x (xs floats
 * an image) is each image as f32_conv2d_s2_split laid it out: for each row
 * phase a and column phase b (0: even, 1: odd), a plane of
 * ph = (ih + 1) / 2 rows of ow floats per channel, [a][b][channel][y][x],
 * holding x[2y + a][2x + b] (0 past the input). Then every tap is one fixed
 * offset from its output's position, as at stride 1: tap (i, j) of output
 * (oy, ox) is phase plane ((i - pt) mod 2, (j - pl) mod 2) at row
 * oy + nns_conv2d_s2_d(i, pt), column ox + nns_conv2d_s2_d(j, pl), when
 * that row and column exist in the phase (else 0). nns_f32_conv2d_s2_fits:
 * stride 2 both ways, no dilation, windows of at most 7x7, outputs of at
 * most NNS_CONV_SAME_PIXELS, and no tap reading a column of the input that
 * its phase plane, ow wide, does not hold (3x3 with padding 1 left, say). */
static inline int nns_conv2d_s2_phase(int i, int pad) { return (i - pad) & 1; }
static inline int nns_conv2d_s2_d(int i, int pad) { return (i - pad - nns_conv2d_s2_phase(i, pad)) / 2; }
static inline int nns_f32_conv2d_s2_fits(const nns_conv2d_geom *g) {
    if (!(g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 && g->ih >= 1 && g->iw >= 1 && g->oh >= 1 &&
          g->ow >= 1 && g->kh >= 1 && g->kw >= 1 && g->kh <= 7 && g->kw <= 7 && g->pt >= 0 && g->pl >= 0 &&
          g->pt < g->kh && g->pl < g->kw && g->ih <= NNS_CONV_SAME_PIXELS && g->iw <= NNS_CONV_SAME_PIXELS &&
          (int64_t)g->oh * g->ow <= NNS_CONV_SAME_PIXELS))
        return 0;
    for (int j = 0; j < g->kw; j++) { /* the last output's column in phase b: inside the plane or the input */
        const int b = nns_conv2d_s2_phase(j, g->pl), x = g->ow - 1 + nns_conv2d_s2_d(j, g->pl);
        if (x >= g->ow && g->ow < (g->iw - b + 1) / 2) return 0;
    }
    return 1;
}
/* Floats of one image split (c channels). */
static inline size_t nns_conv2d_s2_floats(const nns_conv2d_geom *g, int c) {
    return (size_t)4 * c * ((g->ih + 1) / 2) * g->ow;
}
/* Table entry f32_conv2d_s2_split: one image's c planes x (ih*iw apart)
 * into xs2 (nns_conv2d_s2_floats), where nns_f32_conv2d_s2_fits. Every
 * variant writes the same floats. */
typedef void nns_f32_conv2d_s2_split_kernel(const nns_conv2d_geom *g, int c, const float *x, float *xs2);
typedef nns_f32_conv2d_s2_split_kernel *nns_f32_conv2d_s2_split_fn;
typedef nns_f32_conv2d_same_kernel nns_f32_conv2d_s2_kernel;
typedef nns_f32_conv2d_s2_kernel *nns_f32_conv2d_s2_fn;

/* ---- Winograd F(2x2, 3x3) ---------------------------------------------
 * A 3x3 stride-1 convolution computed on 2x2 output tiles: with the input
 * zero-padded so that tile (ty, tx) reads the 4x4 window at rows 2ty.., cols
 * 2tx.. of the padded plane, Y = A^T [U (.) V] A where V = B^T d B (input
 * transform), U = G g G^T (weight transform); the 16 products of a tile are
 * summed over input channels by 16 GEMMs at once. A transformed tile has
 * 16 values, index xi = i*4 + j, stored as two halves of 8 (xi 0-7 and
 * 8-15) in two planes h_stride floats apart, so that each GEMM pass reads
 * whole cache lines. Tiles are numbered t = ty*tx_count + tx; kernels work
 * on a tile range [t0, t1) and write tile t at (t - t0)*8 within a channel's
 * row of a plane. */

/* C[a][b] = (accumulate ? C[a][b] : 0) + sum_r A[a][r] (.) B[r][b], where
 * every element is an 8-float vector at A + a*a_sa + r*a_sr, B + r*b_sr +
 * b*b_sb, C + a*c_sa + b*c_sb (strides in floats). */
typedef void nns_f32_wgemm8_kernel(int na, int nb, int nr, const float *A, ptrdiff_t a_sa,
                                   ptrdiff_t a_sr, const float *B, ptrdiff_t b_sr, ptrdiff_t b_sb,
                                   float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate);
typedef nns_f32_wgemm8_kernel *nns_f32_wgemm8_fn;

/* Input transform of c padded planes (plane_stride floats apart, rows
 * row_stride apart) for tiles [t0, t1) -> v + ci*v_cstride + (t-t0)*8
 * (+ v_hstride for the second half). */
typedef void nns_f32_wino_input_kernel(const float *xp, int c, size_t plane_stride, int row_stride,
                                       int tx_count, int t0, int t1, float *v, size_t v_cstride,
                                       size_t v_hstride);
typedef nns_f32_wino_input_kernel *nns_f32_wino_input_fn;
/* Output transform of k channels (m + ki*m_kstride + (t-t0)*8, halves
 * m_hstride apart) into k planes oh x ow (y_plane floats apart), cropped:
 * y = (accumulate ? y : 0) + bias[ki] (bias may be NULL) + A^T m A. */
typedef void nns_f32_wino_output_kernel(const float *m, int k, size_t m_kstride, size_t m_hstride,
                                        int tx_count, int t0, int t1, const float *bias, float *y,
                                        size_t y_plane, int oh, int ow, int accumulate);
typedef nns_f32_wino_output_kernel *nns_f32_wino_output_fn;
/* Adjoint of the output transform: dm = A dy A^T from 2x2 tiles of k
 * planes dy (oh x ow, zero outside), laid out like the input transform's. */
typedef void nns_f32_wino_outgrad_kernel(const float *dy, int k, size_t dy_plane, int oh, int ow,
                                         int tx_count, int t0, int t1, float *dm,
                                         size_t dm_kstride, size_t dm_hstride);
typedef nns_f32_wino_outgrad_kernel *nns_f32_wino_outgrad_fn;
/* u (16 floats, xi order) = G g G^T of one 3x3 filter g (flip: rotate g
 * by 180 degrees); dg (9) += G^T du G. */
void nns_f32_wino2x2_3x3_weight__ref(const float *g, int flip, float *u);
void nns_f32_wino2x2_3x3_weight_grad__ref(const float *du, float *dg);

/* Copy c planes ih x iw into zero-padded planes ph x pw, the input at
 * offset (pt, pl) (either may be negative: a crop). */
typedef void nns_f32_pad2d_kernel(const float *x, int c, int ih, int iw, float *xp, int ph, int pw,
                                  int pt, int pl);
typedef nns_f32_pad2d_kernel *nns_f32_pad2d_fn;
/* The destination columns [*lo, *hi) of a padded row that hold input
 * (columns [*lo - pl, *hi - pl) of the input row), within [0, pw). */
static inline void nns_pad2d_cols(int iw, int pw, int pl, int *lo, int *hi) {
    *lo = pl < 0 ? 0 : pl;
    *hi = pl + iw < pw ? pl + iw : pw;
    if (*lo > pw) *lo = pw;
    if (*hi < *lo) *hi = *lo;
}

/* ---- 8-bit integer convolution and GEMM --------------------------------
 * Quantized activations are u8 (an s8 tensor is shifted by 128 first, its
 * zero point with it); weights are s8 with the weight zero point already
 * subtracted (it must leave every value in -128..127). Products accumulate
 * in int32: one u8 x s8 product is at most 32640 in magnitude, so 65,000
 * of them fit. */

/* Rows [l0, l1) of the im2col of u8 planes: row l = (ci*kh + i)*kw + j
 * holds x[ci][iy][ix] at oy*ow + ox, or pad (the input's zero point)
 * outside the plane; written at col + (l - l0)*ldc. */
typedef void nns_u8_im2col_kernel(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, int l0, int l1,
                                  uint8_t *col, size_t ldc);
typedef nns_u8_im2col_kernel *nns_u8_im2col_fn;
/* The GEMM's u8 operand in quads, the layout of VNNI's 4-byte dot
 * products: rows l of a [k][n] operand grouped by four, quad q holding
 * xq[q*ldq + 4*j + t] = x[4q + t][j] (zeros for rows >= k), so that the four
 * values of column j that one weight quad multiplies are adjacent. */
typedef void nns_u8_pack_quads_kernel(int k, int n, const uint8_t *x, size_t ldx, uint8_t *xq, size_t ldq);
typedef nns_u8_pack_quads_kernel *nns_u8_pack_quads_fn;
/* Bytes of one quad row for n columns, and quads for k rows. */
static inline size_t nns_quad_row_bytes(int n) { return (size_t)n * 4; }
static inline int nns_quads(int k) { return (k + 3) / 4; }
/* acc[i][j] = bias[i] + sum_l w[i*ldw + l] * x[l][j] for i < m, j < n,
 * l < 4*nns_quads(k), x given in quads (xq, quad rows ldq bytes apart), exact
 * in int32 (acc rows ldacc apart; bias may be NULL: 0). w's rows are
 * zero-padded to a multiple of 4 (ldw >= 4*nns_quads(k)). */
typedef void nns_qgemm_u8s8_kernel(int m, int n, int k, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,
                                   const int32_t *bias, int32_t *acc, size_t ldacc);
typedef nns_qgemm_u8s8_kernel *nns_qgemm_u8s8_fn;
/* Depthwise: one u8 plane x (ih x iw) convolved with one channel's taps w
 * (kh*kw s8, w - w_zp), acc[oy*ow + ox] = bias + sum w[i*kw+j] *
 * x[oy*sh - pt + i*dh][ox*sw - pl + j*dw], positions outside the plane
 * reading pad (the zero point). scratch: nns_u8_dwconv_scratch_bytes(g)
 * bytes (the padded plane). */
typedef void nns_u8_dwconv_kernel(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, const int8_t *w, int32_t bias,
                                  int32_t *acc, uint8_t *scratch);
typedef nns_u8_dwconv_kernel *nns_u8_dwconv_fn;
/* The padded plane: rows (oh-1)*sh + (kh-1)*dh + 1, row stride
 * nns_u8_dw_stride(g), plus 64 bytes that vector loads may read past it. */
static inline size_t nns_u8_dw_stride(const nns_conv2d_geom *g) {
    return (size_t)(g->ow - 1) * g->sw + (size_t)(g->kw - 1) * g->dw + 1;
}
static inline size_t nns_u8_dwconv_scratch_bytes(const nns_conv2d_geom *g) {
    return ((size_t)(g->oh - 1) * g->sh + (size_t)(g->kh - 1) * g->dh + 1) * nns_u8_dw_stride(g) + 64;
}
/* Fill the padded plane P of nns_u8_dwconv_scratch_bytes(g) bytes. */
void nns_u8_dw_pad(const nns_conv2d_geom *g, const uint8_t *x, uint8_t pad, uint8_t *P);

/* y[j] = saturate(round_half_even(acc[j] * mult) + zp) clamped to [qlo,
 * qhi] (within the type's range), for j < n: s8 when y_signed, else u8.
 * The rule of core/qmath.h's nns_q_requant, value for value. */
typedef void nns_q8_requant_kernel(int n, const int32_t *acc, float mult, int32_t zp, int32_t qlo, int32_t qhi,
                                   int y_signed, void *y);
typedef nns_q8_requant_kernel *nns_q8_requant_fn;
/* 16-bit rounding of float activations: y[j] = x[j] rounded to bfloat16
 * (bf16 != 0) or float16, to nearest even, and back to float, for j < n:
 * what a Cast to that type and a Cast back to float give (nnslim's dtype
 * conversions, src/core/tensor.c), bit for bit, but for a NaN's payload
 * (a NaN stays a NaN). float16 overflows to infinity at 65520 and keeps
 * its subnormals. y may be x. */
typedef void nns_f32_round16_kernel(int64_t n, const float *x, float *y, int bf16);
typedef nns_f32_round16_kernel *nns_f32_round16_fn;

/* y = sigmoid(x), or x * sigmoid(x) (SiLU) when silu: nns_sigmoidf
 * (fast_math.h) element by element, the same operations in the same order,
 * so every variant gives the reference's bits. y may be x. */
typedef void nns_f32_sigmoid_kernel(int64_t n, const float *x, float *y, int silu);
typedef nns_f32_sigmoid_kernel *nns_f32_sigmoid_fn;

/* ---- BatchNormalization's rows (training) -----------------------------
 * One row: n floats of one image's channel plane. act is one of
 * nns_fuse_act (op.h: 0 none, 1 Relu, 2 Clip to [lo, hi]), a fused
 * activation after the normalisation, z = x * za + zb.
 * f32_bn_stats: the row's mean (its float sum over n, in double) and the
 *   sum of squared deviations from it (float squares around the mean
 *   rounded to float, corrected for that rounding, at least 0).
 * f32_bn_apply: y = act(x * a + b); y may be x.
 * f32_bn_grad_sums: with g' = act'(z) * g (+ 0: what the activation's
 *   backward writes into zeros; g itself without an activation), the sums
 *   of g' and of g' * (x - mean).
 * f32_bn_grad_row: gx = (overwrite ? 0 : gx) + d with d = k * (g' - mdy -
 *   (x - mean) * inv * mdyx) when training, else k * g'.
 * Element-wise results are the reference's bits in every variant (the same
 * operations, none fused); sums differ by their order (src/kernels/bn_rows.h). */
typedef struct nns_bn_row {
    float mean, inv, za, zb, k, mdy, mdyx, lo, hi;
    int act, training, overwrite;
} nns_bn_row;
typedef void nns_f32_bn_stats_kernel(const float *x, int64_t n, double *mean, double *m2);
typedef nns_f32_bn_stats_kernel *nns_f32_bn_stats_fn;
typedef void nns_f32_bn_apply_kernel(const float *x, float *y, int64_t n, float a, float b, int act, float lo,
                                     float hi);
typedef nns_f32_bn_apply_kernel *nns_f32_bn_apply_fn;
typedef void nns_f32_bn_grad_sums_kernel(const float *g, const float *x, int64_t n, const nns_bn_row *r, float *sg,
                                         float *sgx);
typedef nns_f32_bn_grad_sums_kernel *nns_f32_bn_grad_sums_fn;
typedef void nns_f32_bn_grad_row_kernel(const float *x, const float *g, float *gx, int64_t n, const nns_bn_row *r);
typedef nns_f32_bn_grad_row_kernel *nns_f32_bn_grad_row_fn;

/* t[c*ldt + r] = s[r*lds + c] for r < rows, c < cols: s [rows][cols]
 * transposed (pure data movement: every variant gives the same bits).
 * Nothing outside those elements of t is written; s and t do not overlap. */
typedef void nns_f32_transpose_kernel(int rows, int cols, const float *s, size_t lds, float *t, size_t ldt);
typedef nns_f32_transpose_kernel *nns_f32_transpose_fn;
/* ---- float GEMM with the epilogue --------------------------------------
 * y[i*ldy + j] = act(bias[i] + sum_l w[i*ldw + l] * x[l*ldx + j]) for
 * i < m, j < n, l < k (bias may be NULL: 0), act one of nns_fuse_act
 * (op.h: 0 none, 1 Relu, 2 Clip to [lo, hi]) with Relu's and Clip's
 * results for NaN and -0. The products are summed in l order into the
 * bias, each rounded (variants fuse the multiply-add: float rounding only
 * differs). Nothing past column n is read or written. */
typedef void nns_f32_gemm_kernel(int m, int n, int k, const float *w, size_t ldw, const float *x, size_t ldx,
                                 const float *bias, float *y, size_t ldy, int act, float lo, float hi);
typedef nns_f32_gemm_kernel *nns_f32_gemm_fn;

/* ---- float16 weight-only GEMM -----------------------------------------
 * y[i*ldy + j] = bias[j] + sum_l x[i*ldx + l] * f16(w[j*ldw + l]) for
 * i < m, j < n, l < k (bias may be NULL: 0): the weight held as IEEE
 * float16 and converted as it is read (F16C), the products summed in float
 * (the order may differ from the reference's: float rounding only). */
typedef void nns_f16_gemm_kernel(int m, int n, int k, const float *x, size_t ldx, const uint16_t *w, size_t ldw,
                                 const float *bias, float *y, size_t ldy);
typedef nns_f16_gemm_kernel *nns_f16_gemm_fn;

/* ---- 4-bit weight-only GEMM (float activations) ----------------------
 * Weights held as 4-bit two's complement codes in chunks of 32: row j of
 * the weight, k codes, takes nns_s4_row_bytes(k) bytes; byte b of chunk c
 * holds code 32c + b in its low nibble and code 32c + 16 + b in its high one
 * (zeros past k), so that one 16-byte load gives two runs of 16 consecutive
 * codes. Scales per group of bs consecutive codes of a row (the last group
 * may be shorter), scale[j*ng + g] with ng = ceil(k / bs).
 * y[i*ldy + j] = bias[j] + sum_g scale[j*ng + g] * sum_{l in group g}
 * x[i*ldx + l] * code_j(l) for i < m, j < n (bias may be NULL: 0); each
 * group's sum in float, then scaled and added (the order may differ from
 * the reference's: float rounding only). */
static inline size_t nns_s4_row_bytes(int k) { return (size_t)(k + 31) / 32 * 16; }
typedef void nns_s4_gemm_kernel(int m, int n, int k, const float *x, size_t ldx, const uint8_t *w, size_t ldw,
                                const float *scale, int bs, const float *bias, float *y, size_t ldy);
typedef nns_s4_gemm_kernel *nns_s4_gemm_fn;
/* codes [n][k] (one per byte, -8..7, rows ldc apart) into that layout,
 * rows ldw >= nns_s4_row_bytes(k) bytes apart (zero past k). */
void nns_s4_pack_rows(int n, int k, const int8_t *codes, size_t ldc, uint8_t *w, size_t ldw);
/* Code l of a row in that layout. */
static inline int nns_s4_code(const uint8_t *row, int l) {
    const uint8_t b = row[(size_t)(l / 32) * 16 + (size_t)(l % 16)];
    const int v = (l % 32) < 16 ? (b & 15) : (b >> 4);
    return v >= 8 ? v - 16 : v;
}

/* ---- bfloat16 GEMM (layers whose weights and input are bf16 values) ----
 * The x operand in pairs, the layout of vdpbf16ps's 2-wide dot products:
 * rows l of a float [k][n] operand rounded to bfloat16 (to nearest even, a
 * NaN kept a quiet NaN: the dtype table's rule) and grouped by two, pair p
 * holding xp[p*ldp + 2*j + t] = bf16(x[2p + t][j]) (zero for rows >= k), so
 * that the two values of column j one weight pair multiplies are adjacent. */
typedef void nns_bf16_pack_pairs_kernel(int k, int n, const float *x, size_t ldx, uint16_t *xp, size_t ldp);
typedef nns_bf16_pack_pairs_kernel *nns_bf16_pack_pairs_fn;
static inline int nns_bf16_pairs(int k) { return (k + 1) / 2; }
/* acc[i][j] = bias[i] + sum_l w[i*ldw + l] * x[l][j] for i < m, j < n,
 * l < 2*nns_bf16_pairs(k): w bf16 rows (zero-padded to an even length,
 * ldw >= 2*pairs), x in pairs (xp, pair rows ldp elements apart), each
 * product exact in float (8-bit by 8-bit significands), the sums in float
 * (rounded: the order, and on AVX-512 BF16 subnormals flushed to zero, may
 * differ from the reference's). acc rows ldacc floats apart; bias may be
 * NULL (0). */
typedef void nns_bf16_gemm_kernel(int m, int n, int k, const uint16_t *w, size_t ldw, const uint16_t *xp, size_t ldp,
                                  const float *bias, float *acc, size_t ldacc);
typedef nns_bf16_gemm_kernel *nns_bf16_gemm_fn;
/* The sum of two quantized tensors, quantized: for j < n,
 * y[j] = clamp(round_half_even((a[j] - az) * ma + (b[j] - bz) * mb) + yz,
 * lo, hi), the products and the sum each rounded to float (no fused
 * multiply-add), the clamp in float before the conversion; a, b, y are s8
 * where their flag (bit 0 a, bit 1 b, bit 2 y of sgn) is set, else u8. */
typedef void nns_q8_add_kernel(int n, const void *a, int32_t az, float ma, const void *b, int32_t bz, float mb, int32_t yz,
                               int32_t lo, int32_t hi, int sgn, void *y);
typedef nns_q8_add_kernel *nns_q8_add_fn;
/* Matrix times vector: acc[i] = bias[i] + sum_l w[i*ldw + l] * x[l] for
 * i < m, l < k, exact in int32 (bias may be NULL: 0); x u8, w s8. x and
 * w's rows may be read up to l < nns_qgemv_pad(k), where both must hold
 * zeros. */
typedef void nns_qgemv_u8s8_kernel(int m, int k, const int8_t *w, size_t ldw, const uint8_t *x, const int32_t *bias,
                                   int32_t *acc);
typedef nns_qgemv_u8s8_kernel *nns_qgemv_u8s8_fn;
static inline int nns_qgemv_pad(int k) { return (k + 63) / 64 * 64; }

/* ---- pooling over one plane ------------------------------------------ */

/* Max pooling: y[o] = max over the window's in-bounds inputs; idx[o] = the
 * plane offset (iy*iw + ix) of the first maximum, -1 (and y = 0) if the
 * window holds no input. idx may be NULL. */
typedef void nns_f32_maxpool2d_kernel(const nns_conv2d_geom *g, const float *x,
                                      float *y, int32_t *idx);
typedef nns_f32_maxpool2d_kernel *nns_f32_maxpool2d_fn;
/* Table entry f32_maxpool2d_2x2s2: the same for a 2x2 window, stride 2, no
 * padding, no dilation, with 2*oh <= ih and 2*ow <= iw (only where
 * nns_f32_maxpool2d_2x2s2_fits). */
static inline int nns_f32_maxpool2d_2x2s2_fits(const nns_conv2d_geom *g) {
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 &&
           g->pt == 0 && g->pl == 0 && 2 * g->oh <= g->ih && 2 * g->ow <= g->iw;
}
/* Table entry f32_maxpool2d_stack: max pooling without indices of `planes`
 * planes at once (x: planes ih*iw floats apart, y: oh*ow apart), bit for bit
 * nns_f32_maxpool2d__ref's, only where nns_f32_maxpool2d_stack_fits: stride
 * 1 or 2 (the same both ways, and no more than the window), no dilation,
 * rows of fewer than 16 outputs, every window holding an input, and a plane
 * padded to nns_maxpool_stack_rows x nns_maxpool_stack_ld floats of at most
 * NNS_MAXPOOL_STACK_PLANE (the small planes of GoogLeNet's pools, where one
 * plane at a time left most of a vector empty). */
#define NNS_MAXPOOL_STACK_PLANE 2048
typedef void nns_f32_maxpool2d_stack_kernel(const nns_conv2d_geom *g, int64_t planes, const float *x, float *y);
typedef nns_f32_maxpool2d_stack_kernel *nns_f32_maxpool2d_stack_fn;
static inline int64_t nns_maxpool_stack_rows(const nns_conv2d_geom *g) {
    return (int64_t)g->sh * (g->oh - 1) + g->kh;
}
/* The padded row: the windows' columns, rounded up to a multiple of the
 * stride (so that a plane is too). */
static inline int64_t nns_maxpool_stack_ld(const nns_conv2d_geom *g) {
    const int64_t w = (int64_t)g->sw * (g->ow - 1) + g->kw;
    return (w + g->sw - 1) / g->sw * g->sw;
}
static inline int nns_f32_maxpool2d_stack_fits(const nns_conv2d_geom *g) {
    return (g->sw == 1 || g->sw == 2) && g->sh == g->sw && g->dh == 1 && g->dw == 1 && g->oh >= 1 && g->ow >= 1 &&
           g->ow < 16 && g->kh >= g->sh && g->kw >= g->sw && g->kh <= 64 && g->kw <= 64 && g->pt >= 0 &&
           g->pl >= 0 && g->pt <= g->kh - 1 && g->pl <= g->kw - 1 && g->oh <= 4096 &&
           (int64_t)g->sh * (g->oh - 1) - g->pt <= g->ih - 1 && (int64_t)g->sw * (g->ow - 1) - g->pl <= g->iw - 1 &&
           nns_maxpool_stack_rows(g) * nns_maxpool_stack_ld(g) <= NNS_MAXPOOL_STACK_PLANE;
}
/* Table entry f32_maxpool2d_rows: the same contract as f32_maxpool2d_stack
 * (several planes, no indices, bit for bit the reference) where
 * nns_f32_maxpool2d_rows_fits: strides 1 or 2 (each way on its own), no
 * dilation, every window holding an input, kh rows of the output width
 * rounded up to 16 within NNS_MAXPOOL_ROWS_BUF floats and the row's
 * 16-column pieces times kw within NNS_MAXPOOL_ROWS_TAPS. Planes of any
 * height (the AVX-512 kernel reduces each input row once into a buffer of
 * NNS_MAXPOOL_ROWS_BUF floats, taller planes in bands). */
#define NNS_MAXPOOL_ROWS_BUF 8192
#define NNS_MAXPOOL_ROWS_TAPS 1024 /* 16-column pieces of a row times kw */
static inline int nns_f32_maxpool2d_rows_fits(const nns_conv2d_geom *g) {
    return (g->sw == 1 || g->sw == 2) && (g->sh == 1 || g->sh == 2) && g->dh == 1 && g->dw == 1 && g->ih >= 1 &&
           g->iw >= 1 && g->oh >= 1 && g->ow >= 1 && g->kh >= 1 && g->kw >= 1 && g->kh <= 64 && g->kw <= 64 &&
           g->pt >= 0 && g->pl >= 0 && g->pt <= g->kh - 1 && g->pl <= g->kw - 1 &&
           (int64_t)g->sh * (g->oh - 1) - g->pt <= g->ih - 1 && (int64_t)g->sw * (g->ow - 1) - g->pl <= g->iw - 1 &&
           (int64_t)g->kh * (((int64_t)g->ow + 15) / 16 * 16) <= NNS_MAXPOOL_ROWS_BUF &&
           ((int64_t)g->ow + 15) / 16 * g->kw <= NNS_MAXPOOL_ROWS_TAPS;
}
/* Max pooling of a quantized plane: x and y are u8, or s8 when sgn (all of
 * a window's values share one scale and zero point, so the maximum is taken
 * on the stored values); a window without inputs gives the lowest value. */
typedef void nns_q8_maxpool2d_kernel(const nns_conv2d_geom *g, const uint8_t *x, uint8_t *y, int sgn);
typedef nns_q8_maxpool2d_kernel *nns_q8_maxpool2d_fn;
/* Table entry q8_maxpool2d_2x2s2: the same where nns_f32_maxpool2d_2x2s2_fits. */
/* Max pooling backward from saved indices: dx[idx[o]] += dy[o]. */
void nns_f32_maxpool2d_bwd__ref(const nns_conv2d_geom *g, const float *dy,
                                const int32_t *idx, float *dx);

/* Average pooling. count_include_pad: divide by the window size clipped to
 * the padded extent (ih + pt + pad_bottom, where pad_bottom = pb), else by
 * the number of in-bounds inputs. pb/pr: bottom/right explicit padding. */
void nns_f32_avgpool2d__ref(const nns_conv2d_geom *g, int pb, int pr,
                            int count_include_pad, const float *x, float *y);
/* dx += the adjoint of the above applied to dy. */
void nns_f32_avgpool2d_bwd__ref(const nns_conv2d_geom *g, int pb, int pr,
                                int count_include_pad, const float *dy, float *dx);

/* ---- sparse (CSR) times dense ------------------------------------------
 * For output rows n in [n0, n1) of a CSR matrix W (row n holds the entries
 * row_ptr[n] .. row_ptr[n+1]-1: column col[j], value val[j]) and columns
 * i in [0, mb) of a dense x (row k at x + k*ldx, mb contiguous floats):
 *   y[n*ys_n + i*ys_m] = (accumulate ? y[...] : 0)
 *                        + alpha * sum_j val[j] * x[col[j]*ldx + i].
 * Used by Gemm's inference forward with a pruned weight (y = Y^T view). */
typedef void nns_f32_spmm_csr_kernel(int n0, int n1, int mb, const int32_t *row_ptr,
                                     const int32_t *col, const float *val, const float *x,
                                     ptrdiff_t ldx, float alpha, float *y, ptrdiff_t ys_n,
                                     ptrdiff_t ys_m, int accumulate);
typedef nns_f32_spmm_csr_kernel *nns_f32_spmm_csr_fn;

/* ---- the dispatch table ----------------------------------------------- */

/* Prototypes of every listed kernel, and a type name per family. */
#define NNS_KERNEL(family, type, ref) typedef type nns_kernel_type_##family; type ref;
#define NNS_VARIANT(family, suffix, symbol) nns_kernel_type_##family symbol;
#include "kernels/kernel_list.h"

/* One table per level (and the process default): a pointer per family, the
 * best variant the table's features allow, else the reference. A plan keeps
 * the table it was created with (nns_exec_node.kern). */
typedef struct nns_kernels {
    nns_isa isa;        /* level this table was filled for */
    uint32_t features;  /* NNS_CPU_* bits its kernels may use (<= the CPU's) */
#define NNS_KERNEL(family, type, ref) type *family;
#include "kernels/kernel_list.h"
} nns_kernels;

/* The process default: every feature the CPU has, lowered by NNS_ISA=<level>
 * (never above the CPU: a level the CPU lacks is clamped as by
 * nns_kernels_for_isa; an unknown name is ignored, see nns_isa_check_env).
 * Filled on first use; thread-safe. For code with no plan; ops use the
 * plan's table. */
const nns_kernels *nns_kernels_get(void);
/* The table of a level, static storage (tests, benchmarks, plans built at a
 * chosen level). A level the CPU lacks is clamped to the highest level it has
 * whose features are a subset of the requested one's (avx512vnni on an
 * AVX2-only CPU gives avx2). */
const nns_kernels *nns_kernels_for_isa(nns_isa isa);
/* Highest level the CPU has (the one with the most features; ignores NNS_ISA). */
nns_isa nns_isa_detect(void);
/* 1 if the CPU has every feature of the level. */
int nns_isa_supported(nns_isa isa);
/* Features a level allows (NNS_CPU_* bits). */
uint32_t nns_isa_features(nns_isa isa);
/* "scalar", "avx2", ... ("?" out of range). */
const char *nns_isa_name(nns_isa isa);
/* Level by name (case-insensitive); 0 if unknown. */
int nns_isa_from_name(const char *name, nns_isa *out);
/* The CPU's features (NNS_CPU_* bits): cpuid, with the OS's XSAVE support
 * of the YMM / ZMM state (xgetbv) checked. Cached; thread-safe. */
uint32_t nns_cpu_features(void);
/* Name of feature bit b (0 <= b < NNS_CPU_FEATURE_COUNT): "avx2", ... */
const char *nns_cpu_feature_name(int b);
/* Features a kernel-file suffix is compiled with and requires (isa.def); 0
 * for an unknown suffix. */
uint32_t nns_suffix_features(const char *suffix);

#endif
