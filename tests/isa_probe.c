/* isa_probe.c — compiled once per kernel-file suffix, with exactly the flags
 * src/kernels/isa.cmake gives that suffix's kernel files
 * (tests/isa_tests.cmake), as NNS_PROBE_FN = nns_isa_probe_<suffix>: the
 * NNS_CPU_* features the compiler enabled, read from its predefined macros,
 * and in *other the first enabled x86 extension nnslim does not detect
 * (NULL if none). tests/test_kernel_flags.c compares the result with the
 * suffix's run-time requirement. */
#include <stddef.h>

#include "kernels/kernels.h"

#ifndef NNS_PROBE_FN
#error "define NNS_PROBE_FN"
#endif

uint32_t NNS_PROBE_FN(const char **other);

static const char *first_other(void) {
    /* implied by AVX2 on every CPU that has it (and checked with it) */
#if (defined(__AVX__) || defined(__SSE4_2__) || defined(__SSE4_1__) || defined(__SSSE3__) || \
     defined(__SSE3__) || defined(__POPCNT__)) && !defined(__AVX2__)
    return "avx/sse3-4.2/popcnt without avx2";
#endif
#if defined(__AVX512CD__)
    return "avx512cd";
#elif defined(__AVX512ER__) || defined(__AVX512PF__) || defined(__AVX5124FMAPS__) || defined(__AVX5124VNNIW__)
    return "avx512 xeon phi extension";
#elif defined(__AVX512IFMA__)
    return "avx512ifma";
#elif defined(__AVX512VBMI__) || defined(__AVX512VBMI2__)
    return "avx512vbmi";
#elif defined(__AVX512BITALG__) || defined(__AVX512VPOPCNTDQ__)
    return "avx512bitalg/vpopcntdq";
#elif defined(__AVX512FP16__)
    return "avx512fp16";
#elif defined(__AVX512VP2INTERSECT__)
    return "avx512vp2intersect";
#elif defined(__AVXIFMA__) || defined(__AVXVNNIINT8__) || defined(__AVXNECONVERT__) || defined(__AVXVNNIINT16__)
    return "avx ifma/vnni-int8/ne-convert";
#elif defined(__AMX_TILE__) || defined(__AMX_INT8__) || defined(__AMX_BF16__)
    return "amx";
#elif defined(__GFNI__) || defined(__VAES__) || defined(__VPCLMULQDQ__) || defined(__AES__) || defined(__PCLMUL__) || \
    defined(__SHA__)
    return "gfni/aes/clmul/sha";
#elif defined(__BMI__) || defined(__BMI2__) || defined(__LZCNT__) || defined(__ADX__)
    return "bmi/bmi2/lzcnt/adx";
#elif defined(__FMA4__) || defined(__XOP__) || defined(__SSE4A__)
    return "amd fma4/xop/sse4a";
#else
    return NULL;
#endif
}

uint32_t NNS_PROBE_FN(const char **other) {
    uint32_t f = 0;
#ifdef __AVX2__
    f |= NNS_CPU_AVX2;
#endif
#ifdef __FMA__
    f |= NNS_CPU_FMA;
#endif
#ifdef __F16C__
    f |= NNS_CPU_F16C;
#endif
#ifdef __AVX512F__
    f |= NNS_CPU_AVX512F;
#endif
#ifdef __AVX512BW__
    f |= NNS_CPU_AVX512BW;
#endif
#ifdef __AVX512DQ__
    f |= NNS_CPU_AVX512DQ;
#endif
#ifdef __AVX512VL__
    f |= NNS_CPU_AVX512VL;
#endif
#ifdef __AVX512VNNI__
    f |= NNS_CPU_AVX512VNNI;
#endif
#ifdef __AVXVNNI__
    f |= NNS_CPU_AVXVNNI;
#endif
#ifdef __AVX512BF16__
    f |= NNS_CPU_AVX512BF16;
#endif
    *other = first_other();
    return f;
}
