/*
 * nnslim/status.h — status codes and error messages.
 *
 * Every public call returns an nns_status. NNS_OK is zero. On failure the
 * library records a one-line, human-readable message (naming the file, node,
 * op or value at fault) in thread-local storage; nns_last_error() returns it.
 * The library never prints and never exits: only the CLI does.
 */
#ifndef NNSLIM_STATUS_H
#define NNSLIM_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nns_status {
    NNS_STATUS_OK = 0,
    NNS_STATUS_INVALID_ARG = 1,  /* a caller-supplied value is out of range   */
    NNS_STATUS_IO = 2,           /* a file could not be opened, read, written */
    NNS_STATUS_FORMAT = 3,       /* a file's content is malformed or truncated */
    NNS_STATUS_UNSUPPORTED = 4,  /* an op, attribute or dtype nnslim lacks     */
    NNS_STATUS_SHAPE = 5,        /* shapes do not agree                        */
    NNS_STATUS_NOMEM = 6,        /* an allocation failed                       */
    NNS_STATUS_INTERNAL = 7,     /* a bug in nnslim                            */
    NNS_STATUS_LIMIT = 8,        /* a size is over a configured limit (a tensor's
                                    elements, a plan's memory, a file's bytes:
                                    nnslim/tensor.h, docs/security.md)         */
    NNS_STATUS_INTERRUPTED = 9   /* stopped on the caller's request (training's
                                    nns_train_config.stop)                     */
    /* enums only grow at the end */
} nns_status;

#define NNS_OK NNS_STATUS_OK

/* Name of a status code ("ok", "invalid argument", ...). */
const char *nns_status_str(nns_status s);

/* The message recorded by the most recent failing call on this thread
 * ("" if none). Valid until the next failing call on the same thread. */
const char *nns_last_error(void);

/* Record a message (printf-style) and return s. Used inside the library; public
 * so that applications building on nnslim can report errors the same way. */
nns_status nns_error(nns_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clear the recorded message. */
void nns_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif
