"""Aligners: CCA-family transformers on the views (column groups) of one X."""

from ._cca import CCA, GCCA
from ._deep_cca import DeepCCA
from ._kernel_cca import KernelCCA

__all__ = ["CCA", "DeepCCA", "GCCA", "KernelCCA"]
