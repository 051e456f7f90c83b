/* sweep.c — a generic sensitivity sweep (perturb one unit at one level on a
 * copy of the graph, score it, next trial from the original), the
 * allocation of per-unit levels for an overall target, and pruning's units
 * and perturbation. */
#include <stdlib.h>
#include <string.h>

#include "nnslim/prune.h"
#include "nnslim/train.h"
#include "prune/prune_util.h"

void nns_sweep_table_free(nns_sweep_table *t) {
    if (!t) return;
    for (int i = 0; t->units && i < t->n_units; i++) {
        free((char *)t->units[i].name);
        free((char *)t->units[i].op);
    }
    free(t->units);
    free(t->levels);
    free(t->score);
    free(t->applied);
    memset(t, 0, sizeof *t);
}

static char *dup_or_null(const char *s, int *fail) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) *fail = 1;
    else memcpy(d, s, n);
    return d;
}

/* Allocate t's arrays and copy the units and levels. */
static nns_status table_init(nns_sweep_table *t, const nns_sweep_config *cfg) {
    size_t cells = (size_t)cfg->n_units * (size_t)cfg->n_levels;
    t->units = calloc((size_t)cfg->n_units + 1, sizeof *t->units);
    t->levels = malloc((size_t)cfg->n_levels * sizeof *t->levels);
    t->score = calloc(cells + 1, sizeof *t->score);
    t->applied = calloc(cells + 1, 1);
    int fail = !t->units || !t->levels || !t->score || !t->applied;
    if (!fail) {
        t->n_units = cfg->n_units;
        t->n_levels = cfg->n_levels;
        memcpy(t->levels, cfg->levels, (size_t)cfg->n_levels * sizeof *t->levels);
        for (int i = 0; i < cfg->n_units && !fail; i++) {
            t->units[i].size = cfg->units[i].size;
            t->units[i].name = dup_or_null(cfg->units[i].name, &fail);
            t->units[i].op = dup_or_null(cfg->units[i].op, &fail);
        }
    }
    if (fail) {
        t->n_units = cfg->n_units; /* free what was copied */
        nns_sweep_table_free(t);
        return nns_error(NNS_STATUS_NOMEM, "out of memory for a sweep of %d units x %d levels", cfg->n_units,
                         cfg->n_levels);
    }
    return NNS_OK;
}

/* One trial: copy g, perturb (unit < 0: none), score, free the copy.
 * *applied = 0 when the perturbation is unsupported for this unit. */
static nns_status trial(const nns_graph *g, const nns_sweep_config *cfg, const nns_sweep_table *t, int unit,
                        float level, float *score, int *applied) {
    nns_graph *c = NULL;
    nns_status st = nns_graph_clone(g, &c);
    if (st) return st;
    *applied = 1;
    if (unit >= 0) st = cfg->perturb(cfg->perturb_user, c, unit, &t->units[unit], level);
    if (st == NNS_STATUS_UNSUPPORTED) {
        *applied = 0;
        nns_graph_free(c);
        return NNS_OK;
    }
    if (!st) st = cfg->evaluate(cfg->evaluate_user, c, score);
    nns_graph_free(c);
    return st;
}

nns_status nns_sweep_run(const nns_graph *g, const nns_sweep_config *cfg, nns_sweep_table *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!g || !cfg || !out || !cfg->perturb || !cfg->evaluate)
        return nns_error(NNS_STATUS_INVALID_ARG, "sweep: NULL graph, config, table or callback");
    if (cfg->n_units < 0 || cfg->n_levels < 1 || (cfg->n_units && !cfg->units) || !cfg->levels)
        return nns_error(NNS_STATUS_INVALID_ARG, "sweep: %d units x %d levels (need units >= 0, levels >= 1)",
                         cfg->n_units, cfg->n_levels);
    nns_sweep_table t;
    memset(&t, 0, sizeof t);
    nns_status st = table_init(&t, cfg);
    if (st) return st;
    int applied;
    st = trial(g, cfg, &t, -1, 0.0f, &t.baseline, &applied);
    if (!st && cfg->progress) cfg->progress(cfg->progress_user, &t, -1);
    for (int u = 0; u < t.n_units && !st; u++) {
        for (int k = 0; k < t.n_levels && !st; k++) {
            size_t cell = (size_t)u * t.n_levels + k;
            st = trial(g, cfg, &t, u, t.levels[k], &t.score[cell], &applied);
            t.applied[cell] = (unsigned char)applied;
            if (!st && !applied) {
                /* a unit that cannot take the perturbation: baseline, no weight */
                t.score[cell] = t.baseline;
                t.units[u].size = 0;
            }
        }
        if (!st && cfg->progress) cfg->progress(cfg->progress_user, &t, u);
    }
    if (st) {
        nns_sweep_table_free(&t);
        return st;
    }
    *out = t;
    return NNS_OK;
}

float nns_sweep_level_for_drop(const nns_sweep_table *t, int u, float drop) {
    const float *acc = t->score + (size_t)u * t->n_levels;
    float base = t->baseline, best = 0, prev_r = 0, prev_a = base;
    for (int k = 0; k < t->n_levels; k++) {
        float a = acc[k];
        if (base - a <= drop) {
            best = t->levels[k];
        } else {
            /* interpolate between prev and this point */
            float da = prev_a - a;
            if (da > 0) {
                float x = (prev_a - (base - drop)) / da;
                if (x > 0 && x < 1) best = prev_r + x * (t->levels[k] - prev_r);
            }
            break;
        }
        prev_r = t->levels[k];
        prev_a = a;
    }
    return best;
}

nns_status nns_sweep_allocate(const nns_sweep_table *t, float target, float *levels_out, float *max_drop) {
    if (!t || !levels_out || t->n_levels < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "sweep allocation: no table or no output");
    if (!(target > 0 && target < 1))
        return nns_error(NNS_STATUS_INVALID_ARG, "sweep allocation: target %g is outside (0, 1)", target);
    double tot = 0;
    for (int i = 0; i < t->n_units; i++) tot += (double)t->units[i].size;
    float lo = 0, hi = 1;
    for (int it = 0; it < 40; it++) {
        float mid = 0.5f * (lo + hi);
        double rem = 0;
        for (int i = 0; i < t->n_units; i++) rem += t->units[i].size * nns_sweep_level_for_drop(t, i, mid);
        if (rem >= target * tot) hi = mid;
        else lo = mid;
    }
    double rem = 0;
    for (int i = 0; i < t->n_units; i++) {
        levels_out[i] = t->units[i].size ? nns_sweep_level_for_drop(t, i, hi) : 0;
        rem += t->units[i].size * levels_out[i];
    }
    if (rem + 1e-9 < target * tot)
        return nns_error(NNS_STATUS_INVALID_ARG, "sweep allocation: target %g cannot be reached with levels up to %g",
                         target, t->levels[t->n_levels - 1]);
    if (max_drop) *max_drop = hi;
    return NNS_OK;
}

nns_status nns_sweep_eval_accuracy(void *user, nns_graph *g, float *score) {
    const nns_sweep_eval_data *d = user;
    if (!d || !d->data) return nns_error(NNS_STATUS_INVALID_ARG, "sweep evaluation: no data set");
    nns_eval_result er;
    nns_status st = nns_evaluate(g, d->data, d->batch_size > 0 ? d->batch_size : 256, &er);
    if (st) return st;
    *score = er.accuracy;
    nns_eval_result_free(&er);
    return NNS_OK;
}

nns_status nns_prune_sweep_units(const nns_graph *g, int channels, nns_sweep_unit **units, int *n) {
    *units = NULL;
    *n = 0;
    nns_layer_info *L = NULL;
    int nl = 0;
    nns_status st = nns_graph_summarize(g, &L, &nl, NULL, NULL, NULL);
    if (st) return st;
    nns_sweep_unit *u = calloc((size_t)nl + 1, sizeof *u);
    if (!u) {
        free(L);
        return nns_error(NNS_STATUS_NOMEM, "out of memory");
    }
    int nu = 0;
    for (int i = 0; i < nl; i++) {
        if (!nns_prune_is_weight_layer(g, i)) continue;
        if (L[i].params <= 0) continue;
        u[nu].name = L[i].name;
        u[nu].op = L[i].op;
        u[nu].size = channels ? (L[i].out_shape.ndim > 1 ? L[i].out_shape.dims[1] : 0) : L[i].params;
        nu++;
    }
    free(L);
    *units = u;
    *n = nu;
    return NNS_OK;
}

nns_status nns_prune_perturb_layer(void *user, nns_graph *g, int unit, const nns_sweep_unit *u, float level) {
    (void)unit;
    const nns_prune_perturb *p = user;
    if (!p || !p->channels) return nns_prune_magnitude_per_layer(g, &u->name, &level, 1, NULL);
    nns_structured_config sc;
    memset(&sc, 0, sizeof sc);
    sc.layer_names = &u->name;
    sc.layer_ratios = &level;
    sc.n_layer_ratios = 1;
    sc.round_to = 1;
    return nns_prune_structured(g, &sc, NULL);
}
