"""Kernel CCA of two views: exact (kernel eigenmaps) or Nystroem-approximated, then linear CCA."""

from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.preprocessing import KernelCenterer
from sklearn.utils import check_random_state

from .._views import per_view
from ..utils._compat import Interval, StrOptions
from ..utils._kernels import median_gamma
from ._cca import _BaseCCA, _two_view_weights, covariance

_KERNELS = {"rbf", "linear", "poly", "laplacian", "sigmoid", "cosine"}
_EXACT_MAX = 2000  # approx="auto" is exact up to this many fitting rows


class KernelCCA(_BaseCCA):
    """Kernel canonical correlation analysis of two views, exact or scalable.

    Each view is mapped into its kernel's feature space and a regularised
    linear CCA runs there. The map is exact (the eigen-decomposition of the
    view's centred kernel matrix over the fitting rows, so kernel values are
    reproduced exactly) for small n, or a Nystroem approximation with
    ``n_landmarks`` landmark rows (scikit-learn's
    :class:`~sklearn.kernel_approximation.Nystroem`) for large n.

    Parameters
    ----------
    views : dict, list or None, default=None
        The two views; None reads them from ``<view>__<feature>`` names.
    n_components : int, default=2
    kernel : str or dict, default="rbf"
        ``"rbf"``, ``"laplacian"``, ``"poly"``, ``"linear"``, ``"sigmoid"`` or
        ``"cosine"``; a dict gives one per view.
    gamma : float, dict or None, default=None
        Kernel coefficient; None: the median heuristic (1 / the median
        pairwise squared distance, L1 distance for laplacian) on up to 1000
        rows of the view.
    degree : int, default=3
        Degree of ``"poly"``.
    coef0 : float, default=1.0
        Offset of ``"poly"`` and ``"sigmoid"``.
    reg : float, default=0.01
        Ridge on each view's feature-space covariance, relative to its total
        variance: ``C + reg * trace(C) * I``. Kernel CCA without it finds
        perfect, meaningless correlations.
    approx : {"auto", "exact", "nystroem"}, default="auto"
        ``"auto"``: exact up to 2000 fitting rows, Nystroem beyond.
    n_landmarks : int, default=500
        Landmark rows of the Nystroem map, per view.
    output : {"views", "shared"}, default="views"
        Each view's variates (``<view>__kernelcca<j>``) or their average.
    random_state : int, RandomState instance or None, default=None
        Seeds the landmark choice and the median heuristic's sample.
    device : str or None, default=None
        None: numpy; a torch device computes the covariances with torch.

    Attributes
    ----------
    view_indices_, means_, weights_ : dict
        As in :class:`CCA` (``means_`` and ``weights_`` in feature space).
    gammas_ : dict of str to float
        The kernel coefficient used per view.
    approx_ : str
        ``"exact"`` or ``"nystroem"``.
    maps_ : dict
        Per view: the fitted Nystroem, or the exact map's training rows,
        centerer and projection.
    canonical_correlations_ : ndarray of shape (n_components,)
    n_components_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    CCA : the linear version.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.align import CCA, KernelCCA
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(-2, 2, size=(400, 1))
    >>> X = np.hstack([t, t ** 2 + 0.05 * rng.normal(size=(400, 1))])  # b = a squared
    >>> views = {"a": [0], "b": [1]}
    >>> linear = CCA(views, n_components=1).fit(X).canonical_correlations_[0]
    >>> kernel = KernelCCA(views, n_components=1, random_state=0).fit(X).canonical_correlations_[0]
    >>> bool(linear < 0.2 and kernel > 0.9)
    True
    """

    _max_views = 2

    _parameter_constraints = {
        **_BaseCCA._parameter_constraints,
        "kernel": [StrOptions(_KERNELS), dict],
        "gamma": [Interval(Real, 0, None, closed="neither"), dict, None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Real],
        "reg": [Interval(Real, 0, None, closed="left")],
        "approx": [StrOptions({"auto", "exact", "nystroem"})],
        "n_landmarks": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }
    _parameter_constraints.pop("whiten")

    def __init__(
        self,
        views=None,
        *,
        n_components=2,
        kernel="rbf",
        gamma=None,
        degree=3,
        coef0=1.0,
        reg=0.01,
        approx="auto",
        n_landmarks=500,
        output="views",
        random_state=None,
        device=None,
    ):
        self.views = views
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.reg = reg
        self.approx = approx
        self.n_landmarks = n_landmarks
        self.output = output
        self.random_state = random_state
        self.device = device

    def _kernel_params(self, view):
        kernel = self.kernels_[view]
        params = {"gamma": self.gammas_[view]}
        if kernel in ("poly", "sigmoid"):
            params["coef0"] = self.coef0
        if kernel == "poly":
            params["degree"] = self.degree
        if kernel in ("linear", "cosine"):
            params = {}
        return kernel, params

    def _fit_map(self, view, block, rng):
        kernel, params = self._kernel_params(view)
        if self.approx_ == "nystroem":
            nys = Nystroem(
                kernel=kernel,
                n_components=min(self.n_landmarks, len(block)),
                random_state=rng.randint(np.iinfo(np.int32).max),
                **params,
            )
            return nys.fit(block)
        K = pairwise_kernels(block, metric=kernel, filter_params=True, **params)
        centerer = KernelCenterer().fit(K)
        vals, vecs = linalg.eigh(centerer.transform(K), check_finite=False)
        keep = vals > 1e-10 * max(vals[-1], 1e-300)
        if not keep.any():
            raise ValueError(f"the kernel of view {view!r} is constant: the view carries no information.")
        return {"rows": block, "centerer": centerer, "proj": vecs[:, keep] / np.sqrt(vals[keep])}

    def _map(self, view, block):
        m = self.maps_[view]
        if isinstance(m, Nystroem):
            return m.transform(block)
        kernel, params = self._kernel_params(view)
        K = pairwise_kernels(block, m["rows"], metric=kernel, filter_params=True, **params)
        return m["centerer"].transform(K) @ m["proj"]

    def fit(self, X, y=None):
        """Fit the kernel maps and the canonical weights (rows with both views present).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, complete, _ = self._complete_rows(X, reset=True)
        n = n_ok = int(complete.sum())
        if n < 2:
            raise ValueError(
                f"KernelCCA needs at least 2 rows with both views present; got {n_ok} sample(s)."
            )
        views = list(self.view_indices_)
        self.kernels_ = per_view(self.kernel, views, "kernel", default="rbf")
        bad = {v: k for v, k in self.kernels_.items() if k not in _KERNELS}
        if bad:
            raise ValueError(f"unknown kernels {bad}; choose among {sorted(_KERNELS)}.")
        gammas = per_view(self.gamma, views, "gamma")
        rng = check_random_state(self.random_state)
        self.approx_ = self.approx if self.approx != "auto" else ("exact" if n <= _EXACT_MAX else "nystroem")
        self.gammas_, self.maps_ = {}, {}
        for view, idx in self.view_indices_.items():
            block = X[np.ix_(complete, idx)]
            g = gammas.get(view)
            self.gammas_[view] = float(g) if g is not None else median_gamma(block, self.kernels_[view], rng)
            self.maps_[view] = self._fit_map(view, block, rng)
        blocks = self._center_fit(X, complete)
        dims = [b.shape[1] for b in blocks]
        self._check_components(dims)
        C = covariance(blocks, self.device)
        da = dims[0]
        Ca, Cb = C[:da, :da].copy(), C[da:, da:].copy()
        for Cv in (Ca, Cb):
            Cv.flat[:: len(Cv) + 1] += self.reg * np.trace(Cv) + 1e-12
        self.weights_ = _two_view_weights(Ca, Cb, C[:da, da:], tuple(views), self.n_components, "cholesky")
        self.n_components_ = self.n_components
        self._finish_fit(blocks)
        return self
