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
 * Names: nns_<dtype>_<operation>[_<tile>]__<isa>, one file per symbol, named
 * after it: src/kernels/ref/ (portable C, the oracle and fallback, kept
 * forever) and src/kernels/x86/ (files whose name contains "avx2" are built
 * with -mavx2 -mfma, "avx512" with AVX-512 flags; see CMakeLists.txt).
 *
 * Dispatch: nns_kernels_get() returns a table filled once from CPU feature
 * detection (__builtin_cpu_supports). The environment variable
 * NNS_ISA=scalar|avx2|avx512 forces a lower level (never a higher one than
 * the CPU has). Tests call nns_kernels_for_isa() to get the table of each
 * available level and compare every SIMD kernel with its reference.
 *
 * Layouts: image planes are row-major [h][w] floats, contiguous; NCHW tensors
 * are N*C such planes back to back.
 */
#ifndef NNS_KERNELS_H
#define NNS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ISA levels, lowest first. Enums only grow at the end. */
typedef enum nns_isa {
    NNS_ISA_SCALAR = 0,
    NNS_ISA_AVX2 = 1,   /* AVX2 + FMA */
    NNS_ISA_AVX512 = 2, /* AVX-512 F/BW/DQ/VL */
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
    int prr;       /* rows per phase plane: oh + maxro + 1 */
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
    L->prr = g->oh + L->maxro + 1;
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
typedef void (*nns_f32_im2col_fn)(const nns_conv2d_geom *g, int c, const float *x, float *col,
                                  size_t ldc);
void nns_f32_im2col__ref(const nns_conv2d_geom *g, int c, const float *x, float *col, size_t ldc);
void nns_f32_im2col__avx2(const nns_conv2d_geom *g, int c, const float *x, float *col, size_t ldc);
/* The adjoint: x[...] += col[...] (padding positions dropped). */
typedef void (*nns_f32_col2im_fn)(const nns_conv2d_geom *g, int c, const float *col, size_t ldc,
                                  float *x);
void nns_f32_col2im__ref(const nns_conv2d_geom *g, int c, const float *col, size_t ldc, float *x);
void nns_f32_col2im__avx2(const nns_conv2d_geom *g, int c, const float *col, size_t ldc, float *x);

/* ---- depthwise 2-D convolution (one filter per channel) --------------- */

/* Forward over n images x nc channels: y[oy][ox] = bias[c] + sum_ij
 * w[c][i*kw+j] * x[...]. Image b, channel c: x + b*x_stride + c*ih*iw,
 * y + b*y_stride + c*oh*ow (planes of one image contiguous, so memory is
 * walked in order). w: nc*kh*kw; bias: nc values or NULL. scratch:
 * nns_f32_dwconv2d_scratch_floats(g) floats, 32-byte aligned. */
typedef void (*nns_f32_dwconv2d_fn)(const nns_conv2d_geom *g, int n, int nc, const float *x,
                                    size_t x_stride, const float *w, const float *bias, float *y,
                                    size_t y_stride, float *scratch);
/* Backward over the same planes: dx (NULL, or laid out like x, dx_stride)
 * += the data gradient; dw (NULL or nc*kh*kw) and db (NULL or nc) += the
 * weight and bias gradients, summed over images in order (deterministic). */
typedef void (*nns_f32_dwconv2d_bwd_fn)(const nns_conv2d_geom *g, int n, int nc, const float *x,
                                        size_t x_stride, const float *dy, size_t dy_stride,
                                        const float *w, float *dx, size_t dx_stride, float *dw,
                                        float *db, float *scratch);
size_t nns_f32_dwconv2d_scratch_floats(const nns_conv2d_geom *g);
/* A convolution with ONE input channel (group 1) and m filters: image b's
 * plane x + b*x_stride gives y + b*y_stride + c*oh*ow = bias[c] + the plane
 * convolved with w + c*kh*kw, for c < m (a network's first layer on
 * grey-scale images). Same scratch as the depthwise kernels; the input is
 * packed once per image for all m filters. */
typedef void (*nns_f32_conv2d_1ch_fn)(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                      const float *w, const float *bias, float *y, size_t y_stride,
                                      float *scratch);
void nns_f32_conv2d_1ch__ref(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                             const float *w, const float *bias, float *y, size_t y_stride, float *scratch);
void nns_f32_conv2d_1ch__avx2(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                              const float *w, const float *bias, float *y, size_t y_stride, float *scratch);

void nns_f32_dwconv2d__ref(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                           const float *w, const float *bias, float *y, size_t y_stride, float *scratch);
void nns_f32_dwconv2d_bwd__ref(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                               const float *dy, size_t dy_stride, const float *w, float *dx,
                               size_t dx_stride, float *dw, float *db, float *scratch);
void nns_f32_dwconv2d__avx2(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                            const float *w, const float *bias, float *y, size_t y_stride, float *scratch);
void nns_f32_dwconv2d_bwd__avx2(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                                const float *dy, size_t dy_stride, const float *w, float *dx,
                                size_t dx_stride, float *dw, float *db, float *scratch);

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
typedef void (*nns_f32_wgemm8_fn)(int na, int nb, int nr, const float *A, ptrdiff_t a_sa,
                                  ptrdiff_t a_sr, const float *B, ptrdiff_t b_sr, ptrdiff_t b_sb,
                                  float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate);
void nns_f32_wgemm8__ref(int na, int nb, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr,
                         const float *B, ptrdiff_t b_sr, ptrdiff_t b_sb, float *C, ptrdiff_t c_sa,
                         ptrdiff_t c_sb, int accumulate);
void nns_f32_wgemm8_3x4__avx2(int na, int nb, int nr, const float *A, ptrdiff_t a_sa,
                              ptrdiff_t a_sr, const float *B, ptrdiff_t b_sr, ptrdiff_t b_sb,
                              float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate);

/* Input transform of c padded planes (plane_stride floats apart, rows
 * row_stride apart) for tiles [t0, t1) -> v + ci*v_cstride + (t-t0)*8
 * (+ v_hstride for the second half). */
typedef void (*nns_f32_wino_input_fn)(const float *xp, int c, size_t plane_stride, int row_stride,
                                      int tx_count, int t0, int t1, float *v, size_t v_cstride,
                                      size_t v_hstride);
void nns_f32_wino2x2_3x3_input__ref(const float *xp, int c, size_t plane_stride, int row_stride,
                                    int tx_count, int t0, int t1, float *v, size_t v_cstride,
                                    size_t v_hstride);
void nns_f32_wino2x2_3x3_input__avx2(const float *xp, int c, size_t plane_stride, int row_stride,
                                     int tx_count, int t0, int t1, float *v, size_t v_cstride,
                                     size_t v_hstride);
/* Output transform of k channels (m + ki*m_kstride + (t-t0)*8, halves
 * m_hstride apart) into k planes oh x ow (y_plane floats apart), cropped:
 * y = (accumulate ? y : 0) + bias[ki] (bias may be NULL) + A^T m A. */
typedef void (*nns_f32_wino_output_fn)(const float *m, int k, size_t m_kstride, size_t m_hstride,
                                       int tx_count, int t0, int t1, const float *bias, float *y,
                                       size_t y_plane, int oh, int ow, int accumulate);
void nns_f32_wino2x2_3x3_output__ref(const float *m, int k, size_t m_kstride, size_t m_hstride,
                                     int tx_count, int t0, int t1, const float *bias, float *y,
                                     size_t y_plane, int oh, int ow, int accumulate);
void nns_f32_wino2x2_3x3_output__avx2(const float *m, int k, size_t m_kstride, size_t m_hstride,
                                      int tx_count, int t0, int t1, const float *bias, float *y,
                                      size_t y_plane, int oh, int ow, int accumulate);
/* Adjoint of the output transform: dm = A dy A^T from 2x2 tiles of k
 * planes dy (oh x ow, zero outside), laid out like the input transform's. */
typedef void (*nns_f32_wino_outgrad_fn)(const float *dy, int k, size_t dy_plane, int oh, int ow,
                                        int tx_count, int t0, int t1, float *dm,
                                        size_t dm_kstride, size_t dm_hstride);
void nns_f32_wino2x2_3x3_outgrad__ref(const float *dy, int k, size_t dy_plane, int oh, int ow,
                                      int tx_count, int t0, int t1, float *dm, size_t dm_kstride,
                                      size_t dm_hstride);
void nns_f32_wino2x2_3x3_outgrad__avx2(const float *dy, int k, size_t dy_plane, int oh, int ow,
                                       int tx_count, int t0, int t1, float *dm,
                                       size_t dm_kstride, size_t dm_hstride);
/* u (16 floats, xi order) = G g G^T of one 3x3 filter g (flip: rotate g
 * by 180 degrees); dg (9) += G^T du G. */
void nns_f32_wino2x2_3x3_weight__ref(const float *g, int flip, float *u);
void nns_f32_wino2x2_3x3_weight_grad__ref(const float *du, float *dg);

/* Copy c planes ih x iw into zero-padded planes ph x pw, the input at
 * offset (pt, pl) (either may be negative: a crop). */
typedef void (*nns_f32_pad2d_fn)(const float *x, int c, int ih, int iw, float *xp, int ph, int pw,
                                 int pt, int pl);
void nns_f32_pad2d__ref(const float *x, int c, int ih, int iw, float *xp, int ph, int pw, int pt,
                        int pl);
void nns_f32_pad2d__avx2(const float *x, int c, int ih, int iw, float *xp, int ph, int pw, int pt,
                         int pl);

/* ---- pooling over one plane ------------------------------------------ */

/* Max pooling: y[o] = max over the window's in-bounds inputs; idx[o] = the
 * plane offset (iy*iw + ix) of the first maximum, -1 (and y = 0) if the
 * window holds no input. idx may be NULL. */
typedef void (*nns_f32_maxpool2d_fn)(const nns_conv2d_geom *g, const float *x,
                                     float *y, int32_t *idx);
void nns_f32_maxpool2d__ref(const nns_conv2d_geom *g, const float *x, float *y,
                            int32_t *idx);
/* The same for a 2x2 window, stride 2, no padding, no dilation, with
 * 2*oh <= ih and 2*ow <= iw (nns_f32_maxpool2d_2x2s2_fits). */
void nns_f32_maxpool2d_2x2s2__avx2(const nns_conv2d_geom *g, const float *x, float *y,
                                   int32_t *idx);
static inline int nns_f32_maxpool2d_2x2s2_fits(const nns_conv2d_geom *g) {
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 &&
           g->pt == 0 && g->pl == 0 && 2 * g->oh <= g->ih && 2 * g->ow <= g->iw;
}
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
typedef void (*nns_f32_spmm_csr_fn)(int n0, int n1, int mb, const int32_t *row_ptr,
                                    const int32_t *col, const float *val, const float *x,
                                    ptrdiff_t ldx, float alpha, float *y, ptrdiff_t ys_n,
                                    ptrdiff_t ys_m, int accumulate);
void nns_f32_spmm_csr__ref(int n0, int n1, int mb, const int32_t *row_ptr, const int32_t *col,
                           const float *val, const float *x, ptrdiff_t ldx, float alpha, float *y,
                           ptrdiff_t ys_n, ptrdiff_t ys_m, int accumulate);
void nns_f32_spmm_csr__avx2(int n0, int n1, int mb, const int32_t *row_ptr, const int32_t *col,
                            const float *val, const float *x, ptrdiff_t ldx, float alpha, float *y,
                            ptrdiff_t ys_n, ptrdiff_t ys_m, int accumulate);

/* ---- the dispatch table ----------------------------------------------- */

typedef struct nns_kernels {
    nns_isa isa;                       /* level this table was filled for */
    nns_f32_dwconv2d_fn f32_dwconv2d;
    nns_f32_dwconv2d_bwd_fn f32_dwconv2d_bwd;
    nns_f32_conv2d_1ch_fn f32_conv2d_1ch;
    nns_f32_maxpool2d_fn f32_maxpool2d;
    nns_f32_maxpool2d_fn f32_maxpool2d_2x2s2; /* only where ..._2x2s2_fits */
    nns_f32_im2col_fn f32_im2col;
    nns_f32_col2im_fn f32_col2im;
    nns_f32_pad2d_fn f32_pad2d;
    nns_f32_wgemm8_fn f32_wgemm8;
    nns_f32_wino_input_fn f32_wino2x2_3x3_input;
    nns_f32_wino_output_fn f32_wino2x2_3x3_output;
    nns_f32_wino_outgrad_fn f32_wino2x2_3x3_outgrad;
    nns_f32_spmm_csr_fn f32_spmm_csr;
} nns_kernels;

/* The table for this machine (and NNS_ISA), filled on first use. Thread-safe. */
const nns_kernels *nns_kernels_get(void);
/* Highest level the CPU supports (ignores NNS_ISA). */
nns_isa nns_isa_detect(void);
/* The table for a given level (clamped to what the CPU supports); static
 * storage, for tests and benchmarks. */
const nns_kernels *nns_kernels_for_isa(nns_isa isa);
/* "scalar", "avx2", "avx512". */
const char *nns_isa_name(nns_isa isa);

#endif
