"""Fusion estimators: combine views at the feature, decision or model level."""

from ._late import LateFusionClassifier
from ._nets import FusionClassifier, FusionRegressor

__all__ = ["FusionClassifier", "FusionRegressor", "LateFusionClassifier"]
