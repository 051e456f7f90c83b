/* test_plan_kernels.c — the kernel table is pinned per plan: one process
 * builds plans of the same model at every ISA level this CPU has (all alive
 * at once; levels whose table is a lower level's are left out), runs them
 * interleaved, and compares each with the scalar plan
 * within a tolerance: inference (fused) on the built-in convolutional models,
 * a training step's parameter gradients (also of a chain of Gemms and a
 * grouped convolution), and a pruned MLP whose Gemms take
 * the sparse path (f32_spmm_csr, thresholds from the plan's table), and
 * models with bfloat16 weights and activations, whose layers take the bf16
 * GEMM where the table has a SIMD one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "kernels/kernels.h"
#include "nnslim/nnslim.h"
#include "nnslim/prune.h"
#include "ops/bf16_util.h"
#include "runtime/plan.h"
#include "synthdata.h"
#include "testutil.h"

static int same_table(const nns_kernels *a, const nns_kernels *b) {
    int same = 1;
#define NNS_KERNEL(family, type, ref) same &= a->family == b->family;
#include "kernels/kernel_list.h"
    return same;
}

/* The levels the CPU has, less those whose table is the one of a level
 * listed before (same kernels: the comparison would repeat itself). */
static int levels(nns_isa *out) {
    int n = 0;
    for (int l = 0; l < NNS_ISA_COUNT; l++) {
        if (!nns_isa_supported((nns_isa)l)) continue;
        int dup = 0;
        for (int i = 0; i < n; i++) dup |= same_table(nns_kernels_for_isa(out[i]), nns_kernels_for_isa((nns_isa)l));
        if (!dup) out[n++] = (nns_isa)l;
    }
    return n;
}

static double max_diff(const float *a, const float *b, int64_t n, double *scale) {
    double d = 0;
    *scale = 0;
    for (int64_t i = 0; i < n; i++) {
        const double e = fabs((double)a[i] - (double)b[i]);
        if (!(e <= d)) d = e; /* NaN propagates */
        *scale = fmax(*scale, fabs((double)a[i]));
    }
    return d;
}

/* Inference plans (training: 0 / NNS_PLAN_INFER_FUSED) at every level, each
 * checked to hold its table, outputs against the scalar plan's. Returns the
 * largest difference (0 when all outputs are the same bits). */
static double compare_infer(nns_graph *g, const char *what, int batch, int training) {
    double worst = 0;
    nns_isa lv[NNS_ISA_COUNT];
    const int nl = levels(lv);
    nns_plan *p[NNS_ISA_COUNT] = {0};
    for (int i = 0; i < nl; i++) {
        CHECK_OK(nns_plan_create_with_kernels(g, batch, training, NULL, nns_kernels_for_isa(lv[i]), &p[i]));
        if (!p[i]) goto out;
        CHECK(nns_plan_kernels(p[i]) == nns_kernels_for_isa(lv[i]) && nns_plan_kernels(p[i])->isa == lv[i]);
    }
    uint64_t r = 7;
    const int64_t nx = nns_shape_numel(&nns_plan_input(p[0], 0)->shape);
    const int64_t ny = nns_shape_numel(&nns_plan_output(p[0], 0)->shape);
    for (int64_t j = 0; j < nx; j++) {
        const float v = 4.0f * nns_rng_uniform(&r) - 2.0f;
        for (int i = 0; i < nl; i++) nns_tv_f32(nns_plan_input(p[i], 0))[j] = v;
    }
    /* highest level first, scalar last: a plan never sees another's table */
    for (int i = nl - 1; i >= 0; i--) nns_plan_forward(p[i], 0);
    for (int i = 1; i < nl; i++) {
        double scale;
        const double d = max_diff(nns_tv_f32(nns_plan_output(p[0], 0)), nns_tv_f32(nns_plan_output(p[i], 0)), ny, &scale);
        CHECK_MSG(d <= 1e-4 * (1.0 + scale) && scale > 0, "%s batch %d: %s plan differs from scalar by %g (scale %g)",
                  what, batch, nns_isa_name(lv[i]), d, scale);
        worst = fmax(worst, d);
    }
out:
    for (int i = 0; i < nl; i++) nns_plan_free(p[i]);
    return worst;
}

/* One training step (forward in training mode, backward from a fixed output
 * gradient) per level: parameter gradients against the scalar plan's. */
static void compare_train(nns_graph *g, const char *what, int batch) {
    nns_isa lv[NNS_ISA_COUNT];
    const int nl = levels(lv);
    const int64_t np = g->n_params;
    nns_plan *p[NNS_ISA_COUNT] = {0};
    float *pg[NNS_ISA_COUNT] = {0};
    for (int i = 0; i < nl; i++) {
        pg[i] = calloc((size_t)np, sizeof(float));
        CHECK_OK(nns_plan_create_with_kernels(g, batch, 1, pg[i], nns_kernels_for_isa(lv[i]), &p[i]));
        if (!p[i]) goto out;
    }
    uint64_t r = 11;
    const int64_t nx = nns_shape_numel(&nns_plan_input(p[0], 0)->shape);
    const int64_t ny = nns_shape_numel(&nns_plan_output(p[0], 0)->shape);
    for (int64_t j = 0; j < nx; j++) {
        const float v = 2.0f * nns_rng_uniform(&r) - 1.0f;
        for (int i = 0; i < nl; i++) nns_tv_f32(nns_plan_input(p[i], 0))[j] = v;
    }
    for (int i = nl - 1; i >= 0; i--) {
        uint64_t rr = 3;
        nns_plan_forward(p[i], 1);
        nns_plan_zero_act_grads(p[i]);
        nns_tv *y = nns_plan_output(p[i], 0);
        for (int64_t j = 0; j < ny; j++) y->grad[j] = nns_rng_uniform(&rr) - 0.5f;
        nns_plan_backward(p[i]);
    }
    for (int i = 1; i < nl; i++) {
        double scale;
        const double d = max_diff(pg[0], pg[i], np, &scale);
        CHECK_MSG(d <= 1e-3 * (1.0 + scale) && scale > 0,
                  "%s training batch %d: %s gradients differ from scalar by %g (scale %g)", what, batch,
                  nns_isa_name(lv[i]), d, scale);
    }
out:
    for (int i = 0; i < nl; i++) {
        nns_plan_free(p[i]);
        free(pg[i]);
    }
}

/* Trainable parameters of the given names and shapes, uniform in
 * [-scale, scale) from the generator r. */
static nns_status add_random_params(nns_graph *g, int n, const char *const *names, const nns_shape *const *shp,
                                    float scale, uint64_t *r) {
    nns_status st = NNS_OK;
    for (int i = 0; i < n && !st; i++) {
        const int64_t k = nns_shape_numel(shp[i]);
        float *buf = malloc((size_t)k * sizeof(float));
        if (!buf) return NNS_STATUS_NOMEM;
        for (int64_t j = 0; j < k; j++) buf[j] = scale * (nns_rng_uniform(r) * 2.0f - 1.0f);
        st = nns_graph_add_param(g, names[i], NNS_DTYPE_F32, shp[i], buf, 1, NULL);
        free(buf);
    }
    return st;
}

/* Output y, finalized and packed; NULL (the graph freed) after any error. */
static nns_graph *finish_graph(nns_graph *g, nns_status st) {
    if (!st) st = nns_graph_add_output(g, "y");
    if (!st) st = nns_graph_finalize(g);
    if (!st) st = nns_graph_pack_params(g);
    if (st) {
        nns_graph_free(g);
        return NULL;
    }
    return g;
}

/* Gemms in training at every level, whose products take the table's
 * f32_gemm where it is the AVX-512 kernel: transB 1 and 0, a bias of [N]
 * and of [1, N] and none, an input gradient written (h's first reader) and
 * one added to (h also feeds the Add), sizes off the kernel's tiles, batches
 * below and above K. */
static nns_graph *gemm_train_graph(int k, int h, int o) {
    nns_graph *g = NULL;
    uint64_t r = 5;
    if (nns_graph_create(&g)) return NULL;
    int64_t xd[2] = {-1, k}, w1d[2] = {h, k}, b1d[1] = {h}, w2d[2] = {h, h}, w3d[2] = {h, o}, b3d[2] = {1, o};
    nns_shape xs = nns_shape_make(2, xd), w1s = nns_shape_make(2, w1d), b1s = nns_shape_make(1, b1d);
    nns_shape w2s = nns_shape_make(2, w2d), w3s = nns_shape_make(2, w3d), b3s = nns_shape_make(2, b3d);
    const char *names[5] = {"w1", "b1", "w2", "w3", "b3"};
    const nns_shape *shp[5] = {&w1s, &b1s, &w2s, &w3s, &b3s};
    nns_status st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (!st) st = add_random_params(g, 5, names, shp, 0.2f, &r);
    int node = -1;
    const char *g1in[3] = {"x", "w1", "b1"}, *g1out[1] = {"h"}, *g2in[2] = {"h", "w2"}, *g2out[1] = {"u"};
    const char *ain[2] = {"u", "h"}, *aout[1] = {"s"}, *g3in[3] = {"s", "w3", "b3"}, *g3out[1] = {"y"};
    if (!st) st = nns_graph_add_node(g, "Gemm", "g1", 3, g1in, 1, g1out, &node);
    if (!st) st = nns_graph_set_attr_int(g, node, "transB", 1);
    if (!st) st = nns_graph_add_node(g, "Gemm", "g2", 2, g2in, 1, g2out, NULL);
    if (!st) st = nns_graph_add_node(g, "Add", "add", 2, ain, 1, aout, NULL);
    if (!st) st = nns_graph_add_node(g, "Gemm", "g3", 3, g3in, 1, g3out, NULL);
    return finish_graph(g, st);
}

/* A 3x3 convolution, then a grouped stride-2 one of 16 output channels a
 * group (its weight gradient on the table's f32_gemm where that is the
 * AVX-512 kernel): at batch 37 each thread's images take two of the im2col
 * path's batches, so the second adds to the first's gradient. */
static nns_graph *conv_train_graph(void) {
    nns_graph *g = NULL;
    uint64_t r = 17;
    if (nns_graph_create(&g)) return NULL;
    int64_t xd[4] = {-1, 3, 11, 11}, w1d[4] = {8, 3, 3, 3}, w2d[4] = {32, 4, 3, 3}, b2d[1] = {32};
    nns_shape xs = nns_shape_make(4, xd), w1s = nns_shape_make(4, w1d), w2s = nns_shape_make(4, w2d);
    nns_shape b2s = nns_shape_make(1, b2d);
    const char *names[3] = {"w1", "w2", "b2"};
    const nns_shape *shp[3] = {&w1s, &w2s, &b2s};
    nns_status st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (!st) st = add_random_params(g, 3, names, shp, 0.3f, &r);
    int node = -1;
    const int64_t pads[4] = {1, 1, 1, 1}, strides[2] = {2, 2};
    const char *c1in[2] = {"x", "w1"}, *c1out[1] = {"h"}, *c2in[3] = {"h", "w2", "b2"}, *c2out[1] = {"y"};
    if (!st) st = nns_graph_add_node(g, "Conv", "c1", 2, c1in, 1, c1out, &node);
    if (!st) st = nns_graph_set_attr_ints(g, node, "pads", 4, pads);
    if (!st) st = nns_graph_add_node(g, "Conv", "c2", 3, c2in, 1, c2out, &node);
    if (!st) st = nns_graph_set_attr_ints(g, node, "pads", 4, pads);
    if (!st) st = nns_graph_set_attr_ints(g, node, "strides", 2, strides);
    if (!st) st = nns_graph_set_attr_int(g, node, "group", 2);
    return finish_graph(g, st);
}

/* A built-in quantized to bf16 weights and activations, as sessions run
 * it (nns_graph_exec_copy: Round16 nodes). At the default level every Conv
 * and Gemm that reads a Round16 (not a depthwise Conv, not the one-channel direct
 * path) takes the bf16 GEMM when the table has a SIMD one; every level
 * agrees with the scalar plan (whose float GEMMs multiply the same values). */
static void bf16_model(const char *arch, int batch) {
    nns_graph *g = NULL, *e = NULL;
    CHECK_OK(nns_arch_build(arch, 5, &g));
    nns_dataset d;
    make_data(&d, 16, 3);
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.weight_only = 1;
    cfg.weight_float16 = cfg.act_float16 = NNS_DTYPE_BF16;
    nns_ptq_result r;
    if (g) CHECK_OK(nns_quantize_ptq(g, &d, &cfg, &r));
    if (g) CHECK_OK(nns_graph_exec_copy(g, &e));
    nns_plan *p = NULL;
    if (e) CHECK_OK(nns_plan_create(e, batch, NNS_PLAN_INFER_FUSED, NULL, &p));
    int gemms = 0, on_bf16 = 0;
    for (int i = 0; p && i < e->n_nodes; i++) {
        const nns_node *n = &e->nodes[i];
        const char *kn = nns_plan_node_kernel(p, i);
        if ((n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM) || !nns_bf16_input(e, n, 0) || !strcmp(kn, "depthwise") ||
            !strcmp(kn, "1ch") || !strcmp(kn, "winograd"))
            continue;
        gemms++;
        on_bf16 += !strcmp(kn, "bf16");
    }
    const int fast = nns_bf16_gemm_fast(nns_kernels_get());
    CHECK_MSG(gemms > 0 && on_bf16 == (fast ? gemms : 0), "%s: %d of %d layers on the bf16 GEMM (SIMD bf16: %d)",
              arch, on_bf16, gemms, fast);
    if (p && batch > 1) { /* at batch 1, from the same plan (repacked): the bits of a batch-1 plan */
        nns_plan *p1 = NULL;
        CHECK_OK(nns_plan_create(e, 1, NNS_PLAN_INFER_FUSED, NULL, &p1));
        CHECK_OK(nns_plan_set_batch(p, 1));
        const int64_t nx = nns_shape_numel(&nns_plan_input(p1, 0)->shape);
        const int64_t ny = nns_shape_numel(&nns_plan_output(p1, 0)->shape);
        uint64_t rs = 5;
        for (int64_t j = 0; p1 && j < nx; j++)
            nns_tv_f32(nns_plan_input(p, 0))[j] = nns_tv_f32(nns_plan_input(p1, 0))[j] = nns_rng_uniform(&rs) - 0.5f;
        if (p1) {
            nns_plan_forward(p, 0);
            nns_plan_forward(p1, 0);
            CHECK_MSG(!memcmp(nns_tv_f32(nns_plan_output(p, 0)), nns_tv_f32(nns_plan_output(p1, 0)), (size_t)ny * 4),
                      "%s: batch %d plan run at batch 1 differs from a batch-1 plan", arch, batch);
        }
        nns_plan_free(p1);
    }
    nns_plan_free(p);
    char what[64];
    snprintf(what, sizeof what, "%s bf16", arch);
    if (e) compare_infer(e, what, batch, NNS_PLAN_INFER_FUSED);
    nns_dataset_free(&d);
    nns_graph_free(e);
    nns_graph_free(g);
}

int main(void) {
    nns_isa lv[NNS_ISA_COUNT];
    const int nl = levels(lv);
    printf("levels with distinct tables on this CPU:");
    for (int i = 0; i < nl; i++) printf(" %s", nns_isa_name(lv[i]));
    printf("\n");
    CHECK(nl >= 1 && lv[0] == NNS_ISA_SCALAR);
    /* a plan holds the table it was created with, at every level */
    {
        nns_graph *g = NULL;
        CHECK_OK(nns_arch_build("lenet5", 1, &g));
        for (int l = 0; g && l < NNS_ISA_COUNT; l++) {
            nns_plan *p = NULL;
            const nns_kernels *k = nns_kernels_for_isa((nns_isa)l);
            CHECK_OK(nns_plan_create_with_kernels(g, 2, 0, NULL, k, &p));
            CHECK(p && nns_plan_kernels(p) == k);
            nns_plan_free(p);
        }
        nns_graph_free(g);
    }
    /* the tables really differ where the CPU has AVX2 */
    if (nns_isa_supported(NNS_ISA_AVX2))
        CHECK(nns_kernels_for_isa(NNS_ISA_AVX2)->f32_wgemm8 != nns_kernels_for_isa(NNS_ISA_SCALAR)->f32_wgemm8);
    /* nns_plan_create takes the process default */
    {
        nns_graph *g = NULL;
        nns_plan *p = NULL;
        CHECK_OK(nns_arch_build("lenet5", 1, &g));
        CHECK_OK(nns_plan_create(g, 2, 0, NULL, &p));
        CHECK(p && nns_plan_kernels(p) == nns_kernels_get());
        nns_plan_free(p);
        nns_graph_free(g);
    }
    const char *archs[] = {"lenet5", "vggsmall", "resnet8", "mobilenet"};
    for (int a = 0; a < 4; a++) {
        nns_graph *g = NULL;
        CHECK_OK(nns_arch_build(archs[a], 3, &g));
        if (!g) continue;
        compare_infer(g, archs[a], 1, NNS_PLAN_INFER_FUSED);
        const double d = compare_infer(g, archs[a], 8, NNS_PLAN_INFER_FUSED);
        /* Winograd and depthwise with FMA round differently from the
         * references: identical bits would mean the plans shared a table */
        if (nl > 1 && (!strcmp(archs[a], "vggsmall") || !strcmp(archs[a], "mobilenet")))
            CHECK_MSG(d > 0, "%s: every level gave the scalar plan's bits", archs[a]);
        compare_train(g, archs[a], 4);
        nns_graph_free(g);
    }
    {
        nns_graph *g = gemm_train_graph(301, 203, 37); /* big enough to split among threads at batch 64 */
        CHECK(g != NULL);
        if (g) {
            compare_train(g, "gemm chain", 5);
            compare_train(g, "gemm chain", 64);
        }
        nns_graph_free(g);
        g = gemm_train_graph(13, 9, 3);
        CHECK(g != NULL);
        if (g) { /* K >= M: the forward as Y^T = B A^T; K < M: on B^T */
            compare_train(g, "small gemm chain", 7);
            compare_train(g, "small gemm chain", 20);
        }
        nns_graph_free(g);
    }
    {
        nns_graph *g = conv_train_graph();
        CHECK(g != NULL);
        if (g) {
            compare_train(g, "conv pair", 3);
            compare_train(g, "conv pair", 37);
        }
        nns_graph_free(g);
    }
    bf16_model("mobilenet", 1);
    bf16_model("vggsmall", 8);
    bf16_model("resnet8", 3);
    bf16_model("lenet300", 1);
    bf16_model("lenet300", 64);
    /* a pruned MLP: the sparse Gemm path at batch 1 and 64 */
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("lenet300", 6, &g));
    if (g) {
        CHECK_OK(nns_prune_magnitude(g, 0.95f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
        compare_infer(g, "lenet300 pruned", 1, 0);
        compare_infer(g, "lenet300 pruned", 64, 0);
        nns_graph_free(g);
    }
    TEST_MAIN_END();
}
