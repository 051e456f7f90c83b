/*
 * fuzz_common.h — helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each target is a plain LLVMFuzzerTestOneInput. Built with clang and
 * -fsanitize=fuzzer it is a fuzzer (scripts/fuzz.sh); built with replay.c it
 * is an ordinary program that runs the corpus and the regression inputs
 * (CTest fuzz_replay_<target>).
 *
 * The data loaders take paths, so the targets hand them the bytes through an
 * anonymous memory file (memfd_create) opened as /proc/self/fd/N: nothing is
 * written to disk and nothing is left behind.
 *
 * A target aborts (a "crash" for libFuzzer) when the library breaks one of its
 * promises without crashing by itself: a failure whose message is empty or
 * more than one line, or a success whose result is inconsistent.
 */
#ifndef NNS_FUZZ_COMMON_H
#define NNS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "nnslim/nnslim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* nnslim's limits, set low so that libFuzzer's -malloc_limit_mb and
 * -rss_limit_mb catch a loader that allocates what a header claims instead
 * of refusing it. */
#define FUZZ_MAX_TENSOR_ELEMS (1ll << 22)
#define FUZZ_MAX_MEMORY (256ull << 20)
#define FUZZ_MAX_MODEL_BYTES (16ull << 20)

static inline void fuzz_init_once(void) {
    static int done;
    if (done) return;
    done = 1;
    nns_limit_set_tensor_elems(FUZZ_MAX_TENSOR_ELEMS);
    nns_limit_set_memory(FUZZ_MAX_MEMORY);
    nns_limit_set_model_bytes(FUZZ_MAX_MODEL_BYTES);
}

/* A failed call must leave one non-empty line naming what is wrong. */
static inline void fuzz_check_error(nns_status st, const char *call) {
    const char *msg = nns_last_error();
    if (!msg || !*msg || strchr(msg, '\n')) {
        fprintf(stderr, "fuzz: %s failed (%s) with a bad message: '%s'\n", call,
                nns_status_str(st), msg ? msg : "(null)");
        abort();
    }
}

/* A broken promise that is not a crash: stop the fuzzer on it. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) { \
    fprintf(stderr, "fuzz: %s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
    abort(); } } while (0)

/* An in-memory file holding len bytes of buf; *path receives its name.
 * Returns the descriptor (close it when done) or -1. */
static inline int fuzz_memfile(const void *buf, size_t len, char *path, size_t cap) {
    int fd = memfd_create("nns_fuzz", 0);
    if (fd < 0) return -1;
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/* gzip-compress buf into a malloc'd buffer (*out, *out_len); 0 on success.
 * Lets the fuzzer mutate the content of a gzip file rather than its
 * compressed bytes, which would rarely survive the CRC. */
static inline int fuzz_gzip(const void *buf, size_t len, uint8_t **out, size_t *out_len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    uLong cap = deflateBound(&z, (uLong)len) + 32;
    uint8_t *dst = malloc(cap);
    if (!dst) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)buf;
    z.avail_in = (uInt)len;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(dst);
        return -1;
    }
    *out = dst;
    return 0;
}

/* The two files of a data-set target, cut from one input:
 *   byte 0      flags: bit 0 gzip the first file, bit 1 gzip the second,
 *               bits 2-4 the sample limit passed to the loader (0: all)
 *   bytes 1-2   length of the first file (little endian, capped at what is left)
 *   then        the first file, then the second. */
typedef struct fuzz_pair {
    char path[2][64];
    int fd[2];
    int64_t limit;
} fuzz_pair;

static inline void fuzz_pair_close(fuzz_pair *fp) {
    for (int i = 0; i < 2; i++)
        if (fp->fd[i] >= 0) close(fp->fd[i]);
}

/* 0 on success; -1 when the input is too short or a memfd fails. */
static inline int fuzz_pair_open(fuzz_pair *fp, const uint8_t *data, size_t size) {
    fp->fd[0] = fp->fd[1] = -1;
    if (size < 3) return -1;
    unsigned flags = data[0];
    size_t n0 = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3;
    size -= 3;
    if (n0 > size) n0 = size;
    const uint8_t *part[2] = {data, data + n0};
    size_t len[2] = {n0, size - n0};
    fp->limit = (flags >> 2) & 7;
    for (int i = 0; i < 2; i++) {
        uint8_t *gz = NULL;
        size_t gz_len = 0;
        if ((flags >> i & 1) && fuzz_gzip(part[i], len[i], &gz, &gz_len) != 0) {
            fuzz_pair_close(fp);
            return -1;
        }
        fp->fd[i] = gz ? fuzz_memfile(gz, gz_len, fp->path[i], sizeof fp->path[i])
                       : fuzz_memfile(part[i], len[i], fp->path[i], sizeof fp->path[i]);
        free(gz);
        if (fp->fd[i] < 0) {
            fuzz_pair_close(fp);
            return -1;
        }
    }
    return 0;
}

/* What a successful data-set load must hold. */
static inline void fuzz_check_dataset(const nns_dataset *d, int64_t limit) {
    FUZZ_ASSERT(d->n >= 0 && d->c > 0 && d->h > 0 && d->w > 0);
    FUZZ_ASSERT(limit <= 0 || d->n <= limit);
    FUZZ_ASSERT(d->n == 0 || (d->x && d->y));
    FUZZ_ASSERT(d->n_classes >= 0);
    int64_t per = (int64_t)d->c * d->h * d->w;
    FUZZ_ASSERT(per > 0 && per <= FUZZ_MAX_TENSOR_ELEMS);
    double sum = 0;
    for (int64_t i = 0; i < d->n; i++) {
        FUZZ_ASSERT(d->y[i] >= 0 && d->y[i] < d->n_classes);
        sum += d->x[i * per] + d->x[(i + 1) * per - 1]; /* first and last pixel readable */
    }
    (void)sum;
}

#endif
