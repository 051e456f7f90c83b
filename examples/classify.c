/*
 * classify.c — nnslim's C API in one program: load an ONNX classifier, read
 * images from a float32 .npy array [N, ...] (pixels in [0, 1], as nnslim
 * reads image files), normalise them as the model records
 * (nns_graph_normalize_input: the nnslim.mean / nnslim.std metadata that
 * nnslim train, prune, distill and quantize write, one value or one per
 * channel; left as they are when absent), run them in an inference
 * session, and print each image's top-K classes with their softmax
 * probabilities.
 *
 *   classify MODEL.onnx IMAGES.npy [K]        (K default 5)
 *
 * Build against an installed nnslim:
 *   cc classify.c $(pkg-config --cflags --libs nnslim) -o classify
 * or with the static library:
 *   cc classify.c $(pkg-config --cflags --libs --static nnslim) -static-libgcc -o classify
 *
 * Exit status: 0 success, 1 bad input (the message names the file), 2 bad
 * usage.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <nnslim/nnslim.h>

/* Print the k most probable classes of one row of logits. */
static void print_top(int64_t image, const float *logits, int64_t classes, int k) {
    float mx = logits[0], sum = 0;
    for (int64_t c = 1; c < classes; c++) mx = logits[c] > mx ? logits[c] : mx;
    for (int64_t c = 0; c < classes; c++) sum += expf(logits[c] - mx);
    printf("image %lld:", (long long)image);
    char *taken = calloc((size_t)classes, 1);
    for (int r = 0; r < k && r < classes && taken; r++) {
        int64_t best = -1;
        for (int64_t c = 0; c < classes; c++)
            if (!taken[c] && (best < 0 || logits[c] > logits[best])) best = c;
        taken[best] = 1;
        printf("  %lld (%.3f)", (long long)best, expf(logits[best] - mx) / sum);
    }
    printf("\n");
    free(taken);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: classify MODEL.onnx IMAGES.npy [K]\n");
        return 2;
    }
    const int k = argc == 4 ? atoi(argv[3]) : 5;
    if (k < 1) {
        fprintf(stderr, "classify: K must be >= 1, not '%s'\n", argv[3]);
        return 2;
    }
    nns_graph *g = NULL;
    nns_session *s = NULL;
    float *x = NULL, *y = NULL;
    int ndim = 0, rc = 1;
    int64_t dims[8];
    nns_status st = nns_graph_load_onnx(argv[1], &g);
    if (!st) st = nns_npy_load_f32(argv[2], &ndim, dims, &x);
    if (!st) st = nns_session_create(g, 64, &s);
    if (st) goto done;
    const int64_t n = dims[0], per = nns_session_input_size(s), classes = nns_session_output_size(s);
    int64_t got = 1;
    for (int d = 1; d < ndim; d++) got *= dims[d];
    if (ndim < 2 || got != per) {
        fprintf(stderr, "classify: '%s' holds images of %lld values; the model takes %lld\n", argv[2], (long long)got,
                (long long)per);
        goto done;
    }
    if ((st = nns_graph_normalize_input(g, x, n))) goto done; /* as the model records */
    y = malloc((size_t)(n * classes) * sizeof *y);
    if (!y) {
        fprintf(stderr, "classify: out of memory\n");
        goto done;
    }
    if ((st = nns_session_run(s, x, n, y))) goto done;
    for (int64_t i = 0; i < n; i++) print_top(i, y + i * classes, classes, k);
    rc = 0;
done:
    if (st) fprintf(stderr, "classify: %s\n", nns_last_error());
    free(x);
    free(y);
    nns_session_free(s);
    nns_graph_free(g);
    return rc;
}
