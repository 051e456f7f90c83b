/* bench_conv.c — time Conv forward and forward+backward through a real
 * plan for the conv layers of nnslim's built-in models (batch 128,
 * Fashion-MNIST sizes), plus Gemm (fc layers) and MaxPool. Compare with
 * bench/bench_conv_torch.py run with the same thread count.
 *
 * Build (from the repository root, after building the library in build/):
 *   cc -O2 -fopenmp -Iinclude -Isrc bench/bench_conv.c build/libnnslim.a \
 *      $(pkg-config --libs openblas libprotobuf-c zlib) -lm -o bench_conv
 * Run: OMP_NUM_THREADS=2 ./bench_conv [name-filter] [reps] [levels]
 * Times are the minimum over reps (the machine may be shared). The plans use
 * the default kernel table (NNS_ISA lowers it); "levels" times every layer
 * at each ISA level the CPU has, in one process (plans pinned to a table).
 * ./bench_conv --kernels lists the kernel registry (src/kernels/kernel_list.h):
 * every family, its variants, which this CPU can run and which the default
 * table uses.
 * NNS_BENCH_CPU=1: process CPU time instead of wall time (steadier on a
 * shared machine, with one thread). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/graph_impl.h"
#include "kernels/kernels.h"
#include "runtime/plan.h"

/* Strong references: the op table's weak ones do not pull these in. */
const nns_op_def *const bench_linked_ops[] = {&nns_op_conv, &nns_op_gemm, &nns_op_maxpool};

/* NNS_BENCH_CPU=1: process CPU time instead of wall time (steadier on a
 * shared machine when running one thread). */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now(void) {
    struct timespec t;
    clock_gettime(bench_clock, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}


typedef struct layer {
    const char *name;
    const char *op;   /* "Conv", "Gemm", "MaxPool" */
    int c, m, h, k, s, p, g; /* Conv: square; Gemm: c = in, m = out */
} layer;

static const layer LAYERS[] = {
    {"lenet5.conv1", "Conv", 1, 6, 28, 5, 1, 2, 1},
    {"lenet5.conv2", "Conv", 6, 16, 14, 5, 1, 0, 1},
    {"vgg.conv1", "Conv", 1, 32, 28, 3, 1, 1, 1},
    {"vgg.conv2", "Conv", 32, 32, 28, 3, 1, 1, 1},
    {"vgg.conv3", "Conv", 32, 64, 14, 3, 1, 1, 1},
    {"vgg.conv4", "Conv", 64, 64, 14, 3, 1, 1, 1},
    {"res.stem", "Conv", 1, 16, 28, 3, 1, 1, 1},
    {"res.b1conv", "Conv", 16, 16, 28, 3, 1, 1, 1},
    {"res.b2conv1", "Conv", 16, 32, 28, 3, 2, 1, 1},
    {"res.b2conv2", "Conv", 32, 32, 14, 3, 1, 1, 1},
    {"res.b2short", "Conv", 16, 32, 28, 1, 2, 0, 1},
    {"res.b3conv1", "Conv", 32, 64, 14, 3, 2, 1, 1},
    {"res.b3conv2", "Conv", 64, 64, 7, 3, 1, 1, 1},
    {"res.b3short", "Conv", 32, 64, 14, 1, 2, 0, 1},
    {"mob.expand16", "Conv", 16, 64, 28, 1, 1, 0, 1},
    {"mob.dw64s1", "Conv", 64, 64, 28, 3, 1, 1, 64},
    {"mob.dw64s2", "Conv", 64, 64, 28, 3, 2, 1, 64},
    {"mob.project64", "Conv", 64, 24, 14, 1, 1, 0, 1},
    {"mob.expand24", "Conv", 24, 96, 14, 1, 1, 0, 1},
    {"mob.dw96s1", "Conv", 96, 96, 14, 3, 1, 1, 96},
    {"mob.dw96s2", "Conv", 96, 96, 14, 3, 2, 1, 96},
    {"mob.dw128s1", "Conv", 128, 128, 7, 3, 1, 1, 128},
    {"mob.head", "Conv", 32, 128, 7, 1, 1, 0, 1},
    {"vgg.fc1", "Gemm", 3136, 256, 0, 0, 0, 0, 0},
    {"lenet5.fc1", "Gemm", 400, 120, 0, 0, 0, 0, 0},
    {"vgg.pool1", "MaxPool", 32, 32, 28, 2, 2, 0, 0},
    {"vgg.pool2", "MaxPool", 64, 64, 14, 2, 2, 0, 0},
};

static void fill(float *p, int64_t n, uint64_t *s) {
    for (int64_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)((*s >> 40) & 0xffffff) / 16777216.0f - 0.5f;
    }
}

static int add_param(nns_graph *g, const char *name, int nd, const int64_t *d, uint64_t *s, int trainable) {
    nns_shape sh = nns_shape_make(nd, d);
    int64_t n = nns_shape_numel(&sh);
    float *v = malloc((size_t)n * sizeof(float));
    fill(v, n, s);
    nns_status st = nns_graph_add_param(g, name, NNS_DTYPE_F32, &sh, v, trainable, NULL);
    free(v);
    return st != NNS_OK;
}

static void bench(const layer *L, int batch, int reps, const nns_kernels *kern) {
    nns_graph *g = NULL;
    nns_graph_create(&g);
    uint64_t s = 42;
    const char *ins[3] = {"x", "w", "b"};
    const char *outs[1] = {"y"};
    int node, nin = 2;
    double flops;
    if (strcmp(L->op, "Conv") == 0) {
        int64_t xd[4] = {batch, L->c, L->h, L->h}, wd[4] = {L->m, L->c / L->g, L->k, L->k};
        add_param(g, "x", 4, xd, &s, L->c > 1); /* a first layer needs no dX */
        add_param(g, "w", 4, wd, &s, 1);
        nns_graph_add_node(g, "Conv", "conv", 2, ins, 1, outs, &node);
        int64_t k2[2] = {L->k, L->k}, s2[2] = {L->s, L->s}, p4[4] = {L->p, L->p, L->p, L->p};
        nns_graph_set_attr_ints(g, node, "kernel_shape", 2, k2);
        nns_graph_set_attr_ints(g, node, "strides", 2, s2);
        nns_graph_set_attr_ints(g, node, "pads", 4, p4);
        nns_graph_set_attr_int(g, node, "group", L->g);
        int oh = (L->h + 2 * L->p - L->k) / L->s + 1;
        flops = 2.0 * batch * L->m * (L->c / L->g) * L->k * L->k * oh * oh;
        if (L->c == 1) flops *= 2.0 / 3.0; /* fwd + dW only */
    } else if (strcmp(L->op, "Gemm") == 0) {
        int64_t ad[2] = {batch, L->c}, bd[2] = {L->m, L->c}, cd[1] = {L->m};
        add_param(g, "x", 2, ad, &s, 1);
        add_param(g, "w", 2, bd, &s, 1);
        add_param(g, "b", 1, cd, &s, 1);
        nin = 3;
        nns_graph_add_node(g, "Gemm", "gemm", 3, ins, 1, outs, &node);
        nns_graph_set_attr_int(g, node, "transB", 1);
        flops = 2.0 * batch * L->c * L->m;
    } else {
        int64_t xd[4] = {batch, L->c, L->h, L->h};
        add_param(g, "x", 4, xd, &s, 1);
        nin = 1;
        nns_graph_add_node(g, "MaxPool", "pool", 1, ins, 1, outs, &node);
        int64_t k2[2] = {L->k, L->k}, s2[2] = {L->s, L->s};
        nns_graph_set_attr_ints(g, node, "kernel_shape", 2, k2);
        nns_graph_set_attr_ints(g, node, "strides", 2, s2);
        flops = (double)batch * L->c * L->h * L->h; /* comparisons */
    }
    (void)nin;
    nns_graph_add_output(g, "y");
    if (nns_graph_finalize(g) || nns_graph_pack_params(g)) {
        fprintf(stderr, "%s: %s\n", L->name, nns_last_error());
        exit(1);
    }
    float *pg = calloc((size_t)g->n_params, sizeof(float));
    nns_plan *p = NULL;
    if (nns_plan_create_with_kernels(g, batch, 1, pg, kern, &p)) {
        fprintf(stderr, "%s: %s\n", L->name, nns_last_error());
        exit(1);
    }
    nns_tv *y = nns_plan_output(p, 0);
    int64_t ny = nns_shape_numel(&y->shape);
    double tf = 1e30, tb = 1e30;
    for (int r = 0; r < reps + 2; r++) {
        double t0 = now();
        nns_plan_forward(p, 1);
        double t1 = now();
        nns_plan_zero_act_grads(p);
        fill(y->grad, ny, &s);
        double t2 = now();
        nns_plan_backward(p);
        double t3 = now();
        if (r >= 2) {
            if (t1 - t0 < tf) tf = t1 - t0;
            if (t3 - t2 < tb) tb = t3 - t2;
        }
    }
    /* x is a parameter here, so backward computes dX too (3x the forward
     * flops), except for one-channel inputs (a first layer). */
    printf("%-14s %-10s %9.2f %9.2f %9.2f %9.1f\n", L->name, nns_isa_name(nns_plan_kernels(p)->isa), tf * 1e3, tb * 1e3, (tf + tb) * 1e3,
           3 * flops / (tf + tb) * 1e-9);
    nns_plan_free(p);
    free(pg);
    nns_graph_free(g);
}

/* The registry: per family, the reference and each variant with its
 * suffix; "cpu" if this CPU can run it, "*" on the one the default table uses. */
static void list_kernels(void) {
    const nns_kernels *k = nns_kernels_get();
    const uint32_t cpu = nns_cpu_features();
    printf("default table: level %s\n", nns_isa_name(k->isa));
#define NNS_KERNEL(family, type, ref) \
    printf("%-24s %-34s %-11s %-4s %s\n", #family, #ref, "ref", "cpu", k->family == ref ? "*" : "");
#define NNS_VARIANT(family, suffix, symbol)                                                      \
    printf("%-24s %-34s %-11s %-4s %s\n", "", #symbol, #suffix,                                   \
           (NNS_SUFFIX_##suffix & ~cpu) == 0 ? "cpu" : "-", k->family == symbol ? "*" : "");
#include "kernels/kernel_list.h"
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--kernels")) {
        list_kernels();
        return 0;
    }
    const char *filter = argc > 1 ? argv[1] : "";
    int reps = argc > 2 ? atoi(argv[2]) : 10;
    const char *cpu = getenv("NNS_BENCH_CPU");
    if (cpu && *cpu == '1') bench_clock = CLOCK_PROCESS_CPUTIME_ID;
    const int levels = argc > 3 && !strcmp(argv[3], "levels");
    printf("batch 128, min of %d reps, %s\n", reps, bench_clock == CLOCK_MONOTONIC ? "wall ms" : "cpu ms");
    printf("%-14s %-10s %9s %9s %9s %9s\n", "layer", "isa", "fwd ms", "bwd ms", "f+b ms", "GFLOP/s");
    for (size_t i = 0; i < sizeof LAYERS / sizeof LAYERS[0]; i++) {
        if (!strstr(LAYERS[i].name, filter)) continue;
        if (!levels) {
            bench(&LAYERS[i], 128, reps, nns_kernels_get());
            continue;
        }
        for (int l = 0; l < NNS_ISA_COUNT; l++)
            if (nns_isa_supported((nns_isa)l)) bench(&LAYERS[i], 128, reps, nns_kernels_for_isa((nns_isa)l));
    }
    return 0;
}
