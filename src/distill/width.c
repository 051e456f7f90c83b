/* width.c — a student derived from a teacher by a width multiplier: the
 * structured-pruning machinery removes channels (so residual adds, concats,
 * depthwise and grouped convolutions stay consistent), then every parameter
 * gets a fresh PyTorch-style initialisation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "nnslim/distill.h"
#include "nnslim/prune.h"
#include "ops/op.h"

static float *param_data(nns_graph *g, int v, int64_t *n) {
    if (v < 0) return NULL;
    nns_value *val = &g->values[v];
    if (val->kind != NNS_VALUE_KIND_PARAM || val->dtype != NNS_DTYPE_F32 || !val->data) return NULL;
    *n = nns_shape_numel(&val->shape);
    return val->data;
}

static void fill_uniform(float *w, int64_t n, float bound, uint64_t *rng) {
    for (int64_t i = 0; i < n; i++) w[i] = (2.0f * nns_rng_uniform(rng) - 1.0f) * bound;
}

static void fill_const(float *w, int64_t n, float c) {
    for (int64_t i = 0; i < n; i++) w[i] = c;
}

/* Fresh parameters, from the op table's facts: a contracted weight (Conv,
 * Gemm, MatMul) and its bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)); a
 * channel-wise op's per-channel parameters (BatchNormalization) scale 1,
 * bias 0, running mean 0, running variance 1. */
static void reinit(nns_graph *g, uint64_t seed) {
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 0xD15;
    for (int i = 0; i < g->n_nodes; i++) {
        nns_node *nd = &g->nodes[i];
        const nns_op_def *def = nns_op_def_of(nd);
        int wi = nns_op_weight_in(nd), bi = nns_op_bias_in(nd);
        int64_t nw = 0, nb = 0;
        nns_weight_axes ax;
        if (wi >= 0 && def->weight_axes) {
            float *w = param_data(g, nd->in[wi], &nw);
            if (!w) continue;
            const nns_shape *s = &g->values[nd->in[wi]].shape;
            if (!nns_op_weight_axes(nd, wi, s->ndim, &ax)) continue;
            int64_t fan_in = nns_weight_fan_in(s, &ax);
            float bound = 1.0f / sqrtf((float)(fan_in > 0 ? fan_in : 1));
            fill_uniform(w, nw, bound, &rng);
            float *b = param_data(g, bi >= 0 ? nd->in[bi] : -1, &nb);
            if (b) fill_uniform(b, nb, bound, &rng);
        } else if (def && def->chan == NNS_OP_CHAN_PERCHANNEL && nd->n_in >= 5) {
            /* inputs 1..4: scale, bias, running mean, running variance */
            const float c[4] = {1.0f, 0.0f, 0.0f, 1.0f};
            for (int k = 0; k < 4; k++) {
                int64_t n = 0;
                float *p = param_data(g, nd->in[1 + k], &n);
                if (p) fill_const(p, n, c[k]);
            }
        }
    }
}

nns_status nns_graph_scale_width(const nns_graph *g, float width, uint64_t seed, nns_graph **out) {
    *out = NULL;
    if (!(width > 0.0f && width <= 1.0f))
        return nns_error(NNS_STATUS_INVALID_ARG, "--student-width must be in (0, 1], not %g", (double)width);
    nns_graph *s = NULL;
    nns_status st = nns_graph_clone(g, &s);
    if (st) return st;
    if ((st = nns_graph_pack_params(s))) goto fail;
    if (width < 1.0f) {
        nns_structured_config c;
        memset(&c, 0, sizeof c);
        c.ratio = 1.0f - width;
        c.criterion = NNS_PRUNE_CRITERION_L1;
        c.round_to = 1;
        c.neurons = 0;
        if ((st = nns_prune_structured(s, &c, NULL))) goto fail;
    }
    free(s->masks);
    s->masks = NULL;
    if (nns_graph_get_meta(s, "nnslim.pruned") && (st = nns_graph_set_meta(s, "nnslim.pruned", "0"))) goto fail;
    reinit(s, seed);
    *out = s;
    return NNS_OK;
fail:
    nns_graph_free(s);
    return st;
}
