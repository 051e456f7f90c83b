/* optim.h — optimizer steps over flat arrays (w, g, state of n floats).
 * SGD is PyTorch's form: g' = g + wd w; v = mu v + g'; w -= lr (nesterov ?
 * g' + mu v : v). AdamW decouples weight decay: w -= lr wd w. A mask (may be
 * NULL) zeroes pruned weights and their updates. */
#ifndef NNS_OPTIM_H
#define NNS_OPTIM_H
#include <stdint.h>
void nns_optim_sgd_step(float *w, float *g, float *v, int64_t n, float lr, float momentum,
                        float wd, int nesterov, const float *mask);
void nns_optim_adamw_step(float *w, float *g, float *m, float *v, int64_t n, float lr,
                          float b1, float b2, float eps, float wd, int64_t t,
                          const float *mask);
#endif
