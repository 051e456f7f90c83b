/* arch.c — the built-in architectures (see include/nnslim/arch.h). */
/* Layer names are short and fixed; snprintf truncation cannot happen. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "nnslim/arch.h"

typedef struct builder {
    nns_graph *g;
    uint64_t rng;
    nns_status st;
    int counter;
    int c, h, w, classes; /* the input images and the classes */
} builder;

static void uniform_fill(builder *b, float *w, int64_t n, float bound) {
    for (int64_t i = 0; i < n; i++) w[i] = (2.0f * nns_rng_uniform(&b->rng) - 1.0f) * bound;
}

static void add_param(builder *b, const char *name, int ndim, const int64_t *dims, const float *data,
                      int trainable) {
    if (b->st) return;
    nns_shape s = nns_shape_make(ndim, dims);
    b->st = nns_graph_add_param(b->g, name, NNS_DTYPE_F32, &s, data, trainable, NULL);
}

static int add_node(builder *b, const char *op, const char *name, int n_in, const char *const *in,
                    const char *out) {
    if (b->st) return -1;
    int idx = -1;
    b->st = nns_graph_add_node(b->g, op, name, n_in, in, 1, &out, &idx);
    return idx;
}

/* conv: out = name + ".out". Weights U(+-1/sqrt(fan_in)). */
static void conv(builder *b, const char *name, const char *x, int cin, int cout, int k, int stride,
                 int pad, int groups, int bias, char *out, size_t outlen) {
    if (b->st) return;
    char wn[96], bn[96];
    snprintf(wn, sizeof wn, "%s.weight", name);
    snprintf(bn, sizeof bn, "%s.bias", name);
    snprintf(out, outlen, "%s.out", name);
    int64_t wd[4] = {cout, cin / groups, k, k};
    int64_t nw = wd[0] * wd[1] * wd[2] * wd[3];
    float bound = 1.0f / sqrtf((float)(wd[1] * k * k));
    float *w = malloc((size_t)nw * sizeof(float));
    float *bb = malloc((size_t)cout * sizeof(float));
    if (!w || !bb) {
        free(w);
        free(bb);
        b->st = nns_error(NNS_STATUS_NOMEM, "out of memory building '%s'", name);
        return;
    }
    uniform_fill(b, w, nw, bound);
    add_param(b, wn, 4, wd, w, 1);
    if (bias) {
        uniform_fill(b, bb, cout, bound);
        int64_t bd[1] = {cout};
        add_param(b, bn, 1, bd, bb, 1);
    }
    free(w);
    free(bb);
    const char *in[3] = {x, wn, bn};
    int node = add_node(b, "Conv", name, bias ? 3 : 2, in, out);
    if (b->st) return;
    int64_t ks[2] = {k, k}, st[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad}, dil[2] = {1, 1};
    b->st = nns_graph_set_attr_ints(b->g, node, "kernel_shape", 2, ks);
    if (!b->st) b->st = nns_graph_set_attr_ints(b->g, node, "strides", 2, st);
    if (!b->st) b->st = nns_graph_set_attr_ints(b->g, node, "pads", 4, pads);
    if (!b->st) b->st = nns_graph_set_attr_ints(b->g, node, "dilations", 2, dil);
    if (!b->st) b->st = nns_graph_set_attr_int(b->g, node, "group", groups);
}

static void batchnorm(builder *b, const char *name, const char *x, int c, char *out, size_t outlen) {
    if (b->st) return;
    char n[4][96];
    const char *suf[4] = {"weight", "bias", "running_mean", "running_var"};
    float *v = malloc((size_t)c * sizeof(float));
    if (!v) {
        b->st = nns_error(NNS_STATUS_NOMEM, "out of memory building '%s'", name);
        return;
    }
    int64_t d[1] = {c};
    for (int i = 0; i < 4; i++) {
        snprintf(n[i], sizeof n[i], "%s.%s", name, suf[i]);
        float fill = (i == 0 || i == 3) ? 1.0f : 0.0f;
        for (int j = 0; j < c; j++) v[j] = fill;
        add_param(b, n[i], 1, d, v, i < 2);
    }
    free(v);
    snprintf(out, outlen, "%s.out", name);
    const char *in[5] = {x, n[0], n[1], n[2], n[3]};
    int node = add_node(b, "BatchNormalization", name, 5, in, out);
    if (b->st) return;
    b->st = nns_graph_set_attr_float(b->g, node, "epsilon", 1e-5f);
    if (!b->st) b->st = nns_graph_set_attr_float(b->g, node, "momentum", 0.9f);
}

static void unary(builder *b, const char *op, const char *name, const char *x, char *out, size_t outlen) {
    snprintf(out, outlen, "%s.out", name);
    add_node(b, op, name, 1, &x, out);
}

static void relu6(builder *b, const char *name, const char *x, char *out, size_t outlen) {
    if (b->st) return;
    char lo[96], hi[96];
    snprintf(lo, sizeof lo, "%s.min", name);
    snprintf(hi, sizeof hi, "%s.max", name);
    float z = 0.0f, six = 6.0f;
    nns_shape s = nns_shape_make(0, NULL);
    b->st = nns_graph_add_param(b->g, lo, NNS_DTYPE_F32, &s, &z, 0, NULL);
    if (!b->st) b->st = nns_graph_add_param(b->g, hi, NNS_DTYPE_F32, &s, &six, 0, NULL);
    snprintf(out, outlen, "%s.out", name);
    const char *in[3] = {x, lo, hi};
    add_node(b, "Clip", name, 3, in, out);
}

static void linear(builder *b, const char *name, const char *x, int fin, int fout, char *out, size_t outlen) {
    if (b->st) return;
    char wn[96], bn[96];
    snprintf(wn, sizeof wn, "%s.weight", name);
    snprintf(bn, sizeof bn, "%s.bias", name);
    snprintf(out, outlen, "%s.out", name);
    float bound = 1.0f / sqrtf((float)fin);
    float *w = malloc((size_t)fin * fout * sizeof(float));
    float *bb = malloc((size_t)fout * sizeof(float));
    if (!w || !bb) {
        free(w);
        free(bb);
        b->st = nns_error(NNS_STATUS_NOMEM, "out of memory building '%s'", name);
        return;
    }
    uniform_fill(b, w, (int64_t)fin * fout, bound);
    uniform_fill(b, bb, fout, bound);
    int64_t wd[2] = {fout, fin}, bd[1] = {fout};
    add_param(b, wn, 2, wd, w, 1);
    add_param(b, bn, 1, bd, bb, 1);
    free(w);
    free(bb);
    const char *in[3] = {x, wn, bn};
    int node = add_node(b, "Gemm", name, 3, in, out);
    if (b->st) return;
    b->st = nns_graph_set_attr_int(b->g, node, "transB", 1);
}

static void pool(builder *b, const char *op, const char *name, const char *x, int k, char *out, size_t outlen) {
    snprintf(out, outlen, "%s.out", name);
    int node = add_node(b, op, name, 1, &x, out);
    if (b->st || k <= 0) return;
    int64_t ks[2] = {k, k}, pads[4] = {0, 0, 0, 0};
    b->st = nns_graph_set_attr_ints(b->g, node, "kernel_shape", 2, ks);
    if (!b->st) b->st = nns_graph_set_attr_ints(b->g, node, "strides", 2, ks);
    if (!b->st) b->st = nns_graph_set_attr_ints(b->g, node, "pads", 4, pads);
}

static void flatten(builder *b, const char *name, const char *x, char *out, size_t outlen) {
    snprintf(out, outlen, "%s.out", name);
    int node = add_node(b, "Flatten", name, 1, &x, out);
    if (!b->st) b->st = nns_graph_set_attr_int(b->g, node, "axis", 1);
}

static void add2(builder *b, const char *name, const char *x, const char *y, char *out, size_t outlen) {
    snprintf(out, outlen, "%s.out", name);
    const char *in[2] = {x, y};
    add_node(b, "Add", name, 2, in, out);
}

#define S 128
#define OUT(v) v, sizeof v

static void build_lenet300(builder *b) {
    char t[S], u[S];
    flatten(b, "flatten", "input", OUT(t));
    linear(b, "fc1", t, b->c * b->h * b->w, 300, OUT(u));
    unary(b, "Relu", "relu1", u, OUT(t));
    linear(b, "fc2", t, 300, 100, OUT(u));
    unary(b, "Relu", "relu2", u, OUT(t));
    linear(b, "fc3", t, 100, b->classes, OUT(u));
}

static void build_lenet5(builder *b) {
    char t[S], u[S];
    conv(b, "conv1", "input", b->c, 6, 5, 1, 2, 1, 1, OUT(t));
    unary(b, "Relu", "relu1", t, OUT(u));
    pool(b, "MaxPool", "pool1", u, 2, OUT(t));
    conv(b, "conv2", t, 6, 16, 5, 1, 0, 1, 1, OUT(u));
    unary(b, "Relu", "relu2", u, OUT(t));
    pool(b, "MaxPool", "pool2", t, 2, OUT(u));
    flatten(b, "flatten", u, OUT(t));
    linear(b, "fc1", t, 16 * ((b->h / 2 - 4) / 2) * ((b->w / 2 - 4) / 2), 120, OUT(u));
    unary(b, "Relu", "relu3", u, OUT(t));
    linear(b, "fc2", t, 120, 84, OUT(u));
    unary(b, "Relu", "relu4", u, OUT(t));
    linear(b, "fc3", t, 84, b->classes, OUT(u));
}

static void conv_bn_act(builder *b, const char *name, const char *x, int cin, int cout, int k, int stride,
                        int groups, const char *act, char *out, size_t outlen) {
    char cn[S], bnn[S], an[S], t[S], u[S];
    snprintf(cn, sizeof cn, "%s.conv", name);
    snprintf(bnn, sizeof bnn, "%s.bn", name);
    snprintf(an, sizeof an, "%s.act", name);
    conv(b, cn, x, cin, cout, k, stride, k / 2, groups, 0, OUT(t));
    batchnorm(b, bnn, t, cout, act ? u : out, act ? sizeof u : outlen);
    if (!act) return;
    if (strcmp(act, "relu6") == 0) relu6(b, an, u, out, outlen);
    else unary(b, "Relu", an, u, out, outlen);
}

static void build_vggsmall(builder *b) {
    char t[S], u[S];
    conv_bn_act(b, "features.0", "input", b->c, 32, 3, 1, 1, "relu", OUT(t));
    conv_bn_act(b, "features.1", t, 32, 32, 3, 1, 1, "relu", OUT(u));
    pool(b, "MaxPool", "pool1", u, 2, OUT(t));
    conv_bn_act(b, "features.2", t, 32, 64, 3, 1, 1, "relu", OUT(u));
    conv_bn_act(b, "features.3", u, 64, 64, 3, 1, 1, "relu", OUT(t));
    pool(b, "MaxPool", "pool2", t, 2, OUT(u));
    flatten(b, "flatten", u, OUT(t));
    linear(b, "fc1", t, 64 * (b->h / 4) * (b->w / 4), 256, OUT(u));
    unary(b, "Relu", "relu5", u, OUT(t));
    if (!b->st) {
        /* opset 13: the ratio is a constant input */
        float ratio = 0.3f;
        nns_shape s0 = nns_shape_make(0, NULL);
        b->st = nns_graph_add_param(b->g, "dropout.ratio", NNS_DTYPE_F32, &s0, &ratio, 0, NULL);
        snprintf(u, sizeof u, "dropout.out");
        const char *in[2] = {t, "dropout.ratio"};
        add_node(b, "Dropout", "dropout", 2, in, u);
    }
    linear(b, "fc2", u, 256, b->classes, OUT(t));
}

static void basic_block(builder *b, const char *name, const char *x, int cin, int cout, int stride,
                        char *out, size_t outlen) {
    char n1[S], n2[S], t[S], u[S], sc[S], nm[S];
    snprintf(n1, sizeof n1, "%s.1", name);
    snprintf(n2, sizeof n2, "%s.2", name);
    conv_bn_act(b, n1, x, cin, cout, 3, stride, 1, "relu", OUT(t));
    conv_bn_act(b, n2, t, cout, cout, 3, 1, 1, NULL, OUT(u));
    if (stride != 1 || cin != cout) {
        snprintf(nm, sizeof nm, "%s.shortcut", name);
        conv_bn_act(b, nm, x, cin, cout, 1, stride, 1, NULL, OUT(sc));
    } else {
        snprintf(sc, sizeof sc, "%s", x);
    }
    snprintf(nm, sizeof nm, "%s.add", name);
    add2(b, nm, u, sc, OUT(t));
    snprintf(nm, sizeof nm, "%s.relu", name);
    unary(b, "Relu", nm, t, out, outlen);
}

static void build_resnet8(builder *b) {
    char t[S], u[S];
    conv_bn_act(b, "stem", "input", b->c, 16, 3, 1, 1, "relu", OUT(t));
    basic_block(b, "block1", t, 16, 16, 1, OUT(u));
    basic_block(b, "block2", u, 16, 32, 2, OUT(t));
    basic_block(b, "block3", t, 32, 64, 2, OUT(u));
    pool(b, "GlobalAveragePool", "pool", u, 0, OUT(t));
    flatten(b, "flatten", t, OUT(u));
    linear(b, "fc", u, 64, b->classes, OUT(t));
}

static void inverted_residual(builder *b, const char *name, const char *x, int cin, int cout, int stride,
                              char *out, size_t outlen) {
    char n[S], t[S], u[S];
    int hid = cin * 4;
    snprintf(n, sizeof n, "%s.expand", name);
    conv_bn_act(b, n, x, cin, hid, 1, 1, 1, "relu6", OUT(t));
    snprintf(n, sizeof n, "%s.dw", name);
    conv_bn_act(b, n, t, hid, hid, 3, stride, hid, "relu6", OUT(u));
    snprintf(n, sizeof n, "%s.project", name);
    if (stride == 1 && cin == cout) {
        conv_bn_act(b, n, u, hid, cout, 1, 1, 1, NULL, OUT(t));
        snprintf(n, sizeof n, "%s.add", name);
        add2(b, n, t, x, out, outlen);
    } else {
        conv_bn_act(b, n, u, hid, cout, 1, 1, 1, NULL, out, outlen);
    }
}

static void build_mobilenet(builder *b) {
    char t[S], u[S];
    conv_bn_act(b, "stem", "input", b->c, 16, 3, 1, 1, "relu6", OUT(t));
    inverted_residual(b, "block1", t, 16, 16, 1, OUT(u));
    inverted_residual(b, "block2", u, 16, 24, 2, OUT(t));
    inverted_residual(b, "block3", t, 24, 24, 1, OUT(u));
    inverted_residual(b, "block4", u, 24, 32, 2, OUT(t));
    inverted_residual(b, "block5", t, 32, 32, 1, OUT(u));
    conv_bn_act(b, "head", u, 32, 128, 1, 1, 1, "relu6", OUT(t));
    pool(b, "GlobalAveragePool", "pool", t, 0, OUT(u));
    flatten(b, "flatten", u, OUT(t));
    linear(b, "fc", t, 128, b->classes, OUT(u));
}

typedef struct arch_entry {
    const char *name;
    void (*build)(builder *b);
    int epochs;
    int min_side; /* the smallest H and W its layers take */
} arch_entry;

static const arch_entry archs[] = {
    {"lenet300", build_lenet300, 10, 1}, {"lenet5", build_lenet5, 10, 10},
    {"vggsmall", build_vggsmall, 6, 4},  {"resnet8", build_resnet8, 6, 1},
    {"mobilenet", build_mobilenet, 6, 1},
};
#define N_ARCHS ((int)(sizeof archs / sizeof archs[0]))

const char *const *nns_arch_names(void) {
    static const char *names[N_ARCHS + 1];
    for (int i = 0; i < N_ARCHS; i++) names[i] = archs[i].name;
    names[N_ARCHS] = NULL;
    return names;
}

int nns_arch_default_epochs(const char *name) {
    for (int i = 0; i < N_ARCHS; i++)
        if (strcmp(archs[i].name, name) == 0) return archs[i].epochs;
    return 10;
}

nns_status nns_arch_build(const char *name, uint64_t seed, nns_graph **out) {
    return nns_arch_build_for(name, seed, 1, 28, 28, 10, out);
}

nns_status nns_arch_build_for(const char *name, uint64_t seed, int c, int h, int w, int classes, nns_graph **out) {
    *out = NULL;
    const arch_entry *a = NULL;
    for (int i = 0; i < N_ARCHS; i++)
        if (strcmp(archs[i].name, name) == 0) a = &archs[i];
    if (!a) {
        char list[256] = "";
        for (int i = 0; i < N_ARCHS; i++) {
            strncat(list, archs[i].name, sizeof list - strlen(list) - 1);
            if (i + 1 < N_ARCHS) strncat(list, ", ", sizeof list - strlen(list) - 1);
        }
        return nns_error(NNS_STATUS_INVALID_ARG, "unknown architecture '%s' (known: %s)", name, list);
    }
    if (c < 1 || c > 4096 || h < a->min_side || w < a->min_side || h > 4096 || w > 4096 || classes < 2 ||
        classes > 100000)
        return nns_error(NNS_STATUS_INVALID_ARG, "architecture '%s' takes 1..4096 channels, images of %d..4096 pixels a "
                         "side and 2..100000 classes, not %dx%dx%d images and %d classes", name, a->min_side, c, h, w,
                         classes);
    builder b = {0};
    b.c = c, b.h = h, b.w = w, b.classes = classes;
    b.rng = seed * 0x2545F4914F6CDD1Dull + 0x1234567ull;
    if ((b.st = nns_graph_create(&b.g))) return b.st;
    int64_t in_dims[4] = {-1, c, h, w};
    nns_shape s = nns_shape_make(4, in_dims);
    b.st = nns_graph_add_input(b.g, "input", NNS_DTYPE_F32, &s, NULL);
    if (!b.st) a->build(&b);
    /* the last node's output is the model's output, named "logits" */
    if (!b.st) b.st = nns_graph_set_meta(b.g, "nnslim.arch", name);
    if (!b.st) {
        nns_value *v = &b.g->values[b.g->nodes[b.g->n_nodes - 1].out[0]];
        char *nm = nns_strdup("logits");
        if (!nm) b.st = nns_error(NNS_STATUS_NOMEM, "out of memory building '%s'", name);
        else { free(v->name); v->name = nm; }
    }
    if (!b.st) b.st = nns_graph_add_output(b.g, "logits");
    if (!b.st) b.st = nns_graph_finalize(b.g);
    if (!b.st) b.st = nns_graph_pack_params(b.g);
    if (b.st) {
        nns_graph_free(b.g);
        return b.st;
    }
    *out = b.g;
    return NNS_OK;
}
