/* maxpool_stack_impl.h — the body of the f32_maxpool2d_stack variants,
 * included by each with its vector macros:
 *   MS_VW            floats per vector
 *   MS_VEC           the vector type
 *   MS_LOAD(p)       unaligned load of p[0..MS_VW)
 *   MS_LOAD2(p)      p[0], p[2], ..., p[2 * MS_VW - 2]
 *   MS_STORE(p, v)   unaligned store
 *   MS_SET1(f)       broadcast
 *   MS_MAX(v, best)  v where v > best, else best (vmaxps: best on ties and NaN)
 *   MS_ANY_NAN(v)    nonzero if a lane of v is NaN
 *   MS_FN            the function's name
 *
 * Planes are padded with -inf to nns_maxpool_stack_rows rows of ld =
 * nns_maxpool_stack_ld floats and stacked in one buffer. At stride S the
 * window of output (oy, ox) of plane p starts at buffer offset S * v, with
 * v = p * plane / S + oy * ld + ox, and every window is a fixed set of
 * offsets from there: whole vectors of consecutive v, across rows and
 * planes, take one load (stride 1) or two (stride 2) and one max per tap
 * (positions past a row's outputs or between planes are computed and
 * dropped). Each window holds an input (the fits rule), and vmaxps keeps the
 * earlier value on ties, so without NaNs the result is the reference's bit
 * for bit (-inf padding is never taken over a value, +-0 keep the first
 * seen); a group of planes that holds a NaN goes to the reference. The
 * maxima are written in place at v (block v reads only offsets >= S * v),
 * then the ow valid positions of each row are copied out. */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"

#define MS_FLOATS 8192                                      /* planes per group: MS_FLOATS / plane */
#define MS_SLACK (NNS_MAXPOOL_STACK_PLANE + 64 + 4 * MS_VW) /* reads past the last plane */

/* np planes of x into buf, -inf around them; returns nonzero if one holds a NaN. */
static int ms_fill(const nns_conv2d_geom *g, const float *x, int64_t np, int ld, int rows, float *buf) {
    const size_t plane = (size_t)rows * (size_t)ld, ihw = (size_t)g->ih * (size_t)g->iw;
    const size_t total = (size_t)np * plane, end = total + (size_t)g->kh * ld + (size_t)g->kw + 3 * MS_VW;
    const MS_VEC ninf = MS_SET1(-INFINITY);
    for (size_t i = 0; i < end; i += MS_VW) MS_STORE(buf + i, ninf);
    const int n = g->iw < ld - g->pl ? g->iw : ld - g->pl; /* input columns a window may read */
    for (int64_t p = 0; p < np; p++)
        for (int iy = 0; iy < g->ih && iy + g->pt < rows; iy++)
            memcpy(buf + (size_t)p * plane + (size_t)(iy + g->pt) * ld + g->pl, x + (size_t)p * ihw + (size_t)iy * g->iw,
                   (size_t)n * sizeof(float));
    int nan = 0;
    for (size_t i = 0; i < total; i += MS_VW) nan |= MS_ANY_NAN(MS_LOAD(buf + i));
    return nan;
}

/* In place: buf[v] = the maximum over the window at S * v, for v < count. */
static inline __attribute__((always_inline)) void ms_max(const int S, const nns_conv2d_geom *g, int ld, size_t count,
                                                         float *buf) {
    for (size_t v = 0; v < count; v += MS_VW) {
        const float *b = buf + S * v;
        MS_VEC best = S == 1 ? MS_LOAD(b) : MS_LOAD2(b);
        for (int i = 0; i < g->kh; i++)
            for (int j = i ? 0 : 1; j < g->kw; j++) {
                const float *t = b + (size_t)i * ld + j;
                best = MS_MAX(S == 1 ? MS_LOAD(t) : MS_LOAD2(t), best);
            }
        MS_STORE(buf + v, best);
    }
}

void MS_FN(const nns_conv2d_geom *g, int64_t planes, const float *x, float *y) {
    float buf[MS_FLOATS + MS_SLACK];
    const int S = g->sw, ld = (int)nns_maxpool_stack_ld(g), rows = (int)nns_maxpool_stack_rows(g);
    const size_t plane = (size_t)rows * (size_t)ld, ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    const size_t vp = plane / (size_t)S; /* positions per plane */
    const int64_t group = (int64_t)(MS_FLOATS / plane);
    for (int64_t p0 = 0; p0 < planes; p0 += group) {
        const int64_t np = planes - p0 < group ? planes - p0 : group;
        const float *xs = x + (size_t)p0 * ihw;
        float *ys = y + (size_t)p0 * ohw;
        if (ms_fill(g, xs, np, ld, rows, buf)) {
            nns_f32_maxpool2d_stack__ref(g, np, xs, ys);
            continue;
        }
        const size_t count = (size_t)(np - 1) * vp + (size_t)(g->oh - 1) * ld + (size_t)g->ow;
        if (S == 1)
            ms_max(1, g, ld, count, buf);
        else
            ms_max(2, g, ld, count, buf);
        for (int64_t p = 0; p < np; p++)
            for (int oy = 0; oy < g->oh; oy++)
                memcpy(ys + (size_t)p * ohw + (size_t)oy * g->ow, buf + (size_t)p * vp + (size_t)oy * ld,
                       (size_t)g->ow * sizeof(float));
    }
}
