/* reader.c — raw-or-gzip file reading for the data loaders. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/file.h"

#include "data/data_internal.h"

nns_status nns_data_reader_open(nns_data_reader *r, const char *path) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->size = -1;
    if (!path || !*path)
        return nns_error(NNS_STATUS_INVALID_ARG, "data file path is empty");
    int fd = -1;
    uint64_t size = 0;
    nns_status s = nns_file_open_regular(path, 0, NULL, &fd, &size);
    if (s != NNS_OK) return s;
    unsigned char magic[2] = {0, 0};
    ssize_t m = read(fd, magic, 2);
    if (m < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        int e = errno;
        close(fd);
        return nns_error(NNS_STATUS_IO, "cannot read file '%s': %s", path, strerror(e));
    }
    if (m == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        r->gz = gzdopen(fd, "rb"); /* owns fd from here */
        if (!r->gz) {
            close(fd);
            return nns_error(NNS_STATUS_NOMEM, "gzip file '%s': out of memory", path);
        }
        gzbuffer(r->gz, 1 << 17);
        return NNS_OK;
    }
    r->f = fdopen(fd, "rb");
    if (!r->f) {
        int e = errno;
        close(fd);
        return nns_error(NNS_STATUS_IO, "cannot open file '%s': %s", path, strerror(e));
    }
    r->size = (int64_t)size;
    return NNS_OK;
}

int nns_data_reader_is_gz(const nns_data_reader *r) { return r->gz != NULL; }

/* After a short or failed gzread: turn the zlib state into a status. */
static nns_status gz_check(nns_data_reader *r) {
    int err = Z_OK;
    const char *msg = gzerror(r->gz, &err);
    if (err == Z_OK || err == Z_STREAM_END) return NNS_OK;
    if (err == Z_BUF_ERROR)
        return nns_error(NNS_STATUS_FORMAT,
                         "file '%s': gzip stream is truncated "
                         "(unexpected end of file after %lld bytes of data)",
                         r->path, (long long)r->pos);
    if (err == Z_ERRNO)
        return nns_error(NNS_STATUS_IO, "cannot read file '%s': %s", r->path,
                         strerror(errno));
    if (err == Z_MEM_ERROR)
        return nns_error(NNS_STATUS_NOMEM,
                         "file '%s': out of memory while decompressing",
                         r->path);
    return nns_error(NNS_STATUS_FORMAT, "file '%s': corrupt gzip data: %s",
                     r->path, msg ? msg : "unknown error");
}

nns_status nns_data_reader_read(nns_data_reader *r, void *buf, size_t n,
                                size_t *got) {
    *got = 0;
    unsigned char *p = buf;
    if (r->f) {
        size_t k = fread(p, 1, n, r->f);
        r->pos += (int64_t)k;
        *got = k;
        if (k < n && ferror(r->f))
            return nns_error(NNS_STATUS_IO, "cannot read file '%s': %s",
                             r->path, strerror(errno));
        return NNS_OK;
    }
    if (!r->gz)
        return nns_error(NNS_STATUS_INTERNAL, "reader for '%s' is not open",
                         r->path ? r->path : "?");
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int k = gzread(r->gz, p, chunk);
        if (k < 0) {
            nns_status s = gz_check(r);
            if (s == NNS_OK)
                s = nns_error(NNS_STATUS_FORMAT, "file '%s': gzip read failed",
                              r->path);
            return s;
        }
        r->pos += k;
        *got += (size_t)k;
        p += k;
        n -= (size_t)k;
        if ((unsigned)k < chunk) {
            nns_status s = gz_check(r);
            if (s != NNS_OK) return s;
            break;
        }
    }
    return NNS_OK;
}

nns_status nns_data_reader_skip(nns_data_reader *r, int64_t n, int64_t *got) {
    *got = 0;
    if (n <= 0) return NNS_OK;
    if (r->f) {
        int64_t left = r->size - r->pos;
        int64_t k = n < left ? n : (left > 0 ? left : 0);
        if (k > 0 && fseeko(r->f, (off_t)k, SEEK_CUR) != 0)
            return nns_error(NNS_STATUS_IO, "cannot seek in file '%s': %s",
                             r->path, strerror(errno));
        r->pos += k;
        *got = k;
        return NNS_OK;
    }
    unsigned char scratch[1 << 14];
    while (n > 0) {
        size_t want = n > (int64_t)sizeof scratch ? sizeof scratch : (size_t)n;
        size_t k = 0;
        nns_status s = nns_data_reader_read(r, scratch, want, &k);
        if (s != NNS_OK) return s;
        *got += (int64_t)k;
        n -= (int64_t)k;
        if (k < want) break;
    }
    return NNS_OK;
}

nns_status nns_data_reader_at_end(nns_data_reader *r, int *at_end) {
    if (r->f) {
        *at_end = r->pos >= r->size;
        return NNS_OK;
    }
    unsigned char b;
    size_t k = 0;
    nns_status s = nns_data_reader_read(r, &b, 1, &k);
    *at_end = (k == 0);
    return s;
}

/* gzip: back to content position pos (gzrewind, then read up to pos). */
static nns_status gz_seek_back(nns_data_reader *r, int64_t pos) {
    if (gzrewind(r->gz) != 0)
        return nns_error(NNS_STATUS_IO, "cannot rewind gzip file '%s'", r->path);
    r->pos = 0;
    int64_t got = 0;
    nns_status s = nns_data_reader_skip(r, pos, &got);
    if (s == NNS_OK && got < pos)
        s = nns_error(NNS_STATUS_IO, "file '%s': changed while being read", r->path);
    return s;
}

nns_status nns_data_reader_content_left(nns_data_reader *r, int64_t *left) {
    *left = 0;
    if (r->f) {
        *left = r->size > r->pos ? r->size - r->pos : 0;
        return NNS_OK;
    }
    if (!r->gz)
        return nns_error(NNS_STATUS_INTERNAL, "reader for '%s' is not open", r->path ? r->path : "?");
    const int64_t pos = r->pos;
    nns_status s = nns_data_reader_skip(r, INT64_MAX, left);
    if (s != NNS_OK) return s;
    return gz_seek_back(r, pos);
}

nns_status nns_data_reader_expect(nns_data_reader *r, int64_t bytes, const char *kind, const char *header) {
    r->data_start = r->pos;
    r->data_bytes = bytes;
    r->kind = kind;
    r->header = header;
    int64_t have = 0;
    nns_status s = nns_data_reader_content_left(r, &have);
    if (s != NNS_OK) return s;
    if (have < bytes)
        return nns_error(NNS_STATUS_FORMAT,
                         "%s file '%s': truncated: the %s promises %lld bytes of data, the file holds %lld", kind,
                         r->path, header, (long long)bytes, (long long)have);
    if (have > bytes)
        return nns_error(NNS_STATUS_FORMAT, "%s file '%s': %lld extra bytes after the %lld bytes of data the %s promises",
                         kind, r->path, (long long)(have - bytes), (long long)bytes, header);
    return NNS_OK;
}

nns_status nns_data_reader_truncated(const nns_data_reader *r) {
    return nns_error(NNS_STATUS_FORMAT, "%s file '%s': truncated: the %s promises %lld bytes of data, the file holds %lld",
                     r->kind, r->path, r->header, (long long)r->data_bytes, (long long)(r->pos - r->data_start));
}

nns_status nns_data_reader_check_end(nns_data_reader *r) {
    int at_end = 0;
    nns_status s = nns_data_reader_at_end(r, &at_end);
    if (s != NNS_OK || at_end) return s;
    int64_t extra = 0;
    s = nns_data_reader_skip(r, INT64_MAX, &extra);
    if (s != NNS_OK) return s;
    if (nns_data_reader_is_gz(r)) extra += 1; /* read by at_end */
    return nns_error(NNS_STATUS_FORMAT, "%s file '%s': %lld extra bytes after the %lld bytes of data the %s promises",
                     r->kind, r->path, (long long)extra, (long long)r->data_bytes, r->header);
}

void nns_data_reader_close(nns_data_reader *r) {
    if (r->f) fclose(r->f);
    if (r->gz) gzclose(r->gz);
    r->f = NULL;
    r->gz = NULL;
}
