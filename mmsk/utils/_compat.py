"""The one place that imports scikit-learn's private helpers, or depends on its version.

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

#: The message of scikit-learn 1.9 and 1.10's FutureWarning on ``SVC(probability=True)``.
SVC_PROBABILITY_DEPRECATION = r"The `probability` parameter was deprecated"


def svc_with_probabilities(**params):
    """An RBF ``SVC`` with ``predict_proba``, and the name of its ``C`` beneath its own step.

    Where scikit-learn still has ``probability=True`` (deprecated in 1.9, to be
    removed in 1.11): libsvm's probabilities, each pair of classes Platt-scaled
    on an internal 5-fold split and the pairs coupled (Wu, Lin & Weng, 2004).
    Without it, as scikit-learn advises, ``CalibratedClassifierCV(SVC(),
    ensemble=False)``: one-vs-rest, which fused the six views of UCI mfeat less
    well (0.985 against 0.991 for the product of the views' probabilities).

    Examples
    --------
    >>> from mmsk.utils._compat import svc_with_probabilities
    >>> svm, c = svc_with_probabilities(C=10.0, random_state=0)
    >>> hasattr(svm, "predict_proba"), c in svm.get_params()
    (True, True)
    """
    from sklearn.svm import SVC

    if "probability" in SVC().get_params():
        return SVC(probability=True, **params), "C"
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(SVC(**params), ensemble=False), "estimator__C"


__all__ = [
    "HasMethods",
    "Interval",
    "Options",
    "SVC_PROBABILITY_DEPRECATION",
    "StrOptions",
    "_fit_calibrator",
    "_fit_context",
    "_num_samples",
    "_safe_indexing",
    "available_if",
    "check_is_fitted",
    "get_namespace",
    "svc_with_probabilities",
    "validate_data",
]
