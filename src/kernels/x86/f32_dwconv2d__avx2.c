/* f32_dwconv2d__avx2.c — depthwise 2-D convolution of n images x nc
 * channels (walked in memory order), and the convolution of one input
 * channel by m filters (nns_f32_conv2d_1ch), AVX2+FMA. Any kernel size (up to NNS_DWCONV2D_MAX_TAPS taps),
 * stride, dilation and padding, through the phase-plane layout of
 * dwconv2d_layout.h: a plane becomes a 1-D convolution over flattened
 * outputs, 32 per step; planes of at most 16 outputs go 8 channels at a
 * time instead (dw_small). */
#include "kernels/dwconv2d_layout.h"
#include "kernels/x86/avx2_util.h"
#include "kernels/window_util.h"
#include "kernels/x86/dw3x3s2.h"

/* Store the 8 flattened outputs at (oy, ox) (those past ow dropped) and
 * advance (oy, ox) by 8. A partial vector is stored whole when its spill
 * stays inside the plane: outputs written later overwrite it. */
static inline void store_out(const nns_conv2d_geom *g, int pw, size_t plane, int *oy, int *ox, __m256 v,
                             float *y) {
    if (*ox < g->ow) {
        const size_t at = (size_t)*oy * g->ow + *ox;
        if (*ox + 8 <= g->ow || at + 8 <= plane) _mm256_storeu_ps(y + at, v);
        else nns_avx2_store_first(y + at, v, g->ow - *ox);
    }
    *ox += 8;
    if (*ox == pw) {
        *ox = 0;
        (*oy)++;
    }
}

/* One output plane from a packed input plane P and one filter wc. */
static inline void dw_plane(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L, const size_t *off, int taps,
                            const float *P, const float *wc, float bias, float *yb) {
    const int npos = g->oh * L->pw;
    const size_t oplane = (size_t)g->oh * g->ow;
    const __m256 vb = _mm256_set1_ps(bias);
    int q = 0, oy = 0, ox = 0;
    for (; q + 32 <= npos; q += 32) {
        __m256 a0 = vb, a1 = vb, a2 = vb, a3 = vb;
        for (int t = 0; t < taps; t++) {
            const __m256 wv = _mm256_broadcast_ss(&wc[t]);
            const float *s = P + off[t] + q;
            a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s), a0);
            a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 8), a1);
            a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 16), a2);
            a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 24), a3);
        }
        store_out(g, L->pw, oplane, &oy, &ox, a0, yb);
        store_out(g, L->pw, oplane, &oy, &ox, a1, yb);
        store_out(g, L->pw, oplane, &oy, &ox, a2, yb);
        store_out(g, L->pw, oplane, &oy, &ox, a3, yb);
    }
    for (; q < npos; q += 8) {
        __m256 a0 = vb;
        for (int t = 0; t < taps; t++)
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(&wc[t]), _mm256_loadu_ps(P + off[t] + q), a0);
        store_out(g, L->pw, oplane, &oy, &ox, a0, yb);
    }
}

static void dw_offsets(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L, size_t *off) {
    for (int i = 0, t = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++, t++) {
            int inplane, phase;
            nns_dwconv2d_tap(g, L, i, j, &off[t], &inplane, &phase);
        }
}

/* ---- 3x3, stride 2, dilation 1: see dw3x3s2.h ---- */

static void dw3x3s2_plane(const nns_conv2d_geom *g, const dw_s2_chunk *ck, int nch, const float *x,
                          const float *wc, float bias, float *y) {
    const size_t oplane = (size_t)g->oh * g->ow;
    __m256 wv[9];
    for (int t = 0; t < 9; t++) wv[t] = _mm256_broadcast_ss(&wc[t]);
    const __m256 vb = _mm256_set1_ps(bias);
    for (int oy = 0; oy < g->oh; oy++) {
        for (int q = 0; q < nch; q++) {
            const dw_s2_chunk *c = &ck[q];
            __m256 acc = vb;
            for (int kh = 0; kh < 3; kh++) {
                const int iy = 2 * oy - g->pt + kh;
                if (iy < 0 || iy >= g->ih) continue;
                __m256 ev, od, e2;
                dw_s2_load(c, x + (ptrdiff_t)iy * g->iw, &ev, &od, &e2);
                acc = _mm256_fmadd_ps(wv[kh * 3], ev, acc);
                acc = _mm256_fmadd_ps(wv[kh * 3 + 1], od, acc);
                acc = _mm256_fmadd_ps(wv[kh * 3 + 2], e2, acc);
            }
            const int ox0 = 8 * q, nv = g->ow - ox0 < 8 ? g->ow - ox0 : 8;
            const size_t at = (size_t)oy * g->ow + ox0;
            /* a partial vector's spill lands on the next row, written later */
            if (nv == 8 || at + 8 <= oplane) _mm256_storeu_ps(y + at, acc);
            else nns_avx2_store_first(y + at, acc, nv);
        }
    }
}

/* ---- small planes: 8 channels at a time ----
 * With at most DW_SMALL_PIXELS outputs a plane, per-plane work (packing,
 * partial vectors) costs more than the arithmetic; instead each output pixel
 * of 8 channels is one vector: the taps inside the plane (a list made once
 * per call), the inputs gathered across the 8 planes, the filters across
 * their rows. Sums start from the bias and add the taps in the reference's
 * order (rows, then columns). */
#define DW_SMALL_PIXELS 16
#define DW_SMALL_TAPS 25

static int dw_small_fits(const nns_conv2d_geom *g, int nc) {
    return nc >= 8 && (size_t)g->oh * g->ow <= DW_SMALL_PIXELS && g->kh * g->kw <= DW_SMALL_TAPS &&
           (size_t)g->ih * g->iw * 8 <= (size_t)INT32_MAX / 8;
}

static void dw_small_block(const nns_conv2d_geom *g, const int *tap_n, const int (*tap)[DW_SMALL_TAPS][2],
                           const float *x, const float *w, const float *bias, float *y) {
    const int taps = g->kh * g->kw, ihw = g->ih * g->iw, ohw = g->oh * g->ow;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i xi = _mm256_mullo_epi32(lane, _mm256_set1_epi32(ihw)), wi = _mm256_mullo_epi32(lane, _mm256_set1_epi32(taps));
    __m256 wv[DW_SMALL_TAPS];
    for (int t = 0; t < taps; t++) wv[t] = _mm256_i32gather_ps(w + t, wi, 4);
    const __m256 b = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    float out[8];
    for (int q = 0; q < ohw; q++) {
        __m256 acc = b;
        for (int k = 0; k < tap_n[q]; k++)
            acc = _mm256_fmadd_ps(wv[tap[q][k][0]], _mm256_i32gather_ps(x + tap[q][k][1], xi, 4), acc);
        _mm256_storeu_ps(out, acc);
        for (int l = 0; l < 8; l++) y[(size_t)l * ohw + q] = out[l];
    }
}

static void dw_small(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride, const float *w,
                     const float *bias, float *y, size_t y_stride) {
    int tap_n[DW_SMALL_PIXELS], tap[DW_SMALL_PIXELS][DW_SMALL_TAPS][2];
    nns_window_taps(g, DW_SMALL_TAPS, tap_n, &tap[0][0][0]);
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow, taps = (size_t)g->kh * g->kw;
    for (int b = 0; b < n; b++)
        for (int c = 0; c + 8 <= nc; c += 8)
            dw_small_block(g, tap_n, (const int(*)[DW_SMALL_TAPS][2])tap, x + (size_t)b * x_stride + c * ihw,
                           w + (size_t)c * taps, bias ? bias + c : NULL, y + (size_t)b * y_stride + c * ohw);
}

void nns_f32_dwconv2d__avx2(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                            const float *w, const float *bias, float *y, size_t y_stride, float *scratch) {
    const int taps = g->kh * g->kw;
    if (dw_small_fits(g, nc)) { /* blocks of 8 channels; the rest below */
        const int done = nc / 8 * 8;
        dw_small(g, n, done, x, x_stride, w, bias, y, y_stride);
        if (done == nc) return;
        const size_t ihw = (size_t)g->ih * g->iw, oplane = (size_t)g->oh * g->ow;
        x += done * ihw, y += done * oplane, w += (size_t)done * taps, bias = bias ? bias + done : NULL;
        nc -= done;
    }
    if (nns_dw_is_3x3s2(g)) {
        dw_s2_chunk ck[NNS_DW3X3S2_MAX_CHUNKS];
        const int nch = (g->ow + 7) / 8;
        dw_s2_chunks(g, ck, nch);
        const size_t ihw = (size_t)g->ih * g->iw, oplane = (size_t)g->oh * g->ow;
        for (int b = 0; b < n; b++)
            for (int c = 0; c < nc; c++)
                dw3x3s2_plane(g, ck, nch, x + (size_t)b * x_stride + c * ihw, w + (size_t)c * 9, bias ? bias[c] : 0.0f,
                              y + (size_t)b * y_stride + c * oplane);
        return;
    }
    if (taps > NNS_DWCONV2D_MAX_TAPS) {
        nns_f32_dwconv2d__ref(g, n, nc, x, x_stride, w, bias, y, y_stride, scratch);
        return;
    }
    nns_dwconv2d_layout L;
    nns_dwconv2d_layout_make(g, &L);
    float *P = scratch + L.p_off;
    size_t off[NNS_DWCONV2D_MAX_TAPS];
    dw_offsets(g, &L, off);
    const size_t ihw = (size_t)g->ih * g->iw, oplane = (size_t)g->oh * g->ow;
    for (int b = 0; b < n; b++)
        for (int c = 0; c < nc; c++) {
            nns_dwconv2d_pack(g, &L, x + (size_t)b * x_stride + c * ihw, P);
            dw_plane(g, &L, off, taps, P, w + (size_t)c * taps, bias ? bias[c] : 0.0f,
                     y + (size_t)b * y_stride + c * oplane);
        }
}

void nns_f32_conv2d_1ch__avx2(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                              const float *w, const float *bias, float *y, size_t y_stride, float *scratch) {
    const int taps = g->kh * g->kw;
    if (taps > NNS_DWCONV2D_MAX_TAPS) {
        nns_f32_conv2d_1ch__ref(g, n, m, x, x_stride, w, bias, y, y_stride, scratch);
        return;
    }
    nns_dwconv2d_layout L;
    nns_dwconv2d_layout_make(g, &L);
    float *P = scratch + L.p_off;
    size_t off[NNS_DWCONV2D_MAX_TAPS];
    dw_offsets(g, &L, off);
    const size_t oplane = (size_t)g->oh * g->ow;
    for (int b = 0; b < n; b++) {
        nns_dwconv2d_pack(g, &L, x + (size_t)b * x_stride, P); /* once for all m filters */
        for (int c = 0; c < m; c++)
            dw_plane(g, &L, off, taps, P, w + (size_t)c * taps, bias ? bias[c] : 0.0f,
                     y + (size_t)b * y_stride + c * oplane);
    }
}
