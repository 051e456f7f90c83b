/* broadcast.c — multidirectional (numpy-style) broadcasting of two shapes.
 * Dims are aligned at the right; each pair must be equal or contain a 1.
 * A dynamic dim (-1, the batch at graph level) broadcasts against 1 and -1
 * as -1, and against a fixed size k > 1 as k (the plan re-checks with the
 * concrete batch). */
#include <string.h>

#include "ops/op.h"

nns_status nns_broadcast_shape(const nns_node *n, const nns_shape *a,
                               const nns_shape *b, nns_shape *out) {
    nns_shape r;
    memset(&r, 0, sizeof r);
    r.ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int d = 0; d < r.ndim; d++) {
        int da = d - (r.ndim - a->ndim), db = d - (r.ndim - b->ndim);
        int64_t x = da >= 0 ? a->dims[da] : 1;
        int64_t y = db >= 0 ? b->dims[db] : 1;
        int64_t o;
        if (x == y) o = x;
        else if (x == 1) o = y;
        else if (y == 1) o = x;
        else if (x < 0 && y > 1) o = y;
        else if (y < 0 && x > 1) o = x;
        else {
            char sa[128], sb[128];
            return nns_error(NNS_STATUS_SHAPE,
                             "node '%s' (%s): shapes %s and %s cannot be broadcast together",
                             n->name, n->op_type, nns_shape_str(a, sa, sizeof sa),
                             nns_shape_str(b, sb, sizeof sb));
        }
        r.dims[d] = o;
    }
    *out = r;
    return NNS_OK;
}
