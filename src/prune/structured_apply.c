/* structured_apply.c — counting and physically removing pruned channel
 * units: every initializer that depends on them is sliced, depthwise group
 * counts follow, then the graph is re-finalized and its parameters (and
 * masks) repacked. */
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "prune/depgraph.h"

/* Kept size of dim `dim` of value v. */
static int64_t kept_dim(const nns_depgraph *dg, int v, int dim, const int64_t *kl) {
    int src = dim < NNS_MAX_DIMS ? dg->slice_src[v * NNS_MAX_DIMS + dim] : -1;
    return src >= 0 ? kl[src] : dg->g->values[v].shape.dims[dim];
}

/* Shape of value v after pruning, per image: a dynamic batch (dim 0 of -1)
 * counts 1, a sliced initializer dim its kept length, an activation's
 * channels (dim 1) their kept number. */
static nns_shape kept_shape(const nns_depgraph *dg, int v, const int64_t *kl) {
    const nns_value *val = &dg->g->values[v];
    nns_shape s = val->shape;
    if (val->kind == NNS_VALUE_KIND_PARAM || val->kind == NNS_VALUE_KIND_CONST) {
        for (int k = 0; k < s.ndim; k++) s.dims[k] = kept_dim(dg, v, k, kl);
    } else if (s.ndim >= 2) {
        s.dims[1] = kl[v];
    }
    if (s.ndim >= 1 && s.dims[0] < 0) s.dims[0] = 1;
    return s;
}

void nns_structured_cost(const nns_depgraph *dg, const unsigned char *keep, int64_t *kl,
                         int64_t *params, int64_t *macs) {
    const nns_graph *g = dg->g;
    for (int v = 0; v < g->n_values; v++) kl[v] = nns_depgraph_kept_len(dg, v, keep);
    int64_t tp = 0, tm = 0;
    for (int v = 0; v < g->n_values; v++) {
        const nns_value *val = &g->values[v];
        if (val->kind != NNS_VALUE_KIND_PARAM || !val->trainable) continue;
        int64_t n = 1;
        for (int k = 0; k < val->shape.ndim; k++) {
            int64_t e = kept_dim(dg, v, k, kl);
            n *= e > 0 ? e : 0;
        }
        tp += n;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        const nns_op_def *def = nns_op_def_of(n);
        if (!def || !def->macs || n->n_in > NNS_MAX_NODE_IO) continue;
        nns_shape s[NNS_MAX_NODE_IO], y = kept_shape(dg, n->out[0], kl);
        const nns_shape *in[NNS_MAX_NODE_IO] = {0};
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) {
                s[j] = kept_shape(dg, n->in[j], kl);
                in[j] = &s[j];
            }
        tm += def->macs(n, in, &y);
    }
    *params = tp;
    *macs = tm;
}

/* dst = src restricted to the index lists idx[d] (NULL: every index). */
static float *gather(const float *src, const nns_shape *s, int d, int *const *idx, const int64_t *cnt,
                     const int64_t *stride, float *dst) {
    if (d == s->ndim) {
        *dst++ = *src;
        return dst;
    }
    if (d == s->ndim - 1 && !idx[d]) {
        memcpy(dst, src, (size_t)cnt[d] * sizeof(float));
        return dst + cnt[d];
    }
    for (int64_t i = 0; i < cnt[d]; i++) {
        int64_t j = idx[d] ? idx[d][i] : i;
        dst = gather(src + j * stride[d], s, d + 1, idx, cnt, stride, dst);
    }
    return dst;
}

nns_status nns_structured_apply(nns_graph *w, const nns_depgraph *dg, const unsigned char *keep) {
    nns_graph_params_changed(w);
    int nv = w->n_values;
    int **kidx = calloc((size_t)(nv ? nv : 1), sizeof(int *)); /* kept positions per src value */
    int64_t *kcnt = calloc((size_t)(nv ? nv : 1), sizeof(int64_t));
    float **ndata = calloc((size_t)(nv ? nv : 1), sizeof(float *));
    float **nmask = calloc((size_t)(nv ? nv : 1), sizeof(float *));
    nns_shape *nshape = calloc((size_t)(nv ? nv : 1), sizeof(nns_shape));
    nns_status st = NNS_OK;
    if (!kidx || !kcnt || !ndata || !nmask || !nshape) {
        st = nns_error(NNS_STATUS_NOMEM, "out of memory removing pruned channels");
        goto done;
    }
    for (int v = 0; v < nv; v++) {
        if (!dg->ids[v]) continue;
        int64_t k = 0;
        for (int p = 0; p < dg->len[v]; p++) k += keep[dg->unit_of[dg->ids[v][p]]] != 0;
        kcnt[v] = k;
        if (k == dg->len[v]) continue; /* nothing removed: kidx stays NULL */
        kidx[v] = malloc((size_t)(k ? k : 1) * sizeof(int));
        if (!kidx[v]) {
            st = nns_error(NNS_STATUS_NOMEM, "out of memory removing pruned channels");
            goto done;
        }
        k = 0;
        for (int p = 0; p < dg->len[v]; p++)
            if (keep[dg->unit_of[dg->ids[v][p]]]) kidx[v][k++] = p;
    }
    /* slice */
    for (int v = 0; v < nv; v++) {
        nns_value *val = &w->values[v];
        int *idx[NNS_MAX_DIMS] = {0};
        int64_t cnt[NNS_MAX_DIMS], stride[NNS_MAX_DIMS];
        int changed = 0;
        nns_shape ns = val->shape;
        for (int d = 0; d < val->shape.ndim; d++) {
            int src = dg->slice_src[v * NNS_MAX_DIMS + d];
            cnt[d] = val->shape.dims[d];
            if (src < 0 || !kidx[src]) continue;
            if (kcnt[src] < 1 || dg->len[src] != val->shape.dims[d]) {
                st = nns_error(NNS_STATUS_INTERNAL, "pruning would leave no channels in '%s'", val->name);
                goto done;
            }
            idx[d] = kidx[src];
            cnt[d] = kcnt[src];
            ns.dims[d] = kcnt[src];
            changed = 1;
        }
        if (!changed) continue;
        int64_t s = 1;
        for (int d = val->shape.ndim - 1; d >= 0; d--) {
            stride[d] = s;
            s *= val->shape.dims[d];
        }
        int64_t n = nns_shape_numel(&ns);
        ndata[v] = malloc((size_t)(n ? n : 1) * sizeof(float));
        if (!ndata[v]) {
            st = nns_error(NNS_STATUS_NOMEM, "out of memory slicing '%s'", val->name);
            goto done;
        }
        gather(val->data, &val->shape, 0, idx, cnt, stride, ndata[v]);
        if (w->masks && val->param_offset >= 0) {
            nmask[v] = malloc((size_t)(n ? n : 1) * sizeof(float));
            if (!nmask[v]) {
                st = nns_error(NNS_STATUS_NOMEM, "out of memory slicing the mask of '%s'", val->name);
                goto done;
            }
            gather(w->masks + val->param_offset, &val->shape, 0, idx, cnt, stride, nmask[v]);
        }
        nshape[v] = ns;
    }
    /* depthwise convolutions: group = kept channels */
    for (int i = 0; i < w->n_nodes; i++) {
        if (!dg->dw[i]) continue;
        int x = w->nodes[i].in[0];
        if (!kidx[x]) continue;
        if ((st = nns_graph_set_attr_int(w, i, "group", kcnt[x]))) goto done;
    }
    /* commit: the work graph owns the new buffers from here on */
    for (int v = 0; v < nv; v++) {
        if (!ndata[v]) continue;
        nns_value *val = &w->values[v];
        if (val->param_offset < 0) free(val->data);
        val->data = ndata[v];
        ndata[v] = NULL;
        val->param_offset = -1;
        val->shape = nshape[v];
    }
    if ((st = nns_graph_finalize(w))) goto done;
    if ((st = nns_graph_pack_params(w))) goto done;
    if (w->masks)
        for (int v = 0; v < nv; v++) {
            if (!nmask[v]) continue;
            const nns_value *val = &w->values[v];
            if (val->param_offset >= 0)
                memcpy(w->masks + val->param_offset, nmask[v],
                       (size_t)nns_shape_numel(&val->shape) * sizeof(float));
        }
done:
    if (kidx)
        for (int v = 0; v < nv; v++) free(kidx[v]);
    if (ndata)
        for (int v = 0; v < nv; v++) free(ndata[v]);
    if (nmask)
        for (int v = 0; v < nv; v++) free(nmask[v]);
    free(kidx);
    free(kcnt);
    free(ndata);
    free(nmask);
    free(nshape);
    return st;
}
