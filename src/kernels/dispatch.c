/* dispatch.c — the kernel function table, filled once from CPU feature
 * detection; NNS_ISA=scalar|avx2|avx512 forces a lower level. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernels/kernels.h"

static nns_kernels tables[NNS_ISA_COUNT];
static nns_kernels active;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

const char *nns_isa_name(nns_isa isa) {
    switch (isa) {
    case NNS_ISA_SCALAR: return "scalar";
    case NNS_ISA_AVX2: return "avx2";
    case NNS_ISA_AVX512: return "avx512";
    default: return "?";
    }
}

nns_isa nns_isa_detect(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (avx512) return NNS_ISA_AVX512;
    if (avx2) return NNS_ISA_AVX2;
#endif
    return NNS_ISA_SCALAR;
}

/* Each level starts from the level below and overrides what it has. */
static void fill_scalar(nns_kernels *k) {
    k->isa = NNS_ISA_SCALAR;
    k->f32_dwconv2d = nns_f32_dwconv2d__ref;
    k->f32_dwconv2d_bwd = nns_f32_dwconv2d_bwd__ref;
    k->f32_conv2d_1ch = nns_f32_conv2d_1ch__ref;
    k->f32_maxpool2d = nns_f32_maxpool2d__ref;
    k->f32_maxpool2d_2x2s2 = nns_f32_maxpool2d__ref;
    k->f32_im2col = nns_f32_im2col__ref;
    k->f32_col2im = nns_f32_col2im__ref;
    k->f32_pad2d = nns_f32_pad2d__ref;
    k->f32_wgemm8 = nns_f32_wgemm8__ref;
    k->f32_wino2x2_3x3_input = nns_f32_wino2x2_3x3_input__ref;
    k->f32_wino2x2_3x3_output = nns_f32_wino2x2_3x3_output__ref;
    k->f32_wino2x2_3x3_outgrad = nns_f32_wino2x2_3x3_outgrad__ref;
    k->f32_spmm_csr = nns_f32_spmm_csr__ref;
}

static void fill_avx2(nns_kernels *k) {
#if defined(__x86_64__)
    k->isa = NNS_ISA_AVX2;
    k->f32_dwconv2d = nns_f32_dwconv2d__avx2;
    k->f32_dwconv2d_bwd = nns_f32_dwconv2d_bwd__avx2;
    k->f32_conv2d_1ch = nns_f32_conv2d_1ch__avx2;
    k->f32_maxpool2d_2x2s2 = nns_f32_maxpool2d_2x2s2__avx2;
    k->f32_im2col = nns_f32_im2col__avx2;
    k->f32_col2im = nns_f32_col2im__avx2;
    k->f32_pad2d = nns_f32_pad2d__avx2;
    k->f32_wgemm8 = nns_f32_wgemm8_3x4__avx2;
    k->f32_wino2x2_3x3_input = nns_f32_wino2x2_3x3_input__avx2;
    k->f32_wino2x2_3x3_output = nns_f32_wino2x2_3x3_output__avx2;
    k->f32_wino2x2_3x3_outgrad = nns_f32_wino2x2_3x3_outgrad__avx2;
    k->f32_spmm_csr = nns_f32_spmm_csr__avx2;
#else
    (void)k;
#endif
}

static void fill_avx512(nns_kernels *k) {
    /* No AVX-512 kernels yet: the AVX2 ones run on AVX-512 machines. */
    k->isa = NNS_ISA_AVX512;
}

static void tables_init(void) {
    nns_isa hw = nns_isa_detect();
    for (int l = 0; l < NNS_ISA_COUNT; l++) {
        nns_kernels *k = &tables[l];
        memset(k, 0, sizeof *k);
        fill_scalar(k);
        if (l >= NNS_ISA_AVX2 && hw >= NNS_ISA_AVX2) fill_avx2(k);
        if (l >= NNS_ISA_AVX512 && hw >= NNS_ISA_AVX512) fill_avx512(k);
    }
}

const nns_kernels *nns_kernels_for_isa(nns_isa isa) {
    pthread_once(&tables_once, tables_init);
    if ((int)isa < 0) isa = NNS_ISA_SCALAR;
    if (isa >= NNS_ISA_COUNT) isa = NNS_ISA_COUNT - 1;
    nns_isa hw = nns_isa_detect();
    if (isa > hw) isa = hw;
    return &tables[isa];
}

static void active_init(void) {
    nns_isa isa = nns_isa_detect();
    const char *env = getenv("NNS_ISA");
    if (env && *env) {
        for (int l = 0; l < NNS_ISA_COUNT; l++)
            if (strcasecmp(env, nns_isa_name((nns_isa)l)) == 0 && (nns_isa)l < isa) isa = (nns_isa)l;
    }
    active = *nns_kernels_for_isa(isa);
}

const nns_kernels *nns_kernels_get(void) {
    pthread_once(&active_once, active_init);
    return &active;
}
