/* f32_maxpool2d_stack__avx2.c — max pooling of stacked small planes, 8
 * window positions per vector (maxpool_stack_impl.h). */
#include <immintrin.h>

#define MS_VW 8
#define MS_VEC __m256
#define MS_LOAD(p) _mm256_loadu_ps(p)
#define MS_LOAD2(p) \
    _mm256_castpd_ps(_mm256_permute4x64_pd( \
        _mm256_castps_pd(_mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps((p) + 8), 0x88)), 0xD8))
#define MS_STORE(p, v) _mm256_storeu_ps(p, v)
#define MS_SET1(f) _mm256_set1_ps(f)
#define MS_MAX(v, best) _mm256_max_ps(v, best)
#define MS_ANY_NAN(v) _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))
#define MS_FN nns_f32_maxpool2d_stack__avx2
#include "kernels/x86/maxpool_stack_impl.h"
