"""The AV-digits demo: image-only, audio-only and fused, speaker-independent."""

import time

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .compose import make_modality_union
from .datasets import load_av_digits
from .extract import AudioFeatures, ImageFeatures
from .fusion import LateFusionClassifier


def _audio_features():
    # FSDD is 8 kHz speech
    return AudioFeatures.for_speech(sr=8000, n_jobs=2)


def _image_features():
    return ImageFeatures(features=("hog", "pixels"), size=(32, 32), hog_cell=8)


def _classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000))


def demo_models():
    """The three models the demo compares, as scikit-learn pipelines on the raw table."""
    return {
        "image only": make_pipeline(make_modality_union(image=("image", _image_features())), _classifier()),
        "audio only": make_pipeline(make_modality_union(audio=("audio", _audio_features())), _classifier()),
        "fused (late, soft voting)": make_pipeline(
            make_modality_union(audio=("audio", _audio_features()), image=("image", _image_features())),
            LateFusionClassifier(_classifier()),
        ),
    }


def run_demo(data_home=None, n_splits=3, print_fn=print):
    """Cross-validate image-only, audio-only and fused models on AV-digits.

    Folds are split by speaker (GroupKFold), so test voices and test images
    are never seen in training.

    Returns
    -------
    results : DataFrame
        One row per model: mean and std of the accuracy over folds, seconds.
    """
    av = load_av_digits(data_home)
    print_fn(
        f"AV-digits ({av.source} data): {len(av.data)} recordings of "
        f"{av.groups.nunique()} speakers, each paired with an 8x8 digit image."
    )
    print_fn(f"Speaker-independent {n_splits}-fold cross-validation (GroupKFold by speaker).")
    rows = []
    for name, model in demo_models().items():
        start = time.perf_counter()
        scores = cross_val_score(
            model, av.data, av.target, groups=av.groups, cv=GroupKFold(n_splits=n_splits)
        )
        rows.append(
            {
                "model": name,
                "accuracy": scores.mean(),
                "std": scores.std(),
                "seconds": time.perf_counter() - start,
            }
        )
        print_fn(f"  {name:<28s} accuracy {scores.mean():.3f} +/- {scores.std():.3f}")
    return pd.DataFrame(rows)
