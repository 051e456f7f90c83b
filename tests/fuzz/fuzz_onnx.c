/* fuzz_onnx.c — libFuzzer target: an ONNX model from memory
 * (nns_graph_load_onnx_mem), then a session for batches of up to 2 and one
 * run of 2 samples of zeros (when a sample and its output are at most 2^16
 * elements). */
#define _GNU_SOURCE
#include "fuzz_common.h"

/* Samples larger than this are planned but not run: a legitimate window of
 * 2 x 66 over a 32 x 32768 image takes 0.2 s in a release build and over 10 s
 * under the fuzzer's instrumentation, a timeout that finds nothing. */
#define FUZZ_RUN_MAX_ELEMS (1 << 16)

/* Run 2 samples of zeros; the sizes the session reports must be sane. */
static void run_zeros(nns_session *s) {
    int64_t in = nns_session_input_size(s), out = nns_session_output_size(s);
    FUZZ_ASSERT(in > 0 && in <= FUZZ_MAX_TENSOR_ELEMS);
    FUZZ_ASSERT(out > 0 && out <= FUZZ_MAX_TENSOR_ELEMS);
    if (in > FUZZ_RUN_MAX_ELEMS || out > FUZZ_RUN_MAX_ELEMS) return;
    float *x = calloc((size_t)in * 2, sizeof *x);
    float *y = malloc((size_t)out * 2 * sizeof *y);
    if (x && y) {
        nns_status st = nns_session_run(s, x, 2, y);
        if (st != NNS_OK) fuzz_check_error(st, "nns_session_run");
    }
    free(x);
    free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_once();
    nns_graph *g = NULL;
    nns_status st = nns_graph_load_onnx_mem(data, size, "fuzz.onnx", &g);
    if (st != NNS_OK) {
        fuzz_check_error(st, "nns_graph_load_onnx_mem");
        FUZZ_ASSERT(g == NULL);
        return 0;
    }
    nns_session *s = NULL;
    st = nns_session_create(g, 2, &s);
    if (st == NNS_OK) {
        run_zeros(s);
        nns_session_free(s);
    } else {
        fuzz_check_error(st, "nns_session_create");
    }
    nns_graph_free(g);
    return 0;
}
