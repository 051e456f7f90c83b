/* graph.c — building, sorting and packing the graph IR (shape inference and
 * finalize, which need the op table: src/graph/infer.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/graph_impl.h"
#include "core/op_id.h"

char *nns_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

nns_status nns_graph_create(nns_graph **out) {
    *out = calloc(1, sizeof(nns_graph));
    if (!*out) return nns_error(NNS_STATUS_NOMEM, "out of memory creating a graph");
    return NNS_OK;
}

static void attr_free(nns_attr *a) {
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
}

static void node_free(nns_node *n) {
    free(n->name);
    free(n->op_type);
    free(n->in);
    free(n->out);
    for (int i = 0; i < n->n_attr; i++) attr_free(&n->attrs[i]);
    free(n->attrs);
}

void nns_graph_free(nns_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_values; i++) {
        free(g->values[i].name);
        if (g->values[i].param_offset < 0) free(g->values[i].data);
    }
    free(g->values);
    for (int i = 0; i < g->n_nodes; i++) node_free(&g->nodes[i]);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    for (int i = 0; i < g->n_meta; i++) {
        free(g->meta_keys[i]);
        free(g->meta_vals[i]);
    }
    free(g->meta_keys);
    free(g->meta_vals);
    free(g->params);
    free(g->masks);
    free(g->name);
    free(g->batch_note);
    free(g);
}

int nns_graph_find_value(const nns_graph *g, const char *name) {
    for (int i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i].name, name) == 0) return i;
    return -1;
}

int nns_graph_find_node(const nns_graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return i;
    return -1;
}

int nns_graph_n_nodes(const nns_graph *g) { return g->n_nodes; }
const char *nns_graph_node_name(const nns_graph *g, int i) { return i >= 0 && i < g->n_nodes ? g->nodes[i].name : NULL; }
const char *nns_graph_node_op(const nns_graph *g, int i) { return i >= 0 && i < g->n_nodes ? g->nodes[i].op_type : NULL; }
int nns_graph_n_values(const nns_graph *g) { return g->n_values; }
int nns_graph_n_outputs(const nns_graph *g) { return g->n_outputs; }
nns_shape nns_graph_output_shape(const nns_graph *g, int i) {
    if (i < 0 || i >= g->n_outputs) return nns_shape_make(0, NULL);
    return g->values[g->outputs[i]].shape;
}

int nns_graph_new_value(nns_graph *g, const char *name) {
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? g->cap_values * 2 : 64;
        nns_value *v = realloc(g->values, (size_t)cap * sizeof *v);
        if (!v) return -1;
        g->values = v;
        g->cap_values = cap;
    }
    nns_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = nns_strdup(name);
    if (!v->name) return -1;
    v->kind = NNS_VALUE_KIND_ACT;
    v->dtype = NNS_DTYPE_UNDEFINED; /* until shape inference gives it its op's */
    v->param_offset = -1;
    v->producer = -1;
    return g->n_values++;
}

static int push_int(int **arr, int *n, int v) {
    int *a = realloc(*arr, (size_t)(*n + 1) * sizeof(int));
    if (!a) return -1;
    a[(*n)++] = v;
    *arr = a;
    return 0;
}

/* A graph input's declared shape: rank 0..NNS_MAX_DIMS, each dim -1
 * (unknown until a plan fixes it: the batch) or 1..NNS_MAX_DIM, and the known
 * dims within the tensor limit. */
static nns_status check_input_shape(const char *name, const nns_shape *shape) {
    char buf[160], what[192];
    if (shape->ndim < 0 || shape->ndim > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_SHAPE, "graph input '%s': rank %d is outside 0..%d", name, shape->ndim,
                         NNS_MAX_DIMS);
    nns_shape known = *shape;
    for (int d = 0; d < known.ndim; d++) {
        if (known.dims[d] == -1) known.dims[d] = 1;
        if (known.dims[d] < 1 || known.dims[d] > NNS_MAX_DIM)
            return nns_error(known.dims[d] < 1 ? NNS_STATUS_SHAPE : NNS_STATUS_LIMIT,
                             "graph input '%s': dimension %d of %s is outside 1..%lld", name, d,
                             nns_shape_str(shape, buf, sizeof buf), (long long)NNS_MAX_DIM);
    }
    int64_t n;
    snprintf(what, sizeof what, "graph input '%s'", name);
    return nns_shape_numel_checked(&known, what, &n);
}

nns_status nns_graph_add_input(nns_graph *g, const char *name, nns_dtype dt,
                               const nns_shape *shape, int *idx) {
    if (nns_graph_find_value(g, name) >= 0)
        return nns_error(NNS_STATUS_INVALID_ARG, "graph input '%s' is defined twice", name);
    nns_status st = check_input_shape(name, shape);
    if (st) return st;
    int i = nns_graph_new_value(g, name);
    if (i < 0 || push_int(&g->inputs, &g->n_inputs, i))
        return nns_error(NNS_STATUS_NOMEM, "out of memory adding input '%s'", name);
    g->values[i].kind = NNS_VALUE_KIND_INPUT;
    g->values[i].dtype = dt;
    g->values[i].shape = *shape;
    if (idx) *idx = i;
    return NNS_OK;
}

nns_status nns_graph_add_param(nns_graph *g, const char *name, nns_dtype dt,
                               const nns_shape *shape, const void *data,
                               int trainable, int *idx) {
    int i = nns_graph_find_value(g, name);
    if (i >= 0 && (g->values[i].kind != NNS_VALUE_KIND_ACT || g->values[i].producer >= 0))
        return nns_error(NNS_STATUS_INVALID_ARG, "initializer '%s' is defined twice", name);
    char what[192];
    snprintf(what, sizeof what, "initializer '%s'", name);
    size_t bytes;
    nns_status st = nns_shape_bytes_checked(shape, dt, what, &bytes);
    if (st) return st;
    void *buf = malloc(bytes ? bytes : 1);
    if (!buf) return nns_error(NNS_STATUS_NOMEM, "out of memory for initializer '%s'", name);
    if (data) memcpy(buf, data, bytes);
    else memset(buf, 0, bytes);
    if (i < 0) i = nns_graph_new_value(g, name);
    if (i < 0) {
        free(buf);
        return nns_error(NNS_STATUS_NOMEM, "out of memory for initializer '%s'", name);
    }
    nns_value *v = &g->values[i];
    v->kind = dt == NNS_DTYPE_F32 ? NNS_VALUE_KIND_PARAM : NNS_VALUE_KIND_CONST;
    v->dtype = dt;
    v->shape = *shape;
    v->data = buf;
    v->trainable = dt == NNS_DTYPE_F32 && trainable;
    if (idx) *idx = i;
    return NNS_OK;
}

nns_status nns_graph_add_node(nns_graph *g, const char *op_type,
                              const char *name, int n_in,
                              const char *const *inputs, int n_out,
                              const char *const *outputs, int *node_idx) {
    if (n_in > NNS_MAX_NODE_IO || n_out > NNS_MAX_NODE_IO || n_out < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "node '%s' (%s): too many inputs or outputs", name, op_type);
    if (name && *name && nns_graph_find_node(g, name) >= 0)
        return nns_error(NNS_STATUS_INVALID_ARG, "node name '%s' is used twice", name);
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        nns_node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn) return nns_error(NNS_STATUS_NOMEM, "out of memory adding node '%s'", name);
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    int ni = g->n_nodes;
    nns_node *n = &g->nodes[ni];
    memset(n, 0, sizeof *n);
    char synth[64];
    if (!name || !*name) {
        snprintf(synth, sizeof synth, "%s_%d", op_type, ni);
        name = synth;
    }
    n->name = nns_strdup(name);
    n->op_type = nns_strdup(op_type);
    n->in = calloc((size_t)(n_in ? n_in : 1), sizeof(int));
    n->out = calloc((size_t)n_out, sizeof(int));
    if (!n->name || !n->op_type || !n->in || !n->out) {
        node_free(n);
        return nns_error(NNS_STATUS_NOMEM, "out of memory adding node '%s'", name);
    }
    n->op = nns_op_lookup(op_type);
    n->n_in = n_in;
    n->n_out = n_out;
    for (int i = 0; i < n_in; i++) {
        if (!inputs[i] || !*inputs[i]) {
            n->in[i] = -1;
            continue;
        }
        int v = nns_graph_find_value(g, inputs[i]);
        if (v < 0) v = nns_graph_new_value(g, inputs[i]); /* defined later */
        if (v < 0) {
            node_free(n);
            return nns_error(NNS_STATUS_NOMEM, "out of memory adding node '%s'", name);
        }
        n->in[i] = v;
    }
    for (int i = 0; i < n_out; i++) {
        int v = nns_graph_find_value(g, outputs[i]);
        if (v >= 0 && (g->values[v].producer >= 0 || g->values[v].kind != NNS_VALUE_KIND_ACT)) {
            node_free(n);
            return nns_error(NNS_STATUS_INVALID_ARG, "node '%s': output '%s' is already defined", name, outputs[i]);
        }
        if (v < 0) v = nns_graph_new_value(g, outputs[i]);
        if (v < 0) {
            node_free(n);
            return nns_error(NNS_STATUS_NOMEM, "out of memory adding node '%s'", name);
        }
        g->values[v].producer = ni;
        n->out[i] = v;
    }
    g->n_nodes++;
    if (node_idx) *node_idx = ni;
    return NNS_OK;
}

static nns_attr *attr_slot(nns_graph *g, int node, const char *name) {
    nns_node *n = &g->nodes[node];
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attrs[i].name, name) == 0) {
            char *nm = n->attrs[i].name;
            n->attrs[i].name = NULL;
            attr_free(&n->attrs[i]);
            memset(&n->attrs[i], 0, sizeof n->attrs[i]);
            n->attrs[i].name = nm;
            return &n->attrs[i];
        }
    nns_attr *a = realloc(n->attrs, (size_t)(n->n_attr + 1) * sizeof *a);
    if (!a) return NULL;
    n->attrs = a;
    a = &n->attrs[n->n_attr];
    memset(a, 0, sizeof *a);
    a->name = nns_strdup(name);
    if (!a->name) return NULL;
    n->n_attr++;
    return a;
}

#define ATTR_OOM nns_error(NNS_STATUS_NOMEM, "out of memory setting attribute '%s'", name)

nns_status nns_graph_set_attr_int(nns_graph *g, int node, const char *name, int64_t v) {
    nns_attr *a = attr_slot(g, node, name);
    if (!a) return ATTR_OOM;
    a->type = NNS_ATTR_TYPE_INT;
    a->i = v;
    return NNS_OK;
}

nns_status nns_graph_set_attr_float(nns_graph *g, int node, const char *name, float v) {
    nns_attr *a = attr_slot(g, node, name);
    if (!a) return ATTR_OOM;
    a->type = NNS_ATTR_TYPE_FLOAT;
    a->f = v;
    return NNS_OK;
}

nns_status nns_graph_set_attr_ints(nns_graph *g, int node, const char *name, int n,
                                   const int64_t *v) {
    nns_attr *a = attr_slot(g, node, name);
    if (!a) return ATTR_OOM;
    a->type = NNS_ATTR_TYPE_INTS;
    a->ints = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    if (!a->ints) return ATTR_OOM;
    if (n) memcpy(a->ints, v, (size_t)n * sizeof(int64_t));
    a->n = n;
    return NNS_OK;
}

nns_status nns_graph_set_attr_floats(nns_graph *g, int node, const char *name, int n,
                                     const float *v) {
    nns_attr *a = attr_slot(g, node, name);
    if (!a) return ATTR_OOM;
    a->type = NNS_ATTR_TYPE_FLOATS;
    a->floats = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!a->floats) return ATTR_OOM;
    if (n) memcpy(a->floats, v, (size_t)n * sizeof(float));
    a->n = n;
    return NNS_OK;
}

nns_status nns_graph_set_attr_string(nns_graph *g, int node, const char *name, const char *v) {
    nns_attr *a = attr_slot(g, node, name);
    if (!a) return ATTR_OOM;
    a->type = NNS_ATTR_TYPE_STRING;
    a->s = nns_strdup(v);
    if (!a->s) return ATTR_OOM;
    return NNS_OK;
}

nns_status nns_graph_add_output(nns_graph *g, const char *name) {
    int v = nns_graph_find_value(g, name);
    if (v < 0) return nns_error(NNS_STATUS_INVALID_ARG, "graph output '%s' is not defined", name);
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v) return NNS_OK;
    if (push_int(&g->outputs, &g->n_outputs, v))
        return nns_error(NNS_STATUS_NOMEM, "out of memory adding output '%s'", name);
    return NNS_OK;
}

nns_status nns_graph_set_meta(nns_graph *g, const char *key, const char *val) {
    for (int i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta_keys[i], key) == 0) {
            char *d = nns_strdup(val);
            if (!d) return nns_error(NNS_STATUS_NOMEM, "out of memory setting metadata '%s'", key);
            free(g->meta_vals[i]);
            g->meta_vals[i] = d;
            return NNS_OK;
        }
    char **k = realloc(g->meta_keys, (size_t)(g->n_meta + 1) * sizeof(char *));
    if (!k) return nns_error(NNS_STATUS_NOMEM, "out of memory setting metadata '%s'", key);
    g->meta_keys = k;
    char **v = realloc(g->meta_vals, (size_t)(g->n_meta + 1) * sizeof(char *));
    if (!v) return nns_error(NNS_STATUS_NOMEM, "out of memory setting metadata '%s'", key);
    g->meta_vals = v;
    k[g->n_meta] = nns_strdup(key);
    v[g->n_meta] = nns_strdup(val);
    if (!k[g->n_meta] || !v[g->n_meta]) {
        free(k[g->n_meta]);
        free(v[g->n_meta]);
        return nns_error(NNS_STATUS_NOMEM, "out of memory setting metadata '%s'", key);
    }
    g->n_meta++;
    return NNS_OK;
}

const char *nns_graph_get_meta(const nns_graph *g, const char *key) {
    for (int i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta_keys[i], key) == 0) return g->meta_vals[i];
    return NULL;
}

const nns_attr *nns_node_attr(const nns_node *n, const char *name) {
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t nns_node_attr_int(const nns_node *n, const char *name, int64_t dflt) {
    const nns_attr *a = nns_node_attr(n, name);
    return a && a->type == NNS_ATTR_TYPE_INT ? a->i : dflt;
}

float nns_node_attr_float(const nns_node *n, const char *name, float dflt) {
    const nns_attr *a = nns_node_attr(n, name);
    if (!a) return dflt;
    if (a->type == NNS_ATTR_TYPE_FLOAT) return a->f;
    if (a->type == NNS_ATTR_TYPE_INT) return (float)a->i;
    return dflt;
}

int nns_node_attr_ints(const nns_node *n, const char *name, const int64_t **v) {
    const nns_attr *a = nns_node_attr(n, name);
    if (!a || a->type != NNS_ATTR_TYPE_INTS) {
        *v = NULL;
        return 0;
    }
    *v = a->ints;
    return a->n;
}

const char *nns_node_attr_string(const nns_node *n, const char *name, const char *dflt) {
    const nns_attr *a = nns_node_attr(n, name);
    return a && a->type == NNS_ATTR_TYPE_STRING ? a->s : dflt;
}

/* Kahn's algorithm, stable in the original order. */
nns_status nns_graph_toposort(nns_graph *g) {
    int nn = g->n_nodes;
    if (!nn) return NNS_OK;
    int *order = malloc((size_t)nn * sizeof(int));
    char *done = calloc((size_t)nn, 1);
    char *avail = calloc((size_t)g->n_values, 1);
    nns_node *sorted = malloc((size_t)nn * sizeof(nns_node));
    if (!order || !done || !avail || !sorted) {
        free(order); free(done); free(avail); free(sorted);
        return nns_error(NNS_STATUS_NOMEM, "out of memory sorting the graph");
    }
    for (int v = 0; v < g->n_values; v++)
        avail[v] = g->values[v].producer < 0;
    int k = 0;
    int progress = 1;
    while (k < nn && progress) {
        progress = 0;
        for (int i = 0; i < nn; i++) {
            if (done[i]) continue;
            const nns_node *n = &g->nodes[i];
            int ready = 1;
            for (int j = 0; j < n->n_in; j++)
                if (n->in[j] >= 0 && !avail[n->in[j]]) { ready = 0; break; }
            if (!ready) continue;
            done[i] = 1;
            order[k++] = i;
            for (int j = 0; j < n->n_out; j++) avail[n->out[j]] = 1;
            progress = 1;
        }
    }
    nns_status st = NNS_OK;
    if (k < nn) {
        for (int i = 0; i < nn; i++)
            if (!done[i]) {
                st = nns_error(NNS_STATUS_FORMAT, "node '%s' (%s) is part of a cycle", g->nodes[i].name, g->nodes[i].op_type);
                break;
            }
    } else {
        int *newidx = (int *)done; /* reuse not possible: sizes differ */
        (void)newidx;
        for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
        memcpy(g->nodes, sorted, (size_t)nn * sizeof(nns_node));
        for (int i = 0; i < nn; i++)
            for (int j = 0; j < g->nodes[i].n_out; j++)
                g->values[g->nodes[i].out[j]].producer = i;
    }
    free(order); free(done); free(avail); free(sorted);
    return st;
}

int64_t nns_graph_n_params(const nns_graph *g) {
    int64_t n = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].kind == NNS_VALUE_KIND_PARAM && g->values[v].trainable)
            n += nns_shape_numel(&g->values[v].shape);
    return n;
}

nns_status nns_graph_pack_params(nns_graph *g) {
    nns_graph_params_changed(g); /* parameters may move */
    int64_t total = 0, packed = 0;
    for (int v = 0; v < g->n_values; v++) {
        const nns_value *val = &g->values[v];
        if (val->kind != NNS_VALUE_KIND_PARAM || !val->trainable) continue;
        total += nns_shape_numel(&val->shape);
        if (val->param_offset >= 0) packed += nns_shape_numel(&val->shape);
    }
    if (g->params && packed == total && total == g->n_params) return NNS_OK;
    float *buf = malloc((size_t)(total ? total : 1) * sizeof(float));
    if (!buf) return nns_error(NNS_STATUS_NOMEM, "out of memory packing %lld parameters", (long long)total);
    float *masks = NULL;
    if (g->masks) {
        masks = malloc((size_t)(total ? total : 1) * sizeof(float));
        if (!masks) {
            free(buf);
            return nns_error(NNS_STATUS_NOMEM, "out of memory packing masks");
        }
    }
    /* A value packed earlier but no longer trainable gets its own copy. */
    for (int v = 0; v < g->n_values; v++) {
        nns_value *val = &g->values[v];
        if (val->param_offset < 0 || (val->kind == NNS_VALUE_KIND_PARAM && val->trainable)) continue;
        size_t bytes = (size_t)nns_shape_numel(&val->shape) * sizeof(float);
        void *own = malloc(bytes ? bytes : 1);
        if (!own) {
            free(buf);
            free(masks);
            return nns_error(NNS_STATUS_NOMEM, "out of memory packing parameters");
        }
        memcpy(own, val->data, bytes);
        val->data = own;
        val->param_offset = -1;
    }
    int64_t off = 0;
    for (int v = 0; v < g->n_values; v++) {
        nns_value *val = &g->values[v];
        if (val->kind != NNS_VALUE_KIND_PARAM || !val->trainable) continue;
        int64_t n = nns_shape_numel(&val->shape);
        memcpy(buf + off, val->data, (size_t)n * sizeof(float));
        if (masks) {
            if (val->param_offset >= 0) memcpy(masks + off, g->masks + val->param_offset, (size_t)n * sizeof(float));
            else for (int64_t k = 0; k < n; k++) masks[off + k] = 1.0f;
        }
        if (val->param_offset < 0) free(val->data);
        val->data = buf + off;
        val->param_offset = off;
        off += n;
    }
    free(g->params);
    free(g->masks);
    g->params = buf;
    g->masks = masks;
    g->n_params = total;
    return NNS_OK;
}

nns_status nns_graph_clone(const nns_graph *src, nns_graph **out) {
    nns_graph *g;
    nns_status st = nns_graph_create(&g);
    if (st) return st;
#define CLONE_FAIL() do { nns_graph_free(g); return nns_error(NNS_STATUS_NOMEM, "out of memory cloning a graph"); } while (0)
    if (src->name && !(g->name = nns_strdup(src->name))) CLONE_FAIL();
    if (src->batch_note && !(g->batch_note = nns_strdup(src->batch_note))) CLONE_FAIL();
    g->values = calloc((size_t)(src->n_values ? src->n_values : 1), sizeof(nns_value));
    if (!g->values) CLONE_FAIL();
    g->cap_values = src->n_values ? src->n_values : 1;
    if (src->params) {
        g->params = malloc((size_t)(src->n_params ? src->n_params : 1) * sizeof(float));
        if (!g->params) CLONE_FAIL();
        memcpy(g->params, src->params, (size_t)src->n_params * sizeof(float));
        g->n_params = src->n_params;
        if (src->masks) {
            g->masks = malloc((size_t)(src->n_params ? src->n_params : 1) * sizeof(float));
            if (!g->masks) CLONE_FAIL();
            memcpy(g->masks, src->masks, (size_t)src->n_params * sizeof(float));
        }
    }
    for (int v = 0; v < src->n_values; v++) {
        const nns_value *s = &src->values[v];
        nns_value *d = &g->values[v];
        *d = *s;
        d->name = NULL;
        d->data = NULL;
        g->n_values = v + 1;
        d->param_offset = -1;
        if (!(d->name = nns_strdup(s->name))) CLONE_FAIL();
        if (s->data) {
            if (s->param_offset >= 0 && src->params) {
                d->data = g->params + s->param_offset;
                d->param_offset = s->param_offset;
            } else {
                size_t bytes = (size_t)nns_shape_numel(&s->shape) * nns_dtype_size(s->dtype);
                if (!(d->data = malloc(bytes ? bytes : 1))) CLONE_FAIL();
                memcpy(d->data, s->data, bytes);
            }
        }
    }
    g->nodes = calloc((size_t)(src->n_nodes ? src->n_nodes : 1), sizeof(nns_node));
    if (!g->nodes) CLONE_FAIL();
    g->cap_nodes = src->n_nodes ? src->n_nodes : 1;
    for (int i = 0; i < src->n_nodes; i++) {
        const nns_node *s = &src->nodes[i];
        nns_node *d = &g->nodes[i];
        g->n_nodes = i + 1;
        d->op = s->op;
        d->aux = s->aux;
        d->n_in = s->n_in;
        d->n_out = s->n_out;
        d->name = nns_strdup(s->name);
        d->op_type = nns_strdup(s->op_type);
        d->in = malloc((size_t)(s->n_in ? s->n_in : 1) * sizeof(int));
        d->out = malloc((size_t)(s->n_out ? s->n_out : 1) * sizeof(int));
        d->attrs = calloc((size_t)(s->n_attr ? s->n_attr : 1), sizeof(nns_attr));
        if (!d->name || !d->op_type || !d->in || !d->out || !d->attrs) CLONE_FAIL();
        memcpy(d->in, s->in, (size_t)s->n_in * sizeof(int));
        memcpy(d->out, s->out, (size_t)s->n_out * sizeof(int));
        for (int a = 0; a < s->n_attr; a++) {
            const nns_attr *sa = &s->attrs[a];
            nns_attr *da = &d->attrs[a];
            d->n_attr = a + 1;
            *da = *sa;
            da->name = NULL; da->s = NULL; da->ints = NULL; da->floats = NULL;
            if (!(da->name = nns_strdup(sa->name))) CLONE_FAIL();
            if (sa->s && !(da->s = nns_strdup(sa->s))) CLONE_FAIL();
            if (sa->ints) {
                if (!(da->ints = malloc((size_t)(sa->n ? sa->n : 1) * sizeof(int64_t)))) CLONE_FAIL();
                memcpy(da->ints, sa->ints, (size_t)sa->n * sizeof(int64_t));
            }
            if (sa->floats) {
                if (!(da->floats = malloc((size_t)(sa->n ? sa->n : 1) * sizeof(float)))) CLONE_FAIL();
                memcpy(da->floats, sa->floats, (size_t)sa->n * sizeof(float));
            }
        }
    }
    for (int i = 0; i < src->n_inputs; i++)
        if (push_int(&g->inputs, &g->n_inputs, src->inputs[i])) CLONE_FAIL();
    for (int i = 0; i < src->n_outputs; i++)
        if (push_int(&g->outputs, &g->n_outputs, src->outputs[i])) CLONE_FAIL();
    for (int i = 0; i < src->n_meta; i++)
        if (nns_graph_set_meta(g, src->meta_keys[i], src->meta_vals[i])) CLONE_FAIL();
#undef CLONE_FAIL
    *out = g;
    return NNS_OK;
}

nns_status nns_graph_prune_dead(nns_graph *g) {
    int nv = g->n_values, nn = g->n_nodes;
    char *live_v = calloc((size_t)(nv ? nv : 1), 1);
    char *live_n = calloc((size_t)(nn ? nn : 1), 1);
    int *vmap = malloc((size_t)(nv ? nv : 1) * sizeof(int));
    if (!live_v || !live_n || !vmap) {
        free(live_v); free(live_n); free(vmap);
        return nns_error(NNS_STATUS_NOMEM, "out of memory pruning the graph");
    }
    for (int i = 0; i < g->n_outputs; i++) live_v[g->outputs[i]] = 1;
    for (int i = 0; i < g->n_inputs; i++) live_v[g->inputs[i]] = 1;
    for (int i = nn - 1; i >= 0; i--) { /* nodes are topologically sorted */
        const nns_node *n = &g->nodes[i];
        int used = 0;
        for (int j = 0; j < n->n_out; j++) used |= live_v[n->out[j]];
        if (!used) continue;
        live_n[i] = 1;
        for (int j = 0; j < n->n_out; j++) live_v[n->out[j]] = 1;
        for (int j = 0; j < n->n_in; j++) if (n->in[j] >= 0) live_v[n->in[j]] = 1;
    }
    /* values */
    int k = 0;
    for (int v = 0; v < nv; v++) {
        if (!live_v[v]) {
            vmap[v] = -1;
            free(g->values[v].name);
            if (g->values[v].param_offset < 0) free(g->values[v].data);
            continue;
        }
        vmap[v] = k;
        g->values[k++] = g->values[v];
    }
    g->n_values = k;
    k = 0;
    for (int i = 0; i < nn; i++) {
        if (!live_n[i]) { node_free(&g->nodes[i]); continue; }
        g->nodes[k++] = g->nodes[i];
    }
    g->n_nodes = k;
    for (int i = 0; i < g->n_nodes; i++) {
        nns_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++) if (n->in[j] >= 0) n->in[j] = vmap[n->in[j]];
        for (int j = 0; j < n->n_out; j++) {
            n->out[j] = vmap[n->out[j]];
            g->values[n->out[j]].producer = i;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) g->inputs[i] = vmap[g->inputs[i]];
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = vmap[g->outputs[i]];
    free(live_v); free(live_n); free(vmap);
    /* Packed params of removed values stay in g->params until repacked. */
    return nns_graph_pack_params(g);
}

int *nns_graph_count_readers(const nns_graph *g, int output_weight) {
    int *u = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *u);
    if (!u) return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) u[g->nodes[i].in[j]]++;
    for (int i = 0; i < g->n_outputs; i++) u[g->outputs[i]] += output_weight;
    return u;
}
