/* test_plan_observer.c — a plan's per-node observer (profiling, and next
 * calibration): called before and after every node that runs, in graph
 * order forward and in reverse backward, never for a node fused into
 * another; after a Conv that folds a BatchNormalization and an activation,
 * its output already holds the chain's result; an observed pass computes
 * exactly what an unobserved one does. */
#include <math.h>
#include <string.h>

#include "core/graph_impl.h"
#include "nnslim/nnslim.h"
#include "runtime/plan.h"
#include "testutil.h"

typedef struct trace {
    int calls, bad_order, bad_pair, fused_seen, last, open;
    int dir;          /* +1 forward, -1 backward */
    float *snap;      /* a copy of the output of node `watch` after it runs */
    const nns_graph *g;
    int watch;
    int64_t snap_n;
} trace;

static void observe(void *user, nns_plan *p, int node, int after) {
    trace *t = user;
    t->calls++;
    if (!nns_plan_node_runs(p, node)) t->fused_seen++;
    if (!after) {
        if (t->open >= 0) t->bad_pair++;
        if (t->last >= 0 && (node - t->last) * t->dir <= 0) t->bad_order++;
        t->open = node;
        return;
    }
    if (t->open != node) t->bad_pair++;
    t->open = -1;
    t->last = node;
    if (node == t->watch && t->snap) {
        const nns_tv *o = nns_plan_tv(p, t->g->nodes[node].out[0]);
        memcpy(t->snap, nns_tv_f32(o), (size_t)t->snap_n * sizeof(float));
    }
}

int main(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("resnet8", 7, &g));
    if (!g) TEST_MAIN_END();
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, 2, NNS_PLAN_INFER_FUSED, NULL, &p));
    if (!p) TEST_MAIN_END();
    const int nn = nns_graph_n_nodes(g);
    int runs = 0, first_conv = -1;
    for (int i = 0; i < nn; i++) {
        runs += nns_plan_node_runs(p, i);
        if (first_conv < 0 && g->nodes[i].op == NNS_OP_CONV) first_conv = i;
    }
    CHECK_MSG(runs < nn, "the fused plan of resnet8 fuses no node (%d of %d run)", runs, nn);
    nns_tv *x = nns_plan_input(p, 0);
    const int64_t nx = nns_shape_numel(&x->shape);
    for (int64_t i = 0; i < nx; i++) nns_tv_f32(x)[i] = (float)sin(0.1 * (double)i);

    /* plain forward: the reference output */
    nns_plan_forward(p, 0);
    nns_tv *y = nns_plan_output(p, 0);
    const int64_t ny = nns_shape_numel(&y->shape);
    float ref[64];
    CHECK(ny <= 64);
    memcpy(ref, nns_tv_f32(y), (size_t)ny * sizeof(float));

    /* observed forward: pairs, order, no fused node, same output */
    const nns_tv *c0 = nns_plan_tv(p, g->nodes[first_conv].out[0]);
    trace t = {0, 0, 0, 0, -1, -1, 1, NULL, g, first_conv, nns_shape_numel(&c0->shape)};
    static float snap[1 << 20];
    CHECK(t.snap_n <= (int64_t)(sizeof snap / sizeof snap[0]));
    t.snap = snap;
    nns_plan_forward_observed(p, 0, observe, &t);
    CHECK_MSG(t.calls == 2 * runs, "%d observer calls for %d running nodes", t.calls, runs);
    CHECK(t.bad_order == 0 && t.bad_pair == 0 && t.fused_seen == 0 && t.open == -1);
    CHECK(memcmp(ref, nns_tv_f32(y), (size_t)ny * sizeof(float)) == 0);
    /* the first Conv folds its BatchNorm and Relu: its output, seen right
     * after it ran, is already non-negative (the Relu applied) */
    int neg = 0;
    for (int64_t i = 0; i < t.snap_n; i++) neg += snap[i] < 0;
    CHECK_MSG(neg == 0, "%d negative values after the folded Conv+BN+Relu", neg);
    nns_plan_free(p);

    /* a training plan: backward observed in reverse order */
    const int64_t np = nns_graph_n_params(g);
    float *pg = calloc((size_t)np, sizeof(float));
    CHECK_OK(nns_graph_pack_params(g));
    CHECK_OK(nns_plan_create(g, 2, 1, pg, &p));
    if (p) {
        nns_plan_forward(p, 1);
        nns_plan_zero_act_grads(p);
        nns_tv *yo = nns_plan_output(p, 0);
        for (int64_t i = 0; i < nns_shape_numel(&yo->shape); i++) yo->grad[i] = 1.0f;
        trace b = {0, 0, 0, 0, -1, -1, -1, NULL, g, -1, 0};
        nns_plan_backward_observed(p, observe, &b);
        CHECK(b.calls > 0 && b.bad_order == 0 && b.bad_pair == 0 && b.fused_seen == 0);
        nns_plan_free(p);
    }
    free(pg);
    nns_graph_free(g);
    TEST_MAIN_END();
}
