/* prune_util.c — prunable weights, exclusions, masks, k-th smallest select
 * (see prune_util.h). */
#include <stdlib.h>
#include <string.h>

#include "graph/weights.h"
#include "ops/op.h"
#include "prune/prune_util.h"

static int name_in(const nns_prune_exclude *ex, const char *s) {
    if (!ex || !s) return 0;
    for (int i = 0; i < ex->n; i++)
        if (ex->names[i] && strcmp(ex->names[i], s) == 0) return 1;
    return 0;
}

nns_status nns_prune_targets(const nns_graph *g, const nns_prune_exclude *ex, const char *what,
                             nns_prune_target **out, int *n_out) {
    *out = NULL;
    *n_out = 0;
    if (ex && ex->n < 0) return nns_error(NNS_STATUS_INVALID_ARG, "%s: negative exclusion count %d", what, ex->n);
    if (ex && ex->n > 0 && !ex->names) return nns_error(NNS_STATUS_INVALID_ARG, "%s: exclusion list is NULL", what);
    nns_weight_ref *w = NULL;
    int n = 0;
    nns_status st = nns_graph_list_weights(g, &w, &n);
    if (st) return st;
    for (int k = 0; k < n; k++)
        if (w[k].dtype != NNS_DTYPE_F32) {
            nns_status e = nns_error(NNS_STATUS_UNSUPPORTED, "%s: weight '%s' of node '%s' is %s; only f32 weights "
                                     "can be pruned", what, g->values[w[k].value].name, g->nodes[w[k].node].name,
                                     nns_dtype_name(w[k].dtype));
            free(w);
            return e;
        }
    nns_prune_target *t = malloc((size_t)(n > 0 ? n : 1) * sizeof *t);
    if (!t) {
        free(w);
        return nns_error(NNS_STATUS_NOMEM, "%s: out of memory", what);
    }
    for (int k = 0; k < n; k++)
        t[k] = (nns_prune_target){.value = w[k].value, .node = w[k].node, .numel = w[k].numel,
                                  .outer = w[k].outer, .red = w[k].red, .inner = w[k].inner,
                                  .inner_stride = w[k].inner_stride, .batch_stride = w[k].batch_stride,
                                  .red_stride = w[k].red_stride};
    free(w);
    /* excluded when any node that contracts it is: an auxiliary node (a
     * distiller's hint adapters train with the student but are not part of
     * it: never pruned, not counted) or one the caller names */
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *nd = &g->nodes[i];
        for (int j = 0; j < nd->n_in && j < 2; j++) {
            nns_weight_ref r;
            if (!nns_weight_layout(g, i, j, &r)) continue;
            int excl = nd->aux || name_in(ex, nd->name) || name_in(ex, g->values[r.value].name);
            for (int k = 0; k < n; k++)
                if (t[k].value == r.value) t[k].excluded |= excl;
        }
    }
    /* every exclusion must name something */
    for (int e = 0; ex && e < ex->n; e++) {
        const char *s = ex->names[e];
        if (!s || !*s) {
            free(t);
            return nns_error(NNS_STATUS_INVALID_ARG, "%s: empty layer name in the exclusion list", what);
        }
        int found = nns_graph_find_node(g, s) >= 0;
        for (int k = 0; k < n && !found; k++) found = strcmp(g->values[t[k].value].name, s) == 0;
        if (!found) {
            free(t);
            return nns_error(NNS_STATUS_INVALID_ARG, "%s: cannot exclude '%s': the model has no node (layer) of that name",
                             what, s);
        }
    }
    if (!n) {
        free(t);
        t = NULL;
    }
    *out = t;
    *n_out = n;
    return NNS_OK;
}

nns_status nns_prune_masks_ensure(nns_graph *g) { return nns_graph_masks_ensure(g); }

nns_status nns_prune_mark(nns_graph *g) {
    const char *v = nns_graph_get_meta(g, "nnslim.pruned");
    if (v && strcmp(v, "1") == 0) return NNS_OK;
    return nns_graph_set_meta(g, "nnslim.pruned", "1");
}

nns_status nns_prune_masks_from_zeros(nns_graph *g) { return nns_graph_masks_from_zeros(g); }

static inline void swapf(float *a, float *b) {
    float t = *a;
    *a = *b;
    *b = t;
}

float nns_prune_select_kth(float *a, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
        float p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        /* three-way partition: [lo, lt) < p, [lt, gt] == p, (gt, hi] > p */
        int64_t lt = lo, i = lo, gt = hi;
        while (i <= gt) {
            if (a[i] < p) swapf(&a[lt++], &a[i++]);
            else if (a[i] > p) swapf(&a[i], &a[gt--]);
            else i++;
        }
        if (k < lt) hi = lt - 1;
        else if (k > gt) lo = gt + 1;
        else return p;
    }
    return a[lo];
}

int nns_prune_is_weight_layer(const nns_graph *g, int i) {
    const nns_op_def *def = i >= 0 && i < g->n_nodes ? nns_op_def_of(&g->nodes[i]) : NULL;
    return def && def->weight_axes != NULL;
}
