#!/usr/bin/python3
"""Print an ONNX model's graph: opsets, inputs/outputs, initializers and nodes
with their attributes (Constant values shown). Reference tooling only.

    /usr/bin/python3 tools/onnx_dump.py MODEL.onnx [--ops]

--ops prints only the sorted set of op types with their counts.
"""

import argparse
import collections

import onnx
from onnx import helper, numpy_helper


def dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--ops", action="store_true", help="only op types and counts")
    args = ap.parse_args()
    m = onnx.load(args.model)
    g = m.graph
    if args.ops:
        c = collections.Counter(n.op_type for n in g.node)
        print(" ".join("%s:%d" % (k, c[k]) for k in sorted(c)))
        return
    print("ir_version %d, opsets %s, producer %s %s" % (
        m.ir_version, [(o.domain or "ai.onnx", o.version) for o in m.opset_import],
        m.producer_name, m.producer_version))
    for vi in g.input:
        print("input  %s %s" % (vi.name, dims(vi)))
    for vi in g.output:
        print("output %s %s" % (vi.name, dims(vi)))
    for t in g.initializer:
        print("init   %s %s dtype=%d %s" % (t.name, list(t.dims), t.data_type,
                                             "raw_data" if t.raw_data else "typed"))
    for n in g.node:
        attrs = {}
        for a in n.attribute:
            v = helper.get_attribute_value(a)
            if isinstance(v, onnx.TensorProto):
                arr = numpy_helper.to_array(v)
                v = "tensor%s %s=%s" % (list(arr.shape), arr.dtype,
                                        arr.tolist() if arr.size <= 8 else "...")
            elif isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            attrs[a.name] = v
        print("node   %-18s %-40s %s -> %s %s" % (n.op_type, n.name, list(n.input),
                                                 list(n.output), attrs))


if __name__ == "__main__":
    main()
