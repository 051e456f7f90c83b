/* structured_score.c — importance of each channel unit for structured
 * pruning: L1 / L2 norms of the producers' filters, BatchNorm |gamma|, and
 * first-order Taylor |mean(activation x gradient)| (see
 * docs/pruning_structured.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnslim/prune.h"
#include "nnslim/train.h"
#include "prune/depgraph.h"
#include "runtime/plan.h"

/* L1 or L2 norm of each output filter / neuron of every producer. */
static void score_norm(const nns_graph *w, const nns_depgraph *dg, int l2, double *score) {
    for (int s = 0; s < dg->n_spaces; s++) {
        const nns_dg_space *sp = &dg->spaces[s];
        if (sp->kind == NNS_DG_SPACE_KIND_FIXED) continue;
        const nns_node *n = &w->nodes[sp->node];
        const nns_value *wv = &w->values[n->in[1]];
        const float *wd = wv->data;
        int64_t rows, cols;
        int by_col = 0; /* neuron j is column j of a [K, N] matrix */
        if (sp->kind == NNS_DG_SPACE_KIND_CONV) {
            rows = wv->shape.dims[0];
            cols = nns_shape_numel(&wv->shape) / (rows ? rows : 1);
        } else {
            int tb = n->op == NNS_OP_GEMM && nns_node_attr_int(n, "transB", 0);
            rows = wv->shape.dims[0];
            cols = wv->shape.dims[1];
            by_col = !tb;
        }
        for (int j = 0; j < sp->len; j++) {
            double acc = 0.0;
            if (!by_col) {
                const float *r = wd + (int64_t)j * cols;
                for (int64_t k = 0; k < cols; k++) acc += l2 ? (double)r[k] * r[k] : fabs((double)r[k]);
            } else {
                for (int64_t k = 0; k < rows; k++) {
                    double x = wd[k * cols + j];
                    acc += l2 ? x * x : fabs(x);
                }
            }
            score[dg->unit_of[sp->first + j]] += l2 ? sqrt(acc) : acc;
        }
    }
}

static void mark_bn(const nns_graph *w, const nns_depgraph *dg, double *score, unsigned char *has_bn) {
    for (int i = 0; i < w->n_nodes; i++) {
        const nns_node *n = &w->nodes[i];
        if (n->op != NNS_OP_BATCHNORM) continue;
        int x = n->in[0];
        if (!dg->ids[x] || dg->slice_src[n->in[1] * NNS_MAX_DIMS] != x) continue; /* not followed */
        const float *gamma = w->values[n->in[1]].data;
        for (int p = 0; p < dg->len[x]; p++) {
            int u = dg->unit_of[dg->ids[x][p]];
            if (score) score[u] += fabs((double)gamma[p]);
            has_bn[dg->unit_group[u]] = 1;
        }
    }
}

/* The values Taylor scores: each producer's output, or the output of the
 * BatchNormalization that is its only consumer. */
static int taylor_value(const nns_graph *w, const nns_dg_space *sp) {
    int v = sp->value, bn = -1, consumers = 0;
    for (int i = 0; i < w->n_nodes; i++) {
        const nns_node *n = &w->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] == v) {
                consumers++;
                if (j == 0 && n->op == NNS_OP_BATCHNORM) bn = n->out[0];
            }
    }
    return consumers == 1 && bn >= 0 ? bn : v;
}

static nns_status score_taylor(nns_graph *w, const nns_depgraph *dg, const nns_structured_config *cfg,
                               double *score) {
    const nns_dataset *d = cfg->data;
    if (!d || d->n < 1 || !d->x || !d->y)
        return nns_error(NNS_STATUS_INVALID_ARG, "criterion 'taylor' needs data: a non-empty data set to score on");
    nns_status st = nns_check_data(w, d);
    if (st) return st;
    int bs = cfg->batch_size > 0 ? cfg->batch_size : 64;
    int nb = cfg->taylor_batches > 0 ? cfg->taylor_batches : 4;
    if (bs > d->n) bs = (int)d->n;
    int classes = (int)w->values[w->outputs[0]].shape.dims[1];
    int64_t per = (int64_t)d->c * d->h * d->w;
    float *grads = calloc((size_t)(w->n_params ? w->n_params : 1), sizeof(float));
    int *tv = malloc((size_t)(dg->n_spaces ? dg->n_spaces : 1) * sizeof(int));
    nns_plan *p = NULL;
    if (!grads || !tv) {
        st = nns_error(NNS_STATUS_NOMEM, "out of memory for the Taylor criterion");
        goto done;
    }
    for (int s = 0; s < dg->n_spaces; s++)
        tv[s] = dg->spaces[s].kind == NNS_DG_SPACE_KIND_FIXED ? -1 : taylor_value(w, &dg->spaces[s]);
    if ((st = nns_plan_create(w, bs, 1, grads, &p)) || (st = nns_plan_check_f32_io(p, "structured pruning's scoring"))) goto done;
    for (int b = 0; b < nb; b++) {
        int64_t first = (int64_t)b * bs;
        if (first >= d->n) break;
        int n = (int)(d->n - first < bs ? d->n - first : bs);
        if ((st = nns_plan_set_batch(p, n))) goto done;
        memcpy(nns_tv_f32(nns_plan_input(p, 0)), d->x + first * per, (size_t)(n * per) * sizeof(float));
        /* inference mode: BN running statistics, no dropout, nothing updated */
        nns_plan_forward(p, 0);
        nns_plan_zero_act_grads(p);
        nns_tv *out = nns_plan_output(p, 0);
        if (!out->grad) {
            st = nns_error(NNS_STATUS_INTERNAL, "taylor: the output '%s' has no gradient", w->values[w->outputs[0]].name);
            goto done;
        }
        nns_loss_softmax_ce(nns_tv_f32(out), d->y + first, n, classes, 0.0f, out->grad);
        nns_plan_backward(p);
        for (int s = 0; s < dg->n_spaces; s++) {
            if (tv[s] < 0) continue;
            int v = tv[s];
            nns_tv *t = nns_plan_tv(p, v);
            if (!t->grad || !dg->ids[v]) continue;
            int64_t c = t->shape.dims[1], sp = 1;
            for (int k = 2; k < t->shape.ndim; k++) sp *= t->shape.dims[k];
            if (c != dg->len[v]) continue;
            for (int64_t ch = 0; ch < c; ch++) {
                double acc = 0.0;
                for (int i = 0; i < n; i++) {
                    const float *a = nns_tv_cf32(t) + ((int64_t)i * c + ch) * sp;
                    const float *gr = t->grad + ((int64_t)i * c + ch) * sp;
                    for (int64_t k = 0; k < sp; k++) acc += (double)a[k] * gr[k];
                }
                score[dg->unit_of[dg->ids[v][ch]]] += fabs(acc / ((double)n * sp));
            }
        }
    }
done:
    nns_plan_free(p);
    free(grads);
    free(tv);
    return st;
}

nns_status nns_structured_score(nns_graph *w, nns_depgraph *dg, const nns_structured_config *cfg,
                                double *score, unsigned char *has_bn) {
    memset(score, 0, (size_t)dg->n_units * sizeof(double));
    memset(has_bn, 0, (size_t)(dg->n_groups ? dg->n_groups : 1));
    switch (cfg->criterion) {
    case NNS_PRUNE_CRITERION_L1:
        score_norm(w, dg, 0, score);
        break;
    case NNS_PRUNE_CRITERION_L2:
        score_norm(w, dg, 1, score);
        break;
    case NNS_PRUNE_CRITERION_BN:
        mark_bn(w, dg, score, has_bn);
        return NNS_OK;
    case NNS_PRUNE_CRITERION_TAYLOR: {
        nns_status st = score_taylor(w, dg, cfg, score);
        if (st) return st;
        break;
    }
    default:
        return nns_error(NNS_STATUS_INVALID_ARG, "unknown pruning criterion %d", (int)cfg->criterion);
    }
    mark_bn(w, dg, NULL, has_bn);
    return NNS_OK;
}
