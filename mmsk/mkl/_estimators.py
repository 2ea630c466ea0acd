"""MKLClassifier and MKLRegressor: one kernel (or several) per view, learned weights, X with views."""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.kernel_approximation import Nystroem
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge
from sklearn.svm import SVC, LinearSVC
from sklearn.utils import check_random_state

from .._views import validate_multiview_data
from ..utils._compat import (
    Interval,
    StrOptions,
    _num_samples,
    _safe_indexing,
    available_if,
    check_is_fitted,
)
from ..utils._docs import fill_doc
from ..utils._fitting import encode_classes
from ._combine import METHODS
from ._kernels import check_user_kernel, compute_kernel, fit_gamma, kernel_params, kernel_specs

_COMMON_DOC = """views : dict or None, default=None
        The views (see :func:`mmsk.resolve_views`); None reads them from
        ``<view>__<feature>`` column names.
    kernels : str, list of str or dict, default="rbf"
        Kernel(s) per view: one name for every view, a list of names (several
        kernels per view), or a dict view -> name(s). Names: ``"rbf"``,
        ``"laplacian"``, ``"linear"``, ``"poly"``, ``"chi2"`` (non-negative
        features such as histograms), ``"cosine"``, ``"sigmoid"``.
    gamma : float or None, default=None
        Kernel coefficient; None: the median heuristic for rbf and laplacian
        (per view), 1 for chi2, 1 / n_view_features for poly and sigmoid.
    degree : int, default=3
    coef0 : float, default=1.0
    method : {"average", "alignf", "easymkl", "gradient"}, default="alignf"
        How the kernel weights are learned: ``"average"`` (uniform, the
        baseline), ``"alignf"`` (centred kernel alignment with the target,
        Cortes et al. 2012), ``"easymkl"`` (Aiolli and Donini 2015; one class
        against the rest for multiclass), ``"gradient"`` (SimpleMKL-class
        reduced gradient on the weight simplex, with a kernel-ridge inner
        problem).
    lam : float, default=0.1
        EasyMKL's regularisation (0 to 1), and the ridge of ``"gradient"``'s
        inner problem relative to the kernels' unit trace.
    approx : {"auto", "exact", "nystroem"}, default="auto"
        ``"exact"``: n x n kernels and a kernel machine on their weighted sum.
        ``"nystroem"``: the kernel weights are learned on exact kernels of
        ``weight_rows`` sampled rows, then each kernel becomes a Nystroem
        feature map (scikit-learn's, ``n_landmarks`` landmarks) and a linear
        model is trained on the weighted, concatenated maps, so memory and
        time grow linearly with the rows. ``"auto"``: whichever costs less,
        exact up to four rows per landmark (4000 rows with the default
        ``n_landmarks``), where the exact kernels' n² overtakes the maps.
    n_landmarks : int, default=1000
        Landmarks per kernel of the Nystroem maps.
    weight_rows : int, default=2000
        Rows sampled to learn the weights with ``"nystroem"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the median heuristic's row sample, and with ``"nystroem"`` the
        weight rows and the landmarks."""


class _BaseMKL(BaseEstimator):
    _parameter_constraints = {
        "views": [Mapping, None],
        "kernels": [str, list, tuple, dict],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Real],
        "method": [StrOptions(set(METHODS))],
        "lam": [Interval(Real, 0, 1, closed="both")],
        "approx": [StrOptions({"auto", "exact", "nystroem"})],
        "n_landmarks": [Interval(Integral, 1, None, closed="left")],
        "weight_rows": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }
    # Rows per landmark up to which the exact kernels cost less than the Nystroem maps: kernels cost
    # n² per view, maps n x n_landmarks; on 2 cores the two met near 4 rows per landmark (2 views).
    _EXACT_ROWS_PER_LANDMARK = 4

    def _fit_kernels(self, X):
        """Validate X; the normalised training kernels, one per (view, kernel) spec.

        A row missing a view has a zero row and column in that view's kernels
        (its feature map is the origin there).
        """
        X, masks = validate_multiview_data(self, X, reset=True, dtype=np.float64)
        if X.shape[0] < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 samples; got {X.shape[0]} sample.")
        specs = kernel_specs(self.kernels, list(self.view_indices_))
        rng = check_random_state(self.random_state)
        self.kernel_specs_, self.kernel_scales_, self.kernel_params_ = [], [], []
        self.X_fit_ = {}
        self.present_fit_ = {view: ~mask for view, mask in masks.items()}
        kernels = []
        for view, name in specs:
            present = self.present_fit_[view]
            if present.sum() < 2:
                raise ValueError(f"view {view!r} is present in fewer than 2 training rows.")
            block = X[np.ix_(present, self.view_indices_[view])]
            if np.ptp(block, axis=0).max(initial=0.0) == 0:
                raise ValueError(f"view {view!r} is constant: its kernel carries no information.")
            params = kernel_params(name, fit_gamma(block, name, self.gamma, rng), self.degree, self.coef0)
            K_present = compute_kernel(block, None, view, name, params)
            check_user_kernel(K_present, view, name)
            scale = float(np.mean(np.diag(K_present)))
            if scale <= 0:
                raise ValueError(f"the {name} kernel of view {view!r} is zero on every row.")
            K = np.zeros((X.shape[0], X.shape[0]))
            K[np.ix_(present, present)] = K_present / scale  # unit mean diagonal: kernels on one scale
            self.kernel_specs_.append((view, name))
            self.kernel_params_.append(params)
            self.kernel_scales_.append(scale)
            self.X_fit_[view] = block
            kernels.append(K)
        return kernels

    def _set_weights(self, kernels, Y):
        weights = METHODS[self.method](kernels, Y, **self._method_kwargs())
        self.kernel_weights_ = {f"{v}:{k}": float(w) for (v, k), w in zip(self.kernel_specs_, weights)}
        return weights

    def _method_kwargs(self):
        return {"lam": self.lam} if self.method in ("easymkl", "gradient") else {}

    def _row_weights(self, present):
        """Per row and kernel, the weight the row gives the kernel (rows sum to one).

        A row uses the learned weights of the kernels whose view it has,
        renormalised to sum to one. A row whose present kernels all have zero
        weight gives each of them the same weight, so every row with at least
        one view present can be predicted.
        """
        P = np.column_stack([present[view] for view, _ in self.kernel_specs_]).astype(np.float64)
        W = P * np.fromiter(self.kernel_weights_.values(), dtype=np.float64)
        unweighted = W.sum(axis=1) <= 0
        W[unweighted] = P[unweighted]
        total = W.sum(axis=1)
        if (total <= 0).any():
            row = int(np.flatnonzero(total <= 0)[0])
            raise ValueError(f"row {row} has no view present; it cannot be used.")
        return W / total[:, None]

    def _train_kernel(self, kernels):
        """sum_k sqrt(w_ik w_jk) K_k[i, j]: a sum of congruences, so it stays PSD."""
        W = self._row_weights(self.present_fit_)
        return sum(np.sqrt(np.outer(W[:, k], W[:, k])) * Kk for k, Kk in enumerate(kernels))

    def _combined(self, X):
        """Combined kernel between X's rows and the training rows, each row with its own weights."""
        X, masks = validate_multiview_data(self, X, reset=False, dtype=np.float64)
        W_rows = self._row_weights({view: ~mask for view, mask in masks.items()})
        W_cols = self._row_weights(self.present_fit_)
        K = np.zeros((X.shape[0], W_cols.shape[0]))
        for k, ((view, name), params, scale) in enumerate(
            zip(self.kernel_specs_, self.kernel_params_, self.kernel_scales_)
        ):
            rows, cols = W_rows[:, k] > 0, W_cols[:, k] > 0
            if rows.any() and cols.any():
                block = X[np.ix_(rows, self.view_indices_[view])]
                train = self.X_fit_[view][W_cols[self.present_fit_[view], k] > 0]
                K[np.ix_(rows, cols)] += np.sqrt(np.outer(W_rows[rows, k], W_cols[cols, k])) * (
                    compute_kernel(block, train, view, name, params) / scale
                )
        return K

    def _fit_design(self, X, Y):
        """Learn the weights; return the training design: a kernel (exact) or features (Nystroem)."""
        n = _num_samples(X)
        self.approx_ = (
            self.approx
            if self.approx != "auto"
            else ("exact" if n <= self._EXACT_ROWS_PER_LANDMARK * self.n_landmarks else "nystroem")
        )
        if self.approx_ == "exact":
            kernels = self._fit_kernels(X)
            self._set_weights(kernels, Y)
            return self._train_kernel(kernels)
        rng = check_random_state(self.random_state)
        sub = np.sort(rng.choice(n, min(n, self.weight_rows), replace=False))
        self._set_weights(self._fit_kernels(_safe_indexing(X, sub)), Y[sub])
        X, masks = validate_multiview_data(self, X, reset=False, dtype=np.float64)
        self.maps_ = []
        for (view, name), params in zip(self.kernel_specs_, self.kernel_params_):
            block = X[np.ix_(~masks[view], self.view_indices_[view])]
            nys = Nystroem(
                kernel=name,
                n_components=min(self.n_landmarks, len(block)),
                random_state=rng.randint(np.iinfo(np.int32).max),
                **params,
            ).fit(block)
            scale = float(np.mean(np.sum(nys.transform(block[: min(len(block), 2000)]) ** 2, axis=1)))
            self.maps_.append((nys, scale))
        del self.X_fit_  # the maps replace the training rows
        return self._features(X, masks)

    def _features(self, X, masks):
        """Concatenated Nystroem maps, each scaled by the row's weight for it (zero for a missing view)."""
        W = self._row_weights({view: ~mask for view, mask in masks.items()})
        blocks = []
        for k, ((view, _), (nys, scale)) in enumerate(zip(self.kernel_specs_, self.maps_)):
            F = np.zeros((X.shape[0], nys.components_.shape[0]))
            rows = W[:, k] > 0
            if rows.any():
                F[rows] = np.sqrt(W[rows, k] / scale)[:, None] * nys.transform(
                    X[np.ix_(rows, self.view_indices_[view])]
                )
            blocks.append(F)
        return np.hstack(blocks)

    def _design(self, X):
        """The design of new rows: kernel against the training rows, or Nystroem features."""
        if self.approx_ == "exact":
            return self._combined(X)
        X, masks = validate_multiview_data(self, X, reset=False, dtype=np.float64)
        return self._features(X, masks)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class MKLClassifier(ClassifierMixin, _BaseMKL):
    """Multiple kernel learning classifier: a kernel per view, learned weights, an SVC on their sum.

    Each view gets its own kernel(s), normalised to a unit mean diagonal; a
    combination learner (``method``) weighs them; a support vector classifier
    (one-vs-one for multiclass) is trained on the weighted sum. X is one
    2-D array or DataFrame whose views are column groups; no list of kernels
    is ever passed.

    Parameters
    ----------
    %(common)s
    C : float, default=1.0
        The SVC's regularisation.
    class_weight : dict, "balanced" or None, default=None
        Passed to the SVC.
    probability : bool, default=False
        Learn Platt scaling so that :meth:`predict_proba` is available
        (see Notes).

    Attributes
    ----------
    kernel_weights_ : dict of str to float
        Weight of each ``"view:kernel"``, summing to one.
    kernel_specs_ : list of (str, str)
        (view, kernel name) pairs in order.
    estimator_ : SVC or LinearSVC
        The SVC on the combined training kernel (exact), or the linear SVM on
        the weighted Nystroem maps.
    approx_ : str
        ``"exact"`` or ``"nystroem"``.
    maps_ : list of (Nystroem, float)
        With ``"nystroem"``: each kernel's map and its normalising scale.
    classes_ : ndarray
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    A row missing a view (all NaN) is compared with the kernels of the views
    it has. Each row ``i`` weighs kernel ``k`` by ``w_ik``: the learned
    weights of its present kernels, renormalised to sum to one, and the
    combined kernel is ``sum_k sqrt(w_ik w_jk) K_k[i, j]``, a sum of
    congruences that keeps the training kernel positive semi-definite. With
    every view present it is the plain weighted sum. A row whose present
    kernels all have zero weight gives them equal weights: it is compared,
    through those kernels, with the training rows that weigh them too, and
    with no other (against none, its prediction is the model's intercept).

    With ``probability=True`` the class probabilities are Platt-scaled
    decision values: :class:`~sklearn.calibration.CalibratedClassifierCV`
    (sigmoid, 5-fold or fewer for small classes, ``ensemble=False``) around
    the SVM, so fitting costs about six SVM fits.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mmsk.mkl import MKLClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> mkl = MKLClassifier(views={"sepal": [0, 1], "petal": [2, 3]}, C=10).fit(X, y)
    >>> sorted(mkl.kernel_weights_)
    ['petal:rbf', 'sepal:rbf']
    >>> bool(mkl.score(X, y) > 0.95)
    True
    """

    _parameter_constraints = {
        **_BaseMKL._parameter_constraints,
        "C": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "probability": ["boolean"],
    }

    def __init__(
        self,
        views=None,
        *,
        kernels="rbf",
        gamma=None,
        degree=3,
        coef0=1.0,
        method="alignf",
        lam=0.1,
        C=1.0,
        class_weight=None,
        probability=False,
        approx="auto",
        n_landmarks=1000,
        weight_rows=2000,
        random_state=None,
    ):
        self.views = views
        self.kernels = kernels
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.method = method
        self.lam = lam
        self.C = C
        self.class_weight = class_weight
        self.probability = probability
        self.approx = approx
        self.n_landmarks = n_landmarks
        self.weight_rows = weight_rows
        self.random_state = random_state

    def fit(self, X, y):
        """Compute the per-view kernels, learn their weights, train the SVC.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        self._validate_params()
        validate_multiview_data(self, X, y, reset=True, dtype=np.float64)
        codes = encode_classes(self, y)
        design = self._fit_design(X, np.eye(len(self.classes_))[codes])
        if self.approx_ == "exact":
            model = SVC(kernel="precomputed", C=self.C, class_weight=self.class_weight)
        else:
            model = LinearSVC(C=self.C, class_weight=self.class_weight)
        if self.probability:
            # Platt scaling as scikit-learn recommends it: the sigmoid fitted on cross-validated
            # decision values, one SVM on every row (ensemble=False); a precomputed kernel is
            # split by rows and columns, as scikit-learn splits pairwise input
            smallest = int(np.bincount(codes).min())
            if smallest < 2:
                raise ValueError(
                    "probability=True calibrates on cross-validated decision values and needs at "
                    f"least 2 rows of every class; the smallest class has {smallest}."
                )
            model = CalibratedClassifierCV(model, method="sigmoid", cv=min(5, smallest), ensemble=False)
        self.estimator_ = model.fit(design, codes)
        return self

    @available_if(lambda self: self.probability)
    def predict_proba(self, X):
        """Class probabilities (Platt scaling; needs ``probability=True``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(self._design(X))

    def decision_function(self, X):
        """The SVC's (or linear SVM's) decision function.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray
        """
        check_is_fitted(self, "estimator_")
        return self._svm().decision_function(self._design(X))

    def predict(self, X):
        """Predicted classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        return self.classes_[self._svm().predict(self._design(X))]

    def _svm(self):
        """The SVM itself (inside the calibration wrapper of ``probability=True`` with Nystroem)."""
        if isinstance(self.estimator_, CalibratedClassifierCV):
            return self.estimator_.calibrated_classifiers_[0].estimator
        return self.estimator_


class MKLRegressor(RegressorMixin, _BaseMKL):
    """Multiple kernel learning regressor: per-view kernels, learned weights, kernel ridge on their sum.

    Parameters
    ----------
    %(common)s
    alpha : float, default=1.0
        Kernel ridge regularisation.

    Attributes
    ----------
    kernel_weights_ : dict of str to float
    kernel_specs_ : list of (str, str)
    estimator_ : KernelRidge or Ridge
        Kernel ridge on the combined kernel (exact), or ridge on the weighted
        Nystroem maps.
    approx_ : str
    maps_ : list of (Nystroem, float)
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.mkl import MKLRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=200)  # only view "a" matters
    >>> mkl = MKLRegressor(views={"a": [0, 1], "b": [2, 3]}, alpha=0.1).fit(X, y)
    >>> bool(mkl.kernel_weights_["a:rbf"] > mkl.kernel_weights_["b:rbf"])
    True
    """

    _parameter_constraints = {
        **_BaseMKL._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        views=None,
        *,
        kernels="rbf",
        gamma=None,
        degree=3,
        coef0=1.0,
        method="alignf",
        lam=0.1,
        alpha=1.0,
        approx="auto",
        n_landmarks=1000,
        weight_rows=2000,
        random_state=None,
    ):
        self.views = views
        self.kernels = kernels
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.method = method
        self.lam = lam
        self.alpha = alpha
        self.approx = approx
        self.n_landmarks = n_landmarks
        self.weight_rows = weight_rows
        self.random_state = random_state

    def fit(self, X, y):
        """Compute the per-view kernels, learn their weights, fit kernel ridge.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : object
        """
        self._validate_params()
        if self.method == "easymkl":
            raise ValueError("method='easymkl' is for classification; use 'alignf', 'gradient' or 'average'.")
        _, y, _ = validate_multiview_data(
            self,
            X,
            y,
            reset=True,
            dtype=np.float64,
            multi_output=True,
            y_numeric=True,
        )
        design = self._fit_design(X, np.asarray(y, dtype=float).reshape(len(y), -1))
        if self.approx_ == "exact":
            model = KernelRidge(alpha=self.alpha, kernel="precomputed")
        else:
            model = Ridge(alpha=self.alpha)
        self.estimator_ = model.fit(design, y)
        return self

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(self._design(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


for _cls in (MKLClassifier, MKLRegressor):
    fill_doc(_cls, {"common": _COMMON_DOC})
