#!/usr/bin/python3
"""make_qdq_models.py — write the QDQ test models of tests/qdq/.

conv_qdq.onnx is the form other tools export a quantized convolution in
(opset 13): the input quantized to u8 and dequantized, an s8 weight with one
scale per output channel dequantized, a float Conv, its output quantized to
u8 and dequantized. conv_qdq_x.npy is an input batch and conv_qdq_y.npy the
output that ONNX's definitions give (computed here with numpy and PyTorch's
conv2d). scale_zero.onnx, scale_nan.onnx and scale_negative.onnx are the same
model with the input's scale 0, NaN or -0.02: nnslim must refuse them by name.

    /usr/bin/python3 tools/make_qdq_models.py tests/qdq
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from onnx import numpy_helper as nh

XS, XZ, YS, YZ = np.float32(0.02), 128, np.float32(0.05), 100


def quant(v, s, z, lo, hi):
    return np.clip(np.rint(v / s) + z, lo, hi)


def model(w, ws, xs=XS):
    inits = [nh.from_array(w, "w_q"), nh.from_array(ws, "w_s"), nh.from_array(np.zeros(len(ws), np.int8), "w_z"),
             nh.from_array(np.array(xs, np.float32), "x_s"), nh.from_array(np.array(XZ, np.uint8), "x_z"),
             nh.from_array(np.array(YS, np.float32), "y_s"), nh.from_array(np.array(YZ, np.uint8), "y_z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="qx"),
             helper.make_node("DequantizeLinear", ["xq", "x_s", "x_z"], ["xd"], name="dqx"),
             helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["wd"], name="dqw", axis=0),
             helper.make_node("Conv", ["xd", "wd"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("QuantizeLinear", ["c", "y_s", "y_z"], ["cq"], name="qy"),
             helper.make_node("DequantizeLinear", ["cq", "y_s", "y_z"], ["y"], name="dqy")]
    g = helper.make_graph(nodes, "conv_qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 8, 8])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="nnslim-tests")
    m.ir_version = 7
    return m


def main(out):
    os.makedirs(out, exist_ok=True)
    rs = np.random.RandomState(0)
    w = rs.randint(-127, 128, size=(4, 3, 3, 3)).astype(np.int8)
    ws = ((rs.rand(4) + 0.5) * 0.01).astype(np.float32)
    m = model(w, ws)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "conv_qdq.onnx"))
    x = rs.randn(2, 3, 8, 8).astype(np.float32)
    xd = ((quant(x, XS, XZ, 0, 255) - XZ) * XS).astype(np.float32)
    wd = (w.astype(np.float32) * ws[:, None, None, None]).astype(np.float32)
    c = torch.nn.functional.conv2d(torch.from_numpy(xd), torch.from_numpy(wd), padding=1).numpy()
    y = ((quant(c, YS, YZ, 0, 255) - YZ) * YS).astype(np.float32)
    np.save(os.path.join(out, "conv_qdq_x.npy"), x)
    np.save(os.path.join(out, "conv_qdq_y.npy"), y)
    for name, s in (("scale_zero", 0.0), ("scale_nan", np.nan), ("scale_negative", -0.02)):
        onnx.save(model(w, ws, np.float32(s)), os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/qdq")
