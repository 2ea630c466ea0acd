"""Statistics over time: each sequence view to one vector per row, so every classical estimator reads it."""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._views import _view_features, sequence_step_masks, validate_multiview_data, view_feature_names
from ..utils._compat import Interval, _fit_context, check_is_fitted

#: The statistics TemporalPooling computes, in its output order.
STATISTICS = ("mean", "std", "min", "max", "first", "last", "slope")


def _slope(values, present):
    """Least-squares slope over the step index of each row and feature, over the present steps only.

    ``values`` is (n, T, d) with padding steps NaN, ``present`` (n, T). A row
    with one present step has slope 0; a missing row gives NaN.
    """
    steps = np.arange(values.shape[1], dtype=float)[None, :, None]
    weight = present[:, :, None].astype(float)
    count = weight.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (steps * weight).sum(axis=1, keepdims=True) / count
        filled = np.where(weight > 0, values, 0.0)
        mean = filled.sum(axis=1, keepdims=True) / count
        dt = (steps - centre) * weight
        spread = (dt**2).sum(axis=1)
        slope = (dt * (filled - mean)).sum(axis=1) / spread
    return np.where((spread == 0) & (count[:, 0] > 0), 0.0, slope)


def _edge(values, present, last):
    """The values at each row's first (or last) present step; NaN for a missing row."""
    n_steps = values.shape[1]
    order = present[:, ::-1] if last else present
    step = np.argmax(order, axis=1)
    step = n_steps - 1 - step if last else step
    out = values[np.arange(len(values)), step]
    out[~present.any(axis=1)] = np.nan
    return out


def pool_sequences(values, present, stats=STATISTICS, quantiles=()):
    """Statistics over time of sequences with padding steps.

    Parameters
    ----------
    values : ndarray of shape (n, T, d)
        Padding steps are NaN.
    present : ndarray of bool, shape (n, T)
        The steps that are not padding.
    stats : sequence of str, default=STATISTICS
    quantiles : sequence of float, default=()

    Returns
    -------
    pooled : list of ndarray of shape (n, d)
        One per statistic, then one per quantile, in that order; NaN for a
        row with no present step.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.compose._temporal import pool_sequences
    >>> values = np.array([[[1.0], [3.0], [np.nan]]])  # one row, two steps of three, one feature
    >>> present = ~np.isnan(values[..., 0])
    >>> [float(p[0, 0]) for p in pool_sequences(values, present, ["mean", "last", "slope"])]
    [2.0, 3.0, 2.0]
    """
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: missing views stay NaN
        for stat in stats:
            if stat == "mean":
                out.append(np.nanmean(values, axis=1))
            elif stat == "std":
                out.append(np.nanstd(values, axis=1))
            elif stat == "min":
                out.append(np.nanmin(values, axis=1))
            elif stat == "max":
                out.append(np.nanmax(values, axis=1))
            elif stat in ("first", "last"):
                out.append(_edge(values, present, last=stat == "last"))
            else:
                out.append(_slope(values, present))
        out.extend(_quantiles(values, quantiles))
    return out


def _quantiles(values, quantiles):
    """``np.nanquantile`` over the steps, one (rows, features) array per quantile.

    NumPy computes a NaN-aware quantile one slice at a time; rows with no NaN
    step take its vectorised ``np.quantile`` (the same numbers), and only the
    others the slice-by-slice path.
    """
    gaps = np.isnan(values).any(axis=(1, 2))
    out = []
    for q in quantiles:
        whole = np.quantile(values[~gaps], float(q), axis=1)
        result = np.empty((values.shape[0], values.shape[2]), dtype=whole.dtype)
        result[~gaps] = whole
        if gaps.any():
            result[gaps] = np.nanquantile(values[gaps], float(q), axis=1)
        out.append(result)
    return out


def _validated(est, X, reset):
    """X as floats, its views and sequence views resolved (on ``reset``); NaN rows stay NaN."""
    X, _ = validate_multiview_data(
        est, X, reset=reset, sequences=True, n_steps=est.n_steps, allow_empty_rows=True
    )
    return np.asarray(X, dtype=float)


def _quantile_name(q):
    return f"q{100 * q:g}".replace(".", "_")


class TemporalPooling(TransformerMixin, BaseEstimator):
    """Statistics over time of each sequence view: one vector per row, which every estimator reads.

    A sequence view (``<view>__t{t}_<feature>`` columns, see
    :func:`mmsk.resolve_sequences`) becomes ``<view>__<feature>_<stat>``
    columns: its mean, standard deviation, minimum, maximum, first and last
    value, least-squares slope over the step index, and chosen quantiles,
    each over the row's present steps (padding steps, all NaN, are left out).
    Plain views pass through unchanged, so early, late, MKL and CCA fusion
    work after it on tables with sequence views. A row whose view is missing
    (all NaN) stays missing: all its outputs are NaN.

    Parameters
    ----------
    stats : sequence of {"mean", "std", "min", "max", "first", "last", "slope"}, \
            default=("mean", "std", "min", "max", "first", "last", "slope")
        The statistics, in output order.
    quantiles : sequence of float in [0, 1], default=()
        Quantiles over time, after the statistics (``q25`` for 0.25).
    views : mapping of str to columns, default=None
        The views (see :func:`mmsk.resolve_views`); None infers them from
        ``<view>__<feature>`` column names.
    n_steps : int or mapping of str to int, default=None
        None: a view is a sequence when its column names say so. An int (or
        one per view): each view's columns are that many steps one after the
        other, for arrays without such names.

    Attributes
    ----------
    view_indices_ : dict of str to ndarray of int
        Columns of each view.
    sequence_indices_ : dict of str to ndarray of int, shape (T, d)
        Columns of each sequence view, by step and feature.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string column names.

    See Also
    --------
    mmsk.sequence_frame : Builds a table of sequence views from arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk import sequence_frame
    >>> from mmsk.compose import TemporalPooling
    >>> X = sequence_frame({"audio": np.arange(12.0).reshape(2, 3, 2)})
    >>> pooled = TemporalPooling(stats=["mean", "slope"]).set_output(transform="pandas").fit_transform(X)
    >>> pooled
       audio__f0_mean  audio__f0_slope  audio__f1_mean  audio__f1_slope
    0             2.0              2.0             3.0              2.0
    1             8.0              2.0             9.0              2.0
    """

    _parameter_constraints = {
        "stats": ["array-like"],
        "quantiles": ["array-like"],
        "views": [dict, None],
        "n_steps": [Interval(numbers.Integral, 1, None, closed="left"), dict, None],
    }

    def __init__(self, stats=STATISTICS, quantiles=(), views=None, n_steps=None):
        self.stats = stats
        self.quantiles = quantiles
        self.views = views
        self.n_steps = n_steps

    def _check_params(self):
        unknown = [s for s in self.stats if s not in STATISTICS]
        if unknown or not len(self.stats) + len(self.quantiles):
            raise ValueError(
                f"stats must name statistics among {list(STATISTICS)} (with quantiles, at least one); "
                f"got {list(self.stats)}."
            )
        bad = [q for q in self.quantiles if not 0 <= q <= 1]
        if bad:
            raise ValueError(f"quantiles must lie in [0, 1]; got {bad}.")

    def _names(self, view, idx):
        """The names of a view's features without the view, and of a sequence view's step-0 features."""
        names = _view_features(view, idx, getattr(self, "feature_names_in_", None))
        return [f"x{j}" for j in range(len(idx))] if names is None else names

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the views and which of them are sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : TemporalPooling
        """
        self._check_params()
        _validated(self, X, reset=True)
        return self

    def transform(self, X):
        """Pool each sequence view over its present steps; plain views unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        pooled : ndarray of shape (n_samples, n_features_out)
        """
        check_is_fitted(self)
        X = _validated(self, X, reset=False)
        present = sequence_step_masks(X, self.sequence_indices_)
        blocks = []
        for view, idx in self.view_indices_.items():
            if view not in self.sequence_indices_:
                blocks.append(X[:, idx])
                continue
            values = X[:, self.sequence_indices_[view]]
            pooled = pool_sequences(values, present[view], self.stats, self.quantiles)
            # feature-major: <feature>_<stat> for each feature in turn
            blocks.append(np.stack(pooled, axis=2).reshape(len(X), -1))
        return np.hstack(blocks) if blocks else np.empty((len(X), 0))

    def get_feature_names_out(self, input_features=None):
        """``<view>__<feature>_<stat>`` for sequence views, the input names for plain views.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored; the names come from fit.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        names = []
        labels = [*self.stats, *(_quantile_name(q) for q in self.quantiles)]
        for view, idx in self.view_indices_.items():
            if view not in self.sequence_indices_:
                names.extend(view_feature_names(view, self._names(view, idx)))
                continue
            features = self._names(view, self.sequence_indices_[view][0])
            if self.n_steps is None:  # named steps: step 0's "t00_pitch" is the feature "pitch"
                features = [f.partition("_")[2] for f in features]
            names.extend(view_feature_names(view, [f"{f}_{s}" for f in features for s in labels]))
        return np.asarray(names, dtype=object)


class SequenceScaler(TransformerMixin, BaseEstimator):
    """Standardise each feature of a sequence view as one column across time; plain views per column.

    scikit-learn's :class:`~sklearn.preprocessing.StandardScaler` on a table of
    sequence views would give every step of a feature its own mean and scale,
    which erases how the feature moves over time. Here each feature of a
    sequence view (``<view>__t{t}_<feature>`` columns, see
    :func:`mmsk.resolve_sequences`) gets one ``StandardScaler`` fitted on its
    values at every present step of every row, so a rise over time stays a
    rise. Padding steps and missing views (NaN) are left out of the fit and
    stay NaN. Plain views are scaled per column, as ``StandardScaler`` does.

    Parameters
    ----------
    with_mean, with_std : bool, default=True
        As in ``StandardScaler``.
    views : mapping of str to columns, default=None
        The views (see :func:`mmsk.resolve_views`); None infers them from
        ``<view>__<feature>`` column names.
    n_steps : int or mapping of str to int, default=None
        As in :class:`TemporalPooling`.

    Attributes
    ----------
    scalers_ : dict of str to StandardScaler
        Each view's scaler: over its d features for a sequence view (all
        steps), over its columns for a plain view.
    view_indices_ : dict of str to ndarray of int
    sequence_indices_ : dict of str to ndarray of int, shape (T, d)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string column names.

    See Also
    --------
    TemporalPooling : Statistics over time, for estimators that read no sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk import sequence_frame
    >>> from mmsk.compose import SequenceScaler
    >>> X = sequence_frame({"audio": np.array([[[0.0], [2.0]], [[4.0], [6.0]]])})
    >>> SequenceScaler().set_output(transform="pandas").fit_transform(X).round(3)
       audio__t00_f0  audio__t01_f0
    0         -1.342         -0.447
    1          0.447          1.342
    """

    _parameter_constraints = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "views": [dict, None],
        "n_steps": [Interval(numbers.Integral, 1, None, closed="left"), dict, None],
    }

    def __init__(self, with_mean=True, with_std=True, views=None, n_steps=None):
        self.with_mean = with_mean
        self.with_std = with_std
        self.views = views
        self.n_steps = n_steps

    def _grid(self, view):
        """The view's columns as (steps, features): a plain view is one step of all its columns."""
        grid = self.sequence_indices_.get(view)
        return self.view_indices_[view][None, :] if grid is None else grid

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit one scaler per view on its features' values at every present step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
        """
        from sklearn.preprocessing import StandardScaler

        X = _validated(self, X, reset=True)
        self.scalers_ = {}
        for view in self.view_indices_:
            grid = self._grid(view)
            scaler = StandardScaler(with_mean=self.with_mean, with_std=self.with_std)
            self.scalers_[view] = scaler.fit(X[:, grid].reshape(-1, grid.shape[1]))
        return self

    def transform(self, X):
        """Scale every view; NaN (padding, missing views) stays NaN.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scaled : ndarray of shape (n_samples, n_features_out)
            The views' columns in view order.
        """
        check_is_fitted(self)
        X = _validated(self, X, reset=False)
        blocks = []
        for view, scaler in self.scalers_.items():
            grid = self._grid(view)
            scaled = scaler.transform(X[:, grid].reshape(-1, grid.shape[1]))
            blocks.append(scaled.reshape(len(X), grid.size))
        return np.hstack(blocks) if blocks else np.empty((len(X), 0))

    def get_feature_names_out(self, input_features=None):
        """The input names of the views' columns, in view order (``x<j>`` without names).

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored; the names come from fit.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        order = np.concatenate([self._grid(v).ravel() for v in self.view_indices_])
        if names is None:
            return np.asarray([f"x{j}" for j in order], dtype=object)
        return np.asarray(names, dtype=object)[order]
