/* opcheck.h — run one op through a real plan and check its backward against
 * central finite differences of L = sum(r * out0) with a random r.
 *
 * Every f32 input becomes a trainable parameter, so its gradient lands in the
 * flat parameter-gradient buffer (inputs the op marks non-trainable, such as
 * BN running stats, are not checked). s64 inputs (shapes, axes) are constants.
 * Usage: see tests/test_ops_*.c. */
#ifndef NNS_OPCHECK_H
#define NNS_OPCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "runtime/plan.h"
#include "testutil.h"

typedef struct oc_input {
    int ndim;
    int64_t dims[NNS_MAX_DIMS];
    const int64_t *s64;   /* non-NULL: an s64 constant with these values */
    const float *f32;     /* non-NULL: use these values instead of random  */
    int omitted;          /* 1: an omitted optional input ("")             */
} oc_input;

typedef void (*oc_attr_fn)(nns_graph *g, int node);

/* Build a one-node graph. Returns NULL on failure (printed). */
static nns_graph *oc_build(const char *op, const oc_input *ins, int n_in, int n_out,
                           oc_attr_fn attrs, uint64_t seed) {
    nns_graph *g = NULL;
    if (nns_graph_create(&g)) return NULL;
    const char *in_names[NNS_MAX_NODE_IO], *out_names[NNS_MAX_NODE_IO];
    char nbuf[NNS_MAX_NODE_IO][16], obuf[NNS_MAX_NODE_IO][16];
    uint64_t rng = seed;
    for (int i = 0; i < n_in; i++) {
        snprintf(nbuf[i], sizeof nbuf[i], "in%d", i);
        in_names[i] = ins[i].omitted ? "" : nbuf[i];
        if (ins[i].omitted) continue;
        nns_shape s = nns_shape_make(ins[i].ndim, ins[i].dims);
        nns_status st;
        if (ins[i].s64) {
            st = nns_graph_add_param(g, nbuf[i], NNS_DTYPE_S64, &s, ins[i].s64, 0, NULL);
        } else {
            int64_t n = nns_shape_numel(&s);
            if (s.ndim == 0) n = 1;
            float *d = malloc((size_t)(n ? n : 1) * sizeof(float));
            for (int64_t k = 0; k < n; k++)
                d[k] = ins[i].f32 ? ins[i].f32[k] : 2.0f * nns_rng_uniform(&rng) - 1.0f;
            st = nns_graph_add_param(g, nbuf[i], NNS_DTYPE_F32, &s, d, 1, NULL);
            free(d);
        }
        if (st) { fprintf(stderr, "opcheck: %s\n", nns_last_error()); nns_graph_free(g); return NULL; }
    }
    for (int i = 0; i < n_out; i++) {
        snprintf(obuf[i], sizeof obuf[i], "out%d", i);
        out_names[i] = obuf[i];
    }
    int node;
    if (nns_graph_add_node(g, op, "node", n_in, in_names, n_out, out_names, &node)) {
        fprintf(stderr, "opcheck: %s\n", nns_last_error());
        nns_graph_free(g);
        return NULL;
    }
    if (attrs) attrs(g, node);
    for (int i = 0; i < n_out; i++) nns_graph_add_output(g, out_names[i]);
    if (nns_graph_finalize(g) || nns_graph_pack_params(g)) {
        fprintf(stderr, "opcheck: %s: %s\n", op, nns_last_error());
        nns_graph_free(g);
        return NULL;
    }
    return g;
}

static double oc_loss(nns_plan *p, const float *r, int training) {
    nns_plan_seed(p, 1234);
    nns_plan_forward(p, training);
    nns_tv *o = nns_plan_output(p, 0);
    int64_t n = nns_shape_numel(&o->shape);
    double L = 0;
    for (int64_t k = 0; k < n; k++) L += (double)r[k] * nns_tv_f32(o)[k];
    return L;
}

/* Returns the number of failures. tol is relative to max(1, |grad|). */
static int opcheck_grad(const char *op, const oc_input *ins, int n_in, int n_out,
                        oc_attr_fn attrs, int training, double tol, uint64_t seed) {
    nns_graph *g = oc_build(op, ins, n_in, n_out, attrs, seed);
    if (!g) { nns_t_fail++; return 1; }
    float *pg = calloc((size_t)(g->n_params ? g->n_params : 1), sizeof(float));
    nns_plan *p = NULL;
    nns_status st = nns_plan_create(g, 1, 1, pg, &p);
    if (st) {
        fprintf(stderr, "opcheck %s: plan: %s\n", op, nns_last_error());
        nns_t_fail++;
        free(pg);
        nns_graph_free(g);
        return 1;
    }
    nns_tv *o = nns_plan_output(p, 0);
    int64_t no = nns_shape_numel(&o->shape);
    float *r = malloc((size_t)(no ? no : 1) * sizeof(float));
    uint64_t rng = seed ^ 0xabcdef;
    for (int64_t k = 0; k < no; k++) r[k] = 2.0f * nns_rng_uniform(&rng) - 1.0f;
    oc_loss(p, r, training);
    nns_plan_zero_act_grads(p);
    memcpy(o->grad, r, (size_t)no * sizeof(float));
    nns_plan_backward(p);
    int fails = 0;
    const float eps = 1e-2f;
    int64_t n = g->n_params;
    int64_t step = n > 96 ? n / 96 : 1;
    for (int64_t k = (int64_t)(seed % (uint64_t)step); k < n; k += step) {
        float save = g->params[k];
        g->params[k] = save + eps;
        double lp = oc_loss(p, r, training);
        g->params[k] = save - eps;
        double lm = oc_loss(p, r, training);
        g->params[k] = save;
        double num = (lp - lm) / (2.0 * eps);
        double ana = pg[k];
        double err = fabs(num - ana) / fmax(1.0, fabs(num));
        if (err > tol) {
            if (fails < 5)
                fprintf(stderr, "opcheck %s: param elem %lld: analytic %.6g numeric %.6g\n", op,
                        (long long)k, ana, num);
            fails++;
        }
    }
    if (fails) nns_t_fail++; else nns_t_pass++;
    free(r);
    free(pg);
    nns_plan_free(p);
    nns_graph_free(g);
    return fails;
}

/* Run forward (inference mode unless training) and return a malloc'd copy of
 * output 0 (its shape in *shape), or NULL. */
static float *opcheck_forward(const char *op, const oc_input *ins, int n_in, int n_out,
                              oc_attr_fn attrs, int training, uint64_t seed, nns_shape *shape) {
    nns_graph *g = oc_build(op, ins, n_in, n_out, attrs, seed);
    if (!g) return NULL;
    float *pg = calloc((size_t)(g->n_params ? g->n_params : 1), sizeof(float));
    nns_plan *p = NULL;
    if (nns_plan_create(g, 1, training, pg, &p)) {
        fprintf(stderr, "opcheck %s: plan: %s\n", op, nns_last_error());
        free(pg);
        nns_graph_free(g);
        return NULL;
    }
    nns_plan_seed(p, 1234);
    nns_plan_forward(p, training);
    nns_tv *o = nns_plan_output(p, 0);
    int64_t no = nns_shape_numel(&o->shape);
    float *res = malloc((size_t)(no ? no : 1) * sizeof(float));
    memcpy(res, nns_tv_f32(o), (size_t)no * sizeof(float));
    if (shape) *shape = o->shape;
    nns_plan_free(p);
    free(pg);
    nns_graph_free(g);
    return res;
}

/* The i-th input's values as oc_build made them (same seed): for reference
 * computations in tests. Caller frees. */
static float *opcheck_input_values(const oc_input *ins, int n_in, int which, uint64_t seed) {
    uint64_t rng = seed;
    float *res = NULL;
    for (int i = 0; i < n_in; i++) {
        if (ins[i].omitted || ins[i].s64) continue;
        nns_shape s = nns_shape_make(ins[i].ndim, ins[i].dims);
        int64_t n = s.ndim ? nns_shape_numel(&s) : 1;
        float *d = malloc((size_t)(n ? n : 1) * sizeof(float));
        for (int64_t k = 0; k < n; k++)
            d[k] = ins[i].f32 ? ins[i].f32[k] : 2.0f * nns_rng_uniform(&rng) - 1.0f;
        if (i == which) res = d; else free(d);
    }
    return res;
}

#endif
