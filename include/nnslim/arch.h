/*
 * nnslim/arch.h — built-in architectures, by default for 28x28 single-channel
 * images and 10 classes (Fashion-MNIST; nns_arch_build_for: any image shape
 * and class count): lenet300, lenet5, vggsmall, resnet8, mobilenet. Defined
 * exactly as in docs/architectures.md, initialised like PyTorch's defaults
 * (Conv/Linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), BN
 * gamma 1, beta 0, running mean 0, var 1, eps 1e-5, momentum 0.1).
 * Input "input" [N, 1, 28, 28], output "logits" [N, 10].
 */
#ifndef NNSLIM_ARCH_H
#define NNSLIM_ARCH_H

#include <stdint.h>
#include "nnslim/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Build architecture `name` with seeded initialisation; the graph is
 * finalized and its parameters packed. */
nns_status nns_arch_build(const char *name, uint64_t seed, nns_graph **out);
/* The same for images of c x h x w and `classes` classes: the first layer
 * takes c channels, the classifier has `classes` outputs, and a layer that
 * flattens a feature map takes its size (lenet300, lenet5, vggsmall); an
 * image too small for the architecture's windows (lenet5: 10 pixels a side,
 * vggsmall 4) is NNS_STATUS_INVALID_ARG. nns_arch_build is (1, 28, 28, 10). */
nns_status nns_arch_build_for(const char *name, uint64_t seed, int c, int h, int w, int classes, nns_graph **out);
/* Names, NULL-terminated. */
const char *const *nns_arch_names(void);
/* The anchors' epoch count for an architecture (10 for an unknown name). */
int nns_arch_default_epochs(const char *name);

#ifdef __cplusplus
}
#endif
#endif
