/* batcher.c — mini-batches over a seeded per-epoch permutation, with optional
 * augmentation (random crop with zero padding, horizontal flip).
 *
 * Determinism: the permutation of epoch e is a Fisher-Yates shuffle driven by
 * an RNG state derived from (seed, e); the augmentation of the sample at
 * position p of epoch e uses an RNG state derived from (seed, e, p). Neither
 * depends on the number of threads or on what was drawn before, so
 * nns_batcher_reset(b, e) always gives the same batches.
 *
 * The batcher borrows the data set: it must outlive the batcher and must not
 * change shape while the batcher exists. */
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

enum { STREAM_PERM = 2, STREAM_AUG = 3 };

struct nns_batcher {
    const nns_dataset *d;
    int batch_size;
    int shuffle;
    uint64_t seed;
    nns_augment aug;
    int64_t *perm;     /* [n] order of this epoch                  */
    int64_t pos;       /* next position in perm                    */
    int64_t last;      /* position of the last batch returned, -1  */
    uint64_t aug_seed; /* derived from (seed, epoch)               */
};

nns_status nns_batcher_create(const nns_dataset *d, int batch_size,
                              int shuffle, uint64_t seed,
                              const nns_augment *aug, nns_batcher **out) {
    if (!out)
        return nns_error(NNS_STATUS_INVALID_ARG, "batcher_create: out is NULL");
    *out = NULL;
    if (!d || d->n <= 0 || !d->x || !d->y || d->c <= 0 || d->h <= 0 ||
        d->w <= 0)
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "batcher_create: empty or invalid data set");
    if (batch_size <= 0)
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "batcher_create: batch size %d must be > 0",
                         batch_size);
    nns_augment a = {0, 0};
    if (aug) a = *aug;
    if (a.crop_pad < 0 || (a.crop_pad > 0 && (a.crop_pad >= d->h ||
                                              a.crop_pad >= d->w)))
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "batcher_create: crop padding %d must be >= 0 and "
                         "smaller than the image size %dx%d",
                         a.crop_pad, d->h, d->w);
    if ((uint64_t)d->n > SIZE_MAX / sizeof(int64_t))
        return nns_error(NNS_STATUS_NOMEM, "batcher_create: data set too large");
    nns_batcher *b = calloc(1, sizeof *b);
    int64_t *perm = malloc((size_t)d->n * sizeof *perm);
    if (!b || !perm) {
        free(b);
        free(perm);
        return nns_error(NNS_STATUS_NOMEM,
                         "batcher_create: out of memory for a permutation of "
                         "%lld samples",
                         (long long)d->n);
    }
    b->d = d;
    b->batch_size = batch_size;
    b->shuffle = shuffle != 0;
    b->seed = seed;
    b->aug = a;
    b->perm = perm;
    nns_batcher_reset(b, 0);
    *out = b;
    return NNS_OK;
}

void nns_batcher_free(nns_batcher *b) {
    if (!b) return;
    free(b->perm);
    free(b);
}

void nns_batcher_reset(nns_batcher *b, int epoch) {
    if (!b) return;
    int64_t n = b->d->n;
    uint64_t e = (uint64_t)(int64_t)epoch;
    for (int64_t i = 0; i < n; i++) b->perm[i] = i;
    if (b->shuffle) {
        uint64_t st = nns_data_rng_state(b->seed, STREAM_PERM, e);
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)nns_rng_below(&st, (uint64_t)i + 1);
            int64_t t = b->perm[i];
            b->perm[i] = b->perm[j];
            b->perm[j] = t;
        }
    }
    b->aug_seed = nns_data_rng_state(b->seed, STREAM_AUG, e);
    b->pos = 0;
    b->last = -1;
}

int64_t nns_batcher_n_batches(const nns_batcher *b) {
    if (!b) return 0;
    return (b->d->n + b->batch_size - 1) / b->batch_size;
}

/* dst[ch][y][x] = src[ch][y + dy][(flip ? w-1-x : x) + dx], 0 outside. */
static void augment_copy(float *dst, const float *src, int c, int h, int w,
                         int dy, int dx, int flip) {
    for (int ch = 0; ch < c; ch++) {
        const float *s = src + (size_t)ch * h * w;
        float *o = dst + (size_t)ch * h * w;
        for (int yy = 0; yy < h; yy++) {
            int sy = yy + dy;
            float *orow = o + (size_t)yy * w;
            if (sy < 0 || sy >= h) {
                memset(orow, 0, (size_t)w * sizeof(float));
                continue;
            }
            const float *srow = s + (size_t)sy * w;
            for (int xx = 0; xx < w; xx++) {
                int sx = (flip ? w - 1 - xx : xx) + dx;
                orow[xx] = (sx >= 0 && sx < w) ? srow[sx] : 0.0f;
            }
        }
    }
}

int nns_batcher_next(nns_batcher *b, float *x, int32_t *y) {
    if (!b) return 0;
    const nns_dataset *d = b->d;
    if (b->pos >= d->n) return 0;
    int64_t k = d->n - b->pos;
    if (k > b->batch_size) k = b->batch_size;
    size_t ss = (size_t)d->c * d->h * d->w;
    int pad = b->aug.crop_pad, hflip = b->aug.hflip != 0;
    int augment = pad > 0 || hflip;
    int64_t pos = b->pos;
    const int64_t *perm = b->perm;
    uint64_t aug_seed = b->aug_seed;
    if (y)
        for (int64_t i = 0; i < k; i++) y[i] = d->y[perm[pos + i]];
    if (x) {
        int big = (int64_t)ss * k >= (1 << 16);
#pragma omp parallel for schedule(static) if (big)
        for (int64_t i = 0; i < k; i++) {
            const float *src = d->x + (size_t)perm[pos + i] * ss;
            float *dst = x + (size_t)i * ss;
            if (!augment) {
                memcpy(dst, src, ss * sizeof(float));
                continue;
            }
            uint64_t st = nns_data_rng_state(aug_seed, STREAM_AUG,
                                             (uint64_t)(pos + i));
            int dy = 0, dx = 0, flip = 0;
            if (pad > 0) {
                dy = (int)nns_rng_below(&st, 2 * (uint64_t)pad + 1) - pad;
                dx = (int)nns_rng_below(&st, 2 * (uint64_t)pad + 1) - pad;
            }
            if (hflip) flip = (int)(nns_rng_next(&st) >> 63);
            augment_copy(dst, src, d->c, d->h, d->w, dy, dx, flip);
        }
    }
    b->last = pos;
    b->pos += k;
    return (int)k;
}

const int64_t *nns_batcher_indices(const nns_batcher *b) {
    if (!b || b->last < 0) return NULL;
    return b->perm + b->last;
}
