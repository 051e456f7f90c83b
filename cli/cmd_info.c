/* cmd_info.c — nnslim info. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim info MODEL.onnx [--json]\n"
    "\n"
    "Print every layer of a model with its output shape (batch 1), parameter count,\n"
    "sparsity, multiply-accumulates per image and precision, then the totals and the\n"
    "file size. Precision of a layer with a weight: f32, W8A8 (8-bit weights and a\n"
    "quantized input, QDQ form) or W8A32 (8-bit weights, float input); a quantized\n"
    "weight counts as the layer's parameters.\n"
    "\n"
    "  --json   one JSON object: params, nonzero_params, macs, file_bytes, layers (each with\n"
    "           name, op, output_shape, params, nonzero_params, sparsity, macs, precision)\n";

int cmd_info(int argc, char **argv) {
    int json = 0;
    cli_opt opts[] = {{"json", OPT_FLAG, &json, 0}, {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("info", argc, argv, opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1) {
        fprintf(stderr, "nnslim info: give one MODEL.onnx (try 'nnslim info --help')\n");
        return CLI_USAGE;
    }
    nns_graph *g = NULL;
    nns_layer_info *L = NULL;
    int n = 0;
    int64_t tp = 0, tn = 0, tm = 0;
    nns_status st = nns_graph_load_onnx(pos[0], &g);
    if (!st) st = nns_graph_summarize(g, &L, &n, &tp, &tn, &tm);
    if (st) {
        nns_graph_free(g);
        return cli_fail("info", st);
    }
    long long fb = cli_file_size(pos[0]);
    char sb[96];
    if (json) {
        printf("{\"model\": ");
        cli_json_str(stdout, pos[0]);
        printf(", \"params\": %lld, \"nonzero_params\": %lld, \"macs\": %lld, \"file_bytes\": %lld, \"layers\": [",
               (long long)tp, (long long)tn, (long long)tm, fb);
        for (int i = 0; i < n; i++) {
            printf(i ? ", {\"name\": " : "{\"name\": ");
            cli_json_str(stdout, L[i].name);
            printf(", \"op\": ");
            cli_json_str(stdout, L[i].op);
            printf(", \"output_shape\": %s, \"params\": %lld, \"nonzero_params\": %lld, \"sparsity\": %.6f, \"macs\": %lld, "
                   "\"precision\": ",
                   nns_shape_str(&L[i].out_shape, sb, sizeof sb), (long long)L[i].params,
                   (long long)L[i].nonzero, L[i].params ? 1.0 - (double)L[i].nonzero / (double)L[i].params : 0.0,
                   (long long)L[i].macs);
            if (L[i].precision[0]) cli_json_str(stdout, L[i].precision);
            else printf("null");
            printf("}");
        }
        printf("]}\n");
    } else {
        const char *arch = nns_graph_get_meta(g, "nnslim.arch");
        printf("model %s%s%s%s\n", pos[0], arch ? " (" : "", arch ? arch : "", arch ? ")" : "");
        printf("%-28s %-20s %-18s %10s %8s %12s %9s\n", "layer", "op", "output (batch 1)", "params", "sparsity", "MACs",
               "precision");
        for (int i = 0; i < n; i++) {
            char sp[16] = "";
            if (L[i].params) snprintf(sp, sizeof sp, "%.1f%%", 100.0 * (1.0 - (double)L[i].nonzero / (double)L[i].params));
            printf("%-28s %-20s %-18s %10lld %8s %12lld %9s\n", L[i].name, L[i].op,
                   nns_shape_str(&L[i].out_shape, sb, sizeof sb), (long long)L[i].params, sp, (long long)L[i].macs,
                   L[i].precision);
        }
        printf("total: %lld parameters (%lld nonzero, sparsity %.1f%%), %lld MACs per image, file %lld bytes\n",
               (long long)tp, (long long)tn, tp ? 100.0 * (1.0 - (double)tn / (double)tp) : 0.0, (long long)tm, fb);
    }
    free(L);
    nns_graph_free(g);
    return CLI_OK;
}
