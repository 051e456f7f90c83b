/*
 * data_internal.h — helpers shared by the files of src/data/.
 *
 * nns_data_reader reads a file that is either raw or gzip-compressed (detected
 * by the gzip magic 1f 8b at the start of the file, not by the name). A gzip
 * stream that ends early or fails its CRC is an error, never a short read.
 */
#ifndef NNS_DATA_INTERNAL_H
#define NNS_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

#include "nnslim/data.h"
#include "core/rng.h"

typedef struct nns_data_reader {
    const char *path;  /* borrowed, for messages        */
    FILE *f;           /* raw file, or NULL             */
    gzFile gz;         /* gzip file, or NULL            */
    int64_t size;      /* raw file size (-1 for gzip)   */
    int64_t pos;       /* bytes of content consumed     */
    /* set by nns_data_reader_expect, for the messages of _truncated and
     * _check_end: where the data starts, how long it is, and what the file
     * is ("image") and what made the promise ("header", ".npy header") */
    int64_t data_start, data_bytes;
    const char *kind, *header;
} nns_data_reader;

/* Open path for reading; errors: NNS_STATUS_IO naming the path. */
nns_status nns_data_reader_open(nns_data_reader *r, const char *path);
/* Read up to n bytes into buf; *got < n only at the end of the content.
 * A truncated or corrupt gzip stream is NNS_STATUS_FORMAT. */
nns_status nns_data_reader_read(nns_data_reader *r, void *buf, size_t n,
                                size_t *got);
/* Skip up to n bytes; *got as for read. */
nns_status nns_data_reader_skip(nns_data_reader *r, int64_t n, int64_t *got);
/* *at_end = 1 when no content byte follows the current position. */
nns_status nns_data_reader_at_end(nns_data_reader *r, int *at_end);
/* How many content bytes follow the current position. A gzip file is
 * decompressed to the end to count them, then rewound to where it was:
 * what a header claims is checked against what the file holds before
 * anything that size is allocated, compressed or not. */
nns_status nns_data_reader_content_left(nns_data_reader *r, int64_t *left);
/* Exactly `bytes` content bytes must follow: else a FORMAT error "KIND file
 * 'PATH': truncated: the HEADER promises ..." or "... extra bytes ...". */
nns_status nns_data_reader_expect(nns_data_reader *r, int64_t bytes, const char *kind, const char *header);
/* The error for data that ended before the promise of _expect. */
nns_status nns_data_reader_truncated(const nns_data_reader *r);
/* After the promised data: NNS_OK at the end of the file, else the error
 * counting the extra bytes. */
nns_status nns_data_reader_check_end(nns_data_reader *r);
/* 1 if the file is gzip-compressed. */
int nns_data_reader_is_gz(const nns_data_reader *r);
void nns_data_reader_close(nns_data_reader *r);

/* Allocate x [n, c, h, w] and y [n] of d (other fields set, n_classes 0).
 * On failure d is zeroed and NNS_STATUS_NOMEM / INVALID_ARG is returned;
 * `what` names the data for the message (a file name). */
nns_status nns_data_alloc(nns_dataset *d, int64_t n, int c, int h, int w,
                          const char *what);

/* u8 -> float in [0, 1]: exactly x / 255.0f. */
static inline void nns_data_u8_to_f32(const uint8_t *src, float *dst,
                                      size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i] / 255.0f;
}

/* An RNG state for (seed, stream, index): independent streams for the split,
 * the per-epoch permutation and per-sample augmentation. */
static inline uint64_t nns_data_rng_state(uint64_t seed, uint64_t stream,
                                          uint64_t index) {
    uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull);
    uint64_t a = nns_rng_next(&s);
    s = a ^ (index * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
    return nns_rng_next(&s);
}

#endif
