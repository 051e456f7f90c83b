/* synthdata.h — synthetic 28x28 data for the training tests: class k has a
 * bright 6x4 bar at a class-specific spot over uniform noise. The caller
 * frees it with nns_dataset_free. */
#ifndef NNS_SYNTHDATA_H
#define NNS_SYNTHDATA_H
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nnslim/data.h"

static void make_data(nns_dataset *d, int64_t n, uint64_t seed) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->c = 1;
    d->h = d->w = 28;
    d->n_classes = 10;
    d->x = calloc((size_t)n * 784, sizeof(float));
    d->y = calloc((size_t)n, sizeof(int32_t));
    uint64_t r = seed;
    for (int64_t i = 0; i < n; i++) {
        int k = (int)nns_rng_below(&r, 10);
        d->y[i] = k;
        float *x = d->x + i * 784;
        for (int p = 0; p < 784; p++) x[p] = 0.3f * (nns_rng_uniform(&r) - 0.5f);
        int oy = (k / 5) * 14 + 3, ox = (k % 5) * 5 + 1;
        for (int yy = 0; yy < 6; yy++)
            for (int xx = 0; xx < 4; xx++) x[(oy + yy) * 28 + ox + xx] += 1.0f;
    }
}
#endif
