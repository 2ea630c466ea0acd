"""Does a photo show a person? ImageFeatures' ``"detections"`` family against the other image families.

COCO-mini's 80 photos; the target is whether "person" is among a photo's
categories (45% do). Each family goes through its own pipeline (the extractor,
a StandardScaler, a logistic regression, C=0.1) and is scored by 10 repeats of
stratified 4-fold cross-validation (the extractor, codebook included, is fitted
on the training folds only), against always answering the majority class.
With 80 photos one photo is 0.0125 of accuracy: differences below about two
standard errors are noise.

Run: ``python benchmarks/detections.py``. Writes the ``detections`` section of
benchmarks/RESULTS.md.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import machine, table, write_section  # noqa: E402

FAMILIES = {
    "color_hist": ("color_hist",),
    "hog": ("hog",),
    "lbp": ("lbp",),
    "bovw": ("bovw",),
    "detections": ("detections",),
    "detections + hog + color_hist": ("detections", "hog", "color_hist"),
}


def _mean_se(values):
    return f"{values.mean():.3f} ± {values.std() / np.sqrt(len(values)):.3f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mmsk.datasets import load_coco_mini
    from mmsk.extract import ImageFeatures

    coco = load_coco_mini()
    X = coco.frame[["image"]]
    y = coco.frame["categories"].map(lambda c: "person" in c).to_numpy()
    cv = RepeatedStratifiedKFold(n_splits=4, n_repeats=args.repeats, random_state=0)
    cache = tempfile.mkdtemp()
    models = {"majority class (baseline)": DummyClassifier()}
    for name, features in FAMILIES.items():
        extractor = ImageFeatures(features=features, n_words=32, random_state=0, cache=cache)
        models[name] = make_pipeline(extractor, StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        scores = cross_validate(model, X, y, cv=cv, scoring=("accuracy", "roc_auc"))
        rows.append(
            {
                "features": name,
                "accuracy": _mean_se(scores["test_accuracy"]),
                "ROC AUC": _mean_se(scores["test_roc_auc"]),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
        print(rows[-1], flush=True)
    body = "\n\n".join(
        [
            "## Has a person? OpenCV's detectors as image features (`benchmarks/detections.py`)",
            f"Machine: {machine()}. COCO-mini, 80 photos, {y.mean():.0%} with a person; {args.repeats} x "
            "stratified 4-fold, mean ± standard error over the folds (folds overlap across repeats, so "
            "the error is optimistic); extractor + StandardScaler + LogisticRegression(C=0.1). "
            "`detections`: HOG people detector and Haar frontal-face cascade (counts, best score, "
            "largest box), nothing downloaded.",
            table(rows, ["features", "accuracy", "ROC AUC", "seconds"]),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("detections", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
