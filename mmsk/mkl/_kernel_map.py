"""A transformer whose output is the kernel between its input and the rows it was fitted on."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.metrics.pairwise import pairwise_kernels

from ..utils._compat import Interval, StrOptions, _fit_context, check_is_fitted, validate_data
from ._kernels import _HAS_GAMMA, KERNELS, fit_gamma, kernel_params


class KernelMap(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Kernel values between each row and the fitted rows, for a precomputed-kernel estimator.

    ``transform(X)`` is the ``(n_samples, n_fitted_rows)`` kernel matrix
    ``K(X, X_fit)``: in a :class:`~sklearn.pipeline.Pipeline` before
    ``SVC(kernel="precomputed")`` (or ``KernelRidge(kernel="precomputed")``)
    it gives the same model as the estimator's own kernel, computed once by
    BLAS instead of pair by pair inside libsvm. That is about half the time
    of an RBF ``SVC`` with probabilities: libsvm's five internal fits for
    them read the one matrix. Cross-validation splits the pipeline's rows as
    usual; the map is refitted on each training split.

    Parameters
    ----------
    kernel : {"rbf", "laplacian", "linear", "poly", "chi2", "cosine", "sigmoid"}, default="rbf"
        A kernel of :func:`sklearn.metrics.pairwise.pairwise_kernels`.
    gamma : "scale", "median" or float, default="scale"
        For the kernels that have one. ``"scale"`` is ``SVC``'s default,
        ``1 / (n_features * X.var())`` on the fitted rows. ``"median"`` is
        the inverse median pairwise squared distance (L1 for
        ``"laplacian"``) of up to 1000 of them, as :class:`MKLClassifier`
        sets it; for the other kernels, MKL's default (1 for ``"chi2"``,
        ``1 / n_features`` for ``"poly"`` and ``"sigmoid"``).
    degree : float, default=3
        The ``"poly"`` kernel's degree.
    coef0 : float, default=1.0
        The ``"poly"`` and ``"sigmoid"`` kernels' offset.
    random_state : int, RandomState instance or None, default=None
        The rows the median heuristic reads when there are more than 1000.

    Attributes
    ----------
    X_fit_ : ndarray or sparse matrix of shape (n_fitted_rows, n_features)
        The fitted rows (the kernel's columns).
    gamma_ : float or None
        The gamma used (None for a kernel without one).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    See Also
    --------
    sklearn.kernel_approximation.Nystroem : An approximate feature map for large tables.
    MKLClassifier : Several kernels, one per view, with learned weights.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from mmsk.mkl import KernelMap
    >>> X, y = load_iris(return_X_y=True)
    >>> K = KernelMap().fit(X).transform(X[:5])
    >>> K.shape
    (5, 150)
    >>> precomputed = make_pipeline(KernelMap(), SVC(kernel="precomputed")).fit(X, y)
    >>> own = SVC().fit(X, y)
    >>> bool((precomputed.predict(X) == own.predict(X)).all())
    True
    """

    _parameter_constraints = {
        "kernel": [StrOptions(set(KERNELS))],
        "gamma": [StrOptions({"scale", "median"}), Interval(Real, 0, None, closed="neither")],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Real],
        "random_state": ["random_state"],
    }

    def __init__(self, kernel="rbf", gamma="scale", degree=3, coef0=1.0, random_state=None):
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Keep the rows of X and resolve gamma.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : KernelMap
        """
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32])
        self.X_fit_ = X
        self.gamma_ = self._resolve_gamma(X)
        return self

    @property
    def _n_features_out(self):
        """One output feature per fitted row (read by ``get_feature_names_out``)."""
        return self.X_fit_.shape[0]

    def _resolve_gamma(self, X):
        if self.kernel not in _HAS_GAMMA:
            return None
        if self.gamma == "scale":
            variance = X.multiply(X).mean() - X.mean() ** 2 if sp.issparse(X) else X.var()
            return 1.0 / (X.shape[1] * variance) if variance != 0 else 1.0
        if self.gamma == "median":
            return fit_gamma(X.toarray() if sp.issparse(X) else X, self.kernel, None, self.random_state)
        return float(self.gamma)

    def transform(self, X):
        """The kernel between the rows of X and the fitted rows.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        K : ndarray of shape (n_samples, n_fitted_rows)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        params = kernel_params(self.kernel, self.gamma_, self.degree, self.coef0)
        return pairwise_kernels(X, self.X_fit_, metric=self.kernel, filter_params=True, **params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
