/*
 * calibrate.h — run a float model over calibration images and histogram the
 * values that quantization will give a scale (nnslim/quant.h's histograms:
 * fixed memory per value, whatever the number of images).
 */
#ifndef NNS_QUANT_CALIBRATE_H
#define NNS_QUANT_CALIBRATE_H

#include "core/graph_impl.h"
#include "nnslim/data.h"
#include "nnslim/quant.h"

/* Run g (finalized) in inference over `samples` images of d, evenly spaced
 * over the set (all of it when samples >= d->n), batch images at a time, and
 * add every value values[i] (graph inputs or node outputs, float) to
 * hists[i] (initialized by the caller). The plan does not fuse, so every
 * value is read as the graph computes it. *used: the images run. Errors:
 * data that does not fit the model, samples or batch < 1, a value that is
 * not a float activation (named), out of memory. */
nns_status nns_calibrate(nns_graph *g, const nns_dataset *d, int64_t samples, int batch, int n_values,
                         const int *values, nns_calib_hist *hists, int64_t *used);

/* The same run, handing each observed value to fn: k its index in values[],
 * x its data for the batch (shape s, batch first). */
typedef void (*nns_calib_observe_fn)(void *user, int k, const float *x, const nns_shape *s);
nns_status nns_calibrate_observe(nns_graph *g, const nns_dataset *d, int64_t samples, int batch, int n_values,
                                 const int *values, nns_calib_observe_fn fn, void *user, int64_t *used);

#endif
