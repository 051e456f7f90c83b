/* onnx_import.c — ONNX ModelProto -> nns_graph.
 *
 * Steps: parse (protobuf-c), check the default-domain opset (7..18), take the
 * initializers into the loader's constant table (converted lazily), add the
 * graph inputs that are not initializers, sort the nodes topologically, then
 * walk them once: Constant nodes and shape arithmetic on constants are folded
 * into the table, every other node is normalised to opset-13 semantics and
 * added to the graph, and its output shapes are inferred at once (so that a
 * later Shape node can read them). Finally outputs, metadata, trainable flags,
 * and nns_graph_finalize. The rules are listed in docs/onnx.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnslim/onnx.h"
#include "core/checked.h"
#include "core/file.h"
#include "core/qmath.h"
#include "onnx/onnx_internal.h"
#include "ops/op.h"
#include "graph/infer.h"
#include "graph/weights.h"

/* ---- small helpers ------------------------------------------------------ */

static int host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void nns_onnx_copy_le(void *dst, const void *src, size_t n, size_t es) {
    if (!n) return; /* an empty tensor: src may be NULL */
    if (host_is_le() || es == 1) {
        memcpy(dst, src, n * es);
        return;
    }
    const unsigned char *s = src;
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < es; b++) d[i * es + b] = s[i * es + es - 1 - b];
}

void nns_onnx_const_clear(nns_onnx_const *c) {
    free(c->name);
    free(c->data);
    free(c->sym);
    memset(c, 0, sizeof *c);
    c->gidx = -1;
}

int nns_onnx_const_find(const nns_onnx_loader *L, const char *name) {
    for (int i = L->n_k - 1; i >= 0; i--)
        if (strcmp(L->k[i].name, name) == 0) return i;
    return -1;
}

int nns_onnx_const_push(nns_onnx_loader *L, nns_onnx_const *c, const char *name) {
    if (L->n_k == L->cap_k) {
        int cap = L->cap_k ? 2 * L->cap_k : 64;
        nns_onnx_const *k = realloc(L->k, (size_t)cap * sizeof *k);
        if (!k) {
            nns_onnx_const_clear(c);
            return -1;
        }
        L->k = k;
        L->cap_k = cap;
    }
    free(c->name);
    c->name = nns_strdup(name);
    if (!c->name) {
        nns_onnx_const_clear(c);
        return -1;
    }
    L->k[L->n_k] = *c;
    memset(c, 0, sizeof *c);
    c->gidx = -1;
    return L->n_k++;
}

static const char *onnx_type_name(int64_t t) {
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
        "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
        "COMPLEX128", "BFLOAT16"};
    return t >= 0 && t < (int64_t)(sizeof names / sizeof names[0]) ? names[t] : "?";
}

/* ONNX TensorProto.DataType -> nns_dtype (values agree where both exist). */
static int dtype_from_onnx(int64_t t, nns_dtype *dt) {
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *dt = NNS_DTYPE_F32; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *dt = NNS_DTYPE_U8; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *dt = NNS_DTYPE_BOOL; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *dt = NNS_DTYPE_S8; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *dt = NNS_DTYPE_S32; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *dt = NNS_DTYPE_S64; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: *dt = NNS_DTYPE_F16; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: *dt = NNS_DTYPE_BF16; return 1;
    case 21: *dt = NNS_DTYPE_U4; return 1; /* UINT4, INT4: ONNX 1.16, newer than the schema we compile */
    case 22: *dt = NNS_DTYPE_S4; return 1;
    default: return 0;
    }
}


/* Re-record the current message with the model's name in front. */
static nns_status wrap(const nns_onnx_loader *L, nns_status st) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", nns_last_error());
    return nns_error(st, "model '%s': %s", L->what, buf);
}

#define LERR(st, fmt, ...) nns_error(st, "model '%s': " fmt, L->what, __VA_ARGS__)

/* ---- tensors ------------------------------------------------------------- */

/* The dtype and shape a TensorProto claims, checked against the limits. */
static nns_status tensor_header(const nns_onnx_loader *L, const Onnx__TensorProto *t, const char *name,
                                nns_dtype *dt, nns_shape *s, size_t *n) {
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return LERR(NNS_STATUS_UNSUPPORTED, "tensor '%s': external data is not supported", name);
    if (t->segment)
        return LERR(NNS_STATUS_UNSUPPORTED, "tensor '%s': segmented tensors are not supported", name);
    if (t->n_dims > NNS_MAX_DIMS)
        return LERR(NNS_STATUS_UNSUPPORTED, "tensor '%s': %zu dims (at most %d)", name, t->n_dims, NNS_MAX_DIMS);
    int64_t dt_onnx = t->has_data_type ? t->data_type : 0;
    if (!dtype_from_onnx(dt_onnx, dt))
        return LERR(NNS_STATUS_UNSUPPORTED, "tensor '%s': data type %s (%lld) is not supported", name,
                    onnx_type_name(dt_onnx), (long long)dt_onnx);
    memset(s, 0, sizeof *s);
    s->ndim = (int)t->n_dims;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0)
            return LERR(NNS_STATUS_FORMAT, "tensor '%s': bad dimension %lld", name, (long long)t->dims[i]);
        s->dims[i] = t->dims[i];
    }
    char what[300];
    snprintf(what, sizeof what, "tensor '%s'", name);
    int64_t numel;
    nns_status st = nns_shape_numel_checked(s, what, &numel);
    if (st) return wrap(L, st);
    *n = (size_t)numel;
    return NNS_OK;
}

/* How many values the tensor holds (raw bytes / element size, or the typed
 * field's count) and whether they are raw. */
static size_t tensor_holds(const Onnx__TensorProto *t, nns_dtype dt, size_t n, int *raw) {
    *raw = t->has_raw_data && (t->raw_data.len || n == 0);
    if (*raw) return t->raw_data.len / nns_dtype_size(dt);
    switch (dt) {
    case NNS_DTYPE_F32: return t->n_float_data;
    case NNS_DTYPE_S64: return t->n_int64_data;
    default: return t->n_int32_data;
    }
}

static int is_4bit(nns_dtype dt) { return dt == NNS_DTYPE_U4 || dt == NNS_DTYPE_S4; }

/* A 4-bit tensor of n values, packed two per byte (low nibble first) in
 * raw_data or one byte per int32_data element, unpacked into data (one
 * value per byte). What it holds was checked by the caller. */
static void tensor_unpack_4bit(const Onnx__TensorProto *t, nns_dtype dt, size_t n, int raw, void *data) {
    for (size_t i = 0; i < n; i++) {
        const unsigned byte = raw ? t->raw_data.data[i / 2] : (unsigned)t->int32_data[i / 2] & 0xFFu;
        const int32_t v = nns_q_nibble(byte, (int64_t)i, dt == NNS_DTYPE_S4);
        if (dt == NNS_DTYPE_S4) ((int8_t *)data)[i] = (int8_t)v;
        else ((uint8_t *)data)[i] = (uint8_t)v;
    }
}

/* Convert the n typed-field values of t into data (nns_onnx_store_size(dt) each). */
static void tensor_copy_fields(const Onnx__TensorProto *t, nns_dtype dt, size_t n, void *data) {
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case NNS_DTYPE_F32: ((float *)data)[i] = t->float_data[i]; break;
        case NNS_DTYPE_S64: ((int64_t *)data)[i] = t->int64_data[i]; break;
        case NNS_DTYPE_S32: ((int64_t *)data)[i] = t->int32_data[i]; break;
        case NNS_DTYPE_U8: ((uint8_t *)data)[i] = (uint8_t)t->int32_data[i]; break;
        case NNS_DTYPE_BOOL: ((uint8_t *)data)[i] = t->int32_data[i] != 0; break;
        case NNS_DTYPE_S8: ((int8_t *)data)[i] = (int8_t)t->int32_data[i]; break;
        default: ((uint16_t *)data)[i] = (uint16_t)t->int32_data[i]; break; /* F16, BF16 bits */
        }
    }
}

/* Convert a TensorProto into c (dtype, shape, data); name for messages. What
 * the dims claim is compared with what the message holds before anything
 * that size is allocated. */
static nns_status tensor_read(const nns_onnx_loader *L, const Onnx__TensorProto *t,
                              const char *name, nns_onnx_const *c) {
    nns_dtype dt;
    nns_shape s;
    size_t n = 0;
    nns_status st = tensor_header(L, t, name, &dt, &s, &n);
    if (st) return st;
    size_t es = nns_dtype_size(dt), ss = nns_onnx_store_size(dt);
    int raw;
    size_t have = tensor_holds(t, dt, n, &raw);
    size_t bytes, stored;
    if (nns_ck_mul_size(n, es, &bytes) || nns_ck_mul_size(n ? n : 1, ss, &stored))
        return LERR(NNS_STATUS_LIMIT, "tensor '%s': %zu elements overflow a size", name, n);
    if (is_4bit(dt)) { /* packed: ceil(n / 2) bytes, in raw_data or one per int32_data value */
        bytes = n / 2 + n % 2;
        if (!raw && have != bytes)
            return LERR(NNS_STATUS_FORMAT, "tensor '%s': %zu 4-bit values need %zu packed bytes, int32_data holds %zu",
                        name, n, bytes, have);
        have = n;
    }
    if (raw && t->raw_data.len != bytes)
        return LERR(NNS_STATUS_FORMAT, "tensor '%s': claims %zu bytes, raw_data holds %zu", name, bytes,
                    t->raw_data.len);
    if (!raw && have != n)
        return LERR(NNS_STATUS_FORMAT, "tensor '%s': claims %zu values, holds %zu", name, n, have);
    void *data = malloc(stored);
    if (!data) return LERR(NNS_STATUS_NOMEM, "tensor '%s': out of memory (%zu elements)", name, n);
    if (is_4bit(dt)) {
        tensor_unpack_4bit(t, dt, n, raw, data);
    } else if (raw && dt == NNS_DTYPE_S32) {
        int64_t *o = data;
        for (size_t i = 0; i < n; i++) {
            int32_t v;
            nns_onnx_copy_le(&v, t->raw_data.data + 4 * i, 1, 4);
            o[i] = v;
        }
    } else if (raw) {
        nns_onnx_copy_le(data, t->raw_data.data, n, es);
    } else {
        tensor_copy_fields(t, dt, n, data);
    }
    free(c->data);
    c->data = data;
    c->dtype = dt;
    c->shape = s;
    return NNS_OK;
}

nns_status nns_onnx_tensor_read(const nns_onnx_loader *L, const Onnx__TensorProto *t, const char *name,
                                nns_onnx_const *c) {
    return tensor_read(L, t, name, c);
}

/* Expand a SparseTensorProto (values [NNZ]; indices [NNZ] linearized or
 * [NNZ, rank], INT64 or INT32; dims) into a dense constant c. */
static nns_status sparse_read(const nns_onnx_loader *L, const Onnx__SparseTensorProto *sp, const char *name,
                              nns_onnx_const *c) {
    if (!sp->values || !sp->indices)
        return LERR(NNS_STATUS_FORMAT, "sparse initializer '%s': values or indices missing", name);
    if (sp->n_dims > NNS_MAX_DIMS)
        return LERR(NNS_STATUS_UNSUPPORTED, "sparse initializer '%s': %zu dims (at most %d)", name, sp->n_dims,
                    NNS_MAX_DIMS);
    nns_shape s;
    memset(&s, 0, sizeof s);
    s.ndim = (int)sp->n_dims;
    for (size_t i = 0; i < sp->n_dims; i++) {
        if (sp->dims[i] < 0)
            return LERR(NNS_STATUS_FORMAT, "sparse initializer '%s': bad dimension %lld", name, (long long)sp->dims[i]);
        s.dims[i] = sp->dims[i];
    }
    int64_t numel;
    nns_status st = nns_shape_numel_checked(&s, name, &numel);
    if (st) return wrap(L, st);
    /* the dense copy is what costs memory: 8 bytes an element at most */
    if ((uint64_t)numel * 8 > nns_limit_memory())
        return LERR(NNS_STATUS_LIMIT, "sparse initializer '%s': %lld dense elements exceed NNS_MAX_MEMORY (%llu bytes)",
                    name, (long long)numel, (unsigned long long)nns_limit_memory());
    nns_onnx_const v, ix;
    memset(&v, 0, sizeof v);
    memset(&ix, 0, sizeof ix);
    st = tensor_read(L, sp->values, name, &v);
    if (!st) st = tensor_read(L, sp->indices, name, &ix);
    if (st) {
        free(v.data);
        free(ix.data);
        return st;
    }
    int64_t nnz = v.shape.ndim == 1 ? v.shape.dims[0] : -1;
    const char *bad = NULL;
    if (nnz < 0) bad = "values must be 1-D";
    else if (!nns_onnx_is_int(ix.dtype)) bad = "indices must be INT64 (or INT32)";
    else if (!((ix.shape.ndim == 1 && ix.shape.dims[0] == nnz) ||
               (ix.shape.ndim == 2 && ix.shape.dims[0] == nnz && ix.shape.dims[1] == s.ndim)))
        bad = "indices must be [NNZ] or [NNZ, rank]";
    else if (nnz > numel) bad = "more values than elements";
    size_t ss = nns_onnx_store_size(v.dtype);
    void *dense = bad ? NULL : calloc((size_t)(numel ? numel : 1), ss);
    if (!bad && !dense) {
        free(v.data);
        free(ix.data);
        return LERR(NNS_STATUS_NOMEM, "sparse initializer '%s': out of memory (%lld elements)", name, (long long)numel);
    }
    const int64_t *id = ix.data;
    for (int64_t j = 0; !bad && j < nnz; j++) {
        int64_t lin = 0;
        if (ix.shape.ndim == 1) {
            lin = id[j];
        } else {
            for (int d = 0; d < s.ndim && !bad; d++) {
                int64_t q = id[j * s.ndim + d];
                if (q < 0 || q >= s.dims[d]) bad = "an index is out of range";
                lin = lin * s.dims[d] + q;
            }
        }
        if (!bad && (lin < 0 || lin >= numel)) bad = "an index is out of range";
        if (!bad) memcpy((char *)dense + (size_t)lin * ss, (const char *)v.data + (size_t)j * ss, ss);
    }
    free(v.data);
    free(ix.data);
    if (bad) {
        free(dense);
        return LERR(NNS_STATUS_FORMAT, "sparse initializer '%s': %s", name, bad);
    }
    free(c->data);
    c->data = dense;
    c->dtype = v.dtype;
    c->shape = s;
    return NNS_OK;
}

/* Make sure constant ki has its data (initializers are read on first use). */
static nns_status const_get(const nns_onnx_loader *L, int ki) {
    nns_onnx_const *c = &L->k[ki];
    if (c->data) return NNS_OK;
    if (!c->init) return LERR(NNS_STATUS_INTERNAL, "constant '%s' has no data", c->name);
    nns_status st = tensor_read(L, c->init, c->name, c);
    if (!st) c->init = NULL;
    return st;
}

/* Add constant ki to the graph (once). */
static nns_status const_to_graph(nns_onnx_loader *L, int ki, int trainable) {
    nns_status st = const_get(L, ki);
    if (st) return st;
    nns_onnx_const *c = &L->k[ki];
    if (c->gidx >= 0) return NNS_OK;
    if (nns_onnx_const_has_sym(c))
        return LERR(NNS_STATUS_INTERNAL, "constant '%s' still depends on a dynamic dimension", c->name);
    const void *data = c->data;
    int32_t *narrow = NULL;
    int64_t n = nns_onnx_numel(&c->shape);
    if (c->dtype == NNS_DTYPE_S32) {
        narrow = malloc((size_t)(n ? n : 1) * sizeof *narrow);
        if (!narrow) return LERR(NNS_STATUS_NOMEM, "out of memory for '%s'", c->name);
        for (int64_t i = 0; i < n; i++) narrow[i] = (int32_t)((const int64_t *)c->data)[i];
        data = narrow;
    }
    int idx = -1;
    st = nns_graph_add_param(L->g, c->name, c->dtype, &c->shape, data,
                             trainable && c->origin == NNS_ONNX_ORIGIN_INIT, &idx);
    free(narrow);
    if (st) return wrap(L, st);
    c->gidx = idx;
    return NNS_OK;
}

/* ---- names --------------------------------------------------------------- */

static int name_taken(const nns_onnx_loader *L, const char *s) {
    return nns_onnx_const_find(L, s) >= 0 || nns_graph_find_value(L->g, s) >= 0;
}

/* A value name based on base that is not used yet, written into buf. */
static void unique_value_name(const nns_onnx_loader *L, const char *base, char *buf, size_t len) {
    snprintf(buf, len, "%s", base);
    for (int k = 1; name_taken(L, buf); k++) snprintf(buf, len, "%s_%d", base, k);
}

static int proto_node_named(const Onnx__GraphProto *gp, const char *s) {
    for (size_t i = 0; i < gp->n_node; i++)
        if (gp->node[i]->name && strcmp(gp->node[i]->name, s) == 0) return 1;
    return 0;
}

/* Whether a name is read by any node or is a graph output. */
static int name_used(const Onnx__GraphProto *gp, const char *s) {
    for (size_t i = 0; i < gp->n_node; i++)
        for (size_t j = 0; j < gp->node[i]->n_input; j++)
            if (gp->node[i]->input[j] && strcmp(gp->node[i]->input[j], s) == 0) return 1;
    for (size_t i = 0; i < gp->n_output; i++)
        if (gp->output[i]->name && strcmp(gp->output[i]->name, s) == 0) return 1;
    return 0;
}

/* ---- references ----------------------------------------------------------- */

typedef enum { REF_NONE = 0, REF_CONST = 1, REF_VALUE = 2 } ref_kind;
typedef struct {
    ref_kind kind;
    int idx; /* constant index or graph value index */
} ref;

static nns_status resolve(const nns_onnx_loader *L, const char *nn, const char *name, ref *r) {
    r->kind = REF_NONE;
    r->idx = -1;
    if (!name || !*name) return NNS_OK;
    int k = nns_onnx_const_find(L, name);
    if (k >= 0) {
        r->kind = REF_CONST;
        r->idx = k;
        return NNS_OK;
    }
    int v = nns_graph_find_value(L->g, name);
    if (v >= 0 && (L->g->values[v].kind != NNS_VALUE_KIND_ACT || L->g->values[v].producer >= 0)) {
        r->kind = REF_VALUE;
        r->idx = v;
        return NNS_OK;
    }
    return LERR(NNS_STATUS_FORMAT, "node '%s': input '%s' is not defined", nn, name);
}

static const nns_shape *ref_shape(const nns_onnx_loader *L, const ref *r) {
    if (r->kind == REF_CONST) return &L->k[r->idx].shape;
    if (r->kind == REF_VALUE) return &L->g->values[r->idx].shape;
    return NULL;
}

/* ---- Constant, Shape ----------------------------------------------------- */

static nns_status fold_constant(nns_onnx_loader *L, const Onnx__NodeProto *np, const char *nn) {
    nns_onnx_const c;
    memset(&c, 0, sizeof c);
    c.gidx = -1;
    c.origin = NNS_ONNX_ORIGIN_CONSTANT;
    nns_status st = NNS_OK;
    if (np->n_attribute != 1)
        return LERR(NNS_STATUS_FORMAT, "node '%s' (Constant): expected exactly one attribute", nn);
    const Onnx__AttributeProto *a = np->attribute[0];
    const char *an = a->name ? a->name : "";
    if (strcmp(an, "value") == 0 && a->t) {
        st = tensor_read(L, a->t, nn, &c);
    } else if (strcmp(an, "value_float") == 0 || strcmp(an, "value_int") == 0) {
        int fl = an[6] == 'f';
        c.dtype = fl ? NNS_DTYPE_F32 : NNS_DTYPE_S64;
        c.data = malloc(8);
        if (!c.data) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
        if (fl) *(float *)c.data = a->f;
        else *(int64_t *)c.data = a->i;
    } else if (strcmp(an, "value_floats") == 0 || strcmp(an, "value_ints") == 0) {
        int fl = an[6] == 'f';
        size_t n = fl ? a->n_floats : a->n_ints;
        c.dtype = fl ? NNS_DTYPE_F32 : NNS_DTYPE_S64;
        c.shape.ndim = 1;
        c.shape.dims[0] = (int64_t)n;
        c.data = malloc((n ? n : 1) * 8);
        if (!c.data) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
        if (n) memcpy(c.data, fl ? (const void *)a->floats : (const void *)a->ints, n * (fl ? 4 : 8));
    } else {
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (Constant): attribute '%s' is not supported", nn, an);
    }
    if (st) return st;
    if (nns_onnx_const_push(L, &c, np->output[0]) < 0)
        return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
    return NNS_OK;
}

static nns_status fold_shape(nns_onnx_loader *L, const Onnx__NodeProto *np, const char *nn,
                             const ref *x) {
    if (x->kind == REF_NONE) return LERR(NNS_STATUS_FORMAT, "node '%s' (Shape): no input", nn);
    if (x->kind == REF_CONST) {
        nns_status st = const_get(L, x->idx);
        if (st) return st;
    }
    const nns_shape *s = ref_shape(L, x);
    int64_t r = s->ndim, start = 0, end = r;
    if (L->opset >= 15) {
        start = nns_onnx_attr_int(np, "start", 0);
        end = nns_onnx_attr_int(np, "end", r);
        if (start < 0) start += r;
        if (end < 0) end += r;
        start = start < 0 ? 0 : start > r ? r : start;
        end = end < 0 ? 0 : end > r ? r : end;
        if (end < start) end = start;
    }
    nns_onnx_const c;
    memset(&c, 0, sizeof c);
    c.gidx = -1;
    c.origin = NNS_ONNX_ORIGIN_FOLDED;
    c.dtype = NNS_DTYPE_S64;
    c.shape.ndim = 1;
    c.shape.dims[0] = end - start;
    c.data = calloc((size_t)(r ? r : 1), sizeof(int64_t));
    c.sym = malloc((size_t)(r ? r : 1) * 2 * sizeof(int));
    if (!c.data || !c.sym) {
        nns_onnx_const_clear(&c);
        return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
    }
    for (int64_t i = start; i < end; i++) {
        int64_t d = s->dims[i], j = i - start;
        ((int64_t *)c.data)[j] = d < 0 ? 0 : d;
        c.sym[2 * j] = d < 0 ? (x->kind == REF_VALUE ? x->idx : -1) : -1;
        c.sym[2 * j + 1] = (int)i;
        if (d < 0 && x->kind != REF_VALUE) {
            nns_onnx_const_clear(&c);
            return LERR(NNS_STATUS_INTERNAL, "node '%s': constant with a dynamic dim", nn);
        }
    }
    if (nns_onnx_const_push(L, &c, np->output[0]) < 0)
        return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
    return NNS_OK;
}

/* A new s64 constant "<node>_<suffix>" of shape s holding v (taken, freed
 * on failure), its index in *ki: a Reshape's rewritten target. */
static nns_status push_shape(nns_onnx_loader *L, const char *nn, const char *suffix, const nns_shape *s, int64_t *v,
                             int *ki) {
    nns_onnx_const r;
    memset(&r, 0, sizeof r);
    r.gidx = -1;
    r.origin = NNS_ONNX_ORIGIN_FOLDED;
    r.dtype = NNS_DTYPE_S64;
    r.shape = *s;
    r.data = v;
    char name[256], base[240];
    snprintf(base, sizeof base, "%.200s_%.30s", nn, suffix);
    unique_value_name(L, base, name, sizeof name);
    const int k = nns_onnx_const_push(L, &r, name);
    if (k < 0) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
    *ki = k;
    return NNS_OK;
}

/* Replace the partly symbolic shape constant *ki feeding Reshape node nn (data
 * input x) by a plain constant: a symbolic element at position j becomes 0
 * ("copy dim j of the input") when it is dim j of the input itself, or when
 * both it and the input's dim j are dynamic (the batch); one remaining
 * unknown element becomes -1. */
static nns_status resolve_reshape(nns_onnx_loader *L, const char *nn, const ref *x, int allowzero,
                                  int *ki) {
    const nns_onnx_const *c = &L->k[*ki];
    if (!nns_onnx_is_int(c->dtype) || c->shape.ndim != 1)
        return LERR(NNS_STATUS_FORMAT, "node '%s' (Reshape): shape must be a 1-D integer tensor", nn);
    const nns_shape *xs = ref_shape(L, x);
    int64_t n = c->shape.dims[0];
    int64_t *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
    int unresolved = -1, n_unres = 0, has_m1 = 0;
    for (int64_t j = 0; j < n; j++) {
        v[j] = ((const int64_t *)c->data)[j];
        if (c->sym[2 * j] < 0) {
            has_m1 |= v[j] == -1;
            continue;
        }
        int sv = c->sym[2 * j], sd = c->sym[2 * j + 1];
        int same = x->kind == REF_VALUE && sv == x->idx && sd == j;
        int both_dyn = xs && j < xs->ndim && xs->dims[j] < 0 && sd < L->g->values[sv].shape.ndim &&
                       L->g->values[sv].shape.dims[sd] < 0;
        if (!allowzero && (same || both_dyn)) {
            v[j] = 0;
        } else {
            unresolved = (int)j;
            n_unres++;
        }
    }
    if (n_unres == 1 && !has_m1) {
        v[unresolved] = -1;
    } else if (n_unres) {
        free(v);
        return LERR(NNS_STATUS_UNSUPPORTED,
                    "node '%s' (Reshape): target shape depends on dynamic dimensions that cannot be "
                    "resolved at load time", nn);
    }
    return push_shape(L, nn, "shape", &c->shape, v, ki);
}

/* A float scalar constant named after the node (for Clip/Dropout attributes
 * moved to inputs). Returns its index in *ki. */
static nns_status scalar_const(nns_onnx_loader *L, const char *nn, const char *suffix, float val,
                               int *ki) {
    nns_onnx_const c;
    memset(&c, 0, sizeof c);
    c.gidx = -1;
    c.origin = NNS_ONNX_ORIGIN_FOLDED;
    c.dtype = NNS_DTYPE_F32;
    c.data = malloc(sizeof(float));
    if (!c.data) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
    *(float *)c.data = val;
    char name[256], base[240];
    snprintf(base, sizeof base, "%.200s_%.30s", nn, suffix);
    unique_value_name(L, base, name, sizeof name);
    *ki = nns_onnx_const_push(L, &c, name);
    if (*ki < 0) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
    return NNS_OK;
}

/* ---- attributes ----------------------------------------------------------- */

static int attr_type(const Onnx__AttributeProto *a) {
    if (a->has_type) return (int)a->type;
    if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    return 0;
}

static nns_status copy_attr(nns_onnx_loader *L, int ni, const char *nn, const char *op,
                            const Onnx__AttributeProto *a) {
    nns_graph *g = L->g;
    const char *an = a->name;
    nns_status st;
    switch (attr_type(a)) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        st = nns_graph_set_attr_float(g, ni, an, a->f);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        st = nns_graph_set_attr_int(g, ni, an, a->i);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
        char *s = malloc(a->s.len + 1);
        if (!s) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", nn);
        if (a->s.len) memcpy(s, a->s.data, a->s.len);
        s[a->s.len] = 0;
        st = nns_graph_set_attr_string(g, ni, an, s);
        free(s);
        break;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        if (a->n_floats > 1u << 24) return LERR(NNS_STATUS_UNSUPPORTED, "node '%s': attribute '%s' too long", nn, an);
        st = nns_graph_set_attr_floats(g, ni, an, (int)a->n_floats, a->floats);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        if (a->n_ints > 1u << 24) return LERR(NNS_STATUS_UNSUPPORTED, "node '%s': attribute '%s' too long", nn, an);
        st = nns_graph_set_attr_ints(g, ni, an, (int)a->n_ints, a->ints);
        break;
    default:
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): attribute '%s' has an unsupported type (%d)",
                    nn, op, an, attr_type(a));
    }
    return st ? wrap(L, st) : NNS_OK;
}

/* ---- nodes ----------------------------------------------------------------- */

#define MAX_SKIP 12

/* One ONNX node on its way into the graph. */
typedef struct node_ctx {
    nns_onnx_loader *L;
    const Onnx__GraphProto *gp;
    const Onnx__NodeProto *np;
    const char *nn, *op;
    int n_in, n_out;
    ref refs[NNS_MAX_NODE_IO];
    int kin[NNS_MAX_NODE_IO]; /* constant index per input, or -1 */
    const char *skip[MAX_SKIP]; /* attributes not copied */
    int n_skip;
    int axis_set;             /* set attribute 'axis' to axis after copying */
    int64_t axis;
} node_ctx;

/* ---- normalisation to opset-13 semantics: one function per change ---------- */

/* Clip < 11: min and max attributes become constant inputs. */
static nns_status norm_clip_attrs(node_ctx *c) {
    const Onnx__AttributeProto *amin = nns_onnx_attr(c->np, "min"), *amax = nns_onnx_attr(c->np, "max");
    nns_status st;
    c->skip[c->n_skip++] = "min";
    c->skip[c->n_skip++] = "max";
    c->n_in = 1;
    c->refs[1].kind = c->refs[2].kind = REF_NONE;
    c->kin[1] = c->kin[2] = -1;
    if (amin) {
        if ((st = scalar_const(c->L, c->nn, "min", amin->f, &c->kin[1]))) return st;
        c->refs[1].kind = REF_CONST;
        c->n_in = 2;
    }
    if (amax) {
        if ((st = scalar_const(c->L, c->nn, "max", amax->f, &c->kin[2]))) return st;
        c->refs[2].kind = REF_CONST;
        c->n_in = 3;
    }
    return NNS_OK;
}

/* Dropout < 12: the ratio attribute becomes a constant input. */
static nns_status norm_dropout_attrs(node_ctx *c) {
    const Onnx__AttributeProto *ar = nns_onnx_attr(c->np, "ratio");
    c->skip[c->n_skip++] = "ratio";
    c->skip[c->n_skip++] = "is_test";
    if (ar) {
        nns_status st = scalar_const(c->L, c->nn, "ratio", ar->f, &c->kin[1]);
        if (st) return st;
        c->refs[1].kind = REF_CONST;
        c->n_in = 2;
    }
    return NNS_OK;
}

/* Dropout >= 12: a constant training_mode false is the default (dropped);
 * true is a training graph. */
static nns_status norm_dropout_mode(node_ctx *c) {
    nns_onnx_loader *L = c->L;
    if (c->n_in < 3 || c->kin[2] < 0) return NNS_OK;
    const nns_onnx_const *k = &L->k[c->kin[2]];
    int64_t n = nns_onnx_numel(&k->shape);
    size_t es = nns_onnx_store_size(k->dtype);
    for (int64_t j = 0; j < n * (int64_t)es; j++)
        if (((const unsigned char *)k->data)[j])
            return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (Dropout): training_mode=true is not supported", c->nn);
    c->n_in = 2;
    while (c->n_in > 1 && c->refs[c->n_in - 1].kind == REF_NONE) c->n_in--;
    return NNS_OK;
}

/* Softmax / LogSoftmax < 13 flatten from axis on: the same as a softmax
 * over one axis only when every later dim is 1. */
static nns_status norm_softmax_axis(node_ctx *c) {
    nns_onnx_loader *L = c->L;
    const nns_shape *xs = ref_shape(L, &c->refs[0]);
    int r = xs ? xs->ndim : 0;
    int64_t a = nns_onnx_attr_int(c->np, "axis", 1);
    if (a < 0) a += r;
    if (a < 0 || a >= r)
        return LERR(NNS_STATUS_FORMAT, "node '%s' (%s): axis out of range for rank %d", c->nn, c->op, r);
    for (int d = (int)a + 1; d < r; d++)
        if (xs->dims[d] != 1)
            return LERR(NNS_STATUS_UNSUPPORTED,
                        "node '%s' (%s, opset %lld): axis %lld of a rank-%d input flattens the trailing "
                        "dims; only a softmax over the last non-unit dim can be converted", c->nn, c->op,
                        (long long)L->opset, (long long)a, r);
    c->axis_set = 1;
    c->axis = a == r - 1 ? -1 : a;
    c->skip[c->n_skip++] = "axis";
    return NNS_OK;
}

/* BatchNormalization, any opset: inference only, old attributes dropped. */
static nns_status norm_batchnorm(node_ctx *c) {
    nns_onnx_loader *L = c->L;
    const char *nn = c->nn;
    if (nns_onnx_attr_int(c->np, "spatial", 1) != 1)
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (BatchNormalization): spatial=0 is not supported", nn);
    if (nns_onnx_attr_int(c->np, "training_mode", 0) != 0)
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (BatchNormalization): training_mode=1 is not supported", nn);
    c->skip[c->n_skip++] = "spatial";
    c->skip[c->n_skip++] = "training_mode";
    c->skip[c->n_skip++] = "is_test";
    c->skip[c->n_skip++] = "consumed_inputs";
    for (int j = 1; j < c->n_out; j++)
        if (c->np->output[j] && *c->np->output[j] && name_used(c->gp, c->np->output[j]))
            return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (BatchNormalization): training outputs ('%s') are not supported",
                        nn, c->np->output[j]);
    c->n_out = 1;
    return NNS_OK;
}

/* With the batch freed (nns_onnx_loader.free_batch): a constant Reshape
 * target [1, ...] of a tensor whose dim 0 is the batch copies the batch
 * ([0, ...]): the 1 was the exported batch (PyTorch's x.view(x.size(0),
 * -1) exports so). */
static nns_status batch_reshape(node_ctx *c) {
    nns_onnx_loader *L = c->L;
    const nns_onnx_const *k = &L->k[c->kin[1]];
    const nns_shape *xs = ref_shape(L, &c->refs[0]);
    if (!xs || xs->ndim < 1 || xs->dims[0] >= 0 || !nns_onnx_is_int(k->dtype) || k->shape.ndim != 1 ||
        k->shape.dims[0] < 2 || ((const int64_t *)k->data)[0] != 1 || nns_onnx_const_has_sym(k))
        return NNS_OK;
    const int64_t n = k->shape.dims[0];
    int64_t *v = malloc((size_t)n * sizeof *v);
    if (!v) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", c->nn);
    memcpy(v, k->data, (size_t)n * sizeof *v);
    v[0] = 0;
    return push_shape(L, c->nn, "batch_shape", &k->shape, v, &c->kin[1]);
}

/* Reshape, any opset: a shape computed from the batch is resolved;
 * allowzero=1 is refused where it would change the meaning of a 0. */
static nns_status norm_reshape(node_ctx *c) {
    nns_onnx_loader *L = c->L;
    int64_t allowzero = nns_onnx_attr_int(c->np, "allowzero", 0);
    c->skip[c->n_skip++] = "allowzero";
    if (c->n_in < 2 || c->kin[1] < 0) {
        if (allowzero)
            return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (Reshape): allowzero=1 with a computed shape", c->nn);
        return NNS_OK;
    }
    nns_status st = const_get(L, c->kin[1]);
    if (st) return st;
    if (nns_onnx_const_has_sym(&L->k[c->kin[1]]) &&
        (st = resolve_reshape(L, c->nn, &c->refs[0], allowzero != 0, &c->kin[1])))
        return st;
    if (L->freed && !allowzero && (st = batch_reshape(c))) return st;
    if (allowzero) {
        const nns_onnx_const *k = &L->k[c->kin[1]];
        int64_t n = nns_onnx_numel(&k->shape);
        for (int64_t j = 0; j < n && nns_onnx_is_int(k->dtype); j++)
            if (((const int64_t *)k->data)[j] == 0)
                return LERR(NNS_STATUS_UNSUPPORTED,
                            "node '%s' (Reshape): allowzero=1 with a 0 in the shape is not supported", c->nn);
    }
    return NNS_OK;
}

/* Which change applies to which op at which opsets ([from, below)). */
static const struct {
    const char *op;
    int64_t from, below;
    nns_status (*fn)(node_ctx *c);
} normalisers[] = {
    {"Clip", 0, 11, norm_clip_attrs},
    {"Dropout", 0, 12, norm_dropout_attrs},
    {"Dropout", 12, INT64_MAX, norm_dropout_mode},
    {"Softmax", 0, 13, norm_softmax_axis},
    {"LogSoftmax", 0, 13, norm_softmax_axis},
    {"Hardmax", 0, 13, norm_softmax_axis},
    {"BatchNormalization", 0, INT64_MAX, norm_batchnorm},
    {"Reshape", 0, INT64_MAX, norm_reshape},
};

static nns_status normalise(node_ctx *c) {
    for (size_t i = 0; i < sizeof normalisers / sizeof normalisers[0]; i++)
        if (strcmp(c->op, normalisers[i].op) == 0 && c->L->opset >= normalisers[i].from &&
            c->L->opset < normalisers[i].below) {
            nns_status st = normalisers[i].fn(c);
            if (st) return st;
        }
    return NNS_OK;
}

/* ---- opsets 1..6 ------------------------------------------------------------ */

/* The ops read at opsets 1..6: those whose meaning opset 7 kept, apart
 * from what legacy_node converts (the binary ops' broadcast attribute,
 * Reshape's shape attribute, Concat's default axis, PRelu's slope per
 * channel, BatchNormalization's is_test; consumed_inputs is dropped). */
static const char *const legacy_ops[] = {
    "Abs", "Add", "And", "AveragePool", "BatchNormalization", "Ceil", "Clip", "Concat", "Conv", "ConvTranspose",
    "DepthToSpace", "Div", "Dropout", "Elu", "Equal", "Exp", "Flatten", "Floor", "Gather", "Gemm", "GlobalAveragePool",
    "GlobalMaxPool", "Greater", "HardSigmoid", "Identity", "InstanceNormalization", "LeakyRelu", "Less", "Log",
    "LogSoftmax", "LRN", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mul", "Neg", "Not", "Or", "Pad", "Pow", "PRelu",
    "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
    "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Selu", "Sigmoid", "Slice", "Softmax", "Softplus",
    "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Transpose", "Unsqueeze", "Xor",
    NULL};
static const char *const legacy_bcast_ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal",
                                               "Greater", "Less", NULL};

static int str_in(const char *const *l, const char *s) {
    for (; *l; l++)
        if (strcmp(*l, s) == 0) return 1;
    return 0;
}

/* Input `slot`, a constant, replaced by a copy of shape s (same elements). */
static nns_status legacy_reshape_const(node_ctx *c, int slot, const nns_shape *s) {
    nns_onnx_loader *L = c->L;
    nns_status st = const_get(L, c->kin[slot]);
    if (st) return st;
    const nns_onnx_const *k = &L->k[c->kin[slot]];
    const size_t bytes = (size_t)nns_onnx_numel(&k->shape) * nns_onnx_store_size(k->dtype);
    if (k->sym || !bytes)
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input %d '%s' cannot be reshaped for opset %lld",
                    c->nn, c->op, slot, k->name, (long long)L->opset);
    nns_onnx_const r;
    memset(&r, 0, sizeof r);
    r.gidx = -1;
    r.origin = NNS_ONNX_ORIGIN_FOLDED;
    r.dtype = k->dtype;
    r.shape = *s;
    if (!(r.data = malloc(bytes))) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", c->nn);
    memcpy(r.data, k->data, bytes);
    char name[256], base[240];
    snprintf(base, sizeof base, "%.200s_legacy%d", c->nn, slot);
    unique_value_name(L, base, name, sizeof name);
    const int ki = nns_onnx_const_push(L, &r, name);
    if (ki < 0) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", c->nn);
    c->kin[slot] = c->refs[slot].idx = ki;
    return NNS_OK;
}

/* Binary ops < 7: broadcast=1 aligns B at `axis` of A (default: its last
 * dims, numpy's rule); a constant B aligned earlier gets trailing unit dims.
 * broadcast=0 wants equal shapes, where numpy's rule agrees. */
static nns_status legacy_broadcast(node_ctx *c) {
    const nns_onnx_loader *L = c->L;
    c->skip[c->n_skip++] = "broadcast";
    c->skip[c->n_skip++] = "axis";
    if (!nns_onnx_attr_int(c->np, "broadcast", 0) || c->n_in < 2) return NNS_OK;
    const nns_shape *a = ref_shape(c->L, &c->refs[0]), *b = ref_shape(c->L, &c->refs[1]);
    if (!a || !b) return NNS_OK;
    int64_t axis = nns_onnx_attr_int(c->np, "axis", a->ndim - b->ndim);
    if (axis < 0) axis += a->ndim;
    if (axis < 0 || axis + b->ndim > a->ndim)
        return LERR(NNS_STATUS_SHAPE, "node '%s' (%s, opset %lld): axis %lld does not fit B of rank %d in A of rank %d",
                    c->nn, c->op, (long long)c->L->opset, (long long)axis, b->ndim, a->ndim);
    const int trail = a->ndim - (int)axis - b->ndim;
    if (!trail) return NNS_OK;
    if (c->kin[1] < 0)
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (%s, opset %lld): broadcast at axis %lld of a computed input "
                    "is not supported", c->nn, c->op, (long long)c->L->opset, (long long)axis);
    nns_shape s = *b;
    for (int i = 0; i < trail; i++) s.dims[s.ndim++] = 1;
    return legacy_reshape_const(c, 1, &s);
}

/* PRelu < 7: a 1-D slope of C values is per channel (axis 1). */
static nns_status legacy_prelu(node_ctx *c) {
    const nns_shape *x = ref_shape(c->L, &c->refs[0]), *w = c->n_in > 1 ? ref_shape(c->L, &c->refs[1]) : NULL;
    if (!x || !w || w->ndim != 1 || w->dims[0] == 1 || x->ndim < 3 || c->kin[1] < 0) return NNS_OK;
    nns_shape s = *w;
    while (s.ndim < x->ndim - 1) s.dims[s.ndim++] = 1;
    return legacy_reshape_const(c, 1, &s);
}

/* Reshape < 5: the shape attribute becomes a constant input. */
static nns_status legacy_reshape(node_ctx *c) {
    const nns_onnx_loader *L = c->L;
    const Onnx__AttributeProto *a = nns_onnx_attr(c->np, "shape");
    c->skip[c->n_skip++] = "shape";
    if (!a || c->n_in != 1) return NNS_OK;
    if (a->n_ints > NNS_MAX_DIMS)
        return LERR(NNS_STATUS_FORMAT, "node '%s' (Reshape): shape has %zu values", c->nn, a->n_ints);
    int64_t *v = malloc((a->n_ints ? a->n_ints : 1) * sizeof *v);
    if (!v) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", c->nn);
    for (size_t i = 0; i < a->n_ints; i++) v[i] = a->ints[i];
    const int64_t n = (int64_t)a->n_ints;
    const nns_shape s = nns_shape_make(1, &n);
    nns_status st = push_shape(c->L, c->nn, "shape", &s, v, &c->kin[1]);
    if (st) return st;
    c->refs[1].kind = REF_CONST;
    c->refs[1].idx = c->kin[1];
    c->n_in = 2;
    return NNS_OK;
}

/* Before folding: a node of an opset below 7 in today's terms, or refused. */
static nns_status legacy_node(node_ctx *c) {
    const nns_onnx_loader *L = c->L;
    const int64_t v = c->L->opset;
    if (v >= 7) return NNS_OK;
    if (!str_in(legacy_ops, c->op))
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): opset %lld is read only for ops whose meaning opset 7 "
                    "kept; %s is not one", c->nn, c->op, (long long)v, c->op);
    c->skip[c->n_skip++] = "consumed_inputs";
    if (str_in(legacy_bcast_ops, c->op)) return legacy_broadcast(c);
    if (!strcmp(c->op, "Gemm")) c->skip[c->n_skip++] = "broadcast";
    if (!strcmp(c->op, "BatchNormalization") && !nns_onnx_attr_int(c->np, "is_test", 0))
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (BatchNormalization, opset %lld): is_test=0 (training "
                    "statistics) is not supported", c->nn, (long long)v);
    if (!strcmp(c->op, "Concat") && !nns_onnx_attr(c->np, "axis")) c->axis_set = 1, c->axis = 1;
    if (!strcmp(c->op, "Reshape") && v < 5) return legacy_reshape(c);
    if (!strcmp(c->op, "PRelu")) return legacy_prelu(c);
    return NNS_OK;
}

/* ---- the node's name, inputs and outputs ------------------------------------ */

/* com.microsoft's QLinearAdd and QLinearGlobalAveragePool (ONNX Runtime's
 * operator-form output), which the importer reads as QDQ. */
static int ms_quantized_op(const Onnx__NodeProto *np) {
    return np->domain && strcmp(np->domain, "com.microsoft") == 0 && np->op_type &&
           (strcmp(np->op_type, "QLinearAdd") == 0 || strcmp(np->op_type, "QLinearGlobalAveragePool") == 0);
}

/* The node's name (synthesised as OP_INDEX when empty) and basic checks. */
static nns_status node_header(node_ctx *c, size_t index, char *synth, size_t cap) {
    nns_onnx_loader *L = c->L;
    const Onnx__NodeProto *np = c->np;
    c->op = np->op_type;
    if (!c->op || !*c->op) return LERR(NNS_STATUS_FORMAT, "node %zu has no op_type", index);
    c->nn = np->name;
    if (!c->nn || !*c->nn) {
        snprintf(synth, cap, "%.200s_%zu", c->op, index);
        for (int k = 1; proto_node_named(c->gp, synth) || nns_graph_find_node(L->g, synth) >= 0; k++)
            snprintf(synth, cap, "%.200s_%zu_%d", c->op, index, k);
        c->nn = synth;
    }
    if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx") != 0 && !ms_quantized_op(np))
        return LERR(NNS_STATUS_UNSUPPORTED, "unsupported op '%s:%s' at node '%s'", np->domain, c->op, c->nn);
    if (np->n_output < 1 || !np->output[0] || !*np->output[0])
        return LERR(NNS_STATUS_FORMAT, "node '%s' (%s) has no output", c->nn, c->op);
    if (np->n_input > NNS_MAX_NODE_IO || np->n_output > NNS_MAX_NODE_IO)
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): too many inputs or outputs", c->nn, c->op);
    return NNS_OK;
}

/* Resolve the inputs (trailing empty names dropped); *all_const when every
 * one is a constant. */
static nns_status node_inputs(node_ctx *c, int *all_const) {
    const Onnx__NodeProto *np = c->np;
    c->n_in = (int)np->n_input;
    while (c->n_in > 0 && (!np->input[c->n_in - 1] || !*np->input[c->n_in - 1])) c->n_in--;
    *all_const = c->n_in > 0;
    for (int i = 0; i < c->n_in; i++) {
        nns_status st = resolve(c->L, c->nn, np->input[i], &c->refs[i]);
        if (st) return st;
        if (c->refs[i].kind == REF_VALUE) *all_const = 0;
        if (c->refs[i].kind == REF_CONST && (st = const_get(c->L, c->refs[i].idx))) return st;
    }
    for (int i = 0; i < NNS_MAX_NODE_IO; i++)
        c->kin[i] = i < c->n_in && c->refs[i].kind == REF_CONST ? c->refs[i].idx : -1;
    c->n_out = (int)np->n_output;
    return NNS_OK;
}

/* A node whose inputs are all constant, computed now. */
static nns_status fold_node(node_ctx *c) {
    nns_onnx_loader *L = c->L;
    const nns_onnx_const *in[NNS_MAX_NODE_IO];
    for (int i = 0; i < c->n_in; i++) in[i] = c->refs[i].kind == REF_CONST ? &L->k[c->refs[i].idx] : NULL;
    nns_onnx_const out;
    nns_status st = nns_onnx_fold(L, c->np, c->nn, c->n_in, in, &out);
    if (st) return wrap(L, st);
    if (nns_onnx_const_push(L, &out, c->np->output[0]) < 0)
        return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", c->nn);
    return NNS_OK;
}

/* The graph names of the inputs: constants enter the graph now. */
static nns_status bind_inputs(node_ctx *c, const char **ins) {
    nns_onnx_loader *L = c->L;
    for (int i = 0; i < c->n_in; i++) {
        const int k = c->kin[i];
        if (k >= 0) {
            nns_status st = const_get(L, k);
            if (st) return st;
            if (nns_onnx_const_has_sym(&L->k[k]))
                return LERR(NNS_STATUS_UNSUPPORTED,
                            "node '%s' (%s): input '%s' depends on a dynamic dimension (batch); only Reshape "
                            "shapes can be resolved", c->nn, c->op, L->k[k].name);
            if ((st = const_to_graph(L, k, L->k[k].dtype == NNS_DTYPE_F32))) return st;
            ins[i] = L->k[k].name;
        } else if (c->refs[i].kind == REF_VALUE) {
            ins[i] = L->g->values[c->refs[i].idx].name;
        } else {
            ins[i] = "";
        }
    }
    return NNS_OK;
}

/* The output names: trailing empty ones dropped, other empty ones named. */
static nns_status name_outputs(node_ctx *c, const char **outs, char (*onames)[64]) {
    nns_onnx_loader *L = c->L;
    const Onnx__NodeProto *np = c->np;
    while (c->n_out > 1 && (!np->output[c->n_out - 1] || !*np->output[c->n_out - 1])) c->n_out--;
    for (int j = 0; j < c->n_out; j++) {
        if (np->output[j] && *np->output[j]) {
            outs[j] = np->output[j];
            if (name_taken(L, outs[j]))
                return LERR(NNS_STATUS_FORMAT, "node '%s': output '%s' is already defined", c->nn, outs[j]);
        } else {
            char base[64];
            snprintf(base, sizeof base, "%.40s_out%d", c->nn, j);
            unique_value_name(L, base, onames[j], sizeof onames[j]);
            outs[j] = onames[j];
        }
    }
    return NNS_OK;
}

/* Copy the attributes that normalisation did not consume onto node ni. */
static nns_status copy_attrs(node_ctx *c, int ni) {
    nns_onnx_loader *L = c->L;
    for (size_t a = 0; a < c->np->n_attribute; a++) {
        const Onnx__AttributeProto *at = c->np->attribute[a];
        if (!at->name || !*at->name)
            return LERR(NNS_STATUS_FORMAT, "node '%s' (%s): attribute without a name", c->nn, c->op);
        int skipped = 0;
        for (int s = 0; s < c->n_skip; s++) skipped |= strcmp(c->skip[s], at->name) == 0;
        if (skipped) continue;
        if (at->ref_attr_name && *at->ref_attr_name)
            return LERR(NNS_STATUS_UNSUPPORTED, "node '%s': attribute references are not supported", c->nn);
        nns_status st = copy_attr(L, ni, c->nn, c->op, at);
        if (st) return st;
    }
    if (c->axis_set) {
        nns_status st = nns_graph_set_attr_int(L->g, ni, "axis", c->axis);
        if (st) return wrap(L, st);
    }
    return NNS_OK;
}

/* ---- 1-D windows as 2-D ones ----------------------------------------------- */

/* A 1-D Conv, MaxPool or AveragePool (input [N, C, L]). */
static int is_1d_window(const node_ctx *c) {
    if (strcmp(c->op, "Conv") && strcmp(c->op, "MaxPool") && strcmp(c->op, "AveragePool")) return 0;
    const nns_shape *x = ref_shape(c->L, &c->refs[0]);
    return x && x->ndim == 3;
}

/* Node name base, made unique among the graph's nodes. */
static void unique_node_name(const nns_onnx_loader *L, const char *base, char *buf, size_t len) {
    snprintf(buf, len, "%s", base);
    for (int k = 1; nns_graph_find_node(L->g, buf) >= 0; k++) snprintf(buf, len, "%s_%d", base, k);
}

/* Unsqueeze or Squeeze of `in` at axis 2 into `out` (a node of its own). */
static nns_status axis2_node(node_ctx *c, const char *op, const char *suffix, const char *in, const char *out) {
    nns_onnx_loader *L = c->L;
    int64_t *two = malloc(sizeof *two);
    if (!two) return LERR(NNS_STATUS_NOMEM, "node '%s': out of memory", c->nn);
    *two = 2;
    const int64_t one = 1;
    const nns_shape s = nns_shape_make(1, &one);
    int ki, ni;
    nns_status st = push_shape(L, c->nn, "axis2", &s, two, &ki);
    if (!st) st = const_to_graph(L, ki, 0);
    if (st) return st;
    char name[256], base[240];
    snprintf(base, sizeof base, "%.200s_%s", c->nn, suffix);
    unique_node_name(L, base, name, sizeof name);
    const char *ins[2] = {in, L->k[ki].name};
    if ((st = nns_graph_add_node(L->g, op, name, 2, ins, 1, &out, &ni)) || (st = nns_graph_infer_node(L->g, ni)))
        return wrap(L, st);
    return NNS_OK;
}

/* One window attribute of a 1-D op as its 2-D form: [v...] -> [lead, v0] per
 * axis (pads: [b, e] -> [0, b, 0, e]). */
static nns_status lift_attr(node_ctx *c, int ni, const char *name, int64_t lead) {
    const nns_onnx_loader *L = c->L;
    const Onnx__AttributeProto *a = nns_onnx_attr(c->np, name);
    const int pads = !strcmp(name, "pads");
    if (!a) return NNS_OK;
    if ((int)a->n_ints != (pads ? 2 : 1))
        return LERR(NNS_STATUS_FORMAT, "node '%s' (%s): attribute '%s' has %zu values for a 1-D window", c->nn, c->op,
                    name, a->n_ints);
    const int64_t v[4] = {lead, a->ints[0], lead, pads ? a->ints[1] : 0};
    nns_status st = nns_graph_set_attr_ints(L->g, ni, name, pads ? 4 : 2, v);
    return st ? wrap(L, st) : NNS_OK;
}

/* A 1-D window op as Unsqueeze (axis 2), the 2-D op with its attributes
 * lifted ([k] -> [1, k]; pads [b, e] -> [0, b, 0, e]) and a constant
 * weight [M, C, k] as [M, C, 1, k], then Squeeze (axis 2) into the
 * node's output: the data of [N, C, L] and [N, C, 1, L] are the same. */
static nns_status lift_1d(node_ctx *c) {
    nns_onnx_loader *L = c->L;
    static const char *const lifted[] = {"kernel_shape", "strides", "dilations", "pads"};
    if (c->n_out != 1)
        return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): a 1-D window with %d outputs", c->nn, c->op, c->n_out);
    nns_status st;
    if (!strcmp(c->op, "Conv")) {
        const nns_shape *w = ref_shape(L, &c->refs[1]);
        if (c->kin[1] < 0 || !w || w->ndim != 3)
            return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (Conv): a 1-D convolution needs a constant weight of rank 3",
                        c->nn);
        nns_shape s = *w;
        s.ndim = 4, s.dims[3] = w->dims[2], s.dims[2] = 1;
        if ((st = legacy_reshape_const(c, 1, &s))) return st;
    }
    for (int i = 0; i < 4; i++) c->skip[c->n_skip++] = lifted[i];
    const char *ins[NNS_MAX_NODE_IO], *outs[NNS_MAX_NODE_IO];
    char onames[NNS_MAX_NODE_IO][64], x2[256], y2[256], b2[240];
    if ((st = bind_inputs(c, ins)) || (st = name_outputs(c, outs, onames))) return st;
    snprintf(b2, sizeof b2, "%.200s_2d_in", c->nn);
    unique_value_name(L, b2, x2, sizeof x2);
    if ((st = axis2_node(c, "Unsqueeze", "to2d", ins[0], x2))) return st;
    snprintf(b2, sizeof b2, "%.200s_2d_out", c->nn);
    unique_value_name(L, b2, y2, sizeof y2);
    ins[0] = x2;
    const char *o2 = y2;
    int ni;
    if ((st = nns_graph_add_node(L->g, c->op, c->nn, c->n_in, ins, 1, &o2, &ni))) return wrap(L, st);
    if ((st = copy_attrs(c, ni))) return st;
    for (int i = 0; i < 4; i++)
        if ((st = lift_attr(c, ni, lifted[i], i == 3 ? 0 : 1))) return st;
    if ((st = nns_graph_infer_node(L->g, ni))) return wrap(L, st);
    return axis2_node(c, "Squeeze", "to1d", y2, outs[0]);
}

/* ---- operator-form quantized ops, read as QDQ ------------------------------- */

/* A Cast of an f16 or bf16 constant (a weight stored in 16 bits): kept as
 * a node, which sessions fold once (nns_graph_exec_copy), so that the
 * graph keeps the 16-bit weight. */
static int half_cast(const node_ctx *c) {
    if (strcmp(c->op, "Cast") != 0 || c->n_in != 1 || c->kin[0] < 0) return 0;
    const nns_dtype dt = c->L->k[c->kin[0]].dtype;
    return dt == NNS_DTYPE_F16 || dt == NNS_DTYPE_BF16;
}

/* A Cast of a computed value (ConvInteger's int32 sums in a
 * dynamic-quantization graph): a node, whose op converts to float and
 * refuses other targets by name. */
static int runtime_cast(const node_ctx *c) { return strcmp(c->op, "Cast") == 0 && c->n_in == 1 && c->kin[0] < 0; }

static nns_status process_node(nns_onnx_loader *L, const Onnx__GraphProto *gp, size_t index,
                               const Onnx__NodeProto *np);

/* A value name "<node>/<what>" not used by the loader, the graph or gp. */
static void synth_name(const nns_onnx_loader *L, const Onnx__GraphProto *gp, const char *nn, const char *what,
                       char *buf, size_t len) {
    char base[320];
    snprintf(base, sizeof base, "%.255s/%s", nn, what);
    unique_value_name(L, base, buf, len);
    for (int k = 1; name_used(gp, buf) || proto_node_named(gp, buf) || name_taken(L, buf) ||
                    nns_graph_find_node(L->g, buf) >= 0;
         k++)
        snprintf(buf, len, "%s_%d", base, k);
}

/* Run one synthesized node: op(ins) -> out, with attributes attrs (may be
 * NULL) and an optional 'axis'. */
static nns_status synth_node(nns_onnx_loader *L, const Onnx__GraphProto *gp, size_t index, const char *name,
                             const char *op, int n_in, const char *const *ins, const char *out,
                             Onnx__AttributeProto **attrs, size_t n_attrs, int64_t axis, int has_axis) {
    Onnx__NodeProto n;
    onnx__node_proto__init(&n);
    Onnx__AttributeProto ax, *list[NNS_MAX_NODE_IO + 16];
    onnx__attribute_proto__init(&ax);
    ax.name = (char *)"axis";
    ax.has_type = 1;
    ax.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    ax.has_i = 1;
    ax.i = axis;
    size_t k = 0;
    for (size_t i = 0; i < n_attrs && k < NNS_MAX_NODE_IO + 15; i++) list[k++] = attrs[i];
    if (has_axis) list[k++] = &ax;
    char nm[512];
    synth_name(L, gp, name, op, nm, sizeof nm);
    n.name = nm;
    n.op_type = (char *)op;
    n.n_input = (size_t)n_in;
    n.input = (char **)ins;
    n.n_output = 1;
    char *outs[1] = {(char *)out};
    n.output = outs;
    n.n_attribute = k;
    n.attribute = list;
    return process_node(L, gp, index, &n);
}

/* QLinearConv (x, xs, xz, w, ws, wz, ys, yz[, B]) and QLinearMatMul (a, as,
 * az, b, bs, bz, ys, yz) as DequantizeLinear of both operands, the float
 * op (Conv keeps the node's attributes; B, int32 at scale xs * ws, through
 * DequantizeLinear), QuantizeLinear to the output: what the operator form
 * computes, to float rounding. */
static nns_status expand_qlinear(nns_onnx_loader *L, const Onnx__GraphProto *gp, size_t index,
                                 const Onnx__NodeProto *np, const char *nn) {
    const int conv = strcmp(np->op_type, "QLinearConv") == 0;
    if (np->n_input < 8 || np->n_input > (conv ? 9u : 8u) || np->n_output != 1)
        return LERR(NNS_STATUS_FORMAT, "node '%s' (%s) needs 8%s inputs and one output", nn, np->op_type, conv ? " or 9" : "");
    char *const *in = np->input;
    char xd[512], wd[512], bs[512], bd[512], yf[512];
    synth_name(L, gp, nn, "x_dequantized", xd, sizeof xd);
    synth_name(L, gp, nn, "w_dequantized", wd, sizeof wd);
    synth_name(L, gp, nn, "y_float", yf, sizeof yf);
    /* a 1-D weight scale: per output channel (Conv's dim 0) or per column (MatMul's last dim) */
    const int64_t waxis = conv ? 0 : -1;
    const char *dx[3] = {in[0], in[1], in[2]}, *dw[3] = {in[3], in[4], in[5]};
    nns_status st = synth_node(L, gp, index, nn, "DequantizeLinear", 3, dx, xd, NULL, 0, 0, 0);
    if (!st) st = synth_node(L, gp, index, nn, "DequantizeLinear", 3, dw, wd, NULL, 0, waxis, 1);
    int n_op_in = 2;
    const char *op_in[3] = {xd, wd, NULL};
    if (!st && conv && np->n_input == 9 && in[8] && *in[8]) {
        synth_name(L, gp, nn, "bias_scale", bs, sizeof bs);
        synth_name(L, gp, nn, "bias_dequantized", bd, sizeof bd);
        const char *mul[2] = {in[1], in[4]}, *db[2] = {in[8], bs};
        st = synth_node(L, gp, index, nn, "Mul", 2, mul, bs, NULL, 0, 0, 0);
        if (!st) st = synth_node(L, gp, index, nn, "DequantizeLinear", 2, db, bd, NULL, 0, 0, 1);
        op_in[2] = bd;
        n_op_in = 3;
    }
    if (!st) st = synth_node(L, gp, index, nn, conv ? "Conv" : "MatMul", n_op_in, op_in, yf, conv ? np->attribute : NULL,
                             conv ? np->n_attribute : 0, 0, 0);
    const char *q[3] = {yf, in[6], in[7]};
    if (!st) st = synth_node(L, gp, index, nn, "QuantizeLinear", 3, q, np->output[0], NULL, 0, 0, 0);
    return st;
}

/* com.microsoft QLinearAdd (a, as, az, b, bs, bz, ys, yz) and
 * QLinearGlobalAveragePool (x, xs, xz, ys, yz; channels_last 0) as
 * DequantizeLinear of the operands, the float op, QuantizeLinear: their
 * definition. */
static nns_status expand_ms_quantized(nns_onnx_loader *L, const Onnx__GraphProto *gp, size_t index,
                                      const Onnx__NodeProto *np, const char *nn) {
    const int add = strcmp(np->op_type, "QLinearAdd") == 0, n_in = add ? 8 : 5;
    if ((np->n_input != (size_t)n_in && !(add && np->n_input == 7)) || np->n_output != 1)
        return LERR(NNS_STATUS_FORMAT, "node '%s' (%s) needs %d inputs and one output", nn, np->op_type, n_in);
    for (size_t i = 0; i < np->n_attribute; i++)
        if (np->attribute[i]->name && strcmp(np->attribute[i]->name, "channels_last") == 0 && np->attribute[i]->i != 0)
            return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): channels_last=1 is not supported", nn, np->op_type);
    char *const *in = np->input;
    char ad[512], bd[512], yf[512];
    synth_name(L, gp, nn, "a_dequantized", ad, sizeof ad);
    synth_name(L, gp, nn, "b_dequantized", bd, sizeof bd);
    synth_name(L, gp, nn, "y_float", yf, sizeof yf);
    const char *da[3] = {in[0], in[1], in[2]}, *db[3] = {"", "", ""};
    if (add) db[0] = in[3], db[1] = in[4], db[2] = in[5]; /* a pool has 5 inputs */
    nns_status st = synth_node(L, gp, index, nn, "DequantizeLinear", 3, da, ad, NULL, 0, 0, 0);
    if (!st && add) st = synth_node(L, gp, index, nn, "DequantizeLinear", 3, db, bd, NULL, 0, 0, 0);
    const char *op_in[2] = {ad, bd};
    if (!st) st = synth_node(L, gp, index, nn, add ? "Add" : "GlobalAveragePool", add ? 2 : 1, op_in, yf, NULL, 0, 0, 0);
    const char *q[3] = {yf, in[add ? 6 : 3], add && np->n_input == 7 ? "" : in[add ? 7 : 4]};
    if (!st) st = synth_node(L, gp, index, nn, "QuantizeLinear", q[2][0] ? 3 : 2, q, np->output[0], NULL, 0, 0, 0);
    return st;
}

static nns_status process_node(nns_onnx_loader *L, const Onnx__GraphProto *gp, size_t index,
                               const Onnx__NodeProto *np) {
    node_ctx c;
    memset(&c, 0, sizeof c);
    c.L = L;
    c.gp = gp;
    c.np = np;
    char synth[256];
    nns_status st = node_header(&c, index, synth, sizeof synth);
    if (st) return st;
    if (strcmp(c.op, "Constant") == 0) return fold_constant(L, np, c.nn);
    if (strcmp(c.op, "QLinearConv") == 0 || strcmp(c.op, "QLinearMatMul") == 0) return expand_qlinear(L, gp, index, np, c.nn);
    if (ms_quantized_op(np)) return expand_ms_quantized(L, gp, index, np, c.nn);
    int all_const;
    if ((st = node_inputs(&c, &all_const)) || (st = legacy_node(&c))) return st;
    if (strcmp(c.op, "Shape") == 0) return fold_shape(L, np, c.nn, &c.refs[0]);
    const int half = half_cast(&c) || runtime_cast(&c); /* a weight stored in 16 bits stays so: a node */
    if (all_const && nns_onnx_foldable(c.op) && !half) return fold_node(&c);
    const int op = nns_op_lookup(c.op);
    if ((nns_onnx_fold_only(c.op) && !half) || op < 0 || nns_op_table[op]->internal)
        return LERR(NNS_STATUS_UNSUPPORTED, "unsupported op '%s' at node '%s'%s", c.op, c.nn,
                    nns_onnx_fold_only(c.op) ? " (supported only on constant inputs)"
                    : op >= 0           ? " (an op internal to nnslim)"
                                        : "");
    if ((st = normalise(&c))) return st;
    if (is_1d_window(&c)) return lift_1d(&c);
    const char *ins[NNS_MAX_NODE_IO], *outs[NNS_MAX_NODE_IO];
    char onames[NNS_MAX_NODE_IO][64];
    if ((st = bind_inputs(&c, ins)) || (st = name_outputs(&c, outs, onames))) return st;
    int ni;
    if ((st = nns_graph_add_node(L->g, c.op, c.nn, c.n_in, ins, c.n_out, outs, &ni))) return wrap(L, st);
    if ((st = copy_attrs(&c, ni))) return st;
    st = nns_graph_infer_node(L->g, ni);
    return st ? wrap(L, st) : NNS_OK;
}

/* ---- model ----------------------------------------------------------------- */

/* 1 if nnslim reads op type `op` of the default domain in some form. */
static int known_op(const char *op) {
    static const char *const special[] = {"Constant", "QLinearConv", "QLinearMatMul", "Shape"};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        if (strcmp(op, special[i]) == 0) return 1;
    const int id = nns_op_lookup(op);
    return (id >= 0 && !nns_op_table[id]->internal) || nns_onnx_foldable(op) || nns_onnx_fold_only(op);
}

/* Before anything is built: when the graph uses two or more op types that
 * nnslim does not have, one error names them all (each with its node
 * count and first node); a single one is reported where it is met. */
#define UNKNOWN_MAX 24
static nns_status unknown_ops(nns_onnx_loader *L, const Onnx__GraphProto *gp) {
    const char *op[UNKNOWN_MAX], *first[UNKNOWN_MAX];
    size_t count[UNKNOWN_MAX], first_i[UNKNOWN_MAX];
    int n = 0, more = 0;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        if (!np->op_type || !*np->op_type || ms_quantized_op(np)) continue;
        if ((!np->domain || !*np->domain || strcmp(np->domain, "ai.onnx") == 0) && known_op(np->op_type)) continue;
        int k = 0;
        while (k < n && strcmp(op[k], np->op_type) != 0) k++;
        if (k == n && n == UNKNOWN_MAX) {
            more = 1;
            continue;
        }
        if (k == n) op[n] = np->op_type, first[n] = np->name, first_i[n] = i, count[n++] = 0;
        count[k]++;
    }
    if (n < 2) return NNS_OK;
    char msg[2048];
    size_t at = 0;
    for (int k = 0; k < n && at < sizeof msg; k++) {
        char nm[160];
        if (first[k] && *first[k]) snprintf(nm, sizeof nm, "'%.120s'", first[k]);
        else snprintf(nm, sizeof nm, "%.100s_%zu", op[k], first_i[k]);
        if (count[k] > 1)
            at += (size_t)snprintf(msg + at, sizeof msg - at, "%s%.60s (%zu nodes, first %s)", k ? ", " : "", op[k],
                                   count[k], nm);
        else
            at += (size_t)snprintf(msg + at, sizeof msg - at, "%s%.60s (node %s)", k ? ", " : "", op[k], nm);
    }
    return LERR(NNS_STATUS_UNSUPPORTED, "%d op types nnslim does not have: %s%s", n, msg, more ? ", and more" : "");
}

/* Order node indices topologically (stable). Names nobody produces count as
 * available, so that the walk reports them as undefined with context. */
static nns_status sort_nodes(const nns_onnx_loader *L, const Onnx__GraphProto *gp, size_t *order) {
    size_t nn = gp->n_node;
    /* producer[i][j]: node producing input j of node i, or -1 */
    char *done = calloc(nn ? nn : 1, 1);
    long *prod_of = NULL;
    size_t total_in = 0;
    for (size_t i = 0; i < nn; i++) total_in += gp->node[i]->n_input;
    prod_of = malloc((total_in ? total_in : 1) * sizeof *prod_of);
    if (!done || !prod_of) {
        free(done);
        free(prod_of);
        return LERR(NNS_STATUS_NOMEM, "out of memory sorting %zu nodes", nn);
    }
    /* Map names to producers with a small open-addressing hash table. */
    size_t cap = 16;
    while (cap < 4 * (nn + 1)) cap *= 2;
    struct slot { const char *name; long node; } *tab = calloc(cap, sizeof *tab);
    if (!tab) {
        free(done);
        free(prod_of);
        return LERR(NNS_STATUS_NOMEM, "out of memory sorting %zu nodes", nn);
    }
#define HASH(s, h) do { h = 1469598103934665603ull; for (const char *p_ = (s); *p_; p_++) \
        h = (h ^ (unsigned char)*p_) * 1099511628211ull; } while (0)
    for (size_t i = 0; i < nn; i++)
        for (size_t j = 0; j < gp->node[i]->n_output; j++) {
            const char *s = gp->node[i]->output[j];
            if (!s || !*s) continue;
            uint64_t h;
            HASH(s, h);
            size_t k = h & (cap - 1);
            while (tab[k].name && strcmp(tab[k].name, s) != 0) k = (k + 1) & (cap - 1);
            if (!tab[k].name) {
                tab[k].name = s;
                tab[k].node = (long)i;
            }
        }
    size_t t = 0;
    for (size_t i = 0; i < nn; i++)
        for (size_t j = 0; j < gp->node[i]->n_input; j++) {
            const char *s = gp->node[i]->input[j];
            long p = -1;
            if (s && *s) {
                uint64_t h;
                HASH(s, h);
                size_t k = h & (cap - 1);
                while (tab[k].name && strcmp(tab[k].name, s) != 0) k = (k + 1) & (cap - 1);
                if (tab[k].name) p = tab[k].node;
            }
            prod_of[t++] = p;
        }
#undef HASH
    free(tab);
    size_t k = 0;
    int progress = 1;
    while (k < nn && progress) {
        progress = 0;
        size_t base = 0;
        for (size_t i = 0; i < nn; i++) {
            size_t ni_in = gp->node[i]->n_input;
            if (!done[i]) {
                int ready = 1;
                for (size_t j = 0; j < ni_in && ready; j++) {
                    long p = prod_of[base + j];
                    if (p >= 0 && !done[p]) ready = 0;
                }
                if (ready) {
                    done[i] = 1;
                    order[k++] = i;
                    progress = 1;
                }
            }
            base += ni_in;
        }
    }
    nns_status st = NNS_OK;
    if (k < nn) {
        for (size_t i = 0; i < nn; i++)
            if (!done[i]) {
                const char *nm = gp->node[i]->name ? gp->node[i]->name : "";
                st = LERR(NNS_STATUS_FORMAT, "node '%s' (%s) is part of a cycle", nm,
                          gp->node[i]->op_type ? gp->node[i]->op_type : "?");
                break;
            }
    }
    free(done);
    free(prod_of);
    return st;
}

/* A scalar operand of elementwise arithmetic (x * 0.5, x + 1) is a constant
 * of the model, not a weight to train. (The op table's nontrainable_inputs,
 * BatchNorm statistics, Clip bounds, Dropout's ratio, are applied by
 * nns_graph_finalize.) */
static void fix_trainable(nns_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        const nns_op_def *def = nns_op_def_of(n);
        if (!def || def->chan != NNS_OP_CHAN_BROADCAST) continue;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] < 0) continue;
            nns_value *v = &g->values[n->in[j]];
            if (v->kind == NNS_VALUE_KIND_PARAM && v->param_offset < 0 && nns_shape_numel(&v->shape) <= 1)
                v->trainable = 0;
        }
    }
}

static nns_status load_model(nns_onnx_loader *L, const Onnx__ModelProto *m) {
    nns_graph *g = L->g;
    const Onnx__GraphProto *gp = m->graph;
    nns_status st;

    int found = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!o->domain || !*o->domain || strcmp(o->domain, "ai.onnx") == 0) {
            L->opset = o->has_version ? o->version : 1;
            found = 1;
        }
    }
    if (!found)
        return LERR(NNS_STATUS_FORMAT, "%s", "no opset_import for the default ONNX domain");
    if (L->opset < 1 || L->opset > 21)
        return LERR(NNS_STATUS_UNSUPPORTED, "opset %lld of the default domain is not supported (1..21)",
                    (long long)L->opset);
    if (gp->name && *gp->name && !(g->name = nns_strdup(gp->name)))
        return LERR(NNS_STATUS_NOMEM, "%s", "out of memory");

    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        if (!t->name || !*t->name) return LERR(NNS_STATUS_FORMAT, "initializer %zu has no name", i);
        if (nns_onnx_const_find(L, t->name) >= 0)
            return LERR(NNS_STATUS_FORMAT, "initializer '%s' is defined twice", t->name);
        nns_onnx_const c;
        memset(&c, 0, sizeof c);
        c.gidx = -1;
        c.init = t;
        c.origin = NNS_ONNX_ORIGIN_INIT;
        if (nns_onnx_const_push(L, &c, t->name) < 0) return LERR(NNS_STATUS_NOMEM, "%s", "out of memory");
    }
    for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
        const Onnx__SparseTensorProto *sp = gp->sparse_initializer[i];
        const char *nm = sp->values ? sp->values->name : NULL;
        if (!nm || !*nm) return LERR(NNS_STATUS_FORMAT, "sparse initializer %zu has no name", i);
        if (nns_onnx_const_find(L, nm) >= 0)
            return LERR(NNS_STATUS_FORMAT, "initializer '%s' is defined twice", nm);
        nns_onnx_const c;
        memset(&c, 0, sizeof c);
        c.gidx = -1;
        c.origin = NNS_ONNX_ORIGIN_INIT;
        if ((st = sparse_read(L, sp, nm, &c))) return st;
        if (nns_onnx_const_push(L, &c, nm) < 0) return LERR(NNS_STATUS_NOMEM, "%s", "out of memory");
    }

    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi->name || !*vi->name) return LERR(NNS_STATUS_FORMAT, "graph input %zu has no name", i);
        if (nns_onnx_const_find(L, vi->name) >= 0) continue; /* initializer listed as input */
        const Onnx__TypeProto *tp = vi->type;
        if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
            return LERR(NNS_STATUS_UNSUPPORTED, "graph input '%s' is not a tensor", vi->name);
        const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
        nns_dtype dt;
        int64_t et = tt->has_elem_type ? tt->elem_type : 0;
        if (!dtype_from_onnx(et, &dt))
            return LERR(NNS_STATUS_UNSUPPORTED, "graph input '%s': element type %s is not supported",
                        vi->name, onnx_type_name(et));
        nns_shape s;
        memset(&s, 0, sizeof s);
        if (!tt->shape)
            return LERR(NNS_STATUS_UNSUPPORTED, "graph input '%s' has no shape (rank unknown)", vi->name);
        if (tt->shape->n_dim > NNS_MAX_DIMS)
            return LERR(NNS_STATUS_UNSUPPORTED, "graph input '%s': rank %zu (at most %d)", vi->name,
                        tt->shape->n_dim, NNS_MAX_DIMS);
        s.ndim = (int)tt->shape->n_dim;
        for (size_t d = 0; d < tt->shape->n_dim; d++) {
            const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[d];
            s.dims[d] = dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dm->dim_value >= 0
                            ? dm->dim_value : -1;
        }
        if (L->free_batch && s.ndim >= 2 && s.dims[0] == 1) {
            s.dims[0] = -1;
            L->freed = 1;
        }
        if ((st = nns_graph_add_input(g, vi->name, dt, &s, NULL))) return wrap(L, st);
    }

    if ((st = unknown_ops(L, gp))) return st;
    size_t *order = malloc((gp->n_node ? gp->n_node : 1) * sizeof *order);
    if (!order) return LERR(NNS_STATUS_NOMEM, "%s", "out of memory");
    st = sort_nodes(L, gp, order);
    for (size_t i = 0; !st && i < gp->n_node; i++) st = process_node(L, gp, order[i], gp->node[order[i]]);
    free(order);
    if (st) return st;

    for (size_t i = 0; i < gp->n_output; i++) {
        const char *on = gp->output[i]->name;
        if (!on || !*on) return LERR(NNS_STATUS_FORMAT, "graph output %zu has no name", i);
        if (nns_onnx_const_find(L, on) >= 0)
            return LERR(NNS_STATUS_UNSUPPORTED, "graph output '%s' is a constant", on);
        int v = nns_graph_find_value(g, on);
        if (v < 0) return LERR(NNS_STATUS_FORMAT, "graph output '%s' is not defined", on);
        const int pr = g->values[v].producer; /* ONNX's mask is bool; nnslim's Dropout writes float 1/0 */
        if (pr >= 0 && g->nodes[pr].op == NNS_OP_DROPOUT && g->nodes[pr].n_out > 1 && g->nodes[pr].out[1] == v)
            return LERR(NNS_STATUS_UNSUPPORTED, "node '%s' (Dropout): its mask '%s' as a graph output (a bool "
                        "tensor in ONNX; nnslim holds masks as float)", g->nodes[pr].name, on);
        if ((st = nns_graph_add_output(g, on))) return wrap(L, st);
    }
    for (size_t i = 0; i < m->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = m->metadata_props[i];
        if (!e->key) continue;
        if ((st = nns_graph_set_meta(g, e->key, e->value ? e->value : ""))) return wrap(L, st);
    }
    fix_trainable(g);
    if ((st = nns_graph_finalize(g))) return wrap(L, st);
    /* A pruned model gets its masks back: every zero of a contracted weight
     * (graph/weights.h, the listing pruning's targets come from); so does a
     * model stored with sparse initializers (pruned by another tool). */
    const char *pr = nns_graph_get_meta(g, "nnslim.pruned");
    if (((pr && strcmp(pr, "1") == 0) || gp->n_sparse_initializer) && (st = nns_graph_masks_from_zeros(g)))
        return wrap(L, st);
    return NNS_OK;
}

/* protobuf-c's allocator, so that running out of memory while decoding is
 * told apart from a corrupt file. */
static void *pb_alloc(void *oom, size_t n) {
    void *p = malloc(n);
    if (!p) *(int *)oom = 1;
    return p;
}
static void pb_free(void *oom, void *p) {
    (void)oom;
    free(p);
}

/* One reading of model m into *g; free_batch: see nns_onnx_loader. */
static nns_status load_attempt(const Onnx__ModelProto *m, const char *what, int free_batch, nns_graph **g,
                               int *freed) {
    nns_onnx_loader L;
    memset(&L, 0, sizeof L);
    L.what = what;
    L.free_batch = free_batch;
    nns_status st = nns_graph_create(&L.g);
    if (!st) st = load_model(&L, m);
    for (int i = 0; i < L.n_k; i++) nns_onnx_const_clear(&L.k[i]);
    free(L.k);
    *freed = L.freed;
    if (st) {
        nns_graph_free(L.g);
        L.g = NULL;
    }
    *g = L.g;
    return st;
}

/* With the batch freed, a graph output whose dim 0 is not the batch: 1, and
 * the first node that drops it named in note. */
static int batch_lost(const nns_graph *g, char *note, size_t len) {
    int lost = -1;
    for (int i = 0; i < g->n_outputs && lost < 0; i++) {
        const nns_shape *s = &g->values[g->outputs[i]].shape;
        if (s->ndim < 1 || s->dims[0] >= 0) lost = g->outputs[i];
    }
    if (lost < 0) return 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        int in_batch = 0;
        for (int j = 0; j < n->n_in; j++)
            in_batch |= n->in[j] >= 0 && g->values[n->in[j]].shape.ndim > 0 && g->values[n->in[j]].shape.dims[0] < 0;
        for (int j = 0; in_batch && j < n->n_out; j++) {
            const nns_value *v = &g->values[n->out[j]];
            if (v->shape.ndim > 0 && v->shape.dims[0] < 0) continue;
            char sb[96];
            snprintf(note, len, "node '%s' (%s) gives '%s' of shape %s, whose dim 0 is not the batch", n->name,
                     n->op_type, v->name, nns_shape_str(&v->shape, sb, sizeof sb));
            return 1;
        }
    }
    snprintf(note, len, "graph output '%s' does not carry the batch", g->values[lost].name);
    return 1;
}

nns_status nns_graph_load_onnx_mem(const void *buf, size_t len, const char *what, nns_graph **out) {
    if (!out) return nns_error(NNS_STATUS_INVALID_ARG, "nns_graph_load_onnx_mem: out is NULL");
    *out = NULL;
    if (!what) what = "<memory>";
    if (!buf && len) return nns_error(NNS_STATUS_INVALID_ARG, "file '%s': NULL buffer", what);
    if ((uint64_t)len > nns_limit_model_bytes())
        return nns_error(NNS_STATUS_LIMIT, "file '%s' has %zu bytes, more than NNS_MAX_MODEL_BYTES (%llu)", what, len,
                         (unsigned long long)nns_limit_model_bytes());
    int oom = 0;
    ProtobufCAllocator pa = {pb_alloc, pb_free, &oom};
    Onnx__ModelProto *m = onnx__model_proto__unpack(&pa, len, buf);
    if (!m && oom) return nns_error(NNS_STATUS_NOMEM, "file '%s': out of memory while decoding", what);
    if (!m || !m->graph || !m->has_ir_version) {
        if (m) onnx__model_proto__free_unpacked(m, &pa);
        return nns_error(NNS_STATUS_FORMAT, "file '%s': not a valid ONNX model (truncated or corrupt)", what);
    }
    nns_graph *g = NULL;
    int freed = 0;
    nns_status st = load_attempt(m, what, 1, &g, &freed);
    if (freed) { /* a fixed batch of 1 read as free: keep it if the graph carries the batch through */
        char note[300] = "";
        if (st) {
            const char *e = nns_last_error(), *p = strstr(e, "': "); /* after "model '...': " */
            snprintf(note, sizeof note, "%s", p && strncmp(e, "model '", 7) == 0 ? p + 3 : e);
            note[strcspn(note, "\n")] = 0;
        } else if (batch_lost(g, note, sizeof note)) {
            nns_graph_free(g);
            g = NULL;
            st = NNS_STATUS_SHAPE;
        }
        if (st && !(st = load_attempt(m, what, 0, &g, &freed)) && note[0] && !(g->batch_note = nns_strdup(note))) {
            nns_graph_free(g);
            st = nns_error(NNS_STATUS_NOMEM, "file '%s': out of memory", what);
        }
    }
    onnx__model_proto__free_unpacked(m, &pa);
    if (st) return st;
    *out = g;
    return NNS_OK;
}

/* Read the whole of a regular file of at most NNS_MAX_MODEL_BYTES. */
static nns_status read_model_file(const char *path, unsigned char **buf, size_t *len) {
    int fd;
    uint64_t size;
    nns_status st = nns_file_open_regular(path, nns_limit_model_bytes(), "NNS_MAX_MODEL_BYTES", &fd, &size);
    if (st) return st;
    unsigned char *b = malloc(size ? (size_t)size : 1);
    if (!b) {
        close(fd);
        return nns_error(NNS_STATUS_NOMEM, "file '%s': out of memory for %llu bytes", path,
                         (unsigned long long)size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, b + got, (size_t)size - got > (1u << 30) ? (1u << 30) : (size_t)size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            close(fd);
            free(b);
            return e ? nns_error(NNS_STATUS_IO, "file '%s': read error: %s", path, strerror(e))
                     : nns_error(NNS_STATUS_IO, "file '%s': shrank while being read", path);
        }
        got += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = got;
    return NNS_OK;
}

nns_status nns_graph_load_onnx(const char *path, nns_graph **out) {
    if (!out) return nns_error(NNS_STATUS_INVALID_ARG, "nns_graph_load_onnx: out is NULL");
    *out = NULL;
    if (!path) return nns_error(NNS_STATUS_INVALID_ARG, "nns_graph_load_onnx: path is NULL");
    unsigned char *buf = NULL;
    size_t len = 0;
    nns_status st = read_model_file(path, &buf, &len);
    if (st) return st;
    st = nns_graph_load_onnx_mem(buf, len, path, out);
    free(buf);
    return st;
}
