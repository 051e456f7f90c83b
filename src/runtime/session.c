/* session.c — inference sessions on top of execution plans. */
#include <stdlib.h>
#include <string.h>

#include "nnslim/runtime.h"
#include "runtime/plan.h"

struct nns_session {
    nns_graph *g;
    nns_plan *plan;
    int64_t max_batch;
    int64_t in_size, out_size;
    nns_shape out_shape; /* per sample, dims[0] unused */
};

nns_status nns_session_create(nns_graph *g, int64_t max_batch, nns_session **out) {
    *out = NULL;
    if (g->n_inputs != 1 || g->n_outputs < 1)
        return nns_error(NNS_STATUS_UNSUPPORTED, "a session needs one input and at least one output (model has %d and %d)",
                         g->n_inputs, g->n_outputs);
    nns_status st = nns_graph_pack_params(g);
    if (st) return st;
    nns_session *s = calloc(1, sizeof *s);
    if (!s) return nns_error(NNS_STATUS_NOMEM, "out of memory creating a session");
    s->g = g;
    s->max_batch = max_batch;
    if ((st = nns_plan_create(g, max_batch, 0, NULL, &s->plan))) {
        free(s);
        return st;
    }
    nns_tv *in = nns_plan_input(s->plan, 0), *o = nns_plan_output(s->plan, 0);
    s->in_size = nns_shape_numel(&in->shape) / max_batch;
    s->out_size = nns_shape_numel(&o->shape) / max_batch;
    s->out_shape = o->shape;
    *out = s;
    return NNS_OK;
}

void nns_session_free(nns_session *s) {
    if (!s) return;
    nns_plan_free(s->plan);
    free(s);
}

int64_t nns_session_input_size(const nns_session *s) { return s->in_size; }
int64_t nns_session_output_size(const nns_session *s) { return s->out_size; }

nns_shape nns_session_output_shape(const nns_session *s, int64_t n) {
    nns_shape sh = s->out_shape;
    sh.dims[0] = n;
    return sh;
}

nns_status nns_session_run(nns_session *s, const float *x, int64_t n, float *y) {
    for (int64_t i = 0; i < n; i += s->max_batch) {
        int64_t b = n - i < s->max_batch ? n - i : s->max_batch;
        nns_status st = nns_plan_set_batch(s->plan, b);
        if (st) return st;
        memcpy(nns_plan_input(s->plan, 0)->data, x + i * s->in_size, (size_t)(b * s->in_size) * sizeof(float));
        nns_plan_forward(s->plan, 0);
        memcpy(y + i * s->out_size, nns_plan_output(s->plan, 0)->data, (size_t)(b * s->out_size) * sizeof(float));
    }
    return NNS_OK;
}
