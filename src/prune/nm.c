/* nm.c — N:M semi-structured sparsity.
 *
 * Every prunable weight (prune_util.h) is seen as rows along its reduction
 * (input) dimension: for Gemm/MatMul the in-features of one output, for Conv
 * the C/group*kH*kW elements of one filter in memory order. Each row is cut
 * into groups of M consecutive elements; in each group the N of largest |w|
 * are kept (equal magnitudes: the later element is kept, as in magnitude
 * pruning where ties are pruned in memory order). A trailing group of L < M
 * elements (row length not a multiple of M) keeps min(N, L), as if padded
 * with zeros. Weights already masked stay masked, so a group may keep fewer
 * than N; fine-tuning keeps the pattern because the optimizer applies the
 * masks. */
#include <stdlib.h>
#include <string.h>

#include "prune/prune_util.h"

nns_status nns_prune_nm(nns_graph *g, int n, int m, const nns_prune_exclude *ex) {
    const char *what = "N:M pruning";
    if (!g) return nns_error(NNS_STATUS_INVALID_ARG, "%s: graph is NULL", what);
    nns_graph_params_changed(g);
    if (!(n > 0 && m > n))
        return nns_error(NNS_STATUS_INVALID_ARG, "%s: %d:%d is not a valid pattern (need 0 < N < M)", what, n, m);
    nns_prune_target *t;
    int nt;
    nns_status st = nns_prune_targets(g, ex, what, &t, &nt);
    if (st) return st;
    int any = 0;
    for (int k = 0; k < nt; k++) any |= !t[k].excluded;
    if (!any) {
        free(t);
        return nns_error(NNS_STATUS_INVALID_ARG, "%s: the model has no prunable weights (Conv, Gemm, MatMul)%s", what,
                         nt ? " outside the excluded layers" : "");
    }
    float *score = malloc((size_t)m * sizeof(float));
    float *sel = malloc((size_t)m * sizeof(float));
    if (!score || !sel) {
        free(score);
        free(sel);
        free(t);
        return nns_error(NNS_STATUS_NOMEM, "%s: out of memory", what);
    }
    int had_masks = g->masks != NULL;
    if ((st = nns_prune_masks_ensure(g)) || (st = nns_prune_mark(g))) {
        if (!had_masks) {
            free(g->masks);
            g->masks = NULL;
        }
        free(score);
        free(sel);
        free(t);
        return st;
    }
    for (int k = 0; k < nt; k++) {
        const nns_prune_target *tk = &t[k];
        if (tk->excluded) continue;
        const int64_t off = g->values[tk->value].param_offset;
        float *w = g->params + off, *mk = g->masks + off;
        for (int64_t o = 0; o < tk->outer; o++) {
            for (int64_t r0 = 0; r0 < tk->red; r0 += m) {
                const int len = (int)(tk->red - r0 < m ? tk->red - r0 : m);
                const int keep = len < n ? len : n;
                int live = 0;
                for (int i = 0; i < len; i++) {
                    int64_t a = nns_prune_target_at(tk, o, r0 + i);
                    if (mk[a] == 0.0f) {
                        w[a] = 0.0f;
                        score[i] = -1.0f;
                    } else {
                        score[i] = nns_prune_score(w[a]);
                        sel[live++] = score[i];
                    }
                }
                int want = live - keep; /* unmasked weights to prune */
                if (want <= 0) continue;
                float thr = nns_prune_select_kth(sel, live, want - 1);
                int below = 0;
                for (int i = 0; i < len; i++) below += score[i] >= 0.0f && score[i] < thr;
                int ties = want - below;
                for (int i = 0; i < len; i++) {
                    if (score[i] < 0.0f) continue;
                    if (score[i] < thr || (score[i] == thr && ties > 0)) {
                        if (score[i] == thr) ties--;
                        int64_t a = nns_prune_target_at(tk, o, r0 + i);
                        mk[a] = 0.0f;
                        w[a] = 0.0f;
                    }
                }
            }
        }
    }
    free(score);
    free(sel);
    free(t);
    return NNS_OK;
}
