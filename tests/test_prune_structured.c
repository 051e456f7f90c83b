/* test_prune_structured.c — neuron and channel pruning with the dependency
 * graph: every built-in architecture, toy graphs for residual / concat /
 * depthwise / Flatten->Gemm, rounding, the criteria, global targets, masks,
 * ONNX round trip, a torchvision MobileNetV2 (tests/golden_tv), and errors
 * that leave the graph unchanged.
 *
 * The key check is numerical: channels whose every dependent slice (the
 * producer's filter and bias, BN gamma/beta, depthwise filters, the next
 * layer's input weights) is zeroed beforehand are dead, so removing exactly
 * them must leave the model's output unchanged (within 1e-5). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "nnslim/nnslim.h"
#include "nnslim/prune.h"
#include "ops/op.h"
#include "prune/depgraph.h"
#include "testutil.h"

static const char *ARCHS[] = {"lenet300", "lenet5", "vggsmall", "resnet8", "mobilenet"};

/* ---- helpers ---------------------------------------------------------- */

static float *rand_input(const nns_graph *g, int n, uint64_t seed) {
    const nns_value *in = &g->values[g->inputs[0]];
    int64_t per = 1;
    for (int d = 1; d < in->shape.ndim; d++) per *= in->shape.dims[d];
    float *x = malloc((size_t)(n * per) * sizeof(float));
    uint64_t r = seed;
    for (int64_t i = 0; i < n * per; i++) x[i] = 2.0f * nns_rng_uniform(&r) - 1.0f;
    return x;
}

/* Run g on x (n samples); returns malloc'd outputs and their size per sample. */
static float *run(nns_graph *g, const float *x, int n, int64_t *per_out) {
    nns_session *s = NULL;
    nns_status st = nns_session_create(g, n, &s);
    CHECK_OK(st);
    if (st) return NULL;
    int64_t k = nns_session_output_size(s);
    float *y = calloc((size_t)(n * k), sizeof(float));
    CHECK_OK(nns_session_run(s, x, n, y));
    nns_session_free(s);
    if (per_out) *per_out = k;
    return y;
}

static double max_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

static int group_matches(const nns_dg_group *gr, int neurons) {
    if (neurons == 1) return gr->has_gemm && !gr->has_conv;
    if (neurons == 2) return gr->has_conv && !gr->has_gemm;
    return gr->has_conv || gr->has_gemm;
}

/* Kill round(ratio * n) units of every prunable group (the same count the
 * library removes per layer): zero every slice that depends on them (BN
 * running variances excepted). The killed channels then have L1 norm and
 * BN |gamma| exactly 0 and output exactly 0. Returns the number of producer
 * (Conv/Gemm) output channels killed, as the report counts them. */
static int kill_channels(nns_graph *g, double ratio, int neurons, uint64_t seed) {
    nns_depgraph *dg = NULL;
    CHECK_OK(nns_depgraph_build(g, &dg));
    if (!dg) return 0;
    unsigned char *dead = calloc((size_t)dg->n_units + 1, 1);
    uint64_t r = seed;
    int killed = 0;
    for (int gi = 0; gi < dg->n_groups; gi++) {
        const nns_dg_group *gr = &dg->groups[gi];
        if (gr->fixed || !group_matches(gr, neurons)) continue;
        int n = gr->n_units;
        int m = (int)floor(ratio * n + 0.5);
        if (n - m < 1) m = n - 1;
        int *perm = malloc((size_t)n * sizeof(int));
        for (int i = 0; i < n; i++) perm[i] = gr->units[i];
        for (int i = n - 1; i > 0; i--) {
            int j = (int)nns_rng_below(&r, (uint64_t)i + 1);
            int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
        }
        for (int i = 0; i < m; i++) {
            int u = perm[i];
            dead[u] = 1;
            /* count channels of producers (as the report does) */
            for (int k = dg->unit_start[u]; k < dg->unit_start[u + 1]; k++)
                killed += dg->spaces[dg->space_of[dg->unit_ids[k]]].kind != NNS_DG_SPACE_KIND_FIXED;
        }
        free(perm);
    }
    /* BN running variances: slot 4 of BatchNormalization */
    char *is_var = calloc((size_t)g->n_values, 1);
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == NNS_OP_BATCHNORM) is_var[g->nodes[i].in[4]] = 1;
    for (int i = 0; i < dg->n_slices; i++) {
        const nns_dg_slice *sl = &dg->slices[i];
        if (is_var[sl->value]) continue;
        nns_value *v = &g->values[sl->value];
        float *d = v->data;
        int64_t outer = 1, inner = 1, len = v->shape.dims[sl->dim];
        for (int k = 0; k < sl->dim; k++) outer *= v->shape.dims[k];
        for (int k = sl->dim + 1; k < v->shape.ndim; k++) inner *= v->shape.dims[k];
        for (int64_t p = 0; p < len; p++) {
            if (!dead[dg->unit_of[dg->ids[sl->src][p]]]) continue;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t q = 0; q < inner; q++) d[(o * len + p) * inner + q] = 0.0f;
        }
    }
    free(is_var);
    free(dead);
    nns_depgraph_free(dg);
    return killed;
}

typedef struct snap {
    int64_t n_params;
    float *params;
    int n_values, n_nodes;
    nns_shape *shapes;
} snap;

static snap take_snap(const nns_graph *g) {
    snap s;
    s.n_params = g->n_params;
    s.params = malloc((size_t)(g->n_params ? g->n_params : 1) * sizeof(float));
    if (g->n_params) memcpy(s.params, g->params, (size_t)g->n_params * sizeof(float));
    s.n_values = g->n_values;
    s.n_nodes = g->n_nodes;
    s.shapes = malloc((size_t)g->n_values * sizeof(nns_shape));
    for (int v = 0; v < g->n_values; v++) s.shapes[v] = g->values[v].shape;
    return s;
}

static int same_as_snap(const nns_graph *g, snap *s) {
    int ok = g->n_params == s->n_params && g->n_values == s->n_values && g->n_nodes == s->n_nodes &&
             (!g->n_params || memcmp(g->params, s->params, (size_t)g->n_params * sizeof(float)) == 0);
    for (int v = 0; ok && v < g->n_values; v++) ok = nns_shape_eq(&g->values[v].shape, &s->shapes[v]);
    free(s->params);
    free(s->shapes);
    return ok;
}

static nns_structured_config cfg_ratio(float r, nns_prune_criterion c) {
    nns_structured_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ratio = r;
    cfg.criterion = c;
    return cfg;
}

static int64_t graph_macs(const nns_graph *g) {
    nns_layer_info *L = NULL;
    int n = 0;
    int64_t m = 0;
    CHECK_OK(nns_graph_summarize(g, &L, &n, NULL, NULL, &m));
    free(L);
    return m;
}

static const nns_shape *wshape(const nns_graph *g, const char *name) {
    int v = nns_graph_find_value(g, name);
    CHECK_MSG(v >= 0, "no value '%s'", name);
    return v >= 0 ? &g->values[v].shape : NULL;
}

/* Dead channels: kill, run, prune with `crit` and the same ratio, run: equal. */
static void dead_channel_check(const char *what, nns_graph *g, double ratio, int neurons,
                               nns_prune_criterion crit, const nns_dataset *data) {
    int killed = kill_channels(g, ratio, neurons, 77);
    CHECK_MSG(killed > 0, "%s: nothing to kill", what);
    const int n = 3;
    float *x = rand_input(g, n, 5);
    int64_t k0 = 0, k1 = 0;
    float *y0 = run(g, x, n, &k0);
    int64_t ch0 = 0;
    nns_structured_config cfg = cfg_ratio((float)ratio, crit);
    cfg.neurons = neurons;
    cfg.data = data;
    cfg.batch_size = 8;
    cfg.taylor_batches = 2;
    nns_structured_report rep;
    nns_status st = nns_prune_structured(g, &cfg, &rep);
    CHECK_MSG(st == NNS_OK, "%s: %s", what, nns_last_error());
    ch0 = rep.channels_before - rep.channels_after;
    CHECK_MSG(ch0 == killed, "%s: removed %lld channels, killed %d", what, (long long)ch0, killed);
    float *y1 = run(g, x, n, &k1);
    CHECK(k0 == k1);
    if (y0 && y1 && k0 == k1) {
        double d = max_diff(y0, y1, n * k0);
        CHECK_MSG(d <= 1e-5, "%s: pruned output differs by %g", what, d);
    }
    CHECK(rep.params_after == nns_graph_n_params(g));
    CHECK(rep.macs_after == graph_macs(g));
    CHECK(rep.params_after < rep.params_before && rep.macs_after <= rep.macs_before);
    free(x);
    free(y0);
    free(y1);
}

/* ---- built-in architectures ------------------------------------------ */

static void test_archs_dead_channels(void) {
    for (int a = 0; a < 5; a++) {
        nns_graph *g = NULL;
        CHECK_OK(nns_arch_build(ARCHS[a], 3, &g));
        if (!g) continue;
        dead_channel_check(ARCHS[a], g, a % 2 ? 0.4 : 0.5, 0, NNS_PRUNE_CRITERION_L1, NULL);
        nns_graph_free(g);
    }
    /* BN |gamma| on the archs with BatchNorm, channels only */
    for (int a = 2; a < 5; a++) {
        nns_graph *g = NULL;
        CHECK_OK(nns_arch_build(ARCHS[a], 4, &g));
        if (!g) continue;
        char what[64];
        snprintf(what, sizeof what, "%s/bn", ARCHS[a]);
        dead_channel_check(what, g, 0.45, 2, NNS_PRUNE_CRITERION_BN, NULL);
        nns_graph_free(g);
    }
}

static void test_archs_shapes(void) {
    /* lenet300: hidden neurons halve, the classifier keeps its 10 outputs */
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    if (g) {
        nns_structured_config cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L2);
        nns_structured_report rep;
        CHECK_OK(nns_prune_structured(g, &cfg, &rep));
        const nns_shape *s1 = wshape(g, "fc1.weight"), *s2 = wshape(g, "fc2.weight"), *s3 = wshape(g, "fc3.weight");
        CHECK(s1 && s1->dims[0] == 150 && s1->dims[1] == 784);
        CHECK(s2 && s2->dims[0] == 50 && s2->dims[1] == 150);
        CHECK(s3 && s3->dims[0] == 10 && s3->dims[1] == 50);
        CHECK(rep.groups == 3 && rep.groups_pruned == 2);
        CHECK(rep.channels_before == 410 && rep.channels_after == 210);
        CHECK(g->values[g->outputs[0]].shape.dims[1] == 10);
        nns_graph_free(g);
    }
    /* vggsmall, half the channels of every convolution: MACs <= 30% */
    CHECK_OK(nns_arch_build("vggsmall", 1, &g));
    if (g) {
        int64_t m0 = graph_macs(g);
        nns_structured_config cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L1);
        cfg.neurons = 2; /* convolution channels only */
        nns_structured_report rep;
        CHECK_OK(nns_prune_structured(g, &cfg, &rep));
        int64_t m1 = graph_macs(g);
        CHECK_MSG(m1 <= 0.30 * m0, "vggsmall: MACs %lld of %lld (%.1f%%)", (long long)m1, (long long)m0,
                  100.0 * m1 / m0);
        CHECK(rep.macs_before == m0 && rep.macs_after == m1);
        const nns_shape *w = wshape(g, "features.3.conv.weight"), *f = wshape(g, "fc1.weight");
        CHECK(w && w->dims[0] == 32 && w->dims[1] == 32);
        CHECK(f && f->dims[0] == 256 && f->dims[1] == 32 * 7 * 7); /* Flatten: 49 features per channel */
        CHECK(rep.groups_pruned == 4);
        nns_graph_free(g);
    }
    /* every arch at 40% per layer: finalizes, runs, fewer params and MACs */
    for (int a = 0; a < 5; a++) {
        CHECK_OK(nns_arch_build(ARCHS[a], 2, &g));
        if (!g) continue;
        int64_t p0 = nns_graph_n_params(g), m0 = graph_macs(g);
        nns_structured_config cfg = cfg_ratio(0.4f, NNS_PRUNE_CRITERION_L2);
        nns_structured_report rep;
        CHECK_OK(nns_prune_structured(g, &cfg, &rep));
        CHECK_OK(nns_graph_finalize(g));
        int64_t p1 = nns_graph_n_params(g), m1 = graph_macs(g);
        CHECK_MSG(p1 < 0.75 * p0 && m1 < 0.75 * m0, "%s: params %lld -> %lld, MACs %lld -> %lld", ARCHS[a],
                  (long long)p0, (long long)p1, (long long)m0, (long long)m1);
        CHECK(rep.params_before == p0 && rep.params_after == p1);
        float *x = rand_input(g, 2, 9);
        int64_t k = 0;
        float *y = run(g, x, 2, &k);
        CHECK(k == 10);
        int finite = 1;
        for (int i = 0; y && i < 20; i++) finite &= isfinite(y[i]) != 0;
        CHECK(finite);
        free(x);
        free(y);
        nns_graph_free(g);
    }
    /* mobilenet: depthwise filters go with their channels */
    CHECK_OK(nns_arch_build("mobilenet", 1, &g));
    if (g) {
        nns_structured_config cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L1);
        CHECK_OK(nns_prune_structured(g, &cfg, NULL));
        const nns_shape *e = wshape(g, "block2.expand.conv.weight"), *d = wshape(g, "block2.dw.conv.weight");
        const nns_shape *p = wshape(g, "block2.project.conv.weight");
        CHECK(e && e->dims[0] == 32);
        CHECK(d && d->dims[0] == 32 && d->dims[1] == 1);
        CHECK(p && p->dims[1] == 32);
        int ni = nns_graph_find_node(g, "block2.dw.conv");
        CHECK(ni >= 0 && nns_node_attr_int(&g->nodes[ni], "group", 0) == 32);
        nns_graph_free(g);
    }
}

/* The cost model used for targets equals nns_graph_summarize after removal. */
static void test_cost_model(void) {
    for (int a = 0; a < 5; a++) {
        nns_graph *g = NULL;
        CHECK_OK(nns_arch_build(ARCHS[a], 6, &g));
        if (!g) continue;
        nns_depgraph *dg = NULL;
        CHECK_OK(nns_depgraph_build(g, &dg));
        if (!dg) {
            nns_graph_free(g);
            continue;
        }
        unsigned char *keep = malloc((size_t)dg->n_units);
        memset(keep, 1, (size_t)dg->n_units);
        int64_t *kl = malloc((size_t)g->n_values * sizeof(int64_t));
        int64_t p, m;
        nns_structured_cost(dg, keep, kl, &p, &m);
        CHECK(p == nns_graph_n_params(g));
        CHECK(m == graph_macs(g));
        /* drop every third unit of each prunable group */
        for (int gi = 0; gi < dg->n_groups; gi++) {
            if (dg->groups[gi].fixed) continue;
            for (int i = 0; i + 1 < dg->groups[gi].n_units; i += 3) keep[dg->groups[gi].units[i]] = 0;
        }
        nns_structured_cost(dg, keep, kl, &p, &m);
        nns_graph *c = NULL;
        CHECK_OK(nns_graph_clone(g, &c));
        if (c) {
            CHECK_OK(nns_structured_apply(c, dg, keep));
            CHECK_MSG(p == nns_graph_n_params(c), "%s: cost %lld params, graph %lld", ARCHS[a], (long long)p,
                      (long long)nns_graph_n_params(c));
            CHECK_MSG(m == graph_macs(c), "%s: cost %lld MACs, graph %lld", ARCHS[a], (long long)m,
                      (long long)graph_macs(c));
            nns_graph_free(c);
        }
        free(keep);
        free(kl);
        nns_depgraph_free(dg);
        nns_graph_free(g);
    }
}

/* ---- toy graphs ------------------------------------------------------- */

typedef struct tb {
    nns_graph *g;
    uint64_t rng;
    int ok;
} tb;

static void tb_param(tb *b, const char *name, int nd, const int64_t *dims, float scale, float offset) {
    nns_shape s = nns_shape_make(nd, dims);
    int64_t n = nns_shape_numel(&s);
    if (nd == 0) n = 1;
    float *d = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) d[i] = offset + scale * (2.0f * nns_rng_uniform(&b->rng) - 1.0f);
    if (nns_graph_add_param(b->g, name, NNS_DTYPE_F32, &s, d, 1, NULL)) b->ok = 0;
    free(d);
}

static int tb_node(tb *b, const char *op, const char *name, int n_in, const char *const *in, const char *out) {
    int idx = -1;
    if (nns_graph_add_node(b->g, op, name, n_in, in, 1, &out, &idx)) b->ok = 0;
    return idx;
}

static void tb_conv(tb *b, const char *name, const char *x, int cin, int cout, int k, int group, int bias) {
    char wn[64], bn[64], out[64];
    snprintf(wn, sizeof wn, "%s.w", name);
    snprintf(bn, sizeof bn, "%s.b", name);
    snprintf(out, sizeof out, "%s.y", name);
    int64_t wd[4] = {cout, cin / group, k, k}, bd[1] = {cout};
    tb_param(b, wn, 4, wd, 0.5f, 0.0f);
    if (bias) tb_param(b, bn, 1, bd, 0.2f, 0.0f);
    const char *in[3] = {x, wn, bn};
    int ni = tb_node(b, "Conv", name, bias ? 3 : 2, in, out);
    if (ni < 0) return;
    int64_t ks[2] = {k, k}, pads[4] = {k / 2, k / 2, k / 2, k / 2};
    nns_graph_set_attr_ints(b->g, ni, "kernel_shape", 2, ks);
    nns_graph_set_attr_ints(b->g, ni, "pads", 4, pads);
    nns_graph_set_attr_int(b->g, ni, "group", group);
}

static void tb_bn(tb *b, const char *name, const char *x, int c) {
    char n[4][64], out[64];
    const char *suf[4] = {"g", "b", "m", "v"};
    int64_t d[1] = {c};
    for (int i = 0; i < 4; i++) {
        snprintf(n[i], sizeof n[i], "%s.%s", name, suf[i]);
        tb_param(b, n[i], 1, d, i == 3 ? 0.4f : 0.5f, i == 0 ? 1.0f : i == 3 ? 1.0f : 0.0f);
    }
    snprintf(out, sizeof out, "%s.y", name);
    const char *in[5] = {x, n[0], n[1], n[2], n[3]};
    tb_node(b, "BatchNormalization", name, 5, in, out);
}

static void tb_unary(tb *b, const char *op, const char *name, const char *x) {
    char out[64];
    snprintf(out, sizeof out, "%s.y", name);
    tb_node(b, op, name, 1, &x, out);
}

static void tb_gemm(tb *b, const char *name, const char *x, int fin, int fout, int transb) {
    char wn[64], bn[64], out[64];
    snprintf(wn, sizeof wn, "%s.w", name);
    snprintf(bn, sizeof bn, "%s.b", name);
    snprintf(out, sizeof out, "%s.y", name);
    int64_t wd[2] = {transb ? fout : fin, transb ? fin : fout}, bd[1] = {fout};
    tb_param(b, wn, 2, wd, 0.3f, 0.0f);
    tb_param(b, bn, 1, bd, 0.1f, 0.0f);
    const char *in[3] = {x, wn, bn};
    int ni = tb_node(b, "Gemm", name, 3, in, out);
    if (ni >= 0) nns_graph_set_attr_int(b->g, ni, "transB", transb);
}

static void tb_flatten(tb *b, const char *name, const char *x) {
    char out[64];
    snprintf(out, sizeof out, "%s.y", name);
    int ni = tb_node(b, "Flatten", name, 1, &x, out);
    if (ni >= 0) nns_graph_set_attr_int(b->g, ni, "axis", 1);
}

static tb tb_begin(int c, int h, int w) {
    tb b = {NULL, 1234, 1};
    nns_graph_create(&b.g);
    int64_t d[4] = {-1, c, h, w};
    nns_shape s = nns_shape_make(4, d);
    if (nns_graph_add_input(b.g, "x", NNS_DTYPE_F32, &s, NULL)) b.ok = 0;
    return b;
}

static nns_graph *tb_end(tb *b, const char *out) {
    CHECK(b->ok);
    CHECK_OK(nns_graph_add_output(b->g, out));
    CHECK_OK(nns_graph_finalize(b->g));
    CHECK_OK(nns_graph_pack_params(b->g));
    return b->g;
}

/* Residual: two branches (conv-BN, and a 1x1 conv shortcut) added, then a
 * second residual with an identity shortcut. */
static nns_graph *toy_residual(void) {
    tb b = tb_begin(3, 8, 8);
    tb_conv(&b, "a", "x", 3, 8, 3, 1, 0);
    tb_bn(&b, "a.bn", "a.y", 8);
    tb_unary(&b, "Relu", "a.relu", "a.bn.y");
    tb_conv(&b, "b", "a.relu.y", 8, 12, 3, 1, 0);
    tb_bn(&b, "b.bn", "b.y", 12);
    tb_conv(&b, "sc", "x", 3, 12, 1, 1, 1);
    const char *in[2] = {"b.bn.y", "sc.y"};
    tb_node(&b, "Add", "add1", 2, in, "add1.y");
    tb_unary(&b, "Relu", "r1", "add1.y");
    tb_conv(&b, "c", "r1.y", 12, 12, 3, 1, 1);
    const char *in2[2] = {"r1.y", "c.y"};
    tb_node(&b, "Add", "add2", 2, in2, "add2.y");
    tb_unary(&b, "GlobalAveragePool", "gap", "add2.y");
    tb_flatten(&b, "flat", "gap.y");
    tb_gemm(&b, "fc", "flat.y", 12, 5, 1);
    return tb_end(&b, "fc.y");
}

/* Concat of two conv branches (5 and 7 channels) on the channel axis, then a
 * conv reading the joined tensor, a depthwise conv with bias, and Flatten ->
 * Gemm (transB = 0) -> Gemm. */
static nns_graph *toy_concat_dw(void) {
    tb b = tb_begin(2, 6, 6);
    tb_conv(&b, "p", "x", 2, 5, 3, 1, 1);
    tb_unary(&b, "Relu", "p.relu", "p.y");
    tb_conv(&b, "q", "x", 2, 7, 1, 1, 1);
    tb_bn(&b, "q.bn", "q.y", 7);
    const char *in[2] = {"p.relu.y", "q.bn.y"};
    int ni = tb_node(&b, "Concat", "cat", 2, in, "cat.y");
    if (ni >= 0) nns_graph_set_attr_int(b.g, ni, "axis", 1);
    tb_conv(&b, "r", "cat.y", 12, 10, 3, 1, 1);
    tb_bn(&b, "r.bn", "r.y", 10);
    tb_unary(&b, "Relu", "r.relu", "r.bn.y");
    tb_conv(&b, "dw", "r.relu.y", 10, 10, 3, 10, 1);
    tb_unary(&b, "Relu", "dw.relu", "dw.y");
    tb_flatten(&b, "flat", "dw.relu.y");
    tb_gemm(&b, "fc1", "flat.y", 360, 16, 0);
    tb_unary(&b, "Relu", "fc1.relu", "fc1.y");
    tb_gemm(&b, "fc2", "fc1.relu.y", 16, 4, 1);
    return tb_end(&b, "fc2.y");
}

static void test_toy_residual(void) {
    nns_graph *g = toy_residual();
    nns_depgraph *dg = NULL;
    CHECK_OK(nns_depgraph_build(g, &dg));
    if (dg) {
        /* b, sc and c's output are one group (both adds) */
        int vb = nns_graph_find_value(g, "b.y"), vs = nns_graph_find_value(g, "sc.y"), vc = nns_graph_find_value(g, "c.y");
        int ub = dg->unit_of[dg->ids[vb][3]], us = dg->unit_of[dg->ids[vs][3]], uc = dg->unit_of[dg->ids[vc][3]];
        CHECK(ub == us && us == uc);
        CHECK(!dg->groups[dg->unit_group[ub]].fixed);
        CHECK(dg->groups[dg->unit_group[ub]].n_units == 12);
        nns_depgraph_free(dg);
    }
    dead_channel_check("toy residual", g, 0.5, 0, NNS_PRUNE_CRITERION_L1, NULL);
    const nns_shape *c = wshape(g, "c.w"), *sc = wshape(g, "sc.w"), *fc = wshape(g, "fc.w");
    CHECK(c && c->dims[0] == 6 && c->dims[1] == 6);
    CHECK(sc && sc->dims[0] == 6 && sc->dims[1] == 3);
    CHECK(fc && fc->dims[0] == 5 && fc->dims[1] == 6);
    nns_graph_free(g);
}

static void test_toy_concat_dw(void) {
    nns_graph *g = toy_concat_dw();
    dead_channel_check("toy concat/dw", g, 0.4, 0, NNS_PRUNE_CRITERION_L1, NULL);
    /* p: 5 -> 3, q: 7 -> 4, r reads 7; r: 10 -> 6, dw 6 groups; fc1: 6*36 in,
       16 -> 10 out (transB = 0: [K, N]) */
    const nns_shape *r = wshape(g, "r.w"), *dw = wshape(g, "dw.w"), *f1 = wshape(g, "fc1.w"), *f2 = wshape(g, "fc2.w");
    CHECK(r && r->dims[0] == 6 && r->dims[1] == 7);
    CHECK(dw && dw->dims[0] == 6 && dw->dims[1] == 1);
    CHECK(f1 && f1->dims[0] == 6 * 36 && f1->dims[1] == 10);
    CHECK(f2 && f2->dims[0] == 4 && f2->dims[1] == 10);
    int ni = nns_graph_find_node(g, "dw");
    CHECK(ni >= 0 && nns_node_attr_int(&g->nodes[ni], "group", 0) == 6);
    nns_graph_free(g);

    /* Flatten -> Gemm slicing: the kept channels' 36 features, in order */
    g = toy_concat_dw();
    int wv = nns_graph_find_value(g, "fc1.w");
    float *before = malloc(360 * 16 * sizeof(float));
    memcpy(before, g->values[wv].data, 360 * 16 * sizeof(float));
    nns_structured_config cfg = cfg_ratio(0.0f, NNS_PRUNE_CRITERION_L1);
    const char *names[1] = {"r"};
    const float ratios[1] = {0.5f};
    cfg.layer_names = names;
    cfg.layer_ratios = ratios;
    cfg.n_layer_ratios = 1;
    /* find which r channels L1 keeps */
    int rv = nns_graph_find_value(g, "r.w");
    double l1[10];
    const float *rw = g->values[rv].data;
    for (int c = 0; c < 10; c++) {
        l1[c] = 0;
        for (int k = 0; k < 12 * 9; k++) l1[c] += fabs(rw[c * 108 + k]);
    }
    int keepc[10], nk = 0;
    for (int c = 0; c < 10; c++) {
        int rank = 0;
        for (int d = 0; d < 10; d++) rank += l1[d] < l1[c] || (l1[d] == l1[c] && d < c);
        if (rank >= 5) keepc[nk++] = c;
    }
    nns_structured_report rep;
    CHECK_OK(nns_prune_structured(g, &cfg, &rep));
    CHECK(rep.groups_pruned == 1);
    wv = nns_graph_find_value(g, "fc1.w");
    const nns_shape *s = &g->values[wv].shape;
    CHECK(s->dims[0] == 180 && s->dims[1] == 16);
    if (nk == 5 && s->dims[0] == 180) {
        const float *a = g->values[wv].data;
        int same = 1;
        for (int i = 0; i < 5; i++)
            for (int f = 0; f < 36; f++)
                for (int o = 0; o < 16; o++) same &= a[(i * 36 + f) * 16 + o] == before[(keepc[i] * 36 + f) * 16 + o];
        CHECK(same);
    }
    free(before);
    nns_graph_free(g);
}

/* round_to: every pruned group keeps a multiple of 8 (at least 8). */
static void test_round_to(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("vggsmall", 1, &g));
    if (!g) return;
    nns_structured_config cfg = cfg_ratio(0.4f, NNS_PRUNE_CRITERION_L1);
    cfg.round_to = 8;
    CHECK_OK(nns_prune_structured(g, &cfg, NULL));
    /* 32 -> 19.2 -> 16; 64 -> 38.4 -> 40; fc1 256 -> 153.6 -> 152 */
    const nns_shape *a = wshape(g, "features.0.conv.weight"), *c = wshape(g, "features.3.conv.weight");
    const nns_shape *f = wshape(g, "fc1.weight");
    CHECK(a && a->dims[0] == 16);
    CHECK(c && c->dims[0] == 40 && c->dims[1] == 40);
    CHECK(f && f->dims[0] == 152 && f->dims[1] == 40 * 49);
    nns_graph_free(g);

    /* lenet5: conv1 has 6 channels (< 8): kept whole; global mode rounds too */
    CHECK_OK(nns_arch_build("lenet5", 1, &g));
    if (!g) return;
    cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L2);
    cfg.round_to = 8;
    cfg.global = 1;
    CHECK_OK(nns_prune_structured(g, &cfg, NULL));
    const nns_shape *c1 = wshape(g, "conv1.weight"), *c2 = wshape(g, "conv2.weight");
    const nns_shape *f1 = wshape(g, "fc1.weight"), *f2 = wshape(g, "fc2.weight");
    CHECK(c1 && c1->dims[0] == 6);
    CHECK(c2 && c2->dims[0] % 8 == 0 && c2->dims[0] >= 8);
    CHECK(f1 && f1->dims[0] % 8 == 0 && f1->dims[0] >= 8);
    CHECK(f2 && (f2->dims[0] % 8 == 0 || f2->dims[0] == 84));
    nns_graph_free(g);
}

/* Global ranking to a MAC or parameter target; per-layer with a target. */
static void test_global(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("resnet8", 1, &g));
    if (g) {
        nns_structured_config cfg = cfg_ratio(0.0f, NNS_PRUNE_CRITERION_L1);
        cfg.global = 1;
        cfg.target_macs = 0.5f;
        nns_structured_report rep;
        CHECK_OK(nns_prune_structured(g, &cfg, &rep));
        double f = (double)rep.macs_after / rep.macs_before;
        CHECK_MSG(f <= 0.5 && f > 0.4, "resnet8 global: MACs at %.3f of the original", f);
        CHECK(rep.macs_after == graph_macs(g));
        nns_graph_free(g);
    }
    CHECK_OK(nns_arch_build("mobilenet", 1, &g));
    if (g) {
        nns_structured_config cfg = cfg_ratio(0.0f, NNS_PRUNE_CRITERION_L2);
        cfg.global = 1;
        cfg.target_params = 0.6f;
        nns_structured_report rep;
        CHECK_OK(nns_prune_structured(g, &cfg, &rep));
        double f = (double)rep.params_after / rep.params_before;
        CHECK_MSG(f <= 0.6 && f > 0.5, "mobilenet global: params at %.3f", f);
        nns_graph_free(g);
    }
    CHECK_OK(nns_arch_build("lenet5", 1, &g));
    if (g) { /* global by ratio: 30% of all eligible units */
        nns_structured_config cfg = cfg_ratio(0.3f, NNS_PRUNE_CRITERION_L1);
        cfg.global = 1;
        nns_structured_report rep;
        CHECK_OK(nns_prune_structured(g, &cfg, &rep));
        /* eligible: conv1 6 + conv2 16 + fc1 120 + fc2 84 = 226 -> 68 removed */
        CHECK_MSG(rep.channels_before - rep.channels_after == 68, "removed %lld",
                  (long long)(rep.channels_before - rep.channels_after));
        nns_graph_free(g);
    }
    CHECK_OK(nns_arch_build("vggsmall", 1, &g));
    if (g) { /* per layer, one uniform ratio found for a MAC target */
        nns_structured_config cfg = cfg_ratio(0.0f, NNS_PRUNE_CRITERION_L1);
        cfg.target_macs = 0.5f;
        cfg.neurons = 2;
        nns_structured_report rep;
        CHECK_OK(nns_prune_structured(g, &cfg, &rep));
        double f = (double)rep.macs_after / rep.macs_before;
        CHECK_MSG(f <= 0.5 && f > 0.4, "vggsmall layer target: MACs at %.3f", f);
        nns_graph_free(g);
    }
}

/* neurons = 1: only Gemm neurons; exclusions and layer ratios. */
static void test_modes(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("lenet5", 1, &g));
    if (g) {
        nns_structured_config cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L1);
        cfg.neurons = 1;
        const char *ex[1] = {"fc2.weight"}; /* a layer weight names its layer */
        nns_prune_exclude exc = {ex, 1};
        cfg.exclude = &exc;
        const char *ln[1] = {"fc1"};
        const float lr[1] = {0.25f};
        cfg.layer_names = ln;
        cfg.layer_ratios = lr;
        cfg.n_layer_ratios = 1;
        CHECK_OK(nns_prune_structured(g, &cfg, NULL));
        CHECK(wshape(g, "conv1.weight")->dims[0] == 6);
        CHECK(wshape(g, "conv2.weight")->dims[0] == 16);
        CHECK(wshape(g, "fc1.weight")->dims[0] == 90);
        CHECK(wshape(g, "fc2.weight")->dims[0] == 84);
        nns_graph_free(g);
    }
}

/* Taylor on synthetic data: dead channels score 0 and go first. */
static void test_taylor(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("resnet8", 5, &g));
    if (!g) return;
    nns_dataset d;
    memset(&d, 0, sizeof d);
    d.n = 20;
    d.c = 1;
    d.h = 28;
    d.w = 28;
    d.n_classes = 10;
    d.x = malloc((size_t)d.n * 784 * sizeof(float));
    d.y = malloc((size_t)d.n * sizeof(int32_t));
    uint64_t r = 99;
    for (int64_t i = 0; i < d.n * 784; i++) d.x[i] = 2.0f * nns_rng_uniform(&r) - 1.0f;
    for (int64_t i = 0; i < d.n; i++) d.y[i] = (int32_t)(i % 10);
    dead_channel_check("resnet8/taylor", g, 0.25, 2, NNS_PRUNE_CRITERION_TAYLOR, &d);
    nns_graph_free(g);
    /* no data: a clear error */
    CHECK_OK(nns_arch_build("lenet5", 1, &g));
    nns_structured_config cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_TAYLOR);
    CHECK(nns_prune_structured(g, &cfg, NULL) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "taylor") != NULL);
    nns_graph_free(g);
    free(d.x);
    free(d.y);
}

/* Masks beside the parameters are sliced like them. */
static void test_masks(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("resnet8", 1, &g));
    if (!g) return;
    g->masks = malloc((size_t)g->n_params * sizeof(float));
    for (int64_t i = 0; i < g->n_params; i++) g->masks[i] = g->params[i] > 0.0f ? 1.0f : 0.0f;
    nns_structured_config cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L1);
    CHECK_OK(nns_prune_structured(g, &cfg, NULL));
    CHECK(g->masks != NULL);
    int ok = 1;
    for (int64_t i = 0; g->masks && i < g->n_params; i++) ok &= g->masks[i] == (g->params[i] > 0.0f ? 1.0f : 0.0f);
    CHECK(ok);
    nns_graph_free(g);
}

/* A pruned graph trains (fine-tuning after pruning). */
static void test_finetune(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("mobilenet", 2, &g));
    if (!g) return;
    nns_structured_config cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L1);
    cfg.round_to = 4;
    CHECK_OK(nns_prune_structured(g, &cfg, NULL));
    nns_dataset d;
    memset(&d, 0, sizeof d);
    d.n = 16;
    d.c = 1;
    d.h = d.w = 28;
    d.n_classes = 10;
    d.x = malloc((size_t)d.n * 784 * sizeof(float));
    d.y = malloc((size_t)d.n * sizeof(int32_t));
    uint64_t r = 3;
    for (int64_t i = 0; i < d.n * 784; i++) d.x[i] = nns_rng_uniform(&r);
    for (int64_t i = 0; i < d.n; i++) d.y[i] = (int32_t)(i % 10);
    nns_train_config tc;
    nns_train_config_default(&tc);
    tc.epochs = 1;
    tc.batch_size = 8;
    nns_train_result res;
    CHECK_OK(nns_train(g, &d, NULL, &tc, &res));
    CHECK(isfinite(res.final_train_loss));
    free(d.x);
    free(d.y);
    nns_graph_free(g);
}

/* A pruned graph exports as standard ONNX and reloads with the same outputs. */
static void test_onnx_roundtrip(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("mobilenet", 8, &g));
    if (!g) return;
    nns_structured_config cfg = cfg_ratio(0.4f, NNS_PRUNE_CRITERION_L2);
    CHECK_OK(nns_prune_structured(g, &cfg, NULL));
    char path[256];
    const char *dir = getenv("NNS_BINARY_DIR");
    snprintf(path, sizeof path, "%s/test_prune_structured_%d.onnx", dir ? dir : "/tmp", (int)getpid());
    CHECK_OK(nns_graph_save_onnx(g, path));
    nns_graph *h = NULL;
    CHECK_OK(nns_graph_load_onnx(path, &h));
    remove(path);
    if (h) {
        float *x = rand_input(g, 2, 3);
        int64_t k0 = 0, k1 = 0;
        float *y0 = run(g, x, 2, &k0), *y1 = run(h, x, 2, &k1);
        CHECK(k0 == k1 && k0 == 10);
        if (y0 && y1) CHECK(max_diff(y0, y1, 2 * k0) <= 1e-5);
        free(x);
        free(y0);
        free(y1);
        nns_graph_free(h);
    }
    nns_graph_free(g);
}

/* ---- errors leave the graph unchanged -------------------------------- */

static void expect_fail(nns_graph *g, const nns_structured_config *cfg, nns_status want, const char *needle) {
    snap s = take_snap(g);
    nns_status st = nns_prune_structured(g, cfg, NULL);
    CHECK_MSG(st == want, "status %s, want %s (%s)", nns_status_str(st), nns_status_str(want), nns_last_error());
    CHECK_MSG(strstr(nns_last_error(), needle) != NULL, "message '%s' lacks '%s'", nns_last_error(), needle);
    CHECK_MSG(same_as_snap(g, &s), "graph changed after a failure (%s)", needle);
}

/* A Reshape to [0, -1] (PyTorch's x.view(x.size(0), -1)) flattens as
 * Flatten does: the conv before it loses channels and the Gemm after it the
 * matching input columns. */
static void test_reshape_flatten(void) {
    tb b = tb_begin(2, 4, 4);
    tb_conv(&b, "conv", "x", 2, 6, 3, 1, 1);
    tb_unary(&b, "Relu", "relu", "conv.y");
    int64_t shp[2] = {0, -1};
    nns_shape s1 = nns_shape_make(1, (int64_t[]){2});
    nns_graph_add_param(b.g, "shape", NNS_DTYPE_S64, &s1, shp, 0, NULL);
    const char *rin[2] = {"relu.y", "shape"};
    tb_node(&b, "Reshape", "reshape", 2, rin, "reshape.y");
    tb_gemm(&b, "fc1", "reshape.y", 96, 3, 1);
    nns_graph *g = tb_end(&b, "fc1.y");
    nns_structured_config c = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L1);
    c.neurons = 2;
    nns_structured_report rep;
    CHECK_OK(nns_prune_structured(g, &c, &rep));
    CHECK_MSG(wshape(g, "conv.w")->dims[0] == 3 && wshape(g, "fc1.w")->dims[1] == 48,
              "conv %lld channels, fc1 %lld inputs", (long long)wshape(g, "conv.w")->dims[0],
              (long long)wshape(g, "fc1.w")->dims[1]);
    CHECK(rep.conv_before == 6 && rep.conv_after == 3);
    nns_graph_free(g);
}

static void test_errors(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("resnet8", 1, &g));
    if (!g) return;
    nns_structured_config cfg = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L1);
    const char *bad[1] = {"no_such_layer"};
    const float r5[1] = {0.5f};
    cfg.layer_names = bad;
    cfg.layer_ratios = r5;
    cfg.n_layer_ratios = 1;
    expect_fail(g, &cfg, NNS_STATUS_INVALID_ARG, "no_such_layer");
    cfg.n_layer_ratios = 0;
    nns_prune_exclude ex = {bad, 1};
    cfg.exclude = &ex;
    expect_fail(g, &cfg, NNS_STATUS_INVALID_ARG, "no_such_layer");
    cfg.exclude = NULL;
    const char *fc[1] = {"fc"};
    cfg.layer_names = fc;
    cfg.n_layer_ratios = 1;
    expect_fail(g, &cfg, NNS_STATUS_UNSUPPORTED, "logits");
    {   /* ratio 0 for the classifier just means "leave it" */
        const float r0[1] = {0.0f};
        nns_structured_config c0 = cfg;
        c0.layer_ratios = r0;
        nns_graph *h = NULL;
        CHECK_OK(nns_graph_clone(g, &h));
        if (h) CHECK_OK(nns_prune_structured(h, &c0, NULL));
        nns_graph_free(h);
    }
    const char *relu[1] = {"stem.act"};
    cfg.layer_names = relu;
    expect_fail(g, &cfg, NNS_STATUS_INVALID_ARG, "stem.act");
    cfg.n_layer_ratios = 0;
    cfg.ratio = 1.0f;
    expect_fail(g, &cfg, NNS_STATUS_INVALID_ARG, "ratio");
    cfg.ratio = -0.1f;
    expect_fail(g, &cfg, NNS_STATUS_INVALID_ARG, "ratio");
    cfg.ratio = 0.5f;
    cfg.target_macs = 1.5f;
    expect_fail(g, &cfg, NNS_STATUS_INVALID_ARG, "target_macs");
    nns_graph_free(g);

    /* bn criterion on a model without BatchNorm */
    CHECK_OK(nns_arch_build("lenet5", 1, &g));
    if (g) {
        nns_structured_config c2 = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_BN);
        expect_fail(g, &c2, NNS_STATUS_INVALID_ARG, "BatchNormalization");
        nns_graph_free(g);
    }

    /* Reshape of a pruned dim to a fixed shape: that conv's group is not
     * prunable (a Reshape to [0, -1] flattens: test_reshape_flatten) */
    tb b = tb_begin(2, 4, 4);
    tb_conv(&b, "conv", "x", 2, 6, 3, 1, 1);
    tb_unary(&b, "Relu", "relu", "conv.y");
    int64_t shp[2] = {-1, 96};
    nns_shape s1 = nns_shape_make(1, (int64_t[]){2});
    nns_graph_add_param(b.g, "shape", NNS_DTYPE_S64, &s1, shp, 0, NULL);
    const char *rin[2] = {"relu.y", "shape"};
    tb_node(&b, "Reshape", "reshape", 2, rin, "reshape.y");
    tb_gemm(&b, "fc1", "reshape.y", 96, 8, 1);
    tb_unary(&b, "Relu", "fc1.relu", "fc1.y");
    tb_gemm(&b, "fc2", "fc1.relu.y", 8, 3, 1);
    g = tb_end(&b, "fc2.y");
    nns_structured_config c3 = cfg_ratio(0.0f, NNS_PRUNE_CRITERION_L1);
    const char *cn[1] = {"conv"};
    c3.layer_names = cn;
    c3.layer_ratios = r5;
    c3.n_layer_ratios = 1;
    expect_fail(g, &c3, NNS_STATUS_UNSUPPORTED, "reshape");
    /* without naming it: the conv is skipped, fc1's neurons are pruned */
    nns_structured_config c4 = cfg_ratio(0.5f, NNS_PRUNE_CRITERION_L1);
    nns_structured_report rep;
    CHECK_OK(nns_prune_structured(g, &c4, &rep));
    CHECK(wshape(g, "conv.w")->dims[0] == 6);
    CHECK(wshape(g, "fc1.w")->dims[0] == 4);
    CHECK(rep.groups == 3 && rep.groups_pruned == 1);
    nns_graph_free(g);

    /* grouped (not depthwise) convolution */
    b = tb_begin(4, 4, 4);
    tb_conv(&b, "c1", "x", 4, 8, 3, 1, 1);
    tb_conv(&b, "gconv", "c1.y", 8, 8, 3, 2, 1);
    tb_unary(&b, "GlobalAveragePool", "gap", "gconv.y");
    tb_flatten(&b, "flat", "gap.y");
    tb_gemm(&b, "fc", "flat.y", 8, 3, 1);
    g = tb_end(&b, "fc.y");
    const char *c1n[1] = {"c1"};
    c3.layer_names = c1n;
    expect_fail(g, &c3, NNS_STATUS_UNSUPPORTED, "gconv");
    nns_graph_free(g);
}

/* ---- torchvision MobileNetV2 (tests/golden_tv, see tools/export_torchvision.py) */

static void test_torchvision_tiny(void) {
    const char *src = getenv("NNS_SOURCE_DIR");
    char path[512], xp[512], yp[512];
    snprintf(path, sizeof path, "%s/tests/golden_tv/mobilenet_v2_tiny.onnx", src ? src : ".");
    snprintf(xp, sizeof xp, "%s/tests/golden_tv/mobilenet_v2_tiny_x.npy", src ? src : ".");
    snprintf(yp, sizeof yp, "%s/tests/golden_tv/mobilenet_v2_tiny_y.npy", src ? src : ".");
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_load_onnx(path, &g));
    if (!g) return;
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    /* the import matches PyTorch */
    int nd;
    int64_t dx[8], dy[8];
    float *x = NULL, *yref = NULL;
    CHECK_OK(nns_npy_load_f32(xp, &nd, dx, &x));
    CHECK_OK(nns_npy_load_f32(yp, &nd, dy, &yref));
    if (x && yref) {
        int n = (int)dx[0];
        int64_t k = 0;
        float *y = run(g, x, n, &k);
        if (y) CHECK_MSG(max_diff(y, yref, n * k) <= 1e-4, "tiny MobileNetV2: %g from PyTorch", max_diff(y, yref, n * k));
        free(y);
    }
    free(x);
    free(yref);
    /* every depthwise conv is followed, every block prunable */
    nns_depgraph *dg = NULL;
    CHECK_OK(nns_depgraph_build(g, &dg));
    if (dg) {
        int n_dw = 0, n_fixed_conv = 0;
        for (int i = 0; i < g->n_nodes; i++) n_dw += dg->dw[i];
        for (int gi = 0; gi < dg->n_groups; gi++) n_fixed_conv += dg->groups[gi].fixed && dg->groups[gi].has_conv;
        CHECK_MSG(n_dw == 7, "%d depthwise convs followed", n_dw);
        CHECK_MSG(n_fixed_conv == 0, "%d conv groups not prunable", n_fixed_conv);
        nns_depgraph_free(dg);
    }
    dead_channel_check("mobilenet_v2_tiny", g, 0.4, 0, NNS_PRUNE_CRITERION_L1, NULL);
    nns_graph_free(g);
    /* 40% channels by BN |gamma| */
    CHECK_OK(nns_graph_load_onnx(path, &g));
    if (!g) return;
    nns_structured_config cfg = cfg_ratio(0.4f, NNS_PRUNE_CRITERION_BN);
    cfg.neurons = 2;
    nns_structured_report rep;
    CHECK_OK(nns_prune_structured(g, &cfg, &rep));
    CHECK(rep.macs_after < 0.7 * rep.macs_before);
    nns_graph_free(g);
    /* Taylor on synthetic 3x32x32 data, global to 50% of the MACs */
    CHECK_OK(nns_graph_load_onnx(path, &g));
    if (!g) return;
    nns_dataset d;
    memset(&d, 0, sizeof d);
    d.n = 12;
    d.c = 3;
    d.h = d.w = 32;
    d.n_classes = 10;
    d.x = malloc((size_t)d.n * 3072 * sizeof(float));
    d.y = malloc((size_t)d.n * sizeof(int32_t));
    uint64_t r = 5;
    for (int64_t i = 0; i < d.n * 3072; i++) d.x[i] = 2.0f * nns_rng_uniform(&r) - 1.0f;
    for (int64_t i = 0; i < d.n; i++) d.y[i] = (int32_t)(i % 10);
    cfg = cfg_ratio(0.0f, NNS_PRUNE_CRITERION_TAYLOR);
    cfg.global = 1;
    cfg.target_macs = 0.5f;
    cfg.data = &d;
    cfg.batch_size = 6;
    cfg.taylor_batches = 2;
    CHECK_OK(nns_prune_structured(g, &cfg, &rep));
    CHECK(rep.macs_after <= 0.5 * rep.macs_before && rep.macs_after > 0.3 * rep.macs_before);
    float *x2 = rand_input(g, 2, 1);
    int64_t k = 0;
    float *y2 = run(g, x2, 2, &k);
    CHECK(k == 10 && y2 && isfinite(y2[0]));
    free(x2);
    free(y2);
    free(d.x);
    free(d.y);
    nns_graph_free(g);
}

int main(void) {
    test_archs_dead_channels();
    test_archs_shapes();
    test_cost_model();
    test_toy_residual();
    test_toy_concat_dw();
    test_round_to();
    test_global();
    test_modes();
    test_taylor();
    test_masks();
    test_finetune();
    test_onnx_roundtrip();
    test_errors();
    test_reshape_flatten();
    test_torchvision_tiny();
    TEST_MAIN_END();
}
