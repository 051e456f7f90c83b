/* idx.c — IDX image/label files (raw or gzip), and the MNIST directory layout.
 *
 * IDX: 2 zero bytes, a dtype byte (only 0x08 = u8 is accepted), a rank byte,
 * then `rank` big-endian u32 dimensions, then the data in C order. Images are
 * rank 3 [N, H, W], labels rank 1 [N]. The data must be exactly as long as the
 * dimensions say. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_internal.h"

typedef struct idx_file {
    nns_data_reader r;
    const char *kind;     /* "image" / "label", for messages */
    int rank;
    int64_t dims[3];
    int64_t data_bytes;   /* product of dims                */
} idx_file;

static const char *idx_dtype_name(int code) {
    switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return NULL;
    }
}

/* Open and validate the header and the data's length. On failure
 * the reader is closed. */
static nns_status idx_open(idx_file *f, const char *path, int want_rank,
                           const char *kind) {
    memset(f, 0, sizeof *f);
    f->kind = kind;
    nns_status s = nns_data_reader_open(&f->r, path);
    if (s != NNS_OK) return s;
    unsigned char hdr[4 + 4 * 3];
    size_t got = 0;
    s = nns_data_reader_read(&f->r, hdr, 4, &got);
    if (s != NNS_OK) goto fail;
    if (got < 4) {
        s = nns_error(NNS_STATUS_FORMAT,
                      "%s file '%s': truncated: %zu bytes, too short for an "
                      "IDX header",
                      kind, path, got);
        goto fail;
    }
    if (hdr[0] != 0 || hdr[1] != 0 || !idx_dtype_name(hdr[2])) {
        s = nns_error(NNS_STATUS_FORMAT,
                      "%s file '%s': not an IDX file (magic bytes %02x %02x "
                      "%02x %02x, expected 00 00 08 %02x)",
                      kind, path, hdr[0], hdr[1], hdr[2], hdr[3], want_rank);
        goto fail;
    }
    if (hdr[2] != 0x08) {
        s = nns_error(NNS_STATUS_UNSUPPORTED,
                      "%s file '%s': IDX dtype 0x%02x (%s) is not supported; "
                      "only 0x08 (unsigned byte) is",
                      kind, path, hdr[2], idx_dtype_name(hdr[2]));
        goto fail;
    }
    if (hdr[3] != want_rank) {
        s = nns_error(NNS_STATUS_FORMAT,
                      "%s file '%s': IDX rank %d, expected %d (%s)", kind, path,
                      hdr[3], want_rank,
                      want_rank == 3 ? "images [N, H, W]" : "labels [N]");
        goto fail;
    }
    f->rank = want_rank;
    s = nns_data_reader_read(&f->r, hdr + 4, 4 * (size_t)want_rank, &got);
    if (s != NNS_OK) goto fail;
    if (got < 4 * (size_t)want_rank) {
        s = nns_error(NNS_STATUS_FORMAT,
                      "%s file '%s': truncated: the IDX header ends inside the "
                      "dimensions",
                      kind, path);
        goto fail;
    }
    int64_t prod;
    for (int i = 0; i < want_rank; i++) {
        const unsigned char *p = hdr + 4 + 4 * i;
        f->dims[i] = ((int64_t)p[0] << 24) | ((int64_t)p[1] << 16) |
                     ((int64_t)p[2] << 8) | (int64_t)p[3];
    }
    if (f->dims[0] == 0) {
        s = nns_error(NNS_STATUS_FORMAT, "%s file '%s': holds no samples", kind,
                      path);
        goto fail;
    }
    if (want_rank == 3) {
        if (f->dims[1] == 0 || f->dims[2] == 0 || f->dims[1] > 65535 ||
            f->dims[2] > 65535) {
            s = nns_error(NNS_STATUS_FORMAT,
                          "%s file '%s': invalid image size %lldx%lld", kind,
                          path, (long long)f->dims[1], (long long)f->dims[2]);
            goto fail;
        }
        if (__builtin_mul_overflow(f->dims[0], f->dims[1] * f->dims[2],
                                   &prod)) {
            s = nns_error(NNS_STATUS_FORMAT,
                          "%s file '%s': %lld images of %lldx%lld is too large",
                          kind, path, (long long)f->dims[0],
                          (long long)f->dims[1], (long long)f->dims[2]);
            goto fail;
        }
    } else {
        prod = f->dims[0];
    }
    f->data_bytes = prod;
    s = nns_data_reader_expect(&f->r, prod, kind, "header");
    if (s != NNS_OK) goto fail;
    return NNS_OK;
fail:
    nns_data_reader_close(&f->r);
    return s;
}

nns_status nns_dataset_load_idx(const char *images_path,
                                const char *labels_path, int64_t limit,
                                nns_dataset *out) {
    if (!out) return nns_error(NNS_STATUS_INVALID_ARG, "load_idx: out is NULL");
    memset(out, 0, sizeof *out);
    if (!images_path || !labels_path)
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "load_idx: a file path is NULL");
    idx_file fi, fl;
    nns_status s = idx_open(&fi, images_path, 3, "image");
    if (s != NNS_OK) return s;
    s = idx_open(&fl, labels_path, 1, "label");
    if (s != NNS_OK) {
        nns_data_reader_close(&fi.r);
        return s;
    }
    unsigned char *buf = NULL, *lab = NULL;
    int64_t n = fi.dims[0];
    if (fl.dims[0] != n) {
        s = nns_error(NNS_STATUS_SHAPE,
                      "image file '%s' holds %lld images but label file '%s' "
                      "holds %lld labels",
                      images_path, (long long)n, labels_path,
                      (long long)fl.dims[0]);
        goto done;
    }
    int64_t keep = (limit > 0 && limit < n) ? limit : n;
    int h = (int)fi.dims[1], w = (int)fi.dims[2];
    size_t per = (size_t)h * (size_t)w;

    /* Labels first (small): all of them, for n_classes and validation. */
    lab = malloc((size_t)n);
    if (!lab) {
        s = nns_error(NNS_STATUS_NOMEM,
                      "label file '%s': out of memory for %lld labels",
                      labels_path, (long long)n);
        goto done;
    }
    size_t got = 0;
    s = nns_data_reader_read(&fl.r, lab, (size_t)n, &got);
    if (s == NNS_OK && (int64_t)got < n) s = nns_data_reader_truncated(&fl.r);
    if (s == NNS_OK) s = nns_data_reader_check_end(&fl.r);
    if (s != NNS_OK) goto done;

    s = nns_data_alloc(out, keep, 1, h, w, images_path);
    if (s != NNS_OK) goto done;
    int maxl = 0;
    for (int64_t i = 0; i < n; i++)
        if (lab[i] > maxl) maxl = lab[i];
    for (int64_t i = 0; i < keep; i++) out->y[i] = lab[i];
    out->n_classes = maxl + 1;

    /* Images: stream whole samples through a staging buffer. */
    size_t chunk_samples = per >= ((size_t)1 << 20) ? 1 : ((size_t)1 << 20) / per;
    buf = malloc(chunk_samples * per);
    if (!buf) {
        s = nns_error(NNS_STATUS_NOMEM,
                      "image file '%s': out of memory for a read buffer",
                      images_path);
        goto done;
    }
    for (int64_t i = 0; i < keep;) {
        int64_t k = keep - i;
        if (k > (int64_t)chunk_samples) k = (int64_t)chunk_samples;
        size_t want = (size_t)k * per;
        s = nns_data_reader_read(&fi.r, buf, want, &got);
        if (s == NNS_OK && got < want) s = nns_data_reader_truncated(&fi.r);
        if (s != NNS_OK) goto done;
        nns_data_u8_to_f32(buf, out->x + (size_t)i * per, want);
        i += k;
    }
    if (keep < n) {
        int64_t rest = (n - keep) * (int64_t)per, skipped = 0;
        s = nns_data_reader_skip(&fi.r, rest, &skipped);
        if (s == NNS_OK && skipped < rest) s = nns_data_reader_truncated(&fi.r);
        if (s != NNS_OK) goto done;
    }
    s = nns_data_reader_check_end(&fi.r);

done:
    free(buf);
    free(lab);
    nns_data_reader_close(&fi.r);
    nns_data_reader_close(&fl.r);
    if (s != NNS_OK) nns_dataset_free(out);
    return s;
}

/* Pick <dir>/<name>.gz, else <dir>/<name>. */
static nns_status find_file(const char *dir, const char *name, char *path,
                            size_t cap) {
    struct stat st;
    int k = snprintf(path, cap, "%s/%s.gz", dir, name);
    if (k < 0 || (size_t)k >= cap)
        return nns_error(NNS_STATUS_INVALID_ARG,
                         "data directory path '%s' is too long", dir);
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) return NNS_OK;
    snprintf(path, cap, "%s/%s", dir, name);
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) return NNS_OK;
    return nns_error(NNS_STATUS_IO,
                     "data directory '%s': neither '%s/%s.gz' nor '%s' exists",
                     dir, dir, name, path);
}

nns_status nns_dataset_load_mnist_dir(const char *dir, int train,
                                      int64_t limit, nns_dataset *out) {
    if (!out)
        return nns_error(NNS_STATUS_INVALID_ARG, "load_mnist_dir: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir || !*dir) dir = NNS_DATASET_DEFAULT_DIR;
    char img[4096], lab[4096];
    const char *set = train ? "train" : "t10k";
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", set);
    nns_status s = find_file(dir, name, img, sizeof img);
    if (s != NNS_OK) return s;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", set);
    s = find_file(dir, name, lab, sizeof lab);
    if (s != NNS_OK) return s;
    return nns_dataset_load_idx(img, lab, limit, out);
}
