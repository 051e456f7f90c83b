#!/usr/bin/python3
"""prune_speed_torch.py — PyTorch's side of the channel-pruning speed comparison:
vggsmall dense and with torch.nn.utils.prune.ln_structured (L1, 50% of each conv's
output channels) masks, batch-1 latency and batch-64 throughput, median of R runs.
Prints one JSON line. Used by bench/prune_speed.sh beside `nnslim compare`.

usage: /usr/bin/python3 bench/prune_speed_torch.py [--threads 2] [--repeats 200]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.utils.prune as prune

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import torch_models  # noqa: E402


def median_ms(model, batch, repeats):
    x = torch.randn(batch, 1, 28, 28)
    with torch.no_grad():
        model(x)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = torch_models.build("vggsmall").eval()
    res = {"engine": "torch", "version": torch.__version__, "threads": a.threads}
    res["dense_ms_b1"] = median_ms(model, 1, a.repeats)
    res["dense_ms_b64"] = median_ms(model, 64, max(a.repeats // 10, 5))
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            prune.ln_structured(m, "weight", amount=0.5, n=1, dim=0)
    res["masked_ms_b1"] = median_ms(model, 1, a.repeats)
    res["masked_ms_b64"] = median_ms(model, 64, max(a.repeats // 10, 5))
    res["speedup_b1"] = res["dense_ms_b1"] / res["masked_ms_b1"]
    res["speedup_b64"] = res["dense_ms_b64"] / res["masked_ms_b64"]
    print(json.dumps(res))


if __name__ == "__main__":
    main()
