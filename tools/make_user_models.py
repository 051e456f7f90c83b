#!/usr/bin/python3
"""make_user_models.py — write tests/user/: what a new user brings.

small_b1.onnx is a small CNN exported the way PyTorch exports by default:
a fixed batch of 1, BatchNormalization folded (eval mode), and the flatten
written as x.view(x.size(0), -1), which becomes a Reshape to the constant
[1, -1]. x.npy / y.npy are 96 images of 3x16x16 (uint8) with labels of 4
classes, a pattern a network learns (the class sets which colour channel is
bright in which half); x_nhwc.npy the same images channels-last;
x3_f32.npy the first three as float32 in [0, 1] (for nnslim run).
small_pruned.onnx is the same network pruned by PyTorch (60% of each
layer's weights by magnitude, torch.nn.utils.prune, then made permanent),
saved dense; small_sparse.onnx the same with its weights stored as ONNX
sparse initializers, as other tools write pruned models.

    /usr/bin/python3 tools/make_user_models.py tests/user
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune
from onnx import numpy_helper


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 4)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.view(x.size(0), -1))


def data(rs, n):
    y = rs.randint(0, 4, n)
    x = rs.randint(0, 80, size=(n, 3, 16, 16))
    for i, c in enumerate(y):
        ch, half = c % 3, c // 3
        x[i, ch, :, half * 8:half * 8 + 8] += 150
    return x.astype(np.uint8), y.astype(np.int64)


def to_sparse(model):
    """Every Conv / Gemm weight as a sparse initializer (values and
    linearized INT64 indices of its nonzeros)."""
    g = model.graph
    weights = {n.input[1] for n in g.node if n.op_type in ("Conv", "Gemm")}
    keep = []
    for t in g.initializer:
        if t.name not in weights:
            keep.append(t)
            continue
        a = numpy_helper.to_array(t)
        idx = np.flatnonzero(a).astype(np.int64)
        values = numpy_helper.from_array(a.reshape(-1)[idx], t.name)
        g.sparse_initializer.append(onnx.helper.make_sparse_tensor(values, numpy_helper.from_array(idx, ""),
                                                                   list(a.shape)))
    del g.initializer[:]
    g.initializer.extend(keep)
    return model


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    m = Small().eval()
    torch.onnx.export(m, torch.randn(1, 3, 16, 16), os.path.join(out, "small_b1.onnx"))
    for mod in (m.conv1, m.conv2, m.fc):
        prune.l1_unstructured(mod, "weight", amount=0.6)
        prune.remove(mod, "weight")
    path = os.path.join(out, "small_pruned.onnx")
    torch.onnx.export(m, torch.randn(1, 3, 16, 16), path)
    onnx.save(to_sparse(onnx.load(path)), os.path.join(out, "small_sparse.onnx"))
    x, y = data(np.random.RandomState(0), 96)
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "y.npy"), y)
    np.save(os.path.join(out, "x_nhwc.npy"), np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    np.save(os.path.join(out, "x3_f32.npy"), (x[:3] / np.float32(255)).astype(np.float32))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/user")
