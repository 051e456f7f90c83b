/*
 * conv.c — Conv (ONNX opset 13), 2-D: X [N,C,H,W], W [M,C/group,kH,kW],
 * optional B [M] -> Y [N,M,OH,OW]. Attributes: kernel_shape, strides,
 * dilations, pads, auto_pad, group.
 *
 * Algorithms (chosen from the shapes at run time; docs/kernels.md has the
 * measurements behind the choices):
 *  - DW, depthwise (group == C == M): the dwconv2d kernels, forward
 *    parallel over (n, c) planes, backward parallel over channels;
 *  - WINO, 3x3 stride 1 dilation 1, group 1, C and M >= 4: Winograd
 *    F(2x2,3x3) for forward, data gradient (a convolution of dY with the
 *    flipped, transposed filters) and weight gradient (in the transformed
 *    domain), with our own batched-GEMM kernel (wgemm8);
 *  - 1X1, 1x1 stride 1 without padding: one GEMM per image and group on X
 *    itself;
 *  - IM2COL, everything else: im2col + GEMM, several images side by side in
 *    one GEMM (small planes make short GEMMs); the data gradient is W^T dY
 *    followed by col2im.
 *  The forward's GEMMs run on the table's f32_gemm (bias and activation
 *  fused) where conv_own_gemm says it beats OpenBLAS, else on OpenBLAS; a
 *  layer with a bf16 input and bf16 weights runs them on bf16_gemm
 *  (conv_bf16.c). With one input channel (group 1) the forward
 *    runs the direct nns_f32_conv2d_1ch kernel instead (K = kh*kw is too
 *    short for a GEMM).
 * Images are split among threads in static contiguous ranges (OpenBLAS runs
 * single-threaded inside our parallel region); weight gradients go to
 * per-thread partial buffers summed in thread order, so results are
 * deterministic for a fixed thread count. With one image or one thread the
 * GEMMs run serially and OpenBLAS threads them.
 *
 * Inference plans pack once (conv_pack): the BatchNormalization folded in
 * (nns_exec_node.epi.affine) gives weights W * scale and bias B * scale +
 * shift, and a layer that takes Winograd at the plan's batch gets its
 * transformed filters; a forward reads them instead of recomputing them.
 *
 * This file holds the op (attributes, shapes, the choice of algorithm, the
 * workspace, the packed constants, dispatch and the bias gradient); each
 * algorithm has its own file: conv_dw.c, conv_wino.c, conv_im2col.c,
 * conv_pointwise.c (shared types in conv_impl.h).
 */
#include "ops/bf16_util.h"
#include "ops/conv_impl.h"

/* Smallest channel counts for Winograd (below, im2col + GEMM is as fast). */
#define CONV_WINO_MIN_C 4
#define CONV_WINO_MIN_M 4
/* WINO needs at least this many output tiles per call (batch x tiles per
 * image; NNS_WINO_MIN_TILES overrides): with fewer, transforming the M x C
 * filters at every forward costs more than Winograd saves, and im2col + GEMM
 * is faster (resnet8 at batch 1, 7x7 planes of 16 tiles: 0.56 -> 0.45 ms). */
#define CONV_WINO_MIN_TILES 40
/* A tuning limit: environment variable `name` if set (a negative or
 * unreadable value: 0), else dflt. */
static double conv_env_limit(const char *name, double dflt) {
    const char *e = getenv(name);
    const double v = e ? atof(e) : dflt;
    return v >= 0 ? v : 0;
}

int nns_conv_wino_min_tiles = -1;
static int nns_conv_wino_min_tiles_get(void) {
    if (nns_conv_wino_min_tiles < 0)
        nns_conv_wino_min_tiles = (int)conv_env_limit("NNS_WINO_MIN_TILES", CONV_WINO_MIN_TILES);
    return nns_conv_wino_min_tiles;
}
/* 1X1 runs a GEMM per image; with fewer output pixels than this, several
 * images go side by side in one GEMM through IM2COL's batching instead (a
 * copy), as 2x2 planes fill 4 of a kernel's 24 columns (ShuffleNetV2's
 * 1x1 layers at batch 64: 0.35 -> ... ms). */
#define CONV_1X1_MIN_PIXELS 64
/* IM2COL: images are batched into one GEMM while their im2col columns take
 * at most this many floats (and their output rows at most a quarter). */
#define CONV_IM2COL_COL_FLOATS 65536
/* ... but at least this many columns per GEMM where the batch has the
 * images: ResNet-18's layer4.0.conv1 (2x2 planes, 2304 deep) got GEMMs 12
 * columns wide, 15.6 ms at batch 64; 9.8 ms with 384 (AVX2, 2 threads). */
#define CONV_IM2COL_MIN_COLS 384

static nns_status conv_validate(const nns_graph *gr, const nns_node *node, const conv_params *p,
                                const nns_shape *x, const nns_shape *w, const nns_shape *b) {
    const char *xn = gr->values[node->in[0]].name, *wn = gr->values[node->in[1]].name;
    if (x->ndim != 4)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (Conv): only 2-D convolution is supported; input '%s' has rank %d, not 4",
                         node->name, xn, x->ndim);
    if (w->ndim != 4)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (Conv): only 2-D convolution is supported; weight '%s' has rank %d, not 4",
                         node->name, wn, w->ndim);
    for (int i = 1; i < 4; i++)
        if (x->dims[i] <= 0)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): input '%s' has unknown dimension %d",
                             node->name, xn, i);
    for (int i = 0; i < 4; i++)
        if (w->dims[i] <= 0)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): weight '%s' has dimension %d = %lld",
                             node->name, wn, i, (long long)w->dims[i]);
    int64_t C = x->dims[1], M = w->dims[0], G = p->group;
    if (C % G)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): %lld input channels are not divisible by group %lld",
                         node->name, (long long)C, (long long)G);
    if (M % G)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): %lld output channels are not divisible by group %lld",
                         node->name, (long long)M, (long long)G);
    if (w->dims[1] != C / G)
        return nns_error(NNS_STATUS_SHAPE,
                         "node '%s' (Conv): weight '%s' has %lld input channels per group, expected %lld (C=%lld, group=%lld)",
                         node->name, wn, (long long)w->dims[1], (long long)(C / G), (long long)C, (long long)G);
    if ((p->win.kh && p->win.kh != w->dims[2]) || (p->win.kw && p->win.kw != w->dims[3]))
        return nns_error(NNS_STATUS_SHAPE,
                         "node '%s' (Conv): kernel_shape [%d,%d] does not match weight '%s' [%lld,%lld]",
                         node->name, p->win.kh, p->win.kw, wn, (long long)w->dims[2], (long long)w->dims[3]);
    if (b && (b->ndim != 1 || b->dims[0] != M))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): bias '%s' must have shape [%lld]", node->name,
                         gr->values[node->in[2]].name, (long long)M);
    if (C > (1 << 24) || M > (1 << 24) || w->dims[2] > 4096 || w->dims[3] > 4096)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Conv): sizes too large", node->name);
    return NNS_OK;
}

/* Sizes and algorithm for validated shapes; node NULL: no messages. */
/* IM2COL: images per GEMM (d->ib); conv_impl.h. */
void nns_conv_im2col_batch(conv_dims *d) {
    size_t per = (d->ckg + 4 * (size_t)d->mg) * d->ohw;
    int64_t ib = per ? (int64_t)(CONV_IM2COL_COL_FLOATS / per) : 1;
    const int64_t wide = ((int64_t)CONV_IM2COL_MIN_COLS + (int64_t)d->ohw - 1) / (int64_t)(d->ohw ? d->ohw : 1);
    if (ib < wide) ib = wide;
    if (ib < 1) ib = 1;
    if (d->n > 0 && ib > d->n) ib = d->n;
    d->ib = (int)ib;
}

/* Winograd's 2x2 tiles cover at most 1.5 times the output: a 3x3 plane
 * (4 tiles for 9 outputs: 1.78) goes to im2col, whose GEMM of many images'
 * columns wastes nothing. 2 threads, AVX-512, batch 64, builds
 * alternating: SqueezeNet 1.05-1.16x (its two 64 -> 256 layers on 3x3);
 * 4x4 planes (GoogLeNet, ResNet-18) were 0.89x on im2col, and 7x7 ones
 * (1.31: resnet8's 64 -> 64) 0.86x. */
static int conv_wino_fills(const nns_conv2d_geom *g) {
    const int64_t tiled = (int64_t)((g->oh + 1) / 2 * 2) * ((g->ow + 1) / 2 * 2);
    return 2 * tiled <= 3 * (int64_t)g->oh * g->ow;
}

static nns_status conv_dims_make(const nns_node *node, const conv_params *p, const nns_shape *x,
                                 const nns_shape *w, conv_dims *d) {
    int64_t C = x->dims[1], M = w->dims[0], G = p->group;
    d->act = d->post = NNS_FUSE_ACT_NONE;
    d->lo = d->hi = 0.0f;
    nns_status st = nns_window2d_geom(node, &p->win, x->dims[2], x->dims[3], (int)w->dims[2],
                                      (int)w->dims[3], &d->g, NULL, NULL);
    if (st) return st;
    d->n = x->dims[0];
    d->c = (int)C;
    d->m = (int)M;
    d->group = (int)G;
    d->cg = (int)(C / G);
    d->mg = (int)(M / G);
    d->ihw = (size_t)d->g.ih * d->g.iw;
    d->ohw = (size_t)d->g.oh * d->g.ow;
    d->kk = (size_t)d->g.kh * d->g.kw;
    d->ckg = (size_t)d->cg * d->kk;
    d->wsize = (size_t)M * d->ckg;
    const nns_conv2d_geom *g = &d->g;
    if (G == C && M == C)
        d->algo = CONV_ALGO_DW;
    else if (g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
             g->oh == g->ih && g->ow == g->iw && (d->n <= 1 || d->ohw >= CONV_1X1_MIN_PIXELS))
        d->algo = CONV_ALGO_1X1;
    else if (g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 && G == 1 &&
             C >= CONV_WINO_MIN_C && M >= CONV_WINO_MIN_M && conv_wino_fills(g) &&
             d->n * (int64_t)((g->oh + 1) / 2) * ((g->ow + 1) / 2) >= nns_conv_wino_min_tiles_get())
        d->algo = CONV_ALGO_WINO;
    else
        d->algo = CONV_ALGO_IM2COL;
    if (d->algo == CONV_ALGO_WINO) {
        nns_conv_wino_geom_make(g->ih, g->iw, g->oh, g->ow, g->pt, g->pl, d->c, d->m, &d->wf);
        nns_conv_wino_geom_make(g->oh, g->ow, g->ih, g->iw, 2 - g->pt, 2 - g->pl, d->m, d->c, &d->wb);
        /* No chunk longer than the batch's tiles. */
        if (d->n > 0 && d->wf.tc > d->n * d->wf.t) d->wf.tc = (int)((d->n * d->wf.t + 3) & ~3);
        if (d->n > 0 && d->wb.tc > d->n * d->wb.t) d->wb.tc = (int)((d->n * d->wb.t + 3) & ~3);
    }
    if (d->algo == CONV_ALGO_IM2COL) nns_conv_im2col_batch(d);
    return NNS_OK;
}

static nns_status conv_prepare(const nns_graph *g, const nns_node *n, void *params) {
    conv_params *p = params;
    nns_status st;
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Conv): inputs X and W are required", n->name);
    if ((st = nns_window2d_parse(n, 0, 1, 0, &p->win))) return st;
    int64_t group = nns_node_attr_int(n, "group", 1);
    if (group < 1 || group > (1 << 24))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Conv): group must be >= 1, not %lld", n->name,
                         (long long)group);
    p->group = (int)group;
    p->nthreads = omp_get_max_threads();
    if (p->nthreads < 1) p->nthreads = 1;
    p->bf16_in = nns_bf16_input(g, n, 0);
    return NNS_OK;
}

static nns_status conv_infer(const nns_graph *g, const nns_node *n, const void *params,
                             const nns_shape *const *in, nns_shape *out) {
    const conv_params *p = params;
    conv_dims d;
    nns_status st = conv_validate(g, n, p, in[0], in[1], n->n_in > 2 ? in[2] : NULL);
    if (!st) st = conv_dims_make(n, p, in[0], in[1], &d);
    if (st) return st;
    int64_t dims[4] = {in[0]->dims[0] > 0 ? in[0]->dims[0] : -1, d.m, d.g.oh, d.g.ow};
    out[0] = nns_shape_make(4, dims);
    return NNS_OK;
}

static size_t ws_take(size_t *at, size_t n) {
    size_t o = *at;
    *at += r16(n);
    return o;
}

/* One input channel, group 1 (a first layer on grey images): the forward
 * convolves each image's plane with every filter directly
 * (nns_f32_conv2d_1ch) instead of im2col + a GEMM with K = kh*kw. */
static int conv_is_1ch(const conv_dims *d) { return d->algo == CONV_ALGO_IM2COL && d->c == 1 && d->group == 1; }

/* A few input channels, group 1 (a stem), where the table's
 * f32_conv2d_fewch is a real variant and fits: the forward runs it straight
 * from the planes instead of im2col + a GEMM of depth c*kh*kw, or (one
 * channel) instead of f32_conv2d_1ch, whose blocks of 8 filters a piece
 * were bound by their loads (vggsmall's first layer, 5.4 -> 3.8 us an
 * image on one thread). */
static int conv_is_fewch(const nns_kernels *k, const conv_dims *d) {
    return d->algo == CONV_ALGO_IM2COL && d->group == 1 && nns_f32_conv2d_fewch_fits(&d->g, d->c) &&
           k->f32_conv2d_fewch != nns_f32_conv2d_fewch__ref;
}

/* 1x1 layers at stride 1 take the kernel at batch 1 on planes of one
 * vector (4x4, 3x3) and fewer filters than this: in place of the GEMM
 * that runs such an image transposed (conv_wt_cols), 2 threads, batch 1,
 * builds alternating: MobileNetV2's 4x4 layers 1.3-2x faster (the model
 * 1.14x), GoogLeNet 1.12x, ShuffleNetV2 1.085x, SqueezeNet 1.056x,
 * EfficientNet-B0 1.04x. On 7x7 and larger planes the GEMM paths were
 * faster (mobilenet's 28x28 to 7x7 layers 1.5-2x), and so was the
 * transposed GEMM for SqueezeNet's 512 -> 1000 classifier on 3x3. */
#define CONV_SAME_1X1_PIXELS 16
#define CONV_SAME_1X1_M 512
/* A dense layer at stride 1 that keeps the plane's size (3x3 with padding
 * 1; 1x1 as above) or at stride 2, of more channels than conv_is_fewch
 * takes and outputs of at least 3x3, where the table's f32_conv2d_same or
 * f32_conv2d_s2 is a real variant: conv_pack lays its filters out for
 * that kernel. */
static int conv_same_packable(const nns_kernels *k, const conv_dims *d) {
    if (!(d->algo != CONV_ALGO_DW && d->group == 1 && d->c > NNS_CONV_FEWCH_C && d->ohw >= 9))
        return 0;
    if (d->kk == 1 && d->g.sh == 1 && !(d->ohw <= CONV_SAME_1X1_PIXELS && d->m < CONV_SAME_1X1_M))
        return 0; /* a 1x1 layer the kernel would never take (conv_is_same) */
    return (nns_f32_conv2d_same_fits(&d->g) && k->f32_conv2d_same != nns_f32_conv2d_same__ref) ||
           (nns_f32_conv2d_s2_fits(&d->g) && k->f32_conv2d_s2 != nns_f32_conv2d_s2__ref &&
            nns_conv2d_s2_floats(&d->g, d->c) <= d->ckg * d->ohw);
}

/* Such a layer runs f32_conv2d_same, straight from the planes, instead of
 * Winograd or im2col and a GEMM (or, at stride 2, f32_conv2d_s2 on the
 * planes split by phase, in the space im2col's columns would take): at
 * batch 1 (where either has one image's tiles or columns) and, at larger
 * batches, below CONV_SAME_WINO_C input channels (Winograd's GEMMs too
 * shallow to make up for their transforms; im2col's GEMMs of many images'
 * columns faster past it).
 * Batches above 1 mostly run in a session's lanes (one thread a plan,
 * src/runtime/session.c), and there, 1 thread, AVX-512, batch 32, 3x3
 * layers alternating: 16 -> 16 on 28x28 (resnet8) 0.58 ms on the kernel
 * against 0.73 on Winograd, but at 32 channels Winograd or im2col was
 * faster: vggsmall's 32 -> 32 on 28x28 2.16 -> 2.03 ms and 32 -> 64 on
 * 14x14 1.15 -> 0.99, SqueezeNet's 32 -> 128 on 7x7 0.70 -> 0.61 and
 * 48 -> 192 on 3x3 (im2col) 0.375 -> 0.30; sessions at batch 64, 2 lanes:
 * SqueezeNet 1.08x, vggsmall 1.06x, GoogLeNet, EfficientNet-B0, resnet8
 * level. (With 2 threads on one plan of 64, the kernel had been faster
 * up to 64 channels: SqueezeNet's 32 -> 128 on 7x7 1.4x against
 * Winograd.) */
#define CONV_SAME_WINO_C 32
/* At stride 2 at every batch. 2 threads, AVX-512, against im2col and a
 * GEMM: batch 64, resnet8's 16 -> 32 from 28x28 to 14x14 1.34x, its
 * 32 -> 64 to 7x7 1.10x, ResNet-18's 64 -> 128 to 8x8 1.15x and 128 -> 256
 * to 4x4 1.17x; batch 1 1.62x and 1.25x on ResNet-18's, 0.86x and 0.97x on
 * resnet8's (whole models level or faster). */
static int conv_is_same(const nns_kernels *k, const conv_dims *d) {
    if (!conv_same_packable(k, d)) return 0;
    if (d->kk == 1 && d->g.sh == 1) return d->n == 1; /* the plane and filters: conv_same_packable */
    if (d->g.sh == 2) return 1;
    return d->n == 1 || d->c < CONV_SAME_WINO_C;
}

/* In training (the filters packed at every step, the data gradient on the
 * kernel too: conv_same_dx), at stride 1 only below this many input
 * channels. 2 threads, AVX-512, batch 128, resnet8's layers against
 * Winograd, builds alternating: 16 -> 16 on 28x28 forward 1.88 -> 1.51
 * ms, backward 4.08 -> 3.87; but 32 -> 32 on 14x14 forward 1.50 -> 1.75,
 * backward 2.80 -> 3.27. At stride 2 (against im2col): 16 -> 32 forward
 * 1.27 -> 1.04 ms, 32 -> 64 1.07 -> 0.98 (the 1x1 shortcuts within the
 * noise). The weight gradient stays on Winograd or im2col. */
#define CONV_TRAIN_SAME_C 32
static int conv_train_same(const nns_kernels *k, const conv_dims *d) {
    return conv_is_same(k, d) && (d->g.sh == 2 || d->c < CONV_TRAIN_SAME_C);
}

/* A layer that may run on the bf16 GEMM (bf16_util.h; its weights are
 * checked when packed): a bf16 input, not depthwise, not the one-channel
 * direct path; the same at every batch. A batch that takes Winograd runs it
 * in float (conv_forward): its transforms save more than the bf16 GEMM's
 * faster multiplies gain once im2col and packing are paid (vggsmall). */
static int conv_bf16_candidate(const conv_params *p, const conv_dims *d) {
    return p->bf16_in && d->algo != CONV_ALGO_DW && !conv_is_1ch(d);
}

/* d as made by nns_conv_bf16_dims: columns, output rows and bf16 pairs of
 * a batch of images. */
static void conv_ws_bf16(const conv_dims *d, int nthreads, conv_ws *w) {
    size_t at = 0;
    const size_t cols = (size_t)d->ib * d->ohw;
    if (d->algo != CONV_ALGO_1X1) w->col = ws_take(&at, d->ckg * cols);
    w->yb = ws_take(&at, (size_t)d->mg * cols);
    w->xb = ws_take(&at, (size_t)nns_bf16_pairs((int)d->ckg) * cols);
    w->per_thread = at;
    w->wt = w->total = at * (size_t)nthreads;
}

static void conv_ws_make(const conv_dims *d, int nthreads, int training, conv_ws *w) {
    memset(w, 0, sizeof *w);
    size_t at = 0, shared = 0;
    switch (d->algo) {
    case CONV_ALGO_DW:
        at = r16(nns_f32_dwconv2d_scratch_floats(&d->g));
        if (training && nthreads > 1) w->part = ws_take(&at, d->wsize + (size_t)d->c); /* relative to scratch */
        break;
    case CONV_ALGO_WINO: {
        const wino_geom *f = &d->wf, *b = &d->wb;
        w->xpad = ws_take(&at, (size_t)d->c * f->ph * f->pw);
        size_t v = (size_t)d->c * f->tc, m = (size_t)d->m * f->tc;
        if (training) {
            w->ypad = ws_take(&at, (size_t)d->m * b->ph * b->pw);
            v = zmax(v, (size_t)d->m * b->tc);
            m = zmax(m, (size_t)d->c * b->tc);
            w->dm = ws_take(&at, (size_t)d->m * f->tc * 16);
            w->part = ws_take(&at, (size_t)d->m * d->c * 16);
        }
        w->v = ws_take(&at, v * 16);
        w->m = ws_take(&at, m * 16);
        shared = r16((size_t)d->m * d->c * 16);
        break;
    }
    case CONV_ALGO_IM2COL: {
        const size_t cols = (size_t)d->ib * d->ohw;
        /* col: also x transposed for the transposed path (nns_conv_own_forward_t) */
        w->col = ws_take(&at, zmax(d->ckg * cols, !training && d->ohw <= 48 ? (size_t)d->cg * d->ihw : 0));
        w->yb = ws_take(&at, (size_t)d->mg * cols);
        if (!training && d->ohw <= 48) {
            w->ct = ws_take(&at, d->ckg * d->ohw);
            w->yt = ws_take(&at, (size_t)d->m * d->ohw);
        }
        if (training && nthreads > 1) w->part = ws_take(&at, d->wsize);
        if (training) w->wtg = ws_take(&at, d->ckg * (size_t)d->mg);
        if (training) {
            w->dyt = ws_take(&at, (size_t)d->mg * cols);
            w->dwt = ws_take(&at, d->ckg * (size_t)d->mg);
        }
        if (conv_is_1ch(d)) at = zmax(at, r16(nns_f32_dwconv2d_scratch_floats(&d->g))); /* forward scratch */
        break;
    }
    default: /* 1X1 */
        if (training && nthreads > 1) w->part = ws_take(&at, d->wsize);
        if (!training && d->ohw <= 48) {
            w->ct = ws_take(&at, (size_t)d->cg * d->ohw);
            w->yt = ws_take(&at, (size_t)d->m * d->ohw);
        }
        break;
    }
    /* training: the filters packed for the direct kernels at every step
     * (conv_forward_paths; conv_same_dx: flipped and transposed, then packed) */
    if (training && d->algo != CONV_ALGO_DW) shared = zmax(shared, r16(2 * d->wsize));
    w->per_thread = at;
    w->wt = at * (size_t)nthreads;
    w->total = w->wt + shared;
}

static size_t conv_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out,
                              int training) {
    (void)out;
    const conv_params *p = params;
    conv_dims d;
    if (conv_dims_make(NULL, p, in[0], in[1], &d)) return 0;
    conv_ws w;
    conv_ws_make(&d, p->nthreads, training, &w);
    size_t total = w.total;
    if (d.algo == CONV_ALGO_WINO) { /* a smaller batch at run time may take IM2COL */
        d.algo = CONV_ALGO_IM2COL;
        nns_conv_im2col_batch(&d);
        conv_ws_make(&d, p->nthreads, training, &w);
        total = zmax(total, w.total);
    }
    conv_dims_make(NULL, p, in[0], in[1], &d);
    if (!training && conv_bf16_candidate(p, &d)) {
        nns_conv_bf16_dims(&d);
        memset(&w, 0, sizeof w);
        conv_ws_bf16(&d, p->nthreads, &w);
        total = zmax(total, w.total);
    }
    return total * sizeof(float);
}

/* Runtime dims from the views (shapes already validated). */
static void conv_dims_rt(const nns_exec_node *e, conv_dims *d) {
    conv_dims_make(NULL, e->params, &e->in[0]->shape, &e->in[1]->shape, d);
}

/* dW += partial_0 + partial_1 + ... in thread order (threads with no
 * images skipped); thread t of nt sums its slice. */
static void conv_reduce_partials(const conv_dims *d, const conv_ws *ws, const float *work, float *dW, int t,
                                 int nt) {
    const int64_t nw = (int64_t)d->wsize;
    for (int64_t k = nw * t / nt; k < nw * (t + 1) / nt; k++) {
        float s = 0.0f;
        for (int u = 0; u < nt; u++)
            if (d->n * (u + 1) / nt > d->n * u / nt) s += work[(size_t)u * ws->per_thread + ws->part + k];
        dW[k] += s;
    }
}

/* ---- forward / backward ----------------------------------------------- */

/* Sum of a row with 8 independent lanes (vectorisable without reordering
 * flags; a single running sum is one add per 3-4 cycles), fixed order. */
static float conv_row_sum(const float *x, size_t n) {
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k];
    float s = 0.0f;
    for (; i < n; i++) s += x[i];
    return s + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* ---- pack once (inference plans) ----------------------------------------- */

/* The packed constants: a header, then (in floats, 16-aligned) the folded
 * weights and bias with the per-channel scale used to make them, then the
 * Winograd-transformed filters [2][M][C][8] of the (folded) weights. */
typedef struct conv_packed {
    int folded, wino;
    int bf16;              /* the weights are bf16 values: wb holds them */
    int wt;                /* W^T [K][M] (conv_wt_cols) at u + the Winograd filters */
    size_t w, b, scale, u; /* float offsets after the header */
    size_t wb, ldw;        /* bf16 weights: M rows ldw elements apart */
    size_t same;           /* nns_conv2d_same_pack's filters (conv_is_same), 0: none */
    size_t reserved[7];    /* the header padded to 128 bytes */
} conv_packed;
_Static_assert(sizeof(conv_packed) % 64 == 0, "the header keeps the floats 64-byte aligned");

static int conv_pack_layout(const nns_exec_node *e, conv_packed *h) {
    conv_dims d;
    conv_dims_rt(e, &d);
    memset(h, 0, sizeof *h);
    h->folded = e->epi.affine != NULL;
    h->wino = d.algo == CONV_ALGO_WINO;
    const int bf16 = conv_bf16_candidate(e->params, &d) && nns_bf16_gemm_fast(e->kern);
    size_t at = 0;
    if (h->folded) {
        h->w = at;
        at += r16(d.wsize);
        h->b = at;
        at += r16((size_t)d.m);
        h->scale = at;
        at += r16((size_t)d.m);
    }
    if (bf16) {
        h->ldw = 2 * (size_t)nns_bf16_pairs((int)d.ckg);
        h->wb = at;
        at += r16(((size_t)d.m * h->ldw + 1) / 2);
    }
    if (conv_same_packable(e->kern, &d)) { /* at any batch: the algorithm may change with it */
        at += 16; /* offset 0 means none */
        h->same = at;
        at += r16(d.wsize);
    }
    h->u = at;
    if (h->wino) at += (size_t)d.m * d.c * 16;
    h->wt = !bf16 && d.group == 1 && d.n == 1 && (d.algo == CONV_ALGO_IM2COL || d.algo == CONV_ALGO_1X1) &&
            d.ohw <= conv_wt_cols(e->kern) && !conv_is_1ch(&d) && !conv_is_fewch(e->kern, &d);
    return h->folded || h->wino || bf16 || h->wt || h->same;
}

/* Only a constant weight (and bias) can be packed; the plan folds a
 * BatchNormalization only into such a Conv. */
static int conv_constant_weights(const nns_exec_node *e) {
    const nns_value *w = &e->g->values[e->node->in[1]];
    const int b = e->n_in > 2 ? e->node->in[2] : -1;
    return w->kind == NNS_VALUE_KIND_PARAM && w->data &&
           (b < 0 || (e->g->values[b].kind == NNS_VALUE_KIND_PARAM && e->g->values[b].data));
}

static size_t conv_packed_bytes(const nns_exec_node *e) {
    conv_packed h;
    if (!conv_constant_weights(e) || !conv_pack_layout(e, &h)) return 0;
    conv_dims d;
    conv_dims_rt(e, &d);
    const size_t P = conv_wt_cols(e->kern), wt = h.wt ? ((size_t)d.m + P - 1) / P * P * d.ckg : 0;
    return sizeof h + (h.u + (h.wino ? (size_t)d.m * d.c * 16 : 0) + wt) * sizeof(float);
}

/* W' = W * scale[m], b' = b * scale[m] + shift[m] (the folded BN's affine),
 * then W's (or W''s) Winograd transform. */
static void conv_pack(nns_exec_node *e, void *out) {
    conv_packed *h = out;
    /* a repack at a smaller batch keeps the transformed filters made for
     * the plan's batch (out was zeroed before the first pack) */
    const int had_wino = h->wino;
    conv_pack_layout(e, h);
    h->wino |= had_wino;
    float *f = (float *)(h + 1);
    conv_dims d;
    conv_dims_rt(e, &d);
    const float *W = nns_tv_cf32(e->in[1]), *B = e->n_in > 2 && e->in[2] ? nns_tv_cf32(e->in[2]) : NULL;
    if (h->folded) {
        float *wf = f + h->w, *bf = f + h->b, *sc = f + h->scale;
        const nns_exec_node *bn = e->epi.affine;
        nns_op_def_of(bn->node)->affine(bn, sc, bf); /* bf: the shift for now */
        const size_t per = d.wsize / (size_t)d.m;
        for (int m = 0; m < d.m; m++) {
            for (size_t j = 0; j < per; j++) wf[(size_t)m * per + j] = W[(size_t)m * per + j] * sc[m];
            bf[m] = (B ? B[m] : 0.0f) * sc[m] + bf[m];
        }
        W = wf;
    }
    if (h->same) nns_conv2d_same_pack(d.m, d.c, (int)d.kk, W, f + h->same);
    if (h->wino) nns_conv_wino_pack(&d, W, f + h->u);
    if (h->wt) { /* W [M][K] -> panels of P output channels, each W^T [K][P] (zeros past M) */
        float *wt = f + h->u + (h->wino ? (size_t)d.m * d.c * 16 : 0);
        const size_t P = conv_wt_cols(e->kern), khw = d.ckg / (size_t)d.cg;
        for (int m = 0; m < d.m; m++)
            for (size_t l = 0; l < d.ckg; l++) /* K in (tap, channel) order, as ct_row makes the columns */
                wt[(size_t)m / P * P * d.ckg + (l % khw * (size_t)d.cg + l / khw) * P + (size_t)m % P] =
                    W[(size_t)m * d.ckg + l];
    }
    h->bf16 = h->ldw && nns_bf16_exact(W, d.wsize);
    if (h->bf16) nns_bf16_rows(d.m, (int)d.ckg, W, d.ckg, (uint16_t *)(f + h->wb), h->ldw);
}

/* Packed bf16 weights (conv_pack), or NULL: the layer runs in float. */
static const uint16_t *conv_packed_bf16(const nns_exec_node *e, size_t *ldw) {
    if (!e->packed || e->training) return NULL;
    const conv_packed *h = e->packed;
    *ldw = h->ldw;
    return h->bf16 ? (const uint16_t *)((const float *)(h + 1) + h->wb) : NULL;
}

/* The forward on the bf16 GEMM: images split among threads as im2col's. */
static void conv_forward_bf16(const conv_params *p, conv_dims *d, const nns_kernels *k, const float *X,
                              const uint16_t *Wb, size_t ldw, const float *B, float *Y, float *work) {
    nns_conv_bf16_dims(d);
    conv_ws ws;
    memset(&ws, 0, sizeof ws);
    conv_ws_bf16(d, p->nthreads, &ws);
    const int team = conv_team(p, d);
#pragma omp parallel num_threads(team) if (team > 1)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t i0 = d->n * t / nt, i1 = d->n * (t + 1) / nt;
        nns_conv_bf16_forward(d, k, X, Wb, ldw, B, Y, work + (size_t)t * ws.per_thread, &ws, i0, i1);
    }
}

/* The packed weights, bias and transformed filters of a forward (each left
 * as given when not packed). */
static void conv_packed_get(const nns_exec_node *e, const conv_dims *d, const float **W, const float **B,
                            const float **U) {
    *U = NULL;
    if (!e->packed || e->training) return;
    const conv_packed *h = e->packed;
    const float *f = (const float *)(h + 1);
    if (h->folded) {
        *W = f + h->w;
        *B = f + h->b;
    }
    if (h->wino && d->algo == CONV_ALGO_WINO) *U = f + h->u;
}

/* The filters conv_pack laid out for f32_conv2d_same, or NULL. */
static const float *conv_packed_same(const nns_exec_node *e, const conv_dims *d) {
    if (!e->packed || e->training) return NULL;
    const conv_packed *h = e->packed;
    return h->same && conv_is_same(e->kern, d) ? (const float *)(h + 1) + h->same : NULL;
}

/* The packed W^T of a layer of few pixels (conv_wt_cols), or NULL. */
static const float *conv_packed_wt(const nns_exec_node *e, const conv_dims *d) {
    if (!e->packed || e->training) return NULL;
    const conv_packed *h = e->packed;
    if (!h->wt || d->n != 1 || d->ohw > conv_wt_cols(e->kern)) return NULL;
    return (const float *)(h + 1) + h->u + (h->wino ? (size_t)d->m * d->c * 16 : 0);
}

/* One image of a 1x1 layer, activated: the table's f32_gemm, or OpenBLAS
 * then the activation; then the image's residual r (d->res, or NULL) and
 * d->post, while the image is in cache. */
static void conv_pw_image(const conv_dims *d, const nns_kernels *k, const float *x, const float *W, const float *B,
                          float *y, const float *r) {
    if (conv_own_gemm(k, (size_t)d->cg))
        nns_conv_pw_forward_own(d, k, x, W, B, y);
    else {
        nns_conv_pw_forward(d, x, W, B, y);
        nns_fuse_act_rows(y, (size_t)d->m * d->ohw, d->act, d->lo, d->hi);
    }
    if (r) conv_res_rows(d, y, r, (size_t)d->m * d->ohw);
    conv_post_rows(k, d->post, y, (size_t)d->m * d->ohw);
}

static void conv_forward_paths(nns_exec_node *e, const conv_params *p, conv_dims *dp);

/* A convolution of fewer images than threads and fewer operations than
 * this (2 per multiply-accumulate) runs on one thread. (With an image per
 * thread, each thread's images stay in its cache from layer to layer:
 * ShuffleNetV2 at batch 64 ran 1.1x slower with its small layers on one
 * thread.) A fork/join costs about 3 us on the 2-core test
 * machines and the second thread first pulls its inputs from the other
 * core's cache: resnet8's batch-1 layers (1 to 3.6 MFLOP) each took 20-50%
 * longer on 2 threads than on 1, and the whole net ran 0.227 ms on 2
 * threads, 0.177 ms on 1; with this limit 0.176 ms on 2 threads (AVX-512). */
#define CONV_PAR_MIN_FLOPS (4.0 * 1024 * 1024)
double nns_conv_par_min_flops = -1;
static double conv_par_min_flops(void) {
    if (nns_conv_par_min_flops < 0)
        nns_conv_par_min_flops = conv_env_limit("NNS_CONV_PAR_MIN_FLOPS", CONV_PAR_MIN_FLOPS);
    return nns_conv_par_min_flops;
}

/* The forward; an activation the kernels do not apply (SiLU, HardSwish,
 * d.post) image by image where the path can, else over the whole output
 * after it, on all threads. */
static void conv_forward(nns_exec_node *e) {
    conv_dims d;
    conv_dims_rt(e, &d);
    d.act = e->training ? NNS_FUSE_ACT_NONE : e->epi.act;
    d.lo = e->epi.lo;
    d.hi = e->epi.hi;
    d.post = d.act == NNS_FUSE_ACT_SILU || d.act == NNS_FUSE_ACT_HARDSWISH ? d.act : NNS_FUSE_ACT_NONE;
    if (d.post) d.act = NNS_FUSE_ACT_NONE;
    d.res = !e->training && e->epi.res ? nns_tv_cf32(e->epi.res) : NULL;
    d.ract = d.res ? d.act : NNS_FUSE_ACT_NONE;
    if (d.res) d.act = NNS_FUSE_ACT_NONE;
    conv_params p = *(const conv_params *)e->params;
    if (d.n < p.nthreads && 2.0 * (double)d.n * d.m * (double)d.ckg * (double)d.ohw < conv_par_min_flops())
        p.nthreads = 1;
    conv_forward_paths(e, &p, &d);
    if (!d.post && !d.res) return; /* none, or applied image by image */
    float *Y = nns_tv_f32(e->out[0]);
    const int64_t n = d.n * d.m * (int64_t)d.ohw, chunk = 16384, nch = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) num_threads(p.nthreads) if (n > NNS_OMP_MIN_ELEMS / 2)
    for (int64_t c = 0; c < nch; c++) {
        const int64_t a = c * chunk;
        const size_t len = (size_t)(n - a < chunk ? n - a : chunk);
        if (d.res) conv_res_rows(&d, Y + a, d.res + a, len);
        conv_post_rows(e->kern, d.post, Y + a, len);
    }
}

/* The direct kernels' clamp for d's activation (Relu: [0, inf), Clip: its
 * bounds; none: off), and their team: all threads from 1 Mi operations
 * (or nns_conv_par_min_flops where lower: tests take every split). */
typedef struct conv_direct {
    int clamp, team;
    float lo, hi;
} conv_direct;

static conv_direct conv_direct_make(const conv_params *p, const conv_dims *d) {
    const double flops = 2.0 * (double)d->n * d->m * (double)d->ckg * (double)d->ohw;
    return (conv_direct){d->act == NNS_FUSE_ACT_RELU || d->act == NNS_FUSE_ACT_CLIP,
                         p->nthreads > 1 && flops >= fmin((double)(1 << 20), conv_par_min_flops()) ? p->nthreads : 1,
                         d->act == NNS_FUSE_ACT_CLIP ? d->lo : 0.0f, d->act == NNS_FUSE_ACT_CLIP ? d->hi : INFINITY};
}

/* conv_is_fewch's forward: images split among threads, or each image's
 * output rows where there are fewer images than threads; a Relu or Clip in
 * the kernel, d->post after it on the rows it wrote. */
static void conv_fewch_forward(const conv_params *p, const conv_dims *d, const nns_kernels *k, const float *X,
                               const float *W, const float *B, float *Y) {
    const size_t xs = (size_t)d->c * d->ihw, ys = (size_t)d->m * d->ohw;
    const conv_direct c = conv_direct_make(p, d);
#pragma omp parallel num_threads(c.team)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads(), by_rows = d->n < nt;
        const int64_t i0 = by_rows ? 0 : d->n * t / nt, i1 = by_rows ? d->n : d->n * (t + 1) / nt;
        const int oy0 = by_rows ? d->g.oh * t / nt : 0, oy1 = by_rows ? d->g.oh * (t + 1) / nt : d->g.oh;
        for (int64_t i = i0; i < i1 && oy1 > oy0; i++) {
            float *y = Y + (size_t)i * ys;
            k->f32_conv2d_fewch(&d->g, d->c, d->m, oy0, oy1, X + (size_t)i * xs, W, B, c.clamp, c.lo, c.hi, y);
            for (int f = 0; d->post && f < d->m; f++)
                conv_post_rows(k, d->post, y + (size_t)f * d->ohw + (size_t)oy0 * d->g.ow,
                               (size_t)(oy1 - oy0) * d->g.ow);
        }
    }
}

/* How conv_same_forward splits a batch among nt threads: thread t's
 * images [i0, i1), output positions [p0, p1) and filters [f0, f1). By
 * images when there are as many as threads; else by whole vectors of 16
 * positions when each image has a pair of vectors a thread (the kernel's
 * step); else (small planes of few images: ResNet-18's 4x4 planes at
 * batch 1 had left one of two threads idle) by blocks of NNS_CONV_SAME_MB
 * filters, at which nns_conv2d_same_pack's layout starts a block. */
typedef struct same_part {
    int64_t i0, i1;
    int p0, p1, f0, f1;
} same_part;

static same_part conv_same_part(const conv_dims *d, int t, int nt) {
    const int vecs = (int)(d->ohw + 15) / 16, blocks = (d->m + NNS_CONV_SAME_MB - 1) / NNS_CONV_SAME_MB;
    same_part s = {0, d->n, 0, (int)d->ohw, 0, d->m};
    if (d->n >= nt) {
        s.i0 = d->n * t / nt;
        s.i1 = d->n * (t + 1) / nt;
    } else if (vecs >= 2 * nt) {
        const int e1 = vecs * (t + 1) / nt * 16;
        s.p0 = vecs * t / nt * 16;
        s.p1 = e1 < (int)d->ohw ? e1 : (int)d->ohw;
    } else {
        const int b1 = (int)((int64_t)blocks * (t + 1) / nt) * NNS_CONV_SAME_MB;
        s.f0 = (int)((int64_t)blocks * t / nt) * NNS_CONV_SAME_MB;
        s.f1 = b1 < d->m ? b1 : d->m;
    }
    return s;
}

/* conv_is_same's forward, split by conv_same_part; d->res and a Relu or
 * Clip in the kernel, d->post after it on what the thread wrote. At stride 2 each
 * thread splits its images (f32_conv2d_s2_split) into its im2col columns'
 * space, as many at a time as fit, then runs f32_conv2d_s2 on them. */
static void conv_same_forward(const conv_params *p, const conv_dims *d, const nns_kernels *k, const float *X,
                              const float *Wp, const float *B, float *Y, float *work, const conv_ws *ws) {
    const int s2 = d->g.sh == 2;
    const size_t xs = (size_t)d->c * d->ihw, ys = (size_t)d->m * d->ohw;
    const size_t ss = s2 ? nns_conv2d_s2_floats(&d->g, d->c) : xs;
    const int64_t cap = s2 ? (int64_t)(d->ckg * d->ib * d->ohw / ss) : d->n;
    conv_direct c = conv_direct_make(p, d);
    if (d->res) { /* the residual's clamp, after the sum, in the kernel */
        c.clamp = d->ract == NNS_FUSE_ACT_RELU || d->ract == NNS_FUSE_ACT_CLIP;
        c.lo = d->ract == NNS_FUSE_ACT_CLIP ? d->lo : 0.0f;
        c.hi = d->ract == NNS_FUSE_ACT_CLIP ? d->hi : INFINITY;
    }
#pragma omp parallel num_threads(c.team)
    {
        const int t = omp_get_thread_num();
        const same_part s = conv_same_part(d, t, omp_get_num_threads());
        float *buf = work + (size_t)t * ws->per_thread + ws->col;
        const float *wp = Wp + (size_t)s.f0 * d->c * d->kk, *b = B ? B + s.f0 : NULL;
        for (int64_t i = s.i0; i < s.i1 && s.p1 > s.p0 && s.f1 > s.f0; i += cap) {
            const int nb = (int)(s.i1 - i < cap ? s.i1 - i : cap);
            float *y = Y + (size_t)i * ys + (size_t)s.f0 * d->ohw;
            const float *r = conv_res_at(d, (size_t)i * ys + (size_t)s.f0 * d->ohw);
            for (int j = 0; s2 && j < nb; j++) k->f32_conv2d_s2_split(&d->g, d->c, X + (size_t)(i + j) * xs, buf + j * ss);
            if (s2)
                k->f32_conv2d_s2(&d->g, d->c, s.f1 - s.f0, nb, s.p0, s.p1, buf, ss, wp, b, c.clamp, c.lo, c.hi, y, ys, r);
            else
                k->f32_conv2d_same(&d->g, d->c, s.f1 - s.f0, nb, s.p0, s.p1, X + (size_t)i * xs, xs, wp, b, c.clamp,
                                   c.lo, c.hi, y, ys, r);
            for (int j = 0; d->post && j < nb; j++)
                for (int f = s.f0; f < s.f1; f++)
                    conv_post_rows(k, d->post, Y + (size_t)(i + j) * ys + (size_t)f * d->ohw + s.p0, s.p1 - s.p0);
        }
    }
}

/* The forward with d's activation (none, Relu or Clip) in the kernels;
 * the depthwise and per-image 1x1 paths also apply dp->post and clear it. */
static void conv_forward_paths(nns_exec_node *e, const conv_params *p, conv_dims *dp) {
    conv_dims d = *dp;
    dp->post = NNS_FUSE_ACT_NONE; /* set back below where a path leaves it to the caller */
    const float *X = nns_tv_cf32(e->in[0]), *W = nns_tv_cf32(e->in[1]);
    const float *B = e->n_in > 2 && e->in[2] ? nns_tv_cf32(e->in[2]) : NULL;
    float *Y = nns_tv_f32(e->out[0]);
    conv_ws ws;
    conv_ws_make(&d, p->nthreads, e->training, &ws);
    float *work = e->work;
    const nns_kernels *k = e->kern;
    const float *U;
    conv_packed_get(e, &d, &W, &B, &U);
    size_t ldw = 0;
    const uint16_t *Wb = conv_packed_bf16(e, &ldw);
    if (Wb && d.algo != CONV_ALGO_WINO) {
        conv_forward_bf16(p, &d, k, X, Wb, ldw, B, Y, work);
        dp->post = d.post;
        return;
    }
    const float *Ws = conv_packed_same(e, &d);
    if (!Ws && e->training && conv_train_same(k, &d)) { /* the filters change every step: packed each time */
        nns_conv2d_same_pack(d.m, d.c, (int)d.kk, W, work + ws.wt);
        Ws = work + ws.wt;
    }
    if (Ws) {
        conv_same_forward(p, &d, k, X, Ws, B, Y, work, &ws);
        dp->res = NULL; /* added by the kernel */
        return;
    }
    if (d.algo == CONV_ALGO_DW) {
        nns_conv_dw_forward(p, &d, k, X, W, B, Y, work, &ws);
        return;
    }
    if (d.algo == CONV_ALGO_WINO) {
        nns_conv_wino_forward(k, p, &d, X, W, U, B, Y, work, &ws); /* with d's activation */
        dp->post = d.post;
        return;
    }
    const size_t xs = (size_t)d.c * d.ihw, ys = (size_t)d.m * d.ohw;
    const int team = conv_team(p, &d);
    if (conv_is_fewch(k, &d)) {
        conv_fewch_forward(p, &d, k, X, W, B, Y);
        return;
    }
    if (conv_is_1ch(&d)) {
#pragma omp parallel num_threads(team)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
            for (int64_t i = i0; i < i1; i++) { /* the activation while the image is in cache */
                k->f32_conv2d_1ch(&d.g, 1, d.m, X + (size_t)i * xs, xs, W, B, Y + (size_t)i * ys, ys,
                                  work + (size_t)t * ws.per_thread);
                nns_fuse_act_rows(Y + (size_t)i * ys, ys, d.act, d.lo, d.hi);
                conv_post_rows(k, d.post, Y + (size_t)i * ys, ys);
            }
        }
        return;
    }
    dp->res = NULL; /* the GEMM paths below add it as their outputs come out */
    const float *WT = conv_packed_wt(e, &d);
    if (WT && (d.algo == CONV_ALGO_IM2COL || d.algo == CONV_ALGO_1X1)) {
        nns_conv_own_forward_t(&d, k, X, WT, B, Y, work, &ws, p->nthreads);
        dp->post = d.post;
        return;
    }
    if (team == 1 && d.n == 1 && p->nthreads > 1 && conv_own_gemm_1image(k) &&
        2.0 * d.m * (double)d.ckg * (double)d.ohw >= (double)(1 << 20)) {
        nns_conv_own_forward_rows(&d, k, X, W, B, Y, work, &ws, p->nthreads);
        dp->post = d.post;
        return;
    }
    if (d.algo == CONV_ALGO_IM2COL) dp->post = d.post; /* its images go through the GEMM in batches */
    if (team == 1) {
        if (d.algo == CONV_ALGO_IM2COL) nns_conv_im2col_forward(&d, k, X, W, B, Y, work, &ws, 0, d.n);
        else
            for (int64_t i = 0; i < d.n; i++) conv_pw_image(&d, k, X + i * xs, W, B, Y + i * ys, conv_res_at(&d, i * ys));
        return;
    }
#pragma omp parallel num_threads(team)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
        if (d.algo == CONV_ALGO_IM2COL)
            nns_conv_im2col_forward(&d, k, X, W, B, Y, work + (size_t)t * ws.per_thread, &ws, i0, i1);
        else
            for (int64_t i = i0; i < i1; i++) conv_pw_image(&d, k, X + i * xs, W, B, Y + i * ys, conv_res_at(&d, i * ys));
    }
}

/* The data gradient of a stride-1 layer on f32_conv2d_same: dX is dY
 * convolved with the filters flipped and transposed (W'[c][f] = W[f][c]
 * turned by 180 degrees), the padding
 * mirrored (kh - 1 - pt), at the same size; added to dX (the kernel's
 * residual) unless written. Packs W' in the shared work space. Returns 0
 * where the transposed layer is not one conv_train_same takes. */
static int conv_same_dx(const nns_exec_node *e, const conv_params *p, const conv_dims *d, const float *W,
                        const float *dY, float *dX, int dx_write, float *work, const conv_ws *ws) {
    if (d->g.sh != 1 || d->g.sw != 1 || d->group != 1) return 0;
    conv_dims t = *d;
    t.c = t.cg = d->m;
    t.m = t.mg = d->c;
    t.g.ih = d->g.oh;
    t.g.iw = d->g.ow;
    t.g.oh = d->g.ih;
    t.g.ow = d->g.iw;
    t.g.pt = d->g.kh - 1 - d->g.pt;
    t.g.pl = d->g.kw - 1 - d->g.pl;
    t.ihw = d->ohw;
    t.ohw = d->ihw;
    t.ckg = (size_t)d->m * d->kk;
    t.act = t.post = t.ract = NNS_FUSE_ACT_NONE;
    t.res = dx_write ? NULL : dX; /* read before each store: dX itself */
    if (!conv_train_same(e->kern, &t)) return 0;
    float *wt = work + ws->wt, *wp = wt + d->wsize;
    const size_t kk = d->kk;
    for (int f = 0; f < d->m; f++)
        for (int c = 0; c < d->c; c++)
            for (size_t i = 0; i < kk; i++)
                wt[((size_t)c * d->m + f) * kk + (kk - 1 - i)] = W[((size_t)f * d->c + c) * kk + i];
    nns_conv2d_same_pack(t.m, t.c, (int)kk, wt, wp);
    conv_same_forward(p, &t, e->kern, dY, wp, NULL, dX, work, ws);
    return 1;
}

static void conv_backward(nns_exec_node *e) {
    const conv_params *p = e->params;
    const float *dY = e->out[0]->grad;
    if (!dY) return;
    conv_dims d;
    conv_dims_rt(e, &d);
    const float *X = nns_tv_cf32(e->in[0]), *W = nns_tv_cf32(e->in[1]);
    float *dX = e->in[0]->grad, *dW = e->in[1]->grad;
    float *dB = e->n_in > 2 && e->in[2] ? e->in[2]->grad : NULL;
    /* dX written rather than accumulated (nns_exec_node.grad_overwrite) */
    const int dx_write = dX && (e->grad_overwrite & 1u);
    float *work = e->work;
    conv_ws ws;
    conv_ws_make(&d, p->nthreads, 1, &ws);
    const nns_kernels *k = e->kern;
    if (d.algo == CONV_ALGO_DW) {
        if (dX || dW || dB) nns_conv_dw_backward(p, &d, k, X, W, dY, dX, dx_write, dW, dB, work, &ws);
        return;
    }
    const size_t xs = (size_t)d.c * d.ihw, ys = (size_t)d.m * d.ohw;
    if (dB) {
#pragma omp parallel for schedule(static) num_threads(p->nthreads) if (d.m > 1 && d.n * ys > 32768)
        for (int m = 0; m < d.m; m++) {
            float s = 0.0f;
            for (int64_t i = 0; i < d.n; i++) s += conv_row_sum(dY + i * ys + (size_t)m * d.ohw, d.ohw);
            dB[m] += s;
        }
    }
    if (dX && conv_same_dx(e, p, &d, W, dY, dX, dx_write, work, &ws)) dX = NULL; /* done */
    if (!dX && !dW) return;
    if (d.algo == CONV_ALGO_WINO) {
        nns_conv_wino_backward(k, p, &d, X, W, dY, dX, dx_write, dW, work, &ws);
        return;
    }
    const int team = conv_team(p, &d);
    if (!dX && conv_is_1ch(&d) && nns_f32_dwconv2d_scratch_floats(&d.g) <= (ws.part ? ws.part : ws.per_thread)) {
        /* One input channel and no data gradient (a first layer): the
         * f32_conv2d_1ch_wgrad kernel; image ranges per thread, partials
         * summed in order. */
#pragma omp parallel num_threads(team)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
            float *base = work + (size_t)t * ws.per_thread;
            float *dw = nt > 1 ? base + ws.part : dW;
            if (nt > 1) memset(dw, 0, d.wsize * sizeof(float));
            if (i1 > i0)
                k->f32_conv2d_1ch_wgrad(&d.g, (int)(i1 - i0), d.m, X + (size_t)i0 * xs, xs, dY + (size_t)i0 * ys, ys,
                                        W, dw, base);
            if (nt > 1) {
#pragma omp barrier
                conv_reduce_partials(&d, &ws, work, dW, t, nt);
            }
        }
        return;
    }
    if (team == 1) {
        if (d.algo == CONV_ALGO_IM2COL) nns_conv_im2col_backward(&d, k, X, W, dY, dX, dx_write, dW, 0, work, &ws, 0, d.n);
        else
            for (int64_t i = 0; i < d.n; i++) nns_conv_pw_backward(&d, X + i * xs, W, dY + i * ys, dX ? dX + i * xs : NULL, dx_write, dW, 0);
        return;
    }
#pragma omp parallel num_threads(team)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
        float *base = work + (size_t)t * ws.per_thread;
        float *part = dW ? base + ws.part : NULL;
        if (d.algo == CONV_ALGO_IM2COL)
            nns_conv_im2col_backward(&d, k, X, W, dY, dX, dx_write, part, 1, base, &ws, i0, i1);
        else
            for (int64_t i = i0; i < i1; i++)
                nns_conv_pw_backward(&d, X + i * xs, W, dY + i * ys, dX ? dX + i * xs : NULL, dx_write, part, i == i0);
        if (dW) {
#pragma omp barrier
            conv_reduce_partials(&d, &ws, work, dW, t, nt);
        }
    }
}

static const char *conv_kernel_name(const nns_exec_node *e) {
    conv_dims d;
    conv_dims_rt(e, &d);
    size_t ldw;
    if (conv_packed_bf16(e, &ldw) && d.algo != CONV_ALGO_WINO) return "bf16";
    if (conv_is_1ch(&d)) return "1ch";
    static const char *const names[] = {"depthwise", "1x1", "im2col", "winograd"};
    return names[d.algo];
}

/* ---- facts (op.h) ---- */

/* W [M, C/group, kH, kW]: output channels on axis 0, the rest reduced. */
static int conv_weight_axes(const nns_node *n, int slot, int rank, nns_weight_axes *ax) {
    if (slot != 1 || rank < 2) return 0;
    *ax = (nns_weight_axes){.out_axis = 0, .red_first = 1, .red_last = rank - 1};
    return 1;
}

/* Depthwise: group == input channels == output channels, W [C, 1, ...]. */
static int conv_channelwise(const nns_graph *g, const nns_node *n) {
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0) return 0;
    const nns_shape *x = &g->values[n->in[0]].shape, *w = &g->values[n->in[1]].shape;
    if (x->ndim < 2 || w->ndim < 2) return 0;
    int64_t c = x->dims[1];
    return nns_node_attr_int(n, "group", 1) == c && w->dims[0] == c && w->dims[1] == 1;
}

/* Every output element sums C/group * kH * kW products. */
static int64_t conv_macs(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    const nns_shape *w = in[1];
    int64_t per = 1;
    for (int d = 1; d < w->ndim; d++) per = nns_macs_mul(per, w->dims[d]);
    return nns_macs_mul(nns_shape_numel(out), per);
}

const nns_op_def nns_op_conv = {
    .name = "Conv",
    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(conv_params),
    .prepare = conv_prepare,
    .f32_inputs = 7u,
    .infer = conv_infer,
    .work_bytes = conv_work_bytes,
    .forward = conv_forward,
    .backward = conv_backward,
    .packed_bytes = conv_packed_bytes,
    .pack = conv_pack,
    .kernel_name = conv_kernel_name,
    .grad_overwrite_inputs = 1u << 0,
    .chan = NNS_OP_CHAN_CONV,
    .weight_in = 1, .bias_in = 2,
    .weight_axes = conv_weight_axes,
    .channelwise = conv_channelwise,
    .macs = conv_macs,
};
