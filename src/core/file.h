/*
 * file.h — opening the files that strangers give us (models, data sets).
 *
 * Only a regular file is read: a directory, a FIFO, a socket or a device
 * (/dev/zero, /dev/stdin on a terminal) is refused before any byte is read,
 * so nnslim never blocks on a pipe or reads an endless stream.
 */
#ifndef NNS_FILE_H
#define NNS_FILE_H

#include <stdint.h>

#include "nnslim/status.h"

/* Open path read-only (without blocking, close-on-exec), check that it is a
 * regular file of at most max_bytes (0: no limit; limit_name names the
 * setting in the message) and return its descriptor and size. Errors name
 * the file: NNS_STATUS_IO (cannot open, not a regular file) or
 * NNS_STATUS_LIMIT (too large). */
nns_status nns_file_open_regular(const char *path, uint64_t max_bytes, const char *limit_name, int *fd,
                                 uint64_t *size);

#endif
