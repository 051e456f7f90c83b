/* cmd_compare.c — nnslim compare: several models side by side. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim compare MODEL.onnx... [DATA] [--no-eval] [--threads N] [--json]\n"
    "\n"
    "Measure several models on the same test set and machine, side by side: test\n"
    "accuracy, precision (f32, W8A8, W8A32 or mixed: nnslim info), parameters,\n"
    "nonzero parameters, MACs per image, file size, batch-1\n"
    "latency (median of 200 runs, and their 90th percentile: b1 p90), batch-64\n"
    "throughput (median of 20) and the memory a batch-64 session holds (b64 MB:\n"
    "activations, workspace, packed and stored weights), with each\n"
    "model's ratios to the first one. Each model is evaluated with its own recorded\n"
    "normalisation (nnslim.mean / nnslim.std), else --mean/--std, else the test set's.\n"
    "\n"
    "  --no-eval        measure size and speed only, not accuracy (reported as null):\n"
    "                   for models whose input does not fit the data\n"
    "  --threads N      default: all cores\n"
    "  --json           one JSON object: {\"models\": [{\"model\", \"accuracy\", \"params\",\n"
    "                   \"nonzero_params\", \"macs\", \"file_bytes\", \"latency_ms_b1\",\n"
    "                   \"latency_p90_ms_b1\", \"images_per_second_b64\", \"memory_bytes_b1\",\n"
    "                   \"memory_bytes_b64\", \"precision\"}, ...]} (with \"speedup\"\n"
    "                   for the second model on)\n"
    "\n" CLI_DATA_HELP;

#define MAX_MODELS 16

int cmd_compare(int argc, char **argv) {
    int threads = 0, json = 0, no_eval = 0;
    cli_data_opts d;
    cli_data_init(&d);
    cli_opt opts[] = {{"threads", OPT_INT, &threads, 0}, {"json", OPT_FLAG, &json, 0},
                      {"no-eval", OPT_FLAG, &no_eval, 0}, CLI_DATA_OPTS(d),
                      {NULL, 0, NULL, 0}};
    const char *pos[MAX_MODELS];
    int npos;
    int r = cli_parse("compare", argc, argv, opts, pos, MAX_MODELS, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos < 1) {
        fprintf(stderr, "nnslim compare: give one or more MODEL.onnx (try 'nnslim compare --help')\n");
        return CLI_USAGE;
    }
    if (threads < 0) {
        fprintf(stderr, "nnslim compare: --threads must be >= 0\n");
        return CLI_USAGE;
    }
    nns_set_threads(threads);
    cli_measure m[MAX_MODELS];
    nns_graph *gs[MAX_MODELS] = {0};
    int rc = CLI_FAIL;
    nns_status st = NNS_OK;
    for (int i = 0; i < npos; i++) {
        nns_graph *g = NULL;
        nns_dataset test = {0};
        float mean, std;
        if ((st = nns_graph_load_onnx(pos[i], &g))) goto fail;
        if (no_eval) {
            st = cli_measure_take(g, NULL, pos[i], &m[i]);
        } else {
            st = cli_data_load(&d, NULL, &test); /* each model normalises its own copy */
            if (!st) st = cli_data_normalize(&d, opts, g, NULL, &test, &mean, &std);
            if (!st) st = cli_measure_take(g, &test, pos[i], &m[i]);
        }
        nns_dataset_free(&test);
        gs[i] = g;
        if (!st && i > 0) {
            fprintf(stderr, "measuring %s against %s, alternately\n", pos[i], pos[0]);
            st = cli_measure_speedup(gs[0], g, &m[i]);
        }
        if (st) { /* name the model: several are measured */
            fprintf(stderr, "nnslim compare: %s: %s\n", pos[i], nns_last_error());
            rc = CLI_FAIL;
            goto done;
        }
        fprintf(stderr, "measured %s\n", pos[i]);
    }
    if (json) {
        printf("{\"models\": [");
        for (int i = 0; i < npos; i++) {
            printf(i ? ", {\"model\": " : "{\"model\": ");
            cli_json_str(stdout, pos[i]);
            printf(", ");
            /* the measure's fields, without the wrapping key */
            if (m[i].accuracy < 0) printf("\"accuracy\": null, ");
            else printf("\"accuracy\": %.6f, ", m[i].accuracy);
            printf("\"params\": %lld, \"nonzero_params\": %lld, \"macs\": %lld, "
                   "\"file_bytes\": %lld, \"latency_ms_b1\": %.4f, \"latency_p90_ms_b1\": %.4f, "
                   "\"images_per_second_b64\": %.1f, \"memory_bytes_b1\": %zu, \"memory_bytes_b64\": %zu, "
                   "\"precision\": ",
                   (long long)m[i].params, (long long)m[i].nonzero, (long long)m[i].macs,
                   m[i].file_bytes, m[i].lat_b1, m[i].lat_b1_p90, m[i].ips_b64, m[i].mem_b1, m[i].mem_b64);
            if (m[i].precision[0]) cli_json_str(stdout, m[i].precision);
            else printf("null");
            cli_speed_json(&m[i]);
            printf("}");
        }
        printf("]}\n");
    } else {
        int w = 5;
        for (int i = 0; i < npos; i++) {
            int l = (int)strlen(pos[i]);
            if (l > w) w = l;
        }
        if (w > 48) w = 48;
        printf("%-*s %8s %9s %10s %10s %11s %11s %9s %9s %12s %10s  %-24s %s\n", w, "model", "accuracy", "precision",
               "params", "nonzero", "MACs/image", "file bytes", "b1 ms", "b1 p90", "b64 images/s", "b64 MB", "b1 speed",
               "b64 speed");
        for (int i = 0; i < npos; i++) {
            const char *name = pos[i];
            int l = (int)strlen(name);
            if (l > w) name += l - w;
            char acc[16] = "-";
            if (m[i].accuracy >= 0) snprintf(acc, sizeof acc, "%.4f", m[i].accuracy);
            char c1[64] = "-", c64[64] = "-";
            if (m[i].has_speedup) {
                cli_speed_cell(&m[i].sp_b1, c1, sizeof c1);
                cli_speed_cell(&m[i].sp_b64, c64, sizeof c64);
            }
            printf("%-*s %8s %9s %10lld %10lld %11lld %11lld %9.4f %9.4f %12.0f %10.1f  %-24s %s\n", w, name, acc,
                   m[i].precision[0] ? m[i].precision : "-", (long long)m[i].params, (long long)m[i].nonzero,
                   (long long)m[i].macs, m[i].file_bytes, m[i].lat_b1, m[i].lat_b1_p90, m[i].ips_b64,
                   (double)m[i].mem_b64 / 1e6, c1, c64);
        }
        if (npos > 1)
            printf("(speed: each model against the first, median of 5 alternated rounds, their range in parentheses)\n");
    }
    rc = CLI_OK;
    goto done;
fail:
    rc = cli_fail("compare", st);
done:
    for (int i = 0; i < npos; i++) nns_graph_free(gs[i]);
    return rc;
}
