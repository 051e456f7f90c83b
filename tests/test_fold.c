/* test_fold.c — nns_graph_fold_batchnorm: the built-in architectures with
 * random BatchNormalization statistics compute the same outputs after the
 * fold with no BatchNormalization left where a Conv feeds it; a Gemm with
 * alpha, beta, a bias and either weight layout; BatchNormalizations that
 * must stay (their input read twice, a shared weight). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/op_id.h"
#include "core/rng.h"
#include "nnslim/arch.h"
#include "nnslim/graph.h"
#include "nnslim/runtime.h"
#include "testutil.h"

static uint64_t rng = 99;
static float uni(float lo, float hi) { return lo + (hi - lo) * nns_rng_uniform(&rng); }

/* Random statistics and affine parameters for every BatchNormalization. */
static void randomize_bn(nns_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op != NNS_OP_BATCHNORM) continue;
        const float lo[4] = {0.5f, -0.5f, -0.5f, 0.3f}, hi[4] = {1.5f, 0.5f, 0.5f, 2.0f};
        for (int k = 1; k < 5; k++) {
            nns_value *v = &g->values[n->in[k]];
            float *d = v->data;
            for (int64_t j = 0; j < nns_shape_numel(&v->shape); j++) d[j] = uni(lo[k - 1], hi[k - 1]);
        }
    }
    nns_graph_params_changed(g);
}

static int count_op(const nns_graph *g, int op) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++) c += g->nodes[i].op == op;
    return c;
}

/* Outputs of g for n inputs x (per-sample size per) into y. */
static void run(nns_graph *g, const float *x, int n, float *y) {
    nns_session *s = NULL;
    CHECK_OK(nns_session_create(g, n, &s));
    if (s) CHECK_OK(nns_session_run(s, x, n, y));
    nns_session_free(s);
}

/* The largest |a - b| relative to the largest |a|. */
static double rel_diff(const float *a, const float *b, int64_t n) {
    double d = 0, m = 1e-12;
    for (int64_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)a[i]));
    }
    return d / m;
}

static void architectures(void) {
    const char *names[] = {"lenet5", "vggsmall", "resnet8", "mobilenet"};
    enum { N = 3 };
    float *x = malloc(N * 784 * sizeof *x);
    for (int i = 0; i < N * 784; i++) x[i] = uni(-1, 1);
    for (size_t a = 0; a < sizeof names / sizeof *names; a++) {
        nns_graph *g = NULL;
        CHECK_OK(nns_arch_build(names[a], 5, &g));
        if (!g) continue;
        randomize_bn(g);
        float y0[N * 10], y1[N * 10];
        run(g, x, N, y0);
        const int bn = count_op(g, NNS_OP_BATCHNORM), nodes = g->n_nodes;
        int folded = -1;
        CHECK_OK(nns_graph_fold_batchnorm(g, &folded));
        CHECK_MSG(folded == bn && count_op(g, NNS_OP_BATCHNORM) == 0 && g->n_nodes == nodes - bn,
                  "%s: %d BatchNormalizations, %d folded, %d left", names[a], bn, folded, count_op(g, NNS_OP_BATCHNORM));
        CHECK_OK(nns_graph_finalize(g));
        run(g, x, N, y1);
        CHECK_MSG(rel_diff(y0, y1, N * 10) < 1e-5, "%s: outputs moved by %g", names[a], rel_diff(y0, y1, N * 10));
        nns_graph_free(g);
    }
    free(x);
}

/* x [2, 6] -> Gemm (alpha 0.5, beta 2, C, transB as given) -> BN -> y, and,
 * when twice, the Gemm's output is a graph output too (no fold). */
static nns_graph *gemm_bn(int trans_b, int with_c, int twice) {
    nns_graph *g = NULL;
    nns_graph_create(&g);
    const int64_t xd[2] = {-1, 6}, bd[2] = {trans_b ? 4 : 6, trans_b ? 6 : 4}, cd[1] = {4};
    nns_shape xs = nns_shape_make(2, xd), bs = nns_shape_make(2, bd), cs = nns_shape_make(1, cd);
    nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    float w[24], c[4];
    for (int i = 0; i < 24; i++) w[i] = uni(-1, 1);
    for (int i = 0; i < 4; i++) c[i] = uni(-1, 1);
    nns_graph_add_param(g, "B", NNS_DTYPE_F32, &bs, w, 1, NULL);
    nns_graph_add_param(g, "C", NNS_DTYPE_F32, &cs, c, 1, NULL);
    const char *names[4] = {"s", "b", "m", "v"};
    for (int k = 0; k < 4; k++) nns_graph_add_param(g, names[k], NNS_DTYPE_F32, &cs, NULL, k < 2, NULL);
    const char *gin[3] = {"x", "B", "C"}, *bin[5] = {"h", "s", "b", "m", "v"}, *h = "h", *y = "y";
    int node;
    nns_graph_add_node(g, "Gemm", "fc", with_c ? 3 : 2, gin, 1, &h, &node);
    nns_graph_set_attr_int(g, node, "transB", trans_b);
    nns_graph_set_attr_float(g, node, "alpha", 0.5f);
    nns_graph_set_attr_float(g, node, "beta", 2.0f);
    nns_graph_add_node(g, "BatchNormalization", "bn", 5, bin, 1, &y, &node);
    nns_graph_add_output(g, "y");
    if (twice) nns_graph_add_output(g, "h");
    CHECK_OK(nns_graph_finalize(g));
    randomize_bn(g);
    return g;
}

static void gemm(void) {
    float x[12], y0[8], y1[8];
    for (int i = 0; i < 12; i++) x[i] = uni(-2, 2);
    for (int t = 0; t < 2; t++)
        for (int c = 0; c < 2; c++) {
            nns_graph *g = gemm_bn(t, c, 0);
            run(g, x, 2, y0);
            int folded = -1;
            CHECK_OK(nns_graph_fold_batchnorm(g, &folded));
            CHECK(folded == 1 && g->n_nodes == 1);
            CHECK_OK(nns_graph_finalize(g));
            run(g, x, 2, y1);
            CHECK_MSG(rel_diff(y0, y1, 8) < 1e-5, "transB %d, C %d: outputs moved by %g", t, c, rel_diff(y0, y1, 8));
            nns_graph_free(g);
        }
    nns_graph *g = gemm_bn(1, 1, 1); /* the Gemm's output is read twice */
    int folded = -1;
    CHECK_OK(nns_graph_fold_batchnorm(g, &folded));
    CHECK(folded == 0 && count_op(g, NNS_OP_BATCHNORM) == 1);
    nns_graph_free(g);
}

int main(void) {
    architectures();
    gemm();
    TEST_MAIN_END();
}
