#!/usr/bin/python3
"""make_qdq_models.py — write the QDQ test models of tests/qdq/.

conv_qdq.onnx is the form other tools export a quantized convolution in
(opset 13): the input quantized to u8 and dequantized, an s8 weight with one
scale per output channel dequantized, a float Conv, its output quantized to
u8 and dequantized. conv_qdq_x.npy is an input batch and conv_qdq_y.npy the
output that ONNX's definitions give (computed here with numpy and PyTorch's
conv2d). scale_zero.onnx, scale_nan.onnx and scale_negative.onnx are the same
model with the input's scale 0, NaN or -0.02: nnslim must refuse them by name.
qlinear_conv.onnx and qlinear_matmul.onnx use the operator form
(QLinearConv with an int32 bias, QLinearMatMul with per-column scales)
between a QuantizeLinear of the float input and a DequantizeLinear of the
output; their _x.npy / _y.npy hold an input and the output of ONNX's
integer definition (int32 accumulation, then the requantization).
qlinear_add_gap.onnx holds ONNX Runtime's com.microsoft QLinearAdd and
QLinearGlobalAveragePool, with an input and the output of their float
definitions; qlinear_gap_channels_last.onnx the same with channels_last=1,
which nnslim refuses. dynamic.onnx is the form dynamic quantization writes
(ONNX Runtime's quantize_dynamic): DynamicQuantizeLinear of each layer's
input, ConvInteger / MatMulInteger on the bytes (a strided convolution with
one weight zero point, a depthwise one with u8 weights and one zero point
per channel, a matrix product with one per column), a Cast of the int32
sums to float and a Mul by the two scales; dynamic_x.npy / dynamic_y.npy an
input batch and the output of those definitions computed in float32 numpy.

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
    qlinear_models(out, rs)
    ms_models(out, rs)
    bad_qlinear_models(out)
    dynamic_models(out, rs)


def ms_models(out, rs):
    """ONNX Runtime's com.microsoft QLinearAdd (a quantized input plus a u8
    constant, broadcast per channel) then QLinearGlobalAveragePool, between
    a QuantizeLinear and a DequantizeLinear, with the outputs of their float
    definitions (dequantize, add or average in float32, quantize)."""
    xs, xz, bs, bz, ys, yz, gs, gz = (np.float32(0.02), 128, np.float32(0.01), 30, np.float32(0.04), 60,
                                      np.float32(0.015), 70)
    bq = rs.randint(0, 256, size=(1, 4, 1, 1)).astype(np.uint8)
    x = (rs.randn(2, 4, 5, 5) * 1.2).astype(np.float32)
    f = lambda v, n: nh.from_array(np.array(v, np.float32), n)
    u = lambda v, n: nh.from_array(np.array(v, np.uint8), n)
    inits = [f(xs, "x_s"), u(xz, "x_z"), nh.from_array(bq, "b_q"), f(bs, "b_s"), u(bz, "b_z"), f(ys, "y_s"),
             u(yz, "y_z"), f(gs, "g_s"), u(gz, "g_z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="qx"),
             helper.make_node("QLinearAdd", ["xq", "x_s", "x_z", "b_q", "b_s", "b_z", "y_s", "y_z"], ["yq"], name="qadd",
                              domain="com.microsoft"),
             helper.make_node("QLinearGlobalAveragePool", ["yq", "y_s", "y_z", "g_s", "g_z"], ["gq"], name="qgap",
                              domain="com.microsoft", channels_last=0),
             helper.make_node("DequantizeLinear", ["gq", "g_s", "g_z"], ["y"], name="dqy")]
    g = helper.make_graph(nodes, "qlinear_add_gap", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 5, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 1, 1])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)],
                          producer_name="nnslim-tests")
    m.ir_version = 7
    onnx.save(m, os.path.join(out, "qlinear_add_gap.onnx"))  # the checker knows no com.microsoft ops
    m.graph.node[2].attribute[0].i = 1  # channels_last: refused
    onnx.save(m, os.path.join(out, "qlinear_gap_channels_last.onnx"))
    xd = ((quant(x, xs, xz, 0, 255) - xz) * xs).astype(np.float32)
    bd = ((bq.astype(np.float32) - bz) * bs).astype(np.float32)
    yd = ((quant(xd + bd, ys, yz, 0, 255) - yz) * ys).astype(np.float32)
    gd = ((quant(yd.mean(axis=(2, 3), keepdims=True, dtype=np.float32), gs, gz, 0, 255) - gz) * gs).astype(np.float32)
    np.save(os.path.join(out, "qlinear_add_gap_x.npy"), x)
    np.save(os.path.join(out, "qlinear_add_gap_y.npy"), gd)


def qlinear_models(out, rs):
    """QLinearConv and QLinearMatMul, the operator form, between a
    QuantizeLinear of the float input and a DequantizeLinear of the output,
    with the outputs ONNX's integer definition gives (numpy)."""
    xs, xz, ys, yz = np.float32(0.03), 120, np.float32(0.08), 90
    w = rs.randint(-100, 101, size=(5, 3, 3, 3)).astype(np.int8)
    ws = ((rs.rand(5) + 0.5) * 0.01).astype(np.float32)
    b = rs.randint(-3000, 3001, size=5).astype(np.int32)
    x = (rs.randn(2, 3, 7, 7) * 1.5).astype(np.float32)
    inits = [nh.from_array(np.array(xs, np.float32), "x_s"), nh.from_array(np.array(xz, np.uint8), "x_z"),
             nh.from_array(w, "w_q"), nh.from_array(ws, "w_s"), nh.from_array(np.zeros(5, np.int8), "w_z"),
             nh.from_array(np.array(ys, np.float32), "y_s"), nh.from_array(np.array(yz, np.uint8), "y_z"),
             nh.from_array(b, "b_q")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="qx"),
             helper.make_node("QLinearConv", ["xq", "x_s", "x_z", "w_q", "w_s", "w_z", "y_s", "y_z", "b_q"], ["yq"],
                              name="qconv", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("DequantizeLinear", ["yq", "y_s", "y_z"], ["y"], name="dqy")]
    g = helper.make_graph(nodes, "qlinear_conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 7, 7])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5, 4, 4])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="nnslim-tests")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "qlinear_conv.onnx"))
    xq = quant(x, xs, xz, 0, 255).astype(np.int64)
    acc = torch.nn.functional.conv2d(torch.from_numpy((xq - xz).astype(np.float64)),
                                     torch.from_numpy(w.astype(np.float64)), padding=1, stride=2).numpy()
    acc = acc + b[None, :, None, None]
    yq = np.clip(np.rint(acc * (xs.astype(np.float64) * ws[None, :, None, None] / ys)) + yz, 0, 255)
    np.save(os.path.join(out, "qlinear_conv_x.npy"), x)
    np.save(os.path.join(out, "qlinear_conv_y.npy"), ((yq - yz) * ys).astype(np.float32))
    # QLinearMatMul: [N, 6] x [6, 4], per-column scales of b
    bm = rs.randint(-120, 121, size=(6, 4)).astype(np.int8)
    bsc = ((rs.rand(4) + 0.5) * 0.02).astype(np.float32)
    xm = (rs.randn(3, 6) * 1.5).astype(np.float32)
    inits = [nh.from_array(np.array(xs, np.float32), "a_s"), nh.from_array(np.array(xz, np.uint8), "a_z"),
             nh.from_array(bm, "b_q"), nh.from_array(bsc, "b_s"), nh.from_array(np.zeros(4, np.int8), "b_z"),
             nh.from_array(np.array(ys, np.float32), "y_s"), nh.from_array(np.array(yz, np.uint8), "y_z")]
    nodes = [helper.make_node("QuantizeLinear", ["a", "a_s", "a_z"], ["aq"], name="qa"),
             helper.make_node("QLinearMatMul", ["aq", "a_s", "a_z", "b_q", "b_s", "b_z", "y_s", "y_z"], ["yq"], name="qmm"),
             helper.make_node("DequantizeLinear", ["yq", "y_s", "y_z"], ["y"], name="dqy")]
    g = helper.make_graph(nodes, "qlinear_matmul", [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="nnslim-tests")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "qlinear_matmul.onnx"))
    aq = quant(xm, xs, xz, 0, 255).astype(np.int64)
    acc = (aq - xz) @ bm.astype(np.int64)
    yq = np.clip(np.rint(acc * (xs.astype(np.float64) * bsc[None, :] / ys)) + yz, 0, 255)
    np.save(os.path.join(out, "qlinear_matmul_x.npy"), xm)
    np.save(os.path.join(out, "qlinear_matmul_y.npy"), ((yq - yz) * ys).astype(np.float32))


def dyn_quant(x):
    """DynamicQuantizeLinear in float32: the range of the whole tensor."""
    lo, hi = np.float32(min(0.0, x.min())), np.float32(max(0.0, x.max()))
    s = np.float32((hi - lo) / np.float32(255))
    z = np.float32(np.clip(np.rint(-lo / s), 0, 255))
    return np.clip(np.rint(x / s) + z, 0, 255).astype(np.int64), s, int(z)


def conv_int(xq, xz, w, wz, **kw):
    """ConvInteger's int32 sums (exact in float64 for these sizes)."""
    wd = w.astype(np.int64) - np.asarray(wz, np.int64).reshape(-1, 1, 1, 1)
    acc = torch.nn.functional.conv2d(torch.from_numpy((xq - xz).astype(np.float64)),
                                     torch.from_numpy(wd.astype(np.float64)), **kw).numpy()
    return np.rint(acc).astype(np.int64)


def dynamic_model(w1, w2, w2z, b3, b3z):
    f32 = lambda a, n: nh.from_array(np.asarray(a, np.float32), n)
    inits = [nh.from_array(w1, "w1_q"), nh.from_array(np.array(3, np.int8), "w1_z"), f32(0.004, "w1_s"),
             f32(np.linspace(-0.1, 0.1, 6).reshape(1, 6, 1, 1), "b1"),
             nh.from_array(w2, "w2_q"), nh.from_array(w2z, "w2_z"), f32(0.01, "w2_s"),
             nh.from_array(b3, "b3_q"), nh.from_array(b3z, "b3_z"), f32(np.linspace(0.002, 0.004, 5), "b3_s"),
             f32(np.linspace(-0.5, 0.5, 5), "b3")]
    n = helper.make_node
    nodes = [n("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], name="x_quant"),
             n("ConvInteger", ["xq", "w1_q", "xz", "w1_z"], ["c1i"], name="conv1", pads=[1, 1, 1, 1], strides=[2, 2]),
             n("Cast", ["c1i"], ["c1c"], name="conv1_cast", to=TensorProto.FLOAT),
             n("Mul", ["xs", "w1_s"], ["c1s"], name="conv1_scale"),
             n("Mul", ["c1c", "c1s"], ["c1m"], name="conv1_mul"),
             n("Add", ["c1m", "b1"], ["c1"], name="conv1_bias"),
             n("Relu", ["c1"], ["r1"], name="relu1"),
             n("DynamicQuantizeLinear", ["r1"], ["r1q", "r1s", "r1z"], name="r1_quant"),
             n("ConvInteger", ["r1q", "w2_q", "r1z", "w2_z"], ["c2i"], name="conv2", pads=[1, 1, 1, 1], group=6),
             n("Cast", ["c2i"], ["c2c"], name="conv2_cast", to=TensorProto.FLOAT),
             n("Mul", ["r1s", "w2_s"], ["c2s"], name="conv2_scale"),
             n("Mul", ["c2c", "c2s"], ["c2"], name="conv2_mul"),
             n("Flatten", ["c2"], ["f"], name="flatten"),
             n("DynamicQuantizeLinear", ["f"], ["fq", "fs", "fz"], name="f_quant"),
             n("MatMulInteger", ["fq", "b3_q", "fz", "b3_z"], ["m3i"], name="fc"),
             n("Cast", ["m3i"], ["m3c"], name="fc_cast", to=TensorProto.FLOAT),
             n("Mul", ["fs", "b3_s"], ["m3s"], name="fc_scale"),
             n("Mul", ["m3c", "m3s"], ["m3m"], name="fc_mul"),
             n("Add", ["m3m", "b3"], ["y"], name="fc_bias")]
    g = helper.make_graph(nodes, "dynamic", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="nnslim-tests")
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def dynamic_models(out, rs):
    """dynamic.onnx and the output of its definitions (float32 numpy)."""
    w1 = rs.randint(-127, 128, size=(6, 3, 3, 3)).astype(np.int8)
    w2 = rs.randint(0, 256, size=(6, 1, 3, 3)).astype(np.uint8)
    w2z = rs.randint(100, 156, size=6).astype(np.uint8)
    b3 = rs.randint(-127, 128, size=(96, 5)).astype(np.int8)
    b3z = rs.randint(-5, 6, size=5).astype(np.int8)
    onnx.save(dynamic_model(w1, w2, w2z, b3, b3z), os.path.join(out, "dynamic.onnx"))
    x = (rs.randn(2, 3, 8, 8) * 1.5).astype(np.float32)
    xq, xs, xz = dyn_quant(x)
    c1 = conv_int(xq, xz, w1, 3, padding=1, stride=2).astype(np.float32) * np.float32(xs * np.float32(0.004))
    r1 = np.maximum(c1 + np.linspace(-0.1, 0.1, 6, dtype=np.float32).reshape(1, 6, 1, 1), 0).astype(np.float32)
    rq, rsc, rz = dyn_quant(r1)
    c2 = conv_int(rq, rz, w2, w2z, padding=1, groups=6).astype(np.float32) * np.float32(rsc * np.float32(0.01))
    fq, fs, fz = dyn_quant(c2.reshape(2, -1))
    m3 = (fq - fz) @ (b3.astype(np.int64) - b3z.astype(np.int64))
    y = m3.astype(np.float32) * (fs * np.linspace(0.002, 0.004, 5, dtype=np.float32)) + \
        np.linspace(-0.5, 0.5, 5, dtype=np.float32)
    np.save(os.path.join(out, "dynamic_x.npy"), x)
    np.save(os.path.join(out, "dynamic_y.npy"), y.astype(np.float32))


def bad_qlinear_models(out):
    """Malformed QLinearConv files that must be refused with one line
    naming the node and the input: qlinear_conv_bad_wscale has 3 weight
    scales for 5 output channels; qlinear_conv_bad_zp_type an s8 input zero
    point for a u8 input."""
    for name, ws_n, xz_type in (("qlinear_conv_bad_wscale", 3, np.uint8), ("qlinear_conv_bad_zp_type", 5, np.int8)):
        inits = [nh.from_array(np.array(0.03, np.float32), "x_s"), nh.from_array(np.array(120, np.uint8), "x_z"),
                 nh.from_array(np.array(7, xz_type), "x_z_conv"),
                 nh.from_array(np.ones((5, 3, 3, 3), np.int8), "w_q"), nh.from_array(np.full(ws_n, 0.01, np.float32), "w_s"),
                 nh.from_array(np.array(0.08, np.float32), "y_s"), nh.from_array(np.array(90, np.uint8), "y_z")]
        nodes = [helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="qx"),
                 helper.make_node("QLinearConv", ["xq", "x_s", "x_z_conv", "w_q", "w_s", "", "y_s", "y_z"], ["yq"],
                                  name="qconv", pads=[1, 1, 1, 1]),
                 helper.make_node("DequantizeLinear", ["yq", "y_s", "y_z"], ["y"], name="dqy")]
        g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 7, 7])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5, 7, 7])], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="nnslim-tests")
        m.ir_version = 7
        onnx.save(m, os.path.join(out, name + ".onnx"))  # malformed on purpose: not checked


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/qdq")
