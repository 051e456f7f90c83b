/* dw3x3s2.h — depthwise 3x3, stride 2, dilation 1 (the downsampling
 * depthwise layers), AVX2, shared by the forward and backward kernels
 * (include only from *avx2* files). Straight from the input plane: for 8
 * outputs at columns ox0.., the 17 input columns from base = 2 ox0 - pl are
 * loaded once per input row and split in registers into even (tap column
 * 0), odd (1) and even shifted by one (2); no phase planes are packed
 * (packing cost several times the arithmetic). */
#ifndef NNS_KERNELS_DW3X3S2_H
#define NNS_KERNELS_DW3X3S2_H

#include <stddef.h>

#include "kernels/dwconv2d_layout.h"
#include "kernels/kernels.h"
#include "kernels/x86/avx2_util.h"

typedef struct dw_s2_chunk {
    int base;        /* first input column (may be < 0: padding)         */
    int full;        /* columns base .. base + 15 all inside the row      */
    int cvalid;      /* column base + 16 inside the row                   */
    __m256i ma, mb;  /* lanes of columns base .. +7 and +8 .. +15 inside  */
    __m256i mdy, mdp;/* lanes of outputs ox0 .. +7 and ox0 - 1 .. +6 < ow */
} dw_s2_chunk;

static inline __m256i dw_s2_inside(int first, int n) {
    const __m256i c = _mm256_add_epi32(_mm256_set1_epi32(first), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(c, _mm256_set1_epi32(-1)), _mm256_cmpgt_epi32(_mm256_set1_epi32(n), c));
}

/* Chunks 0 .. nch - 1 (the backward takes one chunk past the outputs). */
static inline void dw_s2_chunks(const nns_conv2d_geom *g, dw_s2_chunk *ck, int nch) {
    for (int q = 0; q < nch; q++) {
        const int base = 16 * q - g->pl;
        ck[q].base = base;
        ck[q].full = base >= 0 && base + 16 <= g->iw;
        ck[q].cvalid = base + 16 >= 0 && base + 16 < g->iw;
        ck[q].ma = dw_s2_inside(base, g->iw);
        ck[q].mb = dw_s2_inside(base + 8, g->iw);
        ck[q].mdy = dw_s2_inside(8 * q, g->ow);
        ck[q].mdp = dw_s2_inside(8 * q - 1, g->ow);
    }
}

/* Input row `row` at chunk c: ev[j] = row[base + 2j], od[j] = row[base + 2j
 * + 1], e2[j] = row[base + 2j + 2], zero outside the row. */
static inline void dw_s2_load(const dw_s2_chunk *c, const float *row, __m256 *ev, __m256 *od, __m256 *e2) {
    /* may point before the row: those lanes are masked off */
    const float *r = row + c->base;
    __m256 a, b;
    if (c->full) {
        a = _mm256_loadu_ps(r);
        b = _mm256_loadu_ps(r + 8);
    } else {
        a = _mm256_maskload_ps(r, c->ma);
        b = _mm256_maskload_ps(r + 8, c->mb);
    }
    *ev = nns_avx2_even(a, b);
    *od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
    *e2 = _mm256_blend_ps(_mm256_permutevar8x32_ps(*ev, _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0)),
                          _mm256_set1_ps(c->cvalid ? r[16] : 0.0f), 0x80);
}

#endif
