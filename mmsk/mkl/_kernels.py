"""Per-view kernels for multiple kernel learning: specs, median-heuristic gammas, normalisation."""

import numpy as np
from sklearn.metrics.pairwise import pairwise_kernels

from .._views import per_view
from ..utils._kernels import median_gamma

KERNELS = ("rbf", "laplacian", "linear", "poly", "chi2", "cosine", "sigmoid")
_HAS_GAMMA = {"rbf", "laplacian", "poly", "chi2", "sigmoid"}


def kernel_specs(kernels, views):
    """``kernels`` (a name, a list of names, or a dict view -> name(s)) as a list of (view, name)."""
    specs = []
    for view, names in per_view(kernels, views, "kernels", default="rbf").items():
        names = [names] if isinstance(names, str) else list(names)
        if not names:
            raise ValueError(f"view {view!r} has no kernel.")
        for name in names:
            if name not in KERNELS:
                raise ValueError(f"unknown kernel {name!r} for view {view!r}; choose among {KERNELS}.")
            specs.append((view, name))
    return specs


def kernel_params(name, gamma, degree, coef0):
    params = {}
    if name in _HAS_GAMMA:
        params["gamma"] = gamma
    if name in ("poly", "sigmoid"):
        params["coef0"] = coef0
    if name == "poly":
        params["degree"] = degree
    return params


def fit_gamma(block, name, gamma, random_state):
    """The given gamma, or the median heuristic for distance-based kernels (1 / n_features otherwise)."""
    if gamma is not None or name not in _HAS_GAMMA:
        return None if name not in _HAS_GAMMA else float(gamma)
    if name in ("rbf", "laplacian"):
        return median_gamma(block, name, random_state)
    if name == "chi2":
        return 1.0
    return 1.0 / max(block.shape[1], 1)


def compute_kernel(A, B, view, name, params):
    """One view's kernel between the rows of A and B, with checks that name the view."""
    if name == "chi2" and ((A < 0).any() or (B is not None and (B < 0).any())):
        raise ValueError(
            f"the chi2 kernel of view {view!r} needs non-negative features (histograms); the view has "
            f"negative values."
        )
    K = pairwise_kernels(A, B, metric=name, filter_params=True, **params)
    if not np.isfinite(K).all():
        raise ValueError(f"the {name} kernel of view {view!r} has NaN or infinite values.")
    return K


#: kernels that are positive semi-definite for any data and parameters allowed here
PSD_BY_CONSTRUCTION = {"rbf", "laplacian", "linear", "chi2", "cosine"}


def check_user_kernel(K, view, name, tol=1e-8):
    """A training kernel must be finite, symmetric and positive semi-definite.

    The eigenvalue test (O(n^3)) runs only for kernels that can fail it (sigmoid,
    and poly with a negative offset or a non-integer degree).
    """
    if not np.isfinite(K).all():
        raise ValueError(f"the {name} kernel of view {view!r} has NaN or infinite values.")
    if name in PSD_BY_CONSTRUCTION:
        return  # symmetric and PSD by construction
    if not np.allclose(K, K.T, atol=1e-10 * max(1.0, np.abs(K).max())):
        raise ValueError(f"the {name} kernel of view {view!r} is not symmetric.")
    from scipy.linalg import eigvalsh

    smallest = eigvalsh(K, subset_by_index=[0, 0], check_finite=False)[0]
    if smallest < -tol * max(1.0, np.abs(K).max()) * len(K):
        raise ValueError(
            f"the {name} kernel of view {view!r} is not positive semi-definite (smallest eigenvalue "
            f"{smallest:.3g}); choose another kernel or parameters (e.g. sigmoid kernels often are not PSD)."
        )
