"""Linear canonical correlation analysis on views of one X: two views (CCA), or more (GCCA).

Both solve closed forms from the views' covariance blocks:

* CCA: whiten each view (Cholesky or eigh of its regularised covariance), take the
  SVD of the whitened cross-covariance;
* GCCA (MAXVAR): the leading eigenvectors of the matrix of whitened covariance
  blocks of all views, the shared directions that the views explain best
  together. On two views it gives the CCA directions (up to sign and scale).
"""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin

from .._views import per_view, stacked_view_bounds, validate_multiview_data
from ..utils._compat import Interval, StrOptions, check_is_fitted
from ..utils._docs import fill_doc

_REG_DOC = """reg : float or dict, default=1e-3
        Shrinkage of each view's covariance towards a multiple of the
        identity with the same trace: ``(1 - reg) * C + reg * trace(C) / d * I``,
        in [0, 1]; a dict gives it per view (missing views get 0). 0 is plain
        CCA (singular covariances then fail with a clear error)."""


def _as_reg(reg, views):
    values = {v: float(r) for v, r in per_view(reg, views, "reg", default=0.0).items()}
    bad = {v: r for v, r in values.items() if not 0.0 <= r <= 1.0}
    if bad:
        raise ValueError(f"reg must be in [0, 1]; got {bad}.")
    return values


def shrink(C, reg):
    """``(1 - reg) * C + reg * trace(C) / d * I``."""
    if reg == 0:
        return C
    d = C.shape[0]
    out = (1.0 - reg) * C
    out.flat[:: d + 1] += reg * np.trace(C) / d
    return out


def whitener(C, view, method):
    """A matrix W with ``W.T @ C @ W = I`` (C is a view's regularised covariance)."""
    if method == "cholesky":
        try:
            L = linalg.cholesky(C, lower=True, check_finite=False)
        except linalg.LinAlgError:
            raise ValueError(
                f"the covariance of view {view!r} is singular (constant or collinear columns); "
                f"set reg > 0 for it, or drop those columns."
            ) from None
        return linalg.solve_triangular(L, np.eye(len(C)), lower=True, trans="T", check_finite=False)
    vals, vecs = linalg.eigh(C, check_finite=False)
    if vals[0] <= 1e-12 * max(vals[-1], 1e-300):
        raise ValueError(
            f"the covariance of view {view!r} is singular (constant or collinear columns); set "
            f"reg > 0 for it, or drop those columns."
        )
    return vecs / np.sqrt(vals)


def covariance(blocks, device=None):
    """The joint covariance matrix of centred blocks (views), block by block.

    Only the blocks on and above the diagonal are multiplied (``A.T @ A`` runs as
    a symmetric rank-k update); the rest is their transpose. With a torch
    ``device`` the products run in torch (float64).
    """
    n = max(blocks[0].shape[0] - 1, 1)
    bounds = stacked_view_bounds([b.shape[1] for b in blocks])
    C = np.empty((bounds[-1][1], bounds[-1][1]))
    if device is not None:
        import torch

        from ..utils._device import resolve_device

        dev = resolve_device(device)
        blocks = [torch.as_tensor(b, device=dev, dtype=torch.float64) for b in blocks]
    for i, bi in enumerate(blocks):
        for j in range(i, len(blocks)):
            prod = bi.T @ blocks[j]
            prod = prod.cpu().numpy() if device is not None else prod
            (a, b), (c, d) = bounds[i], bounds[j]
            C[a:b, c:d] = prod / n
            if j != i:
                C[c:d, a:b] = prod.T / n
    return C


def _as_index(idx):
    """A slice for a contiguous run of column positions (a view, no copy), else the positions."""
    idx = np.asarray(idx)
    if len(idx) and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
        return slice(int(idx[0]), int(idx[0]) + len(idx))
    return idx


def streamed_covariance(X, columns, mean, rows=None, device=None, chunk=2048):
    """Covariance of ``X[rows][:, columns]`` in one pass over row chunks.

    Each chunk is centred in a small buffer and its ``Z.T @ Z`` (a symmetric
    rank-k update) is added up, so no centred copy of the whole data is made.
    """
    cols = _as_index(columns)
    n = X.shape[0] if rows is None else len(rows)
    use_torch = device is not None
    if use_torch:
        import torch

        from ..utils._device import resolve_device

        dev = resolve_device(device)
        acc = torch.zeros((len(mean), len(mean)), dtype=torch.float64, device=dev)
        mean_t = torch.as_tensor(mean, dtype=torch.float64, device=dev)
    else:
        acc = np.zeros((len(mean), len(mean)))
    for start in range(0, n, chunk):
        r = slice(start, min(start + chunk, n)) if rows is None else rows[start : start + chunk]
        block = X[r, cols] if isinstance(cols, slice) or isinstance(r, slice) else X[np.ix_(r, cols)]
        if use_torch:
            Z = torch.as_tensor(np.ascontiguousarray(block), device=dev) - mean_t
        else:
            Z = block - mean
        acc += Z.T @ Z
    acc = acc.cpu().numpy() if use_torch else acc
    return acc / max(n - 1, 1)


def _flip(vectors):
    """Signs so that each column's largest-magnitude entry is positive (deterministic)."""
    idx = np.argmax(np.abs(vectors), axis=0)
    return np.sign(vectors[idx, np.arange(vectors.shape[1])]).astype(float) + (
        vectors[idx, np.arange(vectors.shape[1])] == 0
    )


def _pearson_columns(a, b):
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denom = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (a * b).sum(axis=0) / np.where(denom > 0, denom, 1), 0.0)


def _two_view_weights(Ca, Cb, Cab, names, k, method):
    """Canonical weights of two views from their (regularised) covariance blocks."""
    Wa = whitener(Ca, names[0], method)
    Wb = whitener(Cb, names[1], method)
    U, _, Vt = linalg.svd(Wa.T @ Cab @ Wb, full_matrices=False, check_finite=False)
    A, B = Wa @ U[:, :k], Wb @ Vt[:k].T
    signs = _flip(A)  # on the weights themselves: the same whichever whitening was used
    return {names[0]: A * signs, names[1]: B * signs}


class _BaseCCA(TransformerMixin, BaseEstimator):
    """What CCA and GCCA share: views, centring, transform, names, score."""

    _parameter_constraints = {
        "views": [Mapping, None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "reg": [Interval(Real, 0, 1, closed="both"), dict],
        "whiten": [StrOptions({"cholesky", "eigh"})],
        "output": [StrOptions({"views", "shared"})],
        "device": [str, None],
    }

    _min_views = 2
    _max_views = None

    def _complete_rows(self, X, reset):
        """Validated X, the rows with every view present, and the missing masks."""
        X, masks = validate_multiview_data(self, X, reset=reset, min_views=self._min_views, dtype=np.float64)
        if reset:
            n_views = len(self.view_indices_)
            if self._max_views is not None and n_views > self._max_views:
                raise ValueError(
                    f"{type(self).__name__} aligns exactly {self._max_views} views; got {n_views} "
                    f"({list(self.view_indices_)}). Use GCCA for three or more."
                )
        complete = ~np.logical_or.reduce([m for m in masks.values()])
        return X, complete, masks

    def _map(self, view, block):
        """The view's columns -> the space CCA runs in (identity; kernel maps in KernelCCA)."""
        return block

    def _center_fit(self, X, rows):
        """Centred mapped blocks of the fitting rows (KernelCCA; the linear CCAs stream instead)."""
        self.means_ = {}
        blocks = []
        for view, idx in self.view_indices_.items():
            mapped = self._map(view, X[np.ix_(rows, idx)])
            self.means_[view] = mapped.mean(axis=0)
            blocks.append(mapped - self.means_[view])
        return blocks

    def _fit_moments(self, X, complete):
        """Means per view and the joint covariance of the views, in one streamed pass."""
        rows = None if complete.all() else np.flatnonzero(complete)
        all_idx = np.concatenate(list(self.view_indices_.values()))
        cols = _as_index(all_idx)
        data = X if rows is None else X[rows]
        mean = np.asarray(
            data[:, cols].mean(axis=0) if isinstance(cols, slice) else data[:, cols].mean(axis=0)
        )
        self.means_, start = {}, 0
        for view, idx in self.view_indices_.items():
            self.means_[view] = mean[start : start + len(idx)]
            start += len(idx)
        return streamed_covariance(X, all_idx, mean, rows=rows, device=self.device)

    def _correlations_from(self, C):
        """Training correlations of the variates, from the covariance: pairwise mean per component."""
        views = list(self.view_indices_)
        sl = {v: slice(a, b) for v, (a, b) in zip(views, stacked_view_bounds(self.view_indices_))}
        var = {
            v: np.einsum("ik,ij,jk->k", self.weights_[v], C[sl[v], sl[v]], self.weights_[v]) for v in views
        }
        pairs = []
        for i, a in enumerate(views):
            for b in views[i + 1 :]:
                cov = np.einsum("ik,ij,jk->k", self.weights_[a], C[sl[a], sl[b]], self.weights_[b])
                denom = np.sqrt(var[a] * var[b])
                pairs.append(np.where(denom > 0, cov / np.where(denom > 0, denom, 1.0), 0.0))
        self._set_correlations(pairs)

    def _correlations_of(self, variates):
        """Training correlations of the variates themselves (``{view: (n, k)}``, before the sign flip)."""
        views = list(self.view_indices_)
        self._set_correlations(
            [_pearson_columns(variates[a], variates[b]) for i, a in enumerate(views) for b in views[i + 1 :]]
        )

    def _set_correlations(self, pairs):
        self.canonical_correlations_ = np.mean(pairs, axis=0)
        self.n_features_out_ = self.n_components_ * (len(self.view_indices_) if self.output == "views" else 1)

    def _check_components(self, dims):
        limit = min(dims)
        if self.n_components > limit:
            raise ValueError(
                f"n_components={self.n_components} is more than the smallest view has columns "
                f"({limit}); choose n_components <= {limit}."
            )

    def _variates(self, X, masks):
        """Dict view -> (n, k) canonical variates, NaN rows where the view is missing."""
        out = {}
        for view, idx in self.view_indices_.items():
            block = X[:, idx]
            present = ~masks[view]
            v = np.full((X.shape[0], self.n_components_), np.nan)
            if present.any():
                mapped = self._map(view, block[present])
                v[present] = (mapped - self.means_[view]) @ self.weights_[view]
            out[view] = v
        return out

    def _finish_fit(self, blocks):
        """Training correlations of the variates: pairwise mean per component."""
        variates = [b @ self.weights_[v] for b, v in zip(blocks, self.view_indices_)]
        corr = [
            _pearson_columns(variates[i], variates[j])
            for i in range(len(variates))
            for j in range(i + 1, len(variates))
        ]
        self.canonical_correlations_ = np.mean(corr, axis=0)
        self.n_features_out_ = self.n_components_ * (len(self.view_indices_) if self.output == "views" else 1)

    def transform(self, X, y=None):
        """Canonical variates of each view, or their average.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The views as column groups; a view may be missing (all NaN) in a row.
        y : None
            Ignored (both views are in X).

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components * n_views) or (n_samples, n_components)
            With ``output="views"``: the variates of each view (NaN for a
            missing view). With ``output="shared"``: their mean over the views
            present in the row.
        """
        check_is_fitted(self, "weights_")
        X, _, masks = self._complete_rows(X, reset=False)
        variates = self._variates(X, masks)
        if self.output == "views":
            return np.hstack(list(variates.values()))
        stacked = np.stack(list(variates.values()))
        counts = (~np.isnan(stacked[:, :, 0])).sum(axis=0)[:, None]
        return np.nansum(stacked, axis=0) / counts

    def get_feature_names_out(self, input_features=None):
        """``<view>__cca<j>`` per view, or ``cca<j>`` for the shared output.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "weights_")
        prefix = type(self).__name__.lower()
        if self.output == "shared":
            return np.asarray([f"{prefix}{j}" for j in range(self.n_components_)], dtype=object)
        return np.asarray(
            [f"{view}__{prefix}{j}" for view in self.view_indices_ for j in range(self.n_components_)],
            dtype=object,
        )

    def score(self, X, y=None):
        """Mean canonical correlation of X's variates: over components and view pairs.

        Rows with a missing view are left out. Higher is better, so
        GridSearchCV can tune ``reg`` and ``n_components`` with no labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "weights_")
        X, complete, masks = self._complete_rows(X, reset=False)
        n_ok = int(complete.sum())
        if n_ok < 2:
            raise ValueError(f"score needs at least 2 rows with every view present; got {n_ok} sample(s).")
        variates = list(self._variates(X[complete], {v: m[complete] for v, m in masks.items()}).values())
        corr = [
            _pearson_columns(variates[i], variates[j])
            for i in range(len(variates))
            for j in range(i + 1, len(variates))
        ]
        return float(np.mean(corr))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False  # only whole missing views, checked per row
        return tags


class _LinearCCA(_BaseCCA):
    """CCA and GCCA: the same parameters."""

    def __init__(
        self, views=None, *, n_components=2, reg=1e-3, whiten="cholesky", output="views", device=None
    ):
        self.views = views
        self.n_components = n_components
        self.reg = reg
        self.whiten = whiten
        self.output = output
        self.device = device


class CCA(_LinearCCA):
    """Canonical correlation analysis of two views of one X, in closed form.

    Finds weights for each view so that the views' projections (canonical
    variates) are maximally correlated: each view is centred, its covariance
    shrunk by ``reg`` and whitened (Cholesky or eigh), and the SVD of the
    whitened cross-covariance gives the directions. Unlike
    :class:`sklearn.cross_decomposition.CCA` (iterative NIPALS), the solution is
    exact and does not depend on a tolerance.

    Parameters
    ----------
    views : dict, list or None, default=None
        The two views (see :func:`mmsk.resolve_views`); None reads them from
        ``<view>__<feature>`` column names.
    n_components : int, default=2
        Pairs of canonical variates.
    %(reg)s
    whiten : {"cholesky", "eigh"}, default="cholesky"
        How each view's covariance is whitened (same result; eigh is slower and
        more tolerant of near-singular covariances).
    output : {"views", "shared"}, default="views"
        What ``transform`` returns: each view's variates (``<view>__cca<j>``), or
        their average, one shared representation (``cca<j>``).
    device : str or None, default=None
        None computes with numpy; a torch device (``"cpu"``, ``"cuda"``,
        ``"auto"``) computes the covariances, the large part for many rows,
        with torch in float64.

    Attributes
    ----------
    view_indices_ : dict of str to ndarray
        Column positions of each view.
    means_ : dict of str to ndarray
        Column means of each view (fitting rows).
    weights_ : dict of str to ndarray of shape (n_view_features, n_components)
        Canonical weights; the training variates have unit (regularised) variance.
    canonical_correlations_ : ndarray of shape (n_components,)
        Correlations of the training variate pairs, in decreasing order.
    n_components_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string column names.

    See Also
    --------
    GCCA : three or more views.
    KernelCCA : non-linear relations, through per-view kernels.

    Notes
    -----
    Rows where a view is missing (all NaN) are left out of the fit. In
    ``transform`` such a row gets NaN variates for the missing view, and with
    ``output="shared"`` the average of the views it has.

    The sign of each pair is fixed so that the largest entry (in magnitude) of
    the first view's weights is positive.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.align import CCA
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(500, 1))
    >>> a = np.hstack([z + 0.1 * rng.normal(size=(500, 1)), rng.normal(size=(500, 2))])
    >>> b = np.hstack([rng.normal(size=(500, 2)), -z + 0.1 * rng.normal(size=(500, 1))])
    >>> cca = CCA(views={"a": [0, 1, 2], "b": [3, 4, 5]}, n_components=1).fit(np.hstack([a, b]))
    >>> round(float(cca.canonical_correlations_[0]), 2)
    0.99
    >>> cca.get_feature_names_out().tolist()
    ['a__cca0', 'b__cca0']
    """

    _max_views = 2

    def fit(self, X, y=None):
        """Fit the canonical weights on the rows where both views are present.

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
        n_ok = int(complete.sum())
        if n_ok < 2:
            raise ValueError(f"CCA needs at least 2 rows with both views present; got {n_ok} sample(s).")
        (va, ia), (vb, ib) = self.view_indices_.items()
        self._check_components([len(ia), len(ib)])
        regs = _as_reg(self.reg, self.view_indices_)
        C = self._fit_moments(X, complete)
        da = len(ia)
        Ca, Cb = shrink(C[:da, :da], regs[va]), shrink(C[da:, da:], regs[vb])
        self.weights_ = _two_view_weights(Ca, Cb, C[:da, da:], (va, vb), self.n_components, self.whiten)
        self.n_components_ = self.n_components
        self._correlations_from(C)
        return self


class GCCA(_LinearCCA):
    """Generalised CCA (MAXVAR) of two or more views of one X, in closed form.

    Finds shared directions that all views explain together: each view is
    centred, its covariance shrunk by ``reg`` and whitened, and the leading
    eigenvectors of the matrix of whitened covariance blocks give each view's
    weights. On two views the directions are those of :class:`CCA` (up to
    sign and scale).

    Parameters
    ----------
    views : dict, list or None, default=None
        Two or more views (see :func:`mmsk.resolve_views`); None reads them
        from ``<view>__<feature>`` column names.
    n_components : int, default=2
    %(reg)s
    whiten : {"cholesky", "eigh"}, default="cholesky"
    output : {"views", "shared"}, default="views"
        Each view's variates (``<view>__gcca<j>``), or their average
        (``gcca<j>``), the shared representation.
    device : str or None, default=None
        None: numpy; a torch device computes the covariances with torch.

    Attributes
    ----------
    view_indices_, means_, weights_ : dict
        As in :class:`CCA`.
    eigenvalues_ : ndarray of shape (n_components,)
        Leading eigenvalues of the whitened block matrix (between 1 and the
        number of views; the higher, the more the views agree).
    canonical_correlations_ : ndarray of shape (n_components,)
        Mean correlation over view pairs of the training variates.
    n_components_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    CCA : two views.

    Notes
    -----
    Fitting uses the rows with every view present; ``transform`` handles rows
    with missing views as :class:`CCA` does.

    With ``reg > 0`` each view's projection is regularised (the shared
    directions are the leading eigenvectors of the sum of the views' ridge
    hat matrices), so on two views the result is close to, not equal to, a
    :class:`CCA` with the same ``reg``; at ``reg=0`` they are equal.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.align import GCCA
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(300, 1))
    >>> X = np.hstack([z + 0.2 * rng.normal(size=(300, 2)) for _ in range(3)])
    >>> g = GCCA(views={"a": [0, 1], "b": [2, 3], "c": [4, 5]}, n_components=1, output="shared")
    >>> g.fit_transform(X).shape
    (300, 1)
    >>> bool(g.canonical_correlations_[0] > 0.9)
    True
    """

    def fit(self, X, y=None):
        """Fit the weights on the rows where every view is present.

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
        n_ok = int(complete.sum())
        if n_ok < 2:
            raise ValueError(f"GCCA needs at least 2 rows with every view present; got {n_ok} sample(s).")
        views = list(self.view_indices_)
        dims = [len(self.view_indices_[v]) for v in views]
        self._check_components([sum(dims)])
        regs = _as_reg(self.reg, views)
        k = self.n_components
        if sum(dims) > n_ok and k < n_ok and min(regs.values()) > 0:
            weights, vals, variates = self._row_span_weights(X, np.flatnonzero(complete), regs)
            if weights is not None:
                self._set_weights(weights, vals)
                self._correlations_of(variates)
                return self
        C = self._fit_moments(X, complete)
        sl = [slice(a, b) for a, b in stacked_view_bounds(dims)]
        W = [whitener(shrink(C[s, s], regs[v]), v, self.whiten) for s, v in zip(sl, views)]
        M = np.empty_like(C)
        for i, si in enumerate(sl):
            for j, sj in enumerate(sl):
                M[si, sj] = W[i].T @ C[si, sj] @ W[j]
        vals, vecs = linalg.eigh(M, subset_by_index=[len(M) - k, len(M) - 1], check_finite=False)
        vals, vecs = vals[::-1], vecs[:, ::-1]
        weights = {}
        for s, v, w in zip(sl, views, W):
            part = vecs[s]
            norm = np.linalg.norm(part, axis=0)
            weights[v] = w @ (part / np.where(norm > 0, norm, 1.0))
        self._set_weights(weights, vals)
        self._correlations_from(C)
        return self

    def _row_span_weights(self, X, rows, regs):
        """The weights from the rows' kernels, for views wider in all than the rows are many.

        A view's shrunk covariance ``a Z'Z + b I`` (Z its centred rows) maps the
        span of the rows into itself, so the MAXVAR directions lie there: the
        leading eigenvectors ``u`` of the mean of the views' ridge hat matrices
        ``K (a K + b I)^-1`` (n x n, ``K = Z Z'``) give each view's weights
        ``Z' (a K + b I)^-1 u``, the same as the D x D block matrix gives, at
        n^2 D operations instead of D^3.

        Returns (weights, eigenvalues, training variates), or three None when a
        view is constant (the covariance path then says so).
        """
        n, N = len(rows), max(len(rows) - 1, 1)
        hat = np.zeros((n, n))
        parts = {}
        self.means_ = {}
        for view, idx in self.view_indices_.items():
            block = X[np.ix_(rows, idx)]
            self.means_[view] = block.mean(axis=0)
            Z = block - self.means_[view]
            e, Q = linalg.eigh(Z @ Z.T, check_finite=False)
            e = np.clip(e, 0.0, None)
            a, b = (1.0 - regs[view]) / N, regs[view] * e.sum() / (N * len(idx))
            if b <= 0:
                return None, None, None
            parts[view] = (Z, Q, 1.0 / (a * e + b), e)
            hat += (Q * (e / (a * e + b))) @ Q.T
        k = self.n_components
        vals, U = linalg.eigh(hat / N, subset_by_index=[n - k, n - 1], check_finite=False)
        vals, U = vals[::-1], U[:, ::-1]
        weights, variates = {}, {}
        for view, (Z, Q, inverse, e) in parts.items():
            QU = Q.T @ U
            norm = np.sqrt(np.clip(np.einsum("ik,i,ik->k", QU, e * inverse, QU), 0.0, None))
            scale = 1.0 / np.where(norm > 0, norm, 1.0)
            weights[view] = Z.T @ (Q @ (QU * inverse[:, None])) * scale
            variates[view] = Q @ (QU * (e * inverse)[:, None]) * scale
        return weights, vals, variates

    def _set_weights(self, weights, eigenvalues):
        signs = _flip(np.vstack(list(weights.values())))
        self.weights_ = {v: w * signs for v, w in weights.items()}
        self.eigenvalues_ = eigenvalues
        self.n_components_ = self.n_components


for _cls in (CCA, GCCA):
    fill_doc(_cls, {"reg": _REG_DOC})
