"""scikit-learn's estimator checks on every public estimator of mmsk, found by discovery.

A new estimator class cannot escape: ``test_every_estimator_has_settings`` fails
until it has an entry in ``SETTINGS`` (cheap parameters for the checks) and
``parametrize_with_checks`` then runs on it. Every expected failure is named in
``EXPECTED_FAILED`` with its reason.
"""

import importlib
import inspect
import pkgutil

import _tiny_hf
import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

import mmsk
from mmsk.align import CCA, GCCA, DeepCCA, KernelCCA
from mmsk.compose import ModalityUnion, SequenceScaler, TemporalPooling
from mmsk.extract import (
    AudioEmbedder,
    AudioFeatures,
    ClipEmbedder,
    ImageEmbedder,
    ImageFeatures,
    SentenceEmbedder,
    TextEmbedder,
    TfidfFeatures,
    TorchEncoder,
    VideoFeatures,
)
from mmsk.fusion import (
    ContrastiveDualEncoder,
    CoTrainingClassifier,
    EarlyFusionClassifier,
    EarlyFusionRegressor,
    FusionClassifier,
    FusionRegressor,
    LateFusionClassifier,
    MultimodalAutoencoder,
    MultimodalVAE,
    ViewImputer,
)
from mmsk.mkl import KernelMap, MKLClassifier, MKLRegressor
from mmsk.model_selection import EnsembleClassifier, EnsembleRegressor, StrategySearchCV


class Columns:
    """A picklable column selector with a stable repr (test ids must match across workers).

    The checks use arrays of many widths (1 to 20 columns), so views are chosen by
    position at fit: ``"first"`` and ``"last"`` are overlapping halves, ``"all"`` all.
    """

    def __init__(self, part):
        self.part = part

    def __call__(self, X):
        n = np.shape(X)[1]
        if self.part == "first":
            return list(range(0, (n + 1) // 2))
        if self.part == "last":
            return list(range(n // 2, n))
        return list(range(n))

    def __repr__(self):
        return f"Columns({self.part!r})"


class RowStats(torch.nn.Module):
    """A weight-free encoder for any input width: mean, std and max of each sample."""

    def forward(self, x):
        return torch.stack([x.mean(dim=1), x.std(dim=1, unbiased=False), x.amax(dim=1)], dim=1)


def discover_estimators():
    """Every class defined in mmsk that is a scikit-learn estimator and is public."""
    found = {}
    for info in pkgutil.walk_packages(mmsk.__path__, prefix="mmsk."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("mmsk.")
                and not name.startswith(("_", "Base"))
                and not inspect.isabstract(obj)
            ):
                found[name] = obj
    return dict(sorted(found.items()))


# Cheap settings for the checks; the views are selected by callables because
# the checks use arrays of many widths. The deep estimators run in float64 here:
# the row-subset checks compare rows at rtol=1e-7, and in float32 a row's output
# moves by about 1e-6 with the batch it is computed in (their default precision
# is checked in tests/fusion/test_deep_base.py).
SETTINGS = {
    "CCA": lambda: CCA(views={"a": Columns("first"), "b": Columns("last")}, n_components=1, reg=0.1),
    "GCCA": lambda: GCCA(views={"a": Columns("first"), "b": Columns("last")}, n_components=1, reg=0.1),
    "DeepCCA": lambda: DeepCCA(
        dtype="float64",
        views={"a": Columns("first"), "b": Columns("last")},
        n_components=1,
        hidden=(4,),
        max_epochs=2,
        random_state=0,
    ),
    "KernelCCA": lambda: KernelCCA(
        views={"a": Columns("first"), "b": Columns("last")}, n_components=1, random_state=0
    ),
    "AudioFeatures": lambda: AudioFeatures(
        sr=8000, n_fft=64, hop_length=16, n_mels=8, n_mfcc=4, features=("mfcc", "rms")
    ),
    "ImageFeatures": lambda: ImageFeatures(features=("pixels", "lbp"), size=(4, 4)),
    # Text input: scikit-learn's checks need numeric 2-D arrays, so (as for its own
    # TfidfVectorizer) they skip it by its tags; tests/extract/test_text.py covers its
    # contract (clone, pickle, params, set_output, errors) instead.
    "SentenceEmbedder": lambda: SentenceEmbedder(),
    "TfidfFeatures": lambda: TfidfFeatures(),
    "TorchEncoder": lambda: TorchEncoder(RowStats(), reader="array"),
    # Pretrained encoders: tiny random models built from configs, saved and loaded by path.
    "ImageEmbedder": lambda: ImageEmbedder(_tiny_hf.folder("vit")),
    "AudioEmbedder": lambda: AudioEmbedder(_tiny_hf.folder("wav2vec2")),
    "TextEmbedder": lambda: TextEmbedder(_tiny_hf.folder("bert")),
    "ClipEmbedder": lambda: ClipEmbedder(_tiny_hf.folder("clip")),
    "VideoFeatures": lambda: VideoFeatures(
        ImageFeatures(features=("pixels",), size=(2, 2)), n_frames=3, stats=("mean", "max")
    ),
    "KernelMap": lambda: KernelMap(),
    "MKLClassifier": lambda: MKLClassifier(views={"a": Columns("first"), "b": Columns("last")}),
    "MKLRegressor": lambda: MKLRegressor(views={"a": Columns("first"), "b": Columns("last")}),
    "CoTrainingClassifier": lambda: CoTrainingClassifier(
        views={"a": Columns("first"), "b": Columns("last")}, max_iter=3, random_state=0
    ),
    "ContrastiveDualEncoder": lambda: ContrastiveDualEncoder(
        dtype="float64",
        views={"a": Columns("first"), "b": Columns("last")},
        embed_dim=2,
        hidden=(4,),
        max_epochs=2,
        random_state=0,
    ),
    "EarlyFusionClassifier": lambda: EarlyFusionClassifier(
        views={"a": Columns("first"), "b": Columns("last")}
    ),
    "EarlyFusionRegressor": lambda: EarlyFusionRegressor(views={"a": Columns("first"), "b": Columns("last")}),
    "FusionClassifier": lambda: FusionClassifier(
        dtype="float64",
        views={"a": Columns("first"), "b": Columns("last")},
        fusion="attention",
        hidden=16,
        embed_dim=8,
        max_epochs=20,
        lr=3e-2,
        batch_size=128,
        random_state=0,
    ),
    "FusionRegressor": lambda: FusionRegressor(
        dtype="float64",
        views={"a": Columns("first"), "b": Columns("last")},
        hidden=16,
        embed_dim=8,
        max_epochs=20,
        lr=3e-2,
        batch_size=128,
        random_state=0,
    ),
    "LateFusionClassifier": lambda: LateFusionClassifier(views={"a": Columns("first"), "b": Columns("last")}),
    "MultimodalAutoencoder": lambda: MultimodalAutoencoder(
        dtype="float64",
        views={"a": Columns("first"), "b": Columns("last")},
        latent_dim=2,
        hidden=(4,),
        max_epochs=2,
        random_state=0,
    ),
    "MultimodalVAE": lambda: MultimodalVAE(
        dtype="float64",
        views={"a": Columns("first"), "b": Columns("last")},
        latent_dim=2,
        hidden=(4,),
        max_epochs=2,
        random_state=0,
    ),
    "ViewImputer": lambda: ViewImputer(views={"a": Columns("first"), "b": Columns("last")}),
    "ModalityUnion": lambda: ModalityUnion([("a", StandardScaler(), Columns("all"))]),
    # "a" is a one-step sequence (read by position), "b" a plain view passed through
    "TemporalPooling": lambda: TemporalPooling(
        views={"a": Columns("first"), "b": Columns("last")}, n_steps={"a": 1}, quantiles=(0.5,)
    ),
    "SequenceScaler": lambda: SequenceScaler(
        views={"a": Columns("first"), "b": Columns("last")}, n_steps={"a": 1}
    ),
    "EnsembleClassifier": lambda: EnsembleClassifier(
        [("linear", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
        weights=[0.75, 0.25],
    ),
    "EnsembleRegressor": lambda: EnsembleRegressor(
        [("linear", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3, random_state=0))],
        weights=[0.75, 0.25],
    ),
    "StrategySearchCV": lambda: StrategySearchCV(
        [
            ("lr", LogisticRegression(), {"C": [0.1, 1.0]}),
            ("late", LateFusionClassifier(views={"a": Columns("first"), "b": Columns("last")}), {}),
        ],
        cv=2,
        n_bootstrap=50,
        random_state=0,
    ),
}

# A pretrained model runs in float32: a row's embedding moves by about 1e-6 with the size of the
# batch it is computed in (BLAS blocks the products differently), above the checks' rtol=1e-7.
# tests/extract/test_pretrained.py holds them to 1e-5 against batch size 1.
_FLOAT32_MODEL = {
    check: "a float32 model: rows agree to about 1e-6 across batch sizes, not to the check's rtol=1e-7"
    for check in ("check_methods_subset_invariance", "check_methods_sample_order_invariance")
}

EXPECTED_FAILED = {
    "AudioEmbedder": _FLOAT32_MODEL,
    "ClipEmbedder": _FLOAT32_MODEL,
    "ImageEmbedder": _FLOAT32_MODEL,
    "CoTrainingClassifier": {
        "check_classifiers_classes": (
            "one case labels the classes -1 and 1, but -1 marks unlabelled rows (scikit-learn's "
            "semi-supervised convention); scikit-learn exempts its own semi-supervised classifiers "
            "(SelfTrainingClassifier, LabelSpreading) from that case by name"
        ),
    },
    "ModalityUnion": {
        "check_estimator_sparse_array": (
            "like ColumnTransformer, it selects columns by indexing X; scipy's DIA, DOK and COO "
            "formats cannot be indexed (CSR and CSC work)"
        ),
        "check_estimator_sparse_matrix": (
            "like ColumnTransformer, it selects columns by indexing X; scipy's DIA, DOK and COO "
            "formats cannot be indexed (CSR and CSC work)"
        ),
        "check_estimators_nan_inf": (
            "like ColumnTransformer, it leaves NaN/inf handling to each view's transformer "
            "(StandardScaler here passes NaN through); in mmsk NaN rows mark missing modalities"
        ),
    },
}


# Estimators whose tags make scikit-learn's checks yield nothing, with where their
# contract is tested instead.
UNCHECKED_BY_TAGS = {
    "SentenceEmbedder": "takes text, not numeric arrays (two_d_array=False); see tests/extract/test_text.py",
    "TextEmbedder": "takes text, not numeric arrays (two_d_array=False); see tests/extract/test_pretrained",
    "TfidfFeatures": "takes text, not numeric arrays (two_d_array=False); see tests/extract/test_text.py",
}


def test_only_named_estimators_escape_the_checks():
    from sklearn.utils import get_tags

    unchecked = {name for name in SETTINGS if not get_tags(SETTINGS[name]()).input_tags.two_d_array}
    assert unchecked == set(UNCHECKED_BY_TAGS)


def _expected_failed(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


def test_every_estimator_has_settings():
    missing = sorted(set(discover_estimators()) - set(SETTINGS))
    assert not missing, f"add test settings (and expected failures) for {missing}"


def test_every_estimator_is_exported():
    exported = set()
    for info in pkgutil.walk_packages(mmsk.__path__, prefix="mmsk."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        exported |= set(getattr(module, "__all__", ()))
    assert set(discover_estimators()) <= exported


# Configurations that take a different code path than their class's entry in SETTINGS.
VARIANTS = [
    lambda: LateFusionClassifier(
        views={"a": Columns("first"), "b": Columns("last")}, voting="stacking", cv=3
    ),
    lambda: LateFusionClassifier(views={"a": Columns("first"), "b": Columns("last")}, voting="product"),
    # Platt-scaled probabilities
    lambda: MKLClassifier(
        views={"a": Columns("first"), "b": Columns("last")}, probability=True, random_state=0
    ),
]


@parametrize_with_checks(
    [SETTINGS[name]() for name in discover_estimators() if name in SETTINGS] + [make() for make in VARIANTS],
    expected_failed_checks=_expected_failed,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "name", [n for n in discover_estimators() if "views" in SETTINGS.get(n, lambda: None)().get_params()]
)
def test_views_constraint_matches_what_fit_accepts(name):
    """``views`` is a mapping or None; anything else is refused by parameter validation, naming it."""
    from sklearn.utils._param_validation import InvalidParameterError

    estimator = SETTINGS[name]().set_params(views=[[0, 1], [2, 3]])
    X = np.random.default_rng(0).normal(size=(20, 4))
    y = np.arange(20) % 2
    with pytest.raises(InvalidParameterError, match="'views' parameter"):
        estimator.fit(X, y)
