/* test_ptq.c — post-training quantization into QDQ form (nns_quantize_ptq)
 * on the PyTorch exports of tests/golden with synthetic images:
 *   - every BatchNormalization is folded, every Conv and Gemm reads an s8
 *     weight through DequantizeLinear and a u8 (or s8) activation through
 *     QuantizeLinear -> DequantizeLinear, and nothing else changed;
 *   - the outputs stay close to the float model's (error relative to the
 *     output's range, and the same class for most images);
 *   - the saved file is at most 30% of the float file (45% for mobilenet,
 *     whose names weigh as much as its weights), and loads back to a
 *     graph that gives the same outputs bit for bit;
 *   - layers kept by name stay float; bad settings are refused by name;
 *   - quantization-aware training whose training step changes nothing
 *     gives PTQ's graph and outputs;
 *   - weight-only grouped quantization (s4 or s8, one scale per group of
 *     input channels): each weight dequantizes to within half a step of
 *     the float one, with the scale layout of opset 21's block_size; the
 *     file is smaller still and loads back to the same outputs; a group
 *     size that does not divide a layer's input channels, an unsupported
 *     width and 4 bits with quantized activations are refused by name. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/graph_impl.h"
#include "core/op_id.h"
#include "graph/weights.h"
#include "nnslim/nnslim.h"
#include "synthdata.h"
#include "testutil.h"

#define NIMG 64

static char g_dir[4096];

static nns_graph *load(const char *name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s.onnx", g_dir, name);
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_load_onnx(p, &g));
    return g;
}

/* Outputs of g on the first NIMG images of d (malloc'd), *k classes. */
static float *outputs(nns_graph *g, const nns_dataset *d, int64_t *k) {
    nns_session *s = NULL;
    CHECK_OK(nns_session_create(g, 16, &s));
    if (!s) return NULL;
    *k = nns_session_output_size(s);
    float *y = malloc((size_t)(NIMG * *k) * sizeof *y);
    CHECK_OK(nns_session_run(s, d->x, NIMG, y));
    nns_session_free(s);
    return y;
}

static int argmax(const float *v, int64_t k) {
    int a = 0;
    for (int64_t i = 1; i < k; i++) a = v[i] > v[a] ? (int)i : a;
    return a;
}

/* The structure of a quantized graph: no BatchNormalization; each Conv and
 * Gemm reads a DequantizeLinear of an s8 constant as its weight and a
 * DequantizeLinear of a QuantizeLinear as input 0. Returns the layers. */
static int check_structure(const nns_graph *g, nns_dtype act) {
    int layers = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        CHECK_MSG(n->op != NNS_OP_BATCHNORM, "BatchNormalization '%s' was not folded", n->name);
        if (n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM) continue;
        layers++;
        const int wp = g->values[n->in[1]].producer, xp = g->values[n->in[0]].producer;
        CHECK_MSG(wp >= 0 && g->nodes[wp].op == NNS_OP_DEQUANTIZELINEAR &&
                      g->values[g->nodes[wp].in[0]].dtype == NNS_DTYPE_S8,
                  "layer '%s': weight is not an s8 constant through DequantizeLinear", n->name);
        const int qp = xp >= 0 && g->nodes[xp].op == NNS_OP_DEQUANTIZELINEAR ? g->values[g->nodes[xp].in[0]].producer : -1;
        CHECK_MSG(qp >= 0 && g->nodes[qp].op == NNS_OP_QUANTIZELINEAR && g->values[g->nodes[qp].out[0]].dtype == act,
                  "layer '%s': input 0 is not a %s QuantizeLinear -> DequantizeLinear", n->name, nns_dtype_name(act));
        const int bp = n->n_in > 2 && n->in[2] >= 0 ? g->values[n->in[2]].producer : -2;
        CHECK_MSG(bp == -2 || (bp >= 0 && g->values[g->nodes[bp].in[0]].dtype == NNS_DTYPE_S32),
                  "layer '%s': the bias is not s32 through DequantizeLinear", n->name);
    }
    /* what sessions run: every layer one integer node */
    nns_graph *c = NULL;
    CHECK_OK(nns_graph_exec_copy(g, &c));
    int lowered = 0;
    for (int i = 0; c && i < c->n_nodes; i++) lowered += c->nodes[i].op == NNS_OP_INT8CONV || c->nodes[i].op == NNS_OP_INT8GEMM;
    CHECK_MSG(lowered == layers, "%d of %d layers run in integers", lowered, layers);
    nns_graph_free(c);
    return layers;
}

static off_t file_size(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 ? sb.st_size : -1;
}

/* PTQ of golden model `name` (float file `name`.onnx), checked as above. */
static void quantize_model(const char *name, int act_signed, double max_rel, int min_agree, int max_pct) {
    nns_dataset d;
    make_data(&d, 256, 11);
    nns_graph *g = load(name), *q = NULL;
    if (!g) return;
    int64_t k = 0;
    float *yf = outputs(g, &d, &k);
    CHECK_OK(nns_graph_clone(g, &q));
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.calib_samples = 200;
    cfg.act_signed = act_signed;
    nns_ptq_result r;
    CHECK_OK(nns_quantize_ptq(q, &d, &cfg, &r));
    CHECK(r.calib_images == 200 && r.layers > 0 && r.activations > 0 && r.activations <= 2 * r.layers);
    CHECK_MSG(check_structure(q, act_signed ? NNS_DTYPE_S8 : NNS_DTYPE_U8) == r.layers, "%s: %d layers quantized", name,
              r.layers);
    float *yq = outputs(q, &d, &k);
    double err = 0, span = 0;
    int agree = 0;
    for (int64_t i = 0; yf && yq && i < NIMG * k; i++) {
        err = fmax(err, fabs((double)yq[i] - yf[i]));
        span = fmax(span, fabs((double)yf[i]));
    }
    for (int i = 0; yf && yq && i < NIMG; i++) agree += argmax(yf + i * k, k) == argmax(yq + i * k, k);
    printf("%s (%s activations): %d layers, %d BN folded, max error %.4g of %.4g, %d/%d same class\n", name,
           act_signed ? "s8" : "u8", r.layers, r.folded_bn, err, span, agree, NIMG);
    CHECK_MSG(err <= max_rel * span, "%s: error %g > %g x %g", name, err, max_rel, span);
    CHECK_MSG(agree >= min_agree, "%s: %d of %d images keep their class", name, agree, NIMG);
    /* saved: smaller, and the same outputs once loaded back */
    char src[4200], path[] = "/tmp/nns_ptq_XXXXXX";
    snprintf(src, sizeof src, "%s/%s.onnx", g_dir, name);
    const int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    CHECK_OK(nns_graph_save_onnx(q, path));
    printf("%s: %lld bytes quantized, %lld float\n", name, (long long)file_size(path), (long long)file_size(src));
    CHECK_MSG(file_size(path) * 100 <= file_size(src) * max_pct, "%s: %lld bytes quantized, %lld float (over %d%%)", name,
              (long long)file_size(path), (long long)file_size(src), max_pct);
    nns_graph *back = NULL;
    CHECK_OK(nns_graph_load_onnx(path, &back));
    float *yb = back ? outputs(back, &d, &k) : NULL;
    CHECK(yb && yq && memcmp(yb, yq, (size_t)(NIMG * k) * sizeof *yb) == 0);
    if (getenv("NNS_PTQ_KEEP")) printf("kept %s\n", path); else unlink(path);
    free(yb);
    free(yf);
    free(yq);
    nns_graph_free(back);
    nns_graph_free(q);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* Weight w_q (through DequantizeLinear node dq) against the float weight
 * wf: the scale of each element's group (block_size along `axis`, or per
 * output channel) gives back wf within half a step. Returns the elements
 * off by more. */
static int64_t check_grouped_weight(const nns_graph *q, const nns_node *dq, const float *wf) {
    const nns_value *w = &q->values[dq->in[0]], *sv = &q->values[dq->in[1]];
    const int64_t block = nns_node_attr_int(dq, "block_size", 0), axis = nns_node_attr_int(dq, "axis", 1);
    int64_t outer = 1, inner = 1, bad = 0;
    const int64_t d = w->shape.dims[axis];
    for (int k = 0; k < axis; k++) outer *= w->shape.dims[k];
    for (int k = (int)axis + 1; k < w->shape.ndim; k++) inner *= w->shape.dims[k];
    const int64_t nb = block ? d / block : d;
    CHECK_MSG(block == 0 || (sv->shape.ndim == w->shape.ndim && sv->shape.dims[axis] == nb && d % block == 0),
              "'%s': scale shape does not fit block_size %lld", dq->name, (long long)block);
    const float *sc = sv->data;
    const int8_t *qv = w->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < d; c++)
            for (int64_t i = 0; i < inner; i++) {
                const int64_t k = (o * d + c) * inner + i, si = block ? (o * nb + c / block) * inner + i : c;
                bad += fabsf((float)qv[k] * sc[si] - wf[k]) > sc[si] * 0.5001f;
            }
    return bad;
}

/* Weight-only grouped quantization of `name` to `bits` in groups of
 * `group`: structure, weights, outputs, file size, round trip. */
/* The model saved at path, loaded back: its outputs on d are yq's, bit for
 * bit (k classes). Returns it (the caller frees). */
static nns_graph *reload_same(const char *path, const nns_dataset *d, const float *yq, int64_t k) {
    nns_graph *back = NULL;
    CHECK_OK(nns_graph_load_onnx(path, &back));
    float *yb = back ? outputs(back, d, &k) : NULL;
    CHECK(yb && yq && memcmp(yb, yq, (size_t)(NIMG * k) * sizeof *yb) == 0);
    free(yb);
    return back;
}

/* Sessions run each Gemm on grouped 4-bit weights as GemmW4 (the codes
 * unpacked in registers), or on float16 weights as GemmF16 (op): yq, the
 * session's outputs, within float rounding of those of the weights decoded
 * to float once (the DequantizeLinear and Cast nodes folded, no GemmW4 or
 * GemmF16). */
static void low_gemms(const nns_graph *q, const nns_dataset *d, const float *yq, int64_t k, int op) {
    nns_graph *e = NULL, *c = NULL;
    CHECK_OK(nns_graph_exec_copy(q, &e));
    int gemms = 0, w4 = 0;
    for (int i = 0; i < q->n_nodes; i++) gemms += q->nodes[i].op == NNS_OP_GEMM;
    for (int i = 0; e && i < e->n_nodes; i++) w4 += e->nodes[i].op == op;
    CHECK_MSG(gemms > 0 && w4 == gemms, "%d of %d Gemms run as %s", w4, gemms, op == NNS_OP_GEMMW4 ? "GemmW4" : "GemmF16");
    CHECK_OK(nns_graph_clone(q, &c));
    if (c) CHECK_OK(nns_graph_fold_dequantize(c, NULL));
    if (c) CHECK_OK(nns_graph_finalize(c));
    int64_t kc = 0;
    float *yc = c ? outputs(c, d, &kc) : NULL;
    double worst = 0;
    for (int64_t i = 0; yc && yq && i < NIMG * k; i++) worst = fmax(worst, fabs((double)yq[i] - yc[i]) / (fabs((double)yc[i]) + 1.0));
    CHECK_MSG(yc && yq && kc == k && worst < 1e-5, "op %d off the decoded weights by %g", op, worst);
    free(yc);
    nns_graph_free(c);
    nns_graph_free(e);
}

static void grouped_model(const char *name, int bits, int group, int min_agree, int max_pct) {
    nns_dataset d;
    make_data(&d, 64, 13);
    nns_graph *g = load(name), *q = NULL;
    if (!g) return;
    int64_t k = 0;
    float *yf = outputs(g, &d, &k);
    CHECK_OK(nns_graph_clone(g, &q));
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.weight_only = 1;
    cfg.weight_bits = bits;
    cfg.group_size = group;
    nns_ptq_result r;
    CHECK_OK(nns_quantize_ptq(q, &d, &cfg, &r));
    CHECK(r.activations == 0 && r.calib_images == 0 && r.layers > 0);
    /* the float weights the quantized ones came from: g with BN folded */
    nns_graph *f = NULL;
    CHECK_OK(nns_graph_clone(g, &f));
    CHECK_OK(nns_graph_fold_batchnorm(f, NULL));
    int layers = 0, blocked = 0;
    int64_t bad = 0;
    for (int i = 0; q && f && i < q->n_nodes; i++) {
        const nns_node *n = &q->nodes[i];
        if (n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM) continue;
        const int wp = q->values[n->in[1]].producer, fi = nns_graph_find_node(f, n->name);
        const nns_node *dq = wp >= 0 ? &q->nodes[wp] : NULL;
        CHECK_MSG(dq && dq->op == NNS_OP_DEQUANTIZELINEAR &&
                      q->values[dq->in[0]].dtype == (bits == 4 ? NNS_DTYPE_S4 : NNS_DTYPE_S8) && fi >= 0,
                  "layer '%s': weight is not s%d through DequantizeLinear", n->name, bits);
        if (!dq || dq->op != NNS_OP_DEQUANTIZELINEAR || fi < 0) continue;
        layers++;
        blocked += nns_node_attr_int(dq, "block_size", 0) > 0;
        bad += check_grouped_weight(q, dq, f->values[f->nodes[fi].in[1]].data);
        const int xp = q->values[n->in[0]].producer;
        CHECK_MSG(xp < 0 || q->nodes[xp].op != NNS_OP_DEQUANTIZELINEAR, "layer '%s': input quantized", n->name);
    }
    CHECK_MSG(layers == r.layers && blocked > 0 && bad == 0, "%s: %d layers, %d blocked, %lld weights off", name,
              layers, blocked, (long long)bad);
    float *yq = outputs(q, &d, &k);
    if (bits == 4) low_gemms(q, &d, yq, k, NNS_OP_GEMMW4);
    int agree = 0;
    for (int i = 0; yf && yq && i < NIMG; i++) agree += argmax(yf + i * k, k) == argmax(yq + i * k, k);
    char src[4200], path[] = "/tmp/nns_ptq4_XXXXXX";
    snprintf(src, sizeof src, "%s/%s.onnx", g_dir, name);
    const int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    CHECK_OK(nns_graph_save_onnx(q, path));
    printf("%s W%d g%d: %d layers (%d blocked), %d/%d same class, %lld bytes, float %lld\n", name, bits, group, layers,
           blocked, agree, NIMG, (long long)file_size(path), (long long)file_size(src));
    CHECK_MSG(agree >= min_agree, "%s: %d of %d images keep their class", name, agree, NIMG);
    CHECK_MSG(file_size(path) * 100 <= file_size(src) * max_pct, "%s: over %d%% of the float file", name, max_pct);
    nns_graph *back = reload_same(path, &d, yq, k);
    unlink(path);
    free(yf);
    free(yq);
    nns_graph_free(back);
    nns_graph_free(f);
    nns_graph_free(q);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* 16-bit float weights (weight_float16): each layer's weight is the f16 or
 * bf16 rounding of its float one, read through a Cast to float; nothing
 * calibrated; outputs close to the float model's; the saved file is about
 * half and loads back with its 16-bit weights (precision f16/bf16), giving
 * the same outputs. */
static void half_model(const char *name, nns_dtype dt) {
    nns_dataset d;
    make_data(&d, 64, 17);
    nns_graph *g = load(name), *q = NULL, *f = NULL;
    if (!g) return;
    int64_t k = 0;
    float *yf = outputs(g, &d, &k);
    CHECK_OK(nns_graph_clone(g, &q));
    CHECK_OK(nns_graph_clone(g, &f));
    CHECK_OK(nns_graph_fold_batchnorm(f, NULL));
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.weight_only = 1;
    cfg.weight_float16 = dt;
    nns_ptq_result r;
    CHECK_OK(nns_quantize_ptq(q, &d, &cfg, &r));
    CHECK(r.activations == 0 && r.calib_images == 0 && r.layers > 0);
    const nns_dtype_info *di = nns_dtype_get_info(dt);
    int layers = 0;
    int64_t bad = 0;
    for (int i = 0; q && f && i < q->n_nodes; i++) {
        const nns_node *n = &q->nodes[i];
        if (n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM) continue;
        const int wp = q->values[n->in[1]].producer, fi = nns_graph_find_node(f, n->name);
        const nns_value *w = wp >= 0 ? &q->values[q->nodes[wp].in[0]] : NULL;
        CHECK_MSG(w && q->nodes[wp].op == NNS_OP_CAST && w->dtype == dt && fi >= 0, "layer '%s': weight not %s through Cast",
                  n->name, di->name);
        if (!w || w->dtype != dt || fi < 0) continue;
        layers++;
        const float *wf = f->values[f->nodes[fi].in[1]].data;
        for (int64_t j = 0; j < nns_shape_numel(&w->shape); j++) {
            uint16_t h;
            di->from_f32(wf[j], &h);
            bad += memcmp(&h, (const char *)w->data + 2 * j, 2) != 0;
        }
        char prec[16];
        nns_graph_layer_precision(q, i, prec, sizeof prec);
        CHECK_MSG(strcmp(prec, di->name) == 0, "layer '%s': precision '%s'", n->name, prec);
    }
    CHECK_MSG(layers == r.layers && bad == 0, "%s %s: %d layers, %lld weights not rounded", name, di->name, layers,
              (long long)bad);
    /* training would leave a 16-bit weight unchanged: refused by name */
    nns_train_config tc;
    nns_train_config_default(&tc);
    tc.epochs = 1;
    nns_train_result tr;
    const nns_status ts = q ? nns_train(q, &d, NULL, &tc, &tr) : NNS_STATUS_INTERNAL;
    CHECK_MSG(ts == NNS_STATUS_UNSUPPORTED && strstr(nns_last_error(), "would not train"), "%s %s: training gave %d: %s",
              name, di->name, (int)ts, nns_last_error());
    float *yq = outputs(q, &d, &k);
    if (dt == NNS_DTYPE_F16) low_gemms(q, &d, yq, k, NNS_OP_GEMMF16);
    double worst = 0;
    for (int64_t i = 0; yf && yq && i < NIMG * k; i++) {
        const double e = fabs((double)yq[i] - yf[i]) / (fabs((double)yf[i]) + 1.0);
        worst = e > worst ? e : worst;
    }
    CHECK_MSG(yf && yq && worst < (dt == NNS_DTYPE_F16 ? 0.01 : 0.05), "%s %s: outputs off by %g", name, di->name, worst);
    char src[4200], path[] = "/tmp/nns_ptq16_XXXXXX";
    snprintf(src, sizeof src, "%s/%s.onnx", g_dir, name);
    const int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    CHECK_OK(nns_graph_save_onnx(q, path));
    CHECK_MSG(file_size(path) * 100 <= file_size(src) * 60, "%s %s: %lld bytes, float %lld", name, di->name,
              (long long)file_size(path), (long long)file_size(src));
    nns_graph *back = reload_same(path, &d, yq, k);
    int halfs = 0;
    for (int i = 0; back && i < back->n_nodes; i++) {
        char prec[16];
        nns_graph_layer_precision(back, i, prec, sizeof prec);
        halfs += strcmp(prec, di->name) == 0;
    }
    CHECK_MSG(halfs == layers, "%s %s reloaded: %d of %d layers %s", name, di->name, halfs, layers, di->name);
    unlink(path);
    free(yf);
    free(yq);
    nns_graph_free(back);
    nns_graph_free(f);
    nns_graph_free(q);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* Layer i of q reads its input through a Cast to dt and a Cast back. */
static int reads_rounded(const nns_graph *q, int i, nns_dtype dt) {
    const int back = q->values[q->nodes[i].in[0]].producer;
    if (back < 0 || q->nodes[back].op != NNS_OP_CAST) return 0;
    const nns_value *h = &q->values[q->nodes[back].in[0]];
    return h->dtype == dt && h->producer >= 0 && q->nodes[h->producer].op == NNS_OP_CAST;
}

/* Layers of q labelled W<dt>A<dt> that read a rounded input. */
static int half_act_layers(const nns_graph *q, nns_dtype dt) {
    const char *t = nns_dtype_name(dt);
    char want[32], prec[32];
    snprintf(want, sizeof want, "W%sA%s", t, t);
    int n = 0;
    for (int i = 0; q && i < q->n_nodes; i++) {
        if (q->nodes[i].op != NNS_OP_CONV && q->nodes[i].op != NNS_OP_GEMM) continue;
        nns_graph_layer_precision(q, i, prec, sizeof prec);
        CHECK_MSG(strcmp(prec, want) == 0 && reads_rounded(q, i, dt), "layer '%s': precision '%s', want %s",
                  q->nodes[i].name, prec, want);
        n += strcmp(prec, want) == 0 && reads_rounded(q, i, dt);
    }
    return n;
}

/* 16-bit activations with 16-bit weights: every layer reads its input
 * rounded (a Cast to dt and back), nothing is calibrated, the precision is
 * W<dt>A<dt>; the outputs differ from the weight-only model's (the
 * activations really are rounded) and stay close to float; the saved file
 * reloads with the same outputs and labels. Activations of another type
 * than the weights are refused. */
static void half_acts_model(const char *name, nns_dtype dt, double tol) {
    nns_dataset d;
    make_data(&d, 64, 19);
    nns_graph *g = load(name), *q = NULL, *w = NULL, *x = NULL;
    if (!g) return;
    int64_t k = 0;
    float *yf = outputs(g, &d, &k);
    CHECK_OK(nns_graph_clone(g, &q));
    CHECK_OK(nns_graph_clone(g, &w));
    CHECK_OK(nns_graph_clone(g, &x));
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.weight_only = 1;
    cfg.weight_float16 = dt;
    nns_ptq_result r;
    CHECK_OK(nns_quantize_ptq(w, &d, &cfg, &r)); /* weights only */
    cfg.act_float16 = dt;
    CHECK_OK(nns_quantize_ptq(q, &d, &cfg, &r));
    CHECK_MSG(r.calib_images == 0 && r.activations > 0, "%s: %lld images, %d activations", name,
              (long long)r.calib_images, r.activations);
    CHECK_MSG(half_act_layers(q, dt) == r.layers, "%s: not every layer reads a rounded input", name);
    /* what sessions run: each pair one Round16, no Cast left (the weights' are folded) */
    nns_graph *e = NULL;
    CHECK_OK(nns_graph_exec_copy(q, &e));
    int casts = 0, rounds = 0;
    for (int i = 0; e && i < e->n_nodes; i++) casts += e->nodes[i].op == NNS_OP_CAST, rounds += e->nodes[i].op == NNS_OP_ROUND16;
    CHECK_MSG(e && casts == 0 && rounds == r.activations, "%s: session graph has %d Casts, %d Round16 for %d activations",
              name, casts, rounds, r.activations);
    nns_graph_free(e);
    float *yw = outputs(w, &d, &k), *yq = outputs(q, &d, &k);
    double worst = 0, moved = 0;
    for (int64_t i = 0; yf && yw && yq && i < NIMG * k; i++) {
        const double e = fabs((double)yq[i] - yf[i]) / (fabs((double)yf[i]) + 1.0);
        worst = e > worst ? e : worst;
        moved += fabs((double)yq[i] - yw[i]);
    }
    CHECK_MSG(yf && yw && yq && worst < tol && moved > 0, "%s: off float by %g, moved %g from weight-only", name, worst,
              moved);
    char path[] = "/tmp/nns_ptqa16_XXXXXX";
    const int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    CHECK_OK(nns_graph_save_onnx(q, path));
    nns_graph *back = reload_same(path, &d, yq, k);
    CHECK_MSG(half_act_layers(back, dt) == r.layers, "%s reloaded: labels lost", name);
    cfg.weight_float16 = dt == NNS_DTYPE_F16 ? NNS_DTYPE_BF16 : NNS_DTYPE_F16; /* types differ */
    nns_status st = nns_quantize_ptq(x, &d, &cfg, &r);
    CHECK_MSG(st == NNS_STATUS_UNSUPPORTED && strstr(nns_last_error(), "activations go with"), "%d: %s", (int)st,
              nns_last_error());
    cfg.weight_float16 = 0, cfg.weight_only = 0; /* with s8 weights */
    st = nns_quantize_ptq(x, &d, &cfg, &r);
    CHECK_MSG(st == NNS_STATUS_UNSUPPORTED && strstr(nns_last_error(), "not integer ones"), "%d: %s", (int)st,
              nns_last_error());
    unlink(path);
    free(yf);
    free(yw);
    free(yq);
    nns_graph_free(back);
    nns_graph_free(x);
    nns_graph_free(w);
    nns_graph_free(q);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* W4A8: s4 weights, one scale per output channel (each within half a step
 * of the BN-folded float weight), 8-bit activations; every layer W4A8; the
 * session lowers every layer to an integer node and agrees with the float
 * simulation of the QDQ graph (NNS_INT8=0); the file holds the 4-bit
 * weights packed (at most 22% of the float file) and reloads with the
 * same outputs; groups with activations and W4A8 per tensor refused. */
static void w4a8_model(const char *name) {
    nns_dataset d;
    make_data(&d, 64, 23);
    nns_graph *g = load(name), *q = NULL, *f = NULL, *x = NULL;
    if (!g) return;
    int64_t k = 0;
    CHECK_OK(nns_graph_clone(g, &q));
    CHECK_OK(nns_graph_clone(g, &f));
    CHECK_OK(nns_graph_clone(g, &x));
    CHECK_OK(nns_graph_fold_batchnorm(f, NULL));
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.weight_bits = 4;
    nns_ptq_result r;
    CHECK_OK(nns_quantize_ptq(q, &d, &cfg, &r));
    CHECK(r.activations > 0 && r.calib_images > 0);
    int layers = 0;
    int64_t bad = 0;
    for (int i = 0; q && f && i < q->n_nodes; i++) {
        const nns_node *n = &q->nodes[i];
        if (n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM) continue;
        const int wp = q->values[n->in[1]].producer, fi = nns_graph_find_node(f, n->name);
        char prec[16];
        nns_graph_layer_precision(q, i, prec, sizeof prec);
        const int ok = wp >= 0 && q->values[q->nodes[wp].in[0]].dtype == NNS_DTYPE_S4 && fi >= 0 && !strcmp(prec, "W4A8");
        CHECK_MSG(ok, "layer '%s': precision %s", n->name, prec);
        if (!ok) continue;
        layers++;
        CHECK(nns_node_attr_int(&q->nodes[wp], "block_size", 0) == 0);
        bad += check_grouped_weight(q, &q->nodes[wp], f->values[f->nodes[fi].in[1]].data);
    }
    CHECK_MSG(layers == r.layers && bad == 0, "%s: %d of %d layers W4A8, %lld weights off", name, layers, r.layers,
              (long long)bad);
    nns_graph *e = NULL;
    CHECK_OK(nns_graph_exec_copy(q, &e));
    int lowered = 0;
    for (int i = 0; e && i < e->n_nodes; i++) lowered += e->nodes[i].op == NNS_OP_INT8CONV || e->nodes[i].op == NNS_OP_INT8GEMM;
    CHECK_MSG(lowered == r.layers, "%s: %d of %d layers lowered to integers", name, lowered, r.layers);
    nns_graph_free(e);
    float *yq = outputs(q, &d, &k);
    setenv("NNS_INT8", "0", 1); /* the float simulation of the same QDQ graph */
    float *ys = outputs(q, &d, &k);
    unsetenv("NNS_INT8");
    int agree = 0;
    double worst = 0, top = 0;
    for (int64_t i = 0; yq && ys && i < NIMG * k; i++) {
        worst = fmax(worst, fabs((double)yq[i] - ys[i]));
        top = fmax(top, fabs((double)ys[i]));
    }
    for (int i = 0; yq && ys && i < NIMG; i++) agree += argmax(yq + i * k, k) == argmax(ys + i * k, k);
    CHECK_MSG(yq && ys && agree >= NIMG - 2 && worst <= 0.05 * top, "%s: int8 plan vs simulation: %d/%d same class, "
              "max diff %g of %g", name, agree, NIMG, worst, top);
    char src[4200], path[] = "/tmp/nns_w4a8_XXXXXX";
    snprintf(src, sizeof src, "%s/%s.onnx", g_dir, name);
    const int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    CHECK_OK(nns_graph_save_onnx(q, path));
    CHECK_MSG(file_size(path) * 100 <= file_size(src) * 22, "%s W4A8: %lld bytes, float %lld", name,
              (long long)file_size(path), (long long)file_size(src));
    nns_graph_free(reload_same(path, &d, yq, k));
    cfg.group_size = 32; /* groups need float activations */
    nns_status st = nns_quantize_ptq(x, &d, &cfg, &r);
    CHECK_MSG(st == NNS_STATUS_UNSUPPORTED && strstr(nns_last_error(), "grouped weight scales are weight-only"), "%d: %s",
              (int)st, nns_last_error());
    cfg.group_size = 0, cfg.per_channel = 0;
    st = nns_quantize_ptq(x, &d, &cfg, &r);
    CHECK_MSG(st == NNS_STATUS_UNSUPPORTED && strstr(nns_last_error(), "one scale per output channel"), "%d: %s", (int)st,
              nns_last_error());
    unlink(path);
    free(yq);
    free(ys);
    nns_graph_free(x);
    nns_graph_free(f);
    nns_graph_free(q);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* Grouped settings refused by name, the graph's weights not rewritten. */
static void grouped_refusals(void) {
    nns_dataset d;
    make_data(&d, 16, 3);
    nns_graph *g = load("resnet8_bn"), *q = NULL;
    if (!g) return;
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.weight_only = 1;
    cfg.weight_bits = 4;
    cfg.group_size = 3; /* 16 input channels */
    nns_ptq_result r;
    CHECK_OK(nns_graph_clone(g, &q));
    nns_status st = nns_quantize_ptq(q, &d, &cfg, &r);
    CHECK_MSG(st == NNS_STATUS_INVALID_ARG && strstr(nns_last_error(), "group size 3 does not divide its 16 input channels") &&
                  strstr(nns_last_error(), "layer '"),
              "%s", nns_last_error());
    int dq = 0;
    for (int i = 0; q && i < q->n_nodes; i++) dq += q->nodes[i].op == NNS_OP_DEQUANTIZELINEAR;
    CHECK(dq == 0);
    nns_graph_free(q);
    cfg.group_size = 0;
    cfg.weight_bits = 3;
    CHECK(nns_quantize_ptq(g, &d, &cfg, &r) == NNS_STATUS_INVALID_ARG && strstr(nns_last_error(), "3 bits"));
    cfg.weight_bits = 4;
    cfg.group_size = -32;
    CHECK(nns_quantize_ptq(g, &d, &cfg, &r) == NNS_STATUS_INVALID_ARG && strstr(nns_last_error(), "group size -32"));
    cfg.group_size = 32;
    cfg.weight_only = 0;
    CHECK(nns_quantize_ptq(g, &d, &cfg, &r) == NNS_STATUS_UNSUPPORTED && strstr(nns_last_error(), "grouped weight scales"));
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* Layers named in keep stay float; keeping all leaves nothing to do. */
static void keep_and_refusals(void) {
    nns_dataset d;
    make_data(&d, 32, 5);
    nns_graph *g = load("lenet5");
    if (!g) return;
    const char *names[16];
    int n = 0;
    for (int i = 0; i < g->n_nodes && n < 16; i++)
        if (g->nodes[i].op == NNS_OP_CONV || g->nodes[i].op == NNS_OP_GEMM) names[n++] = g->nodes[i].name;
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.calib_samples = 32;
    cfg.keep = names;
    cfg.n_keep = 1;
    nns_graph *q = NULL;
    nns_ptq_result r;
    CHECK_OK(nns_graph_clone(g, &q));
    CHECK_OK(nns_quantize_ptq(q, &d, &cfg, &r));
    CHECK(r.layers == n - 1);
    const int first = nns_graph_find_node(q, names[0]);
    CHECK(first >= 0 && q->values[q->nodes[first].in[1]].dtype == NNS_DTYPE_F32 &&
          q->values[q->nodes[first].in[1]].producer < 0);
    nns_graph_free(q);
    /* kept as bf16: the kept layer's weight through a Cast, the others s8 */
    cfg.keep_float16 = NNS_DTYPE_BF16;
    CHECK_OK(nns_graph_clone(g, &q));
    CHECK_OK(nns_quantize_ptq(q, &d, &cfg, &r));
    char prec[16] = "";
    const int kf = nns_graph_find_node(q, names[0]);
    if (kf >= 0) nns_graph_layer_precision(q, kf, prec, sizeof prec);
    CHECK_MSG(r.layers == n - 1 && strcmp(prec, "bf16") == 0, "kept as bf16: %d layers, precision '%s'", r.layers, prec);
    for (int i = 1; i < n; i++) {
        const int k = nns_graph_find_node(q, names[i]);
        if (k >= 0) nns_graph_layer_precision(q, k, prec, sizeof prec);
        CHECK_MSG(k >= 0 && prec[0] == 'W', "'%s' kept as bf16 too: '%s'", names[i], prec);
    }
    cfg.keep_float16 = 0;
    nns_graph_free(q);
    cfg.n_keep = n;
    CHECK_OK(nns_graph_clone(g, &q));
    nns_status st = nns_quantize_ptq(q, &d, &cfg, &r);
    CHECK(st == NNS_STATUS_UNSUPPORTED && strstr(nns_last_error(), "nothing to quantize"));
    nns_graph_free(q);
    cfg.n_keep = 0;
    cfg.calib_samples = 0;
    CHECK(nns_quantize_ptq(g, &d, &cfg, &r) == NNS_STATUS_INVALID_ARG && strstr(nns_last_error(), "--calib-samples"));
    cfg.calib_samples = 10;
    cfg.calib = NNS_CALIB_PERCENTILE;
    cfg.percentile = 0;
    CHECK(nns_quantize_ptq(g, &d, &cfg, &r) == NNS_STATUS_INVALID_ARG && strstr(nns_last_error(), "--percentile"));
    nns_graph_free(g);
    nns_dataset_free(&d);
}

static nns_status no_training(void *user, nns_graph *g, int first, int stop) {
    int *called = user;
    if (first != 0 || stop != 0) return nns_error(NNS_STATUS_INTERNAL, "epochs %d to %d, not the whole run", first, stop);
    ++*called;
    /* the graph to train: a FakeQuant on every layer's weight and input */
    int fq = 0;
    for (int i = 0; i < g->n_nodes; i++) fq += g->nodes[i].op == NNS_OP_FAKEQUANT;
    return fq > 0 ? NNS_OK : nns_error(NNS_STATUS_INTERNAL, "no FakeQuant in the graph to train");
}

/* QAT whose training changes nothing is PTQ: the same graph form and the
 * same outputs bit for bit (the FakeQuant scales are PTQ's). */
static void qat_untrained_is_ptq(void) {
    nns_dataset d;
    make_data(&d, 128, 3);
    nns_graph *g = load("resnet8_bn"), *a = NULL, *b = NULL;
    if (!g) return;
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.calib_samples = 100;
    nns_ptq_result ra, rb;
    int called = 0;
    CHECK_OK(nns_graph_clone(g, &a));
    CHECK_OK(nns_graph_clone(g, &b));
    CHECK_OK(nns_quantize_ptq(a, &d, &cfg, &ra));
    CHECK_OK(nns_quantize_qat(b, &d, &cfg, 0, no_training, &called, &rb));
    CHECK(called == 1 && ra.layers == rb.layers && ra.activations == rb.activations);
    CHECK(check_structure(b, NNS_DTYPE_U8) == rb.layers);
    for (int i = 0; i < b->n_nodes; i++) CHECK_MSG(b->nodes[i].op != NNS_OP_FAKEQUANT, "FakeQuant '%s' left", b->nodes[i].name);
    int64_t k = 0;
    float *ya = outputs(a, &d, &k), *yb = outputs(b, &d, &k);
    CHECK(ya && yb && memcmp(ya, yb, (size_t)(NIMG * k) * sizeof *ya) == 0);
    free(ya);
    free(yb);
    nns_graph_free(a);
    nns_graph_free(b);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* BatchNormalization freeze (cfg.bn_freeze_epoch 1): the first part of
 * training sees a BatchNormalization after each folded layer, which with
 * its running statistics computes the identity; statistics changed in
 * training (here by hand, one gamma negative) are folded into the layer and
 * its weight FakeQuant scales at the freeze, so that the second part starts
 * from the same function; the result is the QDQ form. */
typedef struct bn_phases {
    const nns_dataset *d;
    int calls, bns;
    float *before;   /* outputs before the first part, and after the changes */
    float *changed;
    int64_t k;
} bn_phases;

static nns_status bn_phase(void *user, nns_graph *g, int first, int stop) {
    bn_phases *t = user;
    int bn = 0, fq = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        bn += g->nodes[i].op == NNS_OP_BATCHNORM && strstr(g->nodes[i].name, "_qat_bn");
        fq += g->nodes[i].op == NNS_OP_FAKEQUANT;
    }
    t->calls++;
    if (first == 0 && stop == 0) { /* no freeze epoch: the graph to compare with */
        t->before = outputs(g, t->d, &t->k);
        return NNS_OK;
    }
    if (first == 0 && stop == 1) {
        t->bns = bn;
        CHECK(fq > 0);
        t->before = outputs(g, t->d, &t->k);
        uint64_t r = 5;
        for (int i = 0; i < g->n_nodes; i++) {
            if (g->nodes[i].op != NNS_OP_BATCHNORM) continue;
            for (int j = 1; j < 5; j++) {
                nns_value *v = &g->values[g->nodes[i].in[j]];
                float *p = v->data;
                for (int64_t c = 0; c < nns_shape_numel(&v->shape); c++) {
                    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                    const float u = (float)(r >> 40) / 16777216.0f; /* [0, 1) */
                    p[c] = j == 1 ? p[c] * (c == 0 ? -0.7f : 0.6f + 0.8f * u) : j == 4 ? p[c] * (0.5f + u) : p[c] + 0.2f * (u - 0.5f);
                }
            }
        }
        nns_graph_params_changed(g);
        t->changed = outputs(g, t->d, &t->k);
        return NNS_OK;
    }
    CHECK_MSG(first == 1 && stop == 0 && bn == 0 && fq > 0, "second part: epochs %d to %d, %d BatchNormalizations", first,
              stop, bn);
    float *y = outputs(g, t->d, &t->k);
    int64_t off = 0;
    float ymax = 0;
    for (int64_t i = 0; t->changed && y && i < NIMG * t->k; i++) ymax = fmaxf(ymax, fabsf(t->changed[i]));
    for (int64_t i = 0; t->changed && y && i < NIMG * t->k; i++) off += fabsf(y[i] - t->changed[i]) > 1e-3f * ymax;
    CHECK_MSG(y && t->changed && off * 50 <= NIMG * t->k, "after the fold %lld of %lld outputs moved", (long long)off,
              (long long)(NIMG * t->k));
    free(y);
    return NNS_OK;
}

static void qat_bn_freeze(void) {
    nns_dataset d;
    make_data(&d, 128, 4);
    nns_graph *g = load("resnet8_bn"), *a = NULL;
    if (!g) return;
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.calib_samples = 100;
    cfg.bn_freeze_epoch = 1;
    nns_ptq_result ra;
    bn_phases t = {&d, 0, 0, NULL, NULL, 0};
    CHECK_OK(nns_graph_clone(g, &a));
    CHECK_OK(nns_quantize_qat(a, &d, &cfg, 0, bn_phase, &t, &ra));
    CHECK_MSG(t.calls == 2 && t.bns == ra.folded_bn && t.bns > 0, "%d calls, %d BatchNormalizations put back of %d folded",
              t.calls, t.bns, ra.folded_bn);
    CHECK(check_structure(a, NNS_DTYPE_U8) == ra.layers);
    for (int i = 0; i < a->n_nodes; i++)
        CHECK_MSG(a->nodes[i].op != NNS_OP_FAKEQUANT && a->nodes[i].op != NNS_OP_BATCHNORM, "'%s' left", a->nodes[i].name);
    /* before any change the inserted nodes were the identity: the graph
     * trained without a freeze epoch computes the same */
    nns_graph *b = NULL;
    bn_phases t0 = {&d, 0, 0, NULL, NULL, 0};
    cfg.bn_freeze_epoch = 0;
    CHECK_OK(nns_graph_clone(g, &b));
    CHECK_OK(nns_quantize_qat(b, &d, &cfg, 0, bn_phase, &t0, &ra));
    int64_t off = 0;
    for (int64_t i = 0; t0.before && t.before && i < NIMG * t.k; i++)
        off += fabsf(t0.before[i] - t.before[i]) > 1e-4f * (1 + fabsf(t0.before[i]));
    CHECK_MSG(t0.calls == 1 && t0.before && t.before && off * 50 <= NIMG * t.k,
              "inserted BatchNormalizations: %lld outputs differ", (long long)off);
    free(t0.before);
    cfg.bn_freeze_epoch = -1;
    CHECK(nns_quantize_qat(g, &d, &cfg, 0, bn_phase, &t, &ra) == NNS_STATUS_INVALID_ARG &&
          strstr(nns_last_error(), "freeze epoch must be >= 0"));
    free(t.before);
    free(t.changed);
    nns_graph_free(a);
    nns_graph_free(b);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* Per-layer sensitivity: one unit per layer, the float model's score as
 * baseline, the graph untouched. */
static void sensitivity(void) {
    nns_dataset d;
    make_data(&d, 128, 9);
    nns_graph *g = load("resnet8_bn");
    if (!g) return;
    const int nodes = g->n_nodes;
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.calib_samples = 64;
    nns_sweep_eval_data ed = {&d, 64};
    nns_sweep_table t;
    CHECK_OK(nns_quant_sensitivity(g, &d, &cfg, nns_sweep_eval_accuracy, &ed, NULL, NULL, &t));
    CHECK(t.n_units == 10 && t.n_levels == 1 && g->n_nodes == nodes);
    float base = 0;
    CHECK_OK(nns_sweep_eval_accuracy(&ed, g, &base));
    CHECK_MSG(fabsf(t.baseline - base) <= 1.0f / 128, "baseline %g, the float model %g", t.baseline, base);
    for (int u = 0; u < t.n_units; u++)
        CHECK_MSG(t.score[u] >= 0 && t.score[u] <= 1 && t.applied[u] && t.units[u].size > 0, "unit %d", u);
    nns_sweep_table_free(&t);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

/* Mixed precision: a budget of 100% keeps nothing in float; a negative one
 * is refused; the float accuracy reported is the sweep's baseline. */
static void max_loss(void) {
    nns_dataset d;
    make_data(&d, 96, 4);
    nns_graph *g = load("lenet5"), *q = NULL;
    if (!g) return;
    nns_ptq_config cfg;
    nns_ptq_config_init(&cfg);
    cfg.calib_samples = 48;
    nns_ptq_result r;
    float base = -1, acc = -1;
    CHECK_OK(nns_graph_clone(g, &q));
    CHECK_OK(nns_quantize_max_loss(q, &d, &d, &cfg, 1.0f, &r, &base, &acc));
    CHECK(r.layers == 5 && base >= 0 && base <= 1 && acc >= 0 && acc <= 1);
    CHECK(check_structure(q, NNS_DTYPE_U8) == 5);
    CHECK(nns_quantize_max_loss(g, &d, &d, &cfg, -0.1f, &r, &base, &acc) == NNS_STATUS_INVALID_ARG &&
          strstr(nns_last_error(), "--max-loss"));
    nns_graph_free(q);
    nns_graph_free(g);
    nns_dataset_free(&d);
}

int main(void) {
    const char *src = getenv("NNS_SOURCE_DIR");
    snprintf(g_dir, sizeof g_dir, "%s/tests/golden", src ? src : ".");
    /* mobilenet's 36k weights are few beside its node and value names */
    quantize_model("lenet5", 0, 0.05, 60, 30);
    quantize_model("resnet8_bn", 0, 0.10, 56, 31);
    quantize_model("mobilenet_bn", 1, 0.15, 52, 48);
    keep_and_refusals();
    /* sizes: 4-bit weights, a float scale per group, float biases and the
     * names (a quarter of the file for mobilenet) */
    grouped_model("resnet8_bn", 4, 16, 48, 22);
    grouped_model("resnet8_bn", 4, 64, 48, 22);
    grouped_model("resnet8_bn", 8, 32, 60, 32);
    grouped_model("mobilenet_bn", 4, 32, 44, 27);
    grouped_refusals();
    half_model("resnet8_bn", NNS_DTYPE_F16);
    half_model("lenet5", NNS_DTYPE_BF16);
    half_acts_model("resnet8_bn", NNS_DTYPE_BF16, 0.1);
    w4a8_model("resnet8_bn");
    w4a8_model("lenet5");
    half_acts_model("lenet5", NNS_DTYPE_F16, 0.01);
    qat_untrained_is_ptq();
    qat_bn_freeze();
    sensitivity();
    max_loss();
    TEST_MAIN_END();
}
