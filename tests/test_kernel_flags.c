/* test_kernel_flags.c — the compile flags of each kernel-file suffix against
 * its run-time requirement (src/kernels/isa.def). tests/isa_probe.c is
 * compiled once per suffix with the flags the suffix's kernel files get
 * (tests/isa_tests.cmake); each probe reports the features the compiler
 * enabled. The test fails if a suffix's flags enable a feature that the
 * suffix does not require of the CPU (the kernels could then execute an
 * instruction the CPU lacks: e.g. -mavx512vnni on files run wherever AVX-512
 * F/BW/DQ/VL is), any x86 extension nnslim does not detect, or if they do
 * not enable every feature the suffix requires. */
#include <string.h>

#include "kernels/kernels.h"
#include "testutil.h"

#define NNS_SUFFIX(suffix, features) uint32_t nns_isa_probe_##suffix(const char **other);
#include "kernels/isa.def"

static const struct {
    const char *suffix;
    uint32_t (*probe)(const char **other);
} probes[] = {
#define NNS_SUFFIX(suffix, features) {#suffix, nns_isa_probe_##suffix},
#include "kernels/isa.def"
};

static void print_features(const char *what, uint32_t f) {
    printf(" %s", what);
    for (int b = 0; b < NNS_CPU_FEATURE_COUNT; b++)
        if (f >> b & 1) printf(" %s", nns_cpu_feature_name(b));
    printf(";");
}

int main(void) {
    const int n = (int)(sizeof probes / sizeof probes[0]);
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        const char *other = NULL;
        const uint32_t got = probes[i].probe(&other), need = nns_suffix_features(probes[i].suffix);
        printf("__%s:", probes[i].suffix);
        print_features("flags enable", got);
        print_features("requires", need);
        printf("\n");
        CHECK_MSG(need != 0, "suffix %s requires nothing", probes[i].suffix);
        for (int b = 0; b < NNS_CPU_FEATURE_COUNT; b++) {
            CHECK_MSG(!(got >> b & 1) || (need >> b & 1),
                      "suffix %s: its flags enable %s, which it does not require of the CPU", probes[i].suffix,
                      nns_cpu_feature_name(b));
            CHECK_MSG(!(need >> b & 1) || (got >> b & 1),
                      "suffix %s: requires %s, which its flags do not enable", probes[i].suffix,
                      nns_cpu_feature_name(b));
        }
        CHECK_MSG(other == NULL, "suffix %s: its flags enable %s, which nnslim does not detect", probes[i].suffix,
                  other ? other : "");
    }
    TEST_MAIN_END();
}
