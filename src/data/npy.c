/* npy.c — NumPy .npy files: loading a data set, saving f32/s32 arrays.
 *
 * Format (versions 1.0, 2.0 and 3.0): "\x93NUMPY", major, minor, header length
 * (u16 LE for 1.x, u32 LE for 2.x/3.x), then a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (N, ...), } padded with
 * spaces and a newline, then the data. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data_internal.h"

#define NPY_MAX_NDIM 32
#define NPY_MAX_HEADER (1 << 20)

typedef enum npy_type {
    NPY_TYPE_NONE = 0,
    NPY_TYPE_F32,
    NPY_TYPE_U8,
    NPY_TYPE_S32,
    NPY_TYPE_S64
} npy_type;

typedef struct npy_file {
    nns_data_reader r;
    const char *kind;      /* "image" / "label" */
    char descr[32];
    npy_type type;
    int itemsize;
    int fortran;
    int ndim;
    int64_t shape[NPY_MAX_NDIM];
    int64_t count;         /* product of shape */
    int64_t header_bytes;  /* bytes before the data */
} npy_file;

/* ---- header dict parser ---------------------------------------------- */

typedef struct npy_parser {
    const char *p, *end;
} npy_parser;

static void skip_ws(npy_parser *ps) {
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int parse_str(npy_parser *ps, char *dst, size_t cap) {
    skip_ws(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"')) return 0;
    char q = *ps->p++;
    size_t k = 0;
    while (ps->p < ps->end && *ps->p != q) {
        if (k + 1 >= cap) return 0;
        dst[k++] = *ps->p++;
    }
    if (ps->p >= ps->end) return 0;
    ps->p++;
    dst[k] = 0;
    return 1;
}

static int parse_word(npy_parser *ps, const char *w) {
    skip_ws(ps);
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0) return 0;
    ps->p += n;
    return 1;
}

static int parse_char(npy_parser *ps, char c) {
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return 1;
    }
    return 0;
}

/* "(a, b, c)" / "(a,)" / "()"; old files may write "60000L". */
static int parse_shape(npy_parser *ps, int64_t *shape, int *ndim) {
    *ndim = 0;
    if (!parse_char(ps, '(')) return 0;
    for (;;) {
        if (parse_char(ps, ')')) return 1;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return 0;
        int64_t v = 0;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            if (v > (INT64_MAX - 9) / 10) return 0;
            v = v * 10 + (*ps->p++ - '0');
        }
        if (ps->p < ps->end && *ps->p == 'L') ps->p++;
        if (*ndim >= NPY_MAX_NDIM) return 0;
        shape[(*ndim)++] = v;
        if (parse_char(ps, ',')) continue;
        if (parse_char(ps, ')')) return 1;
        return 0;
    }
}

static nns_status parse_dict(npy_file *f, const char *text, size_t len) {
    const char *path = f->r.path;
    npy_parser ps = {text, text + len};
    int have_descr = 0, have_fo = 0, have_shape = 0;
    if (!parse_char(&ps, '{')) goto bad;
    for (;;) {
        if (parse_char(&ps, '}')) break;
        char key[32];
        if (!parse_str(&ps, key, sizeof key) || !parse_char(&ps, ':')) goto bad;
        if (strcmp(key, "descr") == 0) {
            if (!parse_str(&ps, f->descr, sizeof f->descr)) {
                return nns_error(NNS_STATUS_UNSUPPORTED,
                                 "%s file '%s': structured .npy dtypes are not "
                                 "supported",
                                 f->kind, path);
            }
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (parse_word(&ps, "True")) f->fortran = 1;
            else if (parse_word(&ps, "False")) f->fortran = 0;
            else goto bad;
            have_fo = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (!parse_shape(&ps, f->shape, &f->ndim)) goto bad;
            have_shape = 1;
        } else {
            return nns_error(NNS_STATUS_FORMAT,
                             "%s file '%s': unexpected key '%s' in the .npy "
                             "header",
                             f->kind, path, key);
        }
        if (parse_char(&ps, ',')) continue;
        if (parse_char(&ps, '}')) break;
        goto bad;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) goto bad;
    if (!have_descr || !have_fo || !have_shape)
        return nns_error(NNS_STATUS_FORMAT,
                         "%s file '%s': the .npy header lacks '%s'", f->kind,
                         path,
                         !have_descr ? "descr"
                         : !have_fo  ? "fortran_order"
                                     : "shape");
    return NNS_OK;
bad:;
    /* Quote the header on one line: up to its first newline, at most 120. */
    size_t show = 0;
    while (show < len && show < 120 && text[show] != '\n' && text[show] != '\r')
        show++;
    while (show > 0 && text[show - 1] == ' ') show--;
    return nns_error(NNS_STATUS_FORMAT,
                     "%s file '%s': malformed .npy header near offset %ld: "
                     "%.*s",
                     f->kind, path, (long)(ps.p - text), (int)show, text);
}

static npy_type descr_type(const char *d, int *itemsize) {
    *itemsize = 0;
    if (!strcmp(d, "<f4")) return *itemsize = 4, NPY_TYPE_F32;
    if (!strcmp(d, "|u1") || !strcmp(d, "<u1") || !strcmp(d, ">u1") ||
        !strcmp(d, "=u1"))
        return *itemsize = 1, NPY_TYPE_U8;
    if (!strcmp(d, "<i4")) return *itemsize = 4, NPY_TYPE_S32;
    if (!strcmp(d, "<i8")) return *itemsize = 8, NPY_TYPE_S64;
    return NPY_TYPE_NONE;
}

/* Open, parse and validate the header and the data's length. */
static nns_status npy_open(npy_file *f, const char *path, const char *kind,
                           unsigned allowed_mask, const char *allowed) {
    memset(f, 0, sizeof *f);
    f->kind = kind;
    nns_status s = nns_data_reader_open(&f->r, path);
    if (s != NNS_OK) return s;
    char *text = NULL;
    unsigned char pre[12];
    size_t got = 0;
    s = nns_data_reader_read(&f->r, pre, 8, &got);
    if (s != NNS_OK) goto fail;
    if (got < 8 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        s = nns_error(NNS_STATUS_FORMAT,
                      "%s file '%s': not a .npy file (bad magic, expected "
                      "\\x93NUMPY)",
                      kind, path);
        goto fail;
    }
    int major = pre[6], minor = pre[7];
    uint32_t hlen;
    if (major == 1) {
        s = nns_data_reader_read(&f->r, pre + 8, 2, &got);
        if (s != NNS_OK) goto fail;
        if (got < 2) goto trunc_header;
        hlen = (uint32_t)pre[8] | ((uint32_t)pre[9] << 8);
        f->header_bytes = 10 + (int64_t)hlen;
    } else if (major == 2 || major == 3) {
        s = nns_data_reader_read(&f->r, pre + 8, 4, &got);
        if (s != NNS_OK) goto fail;
        if (got < 4) goto trunc_header;
        hlen = (uint32_t)pre[8] | ((uint32_t)pre[9] << 8) |
               ((uint32_t)pre[10] << 16) | ((uint32_t)pre[11] << 24);
        f->header_bytes = 12 + (int64_t)hlen;
    } else {
        s = nns_error(NNS_STATUS_UNSUPPORTED,
                      "%s file '%s': .npy format version %d.%d is not "
                      "supported (1.0, 2.0 and 3.0 are)",
                      kind, path, major, minor);
        goto fail;
    }
    if (hlen > NPY_MAX_HEADER) {
        s = nns_error(NNS_STATUS_FORMAT,
                      "%s file '%s': .npy header length %u is implausible",
                      kind, path, hlen);
        goto fail;
    }
    text = malloc(hlen + 1);
    if (!text) {
        s = nns_error(NNS_STATUS_NOMEM, "%s file '%s': out of memory", kind,
                      path);
        goto fail;
    }
    s = nns_data_reader_read(&f->r, text, hlen, &got);
    if (s != NNS_OK) goto fail;
    if (got < hlen) goto trunc_header;
    text[hlen] = 0;
    s = parse_dict(f, text, hlen);
    free(text);
    text = NULL;
    if (s != NNS_OK) goto fail;

    f->type = descr_type(f->descr, &f->itemsize);
    if (f->type == NPY_TYPE_NONE || !(allowed_mask & (1u << f->type))) {
        s = nns_error(NNS_STATUS_UNSUPPORTED,
                      "%s file '%s': .npy dtype '%s' is not supported for "
                      "%ss (accepted: %s)",
                      kind, path, f->descr, kind, allowed);
        goto fail;
    }
    if (f->fortran) {
        s = nns_error(NNS_STATUS_UNSUPPORTED,
                      "%s file '%s': fortran_order True is not supported "
                      "(save a C-contiguous array)",
                      kind, path);
        goto fail;
    }
    int64_t count = 1;
    for (int i = 0; i < f->ndim; i++) {
        if (__builtin_mul_overflow(count, f->shape[i], &count)) {
            s = nns_error(NNS_STATUS_FORMAT,
                          "%s file '%s': .npy shape is too large", kind, path);
            goto fail;
        }
    }
    int64_t bytes;
    if (__builtin_mul_overflow(count, (int64_t)f->itemsize, &bytes)) {
        s = nns_error(NNS_STATUS_FORMAT, "%s file '%s': .npy shape is too large",
                      kind, path);
        goto fail;
    }
    f->count = count;
    s = nns_data_reader_expect(&f->r, bytes, kind, ".npy header");
    if (s != NNS_OK) goto fail;
    return NNS_OK;
trunc_header:
    s = nns_error(NNS_STATUS_FORMAT, "%s file '%s': truncated .npy header",
                  kind, path);
fail:
    free(text);
    nns_data_reader_close(&f->r);
    return s;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

#define NPY_CHUNK ((size_t)1 << 20)

/* The image array's shape as [n, c, h, w] (rank 2, 3 or 4), checked
 * against the label array's. */
static nns_status npy_dataset_shape(const npy_file *fx, const npy_file *fy, int64_t d[4]) {
    const char *x_path = fx->r.path, *y_path = fy->r.path;
    d[0] = fx->ndim >= 2 ? fx->shape[0] : 0;
    d[1] = fx->ndim == 4 ? fx->shape[1] : 1;
    d[2] = fx->ndim >= 3 ? fx->shape[fx->ndim - 2] : 1;
    d[3] = fx->ndim >= 2 ? fx->shape[fx->ndim - 1] : 1;
    if (fx->ndim < 2 || fx->ndim > 4)
        return nns_error(NNS_STATUS_SHAPE,
                         "image file '%s': .npy rank %d, expected 2 [N, F], 3 [N, H, W] or 4 [N, C, H, W]", x_path,
                         fx->ndim);
    for (int i = 0; i < 4; i++)
        if (d[i] <= 0 || (i > 0 && d[i] > INT_MAX))
            return nns_error(NNS_STATUS_SHAPE, "image file '%s': invalid .npy shape [%lld, %lld, %lld, %lld]",
                             x_path, (long long)d[0], (long long)d[1], (long long)d[2], (long long)d[3]);
    if (fy->ndim != 1)
        return nns_error(NNS_STATUS_SHAPE, "label file '%s': .npy rank %d, expected 1 (shape (N,))", y_path,
                         fy->ndim);
    if (fy->shape[0] != d[0])
        return nns_error(NNS_STATUS_SHAPE, "image file '%s' holds %lld samples but label file '%s' holds %lld labels",
                         x_path, (long long)d[0], y_path, (long long)fy->shape[0]);
    return NNS_OK;
}

/* Read all n labels (each validated), keep the first `keep` in out->y and
 * set out->n_classes. buf holds NPY_CHUNK bytes. */
static nns_status npy_read_labels(npy_file *fy, int64_t n, int64_t keep, unsigned char *buf, nns_dataset *out) {
    int64_t maxl = -1;
    for (int64_t i = 0; i < n;) {
        int64_t k = (int64_t)(NPY_CHUNK / (size_t)fy->itemsize);
        if (k > n - i) k = n - i;
        size_t want = (size_t)k * (size_t)fy->itemsize, got = 0;
        nns_status s = nns_data_reader_read(&fy->r, buf, want, &got);
        if (s == NNS_OK && got < want) s = nns_data_reader_truncated(&fy->r);
        if (s != NNS_OK) return s;
        for (int64_t j = 0; j < k; j++) {
            int64_t v;
            const unsigned char *p = buf + (size_t)j * (size_t)fy->itemsize;
            if (fy->type == NPY_TYPE_U8) v = p[0];
            else if (fy->type == NPY_TYPE_S32) v = (int32_t)le32(p);
            else v = (int64_t)((uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32));
            if (v < 0 || v >= INT32_MAX)
                return nns_error(NNS_STATUS_FORMAT,
                                 "label file '%s': label %lld at index %lld is out of range (labels must be in "
                                 "[0, 2^31-1))",
                                 fy->r.path, (long long)v, (long long)(i + j));
            if (v > maxl) maxl = v;
            if (i + j < keep) out->y[i + j] = (int32_t)v;
        }
        i += k;
    }
    out->n_classes = (int)(maxl + 1);
    return nns_data_reader_check_end(&fy->r);
}

/* Read the first `kept` of `total` image values into out->x as float, skip
 * the rest, and check that nothing follows. */
static nns_status npy_read_images(npy_file *fx, int64_t total, int64_t kept, unsigned char *buf, nns_dataset *out) {
    nns_status s;
    for (int64_t i = 0; i < kept;) {
        int64_t k = (int64_t)(NPY_CHUNK / (size_t)fx->itemsize);
        if (k > kept - i) k = kept - i;
        size_t want = (size_t)k * (size_t)fx->itemsize, got = 0;
        s = nns_data_reader_read(&fx->r, buf, want, &got);
        if (s == NNS_OK && got < want) s = nns_data_reader_truncated(&fx->r);
        if (s != NNS_OK) return s;
        float *dst = out->x + i;
        if (fx->type == NPY_TYPE_U8) {
            nns_data_u8_to_f32(buf, dst, (size_t)k);
        } else {
            for (int64_t j = 0; j < k; j++) {
                uint32_t u = le32(buf + 4 * (size_t)j);
                memcpy(dst + j, &u, 4);
            }
        }
        i += k;
    }
    if (kept < total) {
        int64_t rest = (total - kept) * fx->itemsize, skipped = 0;
        s = nns_data_reader_skip(&fx->r, rest, &skipped);
        if (s == NNS_OK && skipped < rest) s = nns_data_reader_truncated(&fx->r);
        if (s != NNS_OK) return s;
    }
    return nns_data_reader_check_end(&fx->r);
}

nns_status nns_dataset_load_npy(const char *x_path, const char *y_path, int64_t limit, nns_dataset *out) {
    if (!out) return nns_error(NNS_STATUS_INVALID_ARG, "load_npy: out is NULL");
    memset(out, 0, sizeof *out);
    if (!x_path || !y_path) return nns_error(NNS_STATUS_INVALID_ARG, "load_npy: a file path is NULL");
    npy_file fx, fy;
    nns_status s = npy_open(&fx, x_path, "image", (1u << NPY_TYPE_F32) | (1u << NPY_TYPE_U8), "'<f4', '|u1'");
    if (s != NNS_OK) return s;
    s = npy_open(&fy, y_path, "label", (1u << NPY_TYPE_U8) | (1u << NPY_TYPE_S32) | (1u << NPY_TYPE_S64),
                 "'|u1', '<i4', '<i8'");
    if (s != NNS_OK) {
        nns_data_reader_close(&fx.r);
        return s;
    }
    unsigned char *buf = NULL;
    int64_t d[4];
    s = npy_dataset_shape(&fx, &fy, d);
    const int64_t n = d[0], per = d[1] * d[2] * d[3]; /* per fits: the array's bytes did */
    const int64_t keep = (limit > 0 && limit < n) ? limit : n;
    if (s == NNS_OK) s = nns_data_alloc(out, keep, (int)d[1], (int)d[2], (int)d[3], x_path);
    if (s == NNS_OK && !(buf = malloc(NPY_CHUNK)))
        s = nns_error(NNS_STATUS_NOMEM, "load_npy: out of memory for a buffer");
    if (s == NNS_OK) s = npy_read_labels(&fy, n, keep, buf, out);
    if (s == NNS_OK) s = npy_read_images(&fx, n * per, keep * per, buf, out);
    free(buf);
    nns_data_reader_close(&fx.r);
    nns_data_reader_close(&fy.r);
    if (s != NNS_OK) nns_dataset_free(out);
    return s;
}

/* ---- saving ------------------------------------------------------------ */

static nns_status npy_save(const char *path, const char *descr, int ndim,
                           const int64_t *dims, const void *data) {
    if (!path || !*path)
        return nns_error(NNS_STATUS_INVALID_ARG, "npy_save: empty path");
    if (ndim < 0 || ndim > NPY_MAX_NDIM || (ndim > 0 && !dims))
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "npy_save '%s': rank %d out of range [0, %d]", path,
                         ndim, NPY_MAX_NDIM);
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || __builtin_mul_overflow(count, dims[i], &count) ||
            count > INT64_MAX / 4)
            return nns_error(NNS_STATUS_INVALID_ARG,
                             "npy_save '%s': invalid dimension %d = %lld", path,
                             i, (long long)dims[i]);
    }
    if (count > 0 && !data)
        return nns_error(NNS_STATUS_INVALID_ARG, "npy_save '%s': data is NULL",
                         path);

    char hdr[64 + NPY_MAX_NDIM * 24 + 64];
    int len = snprintf(hdr, sizeof hdr,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       descr);
    for (int i = 0; i < ndim; i++)
        len += snprintf(hdr + len, sizeof hdr - (size_t)len, "%s%lld",
                        i ? ", " : "", (long long)dims[i]);
    len += snprintf(hdr + len, sizeof hdr - (size_t)len, "%s), }",
                    ndim == 1 ? "," : "");
    /* Pad with spaces so that magic + header is a multiple of 64 and the
     * header ends in '\n'. */
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    memset(hdr + len, ' ', (size_t)pad);
    len += pad;
    hdr[len++] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(len & 0xff),
                             (unsigned char)(len >> 8)};

    char tmp[4096];
    int k = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (k < 0 || (size_t)k >= sizeof tmp)
        return nns_error(NNS_STATUS_INVALID_ARG, "npy_save: path '%s' is too long",
                         path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return nns_error(NNS_STATUS_IO, "cannot create file '%s': %s", tmp,
                         strerror(errno));
    int ok = fwrite(pre, 1, sizeof pre, fp) == sizeof pre &&
             fwrite(hdr, 1, (size_t)len, fp) == (size_t)len;
    /* Data: 4-byte little-endian items, encoded in chunks. */
    const unsigned char *src = data;
    unsigned char chunk[1 << 14];
    for (int64_t i = 0; ok && i < count;) {
        int64_t m = (int64_t)(sizeof chunk / 4);
        if (m > count - i) m = count - i;
        for (int64_t j = 0; j < m; j++) {
            uint32_t u;
            memcpy(&u, src + 4 * (size_t)(i + j), 4);
            chunk[4 * j] = (unsigned char)u;
            chunk[4 * j + 1] = (unsigned char)(u >> 8);
            chunk[4 * j + 2] = (unsigned char)(u >> 16);
            chunk[4 * j + 3] = (unsigned char)(u >> 24);
        }
        ok = fwrite(chunk, 4, (size_t)m, fp) == (size_t)m;
        i += m;
    }
    int e = errno;
    if (ok && fflush(fp) != 0) ok = 0, e = errno;
    if (ok && fsync(fileno(fp)) != 0) ok = 0, e = errno;
    if (fclose(fp) != 0 && ok) ok = 0, e = errno;
    if (!ok) {
        unlink(tmp);
        return nns_error(NNS_STATUS_IO, "cannot write file '%s': %s", tmp,
                         strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return nns_error(NNS_STATUS_IO, "cannot rename '%s' to '%s': %s", tmp,
                         path, strerror(e));
    }
    return NNS_OK;
}

nns_status nns_npy_save_f32(const char *path, int ndim, const int64_t *dims,
                            const float *data) {
    return npy_save(path, "<f4", ndim, dims, data);
}

nns_status nns_npy_save_s32(const char *path, int ndim, const int64_t *dims,
                            const int32_t *data) {
    return npy_save(path, "<i4", ndim, dims, data);
}

nns_status nns_npy_load_f32(const char *path, int *ndim, int64_t *dims, float **data) {
    *data = NULL;
    *ndim = 0;
    npy_file f;
    nns_status s = npy_open(&f, path, "array", 1u << NPY_TYPE_F32, "<f4");
    if (s != NNS_OK) return s;
    if (f.ndim > 8) {
        nns_data_reader_close(&f.r);
        return nns_error(NNS_STATUS_UNSUPPORTED, "array file '%s': rank %d is above 8", path, f.ndim);
    }
    float *buf = malloc((size_t)(f.count ? f.count : 1) * sizeof(float));
    if (!buf) {
        nns_data_reader_close(&f.r);
        return nns_error(NNS_STATUS_NOMEM, "array file '%s': out of memory", path);
    }
    size_t got = 0;
    s = nns_data_reader_read(&f.r, buf, (size_t)f.count * sizeof(float), &got);
    if (s == NNS_OK && got < (size_t)f.count * sizeof(float)) s = nns_data_reader_truncated(&f.r);
    if (s == NNS_OK) s = nns_data_reader_check_end(&f.r);
    nns_data_reader_close(&f.r);
    if (s != NNS_OK) {
        free(buf);
        return s;
    }
    *ndim = f.ndim;
    for (int i = 0; i < f.ndim; i++) dims[i] = f.shape[i];
    *data = buf;
    return NNS_OK;
}
