"""Decision-level (late) fusion: one estimator per view, predictions combined."""

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets

from .._views import per_view, validate_multiview_data
from ..utils._compat import (
    HasMethods,
    StrOptions,
    _fit_context,
    available_if,
    check_is_fitted,
)


def _resolve_view_weights(weights, views):
    """Broadcast ``weights`` (None, mapping or sequence) to {view: float}."""
    views = list(views)
    if weights is None:
        return dict.fromkeys(views, 1.0)
    if isinstance(weights, Mapping):
        resolved = {v: float(w) for v, w in per_view(weights, views, "weights", default=1.0).items()}
    else:
        weights = np.asarray(weights, dtype=float).ravel()
        if weights.size != len(views):
            raise ValueError(
                f"weights has {weights.size} entries but there are {len(views)} views {views}; "
                f"give one weight per view or a mapping {{view: weight}}."
            )
        resolved = dict(zip(views, weights.tolist()))
    if any(not np.isfinite(w) or w < 0 for w in resolved.values()):
        raise ValueError(f"weights must be finite and non-negative; got {resolved}.")
    if not any(w > 0 for w in resolved.values()):
        raise ValueError(f"At least one view weight must be positive; got {resolved}.")
    return resolved


#: The voting rules that combine the views' class probabilities.
_PROBABILITY_RULES = ("soft", "product")
#: The smallest probability the product rule takes the logarithm of: a view that is
#: certain a class is impossible lowers it without vetoing it outright.
_PRODUCT_FLOOR = 1e-6


def _soft_voting(estimator):
    if estimator.voting == "stacking":
        final = getattr(estimator, "final_estimator_", None) or estimator._final_estimator()
        return hasattr(final, "predict_proba")
    return estimator.voting in _PROBABILITY_RULES


def _rows_cols(X, rows, cols):
    """``X[rows][:, cols]`` with one copy for dense X (sparse X is indexed in two steps)."""
    if sp.issparse(X):
        return X[rows][:, cols]
    return X[np.ix_(rows, cols)]


class LateFusionClassifier(ClassifierMixin, BaseEstimator):
    """Decision-level fusion: one classifier per view, probabilities or votes combined.

    A clone of ``estimator`` is fitted on each view's columns. Predictions are
    the weighted mean of the per-view class probabilities (``voting="soft"``),
    their weighted geometric mean, renormalised (``voting="product"``, the
    product rule of Kittler et al., *IEEE TPAMI* 20, 1998: right when the views
    are conditionally independent given the class, so that a view that is sure
    overrules views that are unsure), a weighted majority vote
    (``voting="hard"``), or a meta-learner's output
    (``voting="stacking"``: ``final_estimator`` trained on the views'
    out-of-fold probabilities and presence flags). A row missing a view (all
    NaN in that view's columns) is predicted from the views it has: with the
    weights renormalised, or, when stacking, with that view's probabilities at
    0 and its presence flag at 0, which the meta-learner has seen in training
    when views were missing there. Each view's classifier is fitted on the rows
    where that view is present.

    Hybrid fusion is a ``views`` mapping in which one view is the union of
    several modalities' columns: they are fused early (one classifier on
    their joined columns) and late with the other views.

    Parameters
    ----------
    estimator : estimator object or mapping of str to estimator, default=None
        Classifier cloned for every view, or a mapping ``{view: classifier}``
        giving each view its own (a view left out, or mapped to None, gets the
        default). ``None`` means ``LogisticRegression(max_iter=1000)``. Soft
        voting and stacking need ``predict_proba``. A mapping's classifiers are
        set as a whole (``GridSearchCV`` can search over mappings, not inside
        them).
    views : mapping of str to columns, default=None
        Which columns form each view; ``None`` infers them from
        ``<view>__<feature>`` column names. See :func:`mmsk.resolve_views`.
    voting : {"soft", "product", "hard", "stacking"}, default="soft"
        Average the probabilities, multiply them (a probability below 1e-6
        counts as 1e-6, so that no view vetoes a class alone), count
        predicted labels, or learn the combination.
    weights : mapping of str to float, or array-like, default=None
        Weight of each view (views not named in a mapping get 1.0). ``None``
        weighs all views equally. Not used by ``"stacking"``.
    final_estimator : estimator object, default=None
        The meta-learner of ``"stacking"``; None:
        ``LogisticRegression(max_iter=1000)``.
    cv : int, cross-validation generator or iterable, default=5
        The folds of the out-of-fold probabilities ``"stacking"`` trains the
        meta-learner on (a classifier's default: stratified).

    Attributes
    ----------
    estimators_ : dict of str to estimator
        The fitted classifier of each view.
    weights_ : dict of str to float
        The resolved weight of each view.
    final_estimator_ : estimator
        With ``"stacking"``: the fitted meta-learner.
    view_indices_ : dict of str to ndarray of int
        Column positions of each view in X.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of columns of X seen in fit.
    feature_names_in_ : ndarray of str
        Column names of X, when X was a DataFrame with string column names.

    See Also
    --------
    sklearn.ensemble.VotingClassifier : votes among estimators that all see every column.
    mmsk.make_modality_union : builds the view-prefixed feature stage.

    Examples
    --------
    >>> from mmsk.datasets import make_multimodal_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mmsk.fusion import LateFusionClassifier
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> clf = LateFusionClassifier().fit(X, y)
    >>> sorted(clf.estimators_)
    ['view0', 'view1']
    >>> clf.predict_proba(X.iloc[:2]).shape
    (2, 2)
    >>> product = LateFusionClassifier(voting="product").fit(X, y)
    >>> product.predict_proba(X.iloc[:2]).sum(axis=1).round(6)
    array([1., 1.])
    >>> stacked = LateFusionClassifier(voting="stacking", cv=3).fit(X, y)
    >>> stacked.final_estimator_.coef_.shape  # 2 probabilities + 1 presence flag per view
    (1, 6)

    Hybrid fusion: audio and video fused early, text late.

    >>> X3, y3 = make_multimodal_classification(n_samples=200, n_views=3, random_state=0)
    >>> audio_video = [c for c in X3.columns if c.startswith(("view0__", "view1__"))]
    >>> text = [c for c in X3.columns if c.startswith("view2__")]
    >>> hybrid = LateFusionClassifier(views={"audio+video": audio_video, "text": text}).fit(X3, y3)
    >>> sorted(hybrid.estimators_)
    ['audio+video', 'text']

    Each view its own classifier, tuned on its own: a row that lacks view0
    then gets exactly the prediction of view1's classifier alone.

    >>> from sklearn.ensemble import RandomForestClassifier
    >>> forest = RandomForestClassifier(n_estimators=50, random_state=0)
    >>> per_view = LateFusionClassifier({"view0": forest, "view1": LogisticRegression(C=0.1)}).fit(X, y)
    >>> type(per_view.estimators_["view0"]).__name__
    'RandomForestClassifier'
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), Mapping, None],
        "views": [Mapping, None],
        "voting": [StrOptions({"soft", "product", "hard", "stacking"})],
        "weights": [Mapping, "array-like", None],
        "final_estimator": [HasMethods(["fit", "predict"]), None],
        "cv": ["cv_object"],
    }

    def __init__(
        self, estimator=None, *, views=None, voting="soft", weights=None, final_estimator=None, cv=5
    ):
        self.estimator = estimator
        self.views = views
        self.voting = voting
        self.weights = weights
        self.final_estimator = final_estimator
        self.cv = cv

    def _final_estimator(self):
        return LogisticRegression(max_iter=1000) if self.final_estimator is None else self.final_estimator

    def _base_estimator(self, view):
        """The unfitted classifier of ``view``: its entry in a mapping, else the shared one."""
        estimator = self.estimator
        if isinstance(estimator, Mapping):
            estimator = estimator.get(view)
        if estimator is None:
            return LogisticRegression(max_iter=1000)
        return estimator

    def _check_estimator_mapping(self):
        if not isinstance(self.estimator, Mapping):
            return
        per_view(self.estimator, self.view_indices_, "estimator")  # refuses unknown views
        for view, est in self.estimator.items():
            if est is not None and not (hasattr(est, "fit") and hasattr(est, "predict")):
                raise TypeError(
                    f"estimator[{view!r}] must be a classifier with fit and predict (or None for the "
                    f"default LogisticRegression); got {type(est).__name__}."
                )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit one classifier per view.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features of all views; a view's columns all NaN in a row mark that
            view missing for the row.
        y : array-like of shape (n_samples,)
            Target labels.

        Returns
        -------
        self : LateFusionClassifier
            Fitted estimator.
        """
        X, y, masks = validate_multiview_data(self, X, y, reset=True, accept_sparse="csr", dtype="numeric")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(
                f"The target has 1 class ({self.classes_[0]!r}); a classifier needs at least two."
            )
        self._check_estimator_mapping()
        for view in self.view_indices_:
            base = self._base_estimator(view)
            if self.voting != "hard" and not hasattr(base, "predict_proba"):
                raise ValueError(
                    f"voting={self.voting!r} needs per-view probabilities, but the classifier of view "
                    f"{view!r}, {type(base).__name__}, has no predict_proba. Use voting='hard' or a "
                    f"probabilistic classifier."
                )
        self.weights_ = _resolve_view_weights(self.weights, self.view_indices_)
        self.estimators_ = {}
        for view, idx in self.view_indices_.items():
            present = ~masks[view]
            if not present.any():
                raise ValueError(
                    f"View {view!r} is missing (all NaN) in every row of the training data; "
                    f"there is nothing to fit its classifier on."
                )
            y_view = y[present]
            if np.unique(y_view).size < 2:
                raise ValueError(
                    f"View {view!r} is present only in rows of class {y_view[0]!r}; its "
                    f"classifier needs at least two classes."
                )
            view_estimator = clone(self._base_estimator(view))
            self.estimators_[view] = view_estimator.fit(_rows_cols(X, present, idx), y_view)
        if self.voting == "stacking":
            self.final_estimator_ = clone(self._final_estimator()).fit(self._out_of_fold(X, y, masks), y)
        return self

    def _meta_features(self, probas, masks, n):
        """Per view: its class probabilities (0 where missing) and a presence flag, side by side."""
        blocks = []
        for view in self.view_indices_:
            P = np.zeros((n, self.classes_.size))
            present = ~masks[view]
            if probas[view] is not None:
                cols = np.searchsorted(self.classes_, self.estimators_[view].classes_)
                P[np.ix_(present, cols)] = probas[view]
            blocks += [P, present[:, None].astype(float)]
        return np.hstack(blocks)

    def _out_of_fold(self, X, y, masks):
        """The meta-learner's training design: each view's out-of-fold probabilities on its rows."""
        from sklearn.model_selection import check_cv, cross_val_predict

        probas = {}
        for view, idx in self.view_indices_.items():
            present = ~masks[view]
            y_view = y[present]
            cv = check_cv(self.cv, y_view, classifier=True)
            P = cross_val_predict(
                clone(self._base_estimator(view)),
                _rows_cols(X, present, idx),
                y_view,
                cv=cv,
                method="predict_proba",
            )
            # cross_val_predict orders columns by the view's own classes, as the view's estimator does
            probas[view] = P
        return self._meta_features(probas, masks, len(y))

    def _per_view(self, X, method):
        """Yield (view, present mask, output of method on present rows)."""
        check_is_fitted(self)
        X, masks = validate_multiview_data(self, X, reset=False, accept_sparse="csr", dtype="numeric")
        for view, est in self.estimators_.items():
            present = ~masks[view]
            if present.any():
                out = getattr(est, method)(_rows_cols(X, present, self.view_indices_[view]))
                yield view, present, out
            else:
                yield view, present, None

    def _combine(self, X, method):
        return self._combine_outputs(list(self._per_view(X, method)), method)

    def _combine_outputs(self, outputs, method):
        """Combine [(view, present mask, output on present rows or None)] by the voting rule."""
        n_classes = self.classes_.size
        scores = np.zeros((outputs[0][1].size, n_classes))
        total = np.zeros(outputs[0][1].size)
        for view, present, out in outputs:
            if out is None:
                continue
            w = self.weights_[view]
            cols = np.searchsorted(self.classes_, self.estimators_[view].classes_)
            if method == "predict_proba" and self.voting == "product":
                # a class a view's classifier never saw gets the floor from that view
                logs = np.full((out.shape[0], n_classes), np.log(_PRODUCT_FLOOR))
                logs[:, cols] = np.log(np.clip(out, _PRODUCT_FLOOR, None))
                scores[present] += w * logs
            elif method == "predict_proba":
                scores[np.ix_(present, cols)] += w * out
            else:
                votes = np.zeros((out.shape[0], n_classes))
                votes[np.arange(out.shape[0]), np.searchsorted(self.classes_, out)] = w
                scores[present] += votes
            total[present] += w
        zero = np.flatnonzero(total == 0)
        if zero.size and not any(present[zero[0]] for _, present, _ in outputs):
            raise ValueError(f"Row {zero[0]} has no view left to predict from.")
        if zero.size:
            raise ValueError(
                f"Row {zero[0]} has only views with weight 0 present; no prediction can be made. "
                f"Give those views a positive weight."
            )
        scores /= total[:, None]
        if method == "predict_proba" and self.voting == "product":
            return softmax(scores, axis=1)
        return scores

    @available_if(_soft_voting)
    def predict_proba(self, X):
        """Class probabilities from the views present: their weighted mean or product, or the meta-learner's.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        if self.voting == "stacking":
            return self.final_estimator_.predict_proba(self._stacked(X))
        return self._combine(X, "predict_proba")

    def _stacked(self, X):
        return self._stacked_outputs(list(self._per_view(X, "predict_proba")))

    def _stacked_outputs(self, outputs):
        probas = {view: out for view, _, out in outputs}
        masks = {view: ~present for view, present, _ in outputs}
        return self._meta_features(probas, masks, outputs[0][1].size)

    @available_if(_soft_voting)
    def predict_proba_without(self, X, views=None):
        """Class probabilities with each view left out in turn, each view's classifier run once.

        For each view, the same as :meth:`predict_proba` on ``X`` with that
        view's columns all NaN (the view missing from every row), but each
        view's classifier predicts once, not once per view left out: what
        modality importance at predict time needs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        views : list of str, default=None
            The views to leave out, one at a time; None: every view.

        Returns
        -------
        probas : dict of str to ndarray of shape (n_samples, n_classes)
            Per view left out, the class probabilities from the others.

        Raises
        ------
        ValueError
            When a row has no other view to be predicted from.

        Examples
        --------
        >>> import numpy as np
        >>> from mmsk.datasets import make_multimodal_classification
        >>> from mmsk.fusion import LateFusionClassifier
        >>> X, y = make_multimodal_classification(n_samples=120, random_state=0)
        >>> late = LateFusionClassifier().fit(X, y)
        >>> without = late.predict_proba_without(X)
        >>> sorted(without)
        ['view0', 'view1']
        >>> masked = X.copy()
        >>> masked[[c for c in X.columns if c.startswith("view0__")]] = np.nan
        >>> bool(np.allclose(without["view0"], late.predict_proba(masked)))
        True
        """
        check_is_fitted(self)
        views = list(self.view_indices_) if views is None else list(views)
        unknown = [v for v in views if v not in self.view_indices_]
        if unknown:
            raise ValueError(f"Unknown views {unknown}; this model's views are {list(self.view_indices_)}.")
        outputs = list(self._per_view(X, "predict_proba"))
        without = {}
        for view in views:
            left = [(v, present if v != view else np.zeros_like(present), out if v != view else None)
                    for v, present, out in outputs]  # fmt: skip
            if self.voting == "stacking":
                without[view] = self.final_estimator_.predict_proba(self._stacked_outputs(left))
            else:
                without[view] = self._combine_outputs(left, "predict_proba")
        return without

    def predict(self, X):
        """Predict class labels from the views present in each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if self.voting == "stacking":
            return self.final_estimator_.predict(self._stacked(X))
        method = "predict_proba" if self.voting in _PROBABILITY_RULES else "predict"
        return self.classes_[np.argmax(self._combine(X, method), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A whole view of NaN is a missing modality; NaN anywhere else is an error,
        # so, in the checks' sense of NaN at random positions, NaN is not allowed.
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags
