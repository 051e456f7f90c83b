/* bench_sparse.c — dense (OpenBLAS sgemm) against sparse (CSR, f32_spmm_csr)
 * Gemm forward through a real inference plan, for the fc layers of nnslim's
 * built-in models, at several sparsities and batch sizes. The crossover
 * sparsities set the thresholds in src/ops/sparse_dispatch.c (recorded in
 * docs/pruning.md).
 *
 * Build (from the repository root, after building the library in build/):
 *   cc -O2 -fopenmp -Iinclude -Isrc bench/bench_sparse.c build/libnnslim.a \
 *      $(pkg-config --libs openblas libprotobuf-c zlib) -lm -o bench_sparse
 * Run: OMP_NUM_THREADS=2 ./bench_sparse [layer-filter] [batch,...]
 * Prints microseconds per forward (median of 7 timings of enough runs to
 * take ~20 ms each) and the sparse/dense speedup; NNS_ISA=scalar times the
 * reference kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/graph_impl.h"
#include "nnslim/prune.h"
#include "ops/sparse_dispatch.h"
#include "runtime/plan.h"

const nns_op_def *const bench_linked_ops[] = {&nns_op_gemm};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct layer {
    const char *name;
    int k, n; /* in, out features */
} layer;

static const layer LAYERS[] = {
    {"lenet300.fc1", 784, 300}, {"lenet300.fc2", 300, 100}, {"lenet5.fc1", 400, 120},
    {"lenet5.fc2", 120, 84},    {"vggsmall.fc1", 3136, 256},
};

static uint64_t rs = 12345;
static float frand(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rs >> 40) & 0xffffff) / 16777216.0f - 0.5f;
}

static nns_graph *make(const layer *L, float sparsity) {
    nns_graph *g;
    if (nns_graph_create(&g)) return NULL;
    int64_t in_d[2] = {-1, L->k}, wd[2] = {L->n, L->k}, bd[1] = {L->n};
    nns_shape si = nns_shape_make(2, in_d), sw = nns_shape_make(2, wd), sb = nns_shape_make(1, bd);
    float *w = malloc((size_t)L->k * L->n * sizeof(float)), *b = malloc((size_t)L->n * sizeof(float));
    for (int64_t i = 0; i < (int64_t)L->k * L->n; i++) w[i] = frand();
    for (int i = 0; i < L->n; i++) b[i] = frand();
    nns_graph_add_input(g, "x", NNS_DTYPE_F32, &si, NULL);
    nns_graph_add_param(g, "w", NNS_DTYPE_F32, &sw, w, 1, NULL);
    nns_graph_add_param(g, "b", NNS_DTYPE_F32, &sb, b, 1, NULL);
    free(w);
    free(b);
    const char *ins[3] = {"x", "w", "b"}, *outs[1] = {"y"};
    int node;
    nns_graph_add_node(g, "Gemm", "fc", 3, ins, 1, outs, &node);
    nns_graph_set_attr_int(g, node, "transB", 1);
    nns_graph_add_output(g, "y");
    if (nns_graph_finalize(g) || nns_graph_pack_params(g) ||
        (sparsity > 0 && nns_prune_magnitude(g, sparsity, NNS_PRUNE_SCOPE_LAYER, NULL))) {
        fprintf(stderr, "setup: %s\n", nns_last_error());
        exit(1);
    }
    return g;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* microseconds per forward */
static double time_plan(nns_graph *g, int m, int mode, float *out_copy) {
    nns_sparse_gemm_force(mode);
    nns_plan *p;
    if (nns_plan_create(g, m, 0, NULL, &p)) {
        fprintf(stderr, "plan: %s\n", nns_last_error());
        exit(1);
    }
    nns_tv *x = nns_plan_input(p, 0);
    int64_t nx = nns_shape_numel(&x->shape);
    for (int64_t i = 0; i < nx; i++) x->data[i] = frand();
    nns_plan_forward(p, 0);
    double t0 = now();
    int reps = 0;
    while (now() - t0 < 0.02 || reps < 3) {
        nns_plan_forward(p, 0);
        reps++;
    }
    double ts[7];
    for (int r = 0; r < 7; r++) {
        t0 = now();
        for (int i = 0; i < reps; i++) nns_plan_forward(p, 0);
        ts[r] = (now() - t0) / reps * 1e6;
    }
    qsort(ts, 7, sizeof ts[0], cmpd);
    nns_tv *y = nns_plan_output(p, 0);
    if (out_copy) memcpy(out_copy, y->data, (size_t)nns_shape_numel(&y->shape) * sizeof(float));
    nns_plan_free(p);
    nns_sparse_gemm_force(-1);
    return ts[3];
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : "";
    int batches[16] = {1, 4, 16, 64, 256}, nb = 5;
    if (argc > 2) {
        nb = 0;
        for (char *s = argv[2]; *s && nb < 16;) {
            batches[nb++] = (int)strtol(s, &s, 10);
            if (*s == ',') s++;
        }
    }
    const float sps[] = {0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 0.95f, 0.98f};
    printf("%-14s %6s %8s %10s %10s %8s %10s\n", "layer", "batch", "sparsity", "dense_us", "sparse_us", "speedup",
           "max_diff");
    for (size_t l = 0; l < sizeof LAYERS / sizeof LAYERS[0]; l++) {
        if (!strstr(LAYERS[l].name, filter)) continue;
        for (size_t s = 0; s < sizeof sps / sizeof sps[0]; s++) {
            nns_graph *g = make(&LAYERS[l], sps[s]);
            for (int bi = 0; bi < nb; bi++) {
                int m = batches[bi];
                size_t ny = (size_t)m * LAYERS[l].n;
                float *yd = malloc(ny * sizeof(float)), *ys = malloc(ny * sizeof(float));
                uint64_t save = rs;
                double td = time_plan(g, m, 0, yd);
                rs = save;
                double tsp = time_plan(g, m, 1, ys);
                double md = 0;
                for (size_t i = 0; i < ny; i++) {
                    double d = yd[i] - ys[i];
                    if (d < 0) d = -d;
                    if (d > md) md = d;
                }
                printf("%-14s %6d %8.2f %10.2f %10.2f %8.2f %10.2g\n", LAYERS[l].name, m, sps[s], td, tsp, td / tsp,
                       md);
                fflush(stdout);
                free(yd);
                free(ys);
            }
            nns_graph_free(g);
        }
    }
    return 0;
}
