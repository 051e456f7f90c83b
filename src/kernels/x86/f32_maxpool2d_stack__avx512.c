/* f32_maxpool2d_stack__avx512.c — max pooling of stacked small planes, 16
 * window positions per vector (maxpool_stack_impl.h). */
#include <immintrin.h>

#define MS_VW 16
#define MS_VEC __m512
#define MS_LOAD(p) _mm512_loadu_ps(p)
#define MS_LOAD2(p)                                                                                       \
    _mm512_permutex2var_ps(_mm512_loadu_ps(p),                                                           \
                           _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), \
                           _mm512_loadu_ps((p) + 16))
#define MS_STORE(p, v) _mm512_storeu_ps(p, v)
#define MS_SET1(f) _mm512_set1_ps(f)
#define MS_MAX(v, best) _mm512_max_ps(v, best)
#define MS_ANY_NAN(v) ((int)_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q))
#define MS_FN nns_f32_maxpool2d_stack__avx512
#include "kernels/x86/maxpool_stack_impl.h"
