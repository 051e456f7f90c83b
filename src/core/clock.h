/* clock.h — the monotonic clock for timings (training speed, profiles,
 * benchmarks): seconds or milliseconds since an arbitrary start. */
#ifndef NNS_CLOCK_H
#define NNS_CLOCK_H

#include <time.h>

static inline double nns_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double nns_now_ms(void) { return 1e3 * nns_now_s(); }

#endif
