/* structured.c — neuron and channel pruning (nns_prune_structured): finds
 * the coupled channel groups (depgraph.c), scores their units
 * (structured_score.c), chooses what to remove per layer or by a global
 * ranking, and removes it physically (structured_apply.c) on a copy of the
 * graph that replaces the caller's only on success. The semantics of every
 * config field are in docs/pruning_structured.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnslim/prune.h"
#include "ops/op.h"
#include "prune/depgraph.h"

typedef struct sel {
    nns_graph *w;
    nns_depgraph *dg;
    const nns_structured_config *cfg;
    int round_to;
    double *score;        /* per unit                                   */
    double *nscore;       /* per unit, normalised by its group's mean   */
    unsigned char *keep;  /* per unit                                   */
    int *space_kept;      /* per space: ids kept                        */
    unsigned char *base_keep;
    int *base_space_kept;
    char *elig;           /* per group: may be pruned                   */
    float *gratio;        /* per group: ratio, or -1 (default)          */
    int *order;           /* per group, units sorted by score: group_order[gi] */
    int **gorder;
    int *glob;            /* units of global groups sorted by nscore    */
    int n_glob;
    int64_t *kl;          /* scratch for cost                           */
    unsigned char *has_bn; /* per group: passes through a BatchNorm     */
    char *excl;           /* per group: excluded by name (while selecting) */
} sel;

typedef struct keyed { double key; int u; } keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->key < y->key) return -1;
    if (x->key > y->key) return 1;
    return (x->u > y->u) - (x->u < y->u);
}

/* Sort units[0..n) by key[unit] ascending (ties: unit index). */
static int sort_units(int *units, int n, const double *key) {
    keyed *k = malloc((size_t)(n ? n : 1) * sizeof *k);
    if (!k) return -1;
    for (int i = 0; i < n; i++) k[i] = (keyed){key[units[i]], units[i]};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    for (int i = 0; i < n; i++) units[i] = k[i].u;
    free(k);
    return 0;
}

/* Remove unit u unless that would empty one of its spaces. */
static int try_remove(sel *s, int u) {
    const nns_depgraph *dg = s->dg;
    if (!s->keep[u]) return 0;
    int a = dg->unit_start[u], b = dg->unit_start[u + 1], ok = 1, i;
    for (i = a; i < b; i++)
        if (--s->space_kept[dg->space_of[dg->unit_ids[i]]] < 1) ok = 0;
    if (!ok) {
        for (i = a; i < b; i++) s->space_kept[dg->space_of[dg->unit_ids[i]]]++;
        return 0;
    }
    s->keep[u] = 0;
    return 1;
}

static void restore(sel *s, int u) {
    const nns_depgraph *dg = s->dg;
    if (s->keep[u]) return;
    for (int i = dg->unit_start[u]; i < dg->unit_start[u + 1]; i++) s->space_kept[dg->space_of[dg->unit_ids[i]]]++;
    s->keep[u] = 1;
}

/* Units a group keeps for ratio r (round_to applied, never 0). */
static int target_keep(int n, double r, int rt) {
    if (r <= 0 || n <= 1) return n;
    int k;
    if (rt > 1) {
        if (n <= rt) return n;
        k = rt * (int)lround(n * (1.0 - r) / rt);
        if (k < rt) k = rt;
        if (k > n) k = n;
    } else {
        k = n - (int)floor(r * n + 0.5);
    }
    return k < 1 ? 1 : k;
}

static int kept_in_group(const sel *s, int gi) {
    const nns_dg_group *gr = &s->dg->groups[gi];
    int k = 0;
    for (int i = 0; i < gr->n_units; i++) k += s->keep[gr->units[i]] != 0;
    return k;
}

/* Prune group gi (all kept) down to `want` units, lowest scores first. */
static void prune_group(sel *s, int gi, int want) {
    const nns_dg_group *gr = &s->dg->groups[gi];
    int kept = kept_in_group(s, gi);
    for (int i = 0; i < gr->n_units && kept > want; i++)
        kept -= try_remove(s, s->gorder[gi][i]);
}

static void reset(sel *s) {
    memcpy(s->keep, s->base_keep, (size_t)s->dg->n_units);
    memcpy(s->space_kept, s->base_space_kept, (size_t)s->dg->n_spaces * sizeof(int));
}

/* Per-layer selection with ratio r for every eligible group without an
 * override (overrides are in the base state). */
static void select_layer(sel *s, double r) {
    reset(s);
    for (int gi = 0; gi < s->dg->n_groups; gi++)
        if (s->elig[gi] && s->gratio[gi] < 0)
            prune_group(s, gi, target_keep(s->dg->groups[gi].n_units, r, s->round_to));
}

/* Global selection: the k lowest normalised scores (feasible ones), then
 * each group rounded to a multiple of round_to. */
static void select_global(sel *s, int k) {
    reset(s);
    int removed = 0;
    for (int i = 0; i < s->n_glob && removed < k; i++) removed += try_remove(s, s->glob[i]);
    if (s->round_to <= 1) return;
    const int rt = s->round_to;
    for (int gi = 0; gi < s->dg->n_groups; gi++) {
        if (!s->elig[gi] || s->gratio[gi] >= 0) continue;
        const nns_dg_group *gr = &s->dg->groups[gi];
        int n = gr->n_units, kept = kept_in_group(s, gi);
        if (kept == n) continue;
        int want = n <= rt ? n : rt * (int)lround((double)kept / rt);
        if (want < rt) want = rt;
        if (want > n) want = n;
        /* add back the best removed units, or remove more of the worst kept */
        for (int i = gr->n_units - 1; i >= 0 && kept < want; i--) {
            int u = s->gorder[gi][i];
            if (!s->keep[u]) {
                restore(s, u);
                kept++;
            }
        }
        for (int i = 0; i < gr->n_units && kept > want; i++) kept -= try_remove(s, s->gorder[gi][i]);
    }
}

static int meets(const sel *s, int64_t p0, int64_t m0) {
    int64_t p, m;
    nns_structured_cost(s->dg, s->keep, s->kl, &p, &m);
    const nns_structured_config *c = s->cfg;
    if (c->target_params > 0 && (double)p > (double)c->target_params * (double)p0) return 0;
    if (c->target_macs > 0 && (double)m > (double)c->target_macs * (double)m0) return 0;
    return 1;
}

static nns_status check_config(const nns_structured_config *c) {
    if (!c) return nns_error(NNS_STATUS_INVALID_ARG, "structured pruning: no configuration given");
    if (!(c->ratio >= 0.0f && c->ratio < 1.0f))
        return nns_error(NNS_STATUS_INVALID_ARG, "pruning ratio %g is outside [0, 1)", (double)c->ratio);
    if (!(c->target_params >= 0.0f && c->target_params <= 1.0f))
        return nns_error(NNS_STATUS_INVALID_ARG, "target_params %g is outside [0, 1] (a fraction of the parameters kept)",
                         (double)c->target_params);
    if (!(c->target_macs >= 0.0f && c->target_macs <= 1.0f))
        return nns_error(NNS_STATUS_INVALID_ARG, "target_macs %g is outside [0, 1] (a fraction of the MACs kept)",
                         (double)c->target_macs);
    if ((int)c->criterion < 0 || (int)c->criterion > NNS_PRUNE_CRITERION_TAYLOR)
        return nns_error(NNS_STATUS_INVALID_ARG, "unknown pruning criterion %d", (int)c->criterion);
    if (c->round_to < 0) return nns_error(NNS_STATUS_INVALID_ARG, "round_to must be >= 0, not %d", c->round_to);
    if (c->neurons < 0 || c->neurons > 2)
        return nns_error(NNS_STATUS_INVALID_ARG, "neurons must be 0 (channels and neurons), 1 (neurons only) "
                         "or 2 (channels only), not %d", c->neurons);
    if (c->n_layer_ratios < 0 || (c->n_layer_ratios > 0 && (!c->layer_names || !c->layer_ratios)))
        return nns_error(NNS_STATUS_INVALID_ARG, "layer ratios: %d entries but no names or ratios", c->n_layer_ratios);
    for (int i = 0; i < c->n_layer_ratios; i++) {
        if (!c->layer_names[i]) return nns_error(NNS_STATUS_INVALID_ARG, "layer ratio %d has no layer name", i);
        if (!(c->layer_ratios[i] >= 0.0f && c->layer_ratios[i] < 1.0f))
            return nns_error(NNS_STATUS_INVALID_ARG, "layer '%s': ratio %g is outside [0, 1)", c->layer_names[i],
                             (double)c->layer_ratios[i]);
    }
    if (c->exclude && c->exclude->n > 0 && !c->exclude->names)
        return nns_error(NNS_STATUS_INVALID_ARG, "exclude list: %d names expected, none given", c->exclude->n);
    if (c->exclude)
        for (int i = 0; i < c->exclude->n; i++)
            if (!c->exclude->names[i]) return nns_error(NNS_STATUS_INVALID_ARG, "exclude list: name %d is missing", i);
    if (c->taylor_batches < 0 || c->batch_size < 0)
        return nns_error(NNS_STATUS_INVALID_ARG, "taylor_batches and batch_size must be >= 0");
    if (c->criterion == NNS_PRUNE_CRITERION_TAYLOR && !c->data)
        return nns_error(NNS_STATUS_INVALID_ARG, "criterion 'taylor' needs data: a data set to score on");
    return NNS_OK;
}

static int group_matches(const nns_dg_group *gr, int neurons) {
    if (neurons == 1) return gr->has_gemm && !gr->has_conv;
    if (neurons == 2) return gr->has_conv && !gr->has_gemm;
    return gr->has_conv || gr->has_gemm;
}

static const char *layer_word(const nns_dg_group *gr) {
    return gr->has_conv ? (gr->has_gemm ? "channels/neurons" : "channels") : "neurons";
}

/* Distinct groups of node ni's first output (at most cap), count returned. */
static int node_groups(const nns_depgraph *dg, int ni, int *out, int cap) {
    int v = dg->g->nodes[ni].out[0], k = 0;
    if (!dg->ids[v]) return 0;
    for (int p = 0; p < dg->len[v]; p++) {
        int gi = dg->unit_group[dg->unit_of[dg->ids[v][p]]], seen = 0;
        for (int j = 0; j < k; j++) seen |= out[j] == gi;
        if (!seen && k < cap) out[k++] = gi;
    }
    return k;
}

#define MAX_NODE_GROUPS 64

/* A node by name, or the Conv/Gemm/MatMul whose weight (input 1) is the
 * value of that name (as nns_prune_magnitude's exclusions accept); -1. */
static int find_layer(const nns_graph *g, const char *name) {
    int ni = nns_graph_find_node(g, name);
    if (ni >= 0) return ni;
    int v = nns_graph_find_value(g, name);
    if (v < 0) return -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        if ((n->op == NNS_OP_CONV || n->op == NNS_OP_GEMM || n->op == NNS_OP_MATMUL) && n->n_in > 1 && n->in[1] == v)
            return i;
    }
    return -1;
}

/* The selection's arrays for dg (has_bn and excl included); all are freed
 * by sel_free, whether or not this succeeded. */
static nns_status sel_init(sel *s, nns_graph *w, nns_depgraph *dg, const nns_structured_config *cfg) {
    int nu = dg->n_units, ng = dg->n_groups;
    s->w = w;
    s->dg = dg;
    s->cfg = cfg;
    s->round_to = cfg->round_to;
    s->score = calloc((size_t)(nu ? nu : 1), sizeof(double));
    s->nscore = calloc((size_t)(nu ? nu : 1), sizeof(double));
    s->keep = malloc((size_t)(nu ? nu : 1));
    s->base_keep = malloc((size_t)(nu ? nu : 1));
    s->space_kept = malloc((size_t)(dg->n_spaces ? dg->n_spaces : 1) * sizeof(int));
    s->base_space_kept = malloc((size_t)(dg->n_spaces ? dg->n_spaces : 1) * sizeof(int));
    s->elig = calloc((size_t)(ng ? ng : 1), 1);
    s->gratio = malloc((size_t)(ng ? ng : 1) * sizeof(float));
    s->order = malloc((size_t)(nu ? nu : 1) * sizeof(int));
    s->gorder = calloc((size_t)(ng ? ng : 1), sizeof(int *));
    s->glob = malloc((size_t)(nu ? nu : 1) * sizeof(int));
    s->kl = malloc((size_t)(w->n_values ? w->n_values : 1) * sizeof(int64_t));
    s->has_bn = calloc((size_t)(ng ? ng : 1), 1);
    s->excl = calloc((size_t)(ng ? ng : 1), 1);
    if (!s->score || !s->nscore || !s->keep || !s->base_keep || !s->space_kept || !s->base_space_kept || !s->elig ||
        !s->gratio || !s->order || !s->gorder || !s->glob || !s->kl || !s->has_bn || !s->excl)
        return nns_error(NNS_STATUS_NOMEM, "out of memory for structured pruning");
    for (int gi = 0; gi < ng; gi++) s->gratio[gi] = -1.0f;
    return NNS_OK;
}

static void sel_free(sel *s) {
    free(s->score);
    free(s->nscore);
    free(s->keep);
    free(s->base_keep);
    free(s->space_kept);
    free(s->base_space_kept);
    free(s->elig);
    free(s->gratio);
    free(s->order);
    free(s->gorder);
    free(s->glob);
    free(s->kl);
    free(s->has_bn);
    free(s->excl);
}

/* cfg->exclude marks groups in s->excl; then which groups may be pruned. */
static nns_status mark_eligible(sel *s) {
    const nns_structured_config *cfg = s->cfg;
    int ngs[MAX_NODE_GROUPS];
    if (cfg->exclude)
        for (int i = 0; i < cfg->exclude->n; i++) {
            int ni = find_layer(s->w, cfg->exclude->names[i]);
            if (ni < 0)
                return nns_error(NNS_STATUS_INVALID_ARG, "exclude: the model has no node (or layer weight) named '%s'",
                                 cfg->exclude->names[i]);
            int k = node_groups(s->dg, ni, ngs, MAX_NODE_GROUPS);
            for (int j = 0; j < k; j++) s->excl[ngs[j]] = 1;
        }
    for (int gi = 0; gi < s->dg->n_groups; gi++) {
        const nns_dg_group *gr = &s->dg->groups[gi];
        s->elig[gi] = !gr->fixed && !s->excl[gi] && group_matches(gr, cfg->neurons);
    }
    return NNS_OK;
}

/* Layer nm's ratio r applied to one of its groups gi. */
static nns_status group_ratio(sel *s, const char *nm, int gi, float r) {
    const nns_dg_group *gr = &s->dg->groups[gi];
    if (r <= 0.0f) { /* "leave it alone": always fine */
        if (!gr->fixed && !s->excl[gi]) s->gratio[gi] = 0.0f;
    } else if (gr->fixed) {
        char why[512];
        nns_depgraph_reason(s->dg, gi, why, sizeof why);
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s': its output %s cannot be pruned: %s", nm, layer_word(gr),
                         why);
    } else if (!s->excl[gi]) { /* named: pruned whatever the mode's kind */
        s->gratio[gi] = r;
        s->elig[gi] = 1;
    }
    return NNS_OK;
}

/* cfg's per-layer ratios into s->gratio. */
static nns_status apply_layer_ratios(sel *s) {
    const nns_structured_config *cfg = s->cfg;
    int ngs[MAX_NODE_GROUPS];
    nns_status st = NNS_OK;
    for (int i = 0; i < cfg->n_layer_ratios; i++) {
        const char *nm = cfg->layer_names[i];
        int ni = find_layer(s->w, nm);
        if (ni < 0)
            return nns_error(NNS_STATUS_INVALID_ARG, "layer ratio: the model has no node (or layer weight) named '%s'",
                             nm);
        const nns_node *n = &s->w->nodes[ni];
        if (n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM && n->op != NNS_OP_MATMUL)
            return nns_error(NNS_STATUS_INVALID_ARG, "layer ratio: node '%s' is a %s, not a Conv, Gemm or MatMul layer",
                             nm, n->op_type);
        int k = node_groups(s->dg, ni, ngs, MAX_NODE_GROUPS);
        for (int j = 0; j < k; j++)
            if ((st = group_ratio(s, nm, ngs[j], cfg->layer_ratios[i]))) return st;
    }
    return NNS_OK;
}

/* Criterion 'bn' needs a BatchNormalization on every group it prunes. */
static nns_status check_bn(const sel *s, int use_target) {
    const nns_structured_config *cfg = s->cfg;
    for (int gi = 0; gi < s->dg->n_groups; gi++) {
        if (!s->elig[gi]) continue;
        int active = s->gratio[gi] > 0 || (s->gratio[gi] < 0 && (cfg->ratio > 0 || use_target));
        if (active && cfg->criterion == NNS_PRUNE_CRITERION_BN && !s->has_bn[gi]) {
            const nns_dg_group *gr = &s->dg->groups[gi];
            return nns_error(NNS_STATUS_INVALID_ARG,
                             "criterion 'bn': the %s of node '%s' pass through no BatchNormalization; "
                             "exclude that layer or use another criterion",
                             layer_word(gr), gr->producer >= 0 ? s->w->nodes[gr->producer].name : "?");
        }
    }
    return NNS_OK;
}

/* Per-group order by score; scores normalised by their group's mean. */
static nns_status order_groups(sel *s) {
    int off = 0;
    for (int gi = 0; gi < s->dg->n_groups; gi++) {
        const nns_dg_group *gr = &s->dg->groups[gi];
        s->gorder[gi] = s->order + off;
        memcpy(s->gorder[gi], gr->units, (size_t)gr->n_units * sizeof(int));
        off += gr->n_units;
        double mean = 0.0;
        for (int i = 0; i < gr->n_units; i++) mean += s->score[gr->units[i]];
        mean /= gr->n_units ? gr->n_units : 1;
        for (int i = 0; i < gr->n_units; i++)
            s->nscore[gr->units[i]] = mean > 0 ? s->score[gr->units[i]] / mean : 0.0;
        if (sort_units(s->gorder[gi], gr->n_units, s->score))
            return nns_error(NNS_STATUS_NOMEM, "out of memory for structured pruning");
    }
    return NNS_OK;
}

/* Base state: everything kept, then the per-layer overrides. */
static void set_base(sel *s) {
    const nns_depgraph *dg = s->dg;
    int nu = dg->n_units;
    memset(s->keep, 1, (size_t)(nu ? nu : 1));
    for (int sp = 0; sp < dg->n_spaces; sp++) s->space_kept[sp] = dg->spaces[sp].len;
    for (int gi = 0; gi < dg->n_groups; gi++)
        if (s->elig[gi] && s->gratio[gi] > 0)
            prune_group(s, gi, target_keep(dg->groups[gi].n_units, s->gratio[gi], s->round_to));
    memcpy(s->base_keep, s->keep, (size_t)(nu ? nu : 1));
    memcpy(s->base_space_kept, s->space_kept, (size_t)(dg->n_spaces ? dg->n_spaces : 1) * sizeof(int));
}

/* Parameters and MACs of the unpruned graph. */
static nns_status full_cost(sel *s, int64_t *p0, int64_t *m0) {
    int nu = s->dg->n_units;
    unsigned char *all = malloc((size_t)(nu ? nu : 1));
    if (!all) return nns_error(NNS_STATUS_NOMEM, "out of memory for structured pruning");
    memset(all, 1, (size_t)(nu ? nu : 1));
    nns_structured_cost(s->dg, all, s->kl, p0, m0);
    free(all);
    return NNS_OK;
}

/* Global ranking: the units of the global groups by normalised score; a
 * ratio of them, or the fewest that reach the target. */
static nns_status choose_global(sel *s, int use_target, int64_t p0, int64_t m0) {
    for (int gi = 0; gi < s->dg->n_groups; gi++) {
        if (!s->elig[gi] || s->gratio[gi] >= 0) continue;
        const nns_dg_group *gr = &s->dg->groups[gi];
        for (int i = 0; i < gr->n_units; i++) s->glob[s->n_glob++] = gr->units[i];
    }
    if (sort_units(s->glob, s->n_glob, s->nscore))
        return nns_error(NNS_STATUS_NOMEM, "out of memory for structured pruning");
    if (!use_target) {
        select_global(s, (int)floor(s->cfg->ratio * s->n_glob + 0.5));
        return NNS_OK;
    }
    int lo = 0, hi = s->n_glob;
    select_global(s, hi);
    if (meets(s, p0, m0)) {
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            select_global(s, mid);
            if (meets(s, p0, m0)) hi = mid;
            else lo = mid + 1;
        }
    }
    select_global(s, hi); /* best effort when the target is out of reach */
    return NNS_OK;
}

/* Per layer: cfg's ratio, or one uniform ratio, the smallest that reaches
 * the target. */
static void choose_per_layer(sel *s, int use_target, int64_t p0, int64_t m0) {
    if (!use_target) {
        select_layer(s, s->cfg->ratio);
        return;
    }
    double lo = 0.0, hi = 0.999;
    select_layer(s, hi);
    if (meets(s, p0, m0)) {
        for (int it = 0; it < 30; it++) {
            double mid = 0.5 * (lo + hi);
            select_layer(s, mid);
            if (meets(s, p0, m0)) hi = mid;
            else lo = mid;
        }
    }
    select_layer(s, hi);
}

/* The report's group and channel counts for the selection. */
/* Per-layer mode: the layers asked to lose units (their group's ratio > 0)
 * that rounding left whole, named in r->skipped. */
static void count_skipped(const sel *s, nns_structured_report *r) {
    const nns_structured_config *cfg = s->cfg;
    if (cfg->global || cfg->target_params > 0 || cfg->target_macs > 0 || s->round_to <= 1) return;
    for (int sp = 0; sp < s->dg->n_spaces; sp++) {
        const nns_dg_space *spc = &s->dg->spaces[sp];
        const int gi = spc->group;
        if (spc->kind == NNS_DG_SPACE_KIND_FIXED || gi < 0 || !s->elig[gi] || spc->node < 0) continue;
        const float ratio = s->gratio[gi] >= 0 ? s->gratio[gi] : cfg->ratio;
        const nns_dg_group *gr = &s->dg->groups[gi];
        if (!(ratio > 0) || kept_in_group(s, gi) < gr->n_units || target_keep(gr->n_units, ratio, 1) == gr->n_units)
            continue;
        const size_t at = strlen(r->skipped);
        if (at + 4 < sizeof r->skipped)
            snprintf(r->skipped + at, sizeof r->skipped - at, "%s%s", at ? "," : "", s->w->nodes[spc->node].name);
        if (strlen(r->skipped) >= sizeof r->skipped - 4) strcpy(r->skipped + sizeof r->skipped - 4, "...");
        r->n_skipped++;
    }
}

static void count_selection(const sel *s, nns_structured_report *r) {
    const nns_depgraph *dg = s->dg;
    for (int gi = 0; gi < dg->n_groups; gi++) {
        const nns_dg_group *gr = &dg->groups[gi];
        if (!gr->has_conv && !gr->has_gemm) continue;
        r->groups++;
        if (kept_in_group(s, gi) < gr->n_units) r->groups_pruned++;
    }
    for (int sp = 0; sp < dg->n_spaces; sp++) {
        const int kind = dg->spaces[sp].kind;
        if (kind == NNS_DG_SPACE_KIND_FIXED) continue;
        r->channels_before += dg->spaces[sp].len;
        r->channels_after += s->space_kept[sp];
        *(kind == NNS_DG_SPACE_KIND_CONV ? &r->conv_before : &r->neurons_before) += dg->spaces[sp].len;
        *(kind == NNS_DG_SPACE_KIND_CONV ? &r->conv_after : &r->neurons_after) += s->space_kept[sp];
    }
    count_skipped(s, r);
}

static nns_status graph_macs(nns_graph *w, int64_t *macs) {
    nns_layer_info *L = NULL;
    int nl = 0;
    nns_status st = nns_graph_summarize(w, &L, &nl, NULL, NULL, macs);
    if (st) return st;
    free(L);
    return NNS_OK;
}

/* Removes the selected units from s->w (the copy) and fills r; g takes the
 * pruned contents when anything was removed. */
static nns_status remove_selected(sel *s, nns_graph *g, nns_structured_report *r) {
    nns_graph *w = s->w;
    nns_status st;
    int removed = 0;
    for (int u = 0; u < s->dg->n_units; u++) removed += !s->keep[u];
    count_selection(s, r);
    r->params_before = nns_graph_n_params(w);
    int64_t mb = 0, ma = 0;
    if ((st = graph_macs(w, &mb))) return st;
    if (removed && (st = nns_structured_apply(w, s->dg, s->keep))) return st;
    r->params_after = nns_graph_n_params(w);
    if ((st = graph_macs(w, &ma))) return st;
    r->macs_before = mb;
    r->macs_after = ma;
    if (removed) { /* swap: g takes the pruned contents, w the old ones */
        nns_graph tmp = *g;
        *g = *w;
        *w = tmp;
    }
    return NNS_OK;
}

/* Chooses the units to remove (s initialised, w finalised). */
static nns_status select_units(sel *s) {
    const nns_structured_config *cfg = s->cfg;
    nns_status st;
    if ((st = mark_eligible(s)) || (st = apply_layer_ratios(s))) return st;
    free(s->excl);
    s->excl = NULL;
    if ((st = nns_structured_score(s->w, s->dg, cfg, s->score, s->has_bn))) return st;
    int use_target = cfg->target_params > 0 || cfg->target_macs > 0;
    if ((st = check_bn(s, use_target)) || (st = order_groups(s))) return st;
    set_base(s);
    int64_t p0, m0;
    if ((st = full_cost(s, &p0, &m0))) return st;
    if (cfg->global) return choose_global(s, use_target, p0, m0);
    choose_per_layer(s, use_target, p0, m0);
    return NNS_OK;
}

nns_status nns_prune_structured(nns_graph *g, const nns_structured_config *cfg,
                                nns_structured_report *rep) {
    if (rep) memset(rep, 0, sizeof *rep);
    if (!g) return nns_error(NNS_STATUS_INVALID_ARG, "structured pruning: no graph given");
    nns_status st = check_config(cfg);
    if (st) return st;
    nns_graph *w = NULL;
    nns_depgraph *dg = NULL;
    sel s;
    memset(&s, 0, sizeof s);
    if ((st = nns_graph_clone(g, &w))) return st;
    if ((st = nns_graph_finalize(w)) || (st = nns_graph_pack_params(w))) goto done;
    if ((st = nns_depgraph_build(w, &dg))) goto done;
    if ((st = sel_init(&s, w, dg, cfg)) || (st = select_units(&s))) goto done;
    nns_structured_report r;
    memset(&r, 0, sizeof r);
    if ((st = remove_selected(&s, g, &r))) goto done;
    if (rep) *rep = r;
done:
    nns_depgraph_free(dg);
    nns_graph_free(w);
    sel_free(&s);
    return st;
}
