/* bench_qgemm.c — the u8 x s8 -> s32 GEMM micro-kernels (kernel family
 * qgemm_u8s8, quad layout, src/kernels/kernels.h) against the int8 peak of
 * their ISA, single thread.
 *
 * Build (from the repository root, after building the library in build/):
 *   cc -O2 -fopenmp -Iinclude -Isrc bench/bench_qgemm.c build/libnnslim.a \
 *      $(pkg-config --libs openblas libprotobuf-c zlib) -lm -o bench_qgemm
 * Run: ./bench_qgemm [--reps R] [--out FILE]   (FILE gets the same text)
 *
 * Variants: the qgemm_u8s8 of nns_kernels_for_isa(level) for every level the
 * CPU has (duplicates once), named after kernel_list.h. Shapes (m x n x k):
 * 512^3; the im2col GEMMs of one vggsmall image, conv1..conv4 (32,784,9),
 * (32,784,288), (64,196,288), (64,196,576); fc1 at batch 64 (256,64,3136).
 * The operands are prepared once (x already in quads: the kernels take it so;
 * no packing step is timed; buffers from malloc). Each timing runs the
 * kernel enough times to take ~5 ms; the variants are timed in turn, R
 * rounds (default 15), so they share the machine's disturbances (the 2 cores
 * are shared: a neighbour can halve a timing); the figures are the median
 * and the best timing. GOP/s = 2*m*n*k / time (k as given, not padded to
 * quads); %peak = median / peak, %best = best / peak.
 *
 * Peak. Measured here, not assumed: a loop of 12 independent accumulator
 * chains of the ISA's int8 multiply-add instruction (inline assembly,
 * register operands only, 120 per loop iteration) gives that instruction's
 * throughput; best of R runs in each of 7 passes (one before the timings,
 * one after each shape: a disturbed pass does not lower it):
 *   avx512vnni: vpdpbusd zmm  = 64 u8*s8 MACs = 128 ops per instruction;
 *   avxvnni:    vpdpbusd ymm (VEX) = 32 MACs = 64 ops;
 *   avx2:       vpmaddwd ymm + vpaddd ymm (the exact path's pair: 16 MACs on
 *               16-bit widened values, added into int32) = 32 ops per pair;
 *   ref:        no peak (compiler-vectorised scalar code).
 * peak GOP/s = instructions per second x ops per instruction. The clock is
 * measured by a chain of dependent 64-bit adds (1 cycle each) and shown with
 * /proc/cpuinfo's 'cpu MHz' for reference; instructions per cycle = measured
 * rate / measured clock. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_dbl(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- peak: throughput loops ------------------------------------------ */

#define PEAK_ITERS 200000L
/* 12 accumulators (registers 0-11) x 10: 120 instructions per iteration;
 * sources registers 12, 13 (contents irrelevant to the timing). */
#define R12(body) ".irp i,0,1,2,3,4,5,6,7,8,9,10,11\n" body "\n.endr\n"
#define CLOBBER12 "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11"

__attribute__((target("avx512f,avx512vnni"))) static int64_t loop_vpdpbusd_zmm(long iters) {
    __asm__ volatile("1:\n.rept 10\n" R12("vpdpbusd %%zmm13, %%zmm12, %%zmm\\i") ".endr\n\tdec %0\n\tjnz 1b"
                     : "+r"(iters)
                     :
                     : CLOBBER12, "cc");
    return iters;
}

__attribute__((target("avx2,avxvnni"))) static int64_t loop_vpdpbusd_ymm(long iters) {
    __asm__ volatile("1:\n.rept 10\n" R12("%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm\\i") ".endr\n\tdec %0\n\tjnz 1b"
                     : "+r"(iters)
                     :
                     : CLOBBER12, "cc");
    return iters;
}

/* One "instruction" here is the pair vpmaddwd + vpaddd (product into
 * register 14, added into an accumulator). */
__attribute__((target("avx2"))) static int64_t loop_vpmaddwd_ymm(long iters) {
    __asm__ volatile("1:\n.rept 10\n" R12("vpmaddwd %%ymm13, %%ymm12, %%ymm14\n\tvpaddd %%ymm14, %%ymm\\i, %%ymm\\i")
                         ".endr\n\tdec %0\n\tjnz 1b"
                     : "+r"(iters)
                     :
                     : CLOBBER12, "xmm14", "cc");
    return iters;
}

/* Dependent adds: 100 per iteration, one cycle each. */
static int64_t loop_adds(long iters) {
    uint64_t v = 0;
    for (long it = 0; it < iters; it++) __asm__ volatile(".rept 100\n\taddq $1, %0\n\t.endr" : "+r"(v));
    return (int64_t)v;
}

typedef int64_t (*loop_fn)(long);
static volatile int64_t sink;

/* Best rate (loop bodies per second, x per_iter) of `reps` runs. */
static double best_rate(loop_fn f, double per_iter, int reps) {
    double best = 0;
    sink += f(PEAK_ITERS / 20); /* warm up (clock, AVX-512 units) */
    for (int r = 0; r < reps; r++) {
        const double t0 = now();
        sink += f(PEAK_ITERS);
        const double rate = per_iter * PEAK_ITERS / (now() - t0);
        if (rate > best) best = rate;
    }
    return best;
}

/* ---- variants ---------------------------------------------------------- */

typedef struct variant {
    nns_qgemm_u8s8_fn fn;
    const char *name, *suffix;
    double peak_gops; /* 0: none */
} variant;

static const char *variant_name(nns_qgemm_u8s8_fn fn, const char **suffix) {
    *suffix = "ref";
#define NNS_VARIANT(family, sfx, symbol)                                                                     \
    if (fn == _Generic(symbol, nns_qgemm_u8s8_fn: symbol, default: (nns_qgemm_u8s8_fn)0)) {             \
        *suffix = #sfx;                                                                                       \
        return #symbol;                                                                                       \
    }
#include "kernels/kernel_list.h"
    return fn == nns_qgemm_u8s8__ref ? "nns_qgemm_u8s8__ref" : "?";
}

static int find_variants(variant *v, int max) {
    int nv = 0;
    for (int l = 0; l < NNS_ISA_COUNT; l++) {
        if (!nns_isa_supported((nns_isa)l)) continue;
        const nns_qgemm_u8s8_fn fn = nns_kernels_for_isa((nns_isa)l)->qgemm_u8s8;
        int dup = 0;
        for (int i = 0; i < nv; i++) dup |= v[i].fn == fn;
        if (dup || nv == max) continue;
        v[nv].fn = fn;
        v[nv].name = variant_name(fn, &v[nv].suffix);
        v[nv].peak_gops = 0;
        nv++;
    }
    return nv;
}

/* ---- timing ------------------------------------------------------------ */

typedef struct shape {
    const char *name;
    int m, n, k;
} shape;

static const shape SHAPES[] = {
    {"square512", 512, 512, 512}, {"vgg.conv1", 32, 784, 9},   {"vgg.conv2", 32, 784, 288},
    {"vgg.conv3", 64, 196, 288},  {"vgg.conv4", 64, 196, 576}, {"vgg.fc1.b64", 256, 64, 3136},
};

typedef struct operands {
    int8_t *w;
    uint8_t *xq;
    int32_t *bias, *acc;
    size_t ldw, ldq;
} operands;

static operands make_operands(const shape *s) {
    operands o;
    const int kq = nns_quads(s->k);
    o.ldw = 4 * (size_t)kq;
    o.ldq = nns_quad_row_bytes(s->n);
    o.w = calloc((size_t)s->m * o.ldw, 1);
    uint8_t *x = malloc((size_t)s->k * s->n);
    o.xq = malloc((size_t)kq * o.ldq);
    o.bias = malloc((size_t)s->m * sizeof *o.bias);
    o.acc = malloc((size_t)s->m * s->n * sizeof *o.acc);
    if (!o.w || !x || !o.xq || !o.bias || !o.acc) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    srand(1);
    for (int i = 0; i < s->m; i++) {
        o.bias[i] = rand() % 1000;
        for (int l = 0; l < s->k; l++) o.w[(size_t)i * o.ldw + l] = (int8_t)(rand() % 256 - 128);
    }
    for (size_t i = 0; i < (size_t)s->k * s->n; i++) x[i] = (uint8_t)(rand() % 256);
    nns_u8_pack_quads__ref(s->k, s->n, x, (size_t)s->n, o.xq, o.ldq);
    free(x);
    return o;
}

static void free_operands(operands *o) {
    free(o->w);
    free(o->xq);
    free(o->bias);
    free(o->acc);
}

/* Calls of fn that take ~5 ms. */
static long calibrate(nns_qgemm_u8s8_fn fn, const shape *s, const operands *o) {
    fn(s->m, s->n, s->k, o->w, o->ldw, o->xq, o->ldq, o->bias, o->acc, (size_t)s->n);
    const double t0 = now();
    long calls = 0;
    while (now() - t0 < 0.001) {
        fn(s->m, s->n, s->k, o->w, o->ldw, o->xq, o->ldq, o->bias, o->acc, (size_t)s->n);
        calls++;
    }
    return calls * 5;
}

/* Seconds per call of each variant: reps rounds, each timing every variant
 * once in turn (so that they share the machine's disturbances), ~5 ms per
 * timing; median and best per variant. */
static void time_variants(const variant *v, int nv, const shape *s, const operands *o, int reps, double *med,
                          double *best) {
    static double t[NNS_ISA_COUNT][64];
    long inner[NNS_ISA_COUNT];
    for (int i = 0; i < nv; i++) inner[i] = calibrate(v[i].fn, s, o);
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < nv; i++) {
            const double t0 = now();
            for (long c = 0; c < inner[i]; c++)
                v[i].fn(s->m, s->n, s->k, o->w, o->ldw, o->xq, o->ldq, o->bias, o->acc, (size_t)s->n);
            t[i][r] = (now() - t0) / inner[i];
        }
    for (int i = 0; i < nv; i++) {
        qsort(t[i], (size_t)reps, sizeof t[i][0], cmp_dbl);
        med[i] = t[i][reps / 2];
        best[i] = t[i][0];
    }
}

/* 1 if every variant's result equals the first one's (the reference). */
static int check_same(const variant *v, int nv, const shape *s, const operands *o) {
    const size_t cnt = (size_t)s->m * s->n;
    int32_t *want = malloc(cnt * sizeof *want);
    int ok = 1;
    v[0].fn(s->m, s->n, s->k, o->w, o->ldw, o->xq, o->ldq, o->bias, want, (size_t)s->n);
    for (int i = 1; i < nv; i++) {
        memset(o->acc, 0, cnt * sizeof *o->acc);
        v[i].fn(s->m, s->n, s->k, o->w, o->ldw, o->xq, o->ldq, o->bias, o->acc, (size_t)s->n);
        if (memcmp(want, o->acc, cnt * sizeof *want)) {
            fprintf(stderr, "%s differs from %s on %s\n", v[i].name, v[0].name, s->name);
            ok = 0;
        }
    }
    free(want);
    return ok;
}

/* ---- report ------------------------------------------------------------ */

static FILE *out_file;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (out_file) {
        va_start(ap, fmt);
        vfprintf(out_file, fmt, ap);
        va_end(ap);
    }
}

static void first_line_of(const char *cmd, const char *file, const char *key, char *buf, size_t n) {
    FILE *f = cmd ? popen(cmd, "r") : fopen(file, "r");
    snprintf(buf, n, "?");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (key && strncmp(line, key, strlen(key))) continue;
        const char *p = key ? strchr(line, ':') : NULL;
        p = p ? p + 2 : line;
        snprintf(buf, n, "%s", p);
        buf[strcspn(buf, "\n")] = 0;
        break;
    }
    if (cmd)
        pclose(f);
    else
        fclose(f);
}

static void header(void) {
    char commit[64], model[256], mhz[64], date[64];
    const time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%MZ", gmtime(&t));
    first_line_of("git describe --always --dirty 2>/dev/null", NULL, NULL, commit, sizeof commit);
    first_line_of(NULL, "/proc/cpuinfo", "model name", model, sizeof model);
    first_line_of(NULL, "/proc/cpuinfo", "cpu MHz", mhz, sizeof mhz);
    say("# %s bench/bench_qgemm.c, commit %s, CPU %s, single thread\n", date, commit, model);
    say("# CPU features:");
    const uint32_t f = nns_cpu_features();
    for (int b = 0; b < NNS_CPU_FEATURE_COUNT; b++)
        if (f & (1u << b)) say(" %s", nns_cpu_feature_name(b));
    say("\n# /proc/cpuinfo cpu MHz: %s\n", mhz);
}

typedef struct peak {
    const char *suffix, *what;
    loop_fn f;
    double ops;    /* per instruction */
    uint32_t need; /* NNS_CPU_* */
    double ips;    /* best instructions per second so far */
} peak;

static peak PEAKS[] = {
    {"avx512vnni", "vpdpbusd zmm (128 ops)", loop_vpdpbusd_zmm, 128, NNS_SUFFIX_avx512vnni, 0},
    {"avxvnni", "vpdpbusd ymm (64 ops)", loop_vpdpbusd_ymm, 64, NNS_SUFFIX_avxvnni, 0},
    {"avx2", "vpmaddwd+vpaddd ymm (32 ops)", loop_vpmaddwd_ymm, 32, NNS_SUFFIX_avx2, 0},
};
#define NPEAKS (int)(sizeof PEAKS / sizeof PEAKS[0])
static double clock_hz;

/* One pass of the clock and peak loops (best of reps runs each); the
 * figures keep the best over all passes. */
static void measure_peaks(int reps) {
    const double hz = best_rate(loop_adds, 100, reps);
    if (hz > clock_hz) clock_hz = hz;
    for (int p = 0; p < NPEAKS; p++) {
        if ((PEAKS[p].need & ~nns_cpu_features()) != 0) continue;
        const double ips = best_rate(PEAKS[p].f, 120, reps);
        if (ips > PEAKS[p].ips) PEAKS[p].ips = ips;
    }
}

static void print_peaks(variant *v, int nv, int passes, int reps) {
    say("# clock (dependent adds): %.0f MHz; peaks and clock: best of %d passes x %d runs, one pass before the\n"
        "# timings and one after each shape\n",
        clock_hz * 1e-6, passes, reps);
    for (int p = 0; p < NPEAKS; p++) {
        if (PEAKS[p].ips <= 0) continue;
        const double ips = PEAKS[p].ips;
        say("# peak %-10s %-30s %6.2f /cycle -> %4.0f ops/cycle, %7.1f GOP/s\n", PEAKS[p].suffix, PEAKS[p].what,
            ips / clock_hz, ips / clock_hz * PEAKS[p].ops, ips * PEAKS[p].ops * 1e-9);
        for (int i = 0; i < nv; i++)
            if (!strcmp(v[i].suffix, PEAKS[p].suffix)) v[i].peak_gops = ips * PEAKS[p].ops * 1e-9;
    }
}

#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

static void print_table(const variant *v, int nv, int reps, double med[][NNS_ISA_COUNT],
                        double best[][NNS_ISA_COUNT]) {
    say("# GOP/s = 2*m*n*k / time, median of %d timings (variants timed in turn); best = fastest timing;\n"
        "# %%peak = GOP/s / peak, %%best = best / peak (peak and best are both the least disturbed runs)\n",
        reps);
    say("%-12s %4s %4s %5s  %-32s %8s %8s %6s %6s\n", "shape", "m", "n", "k", "variant", "GOP/s", "best", "%peak",
        "%best");
    for (int s = 0; s < NSHAPES; s++) {
        const shape *sh = &SHAPES[s];
        const double ops = 2.0 * sh->m * sh->n * sh->k;
        for (int i = 0; i < nv; i++) {
            const double g = ops / med[s][i] * 1e-9, gb = ops / best[s][i] * 1e-9;
            char pct[16] = "-", pctb[16] = "-";
            if (v[i].peak_gops > 0) {
                snprintf(pct, sizeof pct, "%.0f%%", 100 * g / v[i].peak_gops);
                snprintf(pctb, sizeof pctb, "%.0f%%", 100 * gb / v[i].peak_gops);
            }
            say("%-12s %4d %4d %5d  %-32s %8.1f %8.1f %6s %6s\n", sh->name, sh->m, sh->n, sh->k, v[i].name, g, gb,
                pct, pctb);
        }
    }
}

int main(int argc, char **argv) {
    int reps = 15;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--reps") && a + 1 < argc)
            reps = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--out") && a + 1 < argc) {
            out_file = fopen(argv[++a], "w");
            if (!out_file) {
                perror(argv[a]);
                return 1;
            }
        } else {
            fprintf(stderr, "usage: %s [--reps R] [--out FILE]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (reps > 64) reps = 64;
    variant v[NNS_ISA_COUNT];
    const int nv = find_variants(v, NNS_ISA_COUNT);
    static double med[NSHAPES][NNS_ISA_COUNT], best[NSHAPES][NNS_ISA_COUNT];
    int ok = 1;
    measure_peaks(reps);
    for (int s = 0; s < NSHAPES; s++) {
        operands o = make_operands(&SHAPES[s]);
        ok &= check_same(v, nv, &SHAPES[s], &o);
        time_variants(v, nv, &SHAPES[s], &o, reps, med[s], best[s]);
        free_operands(&o);
        measure_peaks(reps);
    }
    header();
    print_peaks(v, nv, NSHAPES + 1, reps);
    print_table(v, nv, reps, med, best);
    if (out_file) fclose(out_file);
    return ok ? 0 : 1;
}
