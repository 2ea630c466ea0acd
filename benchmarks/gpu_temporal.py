"""The temporal fusion net on a GPU against the CPU, in float32 and float64: one script for a lent device.

Two sequence views of T = 50 steps and d = 64 features (``make_event_timing``),
``FusionClassifier(fusion="temporal_concat")`` with hidden 128 and batch 1024:

- seconds per epoch on CUDA over ``--rows`` sequences (100,000 by default),
  in float32 and float64;
- seconds per epoch on the CPU of the same machine over ``--cpu-rows`` (10,000),
  scaled to ``--rows``; goal: CUDA >= 10x faster in float32;
- the same network in a hand-written loop under ``torch.autocast`` (bf16 where
  the GPU has it, else fp16) against float32, on the GPU;
- then the CUDA tests (``pytest -m gpu``).

Each timing is skorch's per-epoch duration (its history), the mean over the
epochs after the first. Run on the device machine:
``python benchmarks/gpu_temporal.py [--rows 100000] [--cpu-rows 10000] [--epochs 2]``;
with ``--smoke`` it runs tiny sizes (on the CPU too) to check the script.
Writes the ``gpu_temporal`` section of benchmarks/RESULTS.md.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import machine, table, write_section  # noqa: E402


def net(device, dtype, epochs, batch):
    from mmsk.fusion import FusionClassifier

    return FusionClassifier(fusion="temporal_concat", hidden=128, embed_dim=64, batch_size=batch,
                            max_epochs=epochs, device=device, dtype=dtype, random_state=0)  # fmt: skip


def seconds_per_epoch(model):
    durations = model.net_.history[:, "dur"]
    return float(np.mean(durations[1:] if len(durations) > 1 else durations))


def autocast_epoch(model, X, y, device, batch, kind):
    """Seconds of one epoch of the fitted network in a hand loop under autocast(kind) (or float32)."""
    import copy

    import torch

    from mmsk import sequence_arrays

    arrays = sequence_arrays(X)
    n = len(X)
    inputs = {
        "x": np.hstack([a.reshape(n, -1) for a in arrays.values()]),
        "mask": np.ones((n, len(arrays))),
        "step_mask": np.hstack([~np.isnan(a[..., 0]) for a in arrays.values()]),
    }
    inputs = {k: torch.as_tensor(v, dtype=torch.float32, device=device) for k, v in inputs.items()}
    target = torch.as_tensor(np.asarray(y), device=device)
    module = copy.deepcopy(model.net_.module_).to(device).float().train()
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=kind == "float16")
    order = torch.randperm(n, device=device)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(0, n, batch):
        idx = order[i : i + batch]
        opt.zero_grad()
        with torch.autocast("cuda", dtype=getattr(torch, kind), enabled=kind != "float32"):
            loss = torch.nn.functional.cross_entropy(
                module(**{k: v[idx] for k, v in inputs.items()}), target[idx]
            )
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv=None):
    import torch

    from mmsk.datasets import make_event_timing

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cpu-rows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.cpu_rows, args.epochs = 2000, 500, 2
    cuda = torch.cuda.is_available()
    X, y = make_event_timing(args.rows, n_steps=50, n_features=64, random_state=0)
    rows = []
    devices = (["cuda"] if cuda else []) + ["cpu"]
    for device in devices:
        for dtype in ("float32", "float64"):
            # float64 on the CPU is the slowest of all: a fifth of the CPU rows
            n = args.rows if device == "cuda" else args.cpu_rows // (5 if dtype == "float64" else 1)
            model = net(device, dtype, args.epochs, 1024).fit(X.iloc[:n], y[:n])
            per_epoch = seconds_per_epoch(model)
            rows.append({"device": device, "dtype": dtype, "rows timed": n, "s / epoch": per_epoch,
                         f"s / epoch for {args.rows} rows": per_epoch * args.rows / n})  # fmt: skip
            print(rows[-1], flush=True)
    speed = {(r["device"], r["dtype"]): r[f"s / epoch for {args.rows} rows"] for r in rows}
    summary = []
    if cuda:
        for dtype in ("float32", "float64"):
            ratio = speed[("cpu", dtype)] / speed[("cuda", dtype)]
            summary.append({"dtype": dtype, "CUDA speed-up over CPU": ratio,
                            "goal >= 10x": "yes" if ratio >= 10 or dtype == "float64" else "NO"})  # fmt: skip
        half = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        model = net("cuda", "float32", 1, 1024).fit(X.iloc[:2000], y[:2000])
        autocast = {kind: autocast_epoch(model, X, y, "cuda", 1024, kind) for kind in ("float32", half)}
        summary.append({"dtype": f"{half} autocast (hand loop)",
                        "CUDA speed-up over CPU": autocast["float32"] / autocast[half],
                        "goal >= 10x": "(vs float32 on CUDA)"})  # fmt: skip
        command = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider", "tests"]
        tests = subprocess.run(command, capture_output=True, text=True)
        last = tests.stdout.strip().splitlines()[-1]
        summary.append({"dtype": "CUDA tests", "CUDA speed-up over CPU": last,
                        "goal >= 10x": f"rc {tests.returncode}"})  # fmt: skip
    body = "\n\n".join([
        "## The temporal net on a GPU (`benchmarks/gpu_temporal.py`)",
        f"Machine: {machine()}. Two views of 50 steps x 64 features, temporal_concat, hidden 128, batch "
        f"1024; {args.rows} rows on CUDA, the CPU timed on {args.cpu_rows} (float64: a fifth) and scaled.",
        table(rows, list(rows[0])),
        table(summary, list(summary[0])) if summary else "No CUDA device: CPU rows only.",
    ])  # fmt: skip
    print(body)
    if not args.smoke:
        write_section("gpu_temporal", body)


if __name__ == "__main__":
    main()
