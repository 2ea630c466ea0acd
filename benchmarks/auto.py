"""``mmsk fit`` end to end on real tables and a 20,000-row rule table, beside AutoGluon Tabular.

Tables, built from the data folder (``MMSK_DATA``):

- AV-digits: 3000 FSDD recordings (WAV paths) and digit images written as PNG files,
  folds by speaker, ten classes;
- COCO-mini: 80 photos with their first caption, predicting whether a person is in
  the photo (binary);
- UCI mfeat: six precomputed feature views (``fou__0``, ...), ten classes;
- CMU-POM: audio and video feature views (``audio__...``, ``video__...``), one
  trait as a regression target;
- rule: 20,000 synthetic rows (8 numeric columns, a 40-level categorical column,
  a six-word review) whose label follows a known rule plus noise, so that any
  model's accuracy can be judged against the rule's own.

Part 1, every table: ``mmsk fit`` with default settings, cold (empty output
folder) and warm (a rerun into it), the share of each stage, the leaderboard's
baseline and best single modality, the choice and its BBC estimate. With
``--before REV``, also the cold fit with the code of revision REV (the previous
search) and with this checkout's, each in a fresh process: a speed-up that does
not depend on how fast the machine runs that day.

Part 2, on the same splits in the same run: ``mmsk fit`` (defaults) and AutoGluon
Tabular (``medium_quality``) on mfeat, a POM trait and the rule table, trained on
70% and scored on the other 30% (POM: its own test split, and 70/30 splits of its 903
segments pooled), each table judged on the mean over its splits. AutoGluon runs in its
own environment (``--autogluon-python``, a venv with ``autogluon.tabular[lightgbm]``).

Goals on 2 cores (cold, defaults): AV-digits <= 100 s, mfeat <= 80 s, COCO-mini <=
30 s, POM trait <= 15 s, the rule table <= 5 minutes and within 0.01 of the rule's
accuracy; accuracy at least AutoGluon's on each table of part 2.

Run: ``python benchmarks/auto.py [--tables av coco mfeat pom rule] [--seeds 0 1 2]
[--autogluon-python PATH] [--before REV]``; writes the ``auto`` section of RESULTS.md, where the rows of
tables not run stay as they were.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import machine, section_tables, speed_reference, table, write_section  # noqa: E402

from mmsk.auto import fit_table, predict_table  # noqa: E402
from mmsk.datasets import load_av_digits, load_coco_mini, load_mfeat, load_pom  # noqa: E402

GOALS = {"av": 100, "coco": 30, "mfeat": 80, "pom": 15, "rule": 300}
#: Seconds of the previous search (one GridSearchCV per strategy, nested estimate, refit ablation).
BEFORE = {"av": 271, "coco": 102, "mfeat": 236, "pom": 42.7, "rule": "> 900"}
#: The last revision with that search (``--before``).
BEFORE_REV = "feda1dd"


def av_digits_table(root):
    av = load_av_digits()
    (root / "images").mkdir()
    paths = []
    for k, image in enumerate(av.data["image"]):
        path = f"images/{k:04d}.png"
        pixels = (np.asarray(image, dtype=float) / 16 * 255).astype(np.uint8)
        cv2.imwrite(str(root / path), cv2.resize(pixels, (32, 32), interpolation=cv2.INTER_NEAREST))
        paths.append(path)
    return pd.DataFrame(
        {"recording": av.data["audio"], "picture": paths, "speaker": av.groups, "digit": av.target}
    ), dict(target="digit", groups="speaker")


def coco_table(root):
    coco = load_coco_mini()
    frame = pd.DataFrame(
        {
            "photo": coco.frame["image"],
            "caption": coco.frame["captions"].map(lambda c: c[0]),
            "person": coco.frame["categories"].map(lambda c: int("person" in c)),
        }
    )
    return frame, dict(target="person")


def mfeat_table(root):
    mfeat = load_mfeat()
    return mfeat.data.assign(digit=mfeat.target), dict(target="digit")


def pom_table(root):
    pom = load_pom()
    return pom.data.assign(trait=pom.target["trait_0"].to_numpy()), dict(target="trait")


POSITIVE = ("great", "lovely", "fresh", "friendly", "perfect", "tasty")
NEGATIVE = ("cold", "rude", "stale", "slow", "awful", "noisy")
NEUTRAL = ("the", "food", "staff", "room", "was", "and", "very", "quite", "our", "table", "service", "menu")


def rule_frame(n=20000, seed=0):
    """Rows whose label is a known rule of the numbers, the category and the review's words, plus noise.

    Returns the table and each row's rule value (its log-odds): the rule's own
    accuracy on any rows is that of predicting ``logit > 0``.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    levels = np.array([f"shop{k:02d}" for k in range(40)])
    shop = rng.integers(0, 40, n)
    effect = np.random.default_rng(1).normal(scale=1.0, size=40)
    words = np.concatenate([POSITIVE, NEGATIVE, NEUTRAL])
    weight = np.concatenate([np.full(6, 0.8), np.full(6, -0.8), np.zeros(len(NEUTRAL))])
    drawn = rng.integers(0, len(words), size=(n, 6))
    logit = (
        1.0 * X[:, 0] - 0.8 * X[:, 1] + 0.6 * X[:, 2] * X[:, 3] + 0.5 * np.abs(X[:, 4])
        - 0.4 + effect[shop] + weight[drawn].sum(axis=1)
    )  # fmt: skip
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(8)])
    frame["shop"] = levels[shop]
    frame["review"] = [" ".join(row) for row in words[drawn]]
    frame["label"] = np.where(y, "yes", "no")
    return frame, logit


def rule_table(root):
    frame, _ = rule_frame()
    return frame, dict(target="label")


TABLES = {
    "av": av_digits_table,
    "coco": coco_table,
    "mfeat": mfeat_table,
    "pom": pom_table,
    "rule": rule_table,
}
NAMES = {"av": "AV-digits (3000, by speaker)", "coco": "COCO-mini photos + captions (80)",
         "mfeat": "UCI mfeat (2000, 6 views)", "pom": "CMU-POM trait 0 (regression)",
         "rule": "rule table (20000: numbers, category, review)"}  # fmt: skip


def fit_once(path, out, args):
    start = time.perf_counter()
    result = fit_table(path, out=out, progress=False, print_fn=None, **args)
    return time.perf_counter() - start, result


#: A cold fit in a process of its own, timed after ``mmsk.auto`` is imported (as in this script).
FIT_IN_A_PROCESS = """
import json, sys, time
from mmsk.auto import fit_table
start = time.perf_counter()
fit_table(sys.argv[1], out=sys.argv[2], progress=False, print_fn=None, **json.loads(sys.argv[3]))
print(time.perf_counter() - start)
"""
REPO = Path(__file__).resolve().parents[1]


def fit_in_a_process(code, path, out, args):
    """Seconds of a cold ``fit_table`` with the mmsk of folder ``code``, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", FIT_IN_A_PROCESS, str(path), str(out), json.dumps(args)],
        # run from that folder: ``python -c`` puts the working folder first on the path
        cwd=code, env={**os.environ, "PYTHONPATH": str(code)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def same_run_before(root, args, before):
    """The cold fit with the code of ``before`` and with this checkout's, each in its own process."""
    then = fit_in_a_process(before, root / "table.csv", root / "run_before", args)
    print(f"  before: {then:.1f} s", flush=True)
    now = fit_in_a_process(REPO, root / "table.csv", root / "run_now", args)
    return {"before s (same run)": round(then, 1), "now s (same run)": round(now, 1),
            "speed-up (same run)": f"{then / now:.1f}x"}  # fmt: skip


def part_one(name, work, before=None):
    root = work / name
    root.mkdir()
    frame, args = TABLES[name](root)
    frame.to_csv(root / "table.csv", index=False)
    cold, result = fit_once(root / "table.csv", root / "run", args)
    warm, _ = fit_once(root / "table.csv", root / "run", args)
    compared = same_run_before(root, args, before) if before is not None else {}
    summary = result["summary"]
    board = result["leaderboard"]
    singles = board[board["strategy"].str.startswith("only ")].dropna(subset=["mean_score"])
    best_single = singles.loc[singles["mean_score"].idxmax()]
    estimate = summary["estimate"]
    holds = estimate["mean"] >= best_single["mean_score"] - best_single["sem_score"] and (
        estimate["mean"] > summary["baseline_score"]
    )
    stages = dict(summary["seconds"])
    total = stages.pop("total")
    dropped = board.loc[board["status"] == "dropped", "strategy"].drop_duplicates().tolist()
    print(f"{NAMES[name]}: cold {cold:.0f} s, warm {warm:.0f} s; chosen {summary['best']['strategy']}; "
          f"BBC {estimate['mean']:.3f}; stages {stages}", flush=True)  # fmt: skip
    return {
        "table": NAMES[name],
        "metric": summary["metric"],
        "before s": BEFORE[name],
        "cold s": round(cold, 1),
        "goal s": GOALS[name],
        "met": "yes" if cold <= GOALS[name] else "NO",
        "warm s": round(warm, 1),
        "stages (share of cold)": ", ".join(
            f"{k} {v / total:.0%}" for k, v in stages.items() if v != "reused"
        ),
        "baseline": round(summary["baseline_score"], 3),
        "best single (+/- SE)": f"{best_single['strategy']} {best_single['mean_score']:.3f} "
        f"+/- {best_single['sem_score']:.3f}",
        "chosen (CV)": f"{summary['best']['strategy']} {summary['best']['mean_score']:.3f}",
        "BBC estimate [95%]": f"{estimate['mean']:.3f} [{estimate['ci_low']:.3f}, {estimate['ci_high']:.3f}]",
        "dropped": ", ".join(dropped) or "-",
        "left out by cost": ", ".join(summary["left_out"]) or "-",
        "holds": "yes" if holds else "NO",
        **compared,
    }


def pom_pooled():
    """POM's train, valid and test segments in one table (903 rows), for repeated 70/30 splits."""
    parts = [load_pom(split=s) for s in ("train", "valid", "test")]
    frame = pd.concat([p.data.assign(trait=p.target["trait_0"].to_numpy()) for p in parts])
    return frame.reset_index(drop=True)


def split(name, work, seed):
    """(root, train, test, target, task) of a table for part two.

    A 70/30 split by ``seed`` (stratified for classes); for POM, ``seed=None`` is
    its own split (600 train, 203 test segments), and a seed splits the 903
    segments pooled.
    """
    from sklearn.model_selection import train_test_split

    root = work / f"{name}_split{seed}"
    root.mkdir()
    if name == "pom":
        if seed is None:
            frame, _ = pom_table(root)
            test = load_pom(split="test")
            held = test.data.assign(trait=test.target["trait_0"].to_numpy())
            return root, frame, held.set_index(held.index + len(frame)), "trait", "regression"
        train, held = train_test_split(pom_pooled(), test_size=0.3, random_state=seed)
        return root, train, held, "trait", "regression"
    frame, args = TABLES[name](root)
    target = args["target"]
    train, held = train_test_split(frame, test_size=0.3, random_state=seed, stratify=frame[target])
    return root, train, held, target, "classification"


def split_name(name, seed):
    if name == "pom":
        return "POM test split" if seed is None else f"pooled 70/30 seed {seed}"
    return f"70/30 seed {seed}"


def versus_summary(rows):
    """Per table: the mean over its splits of both tools' scores and of their difference, with its SE."""
    out = []
    for name in dict.fromkeys(r["table"] for r in rows):
        mine = [r for r in rows if r["table"] == name and r.get("AutoGluon", "") != ""]
        if not mine:
            continue
        diff = np.array([float(r["mmsk"]) - float(r["AutoGluon"]) for r in mine])
        ratio = np.mean([float(r["time ratio (mmsk / AutoGluon)"]) for r in mine])
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        out.append({
            "table": name, "splits": len(mine),
            "mmsk mean": round(float(np.mean([float(r["mmsk"]) for r in mine])), 4),
            "AutoGluon mean": round(float(np.mean([float(r["AutoGluon"]) for r in mine])), 4),
            "mean difference (+/- SE over splits)": f"{diff.mean():+.4f} +/- {se:.4f}",
            "mean time ratio": round(float(ratio), 2),
            "accuracy >= AutoGluon (mean)": "yes" if diff.mean() >= 0 else "NO",
            "within noise (mean difference under 2 SE)": "yes" if abs(diff.mean()) < 2 * se else "no",
        })  # fmt: skip
    return out


AUTOGLUON = """
import json, sys, time
import pandas as pd
from autogluon.tabular import TabularPredictor
train, test, target, task, out, predictions = sys.argv[1:7]
train, test = pd.read_csv(train), pd.read_csv(test)
start = time.perf_counter()
predictor = TabularPredictor(label=target, path=out, verbosity=0,
    problem_type=None if task == "classification" else "regression",
    eval_metric="accuracy" if task == "classification" else "r2").fit(train, presets="medium_quality")
seconds = time.perf_counter() - start
score = predictor.evaluate(test, silent=True)
predictor.predict(test.drop(columns=target)).to_frame("prediction").to_csv(predictions, index=False)
print(json.dumps({"seconds": seconds, "score": score["accuracy" if task == "classification" else "r2"]}))
"""


def paired_difference(truth, ours, theirs, task, n_resamples=2000, seed=0):
    """95% percentile interval of mmsk's score minus AutoGluon's, over resamples of the held-out rows."""
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(seed)
    if task == "classification":
        ours, theirs = ours.astype(str) == truth.astype(str), theirs.astype(str) == truth.astype(str)
    else:
        ours, theirs, truth = ours.astype(float), theirs.astype(float), truth.astype(float)
    differences = []
    for _ in range(n_resamples):
        rows = rng.integers(0, len(truth), len(truth))
        if task == "classification":
            differences.append(ours[rows].mean() - theirs[rows].mean())
        else:
            differences.append(r2_score(truth[rows], ours[rows]) - r2_score(truth[rows], theirs[rows]))
    return np.percentile(differences, [2.5, 97.5])


def part_two(name, work, seed, autogluon_python):
    from sklearn.metrics import accuracy_score, r2_score

    root, train, held, target, task = split(name, work, seed)
    train.to_csv(root / "train.csv", index=False)
    held.drop(columns=target).to_csv(root / "test.csv", index=False)
    seconds, _ = fit_once(root / "train.csv", root / "run", {"target": target})
    predicted = predict_table(root / "run", root / "test.csv", print_fn=None)["prediction"]
    truth = held[target].to_numpy()
    if task == "classification":
        mmsk_score = accuracy_score(truth.astype(str), predicted.astype(str).to_numpy())
    else:
        mmsk_score = r2_score(truth, predicted.astype(float))
    # scores as text with four decimals: rows kept from RESULTS.md for the summary keep them all
    row = {"table": NAMES[name], "split": split_name(name, seed),
           "metric": "accuracy" if task == "classification" else "r2",
           "mmsk": f"{mmsk_score:.4f}", "mmsk s": round(seconds, 1)}  # fmt: skip
    if name == "rule":
        frame, logit = rule_frame()
        row["rule itself"] = round(float(((logit[held.index] > 0) == (held[target] == "yes")).mean()), 4)
    if autogluon_python:
        held.to_csv(root / "test_labelled.csv", index=False)
        script = root / "ag.py"
        script.write_text(AUTOGLUON)
        done = subprocess.run(
            [autogluon_python, str(script), str(root / "train.csv"), str(root / "test_labelled.csv"),
             target, task, str(root / "ag"), str(root / "ag_predictions.csv")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        ag = json.loads(done.stdout.strip().splitlines()[-1])
        row.update({"AutoGluon": f"{ag['score']:.4f}", "AutoGluon s": round(ag["seconds"], 1)})
        row["time ratio (mmsk / AutoGluon)"] = round(seconds / ag["seconds"], 2)
        row["accuracy >= AutoGluon"] = "yes" if mmsk_score >= ag["score"] else "NO"
        theirs = pd.read_csv(root / "ag_predictions.csv")["prediction"].to_numpy()
        low, high = paired_difference(truth, predicted.to_numpy(), theirs, task)
        row["mmsk - AutoGluon [95%]"] = f"{mmsk_score - ag['score']:+.4f} [{low:+.4f}, {high:+.4f}]"
    print(row, flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", choices=list(TABLES), default=list(TABLES))
    parser.add_argument(
        "--versus", nargs="*", choices=["mfeat", "pom", "rule"], default=None,
        help="the tables of the side-by-side with AutoGluon (default: all three when --autogluon-python is "
        "given, else none: their rows in RESULTS.md hold AutoGluon's figures, which a run without it would "
        "blank)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--autogluon-python", default=None, help="Python of a venv with AutoGluon Tabular.")
    parser.add_argument(
        "--before", metavar="REV", default=None,
        help="also time each table's cold fit with mmsk at git revision REV, and this checkout's, each in "
        "a process of its own, in this run (the previous search: " + BEFORE_REV + ")",
    )  # fmt: skip
    args = parser.parse_args()
    if args.versus is None:
        args.versus = ["mfeat", "pom", "rule"] if args.autogluon_python else []
    work = Path(tempfile.mkdtemp(prefix="mmsk_auto_bench_"))
    measured = {"measured": speed_reference()}
    before = None
    try:
        if args.before:
            before = work / "before"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), args.before],
                           check=True, capture_output=True)  # fmt: skip
        rows = [{**part_one(name, work, before), **measured} for name in args.tables]
        versus = [  # POM: its own split, then the seeds' splits of its segments pooled
            {**part_two(name, work, seed, args.autogluon_python), **measured}
            for name in args.versus
            for seed in ([None, *args.seeds] if name == "pom" else args.seeds)
        ]
    finally:
        if before is not None:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)])
        shutil.rmtree(work, ignore_errors=True)
    # the rows of tables not run this time stay, from the section as it is
    previous = section_tables("auto")
    kept, kept_versus = (previous + [[], []])[:2]
    rows = [r for r in kept if r["table"] not in {NAMES[n] for n in args.tables}] + rows
    versus = [r for r in kept_versus if r["table"] not in {NAMES[n] for n in args.versus}] + versus
    order = list(NAMES.values())
    rows.sort(key=lambda r: order.index(r["table"]))
    versus.sort(key=lambda r: order.index(r["table"]))  # stable: a table's splits keep their order
    body = [
        "## `mmsk fit` end to end",
        "",
        f"Machine: {machine()}. Default settings: 5-fold CV (folds by speaker for AV-digits), every strategy "
        "that applies, one StrategySearchCV, BBC-CV estimate (1000 resamples), ensemble, dropping on, "
        "importance by masking. Cold: empty output folder, in this script's process, where the tables run "
        "before it have already imported torch and compiled librosa's functions; warm: a rerun into it "
        "(reuses the search). "
        "'before': the same table with the previous search (one GridSearchCV per strategy, nested "
        "estimate, refit ablation). 'holds': BBC estimate >= best single modality - 1 SE, and > baseline. "
        "'measured': the day, and this machine's seconds for a short fixed single-core workload then "
        "(`_results.speed_reference`): rows from different runs share the table, and the same machine "
        "has run the same code up to three times slower on some days, a slowdown that short workload "
        "does not always catch. Rows without it were measured before it was recorded. "
        f"'same run' (with `--before {BEFORE_REV}`): the cold fit with the previous search's code and with "
        "this code, each in a fresh process, in the run that wrote the row: their ratio does not depend on "
        "the day's speed.",
        "",
        table(rows, list(dict.fromkeys(k for row in rows for k in row))),
    ]
    if versus:
        columns = list(dict.fromkeys(k for row in versus for k in row))
        body += [
            "",
            "### Beside AutoGluon Tabular (`medium_quality`), same splits, same run",
            "",
            "Both train on the same rows and predict the same held-out rows; seconds are each tool's fit "
            "(mmsk: the whole `mmsk fit` run with its report). AutoGluon in its own venv "
            "(`autogluon.tabular[lightgbm]`, no torch: its neural nets are skipped).",
            "",
            table(versus, columns),
        ]
        summary = versus_summary(versus)
        if summary:
            body += [
                "",
                "Each table judged on the mean over its splits (one split's interval is wide: POM's "
                "203 test rows give r2 an interval of about +/- 0.06). POM's pooled splits mix its "
                "official train, valid and test segments; both tools see the same rows.",
                "",
                table(summary, list(summary[0])),
            ]
    write_section("auto", "\n".join(body))


if __name__ == "__main__":
    main()
