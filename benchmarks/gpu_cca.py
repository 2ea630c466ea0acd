"""Linear CCA and GCCA fits on the CPU and on CUDA (torch covariances), in one run.

Needs a CUDA device (otherwise it says so and writes nothing). Same data for
both: n rows, views of d columns with a shared latent. Writes the
``gpu-cca`` section of benchmarks/RESULTS.md.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import best_of, machine, table, write_section  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    import torch

    from mmsk.align import CCA, GCCA

    if not torch.cuda.is_available():
        print("No CUDA device: nothing measured.")
        return 0
    rows = []
    rng = np.random.default_rng(0)
    for d in args.dims:
        z = rng.normal(size=(args.rows, 5))
        X = np.hstack([z @ rng.normal(size=(5, d)) + rng.normal(size=(args.rows, d)) for _ in range(3)])
        views = {v: np.arange(j * d, (j + 1) * d) for j, v in enumerate("abc")}
        for name, make in (
            ("CCA", lambda dev: CCA({"a": views["a"], "b": views["b"]}, n_components=5, device=dev)),
            ("GCCA (3 views)", lambda dev: GCCA(views, n_components=5, device=dev)),
        ):
            make("cuda").fit(X[:1000])  # CUDA context and kernels, outside the timing
            cpu_t, cpu = best_of(lambda: make("cpu").fit(X), repeat=2)
            gpu_t, gpu = best_of(lambda: make("cuda").fit(X), repeat=3)
            agree = float(np.abs(cpu.canonical_correlations_ - gpu.canonical_correlations_).max())
            rows.append(
                {
                    "model": name,
                    "rows x columns per view": f"{args.rows} x {d}",
                    "CPU seconds": cpu_t,
                    "CUDA seconds": gpu_t,
                    "speed-up": f"{cpu_t / gpu_t:.1f}x",
                    "max correlation difference": f"{agree:.1e}",
                }
            )
    body = "\n\n".join(
        [
            "## CCA on a GPU (`benchmarks/gpu_cca.py`)",
            f"Machine: {machine()}. Fit time (best of 2 on the CPU, 3 on CUDA, float64), `device='cuda'` "
            "computes the covariances with torch on the GPU; the small eigenproblems stay on the CPU.",
            table(rows, list(rows[0])),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("gpu-cca", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
