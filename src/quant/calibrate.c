/*
 * calibrate.c — calibration: histograms of chosen activations over a set of
 * images, read by a plan observer right after the node that writes each one
 * (the plan reuses activation memory, so later would be too late).
 */
#include <stdlib.h>
#include <string.h>

#include "nnslim/train.h"
#include "quant/calibrate.h"
#include "runtime/plan.h"

typedef struct calib_run {
    const nns_graph *g;
    int *slot; /* per graph value: its index in values[], or -1 */
    nns_calib_observe_fn fn;
    void *user;
} calib_run;

static void observe_value(const calib_run *r, nns_plan *p, int v) {
    if (v < 0 || r->slot[v] < 0) return;
    const nns_tv *t = nns_plan_tv(p, v);
    r->fn(r->user, r->slot[v], nns_tv_cf32(t), &t->shape);
}

/* nns_calibrate's observer: the value into its histogram. */
static void add_to_hist(void *user, int k, const float *x, const nns_shape *s) {
    nns_calib_hist_add(&((nns_calib_hist *)user)[k], x, nns_shape_numel(s));
}

/* After each node: the node's outputs that are observed. */
static void observe(void *user, nns_plan *p, int node, int after) {
    const calib_run *r = user;
    if (!after) return;
    const nns_node *n = &r->g->nodes[node];
    for (int j = 0; j < n->n_out; j++) observe_value(r, p, n->out[j]);
}

/* slot[v] for every value; errors name a value that cannot be observed. */
static nns_status map_values(const nns_graph *g, int n_values, const int *values, int *slot) {
    for (int v = 0; v < g->n_values; v++) slot[v] = -1;
    for (int i = 0; i < n_values; i++) {
        const int v = values[i];
        if (v < 0 || v >= g->n_values)
            return nns_error(NNS_STATUS_INVALID_ARG, "calibration: value index %d is not in the graph", v);
        const nns_value *val = &g->values[v];
        if ((val->kind != NNS_VALUE_KIND_ACT && val->kind != NNS_VALUE_KIND_INPUT) || val->dtype != NNS_DTYPE_F32)
            return nns_error(NNS_STATUS_INVALID_ARG, "calibration: value '%s' is not a float activation", val->name);
        slot[v] = i;
    }
    return NNS_OK;
}

/* Copy the images of batch rows [b0, b0 + n) of the evenly spaced sample
 * (image k of `used` is image k * d->n / used of the set) into x. */
static void gather(const nns_dataset *d, int64_t used, int64_t b0, int n, float *x) {
    const int64_t per = (int64_t)d->c * d->h * d->w;
    for (int i = 0; i < n; i++) {
        const int64_t k = (b0 + i) * d->n / used; /* used <= d->n: no overflow for n < 2^31 */
        memcpy(x + (int64_t)i * per, d->x + k * per, (size_t)per * sizeof(float));
    }
}

nns_status nns_calibrate(nns_graph *g, const nns_dataset *d, int64_t samples, int batch, int n_values,
                         const int *values, nns_calib_hist *hists, int64_t *used) {
    return nns_calibrate_observe(g, d, samples, batch, n_values, values, add_to_hist, hists, used);
}

nns_status nns_calibrate_observe(nns_graph *g, const nns_dataset *d, int64_t samples, int batch, int n_values,
                                 const int *values, nns_calib_observe_fn fn, void *user, int64_t *used) {
    *used = 0;
    if (samples < 1) return nns_error(NNS_STATUS_INVALID_ARG, "--calib-samples must be >= 1, not %lld", (long long)samples);
    if (batch < 1) return nns_error(NNS_STATUS_INVALID_ARG, "calibration batch must be >= 1, not %d", batch);
    if (d->n < 1) return nns_error(NNS_STATUS_INVALID_ARG, "the calibration set is empty");
    nns_status st = nns_check_data(g, d);
    if (st) return st;
    const int64_t n = samples < d->n ? samples : d->n;
    if (batch > n) batch = (int)n;
    calib_run r = {g, malloc((size_t)g->n_values * sizeof(int)), fn, user};
    if (!r.slot) return nns_error(NNS_STATUS_NOMEM, "calibration: out of memory");
    nns_plan *plan = NULL;
    if (!(st = map_values(g, n_values, values, r.slot)) && !(st = nns_graph_pack_params(g)))
        st = nns_plan_create(g, batch, 0, NULL, &plan);
    if (!st) st = nns_plan_check_f32_io(plan, "calibration");
    const int in = g->inputs[0];
    for (int64_t b0 = 0; !st && b0 < n; b0 += batch) {
        const int nb = (int)(n - b0 < batch ? n - b0 : batch);
        if ((st = nns_plan_set_batch(plan, nb))) break;
        gather(d, n, b0, nb, nns_tv_f32(nns_plan_input(plan, 0)));
        observe_value(&r, plan, in);
        nns_plan_forward_observed(plan, 0, observe, &r);
    }
    nns_plan_free(plan);
    free(r.slot);
    if (!st) *used = n;
    return st;
}
