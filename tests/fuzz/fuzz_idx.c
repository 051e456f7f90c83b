/* fuzz_idx.c — libFuzzer target: an IDX image file and an IDX label file,
 * each raw or gzip (fuzz_common.h: how one input becomes the two files),
 * through nns_dataset_load_idx. */
#define _GNU_SOURCE
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_once();
    fuzz_pair fp;
    if (fuzz_pair_open(&fp, data, size) != 0) return 0;
    nns_dataset d;
    memset(&d, 0, sizeof d);
    nns_status st = nns_dataset_load_idx(fp.path[0], fp.path[1], fp.limit, &d);
    if (st == NNS_OK) {
        fuzz_check_dataset(&d, fp.limit);
        nns_dataset_free(&d);
    } else {
        fuzz_check_error(st, "nns_dataset_load_idx");
    }
    fuzz_pair_close(&fp);
    return 0;
}
