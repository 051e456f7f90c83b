/* fuzz_npy.c — libFuzzer target: a .npy image file and a .npy label file,
 * each raw or gzip (fuzz_common.h: how one input becomes the two files),
 * through nns_dataset_load_npy; the image file also through
 * nns_npy_load_f32. */
#define _GNU_SOURCE
#include "fuzz_common.h"

static void load_pair(const fuzz_pair *fp) {
    nns_dataset d;
    memset(&d, 0, sizeof d);
    nns_status st = nns_dataset_load_npy(fp->path[0], fp->path[1], fp->limit, &d);
    if (st == NNS_OK) {
        fuzz_check_dataset(&d, fp->limit);
        nns_dataset_free(&d);
    } else {
        fuzz_check_error(st, "nns_dataset_load_npy");
    }
}

static void load_array(const char *path) {
    int ndim = 0;
    int64_t dims[8];
    float *x = NULL;
    nns_status st = nns_npy_load_f32(path, &ndim, dims, &x);
    if (st != NNS_OK) {
        fuzz_check_error(st, "nns_npy_load_f32");
        FUZZ_ASSERT(x == NULL);
        return;
    }
    FUZZ_ASSERT(ndim >= 0 && ndim <= 8 && x != NULL);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        FUZZ_ASSERT(dims[i] >= 0 && (dims[i] == 0 || n <= FUZZ_MAX_TENSOR_ELEMS / dims[i]));
        n *= dims[i];
    }
    if (n > 0) x[0] = x[n - 1]; /* the whole array is there */
    free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_once();
    fuzz_pair fp;
    if (fuzz_pair_open(&fp, data, size) != 0) return 0;
    load_pair(&fp);
    load_array(fp.path[0]);
    fuzz_pair_close(&fp);
    return 0;
}
