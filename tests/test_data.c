/* test_data.c — IDX/.npy loading (good and broken files), statistics,
 * normalisation, splitting, batching and augmentation. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nnslim/data.h"
#include "nnslim/graph.h"
#include "testutil.h"

static char g_dir[64];
static char g_path[4][512]; /* rotating path buffers */
static int g_path_i;

static const char *P(const char *name) {
    char *p = g_path[g_path_i++ & 3];
    snprintf(p, sizeof g_path[0], "%s/%s", g_dir, name);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (len && fwrite(data, 1, len, f) != len) { perror(path); exit(2); }
    fclose(f);
}

static void write_gz(const char *path, const void *data, size_t len) {
    gzFile g = gzopen(path, "wb");
    if (!g) { perror(path); exit(2); }
    if (len && gzwrite(g, data, (unsigned)len) != (int)len) exit(2);
    gzclose(g);
}

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) exit(2);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* IDX images [n, h, w], pixel (i, k) = (7 * i + k) % 256. */
static unsigned char *make_images(int n, int h, int w, size_t *len) {
    *len = 16 + (size_t)n * h * w;
    unsigned char *b = malloc(*len);
    b[0] = 0; b[1] = 0; b[2] = 0x08; b[3] = 3;
    put_be32(b + 4, (uint32_t)n);
    put_be32(b + 8, (uint32_t)h);
    put_be32(b + 12, (uint32_t)w);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < h * w; k++)
            b[16 + (size_t)i * h * w + k] = (unsigned char)((7 * i + k) % 256);
    return b;
}

/* IDX labels [n], label i = i % 3. */
static unsigned char *make_labels(int n, size_t *len) {
    *len = 8 + (size_t)n;
    unsigned char *b = malloc(*len);
    b[0] = 0; b[1] = 0; b[2] = 0x08; b[3] = 1;
    put_be32(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) b[8 + i] = (unsigned char)(i % 3);
    return b;
}

static int contains(const char *hay, const char *needle) {
    return strstr(hay, needle) != NULL;
}

static int is_zeroed(const nns_dataset *d) {
    return d->n == 0 && d->x == NULL && d->y == NULL && d->n_classes == 0;
}

/* Expect failure with status st and a message containing a and b. */
#define EXPECT_FAIL(expr, st, a, b) do { \
    nns_dataset d_; memset(&d_, 0x5a, sizeof d_); d_.x = NULL; d_.y = NULL; \
    nns_status s_ = (expr); \
    CHECK_MSG(s_ == (st), "%s -> %s (%s)", #expr, nns_status_str(s_), nns_last_error()); \
    CHECK_MSG(contains(nns_last_error(), a), "message '%s' lacks '%s'", nns_last_error(), a); \
    CHECK_MSG(contains(nns_last_error(), b), "message '%s' lacks '%s'", nns_last_error(), b); \
    CHECK(is_zeroed(&d_)); nns_dataset_free(&d_); } while (0)
/* expr must use &d_ as its output. */

static void check_images(const nns_dataset *d, int n, int h, int w) {
    CHECK(d->n == n && d->c == 1 && d->h == h && d->w == w);
    int bad = 0;
    for (int i = 0; i < n && d->x; i++) {
        for (int k = 0; k < h * w; k++)
            if (d->x[(size_t)i * h * w + k] != (float)((7 * i + k) % 256) / 255.0f)
                bad++;
        if (d->y[i] != i % 3) bad++;
    }
    CHECK(bad == 0);
}

static void test_idx(void) {
    size_t il, ll;
    unsigned char *img = make_images(5, 3, 4, &il);
    unsigned char *lab = make_labels(5, &ll);
    write_bytes(P("img"), img, il);
    write_bytes(P("lab"), lab, ll);
    write_gz(P("img.gz"), img, il);
    write_gz(P("lab.gz"), lab, ll);

    nns_dataset d;
    CHECK_OK(nns_dataset_load_idx(P("img"), P("lab"), 0, &d));
    check_images(&d, 5, 3, 4);
    CHECK(d.n_classes == 3);
    nns_dataset_free(&d);
    CHECK(is_zeroed(&d));

    CHECK_OK(nns_dataset_load_idx(P("img.gz"), P("lab.gz"), 0, &d));
    check_images(&d, 5, 3, 4);
    nns_dataset_free(&d);
    /* mixed raw + gz, with a limit: n_classes still covers the whole file */
    CHECK_OK(nns_dataset_load_idx(P("img.gz"), P("lab"), 2, &d));
    check_images(&d, 2, 3, 4);
    CHECK(d.n_classes == 3);
    nns_dataset_free(&d);
    CHECK_OK(nns_dataset_load_idx(P("img"), P("lab.gz"), 99, &d));
    check_images(&d, 5, 3, 4);
    nns_dataset_free(&d);

    /* wrong magic */
    unsigned char *b = malloc(il + 8);
    memcpy(b, img, il);
    b[0] = 0x12;
    write_bytes(P("badmagic"), b, il);
    EXPECT_FAIL(nns_dataset_load_idx(P("badmagic"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "badmagic", "magic");
    /* wrong dtype (float32) */
    memcpy(b, img, il);
    b[2] = 0x0D;
    write_bytes(P("f32.idx"), b, il);
    EXPECT_FAIL(nns_dataset_load_idx(P("f32.idx"), P("lab"), 0, &d_),
                NNS_STATUS_UNSUPPORTED, "f32.idx", "0x0d");
    /* wrong rank: labels given as images and vice versa */
    EXPECT_FAIL(nns_dataset_load_idx(P("lab"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "lab", "rank 1");
    EXPECT_FAIL(nns_dataset_load_idx(P("img"), P("img.gz"), 0, &d_),
                NNS_STATUS_FORMAT, "img.gz", "rank 3");
    /* truncated data, raw and inside a valid gzip stream */
    write_bytes(P("short"), img, il - 1);
    EXPECT_FAIL(nns_dataset_load_idx(P("short"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "short", "truncated");
    write_gz(P("short.gz"), img, il - 1);
    EXPECT_FAIL(nns_dataset_load_idx(P("short.gz"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "short.gz", "truncated");
    EXPECT_FAIL(nns_dataset_load_idx(P("short.gz"), P("lab"), 1, &d_),
                NNS_STATUS_FORMAT, "short.gz", "truncated");
    write_gz(P("shortlab.gz"), lab, ll - 1);
    EXPECT_FAIL(nns_dataset_load_idx(P("img"), P("shortlab.gz"), 0, &d_),
                NNS_STATUS_FORMAT, "shortlab.gz", "truncated");
    write_bytes(P("hdronly"), img, 10);
    EXPECT_FAIL(nns_dataset_load_idx(P("hdronly"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "hdronly", "truncated");
    write_bytes(P("empty"), img, 0);
    EXPECT_FAIL(nns_dataset_load_idx(P("empty"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "empty", "truncated");
    /* truncated gzip files: cut in the middle, and just the trailer */
    size_t gl;
    unsigned char *gz = read_all(P("img.gz"), &gl);
    write_bytes(P("cut.gz"), gz, gl / 2);
    EXPECT_FAIL(nns_dataset_load_idx(P("cut.gz"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "cut.gz", "gzip");
    write_bytes(P("cut2.gz"), gz, gl - 3);
    EXPECT_FAIL(nns_dataset_load_idx(P("cut2.gz"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "cut2.gz", "gzip");
    /* corrupt CRC */
    gz[gl - 6] ^= 0xff;
    write_bytes(P("crc.gz"), gz, gl);
    EXPECT_FAIL(nns_dataset_load_idx(P("crc.gz"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "crc.gz", "gzip");
    free(gz);
    /* extra bytes, raw and gz */
    memcpy(b, img, il);
    memset(b + il, 0, 8);
    write_bytes(P("long"), b, il + 3);
    EXPECT_FAIL(nns_dataset_load_idx(P("long"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "long", "3 extra bytes");
    write_gz(P("long.gz"), b, il + 3);
    EXPECT_FAIL(nns_dataset_load_idx(P("long.gz"), P("lab"), 0, &d_),
                NNS_STATUS_FORMAT, "long.gz", "3 extra bytes");
    EXPECT_FAIL(nns_dataset_load_idx(P("long.gz"), P("lab"), 2, &d_),
                NNS_STATUS_FORMAT, "long.gz", "extra");
    /* count mismatch names both files */
    unsigned char *lab4 = make_labels(4, &ll);
    write_bytes(P("lab4"), lab4, ll);
    EXPECT_FAIL(nns_dataset_load_idx(P("img"), P("lab4"), 0, &d_),
                NNS_STATUS_SHAPE, "img'", "lab4");
    /* missing file names the path */
    EXPECT_FAIL(nns_dataset_load_idx(P("img"), P("nope-labels"), 0, &d_),
                NNS_STATUS_IO, "nope-labels", "cannot open");
    EXPECT_FAIL(nns_dataset_load_idx(P("nope-images"), P("lab"), 0, &d_),
                NNS_STATUS_IO, "nope-images", "cannot open");

    /* MNIST directory layout: .gz preferred, raw accepted */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/mnist", g_dir);
    mkdir(sub, 0700);
    write_gz(P("mnist/t10k-images-idx3-ubyte.gz"), img, il);
    write_bytes(P("mnist/t10k-labels-idx1-ubyte"), lab, 8 + 5);
    CHECK_OK(nns_dataset_load_mnist_dir(sub, 0, 0, &d));
    check_images(&d, 5, 3, 4);
    nns_dataset_free(&d);
    EXPECT_FAIL(nns_dataset_load_mnist_dir(sub, 1, 0, &d_), NNS_STATUS_IO,
                "train-images-idx3-ubyte", sub);
    unlink(P("mnist/t10k-images-idx3-ubyte.gz"));
    unlink(P("mnist/t10k-labels-idx1-ubyte"));
    rmdir(sub);

    free(b);
    free(img);
    free(lab);
    free(lab4);
}

/* A .npy file with a hand-written header dict (padded to 64 bytes). */
static void write_npy(const char *path, int major, const char *dict,
                      const void *data, size_t len) {
    size_t pre = major == 1 ? 10 : 12;
    size_t hl = strlen(dict) + 1;
    size_t pad = (64 - (pre + hl) % 64) % 64;
    hl += pad;
    unsigned char *b = calloc(1, pre + hl + len);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    b[8] = (unsigned char)hl;
    b[9] = (unsigned char)(hl >> 8);
    memcpy(b + pre, dict, strlen(dict));
    memset(b + pre + strlen(dict), ' ', pad);
    b[pre + hl - 1] = '\n';
    if (len) memcpy(b + pre + hl, data, len);
    write_bytes(path, b, pre + hl + len);
    free(b);
}

static int count_dir_entries(const char *dir, const char *prefix) {
    DIR *dp = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(dp);
    return n;
}

static void test_npy(void) {
    nns_dataset d;
    /* f32 images [4, 2, 3] and s32 labels, written by the library */
    float xs[4 * 2 * 3];
    for (int i = 0; i < 24; i++) xs[i] = (float)i * 0.25f - 2.0f;
    int32_t ys[4] = {2, 0, 5, 1};
    int64_t dx[3] = {4, 2, 3}, dy[1] = {4};
    CHECK_OK(nns_npy_save_f32(P("x.npy"), 3, dx, xs));
    CHECK_OK(nns_npy_save_s32(P("y.npy"), 1, dy, ys));
    CHECK(count_dir_entries(g_dir, "x.npy.tmp") == 0);
    size_t len;
    unsigned char *raw = read_all(P("x.npy"), &len);
    CHECK(len == 128 + 24 * 4); /* header padded to 64 bytes */
    CHECK(memcmp(raw, "\x93NUMPY\x01\x00", 8) == 0);
    CHECK(contains((char *)raw + 10, "'descr': '<f4'") &&
          contains((char *)raw + 10, "'shape': (4, 2, 3)"));
    free(raw);
    CHECK_OK(nns_dataset_load_npy(P("x.npy"), P("y.npy"), 0, &d));
    CHECK(d.n == 4 && d.c == 1 && d.h == 2 && d.w == 3 && d.n_classes == 6);
    CHECK(d.x && memcmp(d.x, xs, sizeof xs) == 0);
    CHECK(d.y && memcmp(d.y, ys, sizeof ys) == 0);
    nns_dataset_free(&d);
    CHECK_OK(nns_dataset_load_npy(P("x.npy"), P("y.npy"), 3, &d));
    CHECK(d.n == 3 && d.n_classes == 6 && d.x[17] == xs[17] && d.y[2] == 5);
    nns_dataset_free(&d);
    /* rank 2 -> [N, 1, 1, F]; rank 4 as given */
    int64_t d2[2] = {4, 6}, d4[4] = {4, 3, 1, 2};
    CHECK_OK(nns_npy_save_f32(P("x2.npy"), 2, d2, xs));
    CHECK_OK(nns_npy_save_f32(P("x4.npy"), 4, d4, xs));
    CHECK_OK(nns_dataset_load_npy(P("x2.npy"), P("y.npy"), 0, &d));
    CHECK(d.n == 4 && d.c == 1 && d.h == 1 && d.w == 6 && d.x[23] == xs[23]);
    nns_dataset_free(&d);
    CHECK_OK(nns_dataset_load_npy(P("x4.npy"), P("y.npy"), 0, &d));
    CHECK(d.n == 4 && d.c == 3 && d.h == 1 && d.w == 2 && d.x[23] == xs[23]);
    nns_dataset_free(&d);
    /* gzip-compressed .npy works as well */
    raw = read_all(P("x.npy"), &len);
    write_gz(P("x.npy.gz"), raw, len);
    free(raw);
    CHECK_OK(nns_dataset_load_npy(P("x.npy.gz"), P("y.npy"), 0, &d));
    CHECK(d.n == 4 && d.x && memcmp(d.x, xs, sizeof xs) == 0);
    nns_dataset_free(&d);

    /* u8 images (v2.0 header) scaled by 1/255; u8 and i8 labels */
    unsigned char u8[3 * 2 * 2];
    for (int i = 0; i < 12; i++) u8[i] = (unsigned char)(i * 23);
    write_npy(P("u8.npy"), 2,
              "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2), }",
              u8, sizeof u8);
    unsigned char yl[3] = {1, 9, 0};
    write_npy(P("yu8.npy"), 1,
              "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", yl, 3);
    int64_t y8[3] = {3, 0, 2};
    write_npy(P("yi8.npy"), 1,
              "{'shape': (3,), 'descr': '<i8', 'fortran_order': False}", y8,
              sizeof y8);
    CHECK_OK(nns_dataset_load_npy(P("u8.npy"), P("yu8.npy"), 0, &d));
    CHECK(d.n == 3 && d.h == 2 && d.w == 2 && d.n_classes == 10 && d.y[1] == 9);
    CHECK(d.x && d.x[11] == (float)(11 * 23) / 255.0f && d.x[0] == 0.0f);
    nns_dataset_free(&d);
    CHECK_OK(nns_dataset_load_npy(P("u8.npy"), P("yi8.npy"), 0, &d));
    CHECK(d.n == 3 && d.n_classes == 4 && d.y[0] == 3 && d.y[2] == 2);
    nns_dataset_free(&d);

    /* broken files */
    write_npy(P("badhdr.npy"), 1, "{'descr': '|u1', 'fortran_order': Flase, 'shape': (3,), }",
              yl, 3);
    EXPECT_FAIL(nns_dataset_load_npy(P("u8.npy"), P("badhdr.npy"), 0, &d_),
                NNS_STATUS_FORMAT, "badhdr.npy", "header");
    CHECK(strchr(nns_last_error(), '\n') == NULL);
    CHECK(contains(nns_last_error(), "Flase"));
    write_npy(P("nokey.npy"), 1, "{'descr': '|u1', 'shape': (3,), }", yl, 3);
    EXPECT_FAIL(nns_dataset_load_npy(P("u8.npy"), P("nokey.npy"), 0, &d_),
                NNS_STATUS_FORMAT, "nokey.npy", "fortran_order");
    write_bytes(P("nomagic.npy"), "NUMPY not at all", 16);
    EXPECT_FAIL(nns_dataset_load_npy(P("nomagic.npy"), P("y.npy"), 0, &d_),
                NNS_STATUS_FORMAT, "nomagic.npy", "magic");
    write_npy(P("fort.npy"), 1,
              "{'descr': '|u1', 'fortran_order': True, 'shape': (3, 2, 2), }",
              u8, sizeof u8);
    EXPECT_FAIL(nns_dataset_load_npy(P("fort.npy"), P("yu8.npy"), 0, &d_),
                NNS_STATUS_UNSUPPORTED, "fort.npy", "fortran");
    write_npy(P("be.npy"), 1,
              "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 1), }",
              u8, sizeof u8);
    EXPECT_FAIL(nns_dataset_load_npy(P("be.npy"), P("yu8.npy"), 0, &d_),
                NNS_STATUS_UNSUPPORTED, "be.npy", ">f4");
    /* f32 labels are not accepted */
    EXPECT_FAIL(nns_dataset_load_npy(P("x.npy"), P("x2.npy"), 0, &d_),
                NNS_STATUS_UNSUPPORTED, "x2.npy", "<f4");
    write_npy(P("r1.npy"), 1,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", u8, 12);
    EXPECT_FAIL(nns_dataset_load_npy(P("r1.npy"), P("yu8.npy"), 0, &d_),
                NNS_STATUS_SHAPE, "r1.npy", "rank 1");
    write_npy(P("u8short.npy"), 1,
              "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2), }",
              u8, sizeof u8 - 1);
    EXPECT_FAIL(nns_dataset_load_npy(P("u8short.npy"), P("yu8.npy"), 0, &d_),
                NNS_STATUS_FORMAT, "u8short.npy", "truncated");
    write_npy(P("u8long.npy"), 1,
              "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 1), }",
              u8, sizeof u8);
    EXPECT_FAIL(nns_dataset_load_npy(P("u8long.npy"), P("yu8.npy"), 0, &d_),
                NNS_STATUS_FORMAT, "u8long.npy", "6 extra bytes");
    int32_t yneg[3] = {0, -1, 2};
    int64_t d3[1] = {3};
    CHECK_OK(nns_npy_save_s32(P("yneg.npy"), 1, d3, yneg));
    EXPECT_FAIL(nns_dataset_load_npy(P("u8.npy"), P("yneg.npy"), 0, &d_),
                NNS_STATUS_FORMAT, "yneg.npy", "-1");
    EXPECT_FAIL(nns_dataset_load_npy(P("u8.npy"), P("y.npy"), 0, &d_),
                NNS_STATUS_SHAPE, "u8.npy", "y.npy");
    EXPECT_FAIL(nns_dataset_load_npy(P("u8.npy"), P("missing.npy"), 0, &d_),
                NNS_STATUS_IO, "missing.npy", "cannot open");
    /* save argument checks */
    CHECK(nns_npy_save_f32(P("bad.npy"), 1, dy, NULL) == NNS_STATUS_INVALID_ARG);
    int64_t dneg[1] = {-1};
    CHECK(nns_npy_save_f32(P("bad.npy"), 1, dneg, xs) == NNS_STATUS_INVALID_ARG);
    CHECK(nns_npy_save_f32("/nonexistent-dir/x.npy", 1, dy, xs) == NNS_STATUS_IO);
    CHECK(contains(nns_last_error(), "/nonexistent-dir/x.npy"));
}

/* A data set of n samples [c, h, w]; x = sample index * ID + pixel. */
#define ID 10000
static void make_ds(nns_dataset *d, int64_t n, int c, int h, int w) {
    memset(d, 0, sizeof *d);
    d->n = n; d->c = c; d->h = h; d->w = w;
    size_t ss = (size_t)c * h * w;
    d->x = malloc((size_t)n * ss * sizeof(float));
    d->y = malloc((size_t)n * sizeof(int32_t));
    for (int64_t i = 0; i < n; i++) {
        for (size_t k = 0; k < ss; k++) d->x[i * ss + k] = (float)(i * ID + (int64_t)k);
        d->y[i] = (int32_t)(i % 10);
    }
    d->n_classes = 10;
}

static void test_stats_normalize(void) {
    nns_dataset d;
    make_ds(&d, 3, 1, 1, 2); /* values 0 1 ID ID+1 2ID 2ID+1 */
    float m, s;
    nns_dataset_stats(&d, &m, &s);
    CHECK_NEAR(m, ID + 0.5, 1e-3);
    CHECK_NEAR(s, sqrt((2.0 * ID * ID) / 3.0 + 0.25), 1e-2);
    CHECK_OK(nns_dataset_normalize(&d, m, s));
    float m2, s2;
    nns_dataset_stats(&d, &m2, &s2);
    CHECK_NEAR(m2, 0.0, 1e-5);
    CHECK_NEAR(s2, 1.0, 1e-5);
    CHECK_NEAR(d.x[0], (0.0 - m) / s, 1e-6);
    CHECK(nns_dataset_normalize(&d, 0.0f, 0.0f) == NNS_STATUS_INVALID_ARG);
    CHECK(nns_dataset_normalize(&d, 0.0f, -1.0f) == NNS_STATUS_INVALID_ARG);
    CHECK(nns_dataset_normalize(&d, NAN, 1.0f) == NNS_STATUS_INVALID_ARG);
    nns_dataset_free(&d);

    /* a large one takes the parallel path; result independent of blocks */
    make_ds(&d, 300, 1, 16, 16);
    nns_dataset_stats(&d, &m, &s);
    double sum = 0;
    for (int64_t i = 0; i < 300 * 256; i++) sum += d.x[i];
    CHECK_NEAR(m, sum / (300 * 256), 1e-2);
    nns_dataset_stats(&d, &m2, &s2);
    CHECK(m == m2 && s == s2);
    nns_dataset_free(&d);
}

static void test_split(void) {
    nns_dataset d, v, d2, v2;
    make_ds(&d, 100, 1, 2, 1);
    CHECK_OK(nns_dataset_split(&d, 20, 42, &v));
    CHECK(d.n == 80 && v.n == 20 && v.c == 1 && v.h == 2 && v.w == 1);
    CHECK(v.n_classes == 10 && d.n_classes == 10);
    int seen[100] = {0}, bad = 0;
    for (int64_t i = 0; i < d.n; i++) seen[(int)(d.x[2 * i] / ID)]++;
    for (int64_t i = 0; i < v.n; i++) seen[(int)(v.x[2 * i] / ID)]++;
    for (int i = 0; i < 100; i++) bad += seen[i] != 1;
    CHECK(bad == 0);
    /* samples stay intact: x pairs and labels agree */
    for (int64_t i = 0; i < v.n; i++) {
        int id = (int)(v.x[2 * i] / ID);
        bad += v.x[2 * i + 1] != id * ID + 1 || v.y[i] != id % 10;
    }
    for (int64_t i = 1; i < d.n; i++) bad += d.x[2 * i] <= d.x[2 * i - 2]; /* order kept */
    CHECK(bad == 0);
    /* deterministic in the seed */
    make_ds(&d2, 100, 1, 2, 1);
    CHECK_OK(nns_dataset_split(&d2, 20, 42, &v2));
    CHECK(memcmp(v.x, v2.x, 40 * sizeof(float)) == 0);
    CHECK(memcmp(d.x, d2.x, 160 * sizeof(float)) == 0);
    nns_dataset_free(&d2);
    nns_dataset_free(&v2);
    make_ds(&d2, 100, 1, 2, 1);
    CHECK_OK(nns_dataset_split(&d2, 20, 43, &v2));
    CHECK(memcmp(v.x, v2.x, 40 * sizeof(float)) != 0);
    nns_dataset_free(&d2);
    nns_dataset_free(&v2);
    /* bad counts */
    CHECK(nns_dataset_split(&d, 0, 1, &v2) == NNS_STATUS_INVALID_ARG && is_zeroed(&v2));
    CHECK(nns_dataset_split(&d, 80, 1, &v2) == NNS_STATUS_INVALID_ARG && is_zeroed(&v2));
    CHECK(d.n == 80);
    nns_dataset_free(&d);
    nns_dataset_free(&v);
}

/* Run one epoch; record the sample ids of each batch. Returns #samples. */
static int run_epoch(nns_batcher *b, float *x, int32_t *y, size_t ss,
                     int *ids, int *sizes, int *nb) {
    int total = 0, k;
    *nb = 0;
    while ((k = nns_batcher_next(b, x, y)) > 0) {
        sizes[(*nb)++] = k;
        for (int i = 0; i < k; i++) ids[total + i] = (int)(x[(size_t)i * ss] / ID);
        total += k;
    }
    return total;
}

static void test_batcher(void) {
    nns_dataset d;
    make_ds(&d, 10, 1, 2, 2);
    nns_batcher *b = NULL, *b2 = NULL;
    float x[4 * 4];
    int32_t y[4];
    int ids[10], ids2[10], sizes[8], nb;
    /* shuffle off: identity order, last partial batch kept */
    CHECK_OK(nns_batcher_create(&d, 4, 0, 7, NULL, &b));
    CHECK(nns_batcher_n_batches(b) == 3);
    CHECK(run_epoch(b, x, y, 4, ids, sizes, &nb) == 10);
    CHECK(nb == 3 && sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2);
    int bad = 0;
    for (int i = 0; i < 10; i++) bad += ids[i] != i;
    CHECK(bad == 0);
    CHECK(y[0] == 8 && y[1] == 9);
    CHECK(nns_batcher_next(b, x, y) == 0);
    nns_batcher_free(b);

    /* shuffle on: same seed + epoch -> same order; a permutation */
    CHECK_OK(nns_batcher_create(&d, 4, 1, 7, NULL, &b));
    CHECK_OK(nns_batcher_create(&d, 4, 1, 7, NULL, &b2));
    run_epoch(b, x, y, 4, ids, sizes, &nb);
    run_epoch(b2, x, y, 4, ids2, sizes, &nb);
    CHECK(memcmp(ids, ids2, sizeof ids) == 0);
    int seen[10] = {0};
    for (int i = 0; i < 10; i++) seen[ids[i]]++;
    for (int i = 0; i < 10; i++) bad += seen[i] != 1;
    CHECK(bad == 0);
    nns_batcher_reset(b, 1);
    run_epoch(b, x, y, 4, ids2, sizes, &nb);
    CHECK(memcmp(ids, ids2, sizeof ids) != 0);
    nns_batcher_reset(b, 0);
    run_epoch(b, x, y, 4, ids2, sizes, &nb);
    CHECK(memcmp(ids, ids2, sizeof ids) == 0);
    nns_batcher_free(b);
    nns_batcher_free(b2);
    /* another seed -> another order */
    CHECK_OK(nns_batcher_create(&d, 4, 1, 8, NULL, &b));
    run_epoch(b, x, y, 4, ids2, sizes, &nb);
    CHECK(memcmp(ids, ids2, sizeof ids) != 0);
    nns_batcher_free(b);
    /* argument checks */
    CHECK(nns_batcher_create(&d, 0, 1, 1, NULL, &b) == NNS_STATUS_INVALID_ARG && !b);
    nns_augment big = {2, 0};
    CHECK(nns_batcher_create(&d, 4, 1, 1, &big, &b) == NNS_STATUS_INVALID_ARG && !b);
    nns_dataset_free(&d);
}

static void test_augment(void) {
    /* big enough batches to take the parallel copy path */
    enum { N = 70, C = 2, H = 24, W = 23, BS = 64 }; /* 64*2*24*23 > 65536 */
    size_t ss = (size_t)C * H * W;
    nns_dataset d;
    make_ds(&d, N, C, H, W);
    for (size_t i = 0; i < (size_t)N * ss; i++) d.x[i] += 1.0f; /* no zeros */
    float *x0 = malloc(BS * ss * sizeof(float)), *x1 = malloc(BS * ss * sizeof(float));
    int32_t y0[BS], y1[BS];
    nns_batcher *b0, *b1;
    /* pad 0, no flip: identity */
    nns_augment none = {0, 0};
    CHECK_OK(nns_batcher_create(&d, BS, 1, 3, NULL, &b0));
    CHECK_OK(nns_batcher_create(&d, BS, 1, 3, &none, &b1));
    int k0, k1, bad = 0;
    while ((k0 = nns_batcher_next(b0, x0, y0)) > 0) {
        k1 = nns_batcher_next(b1, x1, y1);
        bad += k0 != k1 || memcmp(x0, x1, (size_t)k0 * ss * sizeof(float)) != 0 ||
               memcmp(y0, y1, (size_t)k0 * sizeof(int32_t)) != 0;
    }
    CHECK(bad == 0);
    nns_batcher_free(b1);

    /* flip only: every sample is the original or its mirror, both occur */
    nns_augment flip = {0, 1};
    CHECK_OK(nns_batcher_create(&d, BS, 1, 3, &flip, &b1));
    nns_batcher_reset(b0, 0);
    int n_same = 0, n_flip = 0;
    while ((k0 = nns_batcher_next(b0, x0, y0)) > 0) {
        k1 = nns_batcher_next(b1, x1, y1);
        bad += k0 != k1;
        for (int i = 0; i < k0; i++) {
            const float *a = x0 + i * ss, *f = x1 + i * ss;
            int same = memcmp(a, f, ss * sizeof(float)) == 0, mirror = 1;
            for (int c = 0; c < C * H; c++)
                for (int xx = 0; xx < W; xx++)
                    mirror &= f[c * W + xx] == a[c * W + (W - 1 - xx)];
            n_same += same;
            n_flip += mirror;
            bad += !(same || mirror) || y0[i] != y1[i];
        }
    }
    CHECK(bad == 0 && n_same > 5 && n_flip > 5 && n_same + n_flip == N);
    nns_batcher_free(b1);

    /* crop + flip: same shape and count; every pixel is 0 or a pixel of the
     * same sample and channel; reproducible; differs across epochs */
    nns_augment full = {2, 1};
    nns_batcher *b2;
    CHECK_OK(nns_batcher_create(&d, BS, 1, 3, &full, &b1));
    CHECK_OK(nns_batcher_create(&d, BS, 1, 3, &full, &b2));
    CHECK(nns_batcher_n_batches(b1) == 2);
    nns_batcher_reset(b0, 0);
    int zeros = 0, changed = 0;
    while ((k0 = nns_batcher_next(b0, x0, y0)) > 0) {
        k1 = nns_batcher_next(b1, x1, y1);
        bad += k0 != k1 || memcmp(y0, y1, (size_t)k0 * sizeof(int32_t)) != 0;
        for (int i = 0; i < k0; i++) {
            const float *a = x0 + i * ss, *f = x1 + i * ss;
            int id = (int)(a[0] / ID);
            changed += memcmp(a, f, ss * sizeof(float)) != 0;
            for (int c = 0; c < C; c++)
                for (int p = 0; p < H * W; p++) {
                    float v = f[c * H * W + p];
                    if (v == 0.0f) { zeros++; continue; }
                    float rel = v - 1.0f - (float)id * (float)ID - (float)(c * H * W);
                    bad += rel < 0 || rel >= H * W;
                }
        }
        float *x2 = malloc(BS * ss * sizeof(float));
        int32_t y2[BS];
        int k2 = nns_batcher_next(b2, x2, y2);
        bad += k2 != k1 || memcmp(x1, x2, (size_t)k1 * ss * sizeof(float)) != 0;
        free(x2);
    }
    CHECK(bad == 0 && zeros > 0 && changed > N / 2);
    /* epoch 1 gives other augmentations, epoch 0 again the same */
    nns_batcher_reset(b1, 0);
    nns_batcher_reset(b2, 1);
    nns_batcher_next(b1, x0, y0);
    nns_batcher_next(b2, x1, y1);
    CHECK(memcmp(x0, x1, BS * ss * sizeof(float)) != 0);
    nns_batcher_reset(b2, 0);
    nns_batcher_next(b2, x1, y1);
    CHECK(memcmp(x0, x1, BS * ss * sizeof(float)) == 0);
    nns_batcher_free(b0);
    nns_batcher_free(b1);
    nns_batcher_free(b2);

    /* a pure shift: with a sample of a single bright pixel, pad 1 moves it by
     * at most one row and column and never flips */
    nns_dataset s;
    make_ds(&s, 1, 1, 5, 5);
    memset(s.x, 0, 25 * sizeof(float));
    s.x[12] = 1.0f;
    nns_augment crop = {1, 0};
    CHECK_OK(nns_batcher_create(&s, 1, 0, 9, &crop, &b0));
    int moved = 0;
    for (int e = 0; e < 20; e++) {
        nns_batcher_reset(b0, e);
        CHECK(nns_batcher_next(b0, x0, y0) == 1);
        int where = -1, ones = 0;
        for (int p = 0; p < 25; p++) if (x0[p] == 1.0f) { where = p; ones++; }
        CHECK(ones == 1 && abs(where / 5 - 2) <= 1 && abs(where % 5 - 2) <= 1);
        moved += where != 12;
    }
    CHECK(moved > 5);
    nns_batcher_free(b0);
    nns_dataset_free(&s);
    free(x0);
    free(x1);
    nns_dataset_free(&d);
}

static void test_fashion_mnist(void) {
    struct stat st;
    if (stat(NNS_DATASET_DEFAULT_DIR, &st) != 0) {
        printf("skipped: fashion-mnist not installed\n");
        return;
    }
    nns_dataset d;
    CHECK_OK(nns_dataset_load_mnist_dir(NULL, 0, 0, &d));
    CHECK(d.n == 10000 && d.c == 1 && d.h == 28 && d.w == 28);
    CHECK(d.n_classes == 10);
    int bad = 0;
    for (int64_t i = 0; i < d.n && d.y; i++) bad += d.y[i] < 0 || d.y[i] >= 10;
    for (int64_t i = 0; i < d.n * 784 && d.x; i++) bad += d.x[i] < 0 || d.x[i] > 1;
    CHECK(bad == 0);
    float m, s;
    nns_dataset_stats(&d, &m, &s);
    CHECK(m > 0.2f && m < 0.4f && s > 0.25f && s < 0.45f); /* ~0.286, ~0.353 */
    nns_dataset_free(&d);
    CHECK_OK(nns_dataset_load_mnist_dir(NNS_DATASET_DEFAULT_DIR, 1, 1000, &d));
    CHECK(d.n == 1000 && d.n_classes == 10);
    nns_dataset_free(&d);
}

static void cleanup_dir(const char *dir) {
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(dp))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(dp);
    rmdir(dir);
}

/* Channels-last images turned channels-first: [2, H 2, W 3, C 2] ->
 * [2, 2, 2, 3], element (n, c, y, x) from (n, y, x, c). */
static void test_to_nchw(void) {
    nns_dataset d;
    memset(&d, 0, sizeof d);
    d.n = 2;
    d.c = 2, d.h = 3, d.w = 2; /* as loaded from [N, H, W, C] */
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    d.x = x;
    CHECK_OK(nns_dataset_to_nchw(&d));
    CHECK(d.c == 2 && d.h == 2 && d.w == 3);
    int wrong = 0;
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 2; y++)
                for (int xx = 0; xx < 3; xx++)
                    wrong += x[((n * 2 + c) * 2 + y) * 3 + xx] != (float)(((n * 2 + y) * 3 + xx) * 2 + c);
    CHECK(wrong == 0);
}

/* The normalisation a model records, one value per channel: applied to
 * its input and to a data set, and refused when the counts disagree. */
static void test_norm_channels(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    nns_shape s = nns_shape_make(4, (int64_t[]){-1, 2, 1, 2});
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &s, NULL));
    CHECK_OK(nns_graph_add_node(g, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"}, NULL));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    float x[8] = {3, 5, 6, 10, 1, 1, 2, 2};
    CHECK_OK(nns_graph_normalize_input(g, x, 2)); /* nothing recorded: unchanged */
    CHECK(x[0] == 3 && x[3] == 10);
    CHECK_OK(nns_graph_set_meta(g, "nnslim.mean", "1,2"));
    CHECK_OK(nns_graph_set_meta(g, "nnslim.std", "2,4"));
    CHECK_OK(nns_graph_normalize_input(g, x, 2));
    CHECK(x[0] == 1 && x[1] == 2 && x[2] == 1 && x[3] == 2 && x[4] == 0 && x[6] == 0);
    CHECK_OK(nns_graph_set_meta(g, "nnslim.mean", "1,2,3"));
    CHECK_OK(nns_graph_set_meta(g, "nnslim.std", "1,1,1"));
    CHECK(nns_graph_normalize_input(g, x, 2) != NNS_OK && strstr(nns_last_error(), "3 normalisation values"));
    CHECK_OK(nns_graph_set_meta(g, "nnslim.std", "1,0,1"));
    CHECK(nns_graph_normalize_input(g, x, 2) == NNS_STATUS_FORMAT);
    nns_graph_free(g);
    nns_dataset d;
    memset(&d, 0, sizeof d);
    float px[8] = {3, 5, 6, 10, 3, 5, 6, 10};
    d.n = 2, d.c = 2, d.h = 1, d.w = 2, d.x = px;
    const float m[2] = {1, 2}, sd[2] = {2, 4};
    CHECK_OK(nns_dataset_normalize_channels(&d, m, sd, 2));
    CHECK(px[0] == 1 && px[1] == 2 && px[2] == 1 && px[3] == 2 && px[7] == 2);
    CHECK(nns_dataset_normalize_channels(&d, m, sd, 3) == NNS_STATUS_INVALID_ARG);
}

int main(void) {
    strcpy(g_dir, "/tmp/nns_test_data_XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 2; }
    test_idx();
    test_npy();
    test_stats_normalize();
    test_to_nchw();
    test_norm_channels();
    test_split();
    test_batcher();
    test_augment();
    test_fashion_mnist();
    cleanup_dir(g_dir);
    TEST_MAIN_END();
}
