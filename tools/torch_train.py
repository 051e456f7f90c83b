#!/usr/bin/python3
"""Train one of nnslim's built-in architectures with PyTorch, using the anchors' recipe.

    /usr/bin/python3 tools/torch_train.py --arch NAME [--epochs N] [--limit N]
        [--threads T] [--batch-size B] [--seed S] [--data DIR] [--json]
        [--save-state FILE] [--export-onnx FILE] [--no-test]

Recipe (the project's PyTorch anchors, "Data and recipe"):
  - Fashion-MNIST read from the IDX .gz files in DIR (default
    /usr/share/datasets/fashion-mnist) with gzip + numpy; input
    (x/255 - 0.2860) / 0.3530, float32 NCHW [N,1,28,28]; --limit N keeps the
    first N training images (the test set is always the full 10,000).
  - PyTorch default initialisation after torch.manual_seed(S).
  - SGD momentum 0.9 (PyTorch form), lr 0.05, weight decay 5e-4 on every
    parameter (BatchNorm and biases included), batch 128 with the last
    partial batch kept, mean cross-entropy, cosine schedule per step from lr
    to 0 over the whole run (lr_t = lr * (1 + cos(pi t / T)) / 2, t = 0..T-1),
    reshuffled every epoch (torch.Generator seeded with S), no augmentation.
  - Epochs: the architecture's (lenet300/lenet5 10, others 6) unless --epochs.

Timing: train images/s counts only the training steps (data slicing,
forward, backward, optimizer step) — test evaluation is excluded. The first
step (which includes PyTorch's one-off kernel set-up) is counted, as nnslim
counts its own. Progress goes to stderr; --json prints one JSON object on
stdout with train_images_per_second, test_accuracy, seconds_per_epoch, ...

--save-state FILE writes the trained state dict (.npz keyed by state-dict
names when FILE ends in .npz, else torch.save); tools/export_torch.py
--trained-state reads either. --export-onnx FILE writes the trained model as
ONNX (opset 13, eval mode, BatchNorm folded, input "input", output "logits").

Reference tooling only: nothing in the library or its required tests runs it.
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import torch_models  # noqa: E402

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
DEFAULT_EPOCHS = {"lenet300": 10, "lenet5": 10, "vggsmall": 6, "resnet8": 6, "mobilenet": 6}


def read_idx(path):
    """Read an IDX file (gzip-compressed when the name ends in .gz) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise SystemExit("%s: not an IDX file (bad magic)" % path)
    if data[2] != 0x08:
        raise SystemExit("%s: IDX element type 0x%02x, expected 0x08 (uint8)" % (path, data[2]))
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    off = 4 + 4 * ndim
    count = int(np.prod(dims)) if dims else 0
    if len(data) - off < count:
        raise SystemExit("%s: truncated (%d bytes of data, dims %s)" % (path, len(data) - off, dims))
    return np.frombuffer(data, dtype=np.uint8, count=count, offset=off).reshape(dims)


def find_file(d, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise SystemExit("%s: no %s[.gz]" % (d, stem))


def load_split(d, train, limit=0):
    pre = "train" if train else "t10k"
    x = read_idx(find_file(d, pre + "-images-idx3-ubyte"))
    y = read_idx(find_file(d, pre + "-labels-idx1-ubyte"))
    if x.shape[0] != y.shape[0]:
        raise SystemExit("%s: %d images but %d labels" % (d, x.shape[0], y.shape[0]))
    if limit and limit < x.shape[0]:
        x, y = x[:limit], y[:limit]
    xf = (x.astype(np.float32) / np.float32(255.0) - np.float32(MEAN)) / np.float32(STD)
    xt = torch.from_numpy(np.ascontiguousarray(xf.reshape(-1, 1, 28, 28), dtype=np.float32))
    yt = torch.from_numpy(y.astype(np.int64))
    return xt, yt


def evaluate(model, x, y, batch=256):
    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            xb, yb = x[i:i + batch], y[i:i + batch]
            out = model(xb)
            loss_sum += F.cross_entropy(out, yb, reduction="sum").item()
            correct += (out.argmax(1) == yb).sum().item()
    n = x.shape[0]
    return correct / n, loss_sum / n


def save_state(model, path):
    state = model.state_dict()
    if path.endswith(".npz"):
        np.savez(path, **{k: v.detach().cpu().numpy() for k, v in state.items()})
    else:
        torch.save(state, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", required=True, choices=torch_models.ARCHS)
    ap.add_argument("--epochs", type=int, default=0, help="default: the arch's (anchors)")
    ap.add_argument("--limit", type=int, default=0, help="use the first N training images (0: all)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=DEFAULT_DATA, help="MNIST-layout directory")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    ap.add_argument("--save-state", metavar="FILE", help="write the trained state dict (.npz or .pt)")
    ap.add_argument("--export-onnx", metavar="FILE", help="write the trained model as ONNX")
    ap.add_argument("--no-test", action="store_true", help="skip the test-set evaluation")
    args = ap.parse_args()
    if args.epochs < 0 or args.limit < 0 or args.threads < 1 or args.batch_size < 1:
        ap.error("--epochs/--limit must be >= 0, --threads/--batch-size >= 1")
    epochs = args.epochs or DEFAULT_EPOCHS[args.arch]

    torch.set_num_threads(args.threads)
    xtr, ytr = load_split(args.data, True, args.limit)
    xte, yte = (None, None) if args.no_test else load_split(args.data, False)

    torch.manual_seed(args.seed)
    model = torch_models.build(args.arch)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(args.seed)

    n = xtr.shape[0]
    bs = args.batch_size
    spe = (n + bs - 1) // bs
    T = spe * epochs
    t = 0
    images = 0
    train_s = 0.0
    per_epoch = []
    tty = sys.stderr.isatty()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        loss_sum, correct = 0.0, 0
        t0 = time.perf_counter()
        for step in range(spe):
            idx = perm[step * bs:(step + 1) * bs]
            xb = xtr.index_select(0, idx)
            yb = ytr.index_select(0, idx)
            lr = args.lr * 0.5 * (1.0 + math.cos(math.pi * t / T))
            for g in opt.param_groups:
                g["lr"] = lr
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            t += 1
            m = xb.shape[0]
            # .item() synchronises nothing on CPU but costs a little; nnslim
            # also computes loss and accuracy every step.
            loss_sum += loss.item() * m
            correct += (out.detach().argmax(1) == yb).sum().item()
            images += m
            if tty and (step % 20 == 0 or step == spe - 1):
                el = time.perf_counter() - t0
                sys.stderr.write("\repoch %d/%d  step %d/%d  loss %.4f  %.0f img/s"
                                 % (epoch + 1, epochs, step + 1, spe, loss_sum / max(1, (step * bs + m)),
                                    (step * bs + m) / el if el > 0 else 0))
        el = time.perf_counter() - t0
        train_s += el
        per_epoch.append(el)
        if tty:
            sys.stderr.write("\r\033[K")
        sys.stderr.write("epoch %d/%d  loss %.4f  train acc %.4f  %.0f img/s  %.1f s\n"
                         % (epoch + 1, epochs, loss_sum / n, correct / n, n / el if el > 0 else 0, el))

    ips = images / train_s if train_s > 0 else 0.0
    acc, tloss = (-1.0, -1.0) if args.no_test else evaluate(model, xte, yte)
    if args.save_state:
        save_state(model, args.save_state)
    if args.export_onnx:
        import export_torch  # needs onnx; imported only when asked
        model.eval()
        export_torch.export_one(model, xtr[:1].clone(), args.export_onnx, keep_bn=False)
    res = {
        "engine": "pytorch",
        "torch_version": torch.__version__,
        "arch": args.arch,
        "epochs": epochs,
        "batch_size": bs,
        "threads": args.threads,
        "seed": args.seed,
        "train_images": n,
        "train_images_per_second": round(ips, 1),
        "train_seconds": round(train_s, 3),
        "seconds_per_epoch": [round(s, 3) for s in per_epoch],
        "test_accuracy": round(acc, 6),
        "test_loss": round(tloss, 6),
        "params": torch_models.param_count(model),
    }
    if args.json:
        print(json.dumps(res))
    else:
        print("arch             %s (%d params)" % (args.arch, res["params"]))
        print("train images     %d x %d epochs, batch %d" % (n, epochs, bs))
        print("train speed      %.0f images/s (%d threads)" % (ips, args.threads))
        print("train time       %.1f s (%.1f s/epoch)" % (train_s, train_s / epochs))
        if not args.no_test:
            print("test accuracy    %.4f (loss %.4f)" % (acc, tloss))


if __name__ == "__main__":
    main()
