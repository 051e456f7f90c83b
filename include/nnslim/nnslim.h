/* nnslim.h — the whole public API. */
#ifndef NNSLIM_H
#define NNSLIM_H
#include "nnslim/status.h"
#include "nnslim/tensor.h"
#include "nnslim/graph.h"
#include "nnslim/data.h"
#include "nnslim/onnx.h"
#include "nnslim/train.h"
#include "nnslim/arch.h"
#include "nnslim/runtime.h"
#include "nnslim/prune.h"
#include "nnslim/distill.h"
#include "nnslim/quant.h"
#define NNSLIM_VERSION "0.1.0"
#endif
