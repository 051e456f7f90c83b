/* testutil.h — a tiny test harness. Each test program prints one line per
 * failed check and a closing "N passed, N failed" line; exit 1 on failure. */
#ifndef NNS_TESTUTIL_H
#define NNS_TESTUTIL_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int nns_t_pass, nns_t_fail;

#define CHECK(cond) do { if (cond) nns_t_pass++; else { nns_t_fail++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_MSG(cond, ...) do { if (cond) nns_t_pass++; else { nns_t_fail++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define CHECK_OK(expr) do { nns_status s_ = (expr); if (s_ == NNS_OK) nns_t_pass++; else { \
    nns_t_fail++; fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr, \
    nns_status_str(s_), nns_last_error()); } } while (0)
#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
    if (fabs(a_ - b_) <= (tol)) nns_t_pass++; else { nns_t_fail++; \
    fprintf(stderr, "%s:%d: %s = %g, %s = %g, tol %g\n", __FILE__, __LINE__, \
    #a, a_, #b, b_, (double)(tol)); } } while (0)
#define TEST_MAIN_END() do { printf("%d passed, %d failed\n", nns_t_pass, nns_t_fail); \
    return nns_t_fail ? 1 : 0; } while (0)

#endif
