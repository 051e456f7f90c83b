/* status.c — status names and the thread-local error message. */
#include "nnslim/status.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char nns_err_buf[1024];

const char *nns_status_str(nns_status s) {
    switch (s) {
    case NNS_STATUS_OK: return "ok";
    case NNS_STATUS_INVALID_ARG: return "invalid argument";
    case NNS_STATUS_IO: return "i/o error";
    case NNS_STATUS_FORMAT: return "bad format";
    case NNS_STATUS_UNSUPPORTED: return "unsupported";
    case NNS_STATUS_SHAPE: return "shape mismatch";
    case NNS_STATUS_NOMEM: return "out of memory";
    case NNS_STATUS_INTERNAL: return "internal error";
    case NNS_STATUS_LIMIT: return "over a limit";
    case NNS_STATUS_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

const char *nns_last_error(void) { return nns_err_buf; }

void nns_error_clear(void) { nns_err_buf[0] = 0; }

nns_status nns_error(nns_status s, const char *fmt, ...) {
    char tmp[sizeof nns_err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    /* one line: replace newlines */
    for (char *p = tmp; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    snprintf(nns_err_buf, sizeof nns_err_buf, "%s", tmp);
    return s;
}
