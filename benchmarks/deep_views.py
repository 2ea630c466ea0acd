"""Deep fusion on AV-digits with default parameters: a view missing at predict, and a conv encoder.

Speaker-independent splits of the full AV-digits table (two held-out
speakers, three splits). Per split, on the same features:

* image-only logistic regression (C=0.3, the speaker-grouped CV choice of the
  missing-modalities example): what a user would fall back to;
* FusionClassifier (concat, late) with default parameters, on MFCC statistics
  and image features, scored on all test rows and with the audio of half of
  them missing (all NaN), once with the default modality dropout and once
  with none;
* FusionClassifier on log-mel frames and the image, with the audio view
  encoded by the built-in MLP or by SpectrogramEncoder (a small conv net).

Run: ``python benchmarks/deep_views.py`` (needs the full FSDD in MMSK_DATA).
Writes the ``deep-views`` section of benchmarks/RESULTS.md and a plot beside it.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, machine, table, write_section  # noqa: E402

SPLITS = (0, 1, 2)
N_MELS, N_FRAMES = 40, 32


def features(cache):
    """Every row's MFCC statistics, image features and log-mel frames, extracted once (cached)."""
    from mmsk import make_modality_union
    from mmsk.datasets import load_av_digits
    from mmsk.extract import AudioFeatures, ImageFeatures

    av = load_av_digits()
    mel = AudioFeatures(
        sr=8000, n_fft=512, hop_length=128, output="mel_frames", n_mels=N_MELS, n_frames=N_FRAMES, cache=cache
    )
    union = make_modality_union(
        audio=("audio", AudioFeatures.for_speech(sr=8000, cache=cache)),
        image=("image", ImageFeatures(features=("hog", "pixels"), size=(32, 32), hog_cell=8, cache=cache)),
        mel=("audio", mel),
    )
    return av, union.fit_transform(av.data)


def views(F, names):
    return F[[c for c in F.columns if c.split("__")[0] in names]]


def run_split(av, F, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from mmsk.datasets import train_test_split_by_speaker
    from mmsk.fusion import FusionClassifier, SpectrogramEncoder

    X_train, X_test, y_train, y_test = train_test_split_by_speaker(av, n_test_speakers=2, random_state=seed)
    scaler = StandardScaler().set_output(transform="pandas").fit(F.loc[X_train.index])
    train, test = scaler.transform(F.loc[X_train.index]), scaler.transform(F.loc[X_test.index])
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    half = np.random.default_rng(seed).permutation(len(test))[: len(test) // 2]
    missing = test.copy()
    missing.iloc[half, missing.columns.str.startswith("audio__")] = np.nan
    out = {"split": seed, "test speakers": ", ".join(sorted(set(av.groups.loc[X_test.index])))}

    image = LogisticRegression(C=0.3, max_iter=3000).fit(views(train, {"image"}), y_train)
    out["image-only LR"] = image.score(views(test, {"image"}), y_test)
    both = {"audio", "image"}
    for fusion in ("concat", "late"):
        for label, md in (("default", None), ("no modality dropout", 0.0)):
            params = {} if md is None else {"modality_dropout": md}
            net = FusionClassifier(fusion=fusion, random_state=seed, **params).fit(
                views(train, both), y_train
            )
            out[f"{fusion}, {label}: complete"] = net.score(views(test, both), y_test)
            out[f"{fusion}, {label}: half audio missing"] = net.score(views(missing, both), y_test)
    spectro = {"mel", "image"}
    mlp = FusionClassifier(random_state=seed).fit(views(train, spectro), y_train)
    out["mel + image, MLP encoders"] = mlp.score(views(test, spectro), y_test)
    conv = FusionClassifier(
        encoders={"mel": SpectrogramEncoder}, module__encoders__mel__n_mels=N_MELS, random_state=seed
    ).fit(views(train, spectro), y_train)
    out["mel + image, conv audio encoder"] = conv.score(views(test, spectro), y_test)
    print(out, flush=True)
    return out


def plot(frame, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [c for c in frame.columns if c not in ("split", "test speakers")]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(columns) + 1))
    for _, row in frame.iterrows():
        ax.scatter(row[columns].to_numpy(float), np.arange(len(columns)), label=f"split {row['split']}", s=20)
    ax.axvline(frame["image-only LR"].mean(), color="grey", ls="--", lw=1, label="image-only LR (mean)")
    ax.set_yticks(np.arange(len(columns)), columns)
    ax.invert_yaxis()
    ax.set_xlabel("accuracy on held-out speakers")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "mmsk-bench"))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    av, F = features(args.cache)
    frame = pd.DataFrame([run_split(av, F, seed) for seed in SPLITS])
    numbers = frame.drop(columns=["split", "test speakers"])
    summary = [
        {"model": c, "mean": numbers[c].mean(), "min": numbers[c].min(), "max": numbers[c].max()}
        for c in numbers.columns
    ]
    lines = []
    for fusion in ("concat", "late"):
        margin = frame[f"{fusion}, default: half audio missing"] - frame["image-only LR"]
        lines.append(
            {
                "goal": f"{fusion}, default, half audio missing >= image-only LR - 0.005 (every split)",
                "measured": ", ".join(f"{m:+.3f}" for m in margin),
                "met": "yes" if (margin >= -0.005).all() else "NO",
            }
        )
    body = "\n\n".join(
        [
            "## Deep fusion with default parameters on AV-digits (`benchmarks/deep_views.py`)",
            f"Machine: {machine()}. Full AV-digits (3000 rows), two held-out speakers, splits "
            f"{', '.join(map(str, SPLITS))} of `train_test_split_by_speaker`; features scaled on the "
            "training rows. Half the test rows lose their audio at predict (none did in training). "
            "`mel` is a 40x32 log-mel spectrogram of the same clip. One test row is about 0.0017.",
            table(frame.to_dict("records"), list(frame.columns)),
            table(summary, ["model", "mean", "min", "max"]),
            table(lines, ["goal", "measured", "met"]),
            "![accuracy per split](deep_views.png)",
        ]
    )
    print(body)
    if not args.no_write:
        plot(frame, RESULTS.parent / "deep_views.png")
        write_section("deep-views", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
