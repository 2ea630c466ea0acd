"""``mmsk fit`` end to end on real tables: time per stage, cold and warm, and the honesty of its choice.

Tables, built from the data folder (``MMSK_DATA``):

- AV-digits: 3000 FSDD recordings (WAV paths) and digit images written as PNG files,
  folds by speaker, ten classes;
- COCO-mini: 80 photos with their first caption, predicting whether a person is in
  the photo (binary);
- UCI mfeat: six precomputed feature views (``fou__0``, ...), ten classes;
- CMU-POM: audio and video feature views (``audio__...``, ``video__...``), one
  trait as a regression target.

For each: ``mmsk fit`` with default settings (cold: empty output folder; warm: a
rerun into the same folder, which reads the extracted features back from the
cache), the share of each stage, the leaderboard's baseline and best single
modality, the chosen model, and the nested estimate of the whole choice.

Goals on 2 cores: warm photo+caption table <= 20 s; AV-digits <= 5 min cold; the
chosen model's nested score >= the best single modality's minus one standard
error, and above the baseline.

Run: ``python benchmarks/auto.py [--tables av coco mfeat pom]``; writes the
``auto`` section of RESULTS.md.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import machine, table, write_section  # noqa: E402

from mmsk.auto import fit_table  # noqa: E402
from mmsk.datasets import load_av_digits, load_coco_mini, load_mfeat, load_pom  # noqa: E402


def av_digits_table(root):
    av = load_av_digits()
    (root / "images").mkdir()
    paths = []
    for k, image in enumerate(av.data["image"]):
        path = f"images/{k:04d}.png"
        pixels = (np.asarray(image, dtype=float) / 16 * 255).astype(np.uint8)
        cv2.imwrite(str(root / path), cv2.resize(pixels, (32, 32), interpolation=cv2.INTER_NEAREST))
        paths.append(path)
    frame = pd.DataFrame(
        {"recording": av.data["audio"], "picture": paths, "speaker": av.groups, "digit": av.target}
    )
    frame.to_csv(root / "table.csv", index=False)
    return root / "table.csv", dict(target="digit", groups="speaker")


def coco_table(root):
    coco = load_coco_mini()
    frame = pd.DataFrame(
        {
            "photo": coco.frame["image"],
            "caption": coco.frame["captions"].map(lambda c: c[0]),
            "person": coco.frame["categories"].map(lambda c: int("person" in c)),
        }
    )
    frame.to_csv(root / "table.csv", index=False)
    return root / "table.csv", dict(target="person")


def mfeat_table(root):
    mfeat = load_mfeat()
    mfeat.data.assign(digit=mfeat.target).to_csv(root / "table.csv", index=False)
    return root / "table.csv", dict(target="digit")


def pom_table(root):
    pom = load_pom()
    pom.data.assign(trait=pom.target["trait_0"].to_numpy()).to_csv(root / "table.csv", index=False)
    return root / "table.csv", dict(target="trait")


TABLES = {"av": av_digits_table, "coco": coco_table, "mfeat": mfeat_table, "pom": pom_table}
NAMES = {"av": "AV-digits (3000, by speaker)", "coco": "COCO-mini photos + captions (80)",
         "mfeat": "UCI mfeat (2000, 6 views)", "pom": "CMU-POM trait 0 (regression)"}  # fmt: skip


def run(name, work):
    root = work / name
    root.mkdir()
    path, args = TABLES[name](root)
    out = root / "run"
    times = {}
    for phase in ("cold", "warm"):
        start = time.perf_counter()
        result = fit_table(path, out=out, progress=False, print_fn=None, **args)
        times[phase] = time.perf_counter() - start
        if phase == "cold":
            stages = dict(result["summary"]["seconds"])
    summary = result["summary"]
    board = result["leaderboard"]
    singles = board[board["strategy"].str.startswith("only ")]
    best_single = singles.loc[singles["mean_score"].idxmax()]
    nested = summary["nested"]
    holds = nested["mean"] >= best_single["mean_score"] - best_single["sem_score"] and (
        nested["mean"] > summary["baseline_score"]
    )
    print(
        f"{NAMES[name]}: cold {times['cold']:.0f} s, warm {times['warm']:.0f} s; chosen "
        f"{summary['best']['strategy']}; nested {nested['mean']:.3f} [{nested['ci_low']:.3f}, "
        f"{nested['ci_high']:.3f}]; best single {best_single['strategy']} {best_single['mean_score']:.3f} "
        f"+/- {best_single['sem_score']:.3f}; baseline {summary['baseline_score']:.3f}",
        flush=True,
    )
    total = stages.pop("total")
    return {
        "table": NAMES[name],
        "metric": summary["metric"],
        "cold s": round(times["cold"], 1),
        "warm s": round(times["warm"], 1),
        "stages (share of cold)": ", ".join(f"{k} {v / total:.0%}" for k, v in stages.items()),
        "baseline": round(summary["baseline_score"], 3),
        "best single (+/- SE)": f"{best_single['strategy']} {best_single['mean_score']:.3f} "
        f"+/- {best_single['sem_score']:.3f}",
        "chosen (CV)": f"{summary['best']['strategy']} {summary['best']['mean_score']:.3f}",
        "nested [95% CI]": f"{nested['mean']:.3f} [{nested['ci_low']:.3f}, {nested['ci_high']:.3f}]",
        "holds": "yes" if holds else "NO",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", choices=list(TABLES), default=list(TABLES))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mmsk_auto_bench_"))
    try:
        rows = [run(name, work) for name in args.tables]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    columns = list(rows[0])
    body = "\n".join(
        [
            "## `mmsk fit` end to end",
            "",
            f"Machine: {machine()}. Default settings (5-fold CV, folds by speaker for AV-digits; every "
            "strategy; nested estimate). Cold: empty output folder; warm: a rerun into it (features read "
            "from the cache). 'holds': nested score >= best single modality - 1 SE, and > baseline.",
            "",
            table(rows, columns),
            "",
            "Goals: warm photo+caption table <= 20 s; AV-digits <= 5 min cold.",
        ]
    )
    write_section("auto", body)


if __name__ == "__main__":
    main()
