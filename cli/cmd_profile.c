/* cmd_profile.c — nnslim profile: where inference time goes, node by node. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim profile MODEL.onnx [--train] [--batch N] [--repeats N] [--threads N] [--json]\n"
    "\n"
    "Run inference on batches of random inputs and time every node: the median\n"
    "milliseconds per run, its share of the whole, the multiply-accumulates and the\n"
    "rate they ran at (GOP/s: two operations per multiply-accumulate, integer or\n"
    "float). A BatchNormalization or activation that the node\n"
    "before it computes (fused) shows 0 ms and a '+' in the table; its time is in\n"
    "that node's. So does a Concat at batch 1 whose inputs were all written in\n"
    "place, into their slices of its output. Timing each node adds a clock read\n"
    "per node, so the total can sit a little above 'nnslim compare's latency. A\n"
    "quantized model is listed as\n"
    "the plan runs it: each quantized Conv, Gemm or MatMul as one integer node\n"
    "(op Int8Conv or Int8Gemm, the layer's name, its MACs and rate in integers),\n"
    "its weights' DequantizeLinear nodes gone; residual Adds of quantized values as\n"
    "Int8Add, changes of scale as Int8Lut; a Gemm on grouped 4-bit or float16\n"
    "weights as GemmW4 or GemmF16, a 16-bit activation's two Casts as Round16\n"
    "(see docs/quantization.md).\n"
    "\n"
    "  --train       time a training step instead: each node's forward (training\n"
    "                mode) and backward, from random output gradients, on a copy of\n"
    "                the model (no optimizer update); columns fwd ms and bwd ms\n"
    "  --batch N     images per run (default 1; 128 with --train)\n"
    "  --repeats N   timed runs after one warm-up (default 50; 10 with --train)\n"
    "  --threads N   default: all cores\n"
    "  --json        one JSON object: model, batch, threads, repeats, mode\n"
    "                (\"inference\" or \"train\"), total_ms, images_per_second, and for\n"
    "                inference total_p90_ms (90th percentile of the runs) and\n"
    "                memory_bytes (the session: activations, workspace, weights), nodes:\n"
    "                [{name, op, output_shape, macs, ms, share, fused}] (with --train\n"
    "                also fwd_ms and bwd_ms; ms is their sum); for inference at a\n"
    "                batch above 1 also lanes, session_ms, session_p90_ms and\n"
    "                session_images_per_second (the session line below)\n"
    "\n"
    "The nodes are timed on one plan of the whole batch, every thread working on\n"
    "each node. At a batch above 1, a session (what nnslim run, eval's speed and\n"
    "compare use) may instead cut the batch into lanes, one per thread, that run\n"
    "side by side (docs/api.md, 'Lanes'); the last line, 'session', times that: the\n"
    "same batch through nns_session_run, untimed node by node.\n";

/* The model; for inference, as the plan runs it (int8 layers, folded
 * weights: nns_graph_exec_copy). */
static nns_status load(const char *path, int train, nns_graph **g) {
    nns_status st = nns_graph_load_onnx(path, g);
    nns_graph *e = NULL;
    if (!st && !train) st = nns_graph_exec_copy(*g, &e);
    if (e) {
        nns_graph_free(*g);
        *g = e;
    }
    return st;
}

/* The options' ranges: CLI_OK, or CLI_USAGE with a message. */
static int check_ranges(int batch, int repeats, int threads) {
    if (batch < 1 || batch > 65536) {
        fprintf(stderr, "nnslim profile: --batch must be in [1, 65536], got %d\n", batch);
        return CLI_USAGE;
    }
    if (repeats < 1 || repeats > 100000) {
        fprintf(stderr, "nnslim profile: --repeats must be in [1, 100000], got %d\n", repeats);
        return CLI_USAGE;
    }
    if (threads < 0) {
        fprintf(stderr, "nnslim profile: --threads must be >= 0\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* What a profile measured. */
typedef struct profile_result {
    int n, batch, repeats, train;
    nns_layer_info *L;
    double *ms, *fwd, *bwd, total, p90;
    size_t mem;
    nns_bench_stats session; /* inference at batch > 1: the session's runs (lanes) */
} profile_result;

static void result_free(profile_result *p) {
    free(p->L);
    free(p->ms);
    free(p->fwd);
    free(p->bwd);
}

/* Profile g into p (p->batch, p->repeats, p->train set). */
static nns_status profile_measure(nns_graph *g, const char *path, profile_result *p) {
    nns_status st = nns_graph_summarize(g, &p->L, &p->n, NULL, NULL, NULL);
    const size_t n = (size_t)(p->n ? p->n : 1);
    if (!st && (!(p->ms = calloc(n, sizeof *p->ms)) || !(p->fwd = calloc(n, sizeof *p->fwd)) ||
                !(p->bwd = calloc(n, sizeof *p->bwd))))
        st = nns_error(NNS_STATUS_NOMEM, "out of memory profiling '%s'", path);
    if (!st && p->train) {
        st = nns_profile_train(g, p->batch, p->repeats, p->fwd, p->bwd, &p->total);
        for (int i = 0; !st && i < p->n; i++) p->ms[i] = p->fwd[i] + p->bwd[i];
    } else if (!st) {
        st = nns_profile_stats(g, p->batch, p->repeats, p->ms, &p->total, &p->p90, &p->mem);
        if (!st && p->batch > 1) st = nns_benchmark_stats(g, p->batch, p->repeats, &p->session);
    }
    return st;
}

static void print_json(const char *path, const profile_result *p) {
    char sb[96];
    const double ips = p->total > 0 ? p->batch * 1e3 / p->total : 0;
    printf("{\"model\": ");
    cli_json_str(stdout, path);
    printf(", \"batch\": %d, \"threads\": %d, \"repeats\": %d, \"mode\": \"%s\", \"total_ms\": %.5f, "
           "\"images_per_second\": %.1f, ",
           p->batch, nns_get_threads(), p->repeats, p->train ? "train" : "inference", p->total, ips);
    if (!p->train) printf("\"total_p90_ms\": %.5f, \"memory_bytes\": %zu, ", p->p90, p->mem);
    if (!p->train && p->batch > 1)
        printf("\"lanes\": %d, \"session_ms\": %.5f, \"session_p90_ms\": %.5f, \"session_images_per_second\": %.1f, ",
               p->session.lanes, p->session.median_ms, p->session.p90_ms, p->session.images_per_second);
    printf("\"nodes\": [");
    for (int i = 0; i < p->n; i++) {
        const nns_layer_info *l = &p->L[i];
        printf(i ? ", {\"name\": " : "{\"name\": ");
        cli_json_str(stdout, l->name);
        printf(", \"op\": ");
        cli_json_str(stdout, l->op);
        printf(", \"output_shape\": %s, \"macs\": %lld, \"ms\": %.5f, \"share\": %.5f, \"fused\": %s",
               nns_shape_str(&l->out_shape, sb, sizeof sb), (long long)l->macs, p->ms[i],
               p->total > 0 ? p->ms[i] / p->total : 0.0, (p->train ? p->fwd[i] : p->ms[i]) == 0 ? "true" : "false");
        if (p->train) printf(", \"fwd_ms\": %.5f, \"bwd_ms\": %.5f", p->fwd[i], p->bwd[i]);
        printf("}");
    }
    printf("]}\n");
}

static void print_rows(const profile_result *p) {
    char sb[96];
    for (int i = 0; i < p->n; i++) {
        const nns_layer_info *l = &p->L[i];
        const double share = p->total > 0 ? 100.0 * p->ms[i] / p->total : 0.0;
        nns_shape_str(&l->out_shape, sb, sizeof sb);
        if (p->train) {
            char f[24] = "+", b[24] = "";
            if (p->fwd[i] > 0) snprintf(f, sizeof f, "%.4f", p->fwd[i]);
            if (p->bwd[i] > 0) snprintf(b, sizeof b, "%.4f", p->bwd[i]);
            printf("%-28s %-20s %-18s %12lld %10s %10s %6.1f%%\n", l->name, l->op, sb, (long long)l->macs, f, b, share);
            continue;
        }
        char rate[24] = "";
        if (l->macs && p->ms[i] > 0)
            snprintf(rate, sizeof rate, "%.1f", 2.0 * (double)l->macs * p->batch / (p->ms[i] * 1e6));
        if (p->ms[i] == 0)
            printf("%-28s %-20s %-18s %12lld %10s %7s %8s\n", l->name, l->op, sb, (long long)l->macs, "+", "", "");
        else
            printf("%-28s %-20s %-18s %12lld %10.4f %6.1f%% %8s\n", l->name, l->op, sb, (long long)l->macs, p->ms[i],
                   share, rate);
    }
}

static void print_table(const char *path, const profile_result *p) {
    const int nt = nns_get_threads();
    printf("model %s, %s, batch %d, %d thread%s, median of %d runs\n", path,
           p->train ? "training step (forward + backward)" : "inference", p->batch, nt, nt == 1 ? "" : "s", p->repeats);
    if (p->train)
        printf("%-28s %-20s %-18s %12s %10s %10s %7s\n", "node", "op", "output (batch 1)", "MACs/image", "fwd ms",
               "bwd ms", "share");
    else
        printf("%-28s %-20s %-18s %12s %10s %7s %8s\n", "node", "op", "output (batch 1)", "MACs/image", "ms", "share",
               "GOP/s");
    print_rows(p);
    printf("total: %.4f ms per run of %d (%.1f images/s)", p->total, p->batch,
           p->total > 0 ? p->batch * 1e3 / p->total : 0);
    if (!p->train) printf("; 90th percentile %.4f ms; session memory %.2f MB", p->p90, (double)p->mem / 1e6);
    printf("\n");
    if (!p->train && p->batch > 1)
        printf("session: %.4f ms per run of %d on %d lane%s (%.1f images/s); 90th percentile %.4f ms\n",
               p->session.median_ms, p->batch, p->session.lanes, p->session.lanes == 1 ? "" : "s",
               p->session.images_per_second, p->session.p90_ms);
}

int cmd_profile(int argc, char **argv) {
    int json = 0, batch = 1, repeats = 50, threads = 0, train = 0;
    cli_opt opts[] = {{"json", OPT_FLAG, &json, 0},
                      {"train", OPT_FLAG, &train, 0},
                      {"batch", OPT_INT, &batch, 0},
                      {"repeats", OPT_INT, &repeats, 0},
                      {"threads", OPT_INT, &threads, 0},
                      {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("profile", argc, argv, opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1) {
        fprintf(stderr, "nnslim profile: give one MODEL.onnx (try 'nnslim profile --help')\n");
        return CLI_USAGE;
    }
    if (train && !cli_opt_seen(opts, "batch")) batch = 128;
    if (train && !cli_opt_seen(opts, "repeats")) repeats = 10;
    if ((r = check_ranges(batch, repeats, threads))) return r;
    nns_set_threads(threads);
    nns_graph *g = NULL;
    profile_result p = {.batch = batch, .repeats = repeats, .train = train};
    nns_status st = load(pos[0], train, &g);
    if (!st) st = profile_measure(g, pos[0], &p);
    if (!st) {
        if (json) print_json(pos[0], &p);
        else print_table(pos[0], &p);
    }
    result_free(&p);
    nns_graph_free(g);
    return st ? cli_fail("profile", st) : CLI_OK;
}
