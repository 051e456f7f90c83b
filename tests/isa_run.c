/* isa_run.c — runs a test at the ISA level named by NNS_ISA (the CTests
 * <test>_isa_<level>, tests/isa_tests.cmake): exit 2 for an unknown level;
 * 77 (skipped) when the CPU lacks a feature of that level, or when the
 * level's kernel table is the very table of a level with fewer features (no
 * kernel of its own yet: the run would repeat that level's; NNS_ISA_RUN_ALL=1
 * runs it anyway); else exec argv[1..] with NNS_ISA kept, so the test's plans
 * use that level's table. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernels/kernels.h"

static int same_table(const nns_kernels *a, const nns_kernels *b) {
    int same = 1;
#define NNS_KERNEL(family, type, ref) same &= a->family == b->family;
#include "kernels/kernel_list.h"
    return same;
}

/* A supported level with fewer features whose table is the same, or -1. */
static int same_as_lower(nns_isa isa) {
    int best = -1;
    for (int l = 0; l < NNS_ISA_COUNT; l++)
        if (l != (int)isa && nns_isa_supported((nns_isa)l) &&
            __builtin_popcount(nns_isa_features((nns_isa)l)) < __builtin_popcount(nns_isa_features(isa)) &&
            same_table(nns_kernels_for_isa((nns_isa)l), nns_kernels_for_isa(isa)) &&
            (best < 0 || __builtin_popcount(nns_isa_features((nns_isa)l)) <
                             __builtin_popcount(nns_isa_features((nns_isa)best))))
            best = l;
    return best;
}

int main(int argc, char **argv) {
    const char *lv = getenv("NNS_ISA");
    nns_isa isa;
    if (argc < 2 || !lv || !nns_isa_from_name(lv, &isa)) {
        fprintf(stderr, "isa_run: NNS_ISA='%s' is not an ISA level\n", lv ? lv : "");
        return 2;
    }
    if (!nns_isa_supported(isa)) {
        printf("skipped: this CPU lacks");
        const uint32_t miss = nns_isa_features(isa) & ~nns_cpu_features();
        for (int b = 0; b < NNS_CPU_FEATURE_COUNT; b++)
            if (miss >> b & 1) printf(" %s", nns_cpu_feature_name(b));
        printf(" (NNS_ISA=%s)\n", lv);
        return 77;
    }
    const char *all = getenv("NNS_ISA_RUN_ALL");
    const int low = same_as_lower(isa);
    if (low >= 0 && !(all && *all == '1')) {
        printf("skipped: level %s has no kernel of its own yet; its table is %s's (NNS_ISA_RUN_ALL=1 runs it)\n", lv,
               nns_isa_name((nns_isa)low));
        return 77;
    }
    printf("NNS_ISA=%s: kernels of level %s\n", lv, nns_isa_name(nns_kernels_get()->isa));
    fflush(stdout);
    execv(argv[1], argv + 1);
    perror(argv[1]);
    return 1;
}
