/* cmd_run.c — nnslim run: inference on a .npy input. */
#include <stdlib.h>

#include "cli.h"

static const char *help =
    "usage: nnslim run MODEL.onnx --input X.npy -o Y.npy [--normalize] [--batch-size N]\n"
    "                  [--threads N]\n"
    "\n"
    "Run a model in inference mode on a float32 .npy array whose first dimension is\n"
    "the batch, and save the first output as a float32 .npy array. The input is fed\n"
    "as it is unless --normalize is given.\n"
    "\n"
    "  --input X.npy    the input array [N, ...]\n"
    "  --normalize      first normalise it as the model records (nnslim.mean and\n"
    "                   nnslim.std, one value or one per channel, which nnslim's\n"
    "                   commands write): x = (x - mean[c]) / std[c]; images in [0, 1]\n"
    "  -o, --output F   where to write the output array\n"
    "  --batch-size N   samples per run (default 64)\n"
    "  --threads N      default: all cores\n";

int cmd_run(int argc, char **argv) {
    const char *input = NULL, *output = NULL;
    int batch = 64, threads = 0, normalize = 0;
    cli_opt opts[] = {{"input", OPT_STR, &input, 0}, {"output", OPT_STR, &output, 0},
                      {"normalize", OPT_FLAG, &normalize, 0},
                      {"batch-size", OPT_INT, &batch, 0}, {"threads", OPT_INT, &threads, 0},
                      {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("run", argc, argv, opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1 || !input || !output) {
        fprintf(stderr, "nnslim run: give MODEL.onnx, --input X.npy and -o Y.npy\n");
        return CLI_USAGE;
    }
    if (batch < 1 || threads < 0) {
        fprintf(stderr, "nnslim run: --batch-size must be >= 1 and --threads >= 0\n");
        return CLI_USAGE;
    }
    nns_set_threads(threads);
    nns_graph *g = NULL;
    nns_session *s = NULL;
    float *x = NULL, *y = NULL;
    int ndim;
    int64_t dims[8];
    int rc = CLI_FAIL;
    nns_status st = nns_graph_load_onnx(pos[0], &g);
    if (!st) st = nns_npy_load_f32(input, &ndim, dims, &x);
    if (!st && ndim < 1) st = nns_error(NNS_STATUS_SHAPE, "input '%s' has rank 0; the first dimension is the batch", input);
    if (!st) st = nns_session_create(g, batch, &s);
    if (!st && normalize) st = nns_graph_normalize_input(g, x, dims[0]);
    if (!st) {
        int64_t per = 1;
        for (int i = 1; i < ndim; i++) per *= dims[i];
        if (per != nns_session_input_size(s))
            st = nns_error(NNS_STATUS_SHAPE, "input '%s' has %lld values per sample; the model expects %lld",
                           input, (long long)per, (long long)nns_session_input_size(s));
    }
    if (!st) {
        y = malloc((size_t)(dims[0] * nns_session_output_size(s) + 1) * sizeof(float));
        if (!y) st = nns_error(NNS_STATUS_NOMEM, "out of memory for the output");
    }
    if (!st) st = nns_session_run(s, x, dims[0], y);
    if (!st) {
        nns_shape os = nns_session_output_shape(s, dims[0]);
        st = nns_npy_save_f32(output, os.ndim, os.dims, y);
    }
    if (st) rc = cli_fail("run", st);
    else rc = CLI_OK;
    free(x);
    free(y);
    nns_session_free(s);
    nns_graph_free(g);
    return rc;
}
