"""The one place that imports scikit-learn's and skops's private helpers, or depends on their versions.

Every mmsk module imports these names from here, so a release that moves or
renames one of them breaks this file only.
"""

from contextlib import contextmanager
from types import SimpleNamespace

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


@contextmanager
def estimator_walk_without_skipped_packages():
    """Within it, ``sklearn.utils.all_estimators`` skips the packages whose modules it would skip.

    ``all_estimators`` imports every package under ``sklearn`` to walk it, and
    then reads only the public modules outside the names it ignores
    (``externals``, ``tests``, ...). Within this context its walk does not
    descend into those packages, nor into private ones, whose modules it
    skips too: it reads the same modules and finds the same estimators,
    without importing the vendored array-API shims for torch and dask
    (``sklearn.externals.array_api_compat.torch`` imports torch). Where
    scikit-learn's discovery has changed, it changes nothing.

    Examples
    --------
    >>> from sklearn.utils import all_estimators
    >>> from mmsk.utils._compat import estimator_walk_without_skipped_packages
    >>> with estimator_walk_without_skipped_packages():
    ...     names = {name for name, _ in all_estimators()}
    >>> "LogisticRegression" in names
    True
    """
    import sys

    from sklearn.utils import discovery

    ignored = getattr(discovery, "_MODULE_TO_IGNORE", None)
    pkgutil = getattr(discovery, "pkgutil", None)
    if ignored is None or not hasattr(pkgutil, "walk_packages"):  # pragma: no cover - another scikit-learn
        yield
        return

    def walk_packages(path=None, prefix="", onerror=None):
        """``pkgutil.walk_packages``, not descending into packages whose modules are all skipped."""
        for info in pkgutil.iter_modules(path, prefix):
            yield info
            inner = info.name.split(".")[1:]
            if not info.ispkg or any(part in ignored or part.startswith("_") for part in inner):
                continue
            try:
                __import__(info.name)
            except ImportError:  # as walk_packages does
                if onerror is not None:
                    onerror(info.name)
                continue
            yield from walk_packages(
                getattr(sys.modules[info.name], "__path__", None) or [], f"{info.name}.", onerror
            )

    discovery.pkgutil = SimpleNamespace(walk_packages=walk_packages)
    try:
        yield
    finally:
        discovery.pkgutil = pkgutil


def skops_io():
    """``skops.io``, imported without importing torch and dask on the way.

    skops builds its list of trusted scikit-learn types as it is imported, from
    ``sklearn.utils.all_estimators``, which imports every package under
    ``sklearn``, the vendored array-API shims for torch and dask included. It
    is imported here within :func:`estimator_walk_without_skipped_packages`:
    the same list, without torch and dask. Loading a model without a torch
    net, ``mmsk predict`` spent 3.5-4.1 s importing ``skops.io``, against
    0.94 s so.

    Returns
    -------
    module
        ``skops.io``.

    Examples
    --------
    >>> from mmsk.utils._compat import skops_io
    >>> skops_io().__name__
    'skops.io'
    """
    import sys

    if "skops.io" not in sys.modules:
        with estimator_walk_without_skipped_packages():
            import skops.io  # noqa: F401
    return sys.modules["skops.io"]


def skops_dump(obj, file):
    """Write ``obj`` in skops's format, its ``schema.json`` without indentation.

    ``skops.io.dump`` writes the schema with ``indent=2``, which makes Python's
    ``json`` fall back from its C encoder to the pure-Python one, and every
    string of a fitted pipeline's ``feature_names_in_`` is a nested node of
    its own. For the late-fusion ensemble ``mmsk fit`` chose on a 96-row audio
    + image table, that was a 6.8 MB schema written in 0.44 s; without the
    indentation it is 1.9 MB, written in 0.07 s. The file is the same format:
    ``skops.io.load`` reads it. Where skops's helpers have moved, it is
    ``skops.io.dump`` itself.

    Parameters
    ----------
    obj : object
        What to save (a fitted estimator, usually).
    file : str or path-like
        The file to write.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> from pathlib import Path
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mmsk.utils._compat import skops_dump, skops_io
    >>> path = Path(tempfile.mkdtemp()) / "model.skops"
    >>> skops_dump(LogisticRegression(C=0.5), path)
    >>> skops_io().load(path).C
    0.5
    >>> b"\\n" in zipfile.ZipFile(path).read("schema.json")
    False
    """
    import json
    import zipfile

    import skops

    skops_io()
    try:
        from skops.io._utils import SaveContext, get_state
    except ImportError:  # pragma: no cover - a skops release that moved them
        skops_io().dump(obj, file)
        return
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        context = SaveContext(zip_file=archive)
        state = get_state(obj, context)
        context.clear_memo()
        state["protocol"] = context.protocol
        state["_skops_version"] = skops.__version__
        archive.writestr("schema.json", json.dumps(state))


def object_columns(X):
    """A DataFrame with its column labels as a NumPy object Index; anything else as it is.

    pandas 3 keeps string labels in an Arrow array, and every fit and predict
    checks its input's column names one label at a time: reading a label out
    of Arrow costs about six times what reading it out of NumPy does. On the
    1,500 columns of a photo and caption table, a check took 2.6 ms against
    0.5 ms, and ``mmsk fit`` on 80 such rows made enough checks for 2 s.

    Examples
    --------
    >>> import pandas as pd
    >>> from mmsk.utils._compat import object_columns
    >>> object_columns(pd.DataFrame({"a__x": [1.0], "a__y": [2.0]})).columns.dtype
    dtype('O')
    """
    if hasattr(X, "columns") and hasattr(X, "set_axis") and X.columns.dtype != object:
        return X.set_axis(X.columns.astype(object), axis=1)
    return X


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
    "estimator_walk_without_skipped_packages",
    "get_namespace",
    "object_columns",
    "skops_dump",
    "skops_io",
    "svc_with_probabilities",
    "validate_data",
]
