"""Saving and loading fitted models: skops by default (safe loading), joblib only when asked for.

A skops file holds data, not code: loading it builds only the types it is
allowed to. :func:`load` allows scikit-learn's and numpy's types (skops's own
defaults), mmsk's classes, and the handful of skorch and torch types that
mmsk's deep estimators contain; any other type in the file is refused, with
its name, unless the caller names it in ``trusted``. A joblib (pickle) file
can run any code when loaded, so it is written and read only with
``unsafe=True``. Files are written to a temporary name beside the target and
then renamed, so an interrupted save never leaves a half-written model.
"""

from pathlib import Path

from .utils._compat import skops_dump as _skops_dump
from .utils._compat import skops_io as _skops_io
from .utils._io import atomic_write as _atomic_write

__all__ = ["UntrustedTypesError", "load", "save"]

# What mmsk's deep estimators hold besides mmsk's own classes (seen in their skops files).
DEEP_MODEL_TYPES = (
    "builtins.print",
    "functools.partial",
    "numpy.dtype",
    "skorch.callbacks.logging.EpochTimer",
    "skorch.callbacks.logging.PrintLog",
    "skorch.callbacks.scoring.EpochScoring",
    "skorch.callbacks.scoring.PassthroughScoring",
    "skorch.callbacks.training.EarlyStopping",
    "skorch.classifier.NeuralNetClassifier",
    "skorch.regressor.NeuralNetRegressor",
    "skorch.dataset.Dataset",
    "skorch.dataset.ValidSplit",
    "skorch.history.History",
    "skorch.net.NeuralNet",
    "skorch.setter.optimizer_setter",
    "skorch.utils._indexing_other",
    "skorch.utils.to_numpy",
    "torch.nn.modules.loss.CrossEntropyLoss",
    "torch.nn.modules.loss.MSELoss",
    "torch.optim.adam.Adam",
)


class UntrustedTypesError(ValueError):
    """A model file holds types that loading it would build but nobody has trusted."""


def save(estimator, path, *, unsafe=False):
    """Save a fitted estimator (or Pipeline) to ``path``, atomically.

    Parameters
    ----------
    estimator : estimator
    path : str or path-like
        Conventionally ``.skops``; ``.joblib`` with ``unsafe=True``.
    unsafe : bool, default=False
        Write a joblib (pickle) file instead of skops. Such files run code
        when loaded: share them only with people who trust you.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from mmsk.datasets import make_multimodal_classification
    >>> from mmsk.fusion import LateFusionClassifier
    >>> from mmsk.persist import load, save
    >>> X, y = make_multimodal_classification(n_samples=100, random_state=0)
    >>> model = LateFusionClassifier().fit(X, y)
    >>> path = save(model, Path(tempfile.mkdtemp()) / "model.skops")
    >>> bool((load(path).predict(X) == model.predict(X)).all())
    True
    """
    if unsafe:
        import joblib

        return _atomic_write(path, lambda tmp: joblib.dump(estimator, tmp))
    return _atomic_write(path, lambda tmp: _skops_dump(estimator, tmp))


# scikit-learn types that skops does not trust by default although they hold only data: a
# column selector (a regular expression and dtype lists; ``mmsk fit`` selects one view with it)
# and the parts of a calibrated classifier (a fitted estimator and two sigmoid coefficients).
SKLEARN_DATA_TYPES = (
    "sklearn.compose._column_transformer.make_column_selector",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    # a VotingClassifier/VotingRegressor keeps its fitted members by name in a Bunch
    "sklearn.utils._bunch.Bunch",
    # the fitted trees of HistGradientBoosting (arrays of nodes and the bin thresholds)
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    # the fitted trees of a random forest (arrays of nodes, thresholds and leaf values)
    "sklearn.tree._tree.Tree",
)


def _allowed(name):
    return name.startswith("mmsk.") or name in DEEP_MODEL_TYPES or name in SKLEARN_DATA_TYPES


def load(path, *, trusted=(), unsafe=False):
    """Load a model saved by :func:`save`, building only trusted types.

    Parameters
    ----------
    path : str or path-like
    trusted : sequence of str, default=()
        Further type names (as in the error message) to allow, after you have
        checked that the file comes from someone you trust.
    unsafe : bool, default=False
        Needed to read a joblib file (which may run any code).

    Returns
    -------
    estimator : estimator

    Raises
    ------
    UntrustedTypesError
        If the file holds types that are neither allowed by default nor in
        ``trusted``; the message lists them.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}.")
    import zipfile

    if not zipfile.is_zipfile(path):  # skops files are zip archives; joblib files are pickles
        if not unsafe:
            raise UntrustedTypesError(
                f"{str(path)!r} is not a skops file (a joblib/pickle file, perhaps). Loading a pickle can "
                f"run any code: pass unsafe=True only for a file you made or fully trust."
            )
        import joblib

        return joblib.load(path)
    sio = _skops_io()
    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(t for t in untrusted if not _allowed(t) and t not in set(trusted))
    if refused:
        raise UntrustedTypesError(
            f"{str(path)!r} holds types that are not trusted: {refused}. If the file comes from someone you "
            f"trust, pass them as load(..., trusted=[...])."
        )
    return sio.load(path, trusted=list(untrusted))
