"""The AV-digits demo: image-only, audio-only and fused, speaker-independent."""

import tempfile
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


def _audio_features(cache=None):
    # FSDD is 8 kHz speech. One process: on the 480 bundled recordings two worker processes
    # took 7.4 s against 3.2 s (starting them, each importing librosa, cost more than they
    # saved), and on all 3000 the two took as long as one.
    return AudioFeatures.for_speech(sr=8000, cache=cache)


def _image_features(cache=None):
    return ImageFeatures(features=("hog", "pixels"), size=(32, 32), hog_cell=8, cache=cache)


def _classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000))


def demo_models(cache=None):
    """The three models the demo compares, as scikit-learn pipelines on the raw table.

    With ``cache`` (a folder), each recording and image is decoded and its
    features computed once, however many folds and models read them.
    """
    image, audio = _image_features(cache), _audio_features(cache)
    return {
        "image only": make_pipeline(make_modality_union(image=("image", image)), _classifier()),
        "audio only": make_pipeline(make_modality_union(audio=("audio", audio)), _classifier()),
        "fused (late, soft voting)": make_pipeline(
            make_modality_union(audio=("audio", audio), image=("image", image)),
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
    # the features of every fold's rows are computed once, not once per fold and model
    with tempfile.TemporaryDirectory(prefix="mmsk-demo-") as cache:
        for name, model in demo_models(cache).items():
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
