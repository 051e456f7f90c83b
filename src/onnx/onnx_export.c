/* onnx_export.c — nns_graph -> ONNX ModelProto (IR 7, default-domain opset
 * 13; 14 when the graph uses HardSwish, which opset 13 lacks; IR 10 and
 * opset 21 when it holds 4-bit tensors or a blocked DequantizeLinear, which
 * only opset 21 has). 4-bit tensors (u4, s4: one value per byte in nnslim)
 * are written packed, two per byte, low nibble first (ONNX UINT4 / INT4).
 *
 * The message is built with pointers into the graph (names, parameter data on
 * a little-endian host) plus small allocations recorded in a pool, packed
 * into one buffer, written to "<path>.tmp.<pid>", flushed, fsync'd, closed
 * and renamed over path. On any failure the temporary file is removed and
 * path is left as it was.
 *
 * Sparse storage (docs/pruning.md): a contracted weight (graph/weights.h: what
 * pruning prunes), or the s8 initializer a DequantizeLinear reads (a
 * quantized weight), whose zeros make it smaller that way is written as a
 * sparse_initializer
 * (SparseTensorProto): values = the nonzeros as a float (or INT8) TensorProto [NNZ]
 * (raw_data), indices = their linearized positions, ascending, as an INT64
 * TensorProto [NNZ] in int64_data (protobuf packs these as varints: 1-3 bytes
 * for the indices of our layers). It is used when that costs at most 3/4 of
 * the dense bytes, unless the caller asks for dense storage. A graph with
 * masks is written with metadata "nnslim.pruned" = "1" so that loading it
 * recreates the masks from the zeros. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/qmath.h"
#include "nnslim/onnx.h"
#include "onnx/onnx_internal.h"
#include "graph/weights.h"

typedef struct pool {
    void **p;
    size_t n, cap;
    int oom;
} pool;

static void *pal(pool *P, size_t n, size_t size) {
    if (P->oom) return NULL;
    if (P->n == P->cap) {
        size_t cap = P->cap ? 2 * P->cap : 256;
        void **np = realloc(P->p, cap * sizeof *np);
        if (!np) {
            P->oom = 1;
            return NULL;
        }
        P->p = np;
        P->cap = cap;
    }
    void *q = calloc(n ? n : 1, size);
    if (!q) {
        P->oom = 1;
        return NULL;
    }
    P->p[P->n++] = q;
    return q;
}

static void pool_free(pool *P) {
    for (size_t i = 0; i < P->n; i++) free(P->p[i]);
    free(P->p);
}

static char empty_str[] = "";
static char dim_n[] = "N";

/* A ValueInfo for value v (shape dims < 0 become dim_param "N"). */
static Onnx__ValueInfoProto *value_info(pool *P, const nns_value *v, int with_shape) {
    Onnx__ValueInfoProto *vi = pal(P, 1, sizeof *vi);
    Onnx__TypeProto *tp = pal(P, 1, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = pal(P, 1, sizeof *tt);
    if (!vi || !tp || !tt) return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    vi->name = v->name;
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = (int32_t)v->dtype;
    if (!with_shape) return vi;
    Onnx__TensorShapeProto *sp = pal(P, 1, sizeof *sp);
    if (!sp) return NULL;
    onnx__tensor_shape_proto__init(sp);
    tt->shape = sp;
    sp->n_dim = (size_t)v->shape.ndim;
    sp->dim = pal(P, (size_t)v->shape.ndim, sizeof *sp->dim);
    if (!sp->dim) return NULL;
    for (int d = 0; d < v->shape.ndim; d++) {
        Onnx__TensorShapeProto__Dimension *dm = pal(P, 1, sizeof *dm);
        if (!dm) return NULL;
        onnx__tensor_shape_proto__dimension__init(dm);
        if (v->shape.dims[d] < 0) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dm->dim_param = dim_n;
        } else {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm->dim_value = v->shape.dims[d];
        }
        sp->dim[d] = dm;
    }
    return vi;
}

static int host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* A 4-bit initializer's n values, two per byte, low nibble first. */
static nns_status tensor_4bit(pool *P, const nns_value *v, size_t n, Onnx__TensorProto *t, Onnx__TensorProto **out) {
    uint8_t *b = pal(P, n / 2 + 1, 1);
    if (!b) return nns_error(NNS_STATUS_NOMEM, "out of memory exporting '%s'", v->name);
    nns_q_pack4(v->data, (int64_t)n, b);
    t->has_raw_data = 1;
    t->raw_data.len = n / 2 + n % 2;
    t->raw_data.data = b;
    *out = t;
    return NNS_OK;
}

static nns_status tensor_of(pool *P, const nns_value *v, Onnx__TensorProto **out) {
    Onnx__TensorProto *t = pal(P, 1, sizeof *t);
    if (!t) return nns_error(NNS_STATUS_NOMEM, "out of memory exporting '%s'", v->name);
    onnx__tensor_proto__init(t);
    size_t es = nns_dtype_size(v->dtype);
    if (!es)
        return nns_error(NNS_STATUS_UNSUPPORTED, "value '%s': dtype %d cannot be exported", v->name,
                         (int)v->dtype);
    t->name = v->name;
    t->has_data_type = 1;
    t->data_type = (int32_t)v->dtype; /* nns_dtype values are ONNX's */
    t->n_dims = (size_t)v->shape.ndim;
    t->dims = pal(P, (size_t)v->shape.ndim, sizeof *t->dims);
    if (!t->dims) return nns_error(NNS_STATUS_NOMEM, "out of memory exporting '%s'", v->name);
    for (int d = 0; d < v->shape.ndim; d++) {
        if (v->shape.dims[d] < 0)
            return nns_error(NNS_STATUS_INTERNAL, "initializer '%s' has a dynamic dimension", v->name);
        t->dims[d] = v->shape.dims[d];
    }
    size_t n = (size_t)nns_shape_numel(&v->shape);
    if (n && !v->data)
        return nns_error(NNS_STATUS_INTERNAL, "initializer '%s' has no data", v->name);
    if (v->dtype == NNS_DTYPE_U4 || v->dtype == NNS_DTYPE_S4) return tensor_4bit(P, v, n, t, out);
    t->has_raw_data = 1;
    t->raw_data.len = n * es;
    if (host_is_le() || es == 1 || !n) {
        t->raw_data.data = v->data;
    } else {
        uint8_t *b = pal(P, n, es);
        if (!b) return nns_error(NNS_STATUS_NOMEM, "out of memory exporting '%s'", v->name);
        nns_onnx_copy_le(b, v->data, n, es); /* the swap is symmetric */
        t->raw_data.data = b;
    }
    *out = t;
    return NNS_OK;
}

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Element i of an f32 or s8 weight is not zero. */
static int elem_nonzero(const nns_value *v, int64_t i) {
    return v->dtype == NNS_DTYPE_F32 ? ((const float *)v->data)[i] != 0.0f : ((const int8_t *)v->data)[i] != 0;
}

/* Whether weight v (f32, or an s8 quantized one) is smaller as a
 * SparseTensorProto (see the top). */
static int sparse_pays(const nns_value *v) {
    int64_t n = nns_shape_numel(&v->shape);
    if (n <= 0 || !v->data || (v->dtype != NNS_DTYPE_F32 && v->dtype != NNS_DTYPE_S8)) return 0;
    const uint64_t es = nns_dtype_size(v->dtype);
    uint64_t bytes = 0;
    for (int64_t i = 0; i < n; i++)
        if (elem_nonzero(v, i)) bytes += es + varint_len((uint64_t)i);
    return bytes + 32 <= (uint64_t)n * es * 3 / 4;
}

static nns_status sparse_tensor_of(pool *P, const nns_value *v, Onnx__SparseTensorProto **out) {
#define SOOM() nns_error(NNS_STATUS_NOMEM, "out of memory exporting '%s'", v->name)
    const int64_t n = nns_shape_numel(&v->shape);
    const size_t es = nns_dtype_size(v->dtype);
    int64_t nnz = 0;
    for (int64_t i = 0; i < n; i++) nnz += elem_nonzero(v, i);
    Onnx__SparseTensorProto *sp = pal(P, 1, sizeof *sp);
    Onnx__TensorProto *tv = pal(P, 1, sizeof *tv), *ti = pal(P, 1, sizeof *ti);
    int64_t *dims = pal(P, (size_t)v->shape.ndim, sizeof *dims);
    int64_t *vd = pal(P, 1, sizeof *vd), *id = pal(P, 1, sizeof *id);
    int64_t *idx = pal(P, (size_t)nnz, sizeof *idx);
    char *val = pal(P, (size_t)nnz, es);
    if (!sp || !tv || !ti || !dims || !vd || !id || !idx || !val) return SOOM();
    onnx__sparse_tensor_proto__init(sp);
    onnx__tensor_proto__init(tv);
    onnx__tensor_proto__init(ti);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (elem_nonzero(v, i)) {
            idx[k] = i;
            memcpy(val + (size_t)k++ * es, (const char *)v->data + (size_t)i * es, es);
        }
    for (int d = 0; d < v->shape.ndim; d++) dims[d] = v->shape.dims[d];
    sp->n_dims = (size_t)v->shape.ndim;
    sp->dims = dims;
    *vd = nnz;
    *id = nnz;
    tv->name = v->name;
    tv->has_data_type = 1;
    tv->data_type = v->dtype == NNS_DTYPE_F32 ? ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT : ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    tv->n_dims = 1;
    tv->dims = vd;
    tv->has_raw_data = 1;
    tv->raw_data.len = (size_t)nnz * es;
    if (host_is_le() || es == 1) {
        tv->raw_data.data = (uint8_t *)val;
    } else {
        uint8_t *b = pal(P, (size_t)nnz, es);
        if (!b) return SOOM();
        nns_onnx_copy_le(b, val, (size_t)nnz, es);
        tv->raw_data.data = b;
    }
    ti->has_data_type = 1;
    ti->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    ti->n_dims = 1;
    ti->dims = id;
    ti->n_int64_data = (size_t)nnz;
    ti->int64_data = idx;
    sp->values = tv;
    sp->indices = ti;
    *out = sp;
#undef SOOM
    return NNS_OK;
}

static nns_status attr_of(pool *P, const nns_node *n, const nns_attr *a, Onnx__AttributeProto **out) {
    Onnx__AttributeProto *p = pal(P, 1, sizeof *p);
    if (!p) return nns_error(NNS_STATUS_NOMEM, "out of memory exporting node '%s'", n->name);
    onnx__attribute_proto__init(p);
    p->name = a->name;
    p->has_type = 1;
    switch (a->type) {
    case NNS_ATTR_TYPE_FLOAT:
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        p->has_f = 1;
        p->f = a->f;
        break;
    case NNS_ATTR_TYPE_INT:
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        p->has_i = 1;
        p->i = a->i;
        break;
    case NNS_ATTR_TYPE_STRING:
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
        p->has_s = 1;
        p->s.data = (uint8_t *)(a->s ? a->s : empty_str);
        p->s.len = a->s ? strlen(a->s) : 0;
        break;
    case NNS_ATTR_TYPE_FLOATS:
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
        p->n_floats = (size_t)a->n;
        p->floats = a->floats;
        break;
    case NNS_ATTR_TYPE_INTS:
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        p->n_ints = (size_t)a->n;
        p->ints = a->ints;
        break;
    default:
        return nns_error(NNS_STATUS_INTERNAL, "node '%s': attribute '%s' has unknown type %d", n->name,
                         a->name, (int)a->type);
    }
    *out = p;
    return NNS_OK;
}

#define OOM() nns_error(NNS_STATUS_NOMEM, "out of memory exporting the graph")

/* The graph needs opset 21: a 4-bit value, or a blocked DequantizeLinear. */
static int needs_opset21(const nns_graph *g) {
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i].dtype == NNS_DTYPE_U4 || g->values[i].dtype == NNS_DTYPE_S4) return 1;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == NNS_OP_DEQUANTIZELINEAR && nns_node_attr_int(&g->nodes[i], "block_size", 0) > 0) return 1;
    return 0;
}

/* The opset import: 13, 14 when a node is HardSwish, 21 for 4-bit and
 * blocked quantization (opset 21 also has HardSwish). */
static nns_status add_opset(pool *P, const nns_graph *g, Onnx__ModelProto *m) {
    int64_t opset = 13;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == NNS_OP_HARDSWISH) opset = 14;
    if (needs_opset21(g)) opset = 21, m->ir_version = 10; /* INT4 needs IR 10 */
    Onnx__OperatorSetIdProto *os = pal(P, 1, sizeof *os);
    m->opset_import = pal(P, 1, sizeof *m->opset_import);
    if (!os || !m->opset_import) return OOM();
    onnx__operator_set_id_proto__init(os);
    os->domain = empty_str;
    os->has_version = 1;
    os->version = opset;
    m->opset_import[0] = os;
    m->n_opset_import = 1;
    return NNS_OK;
}

/* The graph's inputs and outputs. */
static nns_status add_io(pool *P, const nns_graph *g, Onnx__GraphProto *gp) {
    gp->input = pal(P, (size_t)g->n_inputs, sizeof *gp->input);
    if (!gp->input) return OOM();
    for (int i = 0; i < g->n_inputs; i++)
        if (!(gp->input[gp->n_input++] = value_info(P, &g->values[g->inputs[i]], 1))) return OOM();

    gp->output = pal(P, (size_t)g->n_outputs, sizeof *gp->output);
    if (!gp->output) return OOM();
    for (int i = 0; i < g->n_outputs; i++) {
        const nns_value *v = &g->values[g->outputs[i]];
        int with_shape = v->kind != NNS_VALUE_KIND_ACT || v->shape.ndim > 0;
        if (!(gp->output[gp->n_output++] = value_info(P, v, with_shape))) return OOM();
    }
    return NNS_OK;
}

/* Initializers: every PARAM/CONST value a node reads or the graph outputs
 * (used[v] = 1), prunable weights that are smaller stored sparse (2). */
static nns_status add_initializers(pool *P, const nns_graph *g, const nns_onnx_save_options *opt,
                                   Onnx__GraphProto *gp) {
    nns_status st;
    char *used = pal(P, (size_t)g->n_values, 1);
    if (!used) return OOM();
    size_t n_init = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) used[g->nodes[i].in[j]] = 1;
    for (int i = 0; i < g->n_outputs; i++) used[g->outputs[i]] = 1;
    for (int v = 0; v < g->n_values; v++) {
        nns_value_kind k = g->values[v].kind;
        if (!(k == NNS_VALUE_KIND_PARAM || k == NNS_VALUE_KIND_CONST)) used[v] = 0;
        n_init += used[v] != 0;
    }
    size_t n_sparse = 0;
    if (!opt || opt->sparse != NNS_ONNX_SPARSE_NEVER) {
        nns_weight_ref *t = NULL;
        int nt = 0;
        if ((st = nns_graph_list_weights(g, &t, &nt))) return st;
        for (int k = 0; k < nt; k++) {
            int v = t[k].value;
            if (used[v] == 1 && sparse_pays(&g->values[v])) {
                used[v] = 2;
                n_sparse++;
            }
        }
        free(t);
        /* quantized weights: the s8 initializers that DequantizeLinear reads */
        for (int i = 0; i < g->n_nodes; i++) {
            const int v = g->nodes[i].op == NNS_OP_DEQUANTIZELINEAR ? g->nodes[i].in[0] : -1;
            if (v >= 0 && used[v] == 1 && g->values[v].dtype == NNS_DTYPE_S8 && sparse_pays(&g->values[v])) {
                used[v] = 2;
                n_sparse++;
            }
        }
    }
    gp->initializer = pal(P, n_init - n_sparse, sizeof *gp->initializer);
    gp->sparse_initializer = pal(P, n_sparse, sizeof *gp->sparse_initializer);
    if (!gp->initializer || !gp->sparse_initializer) return OOM();
    for (int v = 0; v < g->n_values; v++) {
        if (used[v] == 1) {
            if ((st = tensor_of(P, &g->values[v], &gp->initializer[gp->n_initializer]))) return st;
            gp->n_initializer++;
        } else if (used[v] == 2) {
            if ((st = sparse_tensor_of(P, &g->values[v], &gp->sparse_initializer[gp->n_sparse_initializer])))
                return st;
            gp->n_sparse_initializer++;
        }
    }
    return NNS_OK;
}

/* Node n as a NodeProto. */
static nns_status node_of(pool *P, const nns_graph *g, const nns_node *n, Onnx__NodeProto **out) {
    nns_status st;
    if (n->op >= 0 && nns_op_table[n->op]->internal)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s) is internal to nnslim and has no ONNX form", n->name,
                         n->op_type);
    Onnx__NodeProto *np = pal(P, 1, sizeof *np);
    if (!np) return OOM();
    onnx__node_proto__init(np);
    np->name = n->name;
    np->op_type = n->op_type;
    np->input = pal(P, (size_t)n->n_in, sizeof *np->input);
    np->output = pal(P, (size_t)n->n_out, sizeof *np->output);
    np->attribute = pal(P, (size_t)n->n_attr, sizeof *np->attribute);
    if (!np->input || !np->output || !np->attribute) return OOM();
    for (int j = 0; j < n->n_in; j++) np->input[j] = n->in[j] >= 0 ? g->values[n->in[j]].name : empty_str;
    np->n_input = (size_t)n->n_in;
    for (int j = 0; j < n->n_out; j++) np->output[j] = g->values[n->out[j]].name;
    np->n_output = (size_t)n->n_out;
    for (int a = 0; a < n->n_attr; a++) {
        if ((st = attr_of(P, n, &n->attrs[a], &np->attribute[a]))) return st;
        np->n_attribute++;
    }
    *out = np;
    return NNS_OK;
}

static nns_status add_nodes(pool *P, const nns_graph *g, Onnx__GraphProto *gp) {
    nns_status st;
    gp->node = pal(P, (size_t)g->n_nodes, sizeof *gp->node);
    if (!gp->node) return OOM();
    for (int i = 0; i < g->n_nodes; i++) {
        Onnx__NodeProto *np = NULL;
        if ((st = node_of(P, g, &g->nodes[i], &np))) return st;
        gp->node[gp->n_node++] = np;
    }
    return NNS_OK;
}

/* One metadata entry key=value appended to m. */
static nns_status add_meta(pool *P, Onnx__ModelProto *m, char *key, char *value) {
    Onnx__StringStringEntryProto *e = pal(P, 1, sizeof *e);
    if (!e) return OOM();
    onnx__string_string_entry_proto__init(e);
    e->key = key;
    e->value = value;
    m->metadata_props[m->n_metadata_props++] = e;
    return NNS_OK;
}

/* The graph's metadata, after nnslim.pruned when it has masks to mark. */
static nns_status add_metadata(pool *P, const nns_graph *g, Onnx__ModelProto *m) {
    nns_status st;
    int mark = g->masks && !nns_graph_get_meta(g, "nnslim.pruned");
    m->metadata_props = pal(P, (size_t)g->n_meta + 1, sizeof *m->metadata_props);
    if (!m->metadata_props) return OOM();
    /* masks are recreated from the zeros on loading */
    if (mark && (st = add_meta(P, m, "nnslim.pruned", "1"))) return st;
    for (int i = 0; i < g->n_meta; i++)
        if ((st = add_meta(P, m, g->meta_keys[i], g->meta_vals[i]))) return st;
    return NNS_OK;
}

/* Build the ModelProto for g into *m (allocations in P). */
static nns_status build_model(pool *P, const nns_graph *g, const nns_onnx_save_options *opt,
                              Onnx__ModelProto *m, Onnx__GraphProto *gp) {
    nns_status st;
    onnx__model_proto__init(m);
    onnx__graph_proto__init(gp);
    m->has_ir_version = 1;
    m->ir_version = 7;
    m->producer_name = "nnslim";
    m->graph = gp;
    if ((st = add_opset(P, g, m))) return st;
    gp->name = g->name && *g->name ? g->name : "nnslim";
    if ((st = add_io(P, g, gp)) || (st = add_initializers(P, g, opt, gp)) || (st = add_nodes(P, g, gp)) ||
        (st = add_metadata(P, g, m)))
        return st;
    if (P->oom) return OOM();
    return NNS_OK;
}
#undef OOM

/* Write buf to path via a temporary file and rename. */
static nns_status write_atomic(const char *path, const uint8_t *buf, size_t len) {
    size_t tl = strlen(path) + 32;
    char *tmp = malloc(tl);
    if (!tmp) return nns_error(NNS_STATUS_NOMEM, "file '%s': out of memory", path);
    snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        nns_status st = nns_error(NNS_STATUS_IO, "file '%s': cannot create '%s': %s", path, tmp, strerror(errno));
        free(tmp);
        return st;
    }
    const char *fail = NULL;
    int err = 0;
    if (len && fwrite(buf, 1, len, f) != len) {
        fail = "write failed";
        err = errno;
    }
    if (!fail && fflush(f) != 0) {
        fail = "write failed";
        err = errno;
    }
    if (!fail && fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS) {
        fail = "fsync failed";
        err = errno;
    }
    if (fclose(f) != 0 && !fail) {
        fail = "close failed";
        err = errno;
    }
    if (!fail && rename(tmp, path) != 0) {
        fail = "rename failed";
        err = errno;
    }
    nns_status st = NNS_OK;
    if (fail) {
        remove(tmp);
        st = nns_error(NNS_STATUS_IO, "file '%s': %s: %s", path, fail, err ? strerror(err) : "unknown error");
    }
    free(tmp);
    return st;
}

nns_status nns_graph_onnx_bytes(const nns_graph *g, const nns_onnx_save_options *opt, int64_t *bytes) {
    pool P;
    memset(&P, 0, sizeof P);
    Onnx__ModelProto m;
    Onnx__GraphProto gp;
    nns_status st = build_model(&P, g, opt, &m, &gp);
    if (!st) *bytes = (int64_t)onnx__model_proto__get_packed_size(&m);
    pool_free(&P);
    return st;
}

nns_status nns_graph_save_onnx(const nns_graph *g, const char *path) {
    return nns_graph_save_onnx_opts(g, path, NULL);
}

nns_status nns_graph_save_onnx_opts(const nns_graph *g, const char *path, const nns_onnx_save_options *opt) {
    if (!g || !path || !*path)
        return nns_error(NNS_STATUS_INVALID_ARG, "nns_graph_save_onnx: graph or path is NULL");
    pool P;
    memset(&P, 0, sizeof P);
    Onnx__ModelProto m;
    Onnx__GraphProto gp;
    nns_status st = build_model(&P, g, opt, &m, &gp);
    if (st) {
        pool_free(&P);
        return st;
    }
    size_t len = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        pool_free(&P);
        return nns_error(NNS_STATUS_NOMEM, "file '%s': out of memory (%zu bytes)", path, len);
    }
    size_t packed = onnx__model_proto__pack(&m, buf);
    pool_free(&P);
    if (packed != len) {
        free(buf);
        return nns_error(NNS_STATUS_INTERNAL, "file '%s': packed %zu bytes, expected %zu", path, packed, len);
    }
    st = write_atomic(path, buf, len);
    free(buf);
    return st;
}
