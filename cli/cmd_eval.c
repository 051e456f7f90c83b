/* cmd_eval.c — nnslim eval. */
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim eval MODEL.onnx [DATA] [--batch-size N] [--threads N] [--json]\n"
    "\n"
    "Evaluate a classifier on the test set: accuracy, mean cross-entropy loss and the\n"
    "confusion matrix (rows: true class, columns: predicted).\n"
    "\n"
    "  --batch-size N   default 256\n"
    "  --threads N      default: all cores\n"
    "  --json           print one JSON object: accuracy, loss, images, confusion\n"
    "\n" CLI_DATA_HELP;

int cmd_eval(int argc, char **argv) {
    int batch = 256, threads = 0, json = 0;
    cli_data_opts d;
    cli_data_init(&d);
    cli_opt opts[] = {{"batch-size", OPT_INT, &batch, 0}, {"threads", OPT_INT, &threads, 0},
                      {"json", OPT_FLAG, &json, 0}, CLI_DATA_OPTS(d), {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("eval", argc, argv, opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1) {
        fprintf(stderr, "nnslim eval: give one MODEL.onnx (try 'nnslim eval --help')\n");
        return CLI_USAGE;
    }
    if (batch < 1 || threads < 0) {
        fprintf(stderr, "nnslim eval: --batch-size must be >= 1 and --threads >= 0\n");
        return CLI_USAGE;
    }
    nns_set_threads(threads);
    nns_graph *g = NULL;
    nns_dataset test = {0};
    nns_eval_result er = {0};
    float mean, std;
    int rc = CLI_FAIL;
    nns_status st = nns_graph_load_onnx(pos[0], &g);
    if (!st) st = cli_data_load(&d, NULL, &test);
    if (!st) st = cli_data_normalize(&d, opts, g, NULL, &test, &mean, &std);
    if (!st) st = nns_check_data(g, &test); /* before any progress line: an error is one line */
    if (!st) fprintf(stderr, "evaluating %s on %lld images\n", pos[0], (long long)test.n);
    if (!st) st = nns_evaluate(g, &test, batch, &er);
    if (st) {
        rc = cli_fail("eval", st);
        goto done;
    }
    int k = er.classes;
    if (json) {
        printf("{\"model\": ");
        cli_json_str(stdout, pos[0]);
        printf(", \"accuracy\": %.6f, \"loss\": %.6f, \"images\": %lld, \"classes\": %d, \"confusion\": [",
               er.accuracy, er.loss, (long long)er.images, k);
        for (int i = 0; i < k; i++) {
            printf(i ? ", [" : "[");
            for (int j = 0; j < k; j++) printf(j ? ", %lld" : "%lld", (long long)er.confusion[i * k + j]);
            printf("]");
        }
        printf("]}\n");
    } else {
        printf("model      %s\n", pos[0]);
        printf("images     %lld\n", (long long)er.images);
        printf("accuracy   %.4f\n", er.accuracy);
        printf("loss       %.4f\n", er.loss);
        printf("confusion matrix (rows: true, columns: predicted)\n      ");
        for (int j = 0; j < k; j++) printf("%6d", j);
        printf("\n");
        for (int i = 0; i < k; i++) {
            printf("%6d", i);
            for (int j = 0; j < k; j++) printf("%6lld", (long long)er.confusion[i * k + j]);
            printf("\n");
        }
    }
    rc = CLI_OK;
done:
    nns_eval_result_free(&er);
    nns_dataset_free(&test);
    nns_graph_free(g);
    return rc;
}
