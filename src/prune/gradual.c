/* gradual.c — Zhu & Gupta's polynomial sparsity schedule ("To prune, or not
 * to prune", 2017) and a training step hook that applies it. */
#include "prune/prune_util.h"

float nns_prune_gradual_sparsity(float s_i, float s_f, int64_t t0, int64_t t1, int64_t t) {
    if (t1 <= t0) return t >= t1 ? s_f : s_i;
    if (t <= t0) return s_i;
    if (t >= t1) return s_f;
    double f = 1.0 - (double)(t - t0) / (double)(t1 - t0);
    return (float)((double)s_f + ((double)s_i - (double)s_f) * f * f * f);
}

nns_status nns_prune_gradual_hook(void *user, nns_graph *g, int64_t t, int64_t T, int64_t steps_per_epoch) {
    (void)steps_per_epoch;
    nns_prune_gradual *gp = user;
    if (!gp) return nns_error(NNS_STATUS_INVALID_ARG, "gradual pruning: the hook's user data is NULL");
    int64_t t1 = gp->end_step > 0 ? gp->end_step : T * 3 / 4;
    if (t1 > T - 1) t1 = T - 1;
    int64_t t0 = gp->start_step > 0 ? gp->start_step : 0;
    if (t0 > t1) t0 = t1;
    int64_t freq = gp->frequency;
    if (freq <= 0) {
        freq = 100;
        if ((t1 - t0) / 10 < freq) freq = (t1 - t0) / 10;
        if (freq < 1) freq = 1;
    }
    if (t < t0 || t > t1 || ((t - t0) % freq != 0 && t != t1)) return NNS_OK;
    float s = nns_prune_gradual_sparsity(gp->initial_sparsity, gp->final_sparsity, t0, t1, t);
    nns_status st = nns_prune_magnitude(g, s, gp->scope, gp->exclude);
    if (st) return st;
    gp->current_sparsity = s;
    gp->n_updates++;
    return NNS_OK;
}
