/* test_onnx.c — ONNX export and import: round trips of graphs built with the
 * builder API (structure and parameter bytes), load-time folding of the shape
 * arithmetic PyTorch emits, opset normalisation, and the failure paths
 * (missing, truncated and garbage files, unsupported ops and opsets, saving
 * to a path that cannot be written). Everything is created in a temporary
 * directory; the Debian ONNX test data is used only when installed. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/graph_impl.h"
#include "nnslim/onnx.h"
#include "nnslim/runtime.h"
#include "onnx.pb-c.h"
#include "ops/op.h"
#include "runtime/plan.h"
#include "testutil.h"

static char g_dir[64];

static const char *P(const char *name) {
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) exit(2);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (len && fwrite(data, 1, len, f) != len) { perror(path); exit(2); }
    fclose(f);
}

/* Expect status st with a message containing a and b. */
#define EXPECT_FAIL(expr, st, a, b) do { \
    nns_status s_ = (expr); \
    CHECK_MSG(s_ == (st), "%s -> %s (%s)", #expr, nns_status_str(s_), nns_last_error()); \
    CHECK_MSG(contains(nns_last_error(), a), "message '%s' lacks '%s'", nns_last_error(), a); \
    CHECK_MSG(contains(nns_last_error(), b), "message '%s' lacks '%s'", nns_last_error(), b); \
    } while (0)

static int have_op(const char *name) { return nns_op_lookup(name) >= 0; }

static int have_ops(const char *const *names) {
    for (; *names; names++)
        if (!have_op(*names)) {
            printf("skip: op %s not built\n", *names);
            return 0;
        }
    return 1;
}

static uint32_t g_rng = 12345;
static float frand(void) {
    g_rng = g_rng * 1664525u + 1013904223u;
    return (float)(g_rng >> 8) / 16777216.0f - 0.5f;
}

static void add_param_rand(nns_graph *g, const char *name, int ndim, const int64_t *dims, int trainable) {
    nns_shape s = nns_shape_make(ndim, dims);
    int64_t n = nns_shape_numel(&s);
    float *d = malloc((size_t)n * sizeof *d);
    for (int64_t i = 0; i < n; i++) d[i] = frand();
    CHECK_OK(nns_graph_add_param(g, name, NNS_DTYPE_F32, &s, d, trainable, NULL));
    free(d);
}

static int add_node(nns_graph *g, const char *op, const char *name, int n_in, const char *const *in,
                    const char *out) {
    int ni = -1;
    CHECK_OK(nns_graph_add_node(g, op, name, n_in, in, 1, &out, &ni));
    return ni;
}

/* x[N,1,8,8] -> Conv(4,3x3,pad 1) -> BN -> Relu -> Flatten -> Gemm(3) -> y */
static nns_graph *build_cnn(void) {
    nns_graph *g;
    CHECK_OK(nns_graph_create(&g));
    int64_t xd[] = {-1, 1, 8, 8};
    nns_shape xs = nns_shape_make(4, xd);
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    int64_t wd[] = {4, 1, 3, 3}, c4[] = {4}, fw[] = {3, 256}, c3[] = {3};
    add_param_rand(g, "conv.w", 4, wd, 1);
    add_param_rand(g, "conv.b", 1, c4, 1);
    add_param_rand(g, "bn.g", 1, c4, 1);
    add_param_rand(g, "bn.b", 1, c4, 1);
    add_param_rand(g, "bn.mean", 1, c4, 0);
    add_param_rand(g, "bn.var", 1, c4, 0);
    add_param_rand(g, "fc.w", 2, fw, 1);
    add_param_rand(g, "fc.b", 1, c3, 1);
    const char *ci[] = {"x", "conv.w", "conv.b"};
    int n = add_node(g, "Conv", "conv", 3, ci, "c");
    int64_t k[] = {3, 3}, p[] = {1, 1, 1, 1}, st[] = {1, 1};
    CHECK_OK(nns_graph_set_attr_ints(g, n, "kernel_shape", 2, k));
    CHECK_OK(nns_graph_set_attr_ints(g, n, "pads", 4, p));
    CHECK_OK(nns_graph_set_attr_ints(g, n, "strides", 2, st));
    const char *bi[] = {"c", "bn.g", "bn.b", "bn.mean", "bn.var"};
    n = add_node(g, "BatchNormalization", "bn", 5, bi, "b");
    CHECK_OK(nns_graph_set_attr_float(g, n, "epsilon", 1e-5f));
    CHECK_OK(nns_graph_set_attr_float(g, n, "momentum", 0.9f));
    const char *ri[] = {"b"};
    add_node(g, "Relu", "relu", 1, ri, "r");
    const char *fi[] = {"r"};
    n = add_node(g, "Flatten", "flat", 1, fi, "f");
    CHECK_OK(nns_graph_set_attr_int(g, n, "axis", 1));
    const char *gi[] = {"f", "fc.w", "fc.b"};
    n = add_node(g, "Gemm", "fc", 3, gi, "y");
    CHECK_OK(nns_graph_set_attr_int(g, n, "transB", 1));
    CHECK_OK(nns_graph_set_attr_float(g, n, "alpha", 1.0f));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_set_meta(g, "nnslim.mean", "0.2860"));
    CHECK_OK(nns_graph_set_meta(g, "nnslim.std", "0.3530"));
    CHECK_OK(nns_graph_finalize(g));
    return g;
}

/* x[N,6] -> Relu -> Clip(min,max) -> Identity -> y; no heavy ops. */
static nns_graph *build_small(void) {
    nns_graph *g;
    CHECK_OK(nns_graph_create(&g));
    int64_t xd[] = {-1, 6};
    nns_shape xs = nns_shape_make(2, xd);
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    nns_shape sc = nns_shape_make(0, NULL);
    float lo = 0.0f, hi = 6.0f;
    CHECK_OK(nns_graph_add_param(g, "lo", NNS_DTYPE_F32, &sc, &lo, 0, NULL));
    CHECK_OK(nns_graph_add_param(g, "hi", NNS_DTYPE_F32, &sc, &hi, 0, NULL));
    const char *ri[] = {"x"};
    add_node(g, "Relu", "", 1, ri, "r"); /* unnamed: the builder names it */
    const char *ci[] = {"r", "lo", "hi"};
    add_node(g, "Clip", "clip", 3, ci, "c");
    const char *ii[] = {"c"};
    add_node(g, "Identity", "id", 1, ii, "y");
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_set_meta(g, "k", "v"));
    CHECK_OK(nns_graph_finalize(g));
    return g;
}

static int attr_eq(const nns_attr *a, const nns_attr *b) {
    if (strcmp(a->name, b->name) || a->type != b->type) return 0;
    switch (a->type) {
    case NNS_ATTR_TYPE_INT: return a->i == b->i;
    case NNS_ATTR_TYPE_FLOAT: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
    case NNS_ATTR_TYPE_STRING: return strcmp(a->s, b->s) == 0;
    case NNS_ATTR_TYPE_INTS:
        return a->n == b->n && (!a->n || memcmp(a->ints, b->ints, (size_t)a->n * 8) == 0);
    case NNS_ATTR_TYPE_FLOATS:
        return a->n == b->n && (!a->n || memcmp(a->floats, b->floats, (size_t)a->n * 4) == 0);
    }
    return 0;
}

static const char *vname(const nns_graph *g, int v) { return v >= 0 ? g->values[v].name : ""; }

/* Same nodes, inputs, outputs, attributes, parameters (bytes), metadata. */
static void compare_graphs(const nns_graph *a, const nns_graph *b) {
    CHECK(a->n_nodes == b->n_nodes);
    CHECK(a->n_inputs == b->n_inputs && a->n_outputs == b->n_outputs);
    if (a->n_nodes != b->n_nodes || a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs) return;
    for (int i = 0; i < a->n_inputs; i++) {
        const nns_value *va = &a->values[a->inputs[i]], *vb = &b->values[b->inputs[i]];
        CHECK(strcmp(va->name, vb->name) == 0);
        CHECK(nns_shape_eq(&va->shape, &vb->shape));
        CHECK(va->dtype == vb->dtype);
    }
    for (int i = 0; i < a->n_outputs; i++) {
        const nns_value *va = &a->values[a->outputs[i]], *vb = &b->values[b->outputs[i]];
        CHECK(strcmp(va->name, vb->name) == 0);
        CHECK(nns_shape_eq(&va->shape, &vb->shape));
    }
    for (int i = 0; i < a->n_nodes; i++) {
        const nns_node *na = &a->nodes[i], *nb = &b->nodes[i];
        CHECK_MSG(strcmp(na->name, nb->name) == 0, "node %d: '%s' vs '%s'", i, na->name, nb->name);
        CHECK(strcmp(na->op_type, nb->op_type) == 0);
        CHECK(na->n_in == nb->n_in && na->n_out == nb->n_out && na->n_attr == nb->n_attr);
        for (int j = 0; j < na->n_in && j < nb->n_in; j++)
            CHECK(strcmp(vname(a, na->in[j]), vname(b, nb->in[j])) == 0);
        for (int j = 0; j < na->n_out && j < nb->n_out; j++) {
            CHECK(strcmp(vname(a, na->out[j]), vname(b, nb->out[j])) == 0);
            CHECK(nns_shape_eq(&a->values[na->out[j]].shape, &b->values[nb->out[j]].shape));
        }
        for (int k = 0; k < na->n_attr; k++) {
            const nns_attr *ab = nns_node_attr(nb, na->attrs[k].name);
            CHECK_MSG(ab && attr_eq(&na->attrs[k], ab), "node '%s' attr '%s' differs", na->name,
                      na->attrs[k].name);
        }
    }
    int np_a = 0, np_b = 0;
    for (int v = 0; v < a->n_values; v++) {
        const nns_value *va = &a->values[v];
        if (va->kind != NNS_VALUE_KIND_PARAM && va->kind != NNS_VALUE_KIND_CONST) continue;
        np_a++;
        int w = nns_graph_find_value(b, va->name);
        CHECK_MSG(w >= 0, "parameter '%s' missing after the round trip", va->name);
        if (w < 0) continue;
        const nns_value *vb = &b->values[w];
        CHECK(vb->kind == va->kind && vb->dtype == va->dtype);
        CHECK(nns_shape_eq(&va->shape, &vb->shape));
        CHECK_MSG(va->trainable == vb->trainable, "'%s' trainable %d vs %d", va->name, va->trainable,
                  vb->trainable);
        size_t bytes = (size_t)nns_shape_numel(&va->shape) * nns_dtype_size(va->dtype);
        CHECK_MSG(memcmp(va->data, vb->data, bytes) == 0, "parameter '%s' bytes differ", va->name);
    }
    for (int v = 0; v < b->n_values; v++)
        np_b += b->values[v].kind == NNS_VALUE_KIND_PARAM || b->values[v].kind == NNS_VALUE_KIND_CONST;
    CHECK(np_a == np_b);
    CHECK(a->n_meta == b->n_meta);
    for (int i = 0; i < a->n_meta; i++) {
        const char *vb = nns_graph_get_meta(b, a->meta_keys[i]);
        CHECK(vb && strcmp(vb, a->meta_vals[i]) == 0);
    }
    CHECK(nns_graph_n_params(a) == nns_graph_n_params(b));
}

static int files_equal(const char *p, const char *q) {
    size_t la, lb;
    unsigned char *a = read_all(p, &la), *b = read_all(q, &lb);
    int eq = la == lb && memcmp(a, b, la) == 0;
    free(a);
    free(b);
    return eq;
}

/* Save, load, compare, save again: the second file must equal the first. */
static void round_trip(nns_graph *g, const char *stem) {
    char f1[64], f2[64];
    snprintf(f1, sizeof f1, "%s.onnx", stem);
    snprintf(f2, sizeof f2, "%s_again.onnx", stem);
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s", P(f1));
    snprintf(p2, sizeof p2, "%s", P(f2));
    CHECK_OK(nns_graph_save_onnx(g, p1));
    nns_graph *h = NULL;
    CHECK_OK(nns_graph_load_onnx(p1, &h));
    if (!h) return;
    compare_graphs(g, h);
    /* packed parameters survive too */
    CHECK_OK(nns_graph_pack_params(h));
    CHECK_OK(nns_graph_save_onnx(h, p2));
    CHECK(files_equal(p1, p2));
    nns_graph_free(h);
}

static void test_round_trip(void) {
    nns_graph *g = build_small();
    round_trip(g, "small");
    nns_graph_free(g);

    static const char *const cnn_ops[] = {"Conv", "BatchNormalization", "Relu", "Flatten", "Gemm", NULL};
    if (!have_ops(cnn_ops)) return;
    g = build_cnn();
    CHECK_OK(nns_graph_pack_params(g)); /* export reads packed params */
    round_trip(g, "cnn");
    /* BN running stats come back non-trainable, weights trainable */
    nns_graph *h = NULL;
    CHECK_OK(nns_graph_load_onnx(P("cnn.onnx"), &h));
    if (h) {
        CHECK(h->values[nns_graph_find_value(h, "bn.mean")].trainable == 0);
        CHECK(h->values[nns_graph_find_value(h, "bn.var")].trainable == 0);
        CHECK(h->values[nns_graph_find_value(h, "conv.w")].trainable == 1);
        CHECK(nns_graph_n_params(h) == 4 * 9 + 4 + 4 + 4 + 3 * 256 + 3);
        CHECK(strcmp(nns_graph_get_meta(h, "nnslim.std"), "0.3530") == 0);
        int y = h->outputs[0];
        CHECK(h->values[y].shape.ndim == 2 && h->values[y].shape.dims[0] == -1 &&
              h->values[y].shape.dims[1] == 3);
        nns_graph_free(h);
    }
    nns_graph_free(g);
}

/* ---- hand-built models --------------------------------------------------- */

/* Allocations for a hand-built model, freed together. */
static void *g_allocs[4096];
static int g_n_allocs;
static void *T(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p || g_n_allocs == 4096) exit(2);
    g_allocs[g_n_allocs++] = p;
    return p;
}
static void T_free(void) {
    while (g_n_allocs) free(g_allocs[--g_n_allocs]);
}
static char *S(const char *s) {
    char *d = T(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

typedef struct {
    Onnx__ModelProto m;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto os;
    Onnx__OperatorSetIdProto *osp[1];
    Onnx__NodeProto *nodes[64];
    Onnx__TensorProto *inits[64];
    Onnx__ValueInfoProto *ins[8], *outs[8];
} model;

static void model_init(model *M, int64_t opset) {
    memset(M, 0, sizeof *M);
    onnx__model_proto__init(&M->m);
    onnx__graph_proto__init(&M->g);
    onnx__operator_set_id_proto__init(&M->os);
    M->m.has_ir_version = 1;
    M->m.ir_version = 7;
    M->os.has_version = 1;
    M->os.version = opset;
    M->osp[0] = &M->os;
    M->m.opset_import = M->osp;
    M->m.n_opset_import = 1;
    M->m.graph = &M->g;
    M->g.name = "hand";
    M->g.node = M->nodes;
    M->g.initializer = M->inits;
    M->g.input = M->ins;
    M->g.output = M->outs;
}

static Onnx__ValueInfoProto *mk_vi(int ndim, const int64_t *dims, const char *name) {
    Onnx__ValueInfoProto *vi = T(sizeof *vi);
    Onnx__TypeProto *tp = T(sizeof *tp);
    Onnx__TypeProto__Tensor *tt = T(sizeof *tt);
    Onnx__TensorShapeProto *sp = T(sizeof *sp);
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sp);
    vi->name = S(name);
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = 1;
    tt->shape = sp;
    sp->n_dim = (size_t)ndim;
    sp->dim = T((size_t)ndim * sizeof *sp->dim);
    for (int d = 0; d < ndim; d++) {
        Onnx__TensorShapeProto__Dimension *dm = T(sizeof *dm);
        onnx__tensor_shape_proto__dimension__init(dm);
        if (dims[d] < 0) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dm->dim_param = S("batch");
        } else {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm->dim_value = dims[d];
        }
        sp->dim[d] = dm;
    }
    return vi;
}

static void add_in(model *M, const char *name, int ndim, const int64_t *dims) {
    M->ins[M->g.n_input++] = mk_vi(ndim, dims, name);
}
static void add_out(model *M, const char *name) {
    M->outs[M->g.n_output++] = mk_vi(0, NULL, name);
    M->outs[M->g.n_output - 1]->type->tensor_type->shape = NULL;
}

static Onnx__TensorProto *mk_tensor(const char *name, int dtype, int ndim, const int64_t *dims,
                                    const void *data, size_t bytes) {
    Onnx__TensorProto *t = T(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = S(name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)ndim;
    t->dims = T((size_t)ndim * sizeof(int64_t));
    if (ndim) memcpy(t->dims, dims, (size_t)ndim * sizeof(int64_t));
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = T(bytes);
    memcpy(t->raw_data.data, data, bytes);
    return t;
}

static void add_init_i64(model *M, const char *name, int n, const int64_t *v) {
    int64_t d = n;
    M->inits[M->g.n_initializer++] = mk_tensor(name, 7, 1, &d, v, (size_t)n * 8);
}
static void add_init_f32(model *M, const char *name, int ndim, const int64_t *dims, const float *v) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    M->inits[M->g.n_initializer++] = mk_tensor(name, 1, ndim, dims, v, (size_t)n * 4);
}

/* Inputs/outputs as comma-separated names ("" items allowed). */
static char **split(const char *s, size_t *n) {
    char **v = T(16 * sizeof *v);
    *n = 0;
    if (!*s) return v;
    const char *p = s;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        char *w = T(l + 1);
        memcpy(w, p, l);
        v[(*n)++] = w;
        if (!c) break;
        p = c + 1;
    }
    return v;
}

static Onnx__NodeProto *add_nodep(model *M, const char *op, const char *name, const char *ins,
                                  const char *outs) {
    Onnx__NodeProto *n = T(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = S(op);
    n->name = S(name);
    n->input = split(ins, &n->n_input);
    n->output = split(outs, &n->n_output);
    n->attribute = T(8 * sizeof *n->attribute);
    M->nodes[M->g.n_node++] = n;
    return n;
}

static Onnx__AttributeProto *new_attr(Onnx__NodeProto *n, const char *name, int type) {
    Onnx__AttributeProto *a = T(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = S(name);
    a->has_type = 1;
    a->type = type;
    n->attribute[n->n_attribute++] = a;
    return a;
}
static void attr_i(Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}
static void attr_f(Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}
static void attr_is(Onnx__NodeProto *n, const char *name, int k, const int64_t *v) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)k;
    a->ints = T((size_t)k * 8);
    memcpy(a->ints, v, (size_t)k * 8);
}
static void attr_t(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
}

static nns_status load_model(model *M, const char *what, nns_graph **g) {
    size_t len = onnx__model_proto__get_packed_size(&M->m);
    unsigned char *buf = malloc(len ? len : 1);
    onnx__model_proto__pack(&M->m, buf);
    nns_status st = nns_graph_load_onnx_mem(buf, len, what, g);
    free(buf);
    return st;
}

static const nns_node *node_named(const nns_graph *g, const char *name) {
    int i = nns_graph_find_node(g, name);
    return i >= 0 ? &g->nodes[i] : NULL;
}

/* The s64 constant feeding input slot j of node name. */
static const int64_t *const_input(const nns_graph *g, const char *name, int j, int64_t *n) {
    const nns_node *nd = node_named(g, name);
    *n = 0;
    if (!nd || j >= nd->n_in || nd->in[j] < 0) return NULL;
    const nns_value *v = &g->values[nd->in[j]];
    if (v->dtype != NNS_DTYPE_S64 || v->kind != NNS_VALUE_KIND_CONST) return NULL;
    *n = nns_shape_numel(&v->shape);
    return v->data;
}

/* BOOL is imported as NNS_DTYPE_BOOL, not U8: a bool graph input and a bool
 * initializer reach the op's dtype check as bool. */
static void test_bool_import(void) {
    model M;
    nns_graph *g = NULL;
    int64_t xd[] = {2, 4}, kd[] = {4};
    model_init(&M, 13);
    add_in(&M, "b", 2, xd);
    M.ins[0]->type->tensor_type->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
    add_nodep(&M, "Relu", "rb", "b", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "boolin.onnx", &g), NNS_STATUS_UNSUPPORTED, "input 0 'b' is bool", "'rb' (Relu)");
    T_free();
    model_init(&M, 13);
    add_in(&M, "x", 2, xd);
    const unsigned char kv[4] = {1, 0, 1, 1};
    M.inits[M.g.n_initializer++] = mk_tensor("k", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 1, kd, kv, 4);
    add_nodep(&M, "Add", "addb", "x,k", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "boolk.onnx", &g), NNS_STATUS_UNSUPPORTED, "input 1 'k' is bool", "'addb' (Add)");
    T_free();
}

/* Gather on an activation runs, but not along the batch, and a constant
 * index must be in range: both refused by name. */
static void test_gather_refusals(void) {
    model M;
    nns_graph *g = NULL;
    int64_t xd[] = {-1, 4};
    model_init(&M, 13);
    add_in(&M, "x", 2, xd);
    int64_t zero = 0;
    add_init_i64(&M, "idx", 1, &zero);
    add_nodep(&M, "Gather", "gath", "x,idx", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "g.onnx", &g), NNS_STATUS_UNSUPPORTED, "'gath'", "gathers along the dynamic batch");
    T_free();
    model_init(&M, 13);
    add_in(&M, "x", 2, xd);
    int64_t nine = 9;
    add_init_i64(&M, "idx", 1, &nine);
    attr_i(add_nodep(&M, "Gather", "gath", "x,idx", "y"), "axis", 1);
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "g9.onnx", &g), NNS_STATUS_SHAPE, "'gath'", "index 9 is outside axis 1");
    T_free();

}

static void test_unsupported_op(void) {
    model M;
    model_init(&M, 13);
    int64_t xd[] = {-1, 4};
    add_in(&M, "x", 2, xd);
    add_nodep(&M, "Relu", "r0", "x", "r");
    add_nodep(&M, "FooBar", "weird_node", "r", "y");
    add_out(&M, "y");
    nns_graph *g = NULL;
    EXPECT_FAIL(load_model(&M, "foobar.onnx", &g), NNS_STATUS_UNSUPPORTED, "'FooBar'", "'weird_node'");
    CHECK(contains(nns_last_error(), "model 'foobar.onnx'"));
    CHECK(g == NULL);
    T_free();

    /* several op types nnslim lacks: one message names them all */
    model_init(&M, 13);
    add_in(&M, "x", 2, xd);
    add_nodep(&M, "FooBar", "f1", "x", "a");
    add_nodep(&M, "Relu", "r1", "a", "b");
    add_nodep(&M, "Baz", "z1", "b", "c");
    add_nodep(&M, "FooBar", "f2", "c", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "several.onnx", &g), NNS_STATUS_UNSUPPORTED, "2 op types nnslim does not have",
                "FooBar (2 nodes, first 'f1'), Baz (node 'z1')");
    CHECK(g == NULL);
    T_free();

    /* an op of nnslim's own (quantization-aware training's FakeQuant) is not ONNX */
    model_init(&M, 13);
    add_in(&M, "x", 2, xd);
    add_nodep(&M, "FakeQuant", "fq", "x,x,x", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "fq.onnx", &g), NNS_STATUS_UNSUPPORTED, "'FakeQuant'", "internal to nnslim");
    CHECK(g == NULL);
    T_free();

    /* a custom domain */
    model_init(&M, 13);
    add_in(&M, "x", 2, xd);
    Onnx__NodeProto *n = add_nodep(&M, "Relu", "ms_relu", "x", "y");
    n->domain = S("com.microsoft");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "dom.onnx", &g), NNS_STATUS_UNSUPPORTED, "com.microsoft", "ms_relu");
    T_free();

    /* opsets outside 1..21 (test_legacy_opsets: 1..6) */
    model_init(&M, 22);
    add_in(&M, "x", 2, xd);
    add_nodep(&M, "Relu", "r0", "x", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "o22.onnx", &g), NNS_STATUS_UNSUPPORTED, "opset 22", "o22.onnx");
    M.os.version = 21;
    CHECK_OK(load_model(&M, "o21.onnx", &g));
    nns_graph_free(g);
    g = NULL;
    M.os.version = 0;
    EXPECT_FAIL(load_model(&M, "o0.onnx", &g), NNS_STATUS_UNSUPPORTED, "opset 0", "o0.onnx");
    T_free();

    /* an initializer of an unsupported type (double), named */
    model_init(&M, 13);
    add_in(&M, "x", 2, xd);
    double dv[4] = {1, 2, 3, 4};
    int64_t d4 = 4;
    M.inits[M.g.n_initializer++] = mk_tensor("dbl_weight", 11, 1, &d4, dv, sizeof dv);
    add_nodep(&M, "Add", "add", "x,dbl_weight", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "dbl.onnx", &g), NNS_STATUS_UNSUPPORTED, "dbl_weight", "DOUBLE");
    T_free();

    /* opset 21: an INT4 weight [2, 3] packed low nibble first (3 bytes), read
     * by a blocked DequantizeLinear, unpacks with its signs; a packed size
     * that does not match the dims is refused naming the tensor */
    for (int wrong = 0; wrong < 2; wrong++) {
        model_init(&M, 21);
        const int64_t xd23[] = {2, 3}, sd[] = {2, 1};
        add_in(&M, "x", 2, xd23);
        const uint8_t packed[4] = {0x8F, 0x21, 0x7A, 0}; /* -1 -8 | 1 2 | -6 7 */
        const float sc[2] = {0.5f, 0.25f};
        M.inits[M.g.n_initializer++] = mk_tensor("w4", 22, 2, xd23, packed, wrong ? 4 : 3);
        M.inits[M.g.n_initializer++] = mk_tensor("w4_scale", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, sd, sc, sizeof sc);
        Onnx__NodeProto *dq = add_nodep(&M, "DequantizeLinear", "dq4", "w4,w4_scale", "wf");
        attr_i(dq, "axis", 1);
        attr_i(dq, "block_size", 4);
        add_nodep(&M, "Add", "add", "x,wf", "y");
        add_out(&M, "y");
        if (wrong) {
            EXPECT_FAIL(load_model(&M, "w4.onnx", &g), NNS_STATUS_FORMAT, "'w4'", "claims 3 bytes, raw_data holds 4");
        } else {
            CHECK_OK(load_model(&M, "w4.onnx", &g));
            const int w = g ? nns_graph_find_value(g, "w4") : -1;
            const int8_t want[6] = {-1, -8, 1, 2, -6, 7};
            CHECK(w >= 0 && g->values[w].dtype == NNS_DTYPE_S4 && memcmp(g->values[w].data, want, 6) == 0);
            nns_graph_free(g);
            g = NULL;
        }
        T_free();
    }

    /* an input nobody defines */
    model_init(&M, 13);
    add_in(&M, "x", 2, xd);
    add_nodep(&M, "Relu", "lost", "ghost", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "ghost.onnx", &g), NNS_STATUS_FORMAT, "ghost", "lost");
    T_free();
}

/* The flatten pattern of x.view(x.size(0), -1), and other shape arithmetic. */
static void test_folding(void) {
    static const char *const ops[] = {"Relu", "Reshape", NULL};
    if (!have_ops(ops)) return;
    for (int opset = 11; opset <= 13; opset += 2) {
        model M;
        model_init(&M, opset);
        int64_t xd[] = {-1, 2, 3, 3};
        add_in(&M, "x", 4, xd);
        add_nodep(&M, "Relu", "relu", "x", "r");
        add_nodep(&M, "Shape", "", "r", "s");
        Onnx__NodeProto *c = add_nodep(&M, "Constant", "", "", "i0");
        int64_t zero = 0, m1 = -1, zd = 0;
        (void)zd;
        attr_t(c, "value", mk_tensor("", 7, 0, NULL, &zero, 8));
        add_nodep(&M, "Gather", "", "s,i0", "b");
        if (opset < 13) {
            Onnx__NodeProto *u = add_nodep(&M, "Unsqueeze", "", "b", "bu");
            attr_is(u, "axes", 1, &zero);
        } else {
            add_init_i64(&M, "ax0", 1, &zero);
            add_nodep(&M, "Unsqueeze", "", "b,ax0", "bu");
        }
        if (opset < 13) {
            add_init_i64(&M, "m1", 1, &m1);
        } else { /* typed field instead of raw_data */
            Onnx__TensorProto *t = mk_tensor("m1", 7, 1, (int64_t[]){1}, &m1, 8);
            t->has_raw_data = 0;
            t->n_int64_data = 1;
            t->int64_data = T(8);
            t->int64_data[0] = -1;
            M.inits[M.g.n_initializer++] = t;
        }
        Onnx__NodeProto *cc = add_nodep(&M, "Concat", "", "bu,m1", "shp");
        attr_i(cc, "axis", 0);
        add_nodep(&M, "Reshape", "flatten", "r,shp", "y");
        add_out(&M, "y");
        nns_graph *g = NULL;
        char what[32];
        snprintf(what, sizeof what, "flatten%d.onnx", opset);
        CHECK_OK(load_model(&M, what, &g));
        if (g) {
            CHECK(g->n_nodes == 2);
            int64_t n;
            const int64_t *s = const_input(g, "flatten", 1, &n);
            CHECK_MSG(s && n == 2 && s[0] == 0 && s[1] == -1, "reshape shape not [0,-1]");
            const nns_value *y = &g->values[g->outputs[0]];
            CHECK(y->shape.ndim == 2 && y->shape.dims[0] == -1 && y->shape.dims[1] == 18);
            nns_graph_free(g);
        }
        T_free();
    }

    /* Slice, Gather, Mul, Cast, Div, Sub, Add on known dims:
     * shape = [N, (d1*d2*d3*2/2 - 1 + 1)] via a Shape of the input. */
    model M;
    model_init(&M, 13);
    int64_t xd[] = {-1, 2, 3, 3};
    add_in(&M, "x", 4, xd);
    add_nodep(&M, "Shape", "shape", "x", "s");
    int64_t one = 1, two = 2, four = 4, zero = 0;
    add_init_i64(&M, "st1", 1, &one);
    add_init_i64(&M, "en4", 1, &four);
    add_init_i64(&M, "ax0", 1, &zero);
    add_nodep(&M, "Slice", "slice", "s,st1,en4,ax0", "chw"); /* [2,3,3] */
    add_init_i64(&M, "i0", 1, &zero);
    add_init_i64(&M, "i1", 1, &one);
    add_init_i64(&M, "i2", 1, &two);
    add_nodep(&M, "Gather", "g0", "chw,i0", "c");
    add_nodep(&M, "Gather", "g1", "chw,i1", "h");
    add_nodep(&M, "Gather", "g2", "chw,i2", "w");
    add_nodep(&M, "Mul", "m0", "c,h", "ch");
    add_nodep(&M, "Mul", "m1", "ch,w", "chw1");           /* [18] */
    Onnx__NodeProto *cf = add_nodep(&M, "Cast", "cf", "chw1", "chwf");
    attr_i(cf, "to", 1);
    float twof = 2.0f;
    add_init_f32(&M, "twof", 0, NULL, &twof);
    add_nodep(&M, "Mul", "m2", "chwf,twof", "x2");        /* 36.0 */
    add_nodep(&M, "Div", "d0", "x2,twof", "x3");          /* 18.0 */
    Onnx__NodeProto *ci = add_nodep(&M, "Cast", "ci", "x3", "x4");
    attr_i(ci, "to", 7);
    add_nodep(&M, "Sub", "s0", "x4,i1", "x5");            /* 17 */
    add_nodep(&M, "Add", "a0", "x5,i1", "x6");            /* 18 */
    add_nodep(&M, "Shape", "shape2", "x", "s2");
    add_init_i64(&M, "ax00", 1, &zero);
    add_nodep(&M, "Slice", "slice0", "s2,i0,i1", "n1");   /* [N] symbolic */
    Onnx__NodeProto *cc = add_nodep(&M, "Concat", "cat", "n1,x6", "shp");
    attr_i(cc, "axis", 0);
    add_nodep(&M, "Reshape", "resh", "x,shp", "r");
    add_nodep(&M, "Relu", "relu", "r", "y");
    add_out(&M, "y");
    nns_graph *g = NULL;
    CHECK_OK(load_model(&M, "arith.onnx", &g));
    if (g) {
        CHECK(g->n_nodes == 2);
        int64_t n;
        const int64_t *s = const_input(g, "resh", 1, &n);
        CHECK_MSG(s && n == 2 && s[0] == 0 && s[1] == 18, "reshape shape not [0,18]");
        /* folded float constants do not reach the graph */
        CHECK(nns_graph_find_value(g, "twof") < 0);
        nns_graph_free(g);
    }
    T_free();

    /* A dynamic dim in arithmetic cannot be folded: a clear error. */
    model_init(&M, 13);
    add_in(&M, "x", 4, xd);
    add_nodep(&M, "Shape", "shape", "x", "s");
    add_init_i64(&M, "i0", 1, &zero);
    add_init_i64(&M, "i2", 1, &two);
    add_nodep(&M, "Gather", "g0", "s,i0", "b");
    add_nodep(&M, "Mul", "twice_batch", "b,i2", "b2");
    add_init_i64(&M, "m1", 1, (int64_t[]){-1});
    Onnx__NodeProto *c2 = add_nodep(&M, "Concat", "cat", "b2,m1", "shp");
    attr_i(c2, "axis", 0);
    add_nodep(&M, "Reshape", "resh", "x,shp", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "dyn.onnx", &g), NNS_STATUS_UNSUPPORTED, "twice_batch", "dynamic");
    T_free();
}

/* Older opsets are normalised to opset-13 forms. */
static void test_opset_normalise(void) {
    nns_graph *g = NULL;
    model M;
    int64_t xd[] = {-1, 5};
    if (have_op("Clip")) {
        model_init(&M, 9);
        add_in(&M, "x", 2, xd);
        Onnx__NodeProto *c = add_nodep(&M, "Clip", "relu6", "x", "y");
        attr_f(c, "min", 0.0f);
        attr_f(c, "max", 6.0f);
        add_out(&M, "y");
        CHECK_OK(load_model(&M, "clip9.onnx", &g));
        if (g) {
            const nns_node *n = node_named(g, "relu6");
            CHECK(n && n->n_in == 3 && n->n_attr == 0);
            if (n && n->n_in == 3) {
                CHECK(*(const float *)g->values[n->in[1]].data == 0.0f);
                CHECK(*(const float *)g->values[n->in[2]].data == 6.0f);
                CHECK(g->values[n->in[1]].trainable == 0 && g->values[n->in[2]].trainable == 0);
            }
            nns_graph_free(g);
        }
        T_free();
        /* opset 11+: min/max as inputs, max only */
        model_init(&M, 12);
        add_in(&M, "x", 2, xd);
        float mx = 6.0f;
        add_init_f32(&M, "six", 0, NULL, &mx);
        M.inits[0]->has_raw_data = 0; /* typed field instead of raw_data */
        M.inits[0]->n_float_data = 1;
        M.inits[0]->float_data = T(4);
        M.inits[0]->float_data[0] = 6.0f;
        add_nodep(&M, "Clip", "clip", "x,,six", "y");
        add_out(&M, "y");
        CHECK_OK(load_model(&M, "clip12.onnx", &g));
        if (g) {
            const nns_node *n = node_named(g, "clip");
            CHECK(n && n->n_in == 3 && n->in[1] == -1 && n->in[2] >= 0);
            if (n && n->in[2] >= 0) CHECK(g->values[n->in[2]].trainable == 0);
            nns_graph_free(g);
        }
        T_free();
    }
    if (have_op("Softmax")) {
        model_init(&M, 11);
        add_in(&M, "x", 2, xd);
        add_nodep(&M, "Softmax", "sm", "x", "y");
        add_out(&M, "y");
        CHECK_OK(load_model(&M, "sm11.onnx", &g));
        if (g) {
            const nns_node *n = node_named(g, "sm");
            CHECK(n && nns_node_attr_int(n, "axis", 99) == -1);
            nns_graph_free(g);
        }
        T_free();
        int64_t x4[] = {-1, 3, 4, 4};
        model_init(&M, 11);
        add_in(&M, "x", 4, x4);
        add_nodep(&M, "Softmax", "sm4", "x", "y");
        add_out(&M, "y");
        EXPECT_FAIL(load_model(&M, "sm4.onnx", &g), NNS_STATUS_UNSUPPORTED, "sm4", "axis");
        T_free();
    }
    if (have_op("Dropout")) {
        model_init(&M, 10);
        add_in(&M, "x", 2, xd);
        Onnx__NodeProto *d = add_nodep(&M, "Dropout", "drop", "x", "y");
        attr_f(d, "ratio", 0.25f);
        add_out(&M, "y");
        CHECK_OK(load_model(&M, "drop10.onnx", &g));
        if (g) {
            const nns_node *n = node_named(g, "drop");
            CHECK(n && n->n_in == 2 && n->n_attr == 0);
            if (n && n->n_in == 2) CHECK(*(const float *)g->values[n->in[1]].data == 0.25f);
            nns_graph_free(g);
        }
        T_free();
    }
    if (have_op("BatchNormalization")) {
        int64_t x4[] = {-1, 3, 4, 4}, c3 = 3;
        float ones[3] = {1, 1, 1}, zeros[3] = {0, 0, 0};
        for (int variant = 0; variant < 2; variant++) {
            model_init(&M, variant ? 15 : 7);
            add_in(&M, "x", 4, x4);
            add_init_f32(&M, "s", 1, &c3, ones);
            add_init_f32(&M, "b", 1, &c3, zeros);
            add_init_f32(&M, "m", 1, &c3, zeros);
            add_init_f32(&M, "v", 1, &c3, ones);
            Onnx__NodeProto *bn = add_nodep(&M, "BatchNormalization", "bn", "x,s,b,m,v",
                                            variant ? "y" : "y,rm,rv");
            attr_i(bn, variant ? "training_mode" : "spatial", variant ? 0 : 1);
            add_out(&M, "y");
            CHECK_OK(load_model(&M, "bn.onnx", &g));
            if (g) {
                const nns_node *n = node_named(g, "bn");
                CHECK(n && n->n_out == 1 && n->n_attr == 0);
                CHECK(g->values[nns_graph_find_value(g, "m")].trainable == 0);
                CHECK(g->values[nns_graph_find_value(g, "v")].trainable == 0);
                CHECK(g->values[nns_graph_find_value(g, "s")].trainable == 1);
                nns_graph_free(g);
            }
            T_free();
        }
    }
}

static void test_bad_files(void) {
    nns_graph *g = (nns_graph *)&g; /* must be reset to NULL */
    EXPECT_FAIL(nns_graph_load_onnx(P("does_not_exist.onnx"), &g), NNS_STATUS_IO, "does_not_exist.onnx",
                "cannot open");
    CHECK(g == NULL);

    nns_graph *s = build_small();
    CHECK_OK(nns_graph_save_onnx(s, P("whole.onnx")));
    nns_graph_free(s);
    size_t len;
    unsigned char *b = read_all(P("whole.onnx"), &len);
    CHECK(len > 100);
    write_bytes(P("half.onnx"), b, len / 2);
    EXPECT_FAIL(nns_graph_load_onnx(P("half.onnx"), &g), NNS_STATUS_FORMAT, "half.onnx",
                "not a valid ONNX model");
    /* every truncation fails cleanly (no crash, no leak under ASan) */
    int bad = 0;
    for (size_t cut = 0; cut < len; cut += 7) {
        nns_graph *h = NULL;
        nns_status st = nns_graph_load_onnx_mem(b, cut, "cut", &h);
        if (st == NNS_OK) bad++;
        nns_graph_free(h);
    }
    CHECK_MSG(bad == 0, "%d truncations loaded", bad);
    /* flipped bytes: must not crash (may or may not load) */
    for (size_t i = 0; i < len; i += 3) {
        unsigned char *c = malloc(len);
        memcpy(c, b, len);
        c[i] ^= 0x5a;
        nns_graph *h = NULL;
        nns_status st = nns_graph_load_onnx_mem(c, len, "flip", &h);
        CHECK((st == NNS_OK) == (h != NULL));
        nns_graph_free(h);
        free(c);
    }
    free(b);

    unsigned char junk[1000];
    uint32_t r = 99;
    for (size_t i = 0; i < sizeof junk; i++) {
        r = r * 1103515245u + 12345u;
        junk[i] = (unsigned char)(r >> 16);
    }
    write_bytes(P("junk.onnx"), junk, sizeof junk);
    EXPECT_FAIL(nns_graph_load_onnx(P("junk.onnx"), &g), NNS_STATUS_FORMAT, "junk.onnx",
                "not a valid ONNX model");
    write_bytes(P("empty.onnx"), "", 0);
    EXPECT_FAIL(nns_graph_load_onnx(P("empty.onnx"), &g), NNS_STATUS_FORMAT, "empty.onnx",
                "not a valid ONNX model");
    CHECK(g == NULL);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void test_save_failures(void) {
    nns_graph *g = build_small();
    EXPECT_FAIL(nns_graph_save_onnx(g, P("no_such_dir/m.onnx")), NNS_STATUS_IO, "no_such_dir/m.onnx",
                "cannot create");
    struct stat stb;
    CHECK(stat(P("no_such_dir"), &stb) != 0);

    /* The target is a directory: the temp file is written, the rename fails,
     * and the temp file must be gone afterwards. */
    CHECK(mkdir(P("sub"), 0700) == 0);
    CHECK(mkdir(P("sub/target.onnx"), 0700) == 0);
    EXPECT_FAIL(nns_graph_save_onnx(g, P("sub/target.onnx")), NNS_STATUS_IO, "target.onnx", "rename");
    CHECK(count_entries(P("sub")) == 1);
    CHECK(stat(P("sub/target.onnx"), &stb) == 0 && S_ISDIR(stb.st_mode));
    rmdir(P("sub/target.onnx"));

    /* Overwriting an existing file replaces it whole. */
    write_bytes(P("sub/m.onnx"), "old", 3);
    CHECK_OK(nns_graph_save_onnx(g, P("sub/m.onnx")));
    nns_graph *h = NULL;
    CHECK_OK(nns_graph_load_onnx(P("sub/m.onnx"), &h));
    nns_graph_free(h);
    CHECK(count_entries(P("sub")) == 1);
    nns_graph_free(g);
}

/* What the exported ModelProto says, read back with protobuf-c. */
static void test_export_fields(void) {
    nns_graph *g = build_small();
    CHECK_OK(nns_graph_save_onnx(g, P("fields.onnx")));
    nns_graph_free(g);
    size_t len;
    unsigned char *b = read_all(P("fields.onnx"), &len);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, b);
    CHECK(m != NULL);
    if (m) {
        CHECK(m->has_ir_version && m->ir_version == 7);
        CHECK(m->producer_name && strcmp(m->producer_name, "nnslim") == 0);
        CHECK(m->n_opset_import == 1 && m->opset_import[0]->version == 13);
        CHECK(!m->opset_import[0]->domain || !*m->opset_import[0]->domain);
        const Onnx__GraphProto *gp = m->graph;
        CHECK(gp->n_input == 1 && gp->n_output == 1 && gp->n_node == 3);
        CHECK(gp->n_initializer == 2); /* lo, hi */
        const Onnx__TensorShapeProto *sp = gp->input[0]->type->tensor_type->shape;
        CHECK(sp && sp->n_dim == 2);
        if (sp && sp->n_dim == 2) {
            CHECK(sp->dim[0]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                  strcmp(sp->dim[0]->dim_param, "N") == 0);
            CHECK(sp->dim[1]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                  sp->dim[1]->dim_value == 6);
        }
        sp = gp->output[0]->type->tensor_type->shape;
        CHECK(sp && sp->n_dim == 2 && strcmp(sp->dim[0]->dim_param, "N") == 0);
        const Onnx__TensorProto *t = gp->initializer[1];
        CHECK(strcmp(t->name, "hi") == 0 && t->data_type == 1 && t->n_dims == 0);
        CHECK(t->has_raw_data && t->raw_data.len == 4 && t->raw_data.data[3] == 0x40); /* 6.0f LE */
        CHECK(m->n_metadata_props == 1 && strcmp(m->metadata_props[0]->key, "k") == 0);
        CHECK(strcmp(gp->node[0]->name, "Relu_0") == 0);
        onnx__model_proto__free_unpacked(m, NULL);
    }
    free(b);

    if (!have_op("HardSwish")) return;
    CHECK_OK(nns_graph_create(&g));
    int64_t xd[] = {-1, 3};
    nns_shape xs = nns_shape_make(2, xd);
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    const char *hi[] = {"x"};
    add_node(g, "HardSwish", "hs", 1, hi, "y");
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_save_onnx(g, P("hs.onnx")));
    nns_graph_free(g);
    b = read_all(P("hs.onnx"), &len);
    m = onnx__model_proto__unpack(NULL, len, b);
    CHECK(m && m->n_opset_import == 1 && m->opset_import[0]->version == 14);
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    free(b);
}

/* Optional: node tests of the ONNX test data (Debian libonnx-testdata). */
static void test_onnx_testdata(void) {
    const char *root = "/usr/share/libonnx-testdata/data/node";
    struct stat stb;
    if (stat(root, &stb) != 0) {
        printf("skip: %s not installed\n", root);
        return;
    }
    static const char *const models[] = {
        "test_relu", "test_sigmoid", "test_leakyrelu", "test_hardsigmoid", "test_hardswish",
        "test_hardswish_expanded", "test_identity", "test_add", "test_add_bcast", "test_sub",
        "test_mul", "test_div", "test_gemm_default_vector_bias", "test_gemm_all_attributes",
        "test_gemm_transposeB", "test_matmul_2d", "test_conv_with_strides_padding",
        "test_batchnorm_example", "test_batchnorm_epsilon", "test_maxpool_2d_default",
        "test_maxpool_2d_pads", "test_averagepool_2d_default", "test_globalaveragepool",
        "test_flatten_axis1", "test_flatten_default_axis", "test_transpose_default",
        "test_concat_2d_axis_1", "test_softmax_axis_1", "test_softmax_example",
        "test_logsoftmax_axis_1", "test_dropout_default", "test_clip", NULL};
    int loaded = 0, tried = 0;
    for (int i = 0; models[i]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s/model.onnx", root, models[i]);
        if (stat(path, &stb) != 0) continue;
        nns_graph *g = NULL;
        nns_status st = nns_graph_load_onnx(path, &g);
        if (st == NNS_OK) {
            loaded++;
            /* and it survives our own round trip */
            CHECK_OK(nns_graph_save_onnx(g, P("td.onnx")));
            nns_graph *h = NULL;
            CHECK_OK(nns_graph_load_onnx(P("td.onnx"), &h));
            if (h) compare_graphs(g, h);
            nns_graph_free(h);
        } else {
            /* e.g. an opset below 7 or a runtime Clip bound: a clean error
             * naming the model */
            CHECK_MSG(st != NNS_STATUS_INTERNAL && st != NNS_STATUS_NOMEM && contains(nns_last_error(), path),
                      "%s: %s", models[i], nns_last_error());
            printf("note: %s: %s\n", models[i], nns_last_error());
        }
        tried++;
        nns_graph_free(g);
    }
    printf("onnx testdata: %d of %d node models loaded\n", loaded, tried);
}

/* A session of g runs x (3 samples) into y: 1 if it ran. */
static int runs_at_batch3(nns_graph *g, const float *x, float *y) {
    nns_session *s = NULL;
    if (nns_session_create(g, 8, &s)) return 0;
    const nns_status st = nns_session_run(s, x, 3, y);
    nns_session_free(s);
    return st == NNS_OK;
}

/* Opsets 1..6: Add with broadcast=1 and axis=1 adds a constant [3] to
 * dim 1 of a [N, 3, 2] input (numpy would align it with dim 2); Reshape's
 * shape attribute (opset 4) and consumed_inputs are read; an op whose
 * meaning changed by opset 7 (Upsample, Cast, ...) and a broadcast of a
 * computed operand at an axis are refused by name. */
static void test_legacy_opsets(void) {
    model M;
    nns_graph *g = NULL;
    int64_t xd[] = {1, 3, 2}, c3 = 3, shp[] = {0, 6};
    const float b[3] = {10, 20, 30};
    model_init(&M, 6);
    add_in(&M, "x", 3, xd);
    add_init_f32(&M, "b", 1, &c3, b);
    Onnx__NodeProto *n = add_nodep(&M, "Add", "add", "x,b", "a");
    attr_i(n, "broadcast", 1);
    attr_i(n, "axis", 1);
    attr_is(add_nodep(&M, "Relu", "relu", "a", "r"), "consumed_inputs", 1, &c3);
    M.os.version = 4;
    attr_is(add_nodep(&M, "Reshape", "flat", "r", "y"), "shape", 2, shp);
    add_out(&M, "y");
    CHECK_OK(load_model(&M, "legacy4.onnx", &g));
    float x[18], y[18] = {0};
    for (int i = 0; i < 18; i++) x[i] = (float)i - 20.0f;
    if (g) {
        CHECK(g->values[g->outputs[0]].shape.ndim == 2 && g->values[g->outputs[0]].shape.dims[1] == 6);
        int ok = runs_at_batch3(g, x, y);
        for (int i = 0; ok && i < 18; i++) ok = y[i] == fmaxf(x[i] + b[(i / 2) % 3], 0.0f);
        CHECK_MSG(ok, "opset 4 Add broadcast along axis 1");
    }
    nns_graph_free(g);
    g = NULL;
    T_free();

    model_init(&M, 6);
    add_in(&M, "x", 3, xd);
    add_in(&M, "c", 1, &c3);
    n = add_nodep(&M, "Mul", "mul", "x,c", "y");
    attr_i(n, "broadcast", 1);
    attr_i(n, "axis", 1);
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "legacy_bc.onnx", &g), NNS_STATUS_UNSUPPORTED, "'mul'", "axis 1 of a computed input");
    T_free();

    model_init(&M, 6);
    add_in(&M, "x", 3, xd);
    attr_i(add_nodep(&M, "Cast", "cast", "x", "y"), "to", 1);
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "legacy_cast.onnx", &g), NNS_STATUS_UNSUPPORTED, "'cast'", "Cast is not one");
    T_free();
}

/* 1-D windows run as 2-D ones: Conv [N, 2, 7] with a constant weight
 * [3, 2, 3] (stride 2, dilation 2, pads 2 and 1), then MaxPool of 2 (stride
 * 1) and AveragePool of 3 (pad 1 each side, pads counted out), against a
 * direct computation; a Conv whose weight is a graph input is refused. */
static void test_1d_windows(void) {
    model M;
    nns_graph *g = NULL;
    int64_t xd[] = {1, 2, 7}, wd[] = {3, 2, 3}, k3 = 3;
    float w[18], b[3] = {0.5f, -1.0f, 0.25f};
    for (int i = 0; i < 18; i++) w[i] = (float)((i * 7) % 5) * 0.25f - 0.5f;
    model_init(&M, 13);
    add_in(&M, "x", 3, xd);
    add_init_f32(&M, "w", 3, wd, w);
    add_init_f32(&M, "b", 1, &k3, b);
    Onnx__NodeProto *n = add_nodep(&M, "Conv", "conv1d", "x,w,b", "c");
    attr_is(n, "strides", 1, (const int64_t[]){2});
    attr_is(n, "dilations", 1, (const int64_t[]){2});
    attr_is(n, "pads", 2, (const int64_t[]){2, 1});
    n = add_nodep(&M, "MaxPool", "max1d", "c", "m");
    attr_is(n, "kernel_shape", 1, (const int64_t[]){2});
    n = add_nodep(&M, "AveragePool", "avg1d", "m", "y");
    attr_is(n, "kernel_shape", 1, (const int64_t[]){3});
    attr_is(n, "pads", 2, (const int64_t[]){1, 1});
    add_out(&M, "y");
    CHECK_OK(load_model(&M, "conv1d.onnx", &g));
    float x[3 * 14], y[3 * 6] = {0};
    for (int i = 0; i < 42; i++) x[i] = (float)((i * 5) % 9) - 4.0f;
    if (g) {
        /* conv: (7 + 3 - 5) / 2 + 1 = 3 outputs; MaxPool of 2: 2; AveragePool of 3, pads 1: 2 */
        CHECK(g->values[g->outputs[0]].shape.ndim == 3 && g->values[g->outputs[0]].shape.dims[2] == 2);
        int ok = runs_at_batch3(g, x, y);
        for (int s = 0; ok && s < 3; s++)
            for (int m = 0; ok && m < 3; m++) {
                double c[3], mx[2];
                for (int o = 0; o < 3; o++) {
                    c[o] = b[m];
                    for (int ch = 0; ch < 2; ch++)
                        for (int k = 0; k < 3; k++) {
                            const int i = o * 2 - 2 + k * 2;
                            if (i >= 0 && i < 7) c[o] += (double)x[s * 14 + ch * 7 + i] * w[(m * 2 + ch) * 3 + k];
                        }
                }
                for (int o = 0; o < 2; o++) mx[o] = fmax(c[o], c[o + 1]);
                for (int o = 0; ok && o < 2; o++) {
                    double sum = 0;
                    int cnt = 0;
                    for (int k = -1; k <= 1; k++)
                        if (o + k >= 0 && o + k < 2) sum += mx[o + k], cnt++;
                    ok = fabs(y[(s * 3 + m) * 2 + o] - sum / cnt) < 1e-5;
                }
            }
        CHECK_MSG(ok, "1-D Conv, MaxPool, AveragePool");
    }
    nns_graph_free(g);
    g = NULL;
    T_free();
    model_init(&M, 13);
    add_in(&M, "x", 3, xd);
    add_in(&M, "w", 3, wd);
    add_nodep(&M, "Conv", "conv1d", "x,w", "y");
    add_out(&M, "y");
    EXPECT_FAIL(load_model(&M, "conv1d_w.onnx", &g), NNS_STATUS_UNSUPPORTED, "'conv1d'", "constant weight of rank 3");
    T_free();
}

/* An inference plan of g at batch 3 (what evaluation and training build). */
static nns_status plan_at_batch3(nns_graph *g) {
    nns_plan *p = NULL;
    nns_status st = nns_graph_pack_params(g);
    if (!st) st = nns_plan_create(g, 3, 0, NULL, &p);
    nns_plan_free(p);
    return st;
}

/* A model exported with a fixed batch of 1 (PyTorch's default) is read
 * with a free batch when the graph carries it: a Reshape to [1, -1] (what
 * x.view(x.size(0), -1) exports) copies the batch, and the model runs at
 * batch 3 and saves with dim 0 free. A graph that bakes the batch in (a
 * Reshape to [2, 2] of a [1, 2, 2] input) keeps its fixed batch, and a plan at
 * another batch names that node. */
static void test_free_batch(void) {
    model M;
    nns_graph *g = NULL;
    int64_t xd[] = {1, 2, 2}, shp[] = {1, -1}, fixed[] = {2, 2};
    model_init(&M, 13);
    add_in(&M, "x", 3, xd);
    add_init_i64(&M, "shape", 2, shp);
    add_nodep(&M, "Reshape", "flat", "x,shape", "f");
    add_nodep(&M, "Relu", "relu", "f", "y");
    add_out(&M, "y");
    CHECK_OK(load_model(&M, "batch1.onnx", &g));
    const float x[12] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12};
    float y[12] = {0};
    if (g) {
        CHECK(g->values[g->inputs[0]].shape.dims[0] == -1 && g->values[g->outputs[0]].shape.dims[0] == -1);
        CHECK(runs_at_batch3(g, x, y) && y[0] == 1 && y[1] == 0 && y[10] == 11 && y[11] == 0);
        CHECK_OK(nns_graph_save_onnx(g, P("batch1.onnx")));
        nns_graph *h = NULL;
        CHECK_OK(nns_graph_load_onnx(P("batch1.onnx"), &h));
        CHECK(h && h->values[h->inputs[0]].shape.dims[0] == -1);
        nns_graph_free(h);
    }
    nns_graph_free(g);
    g = NULL;
    T_free();
    model_init(&M, 13);
    add_in(&M, "x", 3, xd);
    add_init_i64(&M, "shape", 2, fixed);
    add_init_i64(&M, "row", 2, (int64_t[]){1, 4});
    add_nodep(&M, "Reshape", "square", "x,shape", "s");
    add_nodep(&M, "Reshape", "back", "s,row", "y");
    add_out(&M, "y");
    CHECK_OK(load_model(&M, "baked.onnx", &g));
    if (g) {
        CHECK(g->values[g->inputs[0]].shape.dims[0] == 1);
        CHECK(plan_at_batch3(g) != NNS_OK);
        CHECK_MSG(contains(nns_last_error(), "fixed batch of 1, not 3 (it could not be made free: node 'square' "
                                             "(Reshape): target shape [2,2] fixes or splits the dynamic batch"),
                  "got: %s", nns_last_error());
        CHECK(runs_at_batch3(g, x, y)); /* a session runs it one sample at a time */
    }
    nns_graph_free(g);
    T_free();
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/nns_onnx_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_round_trip();
    test_unsupported_op();
    test_gather_refusals();
    test_legacy_opsets();
    test_1d_windows();
    test_bool_import();
    test_free_batch();
    test_folding();
    test_opset_normalise();
    test_bad_files();
    test_save_failures();
    test_export_fields();
    test_onnx_testdata();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    TEST_MAIN_END();
}
