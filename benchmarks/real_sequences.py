"""Time on real sequences: temporal nets against statistics over time, on data sets that are small.

- CMU-POM: 17 personality traits from word-aligned audio (COVAREP, 43) and
  video (FACET, 41) features over 20 steps; its own train split (600 rows)
  against its test split. Pooled: ``TemporalPooling`` then a ridge regression
  per trait on both views' statistics. Temporal: ``FusionRegressor`` with
  early fusion over time (``"temporal_concat"``), all 17 traits at once
  (standardised), 3 seeds. Score: Pearson r of each trait on the test rows,
  averaged over the traits.
- FSDD spoken digits, speaker-independent: four held-out pairs of speakers
  (trained on the other four). The audio as 32 frames of 13 MFCCs and their
  deltas (``AudioFeatures(output="frames", resample=True)``). Pooled: the
  same features' mean and standard deviation over the clip
  (``AudioFeatures``' statistics), and ``TemporalPooling`` of the frames, each
  with a logistic regression. Temporal: ``FusionClassifier`` with a GRU or a
  transformer encoder on the frames.
- AV-digits: the same recordings paired with 8x8 digit images, the same
  speaker pairs. Pooled: early fusion of the frames' ``TemporalPooling`` and
  the pixels. Temporal: ``FusionClassifier`` (attention fusion) with a GRU
  encoder on the audio frames and an MLP on the pixels.
- ``mmsk fit`` with default settings on POM's train split as sequence views
  (trait 0), then ``mmsk predict`` on the test split with 30% of its rows
  missing the video view.

Every sequence view is standardised one feature at a time across its steps
(``SequenceScaler``). There is no goal to meet: the figures say where time
helps on data this small, and where it does not.

Run: ``python benchmarks/real_sequences.py [--seeds 0 1 2] [--epochs 60]``;
writes the ``real_sequences`` section of benchmarks/RESULTS.md.
"""

import argparse
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import machine, table, write_section  # noqa: E402

#: FSDD at 8 kHz: a 512-sample window, a 128-sample hop, 32 steps after resampling.
FRAMES = dict(sr=8000, n_fft=512, hop_length=128, n_mfcc=13, features=("mfcc", "delta"), trim_db=30)
N_STEPS = 32


def deep(kind, seed, epochs, **params):
    from mmsk.fusion import FusionClassifier, FusionRegressor

    model = FusionClassifier if kind == "classification" else FusionRegressor
    return model(hidden=64, embed_dim=32, max_epochs=epochs, early_stopping=True, patience=8, lr=3e-3,
                 random_state=seed, **params)  # fmt: skip


def mean_r(truth, predicted):
    return float(np.mean([np.corrcoef(truth[:, j], predicted[:, j])[0, 1] for j in range(truth.shape[1])]))


def pom(args):
    """Mean Pearson r over POM's 17 traits on its test split: pooled ridge against temporal nets."""
    from sklearn.linear_model import RidgeCV
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mmsk.compose import SequenceScaler, TemporalPooling
    from mmsk.datasets import load_pom

    train, test = load_pom(split="train", pooling="sequence"), load_pom(split="test", pooling="sequence")
    Y, Y_test = train.target.to_numpy(), test.target.to_numpy()
    rows = []
    start = time.perf_counter()
    pooled = make_pipeline(TemporalPooling(), StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13)))
    predicted = MultiOutputRegressor(pooled).fit(train.data, Y).predict(test.data)
    rows.append({"model": "TemporalPooling + ridge per trait", "seed": "-",
                 "mean r": mean_r(Y_test, predicted), "seconds": time.perf_counter() - start})  # fmt: skip
    for family in ("temporal_concat", "cross_attention"):
        for seed in args.seeds:
            start = time.perf_counter()
            scale = StandardScaler().fit(Y)
            net = make_pipeline(
                SequenceScaler().set_output(transform="pandas"),
                deep("regression", seed, args.epochs, fusion=family),
            )
            net.fit(train.data, scale.transform(Y))
            predicted = scale.inverse_transform(net.predict(test.data))
            seconds = time.perf_counter() - start
            rows.append({"model": f"FusionRegressor ({family})", "seed": seed,
                         "mean r": mean_r(Y_test, predicted), "seconds": seconds})  # fmt: skip
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def speaker_pairs(speakers):
    """Four held-out pairs of the six speakers: three disjoint ones, then one across them."""
    s = sorted(speakers)
    return [(s[0], s[1]), (s[2], s[3]), (s[4], s[5]), (s[1], s[4])]


def digits(args, cache):
    """FSDD (audio alone) and AV-digits (audio + image), by held-out speaker pair."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mmsk import sequence_frame
    from mmsk.compose import SequenceScaler, TemporalPooling
    from mmsk.datasets import load_av_digits
    from mmsk.extract import AudioFeatures
    from mmsk.fusion import EarlyFusionClassifier, GRUEncoder, TransformerSequenceEncoder

    av = load_av_digits()
    paths = av.data["audio"]
    frames = AudioFeatures(**FRAMES, output="frames", n_frames=N_STEPS, resample=True, n_jobs=-1, cache=cache)
    frames = frames.fit_transform(paths)
    width = frames.shape[1] // N_STEPS
    audio = sequence_frame({"audio": frames.reshape(len(paths), N_STEPS, width)})
    stats = AudioFeatures(**FRAMES, stats=("mean", "std"), n_jobs=-1, cache=cache).fit_transform(paths)
    stats = pd.DataFrame(stats, columns=[f"audio__s{j}" for j in range(stats.shape[1])])
    pixels = pd.DataFrame(np.stack([np.ravel(i) for i in av.data["image"]]) / 16.0,
                          columns=[f"image__px{j}" for j in range(64)])  # fmt: skip
    y, speaker = av.target.to_numpy(), av.groups.to_numpy()

    def linear():
        return LogisticRegression(max_iter=3000, C=1.0)

    def scaled(net):
        return make_pipeline(SequenceScaler().set_output(transform="pandas"), net)

    def nets(seed):
        both = audio.join(pixels)
        net = partial(deep, "classification", seed, args.epochs)
        return {
            ("FSDD", "audio statistics (AudioFeatures) + logistic"): (
                stats, make_pipeline(StandardScaler(), linear())),
            ("FSDD", "TemporalPooling of the frames + logistic"): (
                audio, make_pipeline(TemporalPooling(), StandardScaler(), linear())),
            ("FSDD", "GRU on the frames"): (audio, scaled(net(encoders={"audio": GRUEncoder}))),
            ("FSDD", "transformer on the frames"): (
                audio, scaled(net(encoders={"audio": TransformerSequenceEncoder}))),
            ("AV-digits", "early fusion of TemporalPooling + pixels"): (
                both, make_pipeline(TemporalPooling(), EarlyFusionClassifier(linear())).set_output(
                    transform="pandas")),
            ("AV-digits", "GRU on the frames + MLP on the pixels (attention)"): (
                both, scaled(net(fusion="attention", encoders={"audio": GRUEncoder}))),
        }  # fmt: skip

    rows = []
    for pair in speaker_pairs(np.unique(speaker)):
        test = np.isin(speaker, pair)
        for (data, name), (X, model) in nets(0).items():
            start = time.perf_counter()
            model.fit(X[~test], y[~test])
            score = float((model.predict(X[test]) == y[test]).mean())
            rows.append({"data": data, "model": name, "held-out speakers": " + ".join(pair),
                         "accuracy": score, "seconds": time.perf_counter() - start})  # fmt: skip
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def fit_on_pom(work):
    """``mmsk fit`` with defaults on POM's sequences (trait 0); predictions on the test split."""
    from sklearn.metrics import r2_score

    from mmsk.auto import fit_table, predict_table
    from mmsk.datasets import load_pom

    train, test = load_pom(split="train", pooling="sequence"), load_pom(split="test", pooling="sequence")
    train.data.assign(trait=train.target["trait_0"].to_numpy()).to_csv(work / "pom.csv", index=False)
    start = time.perf_counter()
    result = fit_table(work / "pom.csv", out=work / "run", target="trait", progress=False, print_fn=None)
    seconds = time.perf_counter() - start
    rng = np.random.default_rng(0)
    held = test.data.copy()
    lost = rng.random(len(held)) < 0.3
    held.loc[lost, [c for c in held.columns if c.startswith("video__")]] = np.nan
    predicted = predict_table(work / "run", held, print_fn=None)["prediction"].astype(float).to_numpy()
    truth = test.target["trait_0"].to_numpy()
    board = result["leaderboard"]
    best = board.dropna(subset=["mean_score"]).drop_duplicates("strategy")
    summary = result["summary"]
    return {
        "seconds": round(seconds, 1),
        "chosen": summary["best"]["strategy"],
        "BBC estimate": round(summary["estimate"]["mean"], 4),
        "test r2": round(r2_score(truth, predicted), 4),
        "test r2, rows missing video": round(r2_score(truth[lost], predicted[lost]), 4),
        "rows missing video": int(lost.sum()),
    }, best[["strategy", "params", "mean_score", "status"]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mmsk_sequences_"))
    try:
        traits = pom(args)
        by_pair = digits(args, str(work / "cache"))
        fitted, board = fit_on_pom(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    traits_summary = (
        traits.groupby("model", sort=False)
        .agg(
            mean_r=("mean r", "mean"),
            min_r=("mean r", "min"),
            max_r=("mean r", "max"),
            seconds=("seconds", "mean"),
        )
        .reset_index()
    )
    digits_summary = (
        by_pair.groupby(["data", "model"], sort=False)
        .agg(
            mean=("accuracy", "mean"),
            min=("accuracy", "min"),
            max=("accuracy", "max"),
            seconds=("seconds", "mean"),
        )
        .reset_index()
    )
    pairs = by_pair.pivot_table(index=["data", "model"], columns="held-out speakers", values="accuracy",
                                sort=False).reset_index()  # fmt: skip
    body = "\n\n".join([
        "## Time on real sequences (`benchmarks/real_sequences.py`)",
        f"Machine: {machine()}. Sequence views standardised per feature across steps (SequenceScaler); "
        f"nets: hidden 64, embed 32, Adam lr 3e-3, early stopping (patience 8, up to {args.epochs} epochs), "
        "float32.",
        f"### CMU-POM, 17 traits, train split -> test split: mean Pearson r over the traits (nets: seeds "
        f"{args.seeds}, min/mean/max)",
        table(traits_summary.to_dict("records"), list(traits_summary.columns)),
        f"### FSDD and AV-digits by held-out speaker pair: accuracy (audio as {N_STEPS} frames of 13 MFCCs "
        "and their deltas)",
        table(digits_summary.to_dict("records"), list(digits_summary.columns)),
        table(pairs.to_dict("records"), list(pairs.columns)),
        "### `mmsk fit` (defaults) on POM's sequence views, trait 0; `mmsk predict` on the test split",
        table([fitted], list(fitted)),
        "Leaderboard (best row of each strategy, cross-validated r2):",
        table(board.to_dict("records"), list(board.columns)),
    ])  # fmt: skip
    print(body)
    write_section("real_sequences", body)


if __name__ == "__main__":
    main()
