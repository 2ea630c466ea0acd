"""Multiple kernel learning: one kernel (or several) per view, learned weights."""

from ._estimators import MKLClassifier, MKLRegressor

__all__ = ["MKLClassifier", "MKLRegressor"]
