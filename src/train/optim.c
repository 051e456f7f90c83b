/* optim.c — optimizers over the flat parameter buffer. */
#include <math.h>
#include "train/optim.h"

void nns_optim_sgd_step(float *w, float *g, float *v, int64_t n, float lr, float momentum,
                        float wd, int nesterov, const float *mask) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i] + wd * w[i];
        if (mask) gi *= mask[i];
        float vi = momentum * v[i] + gi;
        v[i] = vi;
        float d = nesterov ? gi + momentum * vi : vi;
        float wi = w[i] - lr * d;
        w[i] = mask ? wi * mask[i] : wi;
    }
}

void nns_optim_adamw_step(float *w, float *g, float *m, float *v, int64_t n, float lr,
                          float b1, float b2, float eps, float wd, int64_t t,
                          const float *mask) {
    const float c1 = 1.0f - powf(b1, (float)t);
    const float c2 = 1.0f - powf(b2, (float)t);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float gi = mask ? g[i] * mask[i] : g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float wi = w[i] * (1.0f - lr * wd);
        wi -= lr * (mi / c1) / (sqrtf(vi / c2) + eps);
        w[i] = mask ? wi * mask[i] : wi;
    }
}
