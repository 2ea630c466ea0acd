"""Figures of fitted mmsk estimators (matplotlib only; every function returns its Axes)."""

from ._align import plot_canonical_correlations, plot_canonical_variates

__all__ = ["plot_canonical_correlations", "plot_canonical_variates"]
