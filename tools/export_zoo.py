#!/usr/bin/python3
"""Export whole architectures (random weights) with reference data in ONNX test-data layout.

    /usr/bin/python3 tools/export_zoo.py --out DIR [--model NAME ...] [--size S]
        [--batch N] [--seed S] [--tiny] [--opset K]

For each model writes
    DIR/NAME/model.onnx                    torch.onnx.export (default opset 13),
                                           input "input" [N,C,S,S] (batch axis
                                           "N"), output "logits", BatchNorm
                                           folded by PyTorch's eval-mode export
    DIR/NAME/test_data_set_0/input_0.pb    the input, a TensorProto (float32,
                                           standard normal)
    DIR/NAME/test_data_set_0/output_0.pb   PyTorch's eval-mode output for it

which is the layout of ONNX's own backend tests, so `test_conformance --models
DIR` (tests/test_conformance.c) runs them.

Models (no downloads: every weight is PyTorch's default init after
torch.manual_seed(S), then each BatchNorm gets random statistics):
    torchvision   resnet18 mobilenet_v2 mobilenet_v3_small squeezenet1_1
                  shufflenet_v2_x0_5 googlenet efficientnet_b0 densenet121
                  vgg11_bn (1000 classes, 3 channels, --size default 64)
    built-ins     lenet300 lenet5 vggsmall resnet8 mobilenet
                  (tools/torch_models.py, 1x28x28 whatever --size says)
--model all (the default) exports all fourteen. vgg11_bn needs --size 224
(its adaptive pool to 7x7 has no ONNX form at smaller sizes); it is skipped,
with a message, below that.

--tiny exports small versions instead, for the committed test set
tests/models/ (each well under 200 KB, 10 classes) that keep the patterns
of the full networks: shufflenet_v2 (channel split by Split/Slice, channel
shuffle by Reshape/Transpose), mobilenet_v3_small (HardSwish, HardSigmoid,
squeeze-and-excitation), efficientnet_b0 (SiLU as Sigmoid*Mul, SE, depthwise
5x5), densenet (dense Concat, AveragePool transitions), squeezenet (Fire
modules: Concat of 1x1 and 3x3 branches, ceil-mode MaxPool), googlenet
(Inception branches with a MaxPool branch). Their names end in _tiny.

Every model is checked with onnx.checker. Reference tooling only: nothing in
the library or its required tests runs this script.
"""

import argparse
import importlib
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402
from export_torchvision import randomize_bn  # noqa: E402  (BatchNorm statistics, as there)

TV = ("resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1",
      "shufflenet_v2_x0_5", "googlenet", "efficientnet_b0", "densenet121",
      "vgg11_bn")
BUILTIN = tuple(torch_models.ARCHS)
TINY = ("shufflenet_v2", "mobilenet_v3_small", "efficientnet_b0", "densenet",
        "squeezenet", "googlenet")


def build_tv(name):
    kw = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    return getattr(torchvision.models, name)(weights=None, **kw)


def tiny_googlenet():
    tv = importlib.import_module("torchvision.models.googlenet")
    inc = tv.Inception
    net = torch.nn.Sequential(
        tv.BasicConv2d(3, 16, kernel_size=3, stride=2, padding=1),
        torch.nn.MaxPool2d(3, stride=2, ceil_mode=True),
        inc(16, 8, 8, 16, 4, 8, 8),
        inc(40, 8, 8, 16, 4, 8, 8),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(40, 10))
    return net


def build_tiny(name):
    m = torchvision.models
    if name == "shufflenet_v2":
        return m.ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 128], num_classes=10)
    if name == "mobilenet_v3_small":
        setting, _ = m.mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
        return m.MobileNetV3(setting[:6], 64, num_classes=10)
    if name == "efficientnet_b0":
        setting, _ = m.efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25,
                                                       depth_mult=0.34)
        return m.EfficientNet(setting[:4], 0.2, num_classes=10, last_channel=64)
    if name == "densenet":
        return m.DenseNet(growth_rate=8, block_config=(2, 2, 2), num_init_features=16,
                          bn_size=2, num_classes=10)
    if name == "squeezenet":
        sq = m.squeezenet
        net = m.SqueezeNet("1_1", num_classes=10)
        net.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, kernel_size=3, stride=2), torch.nn.ReLU(inplace=True),
            torch.nn.MaxPool2d(3, stride=2, ceil_mode=True),
            sq.Fire(16, 8, 16, 16), sq.Fire(32, 8, 16, 16),
            torch.nn.MaxPool2d(3, stride=2, ceil_mode=True), sq.Fire(32, 8, 24, 24))
        net.classifier[1] = torch.nn.Conv2d(48, 10, kernel_size=1)
        return net
    if name == "googlenet":
        return tiny_googlenet()
    raise SystemExit("unknown tiny model '%s' (known: %s)" % (name, ", ".join(TINY)))


def save_pb(arr, name, path):
    t = numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def export(model, x, d, opset):
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    path = os.path.join(d, "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                          output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                          do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    with torch.no_grad():
        y = model(x)
    save_pb(x.numpy(), "input", os.path.join(d, "test_data_set_0", "input_0.pb"))
    save_pb(y.numpy(), "logits", os.path.join(d, "test_data_set_0", "output_0.pb"))
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return path, ops


def run(name, args):
    torch.manual_seed(args.seed)
    if args.tiny:
        model, shape, stem = build_tiny(name), (3, args.size, args.size), name + "_tiny"
    elif name in BUILTIN:
        model, shape, stem = torch_models.build(name), (1, 28, 28), name
    else:
        if name == "vgg11_bn" and args.size < 224:
            print("%s: skipped (needs --size 224)" % name)
            return
        model, shape, stem = build_tv(name), (3, args.size, args.size), name
    randomize_bn(model, torch.Generator().manual_seed(args.seed + 1))
    model.eval()
    x = torch.randn((args.batch,) + shape, generator=torch.Generator().manual_seed(args.seed + 2))
    path, ops = export(model, x, os.path.join(args.out, stem), args.opset)
    print("%s: %d parameters, %d bytes, ops %s" % (
        path, sum(p.numel() for p in model.parameters()), os.path.getsize(path),
        " ".join("%s:%d" % kv for kv in sorted(ops.items()))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--model", nargs="+", default=["all"],
                    help="names (see above) or all")
    ap.add_argument("--size", type=int, default=64, help="input height and width (torchvision)")
    ap.add_argument("--batch", type=int, default=2, help="samples in the reference input")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--tiny", action="store_true", help="the small test versions (see above)")
    args = ap.parse_args()
    if args.batch < 1 or args.size < 16:
        ap.error("--batch must be >= 1 and --size >= 16")
    known = TINY if args.tiny else TV + BUILTIN
    names = list(known) if args.model == ["all"] else args.model
    for n in names:
        if n not in known:
            ap.error("unknown model '%s' (known%s: %s)" % (n, " with --tiny" if args.tiny else "",
                                                         ", ".join(known)))
    torch.set_num_threads(2)
    for n in names:
        run(n, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
