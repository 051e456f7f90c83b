/* dwconv2d_layout.h — the scratch layout of the SIMD depthwise kernels
 * (internal to src/kernels).
 *
 * The padded input plane is split into sh*sw phase planes by row and column
 * phase: P[rp*sw + cp][rr][k] = xpad[rr*sh + rp][k*sw + cp], where xpad is
 * the input shifted by (pt, pl) with zeros outside. Output (oy, ox) tap
 * (i, j) then reads phase ((i*dh) % sh, (j*dw) % sw) at row oy + (i*dh)/sh,
 * column ox + (j*dw)/sw: in the flattened phase plane (row stride pw) this is
 * oy*pw + ox + a per-tap offset, so a whole plane is a 1-D convolution over
 * the flattened outputs q = oy*pw + ox with kh*kw tap offsets. Columns
 * ox >= ow are computed and dropped. pw is a multiple of 8, so every 8-wide
 * vector lies within one output row.
 *
 * Scratch: P (nph planes), then the dy buffer (guard zeros, oh*pw values of
 * dy with zero columns, zeros), then dP (nph planes), each 8-float aligned.
 */
#ifndef NNS_KERNELS_DWCONV2D_LAYOUT_H
#define NNS_KERNELS_DWCONV2D_LAYOUT_H

#include <string.h>

#include "kernels/kernels.h"
#include "kernels/window_util.h"
#ifdef __AVX2__
#include "kernels/x86/avx2_util.h"
#endif

#define NNS_DWCONV2D_MAX_TAPS 64

typedef struct nns_dwconv2d_layout {
    int pw;        /* row stride of phase planes and of the dy buffer */
    int prr;       /* rows per phase plane */
    int nph;       /* phase planes: sh*sw */
    int maxro, maxco;
    int guard;     /* zero floats before dy in the dy buffer */
    size_t plane;  /* floats per phase plane */
    size_t p_off, dy_off, dp_off, total;
} nns_dwconv2d_layout;

static inline size_t nns_round8(size_t n) { return (n + 7) & ~(size_t)7; }

static inline void nns_dwconv2d_layout_make(const nns_conv2d_geom *g, nns_dwconv2d_layout *L) {
    L->maxro = ((g->kh - 1) * g->dh) / g->sh;
    L->maxco = ((g->kw - 1) * g->dw) / g->sw;
    L->pw = (int)nns_round8((size_t)(g->ow + L->maxco));
    L->prr = g->oh + L->maxro + 1;
    L->nph = g->sh * g->sw;
    L->plane = (size_t)L->prr * L->pw;
    L->guard = (int)nns_round8((size_t)L->maxro * L->pw + L->maxco);
    L->p_off = 0;
    L->dy_off = L->p_off + nns_round8(L->plane * L->nph);
    L->dp_off = L->dy_off + nns_round8((size_t)L->guard + L->plane);
    L->total = L->dp_off + nns_round8(L->plane * L->nph);
}

/* Offset of tap (i, j) from the start of P (phase plane base + in-plane
 * offset), and the in-plane part alone. */
static inline void nns_dwconv2d_tap(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L,
                                    int i, int j, size_t *full, int *inplane, int *phase) {
    int rp = (i * g->dh) % g->sh, ro = (i * g->dh) / g->sh;
    int cp = (j * g->dw) % g->sw, co = (j * g->dw) / g->sw;
    *phase = rp * g->sw + cp;
    *inplane = ro * L->pw + co;
    *full = (size_t)*phase * L->plane + (size_t)*inplane;
}

/* Fill the nph phase planes from one input plane x (zeros in the padding). */
static inline void nns_dwconv2d_pack(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L,
                                     const float *x, float *P) {
    for (int rp = 0; rp < g->sh; rp++) {
        for (int cp = 0; cp < g->sw; cp++) {
            float *pp = P + (size_t)(rp * g->sw + cp) * L->plane;
            int lo, hi, off = cp - g->pl;
            nns_window_valid_range(off, g->sw, g->iw, L->pw, &lo, &hi);
            for (int rr = 0; rr < L->prr; rr++) {
                float *row = pp + (size_t)rr * L->pw;
                int iy = rr * g->sh + rp - g->pt;
                if (iy < 0 || iy >= g->ih || hi == lo) {
                    memset(row, 0, (size_t)L->pw * sizeof(float));
                    continue;
                }
                const float *src = x + (size_t)iy * g->iw;
                if (lo) memset(row, 0, (size_t)lo * sizeof(float));
                if (g->sw == 1) {
                    memcpy(row + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
                } else {
#ifdef __AVX2__
                    if (g->sw == 2) {
                        nns_avx2_gather_stride2(src + lo * 2 + off, row + lo, hi - lo);
                    } else
#endif
                    for (int k = lo; k < hi; k++) row[k] = src[k * g->sw + off];
                }
                if (hi < L->pw) memset(row + hi, 0, (size_t)(L->pw - hi) * sizeof(float));
            }
        }
    }
}

/* The adjoint of nns_dwconv2d_pack: dx += the input positions' entries of
 * the phase planes dP. */
static inline void nns_dwconv2d_unpack_add(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L,
                                           const float *dP, float *dx) {
    for (int rp = 0; rp < g->sh; rp++) {
        for (int cp = 0; cp < g->sw; cp++) {
            const float *pp = dP + (size_t)(rp * g->sw + cp) * L->plane;
            int lo, hi, off = cp - g->pl;
            nns_window_valid_range(off, g->sw, g->iw, L->pw, &lo, &hi);
            for (int rr = 0; rr < L->prr; rr++) {
                int iy = rr * g->sh + rp - g->pt;
                if (iy < 0 || iy >= g->ih) continue;
                const float *row = pp + (size_t)rr * L->pw;
                float *dst = dx + (size_t)iy * g->iw;
                if (g->sw == 1) {
                    for (int k = lo; k < hi; k++) dst[k + off] += row[k];
                } else {
#ifdef __AVX2__
                    if (g->sw == 2) {
                        if (hi > lo) nns_avx2_scatter_add_stride2(row + lo, dst + lo * 2 + off, hi - lo);
                    } else
#endif
                    for (int k = lo; k < hi; k++) dst[k * g->sw + off] += row[k];
                }
            }
        }
    }
}

/* The dy buffer: guard zeros, then oh rows of pw (dy in the first ow
 * columns, zeros after), then zeros up to guard + plane floats. Returns a
 * pointer to the first row. */
static inline float *nns_dwconv2d_pack_dy(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L,
                                          const float *dy, float *buf) {
    memset(buf, 0, (size_t)L->guard * sizeof(float));
    float *d = buf + L->guard;
    for (int oy = 0; oy < g->oh; oy++) {
        memcpy(d + (size_t)oy * L->pw, dy + (size_t)oy * g->ow, (size_t)g->ow * sizeof(float));
        memset(d + (size_t)oy * L->pw + g->ow, 0, (size_t)(L->pw - g->ow) * sizeof(float));
    }
    memset(d + (size_t)g->oh * L->pw, 0, (L->plane - (size_t)g->oh * L->pw) * sizeof(float));
    return d;
}

#endif
