"""PyTorch side of bench/bench_conv.c: time forward+backward of the conv
layers of nnslim's built-in models (batch 128, Fashion-MNIST sizes) with the
same thread count, so the two can be compared layer by layer.

Run: /usr/bin/python3 bench/bench_conv_torch.py [threads]
Reference tooling only: the library and its tests never need it."""
import os
import sys
import time

import torch
import torch.nn.functional as F

# name, C, M, H, k, stride, pad, groups   (square images and kernels)
SHAPES = [
    ("lenet5.conv1", 1, 6, 28, 5, 1, 2, 1),
    ("lenet5.conv2", 6, 16, 14, 5, 1, 0, 1),
    ("vgg.conv1", 1, 32, 28, 3, 1, 1, 1),
    ("vgg.conv2", 32, 32, 28, 3, 1, 1, 1),
    ("vgg.conv3", 32, 64, 14, 3, 1, 1, 1),
    ("vgg.conv4", 64, 64, 14, 3, 1, 1, 1),
    ("res.stem", 1, 16, 28, 3, 1, 1, 1),
    ("res.b1conv", 16, 16, 28, 3, 1, 1, 1),
    ("res.b2conv1", 16, 32, 28, 3, 2, 1, 1),
    ("res.b2conv2", 32, 32, 14, 3, 1, 1, 1),
    ("res.b2short", 16, 32, 28, 1, 2, 0, 1),
    ("res.b3conv1", 32, 64, 14, 3, 2, 1, 1),
    ("res.b3conv2", 64, 64, 7, 3, 1, 1, 1),
    ("res.b3short", 32, 64, 14, 1, 2, 0, 1),
    ("mob.expand16", 16, 64, 28, 1, 1, 0, 1),
    ("mob.dw64s1", 64, 64, 28, 3, 1, 1, 64),
    ("mob.dw64s2", 64, 64, 28, 3, 2, 1, 64),
    ("mob.project64", 64, 24, 14, 1, 1, 0, 1),
    ("mob.expand24", 24, 96, 14, 1, 1, 0, 1),
    ("mob.dw96s1", 96, 96, 14, 3, 1, 1, 96),
    ("mob.dw96s2", 96, 96, 14, 3, 2, 1, 96),
    ("mob.dw128s1", 128, 128, 7, 3, 1, 1, 128),
    ("mob.head", 32, 128, 7, 1, 1, 0, 1),
]


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    # NNS_BENCH_CPU=1: process CPU time (steadier on a shared machine with
    # one thread); times are the minimum over reps, as in bench_conv.c.
    clock = time.process_time if os.environ.get("NNS_BENCH_CPU") == "1" else time.perf_counter
    n = 128
    print("%-14s %9s %9s %9s" % ("layer", "fwd ms", "f+b ms", "GFLOP/s"))
    for name, c, m, h, k, s, p, g in SHAPES:
        x = torch.randn(n, c, h, h, requires_grad=c != 1)
        w = torch.randn(m, c // g, k, k, requires_grad=True)
        y = F.conv2d(x, w, None, s, p, 1, g)
        dy = torch.randn_like(y)
        ho = y.shape[2]
        flops = 2.0 * n * m * (c // g) * k * k * ho * ho
        for _ in range(3):
            y = F.conv2d(x, w, None, s, p, 1, g)
            y.backward(dy)
        reps = 10
        tf = tb = 1e30
        for _ in range(reps):
            t = clock()
            with torch.no_grad():
                F.conv2d(x, w, None, s, p, 1, g)
            tf = min(tf, clock() - t)
        for _ in range(reps):
            t = clock()
            y = F.conv2d(x, w, None, s, p, 1, g)
            y.backward(dy)
            tb = min(tb, clock() - t)
        nb = 3 if c != 1 else 2
        print("%-14s %9.2f %9.2f %9.1f" % (name, tf * 1e3, tb * 1e3, nb * flops / tb * 1e-9))


if __name__ == "__main__":
    main()
