#!/usr/bin/python3
"""Export nnslim's built-in architectures from PyTorch to ONNX with golden data.

    /usr/bin/python3 tools/export_torch.py --arch NAME --out DIR [--seed S]
        [--batch N] [--trained-state FILE] [--keep-bn]
    /usr/bin/python3 tools/export_torch.py --all --out DIR [...]

For each arch writes
    DIR/NAME.onnx      torch.onnx.export, opset 13, eval mode, input "input"
                       [N,1,28,28], output "logits" [N,10], batch axis "N".
                       PyTorch's eval export folds BatchNorm into the Conv
                       weights, so this file has no BatchNormalization node.
    DIR/NAME_bn.onnx   only with --keep-bn, for archs that have BatchNorm:
                       the same model exported without that folding, so it
                       contains BatchNormalization nodes (training_mode=0).
    DIR/NAME_x.npy     float32 [N,1,28,28] random input (standard normal).
    DIR/NAME_y.npy     float32 [N,10] PyTorch's eval-mode output for it.

Weights: PyTorch's default init after torch.manual_seed(S); every BatchNorm
then gets random non-trivial running statistics and affine parameters, so the
eval-mode BatchNorm path is exercised. --trained-state FILE loads a state dict
instead (a torch.save()d dict, or a .npz whose keys are the state-dict names).

Every written model is checked with onnx.checker. Reference tooling only:
nothing in the library or its required tests runs this script.
"""

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import onnx  # noqa: E402

import torch_models  # noqa: E402

OPSET = 13


def load_state(model, path):
    if path.endswith(".npz"):
        with np.load(path) as z:
            state = {k: torch.from_numpy(np.array(z[k])) for k in z.files}
    else:
        state = torch.load(path, map_location="cpu")
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
    want = model.state_dict()
    for k, v in state.items():
        if k in want and tuple(want[k].shape) != tuple(v.shape):
            raise SystemExit("%s: '%s' has shape %s, model expects %s"
                             % (path, k, list(v.shape), list(want[k].shape)))
    missing, unexpected = model.load_state_dict(state, strict=False)
    # num_batches_tracked does not matter in eval mode
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit("%s: state does not fit the model (missing %s, unexpected %s)"
                         % (path, missing, unexpected))


def has_bn(model):
    return any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def export_one(model, x, path, keep_bn):
    # TrainingMode.EVAL (default) folds BatchNorm into Conv; PRESERVE on a
    # model in eval mode exports plain inference BatchNormalization nodes.
    mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, x, path,
            opset_version=OPSET,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
            training=mode,
            do_constant_folding=True,
        )
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})
    return ops, len(m.graph.node)


def run_arch(arch, args):
    torch.manual_seed(args.seed)
    model = torch_models.build(arch)
    gen = torch.Generator().manual_seed(args.seed + 1)
    torch_models.randomize_bn_stats(model, gen)
    if args.trained_state:
        load_state(model, args.trained_state)
    model.eval()

    xgen = torch.Generator().manual_seed(args.seed + 2)
    x = torch.randn(args.batch, 1, 28, 28, generator=xgen, dtype=torch.float32)
    with torch.no_grad():
        y = model(x)

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, arch + ".onnx")
    ops, n = export_one(model, x, onnx_path, keep_bn=False)
    print("%s: %d nodes, ops %s" % (onnx_path, n, " ".join(ops)))
    if args.keep_bn and has_bn(model):
        bn_path = os.path.join(args.out, arch + "_bn.onnx")
        ops, n = export_one(model, x, bn_path, keep_bn=True)
        print("%s: %d nodes, ops %s" % (bn_path, n, " ".join(ops)))
    np.save(os.path.join(args.out, arch + "_x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(args.out, arch + "_y.npy"), y.numpy().astype(np.float32))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=torch_models.ARCHS)
    ap.add_argument("--all", action="store_true", help="export every arch")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4, help="rows in NAME_x.npy (default 4)")
    ap.add_argument("--trained-state", help="state dict to load (.pt or .npz)")
    ap.add_argument("--keep-bn", action="store_true",
                    help="also write NAME_bn.onnx with BatchNormalization nodes kept")
    args = ap.parse_args()
    if args.all == bool(args.arch):
        ap.error("give exactly one of --arch NAME or --all")
    if args.batch < 1:
        ap.error("--batch must be >= 1")
    if args.all and args.trained_state:
        ap.error("--trained-state fits one arch; use it with --arch")
    for arch in (torch_models.ARCHS if args.all else [args.arch]):
        run_arch(arch, args)


if __name__ == "__main__":
    main()
