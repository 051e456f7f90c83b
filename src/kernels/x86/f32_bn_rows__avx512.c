/* f32_bn_rows__avx512.c — BatchNormalization's row loops on vectors of 16
 * floats: the f32_bn_stats, f32_bn_apply, f32_bn_grad_sums and
 * f32_bn_grad_row variants for AVX-512, a row's last floats under a mask. */
#include <immintrin.h>

#define BN_VW 16
#define BN_NAME(family) nns_##family##__avx512
#define BN_LOAD_N(p, n, pad) ((bn_vf)_mm512_mask_loadu_ps(_mm512_set1_ps(pad), (__mmask16)((1u << (n)) - 1u), (p)))
#define BN_STORE_N(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (__m512)(v))
#define BN_REDUCE(v) _mm512_reduce_add_ps((__m512)(v)) /* halves folded */
#include "kernels/bn_rows.h"
