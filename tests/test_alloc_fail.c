/* test_alloc_fail.c — injected allocation failures across the library.
 *
 * Linked with -Wl,--wrap=malloc,calloc,realloc,aligned_alloc (CMakeLists.txt),
 * so every allocation libnnslim's own code makes goes through the wrappers
 * below. For each operation (ONNX export and import, session create + run,
 * plan creation, evaluation, structured and unstructured pruning,
 * distillation, graph clone, summary, width scaling, loading IDX and .npy
 * data with gzip images) the test counts the
 * allocations N of one clean run, then for k = 1..N fails exactly the k-th
 * (every k up to K_DENSE, then a stride) and checks that the call returns a
 * failing status (NNS_STATUS_NOMEM unless the case says otherwise), that
 * what it was given is still usable and freeable, that an export leaves no
 * file behind and an existing output file unchanged, and that nothing
 * leaked: every block the wrappers hand out is recorded until it is freed,
 * and one allocated during a k's setup, run or teardown that is still live
 * afterwards is a leak (with LeakSanitizer's stacks as well under ASan).
 * A call may absorb a failure (return OK) only where the case says what its
 * result must then equal (the distiller's teacher cache is optional).
 * Each case runs in a child process: a crash is counted (the "crash"
 * column) and the case goes on from the next k.
 * Allocations made by shared libraries (protobuf-c, zlib, libc's stdio, OpenBLAS)
 * are not wrapped and so are not failed here.
 *
 * NNS_ALLOC_FAIL_ONLY=substring  run only the cases whose name contains it
 * NNS_ALLOC_FAIL_K=k             fail only the k-th allocation, print where
 *                                it was made (stack) and any leaked block
 * NNS_ALLOC_FAIL_ALL=1           every k, no stride (slow; run by hand) */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/graph_impl.h"
#include "nnslim/nnslim.h"
#include "nnslim/distill.h"
#include "nnslim/prune.h"
#include "runtime/plan.h"
#include "synthdata.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define NNS_T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NNS_T_ASAN 1
#endif
#endif
#ifdef NNS_T_ASAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
/* sanitizer/allocator_interface.h, which GCC 12 does not install */
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
                                              void (*f)(const volatile void *));
#endif

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);

static long n_allocs;      /* allocation calls since the reset     */
static long fail_at = -1;  /* fail the fail_at-th call from the reset */
static int trace_failure;  /* print the stack of the failed call      */
static int phase;          /* what allocates: 0 setup, 1 run, 2 teardown */

/* ---- live wrapped blocks ----
 * An open-addressing table (linear probing, backward-shift deletion) of
 * the blocks the wrappers returned and nobody has freed yet, each with its
 * size, a sequence number, the call's number and phase, and its caller.
 * The plain build sees frees through the free() defined below, which
 * forwards to glibc's own (every block still comes from glibc's malloc);
 * the ASan build through the sanitizer's free hook. (mallinfo2 could not
 * tell: blocks freed into glibc's per-thread tcache still count as in use,
 * so it reported leaks that were not there, differently on every run.) */
#define LIVE_BITS 18
#define LIVE_CAP ((size_t)1 << LIVE_BITS)
typedef struct live {
    uintptr_t key; /* ~address: 0 is an empty slot, and LeakSanitizer
                    * must not see the table as holding the blocks */
    size_t n;
    long seq, call;
    int phase;
    void *caller;
} live;
static live live_tab[LIVE_CAP];
static size_t live_count;
static long live_seq; /* wrapped blocks handed out so far */
static char live_lock;

static void live_take(void) {
    while (__atomic_test_and_set(&live_lock, __ATOMIC_ACQUIRE)) {
    }
}
static void live_give(void) { __atomic_clear(&live_lock, __ATOMIC_RELEASE); }
static size_t live_home(uintptr_t key) {
    return (size_t)(((key >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - LIVE_BITS));
}
static void live_add(const void *p, size_t n, void *caller) {
    if (!p) return;
    live_take();
    if (live_count >= LIVE_CAP / 2) {
        static const char m[] = "test_alloc_fail: too many live blocks to track\n";
        ssize_t w = write(2, m, sizeof m - 1);
        (void)w;
        abort();
    }
    uintptr_t key = ~(uintptr_t)p;
    size_t i = live_home(key);
    while (live_tab[i].key && live_tab[i].key != key) i = (i + 1) & (LIVE_CAP - 1);
    if (!live_tab[i].key) live_count++;
    live_tab[i] = (live){key, n, ++live_seq, n_allocs, phase, caller};
    live_give();
}
static void live_del(const void *p) {
    if (!p) return;
    live_take();
    uintptr_t key = ~(uintptr_t)p;
    size_t i = live_home(key);
    while (live_tab[i].key && live_tab[i].key != key) i = (i + 1) & (LIVE_CAP - 1);
    if (live_tab[i].key) {
        live_count--;
        for (size_t j = (i + 1) & (LIVE_CAP - 1); live_tab[j].key; j = (j + 1) & (LIVE_CAP - 1)) {
            size_t h = live_home(live_tab[j].key); /* may j's entry move back to i? */
            int between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (!between) {
                live_tab[i] = live_tab[j];
                i = j;
            }
        }
        live_tab[i].key = 0;
    }
    live_give();
}
/* Blocks handed out after sequence number seq0 and still live; prints up
 * to five of them (after the lock is given back: printing may free). */
static long live_since(long seq0, const char *what) {
    long n = 0;
    live shown[5];
    live_take();
    for (size_t i = 0; i < LIVE_CAP; i++) {
        const live *e = &live_tab[i];
        if (!e->key || e->seq <= seq0) continue;
        if (n < 5) shown[n] = *e;
        n++;
    }
    live_give();
    for (long i = 0; i < n && i < 5 && what; i++) {
        const live *e = &shown[i];
        Dl_info di;
        memset(&di, 0, sizeof di);
        dladdr(e->caller, &di);
        fprintf(stderr, "    %s: %zu bytes from %s allocation %ld, called from %s+%#lx (%s)\n", what, e->n,
                e->phase == 0 ? "setup" : e->phase == 1 ? "the run's" : "teardown", e->call,
                di.dli_fname ? di.dli_fname : "?", (unsigned long)((char *)e->caller - (char *)di.dli_fbase),
                di.dli_sname ? di.dli_sname : "addr2line -f -e it");
    }
    return n;
}

#ifdef NNS_T_ASAN
static void hook_malloc(const volatile void *p, size_t n) { (void)p, (void)n; }
static void hook_free(const volatile void *p) { live_del((const void *)p); }
#else
void __libc_free(void *p);
void free(void *p) {
    live_del(p);
    __libc_free(p);
}
#endif

static int should_fail(void) {
    long k = __atomic_add_fetch(&n_allocs, 1, __ATOMIC_RELAXED);
    if (fail_at < 0 || k != fail_at) return 0;
    if (trace_failure) {
        fprintf(stderr, "  allocation %ld fails here:\n", k);
#ifdef NNS_T_ASAN
        __sanitizer_print_stack_trace();
#else
        void *bt[32];
        backtrace_symbols_fd(bt, backtrace(bt, 32), 2);
#endif
    }
    return 1;
}
#define RA __builtin_return_address(0)
void *__wrap_malloc(size_t n) {
    if (should_fail()) return NULL;
    void *p = __real_malloc(n);
    live_add(p, n, RA);
    return p;
}
void *__wrap_calloc(size_t n, size_t m) {
    if (should_fail()) return NULL;
    void *p = __real_calloc(n, m);
    live_add(p, n * m, RA);
    return p;
}
void *__wrap_realloc(void *p, size_t n) {
    if (should_fail()) return NULL;
    void *q = __real_realloc(p, n);
    if (q || n == 0) live_del(p); /* p was freed (or moved) */
    live_add(q, n, RA);
    return q;
}
void *__wrap_aligned_alloc(size_t a, size_t n) {
    if (should_fail()) return NULL;
    void *p = __real_aligned_alloc(a, n);
    live_add(p, n, RA);
    return p;
}

/* every k up to K_DENSE, then about K_SPARSE more evenly spread (fewer
 * under ASan, about 10x slower, to keep both runs under a minute) */
#ifdef NNS_T_ASAN
#define K_DENSE 150
#define K_SPARSE 100
#else
#define K_DENSE 300
#define K_SPARSE 200
#endif

/* ---- one operation under test ---- */

typedef struct fx {
    nns_graph *g, *g2;   /* the graph(s) the operation works on      */
    nns_dataset d;       /* tiny synthetic data                      */
    char dir[64];        /* a private directory for files            */
    char path[600];      /* an output file inside it (or the model) */
    int64_t params0;     /* g's parameter count before the operation */
    int nodes0;
} fx;

typedef struct op_case {
    const char *name;
    const char *arg;                   /* model or architecture           */
    nns_status (*setup)(fx *f, const char *arg);
    nns_status (*run)(fx *f);          /* frees whatever it made          */
    int (*usable)(fx *f, nns_status st); /* state after a failure is fine */
    nns_status other_ok;               /* a second accepted status, or OK */
    /* what a call that absorbs a failure (returns OK) must leave: equal to
     * a clean run's to 1e-5; NULL: absorbing a failure is wrong */
    const float *(*result)(fx *f, int64_t *n);
    int slow; /* 1: half as many k's beyond every one up to K_DENSE / 2 */
} op_case;

static nns_status setup_arch(fx *f, const char *arch) {
    nns_status st = nns_arch_build(arch, 1, &f->g);
    if (!st) {
        f->params0 = nns_graph_n_params(f->g);
        f->nodes0 = nns_graph_n_nodes(f->g);
    }
    return st;
}
static nns_status setup_arch_data(fx *f, const char *arch) {
    make_data(&f->d, 24, 3);
    return setup_arch(f, arch);
}
static nns_status setup_golden(fx *f, const char *file) {
    char p[512];
    const char *src = getenv("NNS_SOURCE_DIR");
    snprintf(p, sizeof p, "%s/tests/golden/%s", src ? src : ".", file);
    nns_status st = nns_graph_load_onnx(p, &f->g);
    if (!st) {
        f->params0 = nns_graph_n_params(f->g);
        f->nodes0 = nns_graph_n_nodes(f->g);
    }
    snprintf(f->path, sizeof f->path, "%s", p);
    return st;
}

/* Is the graph still whole: same size, and a session runs one sample? */
static int graph_runs(nns_graph *g) {
    nns_session *s = NULL;
    if (nns_session_create(g, 1, &s)) return 0;
    int64_t ni = nns_session_input_size(s), no = nns_session_output_size(s);
    float *x = __real_calloc((size_t)ni, sizeof *x), *y = __real_calloc((size_t)no, sizeof *y);
    int ok = x && y && nns_session_run(s, x, 1, y) == NNS_OK;
    free(x);
    free(y);
    nns_session_free(s);
    return ok;
}
static int unchanged(fx *f, nns_status st) {
    (void)st;
    return nns_graph_n_params(f->g) == f->params0 && nns_graph_n_nodes(f->g) == f->nodes0;
}
static int unchanged_runs(fx *f, nns_status st) { return unchanged(f, st) && graph_runs(f->g); }

/* export: the graph (pruned, so sparse initializers are written too) to a
 * file whose previous content must survive a failure. */
static const char OLD[] = "previous content\n";
static void write_old(const char *path) {
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(OLD, 1, sizeof OLD - 1, fp);
        fclose(fp);
    }
}
static nns_status setup_export(fx *f, const char *arch) {
    nns_status st = setup_arch(f, arch);
    if (!st) st = nns_prune_magnitude(f->g, 0.8f, NNS_PRUNE_SCOPE_GLOBAL, NULL);
    snprintf(f->dir, sizeof f->dir, "/tmp/nns_allocfail_XXXXXX");
    if (!st && !mkdtemp(f->dir)) st = nns_error(NNS_STATUS_IO, "mkdtemp failed");
    snprintf(f->path, sizeof f->path, "%s/out.onnx", f->dir);
    if (!st) write_old(f->path);
    return st;
}
static nns_status run_export(fx *f) { return nns_graph_save_onnx(f->g, f->path); }
static int export_left_nothing(fx *f, nns_status st) {
    (void)st;
    int files = 0;
    DIR *dp = opendir(f->dir);
    if (!dp) return 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) files++;
    closedir(dp);
    char buf[64] = {0};
    FILE *fp = fopen(f->path, "rb");
    size_t got = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp) fclose(fp);
    int same = got == sizeof OLD - 1 && !memcmp(buf, OLD, got);
    if (files != 1 || !same) fprintf(stderr, "  export: %d files left, old output %s\n", files, same ? "kept" : "changed");
    return files == 1 && same;
}

/* data: IDX images (gzip) + labels, and .npy images (gzip) + labels, of 24
 * samples, written into f->dir; the loaders read them. */
static void put_file(const char *path, const void *buf, size_t n, int gz) {
    if (gz) {
        gzFile g = gzopen(path, "wb");
        if (g) {
            gzwrite(g, buf, (unsigned)n);
            gzclose(g);
        }
    } else {
        FILE *fp = fopen(path, "wb");
        if (fp) {
            fwrite(buf, 1, n, fp);
            fclose(fp);
        }
    }
}
static nns_status setup_data_files(fx *f, const char *kind) {
    snprintf(f->dir, sizeof f->dir, "/tmp/nns_allocfail_XXXXXX");
    if (!mkdtemp(f->dir)) return nns_error(NNS_STATUS_IO, "mkdtemp failed");
    static unsigned char buf[128 + 24 * 784];
    char p[700];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 37);
    if (!strcmp(kind, "idx")) {
        const unsigned char ih[16] = {0, 0, 8, 3, 0, 0, 0, 24, 0, 0, 0, 28, 0, 0, 0, 28};
        memcpy(buf, ih, 16);
        snprintf(p, sizeof p, "%s/images", f->dir);
        put_file(p, buf, 16 + 24 * 784, 1);
        const unsigned char lh[8 + 24] = {0, 0, 8, 1, 0, 0, 0, 24, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        snprintf(p, sizeof p, "%s/labels", f->dir);
        put_file(p, lh, sizeof lh, 0);
    } else {
        const char *hx = "{'descr': '|u1', 'fortran_order': False, 'shape': (24, 1, 28, 28), }";
        const char *hy = "{'descr': '<i8', 'fortran_order': False, 'shape': (24,), }";
        for (int k = 0; k < 2; k++) {
            unsigned char *b = k ? (unsigned char[128 + 24 * 8]){0} : buf;
            memcpy(b, "\x93NUMPY\x01\x00\x76\x00", 10);
            memset(b + 10, ' ', 117);
            memcpy(b + 10, k ? hy : hx, strlen(k ? hy : hx));
            b[127] = '\n';
            snprintf(p, sizeof p, "%s/%s", f->dir, k ? "labels" : "images");
            put_file(p, b, 128 + 24 * (k ? 8 : 784), !k);
        }
    }
    snprintf(f->path, sizeof f->path, "%s/images", f->dir);
    return NNS_OK;
}
static nns_status run_load(fx *f, int idx) {
    char pl[700];
    snprintf(pl, sizeof pl, "%s/labels", f->dir);
    nns_dataset d;
    nns_status st = idx ? nns_dataset_load_idx(f->path, pl, 0, &d) : nns_dataset_load_npy(f->path, pl, 0, &d);
    if (!st) nns_dataset_free(&d);
    return st;
}
static nns_status run_load_idx(fx *f) { return run_load(f, 1); }
static nns_status run_load_npy(fx *f) { return run_load(f, 0); }
static void data_teardown_files(fx *f) {
    char p[700];
    snprintf(p, sizeof p, "%s/labels", f->dir);
    unlink(p);
}

static nns_status run_import(fx *f) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_load_onnx(f->path, &g);
    nns_graph_free(g);
    return st;
}

static nns_status run_session(fx *f) {
    nns_session *s = NULL;
    nns_status st = nns_session_create(f->g, 4, &s);
    if (!st) {
        int64_t ni = nns_session_input_size(s), no = nns_session_output_size(s);
        float *x = __real_calloc((size_t)(6 * ni), sizeof *x), *y = __real_calloc((size_t)(6 * no), sizeof *y);
        st = nns_session_run(s, x, 6, y); /* two chunks */
        free(x);
        free(y);
    }
    nns_session_free(s);
    return st;
}

static nns_status run_plan(fx *f) {
    float *grads = __real_calloc((size_t)f->g->n_params, sizeof *grads);
    nns_plan *p = NULL, *q = NULL;
    nns_status st = nns_plan_create(f->g, 8, 1, grads, &p);
    if (!st) st = nns_plan_create(f->g, 8, NNS_PLAN_INFER_FUSED, NULL, &q);
    nns_plan_free(p);
    nns_plan_free(q);
    free(grads);
    return st;
}

static nns_status run_eval(fx *f) {
    nns_eval_result r;
    memset(&r, 0, sizeof r);
    nns_status st = nns_evaluate(f->g, &f->d, 10, &r);
    nns_eval_result_free(&r);
    return st;
}

static nns_status run_structured(fx *f) {
    nns_structured_config c;
    memset(&c, 0, sizeof c);
    c.ratio = 0.5f;
    c.round_to = 1;
    c.criterion = NNS_PRUNE_CRITERION_L1;
    return nns_prune_structured(f->g, &c, NULL);
}
static nns_status run_structured_taylor(fx *f) {
    nns_structured_config c;
    memset(&c, 0, sizeof c);
    c.ratio = 0.25f;
    c.round_to = 1;
    c.criterion = NNS_PRUNE_CRITERION_TAYLOR;
    c.data = &f->d;
    c.taylor_batches = 1;
    c.batch_size = 4;
    nns_graph *g = NULL;
    nns_status st = nns_graph_clone(f->g, &g);
    if (!st) st = nns_prune_structured(g, &c, NULL);
    nns_graph_free(g);
    return st;
}

static nns_status run_magnitude(fx *f) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_clone(f->g, &g);
    if (!st) st = nns_prune_magnitude(g, 0.5f, NNS_PRUNE_SCOPE_GLOBAL, NULL);
    if (!st) st = nns_prune_magnitude(g, 0.7f, NNS_PRUNE_SCOPE_LAYER, NULL);
    if (!st) st = nns_prune_nm(g, 2, 4, NULL);
    nns_graph_free(g);
    return st;
}
/* magnitude pruning in place on the fixture's graph (masks created here) */
static nns_status run_magnitude_inplace(fx *f) {
    return nns_prune_magnitude(f->g, 0.5f, NNS_PRUNE_SCOPE_GLOBAL, NULL);
}

static nns_status setup_distill(fx *f, const char *arch) {
    nns_status st = setup_arch_data(f, arch);
    if (!st) st = nns_graph_scale_width(f->g, 0.5f, 2, &f->g2);
    if (!st) {
        f->params0 = nns_graph_n_params(f->g2);
        f->nodes0 = nns_graph_n_nodes(f->g2);
    }
    return st;
}
static nns_status run_distill(fx *f) {
    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = 2;
    c.batch_size = 10;
    c.threads = 1;
    nns_distill_config dc;
    nns_distill_config_default(&dc);
    nns_distill_hint h = {NNS_DISTILL_HINT_AUTO, NNS_DISTILL_HINT_AUTO, 1.0f};
    dc.hints = &h;
    dc.n_hints = 1;
    nns_train_result r;
    return nns_distill(f->g, f->g2, &f->d, NULL, &c, &dc, &r);
}
/* The teacher cache is optional: without it the teacher runs every step,
 * which trains the same student to float rounding (docs/distillation.md). */
static const float *student_params(fx *f, int64_t *n) {
    *n = f->g2->n_params;
    return f->g2->params;
}
static int student_unchanged(fx *f, nns_status st) {
    if (st == NNS_OK) return graph_runs(f->g2); /* absorbed: trained */
    return nns_graph_n_params(f->g2) == f->params0 && nns_graph_n_nodes(f->g2) == f->nodes0 &&
           graph_runs(f->g2);
}

static nns_status run_clone(fx *f) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_clone(f->g, &g);
    nns_graph_free(g);
    return st;
}
static nns_status run_summary(fx *f) {
    nns_layer_info *L = NULL;
    int n = 0;
    int64_t p, nz, m;
    nns_status st = nns_graph_summarize(f->g, &L, &n, &p, &nz, &m);
    free(L);
    return st;
}
static nns_status run_scale_width(fx *f) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_scale_width(f->g, 0.5f, 7, &g);
    nns_graph_free(g);
    return st;
}
static nns_status run_train(fx *f) {
    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = 1;
    c.batch_size = 10;
    c.threads = 1;
    nns_train_result r;
    return nns_train(f->g, &f->d, &f->d, &c, &r);
}

static void teardown(fx *f) {
    if (f->dir[0]) data_teardown_files(f);
    nns_graph_free(f->g);
    nns_graph_free(f->g2);
    nns_dataset_free(&f->d);
    if (f->dir[0]) {
        unlink(f->path);
        rmdir(f->dir);
    }
    memset(f, 0, sizeof *f);
}

/* ---- the driver ---- */

typedef struct row {
    long n, tried, clean, absorbed, bad_status, unusable, leaked, crashed;
    double seconds;
} row;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One clean run's result, for cases that may absorb a failure. */
typedef struct ref {
    float *v;
    int64_t n;
} ref;
static int same_result(const op_case *c, fx *f, const ref *r) {
    int64_t n = 0;
    const float *v = c->result(f, &n);
    if (n != r->n || !v) return 0;
    for (int64_t i = 0; i < n; i++)
        if (!(fabsf(v[i] - r->v[i]) <= 1e-5f)) return 0;
    return 1;
}

/* Clean runs: the first may make one-time allocations (caches, thread
 * pools), the second is counted (and its result kept). */
static nns_status count_clean(const op_case *c, long *n, ref *r) {
    nns_status st = NNS_OK;
    for (int pass = 0; pass < 2 && !st; pass++) {
        fx f;
        memset(&f, 0, sizeof f);
        st = c->setup(&f, c->arg);
        n_allocs = 0;
        if (!st) st = c->run(&f);
        *n = n_allocs;
        if (!st && pass == 1 && c->result) {
            const float *v = c->result(&f, &r->n);
            r->v = __real_malloc((size_t)(r->n ? r->n : 1) * sizeof(float));
            if (r->v) memcpy(r->v, v, (size_t)r->n * sizeof(float));
        }
        teardown(&f);
    }
    return st;
}

/* Fail the k-th allocation of one run on a fresh fixture; 0 if setup failed. */
static int try_k(const op_case *c, long k, const ref *rf, row *r) {
    long seq0 = live_seq;
    fx g;
    memset(&g, 0, sizeof g);
    phase = 0;
    if (c->setup(&g, c->arg)) {
        CHECK_MSG(0, "%s: setup failed: %s", c->name, nns_last_error());
        return 0;
    }
    n_allocs = 0;
    fail_at = k;
    phase = 1;
    nns_status st = c->run(&g);
    fail_at = -1;
    r->tried++;
    int failed_here = n_allocs >= k;
    if (!failed_here) {
        /* the run made fewer allocations this time (e.g. a different
         * chunking): it must then have succeeded */
        if (st) r->bad_status++;
    } else if (st == NNS_STATUS_NOMEM || (c->other_ok && st == c->other_ok)) {
        r->clean++;
    } else if (st == NNS_OK && c->result && rf->v && same_result(c, &g, rf)) {
        r->clean++;
        r->absorbed++;
    } else {
        r->bad_status++;
        fprintf(stderr, "  %s: allocation %ld failed -> %s (%s)\n", c->name, k, nns_status_str(st),
                st ? nns_last_error() : "a different result from a clean run");
    }
    if (failed_here && c->usable && !c->usable(&g, st)) {
        r->unusable++;
        fprintf(stderr, "  %s: allocation %ld failed -> state not usable afterwards\n", c->name, k);
    }
    phase = 2;
    teardown(&g);
    char what[128];
    snprintf(what, sizeof what, "%s, allocation %ld failed, leaked", c->name, k);
    if (live_since(seq0, what)) r->leaked++;
    return 1;
}

/* k = from.. (only only_k if > 0); *cur is the k being tried (0: the
 * clean runs), for the parent to know where a crash happened. */
static void run_case(const op_case *c, row *r, long from, long only_k, int all_k, volatile long *cur) {
    double t0 = now();
    ref rf = {NULL, 0};
    long n = 0;
    nns_status st0 = count_clean(c, &n, &rf);
    CHECK_MSG(st0 == NNS_OK, "%s: clean run failed: %s", c->name, nns_last_error());
    if (st0) return;
    r->n = n;
    long dense = c->slow ? K_DENSE / 2 : K_DENSE, sparse = c->slow ? K_SPARSE / 2 : K_SPARSE;
    long stride = !all_k && n > dense ? (n - dense) / sparse + 1 : 1;
    trace_failure = only_k > 0;
    for (long k = only_k > 0 ? only_k : from; k <= n; k += (k < dense ? 1 : stride)) {
        *cur = k;
        if (!try_k(c, k, &rf, r) || only_k > 0) break;
    }
    trace_failure = 0;
    free(rf.v);
#ifdef NNS_T_ASAN
    if (__lsan_do_recoverable_leak_check() && !r->leaked) r->leaked++; /* one the table missed */
#endif
    r->seconds += now() - t0;
}

/* Each case runs in a child process, so that a crash (a signal, or a
 * sanitizer's report) is counted and the case goes on from the next k.
 * The parent runs no library code, so each child starts OpenMP afresh. */
typedef struct shared_case {
    row r;
    long k;
    int finished, pass, fail;
} shared_case;

static void run_case_forked(const op_case *c, row *out, long only_k, int all_k) {
    shared_case *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        CHECK_MSG(0, "%s: mmap failed", c->name);
        return;
    }
    for (long from = 1;;) {
        sh->k = 0;
        sh->finished = 0;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            nns_set_threads(1);
            nns_t_pass = nns_t_fail = 0;
            run_case(c, &sh->r, from, only_k, all_k, &sh->k);
            sh->pass = nns_t_pass;
            sh->fail = nns_t_fail;
            sh->finished = 1;
            fflush(stdout);
            fflush(stderr);
            _exit(0); /* no exit-time leak check: each case made its own */
        }
        int ws = 0;
        if (pid < 0 || waitpid(pid, &ws, 0) < 0) {
            CHECK_MSG(0, "%s: fork or wait failed", c->name);
            break;
        }
        nns_t_pass += sh->pass;
        nns_t_fail += sh->fail;
        sh->pass = sh->fail = 0;
        if (sh->finished) break;
        sh->r.crashed++;
        fprintf(stderr, "  %s: allocation %ld failed -> crashed (%s %d)\n", c->name, sh->k,
                WIFSIGNALED(ws) ? "signal" : "exit status", WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
        if (sh->k <= 0 || only_k > 0) break; /* in the clean runs: no k to skip */
        sh->r.tried++;
        from = sh->k + 1;
    }
    *out = sh->r;
    munmap(sh, sizeof *sh);
}

int main(void) {
#ifdef NNS_T_ASAN
    __sanitizer_install_malloc_and_free_hooks(hook_malloc, hook_free);
#endif
    const op_case cases[] = {
        {"onnx export (pruned lenet5)", "lenet5", setup_export, run_export, export_left_nothing, 0, NULL, 0},
        {"onnx import lenet5.onnx", "lenet5.onnx", setup_golden, run_import, NULL, 0, NULL, 0},
        {"onnx import resnet8_bn.onnx", "resnet8_bn.onnx", setup_golden, run_import, NULL, 0, NULL, 0},
        {"session create+run (mobilenet.onnx)", "mobilenet.onnx", setup_golden, run_session, unchanged_runs, 0, NULL, 0},
        {"plan create train+fused (resnet8)", "resnet8", setup_arch, run_plan, unchanged_runs, 0, NULL, 0},
        {"eval (lenet5, 24 images)", "lenet5", setup_arch_data, run_eval, unchanged_runs, 0, NULL, 0},
        {"train 1 epoch (lenet5)", "lenet5", setup_arch_data, run_train, unchanged_runs, 0, NULL, 0},
        {"structured L1 (resnet8)", "resnet8", setup_arch, run_structured, unchanged_runs, 0, NULL, 0},
        {"structured taylor (mobilenet)", "mobilenet", setup_arch_data, run_structured_taylor, unchanged_runs, 0, NULL,
         1},
        {"magnitude+N:M on a clone (resnet8)", "resnet8", setup_arch, run_magnitude, NULL, 0, NULL, 0},
        {"magnitude in place (lenet5)", "lenet5", setup_arch, run_magnitude_inplace, unchanged_runs, 0, NULL, 0},
        {"distill + hint (lenet5 -> 0.5x)", "lenet5", setup_distill, run_distill, student_unchanged, 0,
         student_params, 0},
        {"graph clone (resnet8)", "resnet8", setup_arch, run_clone, NULL, 0, NULL, 0},
        {"summary (mobilenet)", "mobilenet", setup_arch, run_summary, NULL, 0, NULL, 0},
        {"scale width (resnet8)", "resnet8", setup_arch, run_scale_width, NULL, 0, NULL, 0},
        {"load IDX, gzip images (24)", "idx", setup_data_files, run_load_idx, NULL, 0, NULL, 0},
        {"load .npy, gzip images (24)", "npy", setup_data_files, run_load_npy, NULL, 0, NULL, 0},
    };
    const int nc = (int)(sizeof cases / sizeof cases[0]);
    const char *only = getenv("NNS_ALLOC_FAIL_ONLY"); /* a substring of a case name */
    const char *ks = getenv("NNS_ALLOC_FAIL_K");
    const char *all = getenv("NNS_ALLOC_FAIL_ALL");
    long only_k = ks ? atol(ks) : 0;
    row rows[sizeof cases / sizeof cases[0]];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < nc; i++) {
        if (only && !strstr(cases[i].name, only)) continue;
        run_case_forked(&cases[i], &rows[i], only_k, all && atoi(all) > 0);
        row *r = &rows[i];
        CHECK_MSG(r->crashed == 0, "%s: %ld crashes", cases[i].name, r->crashed);
        CHECK_MSG(r->bad_status == 0, "%s: %ld wrong statuses", cases[i].name, r->bad_status);
        CHECK_MSG(r->unusable == 0, "%s: %ld unusable states", cases[i].name, r->unusable);
        CHECK_MSG(r->leaked == 0, "%s: %ld leaks", cases[i].name, r->leaked);
        fprintf(stderr,
                "%-38s N %6ld  tried %5ld  clean %5ld (absorbed %ld)  wrong %ld  unusable %ld  crash %ld  leaks %ld  %.1f s\n",
                cases[i].name, r->n, r->tried, r->clean, r->absorbed, r->bad_status, r->unusable, r->crashed,
                r->leaked, r->seconds);
    }
    printf("%-38s %7s %6s %6s %6s %6s\n", "operation", "N", "tried", "clean", "crash", "leaks");
    for (int i = 0; i < nc; i++)
        if (rows[i].tried)
            printf("%-38s %7ld %6ld %6ld %6ld %6ld\n", cases[i].name, rows[i].n, rows[i].tried, rows[i].clean,
                   rows[i].crashed, rows[i].leaked);
    TEST_MAIN_END();
}
