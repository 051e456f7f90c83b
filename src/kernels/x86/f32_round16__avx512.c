/* f32_round16__avx512.c — float values rounded to float16 (vcvtps2ph with
 * round-to-nearest-even, then vcvtph2ps) or to bfloat16 (integer
 * arithmetic on the bits, as the AVX2 variant; not vcvtneps2bf16, which
 * flushes subnormals), 16 at a time, the tail with a mask. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m512 round16(__m512 v, int bf16) {
    if (!bf16) return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    const __m512i u = _mm512_castps_si512(v);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), odd);
    const __mmask16 is_nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512i kept = _mm512_mask_or_epi32(r, is_nan, u, _mm512_set1_epi32(0x400000)); /* NaN: quiet, top bits */
    return _mm512_castsi512_ps(_mm512_and_si512(kept, _mm512_set1_epi32((int)0xffff0000u)));
}

void nns_f32_round16__avx512(int64_t n, const float *x, float *y, int bf16) {
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(y + j, round16(_mm512_loadu_ps(x + j), bf16));
    if (j < n) {
        const __mmask16 m = (__mmask16)((1u << (n - j)) - 1u);
        _mm512_mask_storeu_ps(y + j, m, round16(_mm512_maskz_loadu_ps(m, x + j), bf16));
    }
}
