#!/usr/bin/python3
"""Time an export_zoo.py architecture in PyTorch (the peer of `nnslim profile`).

    /usr/bin/python3 tools/torch_bench.py --model NAME [--size S] [--batch B]
        [--iters K] [--iters1 K1] [--threads T] [--seed S] [--tiny]

Builds NAME exactly as tools/export_zoo.py does (same constructor, seed and
BatchNorm statistics, eval mode), then times random float32 inputs under
torch.inference_mode(): a batch-1 run K1 times (default 50) and a batch-B run
K times (default 10), each after 3 warm-up runs. Prints one JSON line:
{"latency_ms_b1": median ms of a batch-1 run, "images_per_second": B / median
seconds of a batch-B run, "batch", "threads", "engine"}.

Exit codes: 0 ok, 2 usage, 77 PyTorch or torchvision not installed (the
benchmark then skips this peer and says so).
"""

import argparse
import json
import os
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--iters1", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny", action="store_true")
    args = ap.parse_args()
    if min(args.batch, args.iters, args.iters1, args.threads) < 1:
        ap.error("--batch, --iters, --iters1 and --threads must be >= 1")
    try:
        import torch
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import export_zoo
    except ImportError as e:
        print("torch_bench: %s" % e, file=sys.stderr)
        return 77
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.tiny:
        model, shape = export_zoo.build_tiny(args.model), (3, args.size, args.size)
    elif args.model in export_zoo.BUILTIN:
        model, shape = export_zoo.torch_models.build(args.model), (1, 28, 28)
    elif args.model in export_zoo.TV:
        model, shape = export_zoo.build_tv(args.model), (3, args.size, args.size)
    else:
        ap.error("unknown model '%s'" % args.model)
    export_zoo.randomize_bn(model, torch.Generator().manual_seed(args.seed + 1))
    model.eval()

    def median_ms(batch, iters):
        x = torch.randn((batch,) + shape)
        with torch.inference_mode():
            for _ in range(3):
                model(x)
            t = []
            for _ in range(iters):
                t0 = time.perf_counter()
                model(x)
                t.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(t)

    ms1 = median_ms(1, args.iters1)
    msb = median_ms(args.batch, args.iters)
    print(json.dumps({"latency_ms_b1": round(ms1, 4),
                      "images_per_second": round(args.batch / (msb / 1e3), 1),
                      "batch": args.batch, "threads": args.threads,
                      "engine": "torch " + torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
