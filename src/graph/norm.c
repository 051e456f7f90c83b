/* norm.c — the input normalisation a model records (metadata nnslim.mean
 * and nnslim.std: one value, or one per input channel, comma-separated),
 * read back and applied (nnslim/graph.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"

nns_status nns_norm_parse(const char *what, const char *text, float *v, int cap, int *n) {
    *n = 0;
    const char *p = text;
    while (p && *p) {
        char *end;
        const float x = strtof(p, &end);
        if (end == p || !isfinite(x) || *n >= cap)
            return nns_error(NNS_STATUS_INVALID_ARG, "%s '%s': a number or a comma-separated list of at most %d numbers",
                             what, text, cap);
        v[(*n)++] = x;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return nns_error(NNS_STATUS_INVALID_ARG, "%s '%s': a number or a comma-separated list of at most %d numbers",
                             what, text, cap);
    }
    if (!*n) return nns_error(NNS_STATUS_INVALID_ARG, "%s is empty", what);
    return NNS_OK;
}

nns_status nns_graph_get_norm(const nns_graph *g, float *mean, float *std, int cap, int *n) {
    *n = 0;
    const char *gm = nns_graph_get_meta(g, "nnslim.mean"), *gs = nns_graph_get_meta(g, "nnslim.std");
    if (!gm || !gs) return NNS_OK;
    int nm = 0, ns = 0;
    nns_status st = nns_norm_parse("the model's nnslim.mean", gm, mean, cap, &nm);
    if (!st) st = nns_norm_parse("the model's nnslim.std", gs, std, cap, &ns);
    if (st) return st;
    if (nm != ns)
        return nns_error(NNS_STATUS_FORMAT, "the model records %d mean values and %d standard deviations", nm, ns);
    for (int i = 0; i < ns; i++)
        if (!(std[i] > 0))
            return nns_error(NNS_STATUS_FORMAT, "the model records a standard deviation of %g", (double)std[i]);
    *n = nm;
    return NNS_OK;
}

nns_status nns_graph_normalize_input(const nns_graph *g, float *x, int64_t n) {
    float mean[NNS_NORM_MAX], std[NNS_NORM_MAX];
    int k = 0;
    nns_status st = nns_graph_get_norm(g, mean, std, NNS_NORM_MAX, &k);
    if (st || !k) return st;
    if (g->n_inputs < 1) return nns_error(NNS_STATUS_INVALID_ARG, "the model has no input");
    const nns_shape *s = &g->values[g->inputs[0]].shape;
    int64_t per = 1;
    for (int d = 1; d < s->ndim; d++) per *= s->dims[d] > 0 ? s->dims[d] : 1;
    const int64_t ch = s->ndim >= 2 && s->dims[1] > 0 ? s->dims[1] : 1;
    if (k != 1 && k != ch)
        return nns_error(NNS_STATUS_INVALID_ARG, "the model records %d normalisation values for an input of %lld channels",
                         k, (long long)ch);
    const int64_t plane = per / ch;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < ch; c++) {
            const float m = mean[k == 1 ? 0 : c], sd = std[k == 1 ? 0 : c];
            float *p = x + i * per + c * plane;
            for (int64_t j = 0; j < plane; j++) p[j] = (p[j] - m) / sd;
        }
    return NNS_OK;
}
