/* file.c — open a regular file from a stranger (file.h). */
#define _GNU_SOURCE
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    return "not a regular file";
}

nns_status nns_file_open_regular(const char *path, uint64_t max_bytes, const char *limit_name, int *fd,
                                 uint64_t *size) {
    *fd = -1;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) return nns_error(NNS_STATUS_IO, "cannot open file '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return nns_error(NNS_STATUS_IO, "cannot stat file '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return nns_error(NNS_STATUS_IO, "file '%s' is %s, not a regular file", path, kind_of(st.st_mode));
    }
    if (max_bytes && (uint64_t)st.st_size > max_bytes) {
        close(f);
        return nns_error(NNS_STATUS_LIMIT, "file '%s' has %llu bytes, more than %s (%llu)", path,
                         (unsigned long long)st.st_size, limit_name ? limit_name : "the limit",
                         (unsigned long long)max_bytes);
    }
    int fl = fcntl(f, F_GETFL);
    if (fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(f);
        return nns_error(NNS_STATUS_IO, "file '%s': %s", path, strerror(e));
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return NNS_OK;
}
