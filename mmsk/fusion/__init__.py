"""Fusion estimators: combine views at the feature, decision or model level."""

from ._autoencoder import MultimodalAutoencoder, MultimodalVAE
from ._contrastive import ContrastiveDualEncoder
from ._cotraining import CoTrainingClassifier
from ._early import EarlyFusionClassifier, EarlyFusionRegressor
from ._impute import ViewImputer
from ._late import LateFusionClassifier
from ._nets import FusionClassifier, FusionRegressor

__all__ = [
    "CoTrainingClassifier",
    "ContrastiveDualEncoder",
    "EarlyFusionClassifier",
    "EarlyFusionRegressor",
    "FusionClassifier",
    "FusionRegressor",
    "LateFusionClassifier",
    "MultimodalAutoencoder",
    "MultimodalVAE",
    "SpectrogramEncoder",
    "ViewImputer",
]


def __getattr__(name):
    # The torch modules are imported on first use, so that importing mmsk does not import torch.
    if name == "SpectrogramEncoder":
        from ._encoders import SpectrogramEncoder

        return SpectrogramEncoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
