/*
 * mixed.c — mixed precision for an accuracy budget (nns_quantize_max_loss,
 * nnslim/quant.h): the per-layer sensitivity (each layer quantized alone),
 * then the most sensitive layers kept in float, one more at a time, until
 * the whole model quantized with the rest loses at most the budget on the
 * evaluation images; g is quantized with that choice. And for a size
 * budget (nns_quantize_max_bytes): from every layer quantized, the layers
 * whose quantization costs accuracy kept in float, most sensitive first,
 * each while the model still fits.
 */
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "nnslim/quant.h"

/* Unit indices by decreasing accuracy drop (most sensitive first). */
static void order_by_drop(const nns_sweep_table *t, int *ord) {
    for (int i = 0; i < t->n_units; i++) ord[i] = i;
    for (int i = 1; i < t->n_units; i++) /* insertion sort: a few dozen layers */
        for (int j = i; j > 0 && t->score[ord[j]] < t->score[ord[j - 1]]; j--) {
            const int x = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = x;
        }
}

/* Accuracy on eval of g quantized by cfg (a copy; g untouched). */
static nns_status try_keep(const nns_graph *g, const nns_dataset *calib, const nns_sweep_eval_data *ed,
                           const nns_ptq_config *cfg, float *acc) {
    nns_graph *q = NULL;
    nns_ptq_result r;
    nns_status st = nns_graph_clone(g, &q);
    if (!st) st = nns_quantize_ptq(q, calib, cfg, &r);
    if (!st) st = nns_sweep_eval_accuracy((void *)ed, q, acc);
    nns_graph_free(q);
    return st;
}

/* What both budgets start from: the layers' sensitivity, their order (most
 * sensitive first), and cfg with a keep list that has room for them all. */
typedef struct mixed_plan {
    nns_sweep_table t;
    int *ord;
    const char **keep;
    nns_ptq_config c;
} mixed_plan;

static void mixed_free(mixed_plan *m) {
    free(m->ord);
    free(m->keep);
    nns_sweep_table_free(&m->t);
}

static nns_status mixed_begin(const nns_graph *g, const nns_dataset *calib, nns_sweep_eval_data *ed,
                              const nns_ptq_config *cfg, mixed_plan *m, float *base_acc) {
    memset(m, 0, sizeof *m);
    nns_status st = nns_quant_sensitivity(g, calib, cfg, nns_sweep_eval_accuracy, ed, NULL, NULL, &m->t);
    if (st) return st;
    *base_acc = m->t.baseline;
    const int n = m->t.n_units, nk = cfg->n_keep;
    m->ord = malloc((size_t)(n ? n : 1) * sizeof *m->ord);
    m->keep = malloc((size_t)(n + nk + 1) * sizeof *m->keep);
    if (!m->ord || !m->keep) {
        mixed_free(m);
        return nns_error(NNS_STATUS_NOMEM, "out of memory choosing precisions");
    }
    order_by_drop(&m->t, m->ord);
    for (int i = 0; i < nk; i++) m->keep[i] = cfg->keep[i];
    m->c = *cfg;
    m->c.keep = m->keep;
    return NNS_OK;
}

nns_status nns_quantize_max_loss(nns_graph *g, const nns_dataset *calib, const nns_dataset *eval,
                                 const nns_ptq_config *cfg, float max_loss, nns_ptq_result *res, float *base_acc,
                                 float *acc) {
    memset(res, 0, sizeof *res);
    if (!(max_loss >= 0 && max_loss <= 1))
        return nns_error(NNS_STATUS_INVALID_ARG, "--max-loss must be between 0 and 100 points, not %g", 100.0 * max_loss);
    nns_sweep_eval_data ed = {eval, 256};
    mixed_plan m;
    nns_status st = mixed_begin(g, calib, &ed, cfg, &m, base_acc);
    if (st) return st;
    const int n = m.t.n_units, nk = cfg->n_keep;
    int k = 0;
    for (; k < n && !st; k++) { /* k layers kept in float, the most sensitive */
        m.c.n_keep = nk + k;
        st = try_keep(g, calib, &ed, &m.c, acc);
        if (!st && m.t.baseline - *acc <= max_loss) break;
        m.keep[nk + k] = m.t.units[m.ord[k]].name;
    }
    if (!st && k == n)
        st = nns_error(NNS_STATUS_UNSUPPORTED, "--max-loss %g points cannot be met: the model loses more with any layer "
                                               "quantized", 100.0 * max_loss);
    if (!st) st = nns_quantize_ptq(g, calib, &m.c, res);
    mixed_free(&m);
    return st;
}

/* Size of g quantized by cfg (a copy; g untouched). */
static nns_status try_size(const nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg,
                           nns_quant_size_fn size_fn, void *user, int64_t *bytes) {
    nns_graph *q = NULL;
    nns_ptq_result r;
    nns_status st = nns_graph_clone(g, &q);
    if (!st) st = nns_quantize_ptq(q, calib, cfg, &r);
    if (!st) st = size_fn(user, q, bytes);
    nns_graph_free(q);
    return st;
}

/* Keep in c (keep[base..]) each sensitive layer, most sensitive first,
 * whose float weights still fit in max_bytes; *bytes: the size chosen. */
static nns_status fill_budget(const nns_graph *g, const nns_dataset *calib, const nns_sweep_table *t, const int *ord,
                              nns_ptq_config *c, const char **keep, int64_t max_bytes, nns_quant_size_fn size_fn,
                              void *user, int64_t *bytes) {
    nns_status st = try_size(g, calib, c, size_fn, user, bytes);
    if (!st && *bytes > max_bytes)
        return nns_error(NNS_STATUS_UNSUPPORTED, "--max-bytes %lld cannot be met: with every layer quantized the model "
                                                 "takes %lld bytes", (long long)max_bytes, (long long)*bytes);
    for (int i = 0; !st && i < t->n_units; i++) {
        if (!(t->baseline - t->score[ord[i]] > 0)) break; /* the rest lose nothing quantized */
        int64_t b = 0;
        keep[c->n_keep++] = t->units[ord[i]].name;
        st = try_size(g, calib, c, size_fn, user, &b);
        if (!st && b <= max_bytes) *bytes = b;
        else c->n_keep--;
    }
    return st;
}

nns_status nns_quantize_max_bytes(nns_graph *g, const nns_dataset *calib, const nns_dataset *eval,
                                  const nns_ptq_config *cfg, int64_t max_bytes, nns_quant_size_fn size_fn,
                                  void *size_user, nns_ptq_result *res, int64_t *bytes, float *base_acc, float *acc) {
    memset(res, 0, sizeof *res);
    if (max_bytes < 1) return nns_error(NNS_STATUS_INVALID_ARG, "--max-bytes must be >= 1, not %lld", (long long)max_bytes);
    nns_sweep_eval_data ed = {eval, 256};
    mixed_plan m;
    nns_status st = mixed_begin(g, calib, &ed, cfg, &m, base_acc);
    if (st) return st;
    st = fill_budget(g, calib, &m.t, m.ord, &m.c, m.keep, max_bytes, size_fn, size_user, bytes);
    if (!st) st = nns_quantize_ptq(g, calib, &m.c, res);
    if (!st) st = nns_sweep_eval_accuracy(&ed, g, acc);
    mixed_free(&m);
    return st;
}
