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
    "ConvSequenceEncoder",
    "EarlyFusionClassifier",
    "EarlyFusionRegressor",
    "FusionClassifier",
    "FusionRegressor",
    "GRUEncoder",
    "LateFusionClassifier",
    "MultimodalAutoencoder",
    "MultimodalVAE",
    "SpectrogramEncoder",
    "StepMLP",
    "TransformerSequenceEncoder",
    "ViewImputer",
]


#: The view encoders (torch modules) by the module that holds them: imported on first use, so
#: that importing mmsk does not import torch.
_ENCODERS = {
    "SpectrogramEncoder": "._encoders",
    "StepMLP": "._sequence_modules",
    "GRUEncoder": "._sequence_modules",
    "TransformerSequenceEncoder": "._sequence_modules",
    "ConvSequenceEncoder": "._sequence_modules",
}


def __getattr__(name):
    if name in _ENCODERS:
        import importlib

        return getattr(importlib.import_module(_ENCODERS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
