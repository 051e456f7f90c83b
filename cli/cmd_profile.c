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
    "                also fwd_ms and bwd_ms; ms is their sum)\n";

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
    nns_layer_info *L = NULL;
    double *ms = NULL, *fwd = NULL, *bwd = NULL, total = 0, p90 = 0;
    size_t mem = 0;
    int n = 0;
    nns_status st = load(pos[0], train, &g);
    if (!st) st = nns_graph_summarize(g, &L, &n, NULL, NULL, NULL);
    if (!st && (!(ms = calloc((size_t)(n ? n : 1), sizeof *ms)) || !(fwd = calloc((size_t)(n ? n : 1), sizeof *fwd)) ||
                !(bwd = calloc((size_t)(n ? n : 1), sizeof *bwd))))
        st = nns_error(NNS_STATUS_NOMEM, "out of memory profiling '%s'", pos[0]);
    if (!st && train) {
        st = nns_profile_train(g, batch, repeats, fwd, bwd, &total);
        for (int i = 0; !st && i < n; i++) ms[i] = fwd[i] + bwd[i];
    } else if (!st) {
        st = nns_profile_stats(g, batch, repeats, ms, &total, &p90, &mem);
    }
    if (st) {
        free(L);
        free(ms);
        free(fwd);
        free(bwd);
        nns_graph_free(g);
        return cli_fail("profile", st);
    }
    char sb[96];
    double ips = total > 0 ? batch * 1e3 / total : 0;
    if (json) {
        printf("{\"model\": ");
        cli_json_str(stdout, pos[0]);
        printf(", \"batch\": %d, \"threads\": %d, \"repeats\": %d, \"mode\": \"%s\", \"total_ms\": %.5f, "
               "\"images_per_second\": %.1f, ",
               batch, nns_get_threads(), repeats, train ? "train" : "inference", total, ips);
        if (!train) printf("\"total_p90_ms\": %.5f, \"memory_bytes\": %zu, ", p90, mem);
        printf("\"nodes\": [");
        for (int i = 0; i < n; i++) {
            printf(i ? ", {\"name\": " : "{\"name\": ");
            cli_json_str(stdout, L[i].name);
            printf(", \"op\": ");
            cli_json_str(stdout, L[i].op);
            printf(", \"output_shape\": %s, \"macs\": %lld, \"ms\": %.5f, \"share\": %.5f, \"fused\": %s",
                   nns_shape_str(&L[i].out_shape, sb, sizeof sb), (long long)L[i].macs, ms[i],
                   total > 0 ? ms[i] / total : 0.0, (train ? fwd[i] : ms[i]) == 0 ? "true" : "false");
            if (train) printf(", \"fwd_ms\": %.5f, \"bwd_ms\": %.5f", fwd[i], bwd[i]);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("model %s, %s, batch %d, %d thread%s, median of %d runs\n", pos[0],
               train ? "training step (forward + backward)" : "inference", batch, nns_get_threads(),
               nns_get_threads() == 1 ? "" : "s", repeats);
        if (train)
            printf("%-28s %-20s %-18s %12s %10s %10s %7s\n", "node", "op", "output (batch 1)", "MACs/image", "fwd ms",
                   "bwd ms", "share");
        else
            printf("%-28s %-20s %-18s %12s %10s %7s %8s\n", "node", "op", "output (batch 1)", "MACs/image", "ms",
                   "share", "GOP/s");
        for (int i = 0; train && i < n; i++) {
            char f[24] = "+", b[24] = "";
            if (fwd[i] > 0) snprintf(f, sizeof f, "%.4f", fwd[i]);
            if (bwd[i] > 0) snprintf(b, sizeof b, "%.4f", bwd[i]);
            printf("%-28s %-20s %-18s %12lld %10s %10s %6.1f%%\n", L[i].name, L[i].op,
                   nns_shape_str(&L[i].out_shape, sb, sizeof sb), (long long)L[i].macs, f, b,
                   total > 0 ? 100.0 * ms[i] / total : 0.0);
        }
        for (int i = 0; !train && i < n; i++) {
            char rate[24] = "";
            if (L[i].macs && ms[i] > 0) snprintf(rate, sizeof rate, "%.1f", 2.0 * (double)L[i].macs * batch / (ms[i] * 1e6));
            if (ms[i] == 0)
                printf("%-28s %-20s %-18s %12lld %10s %7s %8s\n", L[i].name, L[i].op,
                       nns_shape_str(&L[i].out_shape, sb, sizeof sb), (long long)L[i].macs, "+", "", "");
            else
                printf("%-28s %-20s %-18s %12lld %10.4f %6.1f%% %8s\n", L[i].name, L[i].op,
                       nns_shape_str(&L[i].out_shape, sb, sizeof sb), (long long)L[i].macs, ms[i],
                       total > 0 ? 100.0 * ms[i] / total : 0.0, rate);
        }
        printf("total: %.4f ms per run of %d (%.1f images/s)", total, batch, ips);
        if (!train) printf("; 90th percentile %.4f ms; session memory %.2f MB", p90, (double)mem / 1e6);
        printf("\n");
    }
    free(L);
    free(ms);
    free(fwd);
    free(bwd);
    nns_graph_free(g);
    return CLI_OK;
}
