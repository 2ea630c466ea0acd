"""Feature-level (early) fusion: per-view scaling and weighting, then any scikit-learn estimator."""

from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge

from .._views import validate_multiview_data
from ..utils._compat import HasMethods, StrOptions, _fit_context, available_if, check_is_fitted
from ..utils._docs import fill_doc
from ..utils._fitting import encode_classes
from ._late import _resolve_view_weights


def _has(method):
    return lambda self: hasattr(self.estimator_ if hasattr(self, "estimator_") else self._base(), method)


_DOC = """estimator : estimator object, default=None
        Fitted on the fused features. None: {default}.
    views : mapping of str to columns, default=None
        The views; None infers them from ``<view>__<feature>`` column names
        (see :func:`mmsk.resolve_views`).
    scale : {{"block", "standard", "none"}}, default="block"
        ``"standard"``: each column to zero mean and unit variance.
        ``"block"``: that, then each view divided by the square root of its
        number of columns, so every view brings the same total variance
        whatever its width (a 1000-column image view does not drown a
        13-column audio view). ``"none"``: columns as they are.
    view_weights : mapping of str to float, or array-like, default=None
        Multiplies each view's (scaled) columns; None: 1 for every view.
    missing : {{"indicator", "error"}}, default="indicator"
        A row missing a view (all NaN) gets the view's training mean (0 after
        scaling) and, whatever ``missing`` is, the fused features end with one
        0/1 column per view saying whether the row has it, so the estimator
        can tell a missing view from an average one. ``"error"``: refuse rows
        with a missing view."""


class _BaseEarlyFusion(BaseEstimator):
    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "views": [Mapping, None],
        "scale": [StrOptions({"block", "standard", "none"})],
        "view_weights": [Mapping, "array-like", None],
        "missing": [StrOptions({"indicator", "error"})],
    }

    def __init__(self, estimator=None, *, views=None, scale="block", view_weights=None, missing="indicator"):
        self.estimator = estimator
        self.views = views
        self.scale = scale
        self.view_weights = view_weights
        self.missing = missing

    def _fuse(self, X, masks):
        """Scaled, weighted view columns side by side (missing views at 0) and the presence columns."""
        blocks = []
        for view, idx in self.view_indices_.items():
            B = (X[:, idx] - self.mean_[view]) / self.scale_[view] * self.weights_[view]
            B[masks[view]] = 0.0
            blocks.append(B)
        presence = np.column_stack([~masks[v] for v in self.view_indices_]).astype(np.float64)
        return np.hstack(blocks + [presence])

    _y_check = {}

    def _validated(self, X, y="no_validation", reset=False):
        kw = dict(reset=reset, dtype=np.float64, allow_missing_views=self.missing == "indicator")
        if isinstance(y, str) and y == "no_validation":
            return validate_multiview_data(self, X, **kw)
        return validate_multiview_data(self, X, y, **kw, **self._y_check)

    def _fit_fused(self, X, y):
        X, y, masks = self._validated(X, y, reset=True)
        self.weights_ = _resolve_view_weights(self.view_weights, self.view_indices_)
        self.mean_, self.scale_ = {}, {}
        for view, idx in self.view_indices_.items():
            present = ~masks[view]
            if not present.any():
                raise ValueError(f"view {view!r} is missing (all NaN) in every training row.")
            block = X[np.ix_(present, idx)]
            if self.scale == "none":
                mean, std = np.zeros(len(idx)), np.ones(len(idx))
            else:
                mean, std = block.mean(axis=0), block.std(axis=0)
                std = np.where(std > 0, std, 1.0)
                if self.scale == "block":
                    std = std * np.sqrt(len(idx))
            self.mean_[view], self.scale_[view] = mean, std
        return self._fuse(X, masks), y

    def fused_features(self, X):
        """The design the estimator sees: scaled, weighted views and one presence column per view.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_view_features + n_views)
        """
        check_is_fitted(self, "estimator_")
        X, masks = self._validated(X)
        return self._fuse(X, masks)

    @available_if(_has("predict"))
    def predict(self, X):
        """Predict with the estimator on the fused features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray
        """
        Z = self.fused_features(X)
        pred = self.estimator_.predict(Z)
        return self.classes_[pred] if hasattr(self, "classes_") else pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False  # only whole missing views
        return tags


class EarlyFusionClassifier(ClassifierMixin, _BaseEarlyFusion):
    """Feature-level fusion: views scaled and weighted per view, concatenated, one classifier on top.

    Parameters
    ----------
    %(doc)s

    Attributes
    ----------
    estimator_ : estimator
        The classifier fitted on :meth:`fused_features`.
    classes_ : ndarray
    weights_ : dict of str to float
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    LateFusionClassifier : decision-level fusion.

    Examples
    --------
    >>> from mmsk.datasets import make_multimodal_classification
    >>> from mmsk.fusion import EarlyFusionClassifier
    >>> X, y = make_multimodal_classification(n_samples=300, n_features=[20, 5], random_state=0)
    >>> clf = EarlyFusionClassifier().fit(X, y)
    >>> clf.fused_features(X).shape  # 25 scaled columns + 2 presence columns
    (300, 27)
    >>> bool(clf.score(X, y) > 0.8)
    True
    """

    def _base(self):
        return LogisticRegression(max_iter=1000) if self.estimator is None else self.estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Scale and weigh each view on the rows that have it, concatenate, fit the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        Z, y = self._fit_fused(X, y)
        codes = encode_classes(self, y)
        self.estimator_ = clone(self._base()).fit(Z, codes)
        return self

    @available_if(_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the classifier on the fused features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        Z = self.fused_features(X)
        return self.estimator_.predict_proba(Z)

    @available_if(_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the classifier on the fused features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray
        """
        Z = self.fused_features(X)
        return self.estimator_.decision_function(Z)


class EarlyFusionRegressor(RegressorMixin, _BaseEarlyFusion):
    """Feature-level fusion for regression: views scaled and weighted, concatenated, one regressor.

    Parameters
    ----------
    %(doc)s

    Attributes
    ----------
    estimator_ : estimator
        The regressor fitted on :meth:`fused_features`.
    weights_ : dict of str to float
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.fusion import EarlyFusionRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = X[:, 0] + 2 * X[:, 3]
    >>> reg = EarlyFusionRegressor(views={"a": [0, 1], "b": [2, 3]}).fit(X, y)
    >>> bool(reg.score(X, y) > 0.99)
    True
    """

    _y_check = {"multi_output": True, "y_numeric": True}

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = get_tags(self._base()).target_tags.multi_output
        return tags

    def _base(self):
        return Ridge(alpha=1e-3) if self.estimator is None else self.estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Scale and weigh each view on the rows that have it, concatenate, fit the regressor.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : object
        """
        Z, y = self._fit_fused(X, y)
        self.estimator_ = clone(self._base()).fit(Z, y)
        return self


fill_doc(EarlyFusionClassifier, {"doc": _DOC.format(default="``LogisticRegression(max_iter=1000)``")})
fill_doc(EarlyFusionRegressor, {"doc": _DOC.format(default="``Ridge(alpha=1e-3)``")})
