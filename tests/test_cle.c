/* test_cle.c — the options of post-training quantization:
 *   - cross-layer equalization (nns_quant_cle) leaves the function of the
 *     built-in architectures (random BatchNormalization, folded) and of a
 *     crafted Conv -> ReLU -> depthwise Conv -> ReLU -> Conv chain unchanged
 *     (1e-4 relative), equalizes the pairs it should (lenet5: Conv -> pool
 *     -> Conv and Gemm -> Gemm; mobilenet: none, each pair has a ReLU6
 *     between) and evens out the per-channel ranges of a crafted pair;
 *   - bias correction reduces the mean output error per channel of a layer
 *     quantized per tensor on held-out images, and adds a bias where the
 *     layer has none;
 *   - quantization-aware training refuses bias correction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/op_id.h"
#include "core/rng.h"
#include "nnslim/nnslim.h"
#include "quant/cle.h"
#include "testutil.h"

static uint64_t rng = 7;
static float uni(float lo, float hi) { return lo + (hi - lo) * nns_rng_uniform(&rng); }

/* Outputs of g (k per image) for n images x into y. */
static void run(nns_graph *g, const float *x, int n, float *y) {
    nns_session *s = NULL;
    CHECK_OK(nns_session_create(g, 16, &s));
    if (s) CHECK_OK(nns_session_run(s, x, n, y));
    nns_session_free(s);
}

static double rel_diff(const float *a, const float *b, int64_t n) {
    double d = 0, m = 1e-12;
    for (int64_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)a[i]));
    }
    return d / m;
}

/* BatchNormalization statistics that make the folded channels' ranges
 * differ by up to 30x. */
static void randomize_bn(nns_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op != NNS_OP_BATCHNORM) continue;
        const float lo[4] = {0.1f, -0.5f, -0.5f, 0.3f}, hi[4] = {3.0f, 0.5f, 0.5f, 2.0f};
        for (int k = 1; k < 5; k++) {
            nns_value *v = &g->values[n->in[k]];
            float *d = v->data;
            for (int64_t j = 0; j < nns_shape_numel(&v->shape); j++) d[j] = uni(lo[k - 1], hi[k - 1]);
        }
    }
    nns_graph_params_changed(g);
}

static void architectures(void) {
    const char *names[] = {"lenet5", "vggsmall", "resnet8", "mobilenet"};
    const int pairs[] = {3, 4, 3, 0}, clips[] = {0, 0, 0, 11};
    enum { N = 3 };
    float *x = malloc(N * 784 * sizeof *x), y0[N * 10], y1[N * 10];
    for (int i = 0; i < N * 784; i++) x[i] = uni(-1, 1);
    for (int a = 0; a < 4; a++) {
        nns_graph *g = NULL;
        CHECK_OK(nns_arch_build(names[a], 5, &g));
        if (!g) continue;
        randomize_bn(g);
        CHECK_OK(nns_graph_fold_batchnorm(g, NULL));
        CHECK_OK(nns_graph_finalize(g));
        run(g, x, N, y0);
        nns_cle_stats cs;
        CHECK_OK(nns_quant_cle(g, &cs));
        run(g, x, N, y1);
        CHECK_MSG(rel_diff(y0, y1, N * 10) < 1e-4, "%s: outputs moved by %g", names[a], rel_diff(y0, y1, N * 10));
        CHECK_MSG(cs.pairs == pairs[a] && cs.clip_refused == clips[a], "%s: %d pairs (%d expected), %d left for a Clip",
                  names[a], cs.pairs, pairs[a], cs.clip_refused);
        CHECK_MSG(!cs.pairs || (cs.sweeps >= 1 && cs.sweeps < NNS_CLE_MAX_SWEEPS), "%s: %d sweeps", names[a], cs.sweeps);
        nns_graph_free(g);
    }
    free(x);
}

/* A Conv initializer [o, c, k, k] of uniform values, output channel j
 * times scale[j] (NULL: 1). */
static void add_weight(nns_graph *g, const char *name, int o, int c, int k, const float *scale) {
    const int64_t d[4] = {o, c, k, k};
    const nns_shape s = nns_shape_make(4, d);
    float *w = malloc((size_t)(o * c * k * k) * sizeof *w);
    for (int i = 0; i < o * c * k * k; i++) w[i] = uni(-1, 1) * (scale ? scale[i / (c * k * k)] : 1.0f);
    CHECK_OK(nns_graph_add_param(g, name, NNS_DTYPE_F32, &s, w, 1, NULL));
    free(w);
}

static void add_conv(nns_graph *g, const char *name, const char *x, const char *w, const char *b, int pad, int group,
                     const char *y) {
    const char *in[3] = {x, w, b};
    int node;
    CHECK_OK(nns_graph_add_node(g, "Conv", name, b ? 3 : 2, in, 1, &y, &node));
    const int64_t pads[4] = {pad, pad, pad, pad};
    CHECK_OK(nns_graph_set_attr_ints(g, node, "pads", 4, pads));
    if (group > 1) CHECK_OK(nns_graph_set_attr_int(g, node, "group", group));
}

/* x [N, 1, 8, 8] -> Conv a (4 channels, 3x3, bias; output channel j
 * times scale[j]) -> Relu -> [depthwise Conv 3x3 -> Relu ->] Conv b
 * (3 channels, 1x1, no bias) -> Flatten -> y [N, 192]. */
static nns_graph *crafted(const float *scale, int dw) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    const int64_t xd[4] = {-1, 1, 8, 8}, four = 4;
    const nns_shape xs = nns_shape_make(4, xd), bs = nns_shape_make(1, &four);
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    add_weight(g, "a.w", 4, 1, 3, scale);
    float bias[4];
    for (int j = 0; j < 4; j++) bias[j] = uni(-0.1f, 0.1f) * scale[j];
    CHECK_OK(nns_graph_add_param(g, "a.b", NNS_DTYPE_F32, &bs, bias, 1, NULL));
    add_weight(g, "dw.w", 4, 1, 3, NULL);
    add_weight(g, "b.w", 3, 4, 1, NULL);
    add_conv(g, "a", "x", "a.w", "a.b", 1, 1, "h");
    const char *r = "r", *r2 = "r2", *y = "y", *fl = "f";
    CHECK_OK(nns_graph_add_node(g, "Relu", "relu", 1, (const char *[]){"h"}, 1, &r, NULL));
    if (dw) {
        add_conv(g, "dw", "r", "dw.w", NULL, 1, 4, "h2");
        CHECK_OK(nns_graph_add_node(g, "Relu", "relu2", 1, (const char *[]){"h2"}, 1, &r2, NULL));
    }
    add_conv(g, "b", dw ? "r2" : "r", "b.w", NULL, 0, 1, "f");
    CHECK_OK(nns_graph_add_node(g, "Flatten", "flatten", 1, &fl, 1, &y, NULL));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    return g;
}

/* max_c r_c / min_c r_c of the ranges of weight w's output channels. */
static double spread(const nns_graph *g, const char *w) {
    const nns_value *v = &g->values[nns_graph_find_value(g, w)];
    const int64_t o = v->shape.dims[0], per = nns_shape_numel(&v->shape) / o;
    double lo = INFINITY, hi = 0;
    for (int64_t c = 0; c < o; c++) {
        double r = 0;
        for (int64_t i = 0; i < per; i++) r = fmax(r, fabs(((const float *)v->data)[c * per + i]));
        lo = fmin(lo, r);
        hi = fmax(hi, r);
    }
    return hi / lo;
}

static void crafted_pairs(void) {
    const float scale[4] = {0.01f, 0.1f, 1.0f, 10.0f};
    enum { N = 8 };
    float x[N * 64], y0[N * 192], y1[N * 192];
    for (int i = 0; i < N * 64; i++) x[i] = uni(-1, 1);
    for (int dw = 0; dw < 2; dw++) {
        nns_graph *g = crafted(scale, dw);
        run(g, x, N, y0);
        const double before = spread(g, "a.w");
        nns_cle_stats cs;
        CHECK_OK(nns_quant_cle(g, &cs));
        run(g, x, N, y1);
        const double after = spread(g, "a.w");
        CHECK_MSG(cs.pairs == 1 + dw, "dw %d: %d pairs", dw, cs.pairs);
        CHECK_MSG(rel_diff(y0, y1, N * 192) < 1e-4, "dw %d: outputs moved by %g", dw, rel_diff(y0, y1, N * 192));
        /* 1000x apart before; sqrt of that (times B's own spread) after */
        CHECK_MSG(before > 300 && after < before / 10, "dw %d: channel range spread %g -> %g", dw, before, after);
        nns_graph_free(g);
    }
}

/* Mean over channels of |mean over images and positions of (q - f)| for
 * outputs [n, 3 channels * 64 positions]. */
static double mean_error(const float *q, const float *f, int n) {
    double e = 0;
    for (int c = 0; c < 3; c++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < 64; p++) s += (double)q[i * 192 + c * 64 + p] - f[i * 192 + c * 64 + p];
        e += fabs(s / (n * 64.0));
    }
    return e / 3;
}

static void bias_correction(void) {
    enum { N = 256 };
    const float scale[4] = {0.02f, 0.05f, 1.0f, 3.0f};
    nns_dataset calib = {N, 1, 8, 8, malloc(N * 64 * sizeof(float)), calloc(N, sizeof(int32_t)), 1};
    float *x = malloc(N * 64 * sizeof *x), *yf = malloc(N * 192 * sizeof *yf), *yq = malloc(N * 192 * sizeof *yq);
    for (int i = 0; i < N * 64; i++) calib.x[i] = uni(0, 1), x[i] = uni(0, 1);
    nns_graph *g = crafted(scale, 0);
    run(g, x, N, yf);
    double err[2] = {0, 0};
    for (int bc = 0; bc < 2; bc++) {
        nns_graph *q = NULL;
        CHECK_OK(nns_graph_clone(g, &q));
        nns_ptq_config cfg;
        nns_ptq_config_init(&cfg);
        cfg.per_channel = 0;
        cfg.bias_correction = bc;
        nns_ptq_result res;
        CHECK_OK(nns_quantize_ptq(q, &calib, &cfg, &res));
        CHECK_MSG(res.bias_corrected == (bc ? 2 : 0), "bias correction %d: %d layers corrected", bc, res.bias_corrected);
        /* layer b had no bias: correction gave it one */
        const int b = nns_graph_find_node(q, "b");
        CHECK(b >= 0 && (q->nodes[b].n_in == 3) == bc);
        run(q, x, N, yq);
        err[bc] = mean_error(yq, yf, N);
        nns_graph_free(q);
    }
    CHECK_MSG(err[0] > 1e-3 && err[1] < err[0] / 4, "mean output error %g without, %g with bias correction", err[0],
              err[1]);
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.bias_correction = 1;
    nns_ptq_result res;
    CHECK(nns_quantize_qat(g, &calib, &cfg, 0, NULL, NULL, &res) == NNS_STATUS_INVALID_ARG);
    nns_graph_free(g);
    nns_dataset_free(&calib);
    free(x);
    free(yf);
    free(yq);
}

int main(void) {
    architectures();
    crafted_pairs();
    bias_correction();
    TEST_MAIN_END();
}
