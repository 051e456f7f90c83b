/* test_prune_unstructured.c — magnitude (global / layer) and N:M pruning,
 * exclusions and bad inputs, masks through training, the gradual schedule
 * and its step hook, sparse ONNX storage (round trip, size, crafted sparse
 * initializers), and the sparse Gemm kernel and forward path against dense. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "kernels/kernels.h"
#include "nnslim/nnslim.h"
#include "nnslim/prune.h"
#include "onnx.pb-c.h"
#include "ops/sparse_dispatch.h"
#include "runtime/plan.h"
#include "testutil.h"
#include "synthdata.h"

/* ---- helpers ----------------------------------------------------------- */

static int is_prunable(const nns_graph *g, int v) {
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        int conv = strcmp(n->op_type, "Conv") == 0, gemm = strcmp(n->op_type, "Gemm") == 0;
        if ((conv || gemm) && n->n_in > 1 && n->in[1] == v) return 1;
    }
    return 0;
}

/* zeros and elements of the weight of node `name` */
static int64_t weight_zeros(const nns_graph *g, const char *node, int64_t *numel) {
    int ni = nns_graph_find_node(g, node);
    const nns_value *v = &g->values[g->nodes[ni].in[1]];
    int64_t n = nns_shape_numel(&v->shape), z = 0;
    const float *w = v->data;
    for (int64_t i = 0; i < n; i++) z += w[i] == 0.0f;
    if (numel) *numel = n;
    return z;
}

/* every mask 0 <=> weight 0 for prunable weights; masks 1 elsewhere */
static int masks_consistent(const nns_graph *g) {
    if (!g->masks) return 0;
    for (int v = 0; v < g->n_values; v++) {
        const nns_value *val = &g->values[v];
        if (val->param_offset < 0) continue;
        int64_t n = nns_shape_numel(&val->shape);
        const float *w = g->params + val->param_offset, *m = g->masks + val->param_offset;
        int pr = is_prunable(g, v);
        for (int64_t i = 0; i < n; i++) {
            if (m[i] != 0.0f && m[i] != 1.0f) return 0;
            if (m[i] == 0.0f && w[i] != 0.0f) return 0;
            if (!pr && m[i] == 0.0f) return 0;
            if (pr && w[i] == 0.0f && m[i] != 0.0f) return 0;
        }
    }
    return 1;
}

static int64_t total_zeros(const nns_graph *g, int64_t *n_out) {
    int64_t z = 0, n = 0;
    for (int v = 0; v < g->n_values; v++) {
        if (!is_prunable(g, v)) continue;
        const nns_value *val = &g->values[v];
        int64_t k = nns_shape_numel(&val->shape);
        const float *w = val->data;
        for (int64_t i = 0; i < k; i++) z += w[i] == 0.0f;
        n += k;
    }
    *n_out = n;
    return z;
}


static long file_size(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* One Gemm node graph: x [-1, K] (transposed first with transA), W,
 * optional C. */
static nns_graph *gemm_graph(int K, int N, int trans_a, int trans_b, float alpha, float beta, int with_c,
                             uint64_t seed) {
    nns_graph *g;
    if (nns_graph_create(&g)) return NULL;
    uint64_t r = seed;
    int64_t xd[2] = {-1, K};
    int64_t wd[2] = {trans_b ? N : K, trans_b ? K : N}, cd[1] = {N};
    nns_shape sx = nns_shape_make(2, xd), sw = nns_shape_make(2, wd), sc = nns_shape_make(1, cd);
    float *w = malloc((size_t)K * N * sizeof(float)), c[512];
    for (int64_t i = 0; i < (int64_t)K * N; i++) w[i] = nns_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < N; i++) c[i] = nns_rng_uniform(&r) - 0.5f;
    nns_status st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &sx, NULL);
    if (!st) st = nns_graph_add_param(g, "w", NNS_DTYPE_F32, &sw, w, 1, NULL);
    if (!st && with_c) st = nns_graph_add_param(g, "c", NNS_DTYPE_F32, &sc, c, 1, NULL);
    free(w);
    const char *ins[3] = {trans_a ? "xt" : "x", "w", "c"}, *outs[1] = {"y"};
    int node = -1;
    if (!st && trans_a) { /* A = x^T [K, batch] */
        const char *ti[1] = {"x"}, *to[1] = {"xt"};
        int tn;
        const int64_t perm[2] = {1, 0};
        st = nns_graph_add_node(g, "Transpose", "tr", 1, ti, 1, to, &tn);
        if (!st) st = nns_graph_set_attr_ints(g, tn, "perm", 2, perm);
    }
    if (!st) st = nns_graph_add_node(g, "Gemm", "fc", with_c ? 3 : 2, ins, 1, outs, &node);
    if (!st) st = nns_graph_set_attr_int(g, node, "transA", trans_a);
    if (!st) st = nns_graph_set_attr_int(g, node, "transB", trans_b);
    if (!st) st = nns_graph_set_attr_float(g, node, "alpha", alpha);
    if (!st) st = nns_graph_set_attr_float(g, node, "beta", beta);
    if (!st) st = nns_graph_add_output(g, "y");
    if (!st) st = nns_graph_finalize(g);
    if (!st) st = nns_graph_pack_params(g);
    if (st) {
        fprintf(stderr, "gemm_graph: %s\n", nns_last_error());
        nns_graph_free(g);
        return NULL;
    }
    return g;
}

/* ---- magnitude pruning --------------------------------------------------- */

static void test_global_layer(void) {
    nns_graph *g, *h;
    CHECK_OK(nns_arch_build("lenet300", 11, &g));
    CHECK_OK(nns_graph_clone(g, &h));
    CHECK(nns_prune_sparsity(g) == 0.0f);
    CHECK(g->masks == NULL);
    CHECK_OK(nns_prune_magnitude(g, 0.9f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    int64_t n, z = total_zeros(g, &n);
    CHECK_MSG(z == llround(0.9 * n), "global: %lld zeros of %lld", (long long)z, (long long)n);
    CHECK_NEAR(nns_prune_sparsity(g), 0.9, 1e-6);
    CHECK(masks_consistent(g));
    const char *pm = nns_graph_get_meta(g, "nnslim.pruned");
    CHECK(pm && strcmp(pm, "1") == 0);
    /* one threshold: every pruned |w| <= every kept |w| across layers */
    float max_pruned = 0, min_kept = INFINITY;
    for (int v = 0; v < g->n_values; v++) {
        if (!is_prunable(g, v)) continue;
        const float *w0 = h->values[v].data, *w1 = g->values[v].data;
        int64_t k = nns_shape_numel(&g->values[v].shape);
        for (int64_t i = 0; i < k; i++) {
            if (w1[i] == 0.0f) max_pruned = fmaxf(max_pruned, fabsf(w0[i]));
            else {
                min_kept = fminf(min_kept, fabsf(w0[i]));
                CHECK(w1[i] == w0[i]);
            }
        }
    }
    CHECK(max_pruned <= min_kept);
    /* biases untouched */
    int bi = nns_graph_find_value(g, "fc1.bias");
    CHECK(memcmp(g->values[bi].data, h->values[bi].data, 300 * sizeof(float)) == 0);
    /* global is not per layer: fc1 (784 fan-in, smaller init) loses more */
    int64_t n1, z1 = weight_zeros(g, "fc1", &n1), n3, z3 = weight_zeros(g, "fc3", &n3);
    CHECK((double)z1 / n1 > (double)z3 / n3);

    /* layer scope: each layer exactly */
    CHECK_OK(nns_prune_magnitude(h, 0.7f, NNS_PRUNE_SCOPE_LAYER, NULL));
    const char *layers[3] = {"fc1", "fc2", "fc3"};
    for (int l = 0; l < 3; l++) {
        int64_t nl, zl = weight_zeros(h, layers[l], &nl);
        CHECK_MSG(zl == llround(0.7 * nl), "%s: %lld of %lld", layers[l], (long long)zl, (long long)nl);
    }
    CHECK(masks_consistent(h));
    /* masked weights stay masked: a lower target prunes nothing, a higher one more */
    float *before = malloc((size_t)g->n_params * sizeof(float));
    memcpy(before, g->masks, (size_t)g->n_params * sizeof(float));
    CHECK_OK(nns_prune_magnitude(g, 0.5f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    CHECK(memcmp(before, g->masks, (size_t)g->n_params * sizeof(float)) == 0);
    CHECK_OK(nns_prune_magnitude(g, 0.95f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    z = total_zeros(g, &n);
    CHECK(z == llround(0.95 * n));
    int subset = 1;
    for (int64_t i = 0; i < g->n_params; i++) subset &= !(before[i] == 0.0f && g->masks[i] != 0.0f);
    CHECK(subset);
    /* a mask set by hand is honoured: the weight is zeroed and counted */
    const nns_value *w3 = &h->values[nns_graph_find_value(h, "fc3.weight")];
    int64_t k3 = 0;
    while (((const float *)w3->data)[k3] == 0.0f) k3++;
    h->masks[w3->param_offset + k3] = 0.0f;
    CHECK_OK(nns_prune_magnitude(h, 0.7f, NNS_PRUNE_SCOPE_LAYER, NULL));
    CHECK(((const float *)w3->data)[k3] == 0.0f);
    CHECK(weight_zeros(h, "fc3", &n3) == llround(0.7 * n3) + 1);
    free(before);
    nns_graph_free(g);
    nns_graph_free(h);
}

static void test_ties(void) {
    /* 10 x 10 weight with only three distinct magnitudes */
    nns_graph *g = gemm_graph(10, 10, 0, 1, 1.0f, 1.0f, 1, 3);
    float *w = g->values[nns_graph_find_value(g, "w")].data;
    for (int i = 0; i < 100; i++) w[i] = i < 30 ? 0.5f : (i < 80 ? -1.0f : 2.0f);
    CHECK_OK(nns_prune_magnitude(g, 0.45f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    int z = 0;
    for (int i = 0; i < 100; i++) z += w[i] == 0.0f;
    CHECK(z == 45);
    for (int i = 0; i < 30; i++) CHECK(w[i] == 0.0f);
    for (int i = 80; i < 100; i++) CHECK(w[i] == 2.0f);
    CHECK_OK(nns_prune_magnitude(g, 0.555f, NNS_PRUNE_SCOPE_LAYER, NULL)); /* round(55.5) = 56 */
    z = 0;
    for (int i = 0; i < 100; i++) z += w[i] == 0.0f;
    CHECK(z == 56);
    /* sparsity 0 is valid and prunes nothing new */
    CHECK_OK(nns_prune_magnitude(g, 0.0f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    z = 0;
    for (int i = 0; i < 100; i++) z += w[i] == 0.0f;
    CHECK(z == 56);
    /* NaN weights rank last */
    w[99] = NAN;
    CHECK_OK(nns_prune_magnitude(g, 0.9f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    CHECK(isnan(w[99]));
    nns_graph_free(g);
}

static void test_exclusions(void) {
    nns_graph *g;
    CHECK_OK(nns_arch_build("lenet300", 5, &g));
    const char *ex_names[2] = {"fc1", "fc3.weight"}; /* a node, and a weight by value name */
    nns_prune_exclude ex = {ex_names, 2};
    CHECK_OK(nns_prune_magnitude(g, 0.8f, NNS_PRUNE_SCOPE_GLOBAL, &ex));
    int64_t n1, n2, n3;
    CHECK(weight_zeros(g, "fc1", &n1) == 0);
    CHECK(weight_zeros(g, "fc3", &n3) == 0);
    CHECK(weight_zeros(g, "fc2", &n2) == llround(0.8 * n2));
    nns_prune_exclude ex1 = {ex_names, 1};
    CHECK_OK(nns_prune_nm(g, 1, 4, &ex1));
    CHECK(weight_zeros(g, "fc1", &n1) == 0);
    CHECK(weight_zeros(g, "fc3", &n3) == 10 * 75); /* 1 of every 4 inputs kept */
    CHECK(weight_zeros(g, "fc2", &n2) >= 100 * 225);
    /* excluding everything prunable is an error */
    const char *all[3] = {"fc1", "fc2", "fc3"};
    nns_prune_exclude ex3 = {all, 3};
    CHECK(nns_prune_magnitude(g, 0.5f, NNS_PRUNE_SCOPE_LAYER, &ex3) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "excluded") != NULL);
    nns_graph_free(g);
}

static void test_bad_inputs(void) {
    nns_graph *g, *h;
    CHECK_OK(nns_arch_build("lenet5", 2, &g));
    CHECK_OK(nns_graph_clone(g, &h));
    const float bad[4] = {1.0f, -0.1f, NAN, 1.5f};
    for (int i = 0; i < 4; i++) {
        CHECK(nns_prune_magnitude(g, bad[i], NNS_PRUNE_SCOPE_GLOBAL, NULL) == NNS_STATUS_INVALID_ARG);
        CHECK(strstr(nns_last_error(), "sparsity") != NULL);
    }
    CHECK(nns_prune_magnitude(g, 1.0f, NNS_PRUNE_SCOPE_LAYER, NULL) == NNS_STATUS_INVALID_ARG);
    CHECK_MSG(strstr(nns_last_error(), "sparsity 1 ") != NULL, "%s", nns_last_error());
    CHECK(nns_prune_magnitude(g, -0.1f, NNS_PRUNE_SCOPE_LAYER, NULL) == NNS_STATUS_INVALID_ARG);
    CHECK_MSG(strstr(nns_last_error(), "-0.1") != NULL, "%s", nns_last_error());
    const char *names[2] = {"fc1", "no_such_layer"};
    nns_prune_exclude ex = {names, 2};
    CHECK(nns_prune_magnitude(g, 0.5f, NNS_PRUNE_SCOPE_GLOBAL, &ex) == NNS_STATUS_INVALID_ARG);
    CHECK_MSG(strstr(nns_last_error(), "'no_such_layer'") != NULL, "%s", nns_last_error());
    CHECK(nns_prune_nm(g, 2, 4, &ex) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "'no_such_layer'") != NULL);
    CHECK(nns_prune_magnitude(g, 0.5f, (nns_prune_scope)7, NULL) == NNS_STATUS_INVALID_ARG);
    const int nm_bad[4][2] = {{2, 2}, {0, 4}, {4, 2}, {-1, 4}};
    for (int i = 0; i < 4; i++) {
        CHECK(nns_prune_nm(g, nm_bad[i][0], nm_bad[i][1], NULL) == NNS_STATUS_INVALID_ARG);
        char want[32];
        snprintf(want, sizeof want, "%d:%d", nm_bad[i][0], nm_bad[i][1]);
        CHECK_MSG(strstr(nns_last_error(), want) != NULL, "%s", nns_last_error());
    }
    CHECK(nns_prune_magnitude(NULL, 0.5f, NNS_PRUNE_SCOPE_GLOBAL, NULL) == NNS_STATUS_INVALID_ARG);
    /* unchanged: same weights, no masks, no metadata */
    CHECK(g->masks == NULL);
    CHECK(nns_graph_get_meta(g, "nnslim.pruned") == NULL);
    CHECK(g->n_params == h->n_params && memcmp(g->params, h->params, (size_t)g->n_params * sizeof(float)) == 0);
    nns_graph_free(g);
    nns_graph_free(h);
}

/* ---- N:M ------------------------------------------------------------------ */

/* Check the N:M pattern of node `name`'s weight against the original. */
static void check_nm(const nns_graph *g, const nns_graph *orig, const char *name, int N, int M, int exact) {
    int ni = nns_graph_find_node(g, name);
    const nns_node *nd = &g->nodes[ni];
    const nns_value *v = &g->values[nd->in[1]];
    const float *w = v->data, *w0 = orig->values[nd->in[1]].data;
    int64_t outer, red, rs, os;
    if (strcmp(nd->op_type, "Conv") == 0) {
        outer = v->shape.dims[0];
        red = nns_shape_numel(&v->shape) / outer;
        rs = 1;
        os = red;
    } else {
        int tb = nns_node_attr_int(nd, "transB", 0) != 0;
        outer = tb ? v->shape.dims[0] : v->shape.dims[1];
        red = tb ? v->shape.dims[1] : v->shape.dims[0];
        rs = tb ? 1 : outer;
        os = tb ? red : 1;
    }
    int ok = 1, largest = 1;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t r0 = 0; r0 < red; r0 += M) {
            int len = (int)(red - r0 < M ? red - r0 : M), nz = 0;
            float min_kept = INFINITY, max_pruned = 0;
            for (int i = 0; i < len; i++) {
                int64_t a = o * os + (r0 + i) * rs;
                if (w[a] != 0.0f) {
                    nz++;
                    min_kept = fminf(min_kept, fabsf(w0[a]));
                    if (w[a] != w0[a]) ok = 0;
                } else {
                    max_pruned = fmaxf(max_pruned, fabsf(w0[a]));
                }
            }
            if (exact ? nz != (len < N ? len : N) : nz > N) ok = 0;
            if (max_pruned > min_kept) largest = 0;
        }
    CHECK_MSG(ok, "%s: not %d:%d", name, N, M);
    CHECK_MSG(largest, "%s: a pruned weight is larger than a kept one", name);
}

static void test_nm(void) {
    nns_graph *g, *h;
    CHECK_OK(nns_arch_build("lenet5", 4, &g));
    CHECK_OK(nns_graph_clone(g, &h));
    CHECK_OK(nns_prune_nm(g, 2, 4, NULL));
    const char *layers[5] = {"conv1", "conv2", "fc1", "fc2", "fc3"};
    for (int l = 0; l < 5; l++) check_nm(g, h, layers[l], 2, 4, 1);
    CHECK(masks_consistent(g));
    /* conv1: 25 per filter = 6 groups of 4 (keep 2) + 1 (keep 1) -> 13 kept */
    int64_t n, z = weight_zeros(g, "conv1", &n);
    CHECK(z == 6 * 12);
    nns_graph_free(g);
    nns_graph_free(h);
    /* Gemm with transB = 0: groups run down the columns of W [K, N] */
    g = gemm_graph(12, 5, 0, 0, 1.0f, 1.0f, 1, 9);
    CHECK_OK(nns_graph_clone(g, &h));
    CHECK_OK(nns_prune_nm(g, 1, 3, NULL));
    check_nm(g, h, "fc", 1, 3, 1);
    /* 1:2 on top keeps the 1:3 zeros (masks only grow) */
    nns_graph_free(h);
    CHECK_OK(nns_graph_clone(g, &h));
    CHECK_OK(nns_prune_nm(g, 1, 2, NULL));
    check_nm(g, h, "fc", 1, 2, 0);
    check_nm(g, h, "fc", 1, 3, 0);
    int same = 1;
    for (int64_t i = 0; i < g->n_params; i++) same &= !(h->masks[i] == 0.0f && g->masks[i] != 0.0f);
    CHECK(same);
    nns_graph_free(g);
    nns_graph_free(h);
}

/* ---- training keeps the masks --------------------------------------------- */

static void test_train_keeps_masks(void) {
    nns_dataset tr;
    make_data(&tr, 192, 21);
    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = 1;
    c.batch_size = 64;
    c.threads = 2;
    nns_train_result r;
    nns_graph *g, *h;
    CHECK_OK(nns_arch_build("lenet300", 8, &g));
    CHECK_OK(nns_prune_magnitude(g, 0.8f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    CHECK_OK(nns_graph_clone(g, &h));
    CHECK_OK(nns_train(g, &tr, NULL, &c, &r));
    int same_zeros = 1, moved = 0;
    for (int64_t i = 0; i < g->n_params; i++) {
        if (h->masks[i] == 0.0f) same_zeros &= g->params[i] == 0.0f && g->masks[i] == 0.0f;
        else moved |= g->params[i] != h->params[i];
    }
    CHECK(same_zeros);
    CHECK(moved);
    CHECK_NEAR(nns_prune_sparsity(g), 0.8, 1e-6);
    nns_graph_free(g);
    nns_graph_free(h);
    /* N:M on lenet5 survives too */
    CHECK_OK(nns_arch_build("lenet5", 8, &g));
    CHECK_OK(nns_prune_nm(g, 2, 4, NULL));
    CHECK_OK(nns_graph_clone(g, &h));
    CHECK_OK(nns_train(g, &tr, NULL, &c, &r));
    int ok = 1;
    for (int64_t i = 0; i < g->n_params; i++)
        if (h->masks[i] == 0.0f) ok &= g->params[i] == 0.0f;
    CHECK(ok);
    nns_graph_free(g);
    nns_graph_free(h);
    nns_dataset_free(&tr);
}

/* ---- gradual ------------------------------------------------------------- */

static void test_gradual(void) {
    CHECK_NEAR(nns_prune_gradual_sparsity(0.0f, 0.9f, 100, 200, 50), 0.0, 1e-7);
    CHECK_NEAR(nns_prune_gradual_sparsity(0.0f, 0.9f, 100, 200, 100), 0.0, 1e-7);
    CHECK_NEAR(nns_prune_gradual_sparsity(0.0f, 0.9f, 100, 200, 150), 0.9 - 0.9 * 0.125, 1e-6);
    CHECK_NEAR(nns_prune_gradual_sparsity(0.1f, 0.9f, 100, 200, 125), 0.9 - 0.8 * 0.421875, 1e-6);
    CHECK_NEAR(nns_prune_gradual_sparsity(0.0f, 0.9f, 100, 200, 200), 0.9, 1e-7);
    CHECK_NEAR(nns_prune_gradual_sparsity(0.0f, 0.9f, 100, 200, 1000), 0.9, 1e-7);
    CHECK_NEAR(nns_prune_gradual_sparsity(0.0f, 0.9f, 100, 100, 100), 0.9, 1e-7);
    /* monotone */
    int mono = 1;
    for (int t = 0; t < 300; t++)
        mono &= nns_prune_gradual_sparsity(0.0f, 0.9f, 100, 200, t + 1) >= nns_prune_gradual_sparsity(0.0f, 0.9f, 100, 200, t);
    CHECK(mono);

    /* the hook alone: T = 100, t0 = 10, t1 = 70, every 20 steps -> 10, 30, 50, 70 */
    nns_graph *g;
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    nns_prune_gradual gp;
    memset(&gp, 0, sizeof gp);
    gp.final_sparsity = 0.9f;
    gp.start_step = 10;
    gp.end_step = 70;
    gp.frequency = 20;
    gp.scope = NNS_PRUNE_SCOPE_GLOBAL;
    float prev = 0;
    int mono2 = 1;
    for (int64_t t = 0; t < 100; t++) {
        CHECK_OK(nns_prune_gradual_hook(&gp, g, t, 100, 10));
        float s = nns_prune_sparsity(g);
        mono2 &= s >= prev;
        prev = s;
        if (t == 50) CHECK_NEAR(s, nns_prune_gradual_sparsity(0, 0.9f, 10, 70, 50), 1e-5);
    }
    CHECK(mono2);
    CHECK(gp.n_updates == 4);
    CHECK_NEAR(gp.current_sparsity, 0.9, 1e-7);
    CHECK_NEAR(nns_prune_sparsity(g), 0.9, 1e-6);
    /* a bad final sparsity is reported when the schedule reaches it (t1) */
    nns_prune_gradual bad = gp;
    bad.final_sparsity = 1.0f;
    bad.start_step = 0;
    bad.end_step = 0; /* default: 3/4 of T = 75, every 7 steps */
    bad.frequency = 0;
    CHECK_OK(nns_prune_gradual_hook(&bad, g, 66, 100, 10));
    CHECK_OK(nns_prune_gradual_hook(&bad, g, 70, 100, 10)); /* s(70) = 0.9997 */
    CHECK(nns_prune_gradual_hook(&bad, g, 75, 100, 10) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "sparsity 1 ") != NULL);
    bad.initial_sparsity = -0.5f;
    CHECK(nns_prune_gradual_hook(&bad, g, 0, 100, 10) == NNS_STATUS_INVALID_ARG);
    nns_graph_free(g);

    /* through nns_train: 3 steps per epoch x 2 epochs, defaults (t1 = 6*3/4 = 4) */
    nns_dataset tr;
    make_data(&tr, 150, 5);
    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = 2;
    c.batch_size = 50;
    c.threads = 2;
    memset(&gp, 0, sizeof gp);
    gp.final_sparsity = 0.75f;
    gp.scope = NNS_PRUNE_SCOPE_LAYER;
    const char *ex_names[1] = {"fc3"};
    nns_prune_exclude ex = {ex_names, 1};
    gp.exclude = &ex;
    c.step_hook = nns_prune_gradual_hook;
    c.step_hook_user = &gp;
    nns_train_result r;
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    CHECK_OK(nns_train(g, &tr, NULL, &c, &r));
    CHECK(gp.n_updates == 5); /* t = 0 .. 4 (frequency 1 for so short a run) */
    int64_t n, z = weight_zeros(g, "fc1", &n);
    CHECK(z == llround(0.75 * n));
    CHECK(weight_zeros(g, "fc3", &n) == 0);
    nns_graph_free(g);
    nns_dataset_free(&tr);
}

/* ---- ONNX storage --------------------------------------------------------- */

static void tmp_path(char *buf, size_t n, const char *name) {
    const char *d = getenv("TMPDIR");
    snprintf(buf, n, "%s/nns_prune_%ld_%s", d && *d ? d : "/tmp", (long)getpid(), name);
}

/* Load a file's bytes. */
static unsigned char *slurp(const char *p, size_t *len) {
    *len = 0;
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void test_onnx_roundtrip(void) {
    char pd[256], ps[256], pn[256];
    tmp_path(pd, sizeof pd, "dense.onnx");
    tmp_path(ps, sizeof ps, "sparse.onnx");
    tmp_path(pn, sizeof pn, "never.onnx");
    const char *archs[2] = {"lenet300", "lenet5"};
    const float sps[2] = {0.95f, 0.9f};
    for (int a = 0; a < 2; a++) {
        nns_graph *g, *h = NULL;
        CHECK_OK(nns_arch_build(archs[a], 17, &g));
        CHECK_OK(nns_graph_save_onnx(g, pd));
        CHECK_OK(nns_prune_magnitude(g, sps[a], NNS_PRUNE_SCOPE_GLOBAL, NULL));
        CHECK_OK(nns_graph_save_onnx(g, ps));
        nns_onnx_save_options o = {NNS_ONNX_SPARSE_NEVER};
        CHECK_OK(nns_graph_save_onnx_opts(g, pn, &o));
        long sd = file_size(pd), ss = file_size(ps), sn = file_size(pn);
        CHECK_MSG(ss > 0 && sd >= 5 * ss, "%s at %.2f: dense %ld bytes, sparse %ld", archs[a], sps[a], sd, ss);
        CHECK(sn >= sd - 64 && sn <= sd + 64);
        CHECK_OK(nns_graph_load_onnx(ps, &h));
        if (!h) continue;
        CHECK_OK(nns_graph_pack_params(h));
        CHECK(h->n_params == g->n_params);
        CHECK(memcmp(h->params, g->params, (size_t)g->n_params * sizeof(float)) == 0);
        CHECK(h->masks != NULL);
        if (h->masks) CHECK(memcmp(h->masks, g->masks, (size_t)g->n_params * sizeof(float)) == 0);
        CHECK(masks_consistent(h));
        /* exporting the loaded model again gives the same bytes */
        CHECK_OK(nns_graph_save_onnx(h, pn));
        size_t l1 = 0, l2 = 0;
        unsigned char *b1 = slurp(ps, &l1), *b2 = slurp(pn, &l2);
        CHECK(b1 && b2 && l1 == l2 && memcmp(b1, b2, l1) == 0);
        free(b1);
        free(b2);
        CHECK_OK(nns_graph_save_onnx_opts(g, pn, &o));
        /* same outputs */
        nns_session *s1, *s2;
        CHECK_OK(nns_session_create(g, 3, &s1));
        CHECK_OK(nns_session_create(h, 3, &s2));
        float x[3 * 784], y1[30], y2[30];
        uint64_t r = 4;
        for (int i = 0; i < 3 * 784; i++) x[i] = nns_rng_uniform(&r) - 0.5f;
        CHECK_OK(nns_session_run(s1, x, 3, y1));
        CHECK_OK(nns_session_run(s2, x, 3, y2));
        CHECK(memcmp(y1, y2, sizeof y1) == 0);
        nns_session_free(s1);
        nns_session_free(s2);
        nns_graph_free(h);
        /* the dense-stored file holds the same zeros and masks */
        CHECK_OK(nns_graph_load_onnx(pn, &h));
        CHECK_OK(nns_graph_pack_params(h));
        CHECK(h->masks && memcmp(h->masks, g->masks, (size_t)g->n_params * sizeof(float)) == 0);
        nns_graph_free(h);
        nns_graph_free(g);
    }
    /* a model with zeros but no "nnslim.pruned" gets no masks when stored
     * dense, and masks for its zeros when stored sparse (as another tool's
     * pruned model would be) */
    nns_graph *g;
    CHECK_OK(nns_arch_build("lenet300", 3, &g));
    float *w = g->values[nns_graph_find_value(g, "fc2.weight")].data;
    for (int i = 0; i < 25000; i++) w[i] = 0.0f;
    const nns_onnx_save_options dense = {NNS_ONNX_SPARSE_NEVER};
    CHECK_OK(nns_graph_save_onnx_opts(g, ps, &dense));
    nns_graph *h;
    CHECK_OK(nns_graph_load_onnx(ps, &h));
    CHECK(h->masks == NULL);
    CHECK(memcmp(h->values[nns_graph_find_value(h, "fc2.weight")].data, w, 30000 * sizeof(float)) == 0);
    nns_graph_free(h);
    CHECK_OK(nns_graph_save_onnx(g, ps));
    CHECK_OK(nns_graph_load_onnx(ps, &h));
    int64_t masked = 0;
    for (int64_t i = 0; h->masks && i < h->n_params; i++) masked += h->masks[i] == 0.0f;
    CHECK_MSG(masked >= 25000, "stored sparse: %lld weights masked", (long long)masked);
    nns_graph_free(h);
    nns_graph_free(g);
    remove(pd);
    remove(ps);
    remove(pn);
}

/* Sparse initializers as other tools write them: [NNZ, rank] indices, INT32
 * indices, and malformed ones. */
static void test_onnx_crafted(void) {
    char p[256];
    tmp_path(p, sizeof p, "craft.onnx");
    nns_graph *g = gemm_graph(6, 4, 0, 1, 1.0f, 1.0f, 1, 2);
    CHECK_OK(nns_prune_magnitude(g, 0.75f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    CHECK_OK(nns_graph_save_onnx(g, p));
    size_t len = 0;
    unsigned char *buf = slurp(p, &len);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    CHECK(m && m->graph->n_sparse_initializer == 1);
    if (!m || m->graph->n_sparse_initializer != 1) {
        free(buf);
        nns_graph_free(g);
        return;
    }
    Onnx__SparseTensorProto *sp = m->graph->sparse_initializer[0];
    Onnx__TensorProto *ix = sp->indices;
    size_t nnz = ix->n_int64_data;
    CHECK(nnz == 6);
    int64_t lin[6], two[12], dims2[2] = {(int64_t)nnz, 2}, *old_dims = ix->dims;
    int64_t *old_data = ix->int64_data;
    size_t old_ndims = ix->n_dims;
    for (size_t j = 0; j < nnz; j++) {
        lin[j] = old_data[j];
        two[2 * j] = lin[j] / 6;
        two[2 * j + 1] = lin[j] % 6;
    }
    const float *w = g->values[nns_graph_find_value(g, "w")].data;
    /* (1) [NNZ, 2] indices */
    ix->dims = dims2;
    ix->n_dims = 2;
    ix->int64_data = two;
    ix->n_int64_data = 2 * nnz;
    size_t l2 = onnx__model_proto__get_packed_size(m);
    unsigned char *b2 = malloc(l2);
    onnx__model_proto__pack(m, b2);
    nns_graph *h = NULL;
    CHECK_OK(nns_graph_load_onnx_mem(b2, l2, "rank2", &h));
    if (h) CHECK(memcmp(h->values[nns_graph_find_value(h, "w")].data, w, 24 * sizeof(float)) == 0);
    nns_graph_free(h);
    /* (2) an index out of range */
    two[1] = 6;
    onnx__model_proto__pack(m, b2);
    h = NULL;
    CHECK(nns_graph_load_onnx_mem(b2, l2, "bad", &h) == NNS_STATUS_FORMAT);
    CHECK_MSG(strstr(nns_last_error(), "'w'") && strstr(nns_last_error(), "out of range"), "%s", nns_last_error());
    CHECK(h == NULL);
    free(b2);
    /* (3) INT32 linear indices */
    int32_t i32[6];
    for (size_t j = 0; j < nnz; j++) i32[j] = (int32_t)lin[j];
    ix->dims = old_dims;
    ix->n_dims = old_ndims;
    ix->int64_data = NULL;
    ix->n_int64_data = 0;
    ix->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    ix->int32_data = i32;
    ix->n_int32_data = nnz;
    l2 = onnx__model_proto__get_packed_size(m);
    b2 = malloc(l2);
    onnx__model_proto__pack(m, b2);
    CHECK_OK(nns_graph_load_onnx_mem(b2, l2, "int32", &h));
    if (h) CHECK(memcmp(h->values[nns_graph_find_value(h, "w")].data, w, 24 * sizeof(float)) == 0);
    nns_graph_free(h);
    /* (4) values/indices count mismatch */
    ix->n_int32_data = nnz - 1;
    ix->dims[0] = (int64_t)nnz - 1;
    l2 = onnx__model_proto__get_packed_size(m);
    free(b2);
    b2 = malloc(l2);
    onnx__model_proto__pack(m, b2);
    h = NULL;
    CHECK(nns_graph_load_onnx_mem(b2, l2, "count", &h) == NNS_STATUS_FORMAT);
    CHECK(strstr(nns_last_error(), "sparse initializer 'w'") != NULL);
    ix->dims[0] = (int64_t)nnz;
    ix->int32_data = NULL;
    ix->n_int32_data = 0;
    ix->int64_data = old_data;
    ix->n_int64_data = nnz;
    free(b2);
    onnx__model_proto__free_unpacked(m, NULL);
    free(buf);
    nns_graph_free(g);
    remove(p);
}

/* ---- sparse kernel and Gemm's sparse path --------------------------------- */

static void test_spmm_kernel(void) {
    uint64_t r = 77;
    const int N = 37, K = 53;
    int32_t rp[38], col[37 * 53];
    float val[37 * 53];
    int nnz = 0;
    rp[0] = 0;
    for (int n = 0; n < N; n++) {
        for (int k = 0; k < K; k++)
            if (nns_rng_uniform(&r) < (n % 5 == 0 ? 0.0f : 0.3f)) { /* some empty rows */
                col[nnz] = k;
                val[nnz++] = nns_rng_uniform(&r) - 0.5f;
            }
        rp[n + 1] = nnz;
    }
    const int mbs[9] = {1, 2, 3, 7, 8, 15, 16, 33, 70};
    for (int isa = 0; isa < NNS_ISA_COUNT; isa++) {
        const nns_kernels *kt = nns_kernels_for_isa((nns_isa)isa);
        if ((int)kt->isa != isa) continue;
        for (int t = 0; t < 9; t++) {
            int mb = mbs[t];
            ptrdiff_t ldx = mb + 3;
            float *x = malloc((size_t)K * ldx * sizeof(float));
            float *y0 = malloc((size_t)N * mb * sizeof(float)), *y1 = malloc((size_t)N * mb * sizeof(float));
            for (int i = 0; i < K * ldx; i++) x[i] = nns_rng_uniform(&r) - 0.5f;
            for (int acc = 0; acc < 2; acc++) {
                for (int i = 0; i < N * mb; i++) y0[i] = y1[i] = acc ? (float)i * 0.01f : 123.0f;
                /* y as [mb][N] (ys_n = 1, ys_m = N), rows 3 .. N-1 */
                kt->f32_spmm_csr(3, N, mb, rp, col, val, x, ldx, 0.5f, y1, 1, N, acc);
                double md = 0;
                for (int i = 0; i < mb; i++)
                    for (int n = 0; n < N; n++) {
                        double s = 0;
                        for (int j = rp[n]; j < rp[n + 1]; j++) s += (double)val[j] * x[col[j] * ldx + i];
                        double want = n < 3 ? y0[i * N + n] : (acc ? y0[i * N + n] : 0) + 0.5 * s;
                        md = fmax(md, fabs(want - y1[i * N + n]));
                    }
                CHECK_MSG(md < 1e-5, "%s mb %d acc %d: max diff %g", nns_isa_name((nns_isa)isa), mb, acc, md);
            }
            free(x);
            free(y0);
            free(y1);
        }
    }
}

/* Gemm through inference plans, sparse path forced on vs off. */
static void compare_gemm(nns_graph *g, int K, int trans_a, int m) {
    nns_plan *p0, *p1;
    nns_sparse_gemm_force(0);
    CHECK_OK(nns_plan_create(g, m, 0, NULL, &p0));
    nns_sparse_gemm_force(1);
    CHECK_OK(nns_plan_create(g, m, 0, NULL, &p1));
    nns_sparse_gemm_force(-1);
    uint64_t r = (uint64_t)m * 31 + (uint64_t)trans_a;
    float *x0 = nns_tv_f32(nns_plan_input(p0, 0)), *x1 = nns_tv_f32(nns_plan_input(p1, 0));
    for (int i = 0; i < m * K; i++) x0[i] = x1[i] = nns_rng_uniform(&r) - 0.5f;
    nns_sparse_gemm_force(0);
    nns_plan_forward(p0, 0);
    nns_sparse_gemm_force(1);
    nns_plan_forward(p1, 0);
    nns_plan_forward(p1, 0); /* the CSR is built once; the second run reuses it */
    nns_sparse_gemm_force(-1);
    nns_tv *y0 = nns_plan_output(p0, 0), *y1 = nns_plan_output(p1, 0);
    int64_t n = nns_shape_numel(&y0->shape);
    double md = 0;
    for (int64_t i = 0; i < n; i++) md = fmax(md, fabs((double)nns_tv_f32(y0)[i] - nns_tv_f32(y1)[i]));
    CHECK_MSG(md < 1e-5, "gemm transA %d m %d: max diff %g", trans_a, m, md);
    nns_plan_free(p0);
    nns_plan_free(p1);
}

/* Weights changed after an inference plan packed its CSR: once the graph
 * says so (nns_graph_params_changed) the plan repacks, and its outputs are
 * a fresh dense plan's. grow: one zero becomes nonzero (more nonzeros than
 * the plan reserved: the dense path runs); else every weight is scaled. */
static void check_gemm_repack(nns_graph *g, int K, int m, int grow) {
    nns_plan *p1 = NULL, *p0 = NULL;
    nns_sparse_gemm_force(1);
    CHECK_OK(nns_plan_create(g, m, 0, NULL, &p1));
    nns_sparse_gemm_force(-1);
    if (!p1) return;
    uint64_t r = 5;
    float *x1 = nns_tv_f32(nns_plan_input(p1, 0));
    for (int i = 0; i < m * K; i++) x1[i] = nns_rng_uniform(&r) - 0.5f;
    nns_plan_forward(p1, 0);
    nns_value *w = &g->values[nns_graph_find_value(g, "w")];
    float *wd = w->data;
    const int64_t nw = nns_shape_numel(&w->shape);
    for (int64_t i = 0, done = 0; i < nw; i++) {
        if (grow && !done && wd[i] == 0.0f) wd[i] = 0.25f, done = 1;
        if (!grow) wd[i] *= -1.5f;
    }
    nns_graph_params_changed(g);
    nns_sparse_gemm_force(0);
    CHECK_OK(nns_plan_create(g, m, 0, NULL, &p0));
    nns_sparse_gemm_force(1);
    if (p0) {
        memcpy(nns_tv_f32(nns_plan_input(p0, 0)), x1, (size_t)m * K * sizeof(float));
        nns_plan_forward(p0, 0);
        nns_plan_forward(p1, 0);
        nns_tv *y0 = nns_plan_output(p0, 0), *y1 = nns_plan_output(p1, 0);
        double md = 0;
        for (int64_t i = 0; i < nns_shape_numel(&y0->shape); i++)
            md = fmax(md, fabs((double)nns_tv_f32(y0)[i] - nns_tv_f32(y1)[i]));
        CHECK_MSG(md < 1e-5, "gemm m %d, weights %s after packing: max diff %g", m, grow ? "grown" : "scaled", md);
    }
    nns_sparse_gemm_force(-1);
    nns_plan_free(p0);
    nns_plan_free(p1);
}

static void test_sparse_gemm(void) {
    const int ms[6] = {1, 2, 5, 33, 64, 70};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            nns_graph *g = gemm_graph(70, 45, ta, tb, 0.75f, ta ? 0.5f : 1.0f, tb, 13);
            CHECK_OK(nns_prune_magnitude(g, 0.8f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
            for (int i = 0; i < 6; i++) compare_gemm(g, 70, ta, ms[i]);
            check_gemm_repack(g, 70, 1 + 4 * ta, 0);
            check_gemm_repack(g, 70, 1 + 4 * tb, 1);
            nns_graph_free(g);
        }
    /* big enough to run in parallel: with 2 threads and one panel the
     * output neurons are split between threads */
    for (int ta = 0; ta < 2; ta++) {
        nns_graph *g = gemm_graph(400, 300, ta, 1, 1.0f, 1.0f, 1, 14);
        CHECK_OK(nns_prune_magnitude(g, 0.8f, NNS_PRUNE_SCOPE_LAYER, NULL));
        compare_gemm(g, 400, ta, 1);
        compare_gemm(g, 400, ta, 5);
        compare_gemm(g, 400, ta, 40);
        nns_graph_free(g);
    }
    for (int l = 0; l < NNS_ISA_COUNT; l++) {
        const nns_kernels *kt = nns_kernels_for_isa((nns_isa)l);
        CHECK(nns_sparse_gemm_threshold(kt, 1) <= nns_sparse_gemm_threshold(kt, 64));
    }
    /* a whole pruned model: a session (thresholds) against dense plans */
    nns_graph *g;
    CHECK_OK(nns_arch_build("lenet300", 6, &g));
    CHECK_OK(nns_prune_magnitude(g, 0.95f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    int bs[3] = {1, 3, 64};
    for (int b = 0; b < 3; b++) {
        int n = bs[b];
        float *x = malloc((size_t)n * 784 * sizeof(float)), *y0 = malloc((size_t)n * 10 * sizeof(float)),
              *y1 = malloc((size_t)n * 10 * sizeof(float));
        uint64_t r = 99;
        for (int i = 0; i < n * 784; i++) x[i] = nns_rng_uniform(&r) - 0.5f;
        nns_session *s;
        nns_sparse_gemm_force(0);
        CHECK_OK(nns_session_create(g, n, &s));
        CHECK_OK(nns_session_run(s, x, n, y0));
        nns_session_free(s);
        nns_sparse_gemm_force(-1);
        CHECK_OK(nns_session_create(g, n, &s));
        CHECK_OK(nns_session_run(s, x, n, y1));
        nns_session_free(s);
        double md = 0;
        for (int i = 0; i < n * 10; i++) md = fmax(md, fabs((double)y0[i] - y1[i]));
        CHECK_MSG(md < 1e-5, "lenet300 batch %d: %g", n, md);
        free(x);
        free(y0);
        free(y1);
    }
    /* a training plan never packs the CSR */
    float *grads = calloc((size_t)g->n_params, sizeof(float));
    nns_plan *pt, *pi;
    CHECK_OK(nns_plan_create(g, 8, 1, grads, &pt));
    CHECK_OK(nns_plan_create(g, 8, 0, NULL, &pi));
    nns_graph *dense;
    CHECK_OK(nns_arch_build("lenet300", 6, &dense));
    nns_plan *pd;
    /* at the scalar level a dense Gemm packs nothing (AVX-512 packs B for f32_gemm) */
    CHECK_OK(nns_plan_create_with_kernels(dense, 8, 0, NULL, nns_kernels_for_isa(NNS_ISA_SCALAR), &pd));
    CHECK(nns_plan_bytes(pi) > nns_plan_bytes(pd)); /* CSR + panel room */
    nns_plan_free(pt);
    nns_plan_free(pi);
    nns_plan_free(pd);
    nns_graph_free(dense);
    free(grads);
    nns_graph_free(g);
}

int main(void) {
    test_global_layer();
    test_ties();
    test_exclusions();
    test_bad_inputs();
    test_nm();
    test_train_keeps_masks();
    test_gradual();
    test_onnx_roundtrip();
    test_onnx_crafted();
    test_spmm_kernel();
    test_sparse_gemm();
    TEST_MAIN_END();
}
