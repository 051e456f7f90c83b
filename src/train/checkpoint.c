/* checkpoint.c — the optimizer's state of a training run on disk
 * (nns_train_state_save / nns_train_state_load, nnslim/train.h), beside
 * the model saved as ONNX. The file: the 8 bytes "NNSCKPT1", then
 * little-endian epochs_done, epochs, batch_size, optimizer (int32 each),
 * seed (uint64), the model's parameter count and the state's float count
 * (int64 each), then the state's floats. It is written to a temporary name
 * and renamed; reading checks the header against the run and the size
 * against the file before anything is allocated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/checked.h"
#include "core/file.h"
#include "nnslim/train.h"

#define CKPT_MAGIC "NNSCKPT1"
#define CKPT_HEADER 48

typedef struct ckpt_header {
    int32_t done, epochs, batch, optimizer;
    uint64_t seed;
    int64_t n_params, len;
} ckpt_header;

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void header_of(const nns_graph *g, const nns_train_config *cfg, int done, ckpt_header *h) {
    h->done = done;
    h->epochs = cfg->epochs;
    h->batch = cfg->batch_size;
    h->optimizer = (int32_t)cfg->optimizer;
    h->seed = cfg->seed;
    h->n_params = nns_graph_n_params(g);
    h->len = nns_train_state_len(g, cfg);
}

nns_status nns_train_state_save(const char *path, const nns_graph *g, const nns_train_config *cfg, int epochs_done,
                                const float *state) {
    ckpt_header h;
    header_of(g, cfg, epochs_done, &h);
    unsigned char b[CKPT_HEADER];
    memcpy(b, CKPT_MAGIC, 8);
    put32(b + 8, (uint32_t)h.done);
    put32(b + 12, (uint32_t)h.epochs);
    put32(b + 16, (uint32_t)h.batch);
    put32(b + 20, (uint32_t)h.optimizer);
    put64(b + 24, h.seed);
    put64(b + 32, (uint64_t)h.n_params);
    put64(b + 40, (uint64_t)h.len);
    char tmp[4096];
    int k = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (k < 0 || (size_t)k >= sizeof tmp) return nns_error(NNS_STATUS_INVALID_ARG, "path '%s' is too long", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) return nns_error(NNS_STATUS_IO, "cannot create file '%s': %s", tmp, strerror(errno));
    int ok = fwrite(b, 1, sizeof b, fp) == sizeof b && fwrite(state, sizeof(float), (size_t)h.len, fp) == (size_t)h.len;
    ok = fclose(fp) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return nns_error(NNS_STATUS_IO, "cannot write file '%s': %s", path, strerror(e));
    }
    return NNS_OK;
}

/* The header of the file on fd (size bytes), checked against the run. */
static nns_status read_header(const char *path, int fd, uint64_t size, const ckpt_header *want, ckpt_header *h) {
    unsigned char b[CKPT_HEADER];
    if (size < CKPT_HEADER || read(fd, b, sizeof b) != (ssize_t)sizeof b || memcmp(b, CKPT_MAGIC, 8) != 0)
        return nns_error(NNS_STATUS_FORMAT, "file '%s' is not an nnslim training state (NNSCKPT1)", path);
    h->done = (int32_t)get32(b + 8);
    h->epochs = (int32_t)get32(b + 12);
    h->batch = (int32_t)get32(b + 16);
    h->optimizer = (int32_t)get32(b + 20);
    h->seed = get64(b + 24);
    h->n_params = (int64_t)get64(b + 32);
    h->len = (int64_t)get64(b + 40);
    int64_t bytes;
    if (h->len < 0 || nns_ck_mul_i64(h->len, 4, &bytes) || nns_ck_add_i64(bytes, CKPT_HEADER, &bytes) ||
        (uint64_t)bytes != size)
        return nns_error(NNS_STATUS_FORMAT, "file '%s': its header claims %lld floats of state, the file holds %llu bytes",
                         path, (long long)h->len, (unsigned long long)size);
    if (h->n_params != want->n_params || h->len != want->len)
        return nns_error(NNS_STATUS_INVALID_ARG, "file '%s' holds the state of a model of %lld parameters (%lld floats); "
                         "this one has %lld (%lld)", path, (long long)h->n_params, (long long)h->len,
                         (long long)want->n_params, (long long)want->len);
    if (h->epochs != want->epochs || h->batch != want->batch || h->optimizer != want->optimizer || h->seed != want->seed)
        return nns_error(NNS_STATUS_INVALID_ARG, "file '%s' was written by a run of %d epochs, batch %d, optimizer %d, "
                         "seed %llu; this run has %d, %d, %d, %llu: give the same options to resume", path, h->epochs,
                         h->batch, h->optimizer, (unsigned long long)h->seed, want->epochs, want->batch,
                         want->optimizer, (unsigned long long)want->seed);
    if (h->done < 0 || h->done > h->epochs)
        return nns_error(NNS_STATUS_FORMAT, "file '%s': %d epochs done of %d", path, h->done, h->epochs);
    return NNS_OK;
}

nns_status nns_train_state_load(const char *path, const nns_graph *g, const nns_train_config *cfg, int *epochs_done,
                                float *state) {
    int fd;
    uint64_t size;
    nns_status st = nns_file_open_regular(path, 0, NULL, &fd, &size);
    if (st) return st;
    ckpt_header want, h = {0};
    header_of(g, cfg, 0, &want);
    if (!(st = read_header(path, fd, size, &want, &h))) {
        const size_t n = (size_t)h.len * sizeof(float);
        size_t got = 0;
        while (got < n) {
            const ssize_t r = read(fd, (char *)state + got, n - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
        if (got != n) st = nns_error(NNS_STATUS_IO, "file '%s': read error", path);
    }
    close(fd);
    if (!st) *epochs_done = h.done;
    return st;
}
