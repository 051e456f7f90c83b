/* bf16_util.c — eligibility and weight conversion for the bf16 GEMM path
 * of Conv and Gemm (bf16_util.h). */
#include "ops/bf16_util.h"

#include <string.h>

#include "core/op_id.h"

int nns_bf16_input(const nns_graph *g, const nns_node *n, int slot) {
    if (slot >= n->n_in || n->in[slot] < 0) return 0;
    const int p = g->values[n->in[slot]].producer;
    if (p < 0) return 0;
    const nns_node *r = &g->nodes[p];
    return r->op == NNS_OP_ROUND16 && nns_node_attr_int(r, "to", 0) == 16;
}

int nns_bf16_gemm_fast(const nns_kernels *k) { return k && k->bf16_gemm != nns_bf16_gemm__ref; }

int nns_bf16_exact(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        if ((u & 0xffffu) || (u & 0x7fffffffu) > 0x7f800000u) return 0;
    }
    return 1;
}

void nns_bf16_rows(int rows, int cols, const float *x, size_t ldx, uint16_t *w, size_t ldw) {
    for (int i = 0; i < rows; i++) {
        uint16_t *o = w + (size_t)i * ldw;
        for (int j = 0; j < cols; j++) {
            uint32_t u;
            memcpy(&u, &x[(size_t)i * ldx + j], 4);
            o[j] = (uint16_t)(u >> 16);
        }
        for (size_t j = (size_t)cols; j < ldw; j++) o[j] = 0;
    }
}
