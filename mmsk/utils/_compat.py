"""The one place that imports scikit-learn's private helpers.

Every mmsk module imports these names from here, so a scikit-learn release that
moves or renames one of them breaks this file only.
"""

from sklearn.base import _fit_context
from sklearn.calibration import _fit_calibrator
from sklearn.utils import _safe_indexing
from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

__all__ = [
    "HasMethods",
    "Interval",
    "Options",
    "StrOptions",
    "_fit_calibrator",
    "_fit_context",
    "_num_samples",
    "_safe_indexing",
    "available_if",
    "check_is_fitted",
    "get_namespace",
    "validate_data",
]
