"""Figures of fitted mmsk estimators (matplotlib only; every function returns its Axes)."""

from ._align import plot_canonical_correlations, plot_canonical_variates
from ._fusion import plot_modality_weights
from ._mkl import plot_kernel_weights
from ._selection import plot_leaderboard, plot_modality_ablation

__all__ = [
    "plot_canonical_correlations",
    "plot_canonical_variates",
    "plot_kernel_weights",
    "plot_leaderboard",
    "plot_modality_ablation",
    "plot_modality_weights",
]
