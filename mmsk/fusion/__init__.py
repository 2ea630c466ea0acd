"""Fusion estimators: combine views at the feature, decision or model level."""

from ._late import LateFusionClassifier

__all__ = ["LateFusionClassifier"]
