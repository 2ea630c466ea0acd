"""CoTrainingClassifier: two views teach each other on unlabelled rows (Blum and Mitchell, 1998)."""

from collections.abc import Mapping
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from .._views import validate_multiview_data
from ..utils._compat import HasMethods, Interval, check_is_fitted
from ._late import _rows_cols

UNLABELED = -1


class CoTrainingClassifier(ClassifierMixin, BaseEstimator):
    """Co-training: a classifier per view labels the unlabelled rows it is surest of, for the other.

    Semi-supervised learning with two views, each enough to predict the class
    on its own (Blum and Mitchell, 1998). As in scikit-learn's
    semi-supervised API, unlabelled rows have ``y == -1``. Each round, the
    classifier of each view is fitted on the labelled rows, then labels, from
    a random pool of ``pool_size`` unlabelled rows, the ``n_per_class`` rows it
    is most confident belong to each class; those rows join the labelled set
    for both views. After ``max_iter`` rounds (or when no unlabelled row is
    left) each view's classifier is fitted on all labelled rows, and
    predictions multiply the two views' class probabilities.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``predict_proba``, cloned for each view. None:
        ``LogisticRegression(max_iter=1000)``.
    views : mapping of str to columns, default=None
        The two views; None reads them from ``<view>__<feature>`` names.
    max_iter : int, default=30
        Rounds of labelling.
    pool_size : int, default=75
        Unlabelled rows each round draws from.
    n_per_class : int, default=1
        Rows each view labels per class and round.
    random_state : int, RandomState instance or None, default=None
        Seeds the pools.

    Attributes
    ----------
    estimators_ : dict of str to estimator
        Each view's classifier, fitted on every labelled row at the end.
    transduction_ : ndarray of shape (n_samples,)
        The labels used for the final fit: given ones, the ones co-training
        assigned, and -1 for rows left unlabelled.
    labeled_iter_ : ndarray of shape (n_samples,)
        The round in which each row got its label (0: given; -1: never).
    n_iter_ : int
        Rounds run (the last one may have found no unlabelled row left).
    classes_ : ndarray
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Rows missing a view (all NaN) can be labelled rows: each view's
    classifier uses the rows where its view is present, and a prediction for
    a row with one view uses that view alone. Only rows with both views enter
    the unlabelled pool.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.datasets import make_multimodal_classification
    >>> from mmsk.fusion import CoTrainingClassifier
    >>> X, y = make_multimodal_classification(n_samples=400, class_sep=2.0, random_state=0)
    >>> y_partial = np.where(np.arange(400) % 20 == 0, y, -1)  # 5% of the labels
    >>> clf = CoTrainingClassifier(max_iter=20, random_state=0).fit(X, y_partial)
    >>> int((clf.labeled_iter_ > 0).sum())  # rows co-training labelled
    80
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "views": [Mapping, None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "n_per_class": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self, estimator=None, *, views=None, max_iter=30, pool_size=75, n_per_class=1, random_state=None
    ):
        self.estimator = estimator
        self.views = views
        self.max_iter = max_iter
        self.pool_size = pool_size
        self.n_per_class = n_per_class
        self.random_state = random_state

    def _base(self):
        return LogisticRegression(max_iter=1000) if self.estimator is None else self.estimator

    def _fit_views(self, X, y, masks):
        labelled = y != UNLABELED
        for view, idx in self.view_indices_.items():
            rows = labelled & ~masks[view]
            if np.unique(y[rows]).size < 2:
                raise ValueError(
                    f"view {view!r} has labelled rows of fewer than 2 classes; co-training needs each view's "
                    f"classifier to see at least 2 classes."
                )
            self.estimators_[view] = clone(self._base()).fit(_rows_cols(X, rows, idx), y[rows])

    def fit(self, X, y):
        """Co-train the two views' classifiers on the labelled and unlabelled (``y == -1``) rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels, -1 for unlabelled rows.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, y, masks = validate_multiview_data(self, X, y, reset=True, min_views=2, dtype=np.float64)
        if len(self.view_indices_) != 2:
            views = list(self.view_indices_)
            raise ValueError(f"co-training takes exactly 2 views; got {len(views)}: {views}.")
        check_classification_targets(y)
        y = np.asarray(y).copy()
        labelled = y != UNLABELED
        self.classes_ = np.unique(y[labelled])
        if self.classes_.size < 2:
            raise ValueError(
                f"The labelled rows have {self.classes_.size} class(es); co-training needs at least 2 "
                f"(unlabelled rows are marked -1)."
            )
        rng = check_random_state(self.random_state)
        self.labeled_iter_ = np.where(labelled, 0, -1)
        both = ~np.logical_or.reduce(list(masks.values()))
        self.estimators_ = {}
        self.n_iter_ = 0
        for round_ in range(1, self.max_iter + 1):
            self.n_iter_ = round_
            candidates = np.flatnonzero((y == UNLABELED) & both)
            if candidates.size == 0:
                break
            self._fit_views(X, y, masks)
            pool = rng.choice(candidates, min(self.pool_size, candidates.size), replace=False)
            for view, est in self.estimators_.items():
                pool = pool[y[pool] == UNLABELED]  # the other view may have labelled some already
                if pool.size == 0:
                    break
                proba = est.predict_proba(_rows_cols(X, pool, self.view_indices_[view]))
                for j, label in enumerate(est.classes_):
                    top = pool[np.argsort(-proba[:, j], kind="stable")[: self.n_per_class]]
                    top = top[y[top] == UNLABELED]
                    y[top] = label
                    self.labeled_iter_[top] = round_
        self._fit_views(X, y, masks)
        self.transduction_ = y
        return self

    def predict_proba(self, X):
        """Product of the views' class probabilities, renormalised (one view where the other is missing).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimators_")
        X, masks = validate_multiview_data(self, X, reset=False, min_views=2, dtype=np.float64)
        log_p = np.zeros((X.shape[0], self.classes_.size))
        for view, est in self.estimators_.items():
            rows = ~masks[view]
            if rows.any():
                P = np.full((int(rows.sum()), self.classes_.size), 1e-12)
                P[:, np.searchsorted(self.classes_, est.classes_)] = est.predict_proba(
                    _rows_cols(X, rows, self.view_indices_[view])
                )
                log_p[rows] += np.log(np.clip(P, 1e-12, None))
        log_p -= log_p.max(axis=1, keepdims=True)
        p = np.exp(log_p)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class under :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False  # only whole missing views
        return tags
