/* dispatch.c — CPU feature detection and the kernel tables: one per ISA
 * level (isa.def) and the process default, each filled from kernel_list.h
 * with, per family, the first variant whose suffix's features the table
 * allows, else the reference. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernels/kernels.h"
#include "nnslim/runtime.h"
#include "nnslim/status.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define NNS_X86 1
#endif

#define NNS_S(suffix) | NNS_SUFFIX_##suffix
static const uint32_t level_features[NNS_ISA_COUNT] = {
#define NNS_LEVEL(E, name, suffixes) [NNS_ISA_##E] = 0 suffixes,
#include "kernels/isa.def"
};
static const char *const level_names[NNS_ISA_COUNT] = {
#define NNS_LEVEL(E, name, suffixes) [NNS_ISA_##E] = #name,
#include "kernels/isa.def"
};
static const char *const feature_names[NNS_CPU_FEATURE_COUNT] = {
#define X(E, name) [NNS_CPU_BIT_##E] = #name,
    NNS_CPU_FEATURE_LIST(X)
#undef X
};
static const struct {
    const char *name;
    uint32_t features;
} suffixes[] = {
#define NNS_SUFFIX(suffix, features) {#suffix, NNS_SUFFIX_##suffix},
#include "kernels/isa.def"
};

static nns_kernels tables[NNS_ISA_COUNT];
static nns_kernels active;
static uint32_t cpu_features;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

#ifdef NNS_X86
/* XCR0: which register states the OS saves (bit 1 SSE, 2 YMM, 5-7 ZMM). */
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* __builtin_cpu_supports for the names gcc 12 and clang 14 both know (it
 * also checks the OS state); cpuid for F16C (leaf 1 ecx 29) and AVX-VNNI
 * (leaf 7.1 eax 4); every feature also needs its register state in XCR0. */
static void cpu_detect(void) {
    uint32_t f = 0;
#ifdef NNS_X86
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c >> 27 & 1)) { /* OSXSAVE */
        const uint64_t xcr0 = xgetbv0();
        const int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
        const int f16c = c >> 29 & 1;
        __builtin_cpu_init();
        if (ymm) {
            if (__builtin_cpu_supports("avx2")) f |= NNS_CPU_AVX2;
            if (__builtin_cpu_supports("fma")) f |= NNS_CPU_FMA;
            if (f16c) f |= NNS_CPU_F16C;
            if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1)) f |= NNS_CPU_AVXVNNI;
        }
        if (ymm && zmm) {
            if (__builtin_cpu_supports("avx512f")) f |= NNS_CPU_AVX512F;
            if (__builtin_cpu_supports("avx512bw")) f |= NNS_CPU_AVX512BW;
            if (__builtin_cpu_supports("avx512dq")) f |= NNS_CPU_AVX512DQ;
            if (__builtin_cpu_supports("avx512vl")) f |= NNS_CPU_AVX512VL;
            if (__builtin_cpu_supports("avx512vnni")) f |= NNS_CPU_AVX512VNNI;
            if (__builtin_cpu_supports("avx512bf16")) f |= NNS_CPU_AVX512BF16;
        }
    }
#endif
    cpu_features = f;
}

uint32_t nns_cpu_features(void) {
    pthread_once(&cpu_once, cpu_detect);
    return cpu_features;
}

const char *nns_cpu_feature_name(int b) {
    return b >= 0 && b < NNS_CPU_FEATURE_COUNT ? feature_names[b] : "?";
}

uint32_t nns_suffix_features(const char *suffix) {
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (!strcmp(suffix, suffixes[i].name)) return suffixes[i].features;
    return 0;
}

const char *nns_isa_name(nns_isa isa) {
    return (int)isa >= 0 && isa < NNS_ISA_COUNT ? level_names[isa] : "?";
}

int nns_isa_from_name(const char *name, nns_isa *out) {
    for (int l = 0; name && l < NNS_ISA_COUNT; l++)
        if (!strcasecmp(name, level_names[l])) {
            *out = (nns_isa)l;
            return 1;
        }
    return 0;
}

uint32_t nns_isa_features(nns_isa isa) {
    return (int)isa >= 0 && isa < NNS_ISA_COUNT ? level_features[isa] : 0;
}

int nns_isa_supported(nns_isa isa) {
    return (int)isa >= 0 && isa < NNS_ISA_COUNT && (level_features[isa] & ~nns_cpu_features()) == 0;
}

/* The supported level with the most features among those within `allowed`. */
static nns_isa best_level_within(uint32_t allowed) {
    nns_isa best = NNS_ISA_SCALAR;
    for (int l = 0; l < NNS_ISA_COUNT; l++)
        if (nns_isa_supported((nns_isa)l) && (level_features[l] & ~allowed) == 0 &&
            __builtin_popcount(level_features[l]) > __builtin_popcount(level_features[best]))
            best = (nns_isa)l;
    return best;
}

nns_isa nns_isa_detect(void) { return best_level_within(~0u); }

static nns_isa clamp_level(nns_isa isa) {
    if ((int)isa < 0) return NNS_ISA_SCALAR;
    if (isa >= NNS_ISA_COUNT) return nns_isa_detect();
    return nns_isa_supported(isa) ? isa : best_level_within(level_features[isa]);
}

/* Per family: the first listed variant whose suffix's features are all in
 * `features`, else the reference. */
static void fill(nns_kernels *k, nns_isa isa, uint32_t features) {
    int taken = 0;
    memset(k, 0, sizeof *k);
    k->isa = isa;
    k->features = features;
#define NNS_KERNEL(family, type, ref) \
    k->family = ref;                  \
    taken = 0;
#ifdef __x86_64__
#define NNS_VARIANT(family, suffix, symbol)                              \
    if (!taken && (NNS_SUFFIX_##suffix & ~features) == 0) {             \
        k->family = symbol;                                              \
        taken = 1;                                                       \
    }
#endif
#include "kernels/kernel_list.h"
    (void)taken;
}

static void tables_init(void) {
    for (int l = 0; l < NNS_ISA_COUNT; l++)
        if (nns_isa_supported((nns_isa)l)) fill(&tables[l], (nns_isa)l, level_features[l]);
}

const nns_kernels *nns_kernels_for_isa(nns_isa isa) {
    pthread_once(&tables_once, tables_init);
    return &tables[clamp_level(isa)];
}

/* Without NNS_ISA: every feature the CPU has (a variant may need one that no
 * level up to the detected one allows, e.g. AVX-VNNI beside AVX-512). */
static void active_init(void) {
    nns_isa isa;
    const char *env = getenv("NNS_ISA");
    if (env && *env && nns_isa_from_name(env, &isa))
        active = *nns_kernels_for_isa(isa);
    else
        fill(&active, nns_isa_detect(), nns_cpu_features());
}

const nns_kernels *nns_kernels_get(void) {
    pthread_once(&active_once, active_init);
    return &active;
}

nns_status nns_isa_check_env(void) {
    const char *env = getenv("NNS_ISA");
    nns_isa isa;
    if (!env || !*env || nns_isa_from_name(env, &isa)) return NNS_OK;
    char list[128] = "";
    for (int l = 0; l < NNS_ISA_COUNT; l++) {
        strcat(list, l ? ", " : "");
        strcat(list, level_names[l]);
    }
    return nns_error(NNS_STATUS_INVALID_ARG, "NNS_ISA='%.40s' is not an ISA level (%s)", env, list);
}
