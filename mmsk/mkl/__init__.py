"""Multiple kernel learning: one kernel (or several) per view, learned weights."""

from ._estimators import MKLClassifier, MKLRegressor
from ._kernel_map import KernelMap

__all__ = ["KernelMap", "MKLClassifier", "MKLRegressor"]
