/* dataset.c — allocation, statistics, normalisation and splitting. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"
#include "nnslim/tensor.h"

nns_status nns_data_alloc(nns_dataset *d, int64_t n, int c, int h, int w,
                          const char *what) {
    memset(d, 0, sizeof *d);
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "%s: invalid data set shape [%lld, %d, %d, %d]", what,
                         (long long)n, c, h, w);
    int64_t per = 0, total = 0;
    if (__builtin_mul_overflow((int64_t)c, (int64_t)h, &per) ||
        __builtin_mul_overflow(per, (int64_t)w, &per) ||
        __builtin_mul_overflow(per, n, &total) ||
        (uint64_t)total > SIZE_MAX / sizeof(float) ||
        (uint64_t)n > SIZE_MAX / sizeof(int32_t))
        return nns_error(NNS_STATUS_NOMEM,
                         "%s: data set [%lld, %d, %d, %d] is too large", what,
                         (long long)n, c, h, w);
    const uint64_t need = (uint64_t)total * sizeof(float) + (uint64_t)n * sizeof(int32_t);
    if (need > nns_limit_memory())
        return nns_error(NNS_STATUS_LIMIT,
                         "%s: data set [%lld, %d, %d, %d] needs %llu bytes, more than "
                         "NNS_MAX_MEMORY (%llu)",
                         what, (long long)n, c, h, w, (unsigned long long)need,
                         (unsigned long long)nns_limit_memory());
    float *x = malloc((size_t)total * sizeof(float));
    int32_t *y = malloc((size_t)n * sizeof(int32_t));
    if (!x || !y) {
        free(x);
        free(y);
        return nns_error(NNS_STATUS_NOMEM,
                         "%s: out of memory for %lld samples of %d x %d x %d "
                         "(%.1f MiB)",
                         what, (long long)n, c, h, w,
                         (double)total * 4.0 / (1024.0 * 1024.0));
    }
    d->n = n;
    d->c = c;
    d->h = h;
    d->w = w;
    d->x = x;
    d->y = y;
    d->n_classes = 0;
    return NNS_OK;
}

nns_status nns_dataset_to_nchw(nns_dataset *d) {
    const int hh = d->c, ww = d->h, cc = d->w; /* as loaded: [n, H, W, C] */
    const int64_t per = (int64_t)cc * hh * ww;
    float *t = malloc((size_t)(per ? per : 1) * sizeof *t);
    if (!t) return nns_error(NNS_STATUS_NOMEM, "out of memory transposing %dx%dx%d images", hh, ww, cc);
    for (int64_t i = 0; i < d->n; i++) {
        float *x = d->x + i * per;
        for (int y = 0; y < hh; y++)
            for (int xx = 0; xx < ww; xx++)
                for (int c = 0; c < cc; c++) t[((int64_t)c * hh + y) * ww + xx] = x[((int64_t)y * ww + xx) * cc + c];
        memcpy(x, t, (size_t)per * sizeof *t);
    }
    free(t);
    d->c = cc;
    d->h = hh;
    d->w = ww;
    return NNS_OK;
}

nns_status nns_dataset_normalize_channels(nns_dataset *d, const float *mean, const float *std, int n) {
    if (n == 1) return nns_dataset_normalize(d, mean[0], std[0]);
    if (n != d->c)
        return nns_error(NNS_STATUS_INVALID_ARG, "normalisation: %d mean/std values for images of %d channels", n, d->c);
    for (int c = 0; c < n; c++)
        if (!(std[c] > 0.0f) || !isfinite(std[c]) || !isfinite(mean[c]))
            return nns_error(NNS_STATUS_INVALID_ARG, "normalisation: channel %d: mean %g and std %g must be finite and std > 0",
                             c, (double)mean[c], (double)std[c]);
    const int64_t plane = (int64_t)d->h * d->w;
#pragma omp parallel for schedule(static) if (d->n * n * plane > (1 << 16))
    for (int64_t i = 0; i < d->n; i++)
        for (int c = 0; c < n; c++) {
            float *p = d->x + (i * n + c) * plane;
            for (int64_t j = 0; j < plane; j++) p[j] = (p[j] - mean[c]) / std[c];
        }
    return NNS_OK;
}

void nns_dataset_free(nns_dataset *d) {
    if (!d) return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

static int64_t sample_size(const nns_dataset *d) {
    return (int64_t)d->c * d->h * d->w;
}

/* Sums in a fixed number of blocks, added in a fixed order: the result does
 * not depend on the number of threads. */
#define NNS_STATS_BLOCKS 64

void nns_dataset_stats(const nns_dataset *d, float *mean, float *std) {
    double m = 0.0, v = 0.0;
    int64_t total = (d && d->x && d->n > 0) ? d->n * sample_size(d) : 0;
    if (total > 0) {
        const float *x = d->x;
        int64_t bs = (total + NNS_STATS_BLOCKS - 1) / NNS_STATS_BLOCKS;
        double part[NNS_STATS_BLOCKS];
#pragma omp parallel for schedule(static) if (total > (1 << 16))
        for (int b = 0; b < NNS_STATS_BLOCKS; b++) {
            int64_t lo = (int64_t)b * bs, hi = lo + bs;
            if (hi > total) hi = total;
            double s = 0.0;
            for (int64_t i = lo; i < hi; i++) s += x[i];
            part[b] = s;
        }
        double sum = 0.0;
        for (int b = 0; b < NNS_STATS_BLOCKS; b++) sum += part[b];
        m = sum / (double)total;
#pragma omp parallel for schedule(static) if (total > (1 << 16))
        for (int b = 0; b < NNS_STATS_BLOCKS; b++) {
            int64_t lo = (int64_t)b * bs, hi = lo + bs;
            if (hi > total) hi = total;
            double s = 0.0;
            for (int64_t i = lo; i < hi; i++) {
                double t = x[i] - m;
                s += t * t;
            }
            part[b] = s;
        }
        double sq = 0.0;
        for (int b = 0; b < NNS_STATS_BLOCKS; b++) sq += part[b];
        v = sq / (double)total;
    }
    if (mean) *mean = (float)m;
    if (std) *std = (float)sqrt(v);
}

nns_status nns_dataset_normalize(nns_dataset *d, float mean, float std) {
    if (!d || (d->n > 0 && !d->x))
        return nns_error(NNS_STATUS_INVALID_ARG, "normalize: no data set");
    if (!(std > 0.0f) || !isfinite(std) || !isfinite(mean))
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "normalize: mean %g and std %g must be finite and "
                         "std > 0",
                         (double)mean, (double)std);
    int64_t total = d->n * sample_size(d);
    float *x = d->x;
#pragma omp parallel for schedule(static) if (total > (1 << 16))
    for (int64_t i = 0; i < total; i++) x[i] = (x[i] - mean) / std;
    return NNS_OK;
}

nns_status nns_dataset_split(nns_dataset *d, int64_t count, uint64_t seed,
                             nns_dataset *val) {
    if (!val)
        return nns_error(NNS_STATUS_INVALID_ARG, "split: val is NULL");
    memset(val, 0, sizeof *val);
    if (!d || !d->x || !d->y || d->n <= 0)
        return nns_error(NNS_STATUS_INVALID_ARG, "split: empty data set");
    int64_t n = d->n;
    if (count <= 0 || count >= n)
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "split: count %lld must be in [1, %lld] for a data "
                         "set of %lld samples",
                         (long long)count, (long long)(n - 1), (long long)n);
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    unsigned char *taken = calloc((size_t)n, 1);
    if (!perm || !taken) {
        free(perm);
        free(taken);
        return nns_error(NNS_STATUS_NOMEM,
                         "split: out of memory for an index of %lld samples",
                         (long long)n);
    }
    nns_status s = nns_data_alloc(val, count, d->c, d->h, d->w, "split");
    if (s != NNS_OK) {
        free(perm);
        free(taken);
        return s;
    }
    /* The tail of a Fisher-Yates shuffle: perm[n-count..n) is a uniformly
     * random ordered selection of count samples. */
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    uint64_t st = nns_data_rng_state(seed, 1, 0);
    for (int64_t i = n - 1; i >= n - count; i--) {
        int64_t j = (int64_t)nns_rng_below(&st, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    size_t ss = (size_t)sample_size(d);
    for (int64_t k = 0; k < count; k++) {
        int64_t idx = perm[n - count + k];
        memcpy(val->x + (size_t)k * ss, d->x + (size_t)idx * ss,
               ss * sizeof(float));
        val->y[k] = d->y[idx];
        taken[idx] = 1;
    }
    /* Compact the remaining samples in place, keeping their order. */
    int64_t wpos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (taken[i]) continue;
        if (wpos != i) {
            memmove(d->x + (size_t)wpos * ss, d->x + (size_t)i * ss,
                    ss * sizeof(float));
            d->y[wpos] = d->y[i];
        }
        wpos++;
    }
    free(perm);
    free(taken);
    d->n = wpos;
    val->n_classes = d->n_classes;
    /* Give back the memory; on failure keep the larger blocks. */
    float *nx = realloc(d->x, (size_t)wpos * ss * sizeof(float));
    if (nx) d->x = nx;
    int32_t *ny = realloc(d->y, (size_t)wpos * sizeof(int32_t));
    if (ny) d->y = ny;
    return NNS_OK;
}
