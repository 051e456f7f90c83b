/* rng.h — a small, fast, seedable generator (splitmix64 seeding +
 * xoshiro-style state in one uint64_t for simplicity: splitmix64 stream). */
#ifndef NNS_RNG_H
#define NNS_RNG_H
#include <stdint.h>

static inline uint64_t nns_rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in [0, 1). */
static inline float nns_rng_uniform(uint64_t *s) {
    return (float)(nns_rng_next(s) >> 40) * (1.0f / 16777216.0f);
}
/* Uniform integer in [0, n). */
static inline uint64_t nns_rng_below(uint64_t *s, uint64_t n) {
    return (uint64_t)(((unsigned __int128)nns_rng_next(s) * n) >> 64);
}
#endif
