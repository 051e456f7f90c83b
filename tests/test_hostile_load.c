/* test_hostile_load.c — the loaders against files that lie about their size.
 *
 * Linked with -Wl,--wrap=malloc,calloc,realloc,aligned_alloc (CMakeLists.txt):
 * the wrappers record the largest single request the library makes, so a
 * loader that allocates what a header claims before checking what the file
 * holds fails here even when the allocation would have succeeded. Cases: the
 * crafted models of tests/hostile/ (from a path and from memory), a FIFO, a
 * character device and a directory given as a model or a data file, a model
 * over NNS_MAX_MODEL_BYTES, IDX and .npy files (raw and gzip) whose headers
 * claim billions of samples, and a data set over NNS_MAX_MEMORY. Each must
 * fail with the expected status and a one-line message naming the culprit,
 * asking for no more than 100 MB at once. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nnslim/nnslim.h"
#include "testutil.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);

static size_t biggest; /* largest single request since the last reset */
static void note(size_t n) {
    if (n > biggest) biggest = n;
}
void *__wrap_malloc(size_t n) { return note(n), __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return note(n * m), __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return note(n), __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { return note(n), __real_aligned_alloc(a, n); }

#define MAX_ONE_ALLOC ((size_t)100 << 20)
static char tmp[256];

/* The last call failed with `want` and a one-line message holding `needle`,
 * having asked for at most MAX_ONE_ALLOC at once. */
static void expect(const char *what, nns_status st, nns_status want, const char *needle) {
    const char *msg = nns_last_error();
    CHECK_MSG(st == want, "%s: status %s, want %s (%s)", what, nns_status_str(st), nns_status_str(want), msg);
    CHECK_MSG(msg && !strchr(msg, '\n') && strstr(msg, needle), "%s: message '%s' lacks '%s'", what, msg, needle);
    CHECK_MSG(biggest <= MAX_ONE_ALLOC, "%s: asked for %zu bytes at once", what, biggest);
}

static void put(const char *path, const void *buf, size_t n, int gz) {
    if (gz) {
        gzFile g = gzopen(path, "wb");
        gzwrite(g, buf, (unsigned)n);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, n, f);
        fclose(f);
    }
}

static void hostile_models(const char *src) {
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "%s/tests/hostile", src);
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d) return;
    int n = 0;
    nns_limit_set_memory((uint64_t)1 << 30); /* sparse_dense_2p31 is refused by it */
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".onnx")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        nns_graph *g = NULL;
        biggest = 0;
        nns_status st = nns_graph_load_onnx(path, &g);
        nns_session *s = NULL;
        /* a few load and fail only at the batch: ask for a session too */
        if (!st) st = nns_session_create(g, 2, &s);
        CHECK_MSG(st != NNS_OK, "%s loaded", e->d_name);
        expect(e->d_name, st, st ? st : NNS_STATUS_FORMAT, e->d_name);
        nns_session_free(s);
        nns_graph_free(g);
        n++;
    }
    closedir(d);
    nns_limit_set_memory(0);
    CHECK_MSG(n >= 15, "only %d crafted models", n);
}

static void not_regular(void) {
    char fifo[300], dir[300];
    snprintf(fifo, sizeof fifo, "%s/fifo", tmp);
    snprintf(dir, sizeof dir, "%s/dir", tmp);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK(mkdir(dir, 0700) == 0);
    const char *paths[3] = {fifo, "/dev/zero", dir};
    const char *kinds[3] = {"is a FIFO", "is a character device", "is a directory"};
    for (int i = 0; i < 3; i++) {
        nns_graph *g = NULL;
        biggest = 0;
        expect(paths[i], nns_graph_load_onnx(paths[i], &g), NNS_STATUS_IO, kinds[i]);
        CHECK(g == NULL);
        nns_dataset ds;
        expect(paths[i], nns_dataset_load_idx(paths[i], paths[i], 0, &ds), NNS_STATUS_IO, kinds[i]);
        expect(paths[i], nns_dataset_load_npy(paths[i], paths[i], 0, &ds), NNS_STATUS_IO, kinds[i]);
    }
}

static void model_limit(const char *src) {
    char path[600];
    snprintf(path, sizeof path, "%s/tests/golden/lenet5.onnx", src);
    nns_graph *g = NULL;
    nns_limit_set_model_bytes(1024);
    biggest = 0;
    expect("model over the limit", nns_graph_load_onnx(path, &g), NNS_STATUS_LIMIT, "NNS_MAX_MODEL_BYTES");
    static const unsigned char junk[2048];
    expect("buffer over the limit", nns_graph_load_onnx_mem(junk, sizeof junk, "buf", &g), NNS_STATUS_LIMIT,
           "NNS_MAX_MODEL_BYTES");
    nns_limit_set_model_bytes(0);
    CHECK_OK(nns_graph_load_onnx(path, &g));
    nns_graph_free(g);
}

/* IDX headers claiming 2^32 - 1 samples over a few bytes, raw and gzip. */
static void idx_claims(void) {
    unsigned char img[16 + 64] = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28};
    unsigned char lab[8 + 10] = {0, 0, 8, 1, 0, 0, 0, 10};
    unsigned char labc[8 + 10] = {0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff};
    char pi[300], pl[300], plc[300];
    snprintf(pi, sizeof pi, "%s/img", tmp);
    snprintf(pl, sizeof pl, "%s/lab", tmp);
    snprintf(plc, sizeof plc, "%s/labc", tmp);
    put(pl, lab, sizeof lab, 0);
    nns_dataset ds;
    for (int gz = 0; gz < 2; gz++) {
        put(pi, img, sizeof img, gz);
        put(plc, labc, sizeof labc, gz);
        biggest = 0;
        expect(gz ? "gzip IDX images" : "IDX images", nns_dataset_load_idx(pi, pl, 0, &ds), NNS_STATUS_FORMAT,
               "truncated");
        biggest = 0;
        expect(gz ? "gzip IDX labels" : "IDX labels", nns_dataset_load_idx(pi, plc, 0, &ds), NNS_STATUS_FORMAT,
               "truncated");
    }
}

/* A .npy v1.0 file: header dict text padded to 118 bytes, then n zero bytes. */
static void put_npy(const char *path, const char *shape, const char *descr, size_t n, int gz) {
    unsigned char buf[128 + 8192] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0x76, 0};
    char d[200];
    snprintf(d, sizeof d, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    memset(buf + 10, ' ', 118);
    memcpy(buf + 10, d, strlen(d));
    buf[127] = '\n';
    put(path, buf, 128 + n, gz);
}

static void npy_claims(void) {
    char px[300], py[300];
    snprintf(px, sizeof px, "%s/x.npy", tmp);
    snprintf(py, sizeof py, "%s/y.npy", tmp);
    nns_dataset ds;
    for (int gz = 0; gz < 2; gz++) {
        put_npy(px, "(1099511627776, 1, 28, 28)", "<f4", 64, gz);
        put_npy(py, "(10,)", "<i8", 80, 0);
        biggest = 0;
        expect(gz ? "gzip .npy images" : ".npy images", nns_dataset_load_npy(px, py, 0, &ds), NNS_STATUS_FORMAT,
               "x.npy");
        put_npy(px, "(10, 1, 28, 28)", "|u1", 7840, 0);
        put_npy(py, "(4294967296,)", "<i8", 80, gz);
        biggest = 0;
        expect(gz ? "gzip .npy labels" : ".npy labels", nns_dataset_load_npy(px, py, 0, &ds), NNS_STATUS_FORMAT,
               "y.npy");
        put_npy(px, "(1073741824, 16)", "<f4", 64, gz);
        int nd;
        int64_t dims[8];
        float *data = NULL;
        biggest = 0;
        expect(".npy array", nns_npy_load_f32(px, &nd, dims, &data), NNS_STATUS_FORMAT, "truncated");
        CHECK(data == NULL);
    }
}

/* A real data set of 4 samples with NNS_MAX_MEMORY below its size. */
static void memory_limit(void) {
    char px[300], py[300];
    snprintf(px, sizeof px, "%s/x.npy", tmp);
    snprintf(py, sizeof py, "%s/y.npy", tmp);
    put_npy(px, "(4, 1, 28, 28)", "|u1", 4 * 784, 1);
    put_npy(py, "(4,)", "<i8", 32, 0);
    nns_dataset ds;
    CHECK_OK(nns_dataset_load_npy(px, py, 0, &ds));
    nns_dataset_free(&ds);
    nns_limit_set_memory(4096);
    biggest = 0;
    expect("data set over NNS_MAX_MEMORY", nns_dataset_load_npy(px, py, 0, &ds), NNS_STATUS_LIMIT, "NNS_MAX_MEMORY");
    nns_limit_set_memory(0);
}

int main(void) {
    const char *src = getenv("NNS_SOURCE_DIR");
    if (!src) src = ".";
    snprintf(tmp, sizeof tmp, "/tmp/nns_hostile_load_XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    hostile_models(src);
    not_regular();
    model_limit(src);
    idx_claims();
    npy_claims();
    memory_limit();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    TEST_MAIN_END();
}
