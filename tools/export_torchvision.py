#!/usr/bin/python3
"""Export torchvision's ResNet-18 and MobileNetV2 (random weights) to ONNX.

    /usr/bin/python3 tools/export_torchvision.py --model resnet18|mobilenet_v2|all
        --out DIR [--seed S] [--batch N] [--tiny] [--default-bn]

For each model writes
    DIR/NAME.onnx    torch.onnx.export, opset 13, input "input" [N,3,32,32],
                     output "logits" [N,10], batch axis "N", exported with
                     training=TrainingMode.PRESERVE on the model in eval mode,
                     so BatchNormalization nodes are kept (not folded into the
                     convolutions) and channel pruning can use their gamma.
    DIR/NAME_x.npy   float32 [N,3,32,32] random input (standard normal).
    DIR/NAME_y.npy   float32 [N,10] PyTorch's eval-mode output for it.

Models: torchvision.models.resnet18(num_classes=10) and
torchvision.models.mobilenet_v2(num_classes=10), unchanged (ResNet-18 keeps
its 7x7 stride-2 stem and max pool, so a 32x32 input reaches layer4 as 1x1).
ResNet-18 is about 45 MB: do not commit it.

--tiny writes a small MobileNetV2 instead ("mobilenet_v2_tiny": width 0.25,
the first four stages only, last channel 64, about 14 K parameters, 90 KB) that keeps
torchvision's graph patterns (Conv-BN-ReLU6 as Clip, depthwise convolutions,
inverted residual Add, GlobalAveragePool, Flatten, Gemm); it is small enough
to be committed as a test model (tests/golden_tv/).

Weights: PyTorch's default init after torch.manual_seed(S); then every
BatchNorm gets random affine parameters and running statistics (so the
eval-mode BN path is exercised and no two BNs share identical tensors).
--default-bn keeps the default BN init (gamma 1, beta 0, mean 0, var 1): the
exporter then de-duplicates identical initializers through Identity nodes,
a pattern nnslim's importer must undo.

Every written model is checked with onnx.checker. Reference tooling only:
nothing in the library or its required tests runs this script.
"""

import argparse
import os
import sys
import warnings

import numpy as np

import torch  # noqa: E402
import torchvision  # noqa: E402
import onnx  # noqa: E402

OPSET = 13
MODELS = ("resnet18", "mobilenet_v2")


def randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.rand(c, generator=gen) * 1.5 + 0.25)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)


def build(name, tiny):
    if name == "resnet18":
        if tiny:
            raise SystemExit("--tiny is only available for mobilenet_v2")
        return torchvision.models.resnet18(num_classes=10)
    if name == "mobilenet_v2":
        if not tiny:
            return torchvision.models.mobilenet_v2(num_classes=10)
        # t, c, n, s as in torchvision's default setting, first four stages
        setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2]]
        m = torchvision.models.mobilenet_v2(num_classes=10, width_mult=0.25,
                                            inverted_residual_setting=setting,
                                            round_nearest=8)
        # shrink the 1280-channel head to 64 so the file stays small
        head = m.features[-1]
        cin = head[0].in_channels
        m.features[-1] = torchvision.ops.Conv2dNormActivation(
            cin, 64, kernel_size=1, norm_layer=torch.nn.BatchNorm2d,
            activation_layer=torch.nn.ReLU6)
        m.classifier[1] = torch.nn.Linear(64, 10)
        m.last_channel = 64
        return m
    raise SystemExit("unknown model '%s' (known: %s)" % (name, ", ".join(MODELS)))


def export_one(model, x, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, x, path,
            opset_version=OPSET,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
            # PRESERVE on an eval-mode model: inference BatchNormalization
            # nodes are kept (EVAL would fold them into the Conv weights).
            training=torch.onnx.TrainingMode.PRESERVE,
            do_constant_folding=True,
        )
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    if "BatchNormalization" not in ops:
        raise SystemExit("%s: BatchNormalization nodes were folded away" % path)
    return ops


def run(name, args):
    torch.manual_seed(args.seed)
    model = build(name, args.tiny)
    if not args.default_bn:
        randomize_bn(model, torch.Generator().manual_seed(args.seed + 1))
    model.eval()
    x = torch.randn(args.batch, 3, 32, 32,
                    generator=torch.Generator().manual_seed(args.seed + 2))
    with torch.no_grad():
        y = model(x)
    os.makedirs(args.out, exist_ok=True)
    stem = name + ("_tiny" if args.tiny else "")
    path = os.path.join(args.out, stem + ".onnx")
    ops = export_one(model, x, path)
    np.save(os.path.join(args.out, stem + "_x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(args.out, stem + "_y.npy"), y.numpy().astype(np.float32))
    nparams = sum(p.numel() for p in model.parameters())
    print("%s: %d parameters, %d bytes, ops %s" % (
        path, nparams, os.path.getsize(path),
        " ".join("%s:%d" % kv for kv in sorted(ops.items()))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, choices=MODELS + ("all",))
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4, help="samples in NAME_x.npy")
    ap.add_argument("--tiny", action="store_true",
                    help="a small MobileNetV2 with torchvision's structure")
    ap.add_argument("--default-bn", action="store_true",
                    help="keep the default BatchNorm init (see above)")
    args = ap.parse_args()
    if args.batch < 1:
        ap.error("--batch must be >= 1")
    names = MODELS if args.model == "all" else (args.model,)
    if args.tiny and args.model != "mobilenet_v2":
        ap.error("--tiny goes with --model mobilenet_v2")
    for n in names:
        run(n, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
