/* maxpool_stack_impl.h — the body of the f32_maxpool2d_stack variants,
 * included by each with its vector macros:
 *   MS_VW            floats per vector
 *   MS_VEC           the vector type
 *   MS_LOAD(p)       unaligned load
 *   MS_STORE(p, v)   unaligned store
 *   MS_SET1(f)       broadcast
 *   MS_MAX(v, best)  v where v > best, else best (vmaxps: best on ties and NaN)
 *   MS_ANY_NAN(v)    nonzero if a lane of v is NaN
 *   MS_FN            the function's name
 *
 * Planes are padded with -inf to (oh + kh - 1) rows of ld = ow + kw - 1
 * floats and stacked in one buffer, so that output (oy, ox) of plane p is
 * the maximum of the window at flat offset q = (p * rows + oy) * ld + ox and
 * every window is a fixed set of offsets from q: whole vectors of
 * consecutive q, across rows and planes, take one load and one max per tap
 * (the lanes that land in the padding columns or between planes are
 * computed and dropped). Each window holds an input (the fits rule), and
 * vmaxps keeps the earlier value on ties, so without NaNs the result is the
 * reference's bit for bit (-inf padding is never taken over a value, ±0
 * keep the first seen); a group of planes that holds a NaN goes to the
 * reference. The maxima are written in place (block q reads only offsets
 * >= q), then the ow valid columns of each row are copied out. */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"

#define MS_FLOATS 8192                                  /* planes per group: MS_FLOATS / plane */
#define MS_SLACK (NNS_MAXPOOL_STACK_PLANE + 64 + 2 * MS_VW) /* reads past the last plane */

/* np planes of x into buf, -inf around them; returns nonzero if one holds a NaN. */
static int ms_fill(const nns_conv2d_geom *g, const float *x, int64_t np, int ld, int rows, float *buf) {
    const size_t plane = (size_t)rows * (size_t)ld, ihw = (size_t)g->ih * (size_t)g->iw;
    const size_t total = (size_t)np * plane, end = total + (size_t)(g->kh - 1) * ld + (size_t)g->kw + MS_VW;
    const MS_VEC ninf = MS_SET1(-INFINITY);
    for (size_t i = 0; i < end; i += MS_VW) MS_STORE(buf + i, ninf);
    const int n = g->iw < ld - g->pl ? g->iw : ld - g->pl; /* input columns a window reads */
    for (int64_t p = 0; p < np; p++)
        for (int iy = 0; iy < g->ih && iy + g->pt < rows; iy++)
            memcpy(buf + (size_t)p * plane + (size_t)(iy + g->pt) * ld + g->pl, x + (size_t)p * ihw + (size_t)iy * g->iw,
                   (size_t)n * sizeof(float));
    int nan = 0;
    for (size_t i = 0; i < total; i += MS_VW) nan |= MS_ANY_NAN(MS_LOAD(buf + i));
    return nan;
}

/* In place: buf[q] = the maximum over the window at q, for q < count. */
static void ms_max(const nns_conv2d_geom *g, int ld, size_t count, float *buf) {
    for (size_t q = 0; q < count; q += MS_VW) {
        const float *b = buf + q;
        MS_VEC best = MS_LOAD(b);
        for (int i = 0; i < g->kh; i++)
            for (int j = i ? 0 : 1; j < g->kw; j++) best = MS_MAX(MS_LOAD(b + (size_t)i * ld + j), best);
        MS_STORE(buf + q, best);
    }
}

void MS_FN(const nns_conv2d_geom *g, int64_t planes, const float *x, float *y) {
    float buf[MS_FLOATS + MS_SLACK];
    const int ld = g->ow + g->kw - 1, rows = g->oh + g->kh - 1;
    const size_t plane = (size_t)rows * (size_t)ld, ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    const int64_t group = (int64_t)(MS_FLOATS / plane);
    for (int64_t p0 = 0; p0 < planes; p0 += group) {
        const int64_t np = planes - p0 < group ? planes - p0 : group;
        const float *xs = x + (size_t)p0 * ihw;
        float *ys = y + (size_t)p0 * ohw;
        if (ms_fill(g, xs, np, ld, rows, buf)) {
            nns_f32_maxpool2d_stack__ref(g, np, xs, ys);
            continue;
        }
        ms_max(g, ld, ((size_t)(np - 1) * rows + (size_t)g->oh) * ld, buf);
        for (int64_t p = 0; p < np; p++)
            for (int oy = 0; oy < g->oh; oy++)
                memcpy(ys + (size_t)p * ohw + (size_t)oy * g->ow, buf + (size_t)p * plane + (size_t)oy * ld,
                       (size_t)g->ow * sizeof(float));
    }
}
