/* magnitude.c — unstructured magnitude pruning (global or per layer) and the
 * sparsity query.
 *
 * The k = round(sparsity * n) weights of smallest |w| are pruned, where n
 * counts the prunable weights of non-excluded layers (globally, or of each
 * layer for the layer scope). Weights already masked count first and stay
 * masked (so a lower target than the current sparsity prunes nothing more).
 * The threshold is the k-th smallest |w| found by a three-way quickselect on
 * a copy of the unmasked magnitudes (expected O(n), no sort); weights equal
 * to the threshold are pruned in memory order until exactly k are pruned.
 * NaN weights rank as +inf. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prune/prune_util.h"

/* Prune `want` more of the unmasked weights of targets t[0..n) (skipping
 * excluded ones) with the smallest scores; scratch holds `avail` floats. */
static void prune_smallest(nns_graph *g, const nns_prune_target *t, int n, int64_t want, float *scratch) {
    if (want <= 0) return;
    int64_t c = 0;
    for (int k = 0; k < n; k++) {
        if (t[k].excluded) continue;
        const int64_t off = g->values[t[k].value].param_offset;
        const float *w = g->params + off, *m = g->masks + off;
        for (int64_t i = 0; i < t[k].numel; i++)
            if (m[i] != 0.0f) scratch[c++] = nns_prune_score(w[i]);
    }
    if (want > c) want = c;
    if (want <= 0) return;
    const float thr = nns_prune_select_kth(scratch, c, want - 1);
    int64_t below = 0;
    for (int k = 0; k < n; k++) {
        if (t[k].excluded) continue;
        const int64_t off = g->values[t[k].value].param_offset;
        const float *w = g->params + off, *m = g->masks + off;
        for (int64_t i = 0; i < t[k].numel; i++)
            if (m[i] != 0.0f && nns_prune_score(w[i]) < thr) below++;
    }
    int64_t ties = want - below; /* weights equal to thr still to prune */
    for (int k = 0; k < n; k++) {
        if (t[k].excluded) continue;
        const int64_t off = g->values[t[k].value].param_offset;
        float *w = g->params + off, *m = g->masks + off;
        for (int64_t i = 0; i < t[k].numel; i++) {
            if (m[i] == 0.0f) continue;
            float s = nns_prune_score(w[i]);
            if (s < thr || (s == thr && ties > 0)) {
                if (s == thr) ties--;
                m[i] = 0.0f;
                w[i] = 0.0f;
            }
        }
    }
}

/* Zero masked weights of t; returns how many are masked. */
static int64_t apply_masks(nns_graph *g, const nns_prune_target *t) {
    const int64_t off = g->values[t->value].param_offset;
    float *w = g->params + off;
    const float *m = g->masks + off;
    int64_t a = 0;
    for (int64_t i = 0; i < t->numel; i++)
        if (m[i] == 0.0f) {
            w[i] = 0.0f;
            a++;
        }
    return a;
}

nns_status nns_prune_magnitude(nns_graph *g, float sparsity, nns_prune_scope scope,
                               const nns_prune_exclude *ex) {
    const char *what = "magnitude pruning";
    if (!g) return nns_error(NNS_STATUS_INVALID_ARG, "%s: graph is NULL", what);
    nns_graph_params_changed(g);
    if (!(sparsity >= 0.0f && sparsity < 1.0f))
        return nns_error(NNS_STATUS_INVALID_ARG, "%s: sparsity %g is outside [0, 1)", what, (double)sparsity);
    if (scope != NNS_PRUNE_SCOPE_GLOBAL && scope != NNS_PRUNE_SCOPE_LAYER)
        return nns_error(NNS_STATUS_INVALID_ARG, "%s: unknown scope %d", what, (int)scope);
    nns_prune_target *t;
    int n;
    nns_status st = nns_prune_targets(g, ex, what, &t, &n);
    if (st) return st;
    int64_t total = 0, biggest = 0;
    for (int k = 0; k < n; k++) {
        if (t[k].excluded) continue;
        total += t[k].numel;
        if (t[k].numel > biggest) biggest = t[k].numel;
    }
    if (!total) {
        free(t);
        return nns_error(NNS_STATUS_INVALID_ARG, "%s: the model has no prunable weights (Conv, Gemm, MatMul)%s", what,
                         n ? " outside the excluded layers" : "");
    }
    int64_t scratch_n = scope == NNS_PRUNE_SCOPE_GLOBAL ? total : biggest;
    float *scratch = malloc((size_t)scratch_n * sizeof(float));
    if (!scratch) {
        free(t);
        return nns_error(NNS_STATUS_NOMEM, "%s: out of memory for %lld weights", what, (long long)scratch_n);
    }
    int had_masks = g->masks != NULL;
    if ((st = nns_prune_masks_ensure(g)) || (st = nns_prune_mark(g))) {
        if (!had_masks) {
            free(g->masks);
            g->masks = NULL;
        }
        free(scratch);
        free(t);
        return st;
    }
    if (scope == NNS_PRUNE_SCOPE_GLOBAL) {
        int64_t masked = 0;
        for (int k = 0; k < n; k++)
            if (!t[k].excluded) masked += apply_masks(g, &t[k]);
        int64_t want = llround((double)sparsity * (double)total);
        prune_smallest(g, t, n, want - masked, scratch);
    } else {
        for (int k = 0; k < n; k++) {
            if (t[k].excluded) continue;
            int64_t masked = apply_masks(g, &t[k]);
            int64_t want = llround((double)sparsity * (double)t[k].numel);
            prune_smallest(g, &t[k], 1, want - masked, scratch);
        }
    }
    free(scratch);
    free(t);
    return NNS_OK;
}

float nns_prune_sparsity(const nns_graph *g) {
    if (!g) return 0.0f;
    nns_prune_target *t;
    int n;
    if (nns_prune_targets(g, NULL, "sparsity", &t, &n)) return 0.0f;
    int64_t total = 0, zeros = 0;
    for (int k = 0; k < n; k++) {
        if (t[k].excluded) continue; /* a distiller's adapters */
        const float *w = g->values[t[k].value].data;
        total += t[k].numel;
        for (int64_t i = 0; i < t[k].numel; i++) zeros += w[i] == 0.0f;
    }
    free(t);
    return total ? (float)((double)zeros / (double)total) : 0.0f;
}
