/* prune_util.c — prunable weights, exclusions, masks, k-th smallest select
 * (see prune_util.h). */
#include <stdlib.h>
#include <string.h>

#include "nnslim/distill.h"
#include "ops/op.h"
#include "prune/prune_util.h"

static int name_in(const nns_prune_exclude *ex, const char *s) {
    if (!ex || !s) return 0;
    for (int i = 0; i < ex->n; i++)
        if (ex->names[i] && strcmp(ex->names[i], s) == 0) return 1;
    return 0;
}

/* Reduction layout of input slot j of node n as weight v, from the op
 * table's weight axes; 0 if not a prunable slot or an unexpected rank. */
static int layout_of(const nns_node *n, int j, const nns_value *v, nns_prune_target *t) {
    const nns_shape *s = &v->shape;
    int64_t numel = nns_shape_numel(s);
    if (numel <= 0) return 0;
    nns_weight_axes ax;
    if (!nns_op_weight_axes(n, j, s->ndim, &ax)) return 0;
    memset(t, 0, sizeof *t);
    t->numel = numel;
    if (ax.out_axis < 0) { /* one reduction row */
        t->outer = t->inner = 1;
        t->red = numel;
        t->red_stride = 1;
        return 1;
    }
    int64_t stride[NNS_MAX_DIMS];
    int64_t st = 1;
    for (int d = s->ndim - 1; d >= 0; d--) {
        stride[d] = st;
        st *= s->dims[d];
    }
    int nb = ax.out_axis < ax.red_first ? ax.out_axis : ax.red_first; /* batch axes */
    int64_t batch = 1;
    for (int d = 0; d < nb; d++) batch *= s->dims[d];
    t->inner = s->dims[ax.out_axis];
    t->outer = batch * t->inner;
    t->red = nns_weight_fan_in(s, &ax);
    t->inner_stride = stride[ax.out_axis];
    t->red_stride = stride[ax.red_last];
    t->batch_stride = nb > 0 ? stride[nb - 1] : 0;
    return 1;
}

static int is_weight_value(const nns_graph *g, int v) {
    const nns_value *val = &g->values[v];
    return val->kind == NNS_VALUE_KIND_PARAM && val->trainable && val->dtype == NNS_DTYPE_F32 && val->data;
}

nns_status nns_prune_targets(const nns_graph *g, const nns_prune_exclude *ex, const char *what,
                             nns_prune_target **out, int *n_out) {
    *out = NULL;
    *n_out = 0;
    if (ex && ex->n < 0) return nns_error(NNS_STATUS_INVALID_ARG, "%s: negative exclusion count %d", what, ex->n);
    if (ex && ex->n > 0 && !ex->names) return nns_error(NNS_STATUS_INVALID_ARG, "%s: exclusion list is NULL", what);
    nns_prune_target *t = malloc((size_t)(g->n_nodes * 2 + 1) * sizeof *t);
    if (!t) return nns_error(NNS_STATUS_NOMEM, "%s: out of memory", what);
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *nd = &g->nodes[i];
        for (int j = 0; j < nd->n_in && j < 2; j++) {
            int v = nd->in[j];
            if (v < 0 || !is_weight_value(g, v)) continue;
            nns_prune_target cand;
            if (!layout_of(nd, j, &g->values[v], &cand)) continue;
            /* a distiller's hint adapters train with the student but are
             * not part of it: never pruned, not counted */
            int adapter = !strncmp(nd->name, NNS_DISTILL_ADAPTER_PREFIX, strlen(NNS_DISTILL_ADAPTER_PREFIX));
            int excl = adapter || name_in(ex, nd->name) || name_in(ex, g->values[v].name);
            int k;
            for (k = 0; k < n && t[k].value != v; k++) {}
            if (k < n) {
                t[k].excluded |= excl;
                continue;
            }
            cand.value = v;
            cand.node = i;
            cand.excluded = excl;
            t[n++] = cand;
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

nns_status nns_prune_masks_ensure(nns_graph *g) {
    nns_status st = nns_graph_pack_params(g);
    if (st) return st;
    if (g->masks) return NNS_OK;
    float *m = malloc((size_t)(g->n_params ? g->n_params : 1) * sizeof(float));
    if (!m) return nns_error(NNS_STATUS_NOMEM, "out of memory for %lld pruning masks", (long long)g->n_params);
    for (int64_t i = 0; i < g->n_params; i++) m[i] = 1.0f;
    g->masks = m;
    return NNS_OK;
}

nns_status nns_prune_mark(nns_graph *g) {
    const char *v = nns_graph_get_meta(g, "nnslim.pruned");
    if (v && strcmp(v, "1") == 0) return NNS_OK;
    return nns_graph_set_meta(g, "nnslim.pruned", "1");
}

nns_status nns_prune_masks_from_zeros(nns_graph *g) {
    nns_prune_target *t;
    int n;
    nns_status st = nns_prune_targets(g, NULL, "pruning masks", &t, &n);
    if (st) return st;
    if ((st = nns_prune_masks_ensure(g))) {
        free(t);
        return st;
    }
    for (int k = 0; k < n; k++) {
        const nns_value *v = &g->values[t[k].value];
        if (v->param_offset < 0) continue;
        const float *w = g->params + v->param_offset;
        float *m = g->masks + v->param_offset;
        for (int64_t i = 0; i < t[k].numel; i++)
            if (w[i] == 0.0f) m[i] = 0.0f;
    }
    free(t);
    return NNS_OK;
}

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
