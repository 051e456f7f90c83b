/* avx512_wino.h — pieces shared by the AVX-512 Winograd F(2x2,3x3) transforms. */
#ifndef NNS_AVX512_WINO_H
#define NNS_AVX512_WINO_H

#include <immintrin.h>
#include <stddef.h>

/* n (1..4) tiles, one per 128-bit lane of the rows r0..r3 of their 4x4
 * transformed values, into the layout of kernels.h: tile i's rows 0 and 1
 * at o + 8i, rows 2 and 3 at o + hs + 8i. */
static inline void nns_wino_store_tiles(float *o, size_t hs, int n, __m512 r0, __m512 r1, __m512 r2, __m512 r3) {
    const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    const __mmask16 m0 = n >= 2 ? 0xffff : 0x00ff, m1 = n == 4 ? 0xffff : n == 3 ? 0x00ff : 0;
    _mm512_mask_storeu_ps(o, m0, _mm512_permutex2var_ps(r0, lo, r1));
    _mm512_mask_storeu_ps(o + hs, m0, _mm512_permutex2var_ps(r2, lo, r3));
    if (m1) {
        _mm512_mask_storeu_ps(o + 16, m1, _mm512_permutex2var_ps(r0, hi, r1));
        _mm512_mask_storeu_ps(o + 16 + hs, m1, _mm512_permutex2var_ps(r2, hi, r3));
    }
}

/* A walk over tiles [t0, t1) in steps of up to four tiles of one tile row:
 * each step's first tile t (row ty, column tx) and its n tiles. */
typedef struct nns_wino_walk {
    int t, ty, tx, n, t1, tx_count;
} nns_wino_walk;

static inline nns_wino_walk nns_wino_walk_start(int t0, int t1, int tx_count) {
    const int ty = t0 / tx_count;
    return (nns_wino_walk){t0, ty, t0 - ty * tx_count, 0, t1, tx_count};
}

/* Past the last step's tiles to the next step: 0 when none is left. */
static inline int nns_wino_walk_next(nns_wino_walk *w) {
    w->t += w->n;
    if ((w->tx += w->n) == w->tx_count) {
        w->tx = 0;
        w->ty++;
    }
    if (w->t >= w->t1) return 0;
    w->n = w->tx_count - w->tx < 4 ? w->tx_count - w->tx : 4;
    if (w->n > w->t1 - w->t) w->n = w->t1 - w->t;
    return 1;
}

#endif
