/*
 * window2d.h — the sliding-window attributes shared by Conv, MaxPool and
 * AveragePool (ONNX opset 13): kernel_shape, strides, dilations, pads
 * [top, left, bottom, right], auto_pad (NOTSET, VALID, SAME_UPPER,
 * SAME_LOWER) and ceil_mode, parsed once and resolved into a kernel geometry
 * (nns_conv2d_geom) for a concrete input plane. 2-D only. Internal to the
 * conv and pool ops: static inline, no state.
 */
#ifndef NNS_OPS_WINDOW2D_H
#define NNS_OPS_WINDOW2D_H

#include <string.h>

#include "kernels/kernels.h"
#include "ops/op.h"
#include "ops/op_util.h"

typedef enum nns_auto_pad {
    NNS_AUTO_PAD_NOTSET = 0,
    NNS_AUTO_PAD_VALID,
    NNS_AUTO_PAD_SAME_UPPER,
    NNS_AUTO_PAD_SAME_LOWER
} nns_auto_pad;

typedef struct nns_window2d {
    int kh, kw;       /* 0: kernel_shape absent */
    int sh, sw, dh, dw;
    int pads[4];      /* top, left, bottom, right (NOTSET only) */
    int auto_pad;     /* nns_auto_pad */
    int ceil_mode;
} nns_window2d;

/* Read an INTS attribute of exactly 2 (or 4 for pads) positive (or, with
 * allow_zero, non-negative) values. Absent: leaves out unchanged. */
static inline nns_status nns_window2d_ints(const nns_node *n, const char *name, int want,
                                           int allow_zero, int *out) {
    const int64_t *v;
    int cnt = nns_node_attr_ints(n, name, &v);
    const nns_attr *a = nns_node_attr(n, name);
    if (!a) return NNS_OK;
    if (a->type != NNS_ATTR_TYPE_INTS)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): attribute '%s' must be a list of ints",
                         n->name, n->op_type, name);
    if (cnt != want)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (%s): attribute '%s' has %d values; only 2-D windows are supported (%d values)",
                         n->name, n->op_type, name, cnt, want);
    for (int i = 0; i < cnt; i++) {
        if (v[i] < (allow_zero ? 0 : 1) || v[i] > (1 << 20))
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): attribute '%s' has invalid value %lld",
                             n->name, n->op_type, name, (long long)v[i]);
        out[i] = (int)v[i];
    }
    return NNS_OK;
}

/* Parse the window attributes. need_kernel: kernel_shape is required
 * (pools). allow_dilations / allow_ceil: the op has these attributes. */
static inline nns_status nns_window2d_parse(const nns_node *n, int need_kernel, int allow_dilations,
                                            int allow_ceil, nns_window2d *w) {
    memset(w, 0, sizeof *w);
    w->sh = w->sw = w->dh = w->dw = 1;
    int k[2] = {0, 0}, s[2] = {1, 1}, d[2] = {1, 1};
    nns_status st;
    if ((st = nns_window2d_ints(n, "kernel_shape", 2, 0, k))) return st;
    if (need_kernel && !nns_node_attr(n, "kernel_shape"))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): attribute 'kernel_shape' is required",
                         n->name, n->op_type);
    if ((st = nns_window2d_ints(n, "strides", 2, 0, s))) return st;
    if (allow_dilations && (st = nns_window2d_ints(n, "dilations", 2, 0, d))) return st;
    if ((st = nns_window2d_ints(n, "pads", 4, 1, w->pads))) return st;
    w->kh = k[0];
    w->kw = k[1];
    w->sh = s[0];
    w->sw = s[1];
    w->dh = d[0];
    w->dw = d[1];
    const char *ap = nns_node_attr_string(n, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") == 0) w->auto_pad = NNS_AUTO_PAD_NOTSET;
    else if (strcmp(ap, "VALID") == 0) w->auto_pad = NNS_AUTO_PAD_VALID;
    else if (strcmp(ap, "SAME_UPPER") == 0) w->auto_pad = NNS_AUTO_PAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0) w->auto_pad = NNS_AUTO_PAD_SAME_LOWER;
    else
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): unknown auto_pad '%s'", n->name,
                         n->op_type, ap);
    if (w->auto_pad != NNS_AUTO_PAD_NOTSET && nns_node_attr(n, "pads")) {
        int any = 0;
        for (int i = 0; i < 4; i++) any |= w->pads[i];
        if (any)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): 'pads' cannot be used with auto_pad '%s'",
                             n->name, n->op_type, ap);
    }
    if (allow_ceil) {
        int64_t c = nns_node_attr_int(n, "ceil_mode", 0);
        if (c != 0 && c != 1)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): ceil_mode must be 0 or 1, not %lld",
                             n->name, n->op_type, (long long)c);
        w->ceil_mode = (int)c;
    }
    return NNS_OK;
}

/* One axis: output size and the begin/end padding. Returns 0 if the output
 * would be empty. */
static inline int nns_window2d_axis(const nns_window2d *w, int64_t in, int k, int s, int d,
                                    int pbeg, int pend, int64_t *out, int *ob, int *oe) {
    int64_t ext = (int64_t)(k - 1) * d + 1;
    int64_t o;
    switch (w->auto_pad) {
    case NNS_AUTO_PAD_VALID:
        pbeg = pend = 0;
        o = in >= ext ? (in - ext) / s + 1 : 0;
        break;
    case NNS_AUTO_PAD_SAME_UPPER:
    case NNS_AUTO_PAD_SAME_LOWER: {
        o = (in + s - 1) / s;
        int64_t total = (o - 1) * s + ext - in;
        if (total < 0) total = 0;
        int64_t half = total / 2;
        pbeg = (int)(w->auto_pad == NNS_AUTO_PAD_SAME_UPPER ? half : total - half);
        pend = (int)(total - pbeg);
        break;
    }
    default: {
        int64_t num = in + pbeg + pend - ext;
        if (num < 0) {
            o = 0;
        } else if (w->ceil_mode) {
            o = (num + s - 1) / s + 1;
            /* The last window must start inside the input or the top/left
             * padding (PyTorch's rule; later ONNX opsets say the same). */
            if ((o - 1) * s >= in + pbeg) o--;
        } else {
            o = num / s + 1;
        }
    }
    }
    *out = o;
    *ob = pbeg;
    *oe = pend;
    return o > 0;
}

/* The geometry for an input plane ih x iw and a kh x kw window. pb/pr (may
 * be NULL): bottom/right padding. Errors name the node; with n NULL (shapes
 * already validated) no message is recorded. */
static inline nns_status nns_window2d_geom(const nns_node *n, const nns_window2d *w, int64_t ih,
                                           int64_t iw, int kh, int kw, nns_conv2d_geom *g,
                                           int *pb, int *pr) {
    int64_t oh, ow;
    int pt, pl, pbb, prr;
    if (ih > (1 << 24) || iw > (1 << 24)) {
        if (!n) return NNS_STATUS_UNSUPPORTED;
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input plane %lldx%lld is too large",
                         n->name, n->op_type, (long long)ih, (long long)iw);
    }
    int okh = nns_window2d_axis(w, ih, kh, w->sh, w->dh, w->pads[0], w->pads[2], &oh, &pt, &pbb);
    int okw = nns_window2d_axis(w, iw, kw, w->sw, w->dw, w->pads[1], w->pads[3], &ow, &pl, &prr);
    if (!okh || !okw) {
        if (!n) return NNS_STATUS_SHAPE;
        return nns_error(NNS_STATUS_SHAPE,
                         "node '%s' (%s): a %dx%d window (dilations %d,%d) does not fit the %lldx%lld input with its padding",
                         n->name, n->op_type, kh, kw, w->dh, w->dw, (long long)ih, (long long)iw);
    }
    g->ih = (int)ih;
    g->iw = (int)iw;
    g->oh = (int)oh;
    g->ow = (int)ow;
    g->kh = kh;
    g->kw = kw;
    g->sh = w->sh;
    g->sw = w->sw;
    g->dh = w->dh;
    g->dw = w->dw;
    g->pt = pt;
    g->pl = pl;
    if (pb) *pb = pbb;
    if (pr) *pr = prr;
    return NNS_OK;
}

/* Shape inference of a 2-D pooling node (MaxPool, AveragePool): X [N,C,H,W]
 * -> [N,C,OH,OW] from the window w; errors name the node and its input. */
static inline nns_status nns_window2d_pool_infer(const nns_graph *g, const nns_node *n, const nns_window2d *w,
                                                 const nns_shape *x, nns_shape *out) {
    if (x->ndim != 4)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (%s): only 2-D pooling is supported; input '%s' has rank %d, not 4", n->name,
                         n->op_type, g->values[n->in[0]].name, x->ndim);
    if (x->dims[1] <= 0 || x->dims[2] <= 0 || x->dims[3] <= 0)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): input '%s' has unknown dimensions", n->name, n->op_type,
                         g->values[n->in[0]].name);
    nns_conv2d_geom geo = {0};
    nns_status st = nns_window2d_geom(n, w, x->dims[2], x->dims[3], w->kh, w->kw, &geo, NULL, NULL);
    if (st) return st;
    int64_t dims[4] = {x->dims[0] > 0 ? x->dims[0] : -1, x->dims[1], geo.oh, geo.ow};
    *out = nns_shape_make(4, dims);
    return NNS_OK;
}

#endif
