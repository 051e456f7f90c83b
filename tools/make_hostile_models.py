#!/usr/bin/python3
"""make_hostile_models.py — write the crafted ONNX files of tests/hostile/.

Each model is tiny (a few hundred bytes) and declares sizes that used to wrap
nnslim's element counts or make it allocate what a header claims: input dims
whose product overflows int64, per-sample sizes over the tensor limit, Reshape
targets whose product overflows, initializers that claim more than they hold.
tests/cli_hostile_shapes.sh runs nnslim's commands on them: each must give a
one-line error and exit 1. Run with Debian's python3-onnx:

    /usr/bin/python3 tools/make_hostile_models.py tests/hostile
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

BIG = 1 << 32


def model(name, nodes, inputs, inits=(), outputs=None):
    outs = outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    g = helper.make_graph(nodes, name, inputs, outs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="nnslim-hostile")
    m.ir_version = 7
    return m


def fin(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def wrap_input_models():
    """One op of each kind on an input whose element count wraps int64."""
    wrap = ["N", BIG, BIG]
    yield "softmax_wrap", model("softmax_wrap", [helper.make_node("Softmax", ["x"], ["y"], axis=1)],
                                [fin("x", wrap)])
    yield "gap_wrap", model("gap_wrap", [helper.make_node("GlobalAveragePool", ["x"], ["y"])],
                            [fin("x", ["N", BIG, BIG, 1])])
    yield "transpose_wrap", model("transpose_wrap", [helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1])],
                                  [fin("x", wrap)])
    yield "flatten_wrap", model("flatten_wrap", [helper.make_node("Flatten", ["x"], ["y"], axis=1)],
                                [fin("x", wrap)])
    yield "relu_2p32", model("relu_2p32", [helper.make_node("Relu", ["x"], ["y"])],
                             [fin("x", ["N", 65536, 65536])])


def reshape_models():
    """Fashion-MNIST-shaped input, Reshape targets that overflow."""
    x = fin("x", ["N", 1, 28, 28])
    for name, target in [("reshape_2p62", [0, -1, (1 << 62) + 1, 4]),
                         ("reshape_prod_wrap", [2147483647] * 8)]:
        shape = helper.make_tensor("shape", TensorProto.INT64, [len(target)], target)
        nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"]),
                 helper.make_node("Softmax", ["r"], ["y"], axis=-1)]
        yield name, model(name, nodes, [x], [shape])


def geometry_models():
    """Windows and joins whose outputs exceed the tensor limit although every
    input is within it: huge pads on Conv and MaxPool, a Concat of two inputs
    that are each just under the limit."""
    x = fin("x", ["N", 1, 32768, 32768])
    w = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 1, 1], [1.0])
    pads = [1 << 20] * 4
    yield "conv_pads_huge", model("conv_pads_huge", [helper.make_node("Conv", ["x", "w"], ["y"], pads=pads)],
                                  [x], [w])
    yield "maxpool_pads_huge", model("maxpool_pads_huge",
                                     [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=pads)],
                                     [x])
    half = ["N", 46341, 46340]  # 2147441940 elements: just under 2^31-1
    yield "concat_over_limit", model("concat_over_limit",
                                     [helper.make_node("Concat", ["a", "b"], ["y"], axis=1)],
                                     [fin("a", half), fin("b", half)])


def claim_models():
    """Initializers whose dims claim more than the file holds."""
    x = fin("x", ["N", 4])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.0] * 16)
    del w.dims[:]
    w.dims.extend([1 << 20, 1 << 20])  # claims 2^40 floats, holds 16
    yield "init_claims_2p40", model("init_claims_2p40", [helper.make_node("MatMul", ["x", "w"], ["y"])], [x], [w])
    raw = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], bytes(64), raw=True)
    del raw.dims[:]
    raw.dims.extend([1 << 16, 1 << 16])  # 2^32 floats claimed, 64 bytes held
    yield "raw_claims_2p32", model("raw_claims_2p32", [helper.make_node("MatMul", ["x", "w"], ["y"])], [x], [raw])
    # within the tensor limit, so only comparing claim and content stops them
    w30 = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.0] * 16)
    del w30.dims[:]
    w30.dims.extend([4, 1 << 28])  # claims 2^30 floats (4 GiB), holds 16
    yield "init_claims_2p30", model("init_claims_2p30", [helper.make_node("MatMul", ["x", "w"], ["y"])], [x], [w30])
    raw30 = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], bytes(64), raw=True)
    del raw30.dims[:]
    raw30.dims.extend([4, 1 << 28])
    yield "raw_claims_2p30", model("raw_claims_2p30", [helper.make_node("MatMul", ["x", "w"], ["y"])], [x], [raw30])
    # a sparse initializer whose dense form is 2^31 - 1 floats: refused by
    # NNS_MAX_MEMORY (the tests set it to 1G), not expanded
    vals = helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])
    idx = helper.make_tensor("i", TensorProto.INT64, [1], [5])
    sp = helper.make_sparse_tensor(vals, idx, [1, 2147483647])
    sp.values.name = "w"
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "sparse_dense_2p31", [fin("x", ["N", 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], sparse_initializer=[sp])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="nnslim-hostile")
    m.ir_version = 7
    yield "sparse_dense_2p31", m


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/hostile"
    os.makedirs(out, exist_ok=True)
    for gen in (wrap_input_models, reshape_models, geometry_models, claim_models):
        for name, m in gen():
            path = os.path.join(out, name + ".onnx")
            with open(path, "wb") as f:
                f.write(m.SerializeToString())
            print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
