"""The views contract: modalities are named groups of columns of one 2-D X.

Every multimodal estimator in mmsk finds its views through this module and
nowhere else. A *view* is a named group of columns. Views are either

* inferred (``views=None``) from ``view__feature`` column names, the names that
  :class:`~sklearn.compose.ColumnTransformer` (and so
  :func:`mmsk.make_modality_union`) writes, or
* given explicitly as a mapping ``{view name: columns}`` where ``columns`` is
  a list of column names, a list of integer positions, a boolean mask, a
  ``slice``/``range``, a single name or position, or a callable that takes the
  input X and returns one of these (as ``ColumnTransformer`` accepts, for
  example :func:`sklearn.compose.make_column_selector`).

A row whose columns of one view are *all* NaN has that modality missing; any
other NaN is an error.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from .utils._compat import validate_data

__all__ = [
    "VIEW_SEP",
    "resolve_views",
    "missing_view_masks",
    "validate_multiview_data",
    "view_feature_names",
    "per_view",
    "stacked_view_bounds",
]

#: Separator between a view name and a feature name, as ColumnTransformer writes it.
VIEW_SEP = "__"

_MAX_LISTED = 5


def _shorten(items, limit=_MAX_LISTED):
    items = list(items)
    shown = ", ".join(repr(i) for i in items[:limit])
    if len(items) > limit:
        shown += f", ... ({len(items) - limit} more)"
    return shown


def _check_view_name(name):
    if not isinstance(name, str) or not name:
        raise ValueError(f"View names must be non-empty strings; got {name!r}.")
    if VIEW_SEP in name:
        raise ValueError(
            f"View name {name!r} contains {VIEW_SEP!r}, the separator between a view and its "
            f"features in column names; choose a name without it."
        )


def _infer_views(feature_names):
    if feature_names is None:
        raise ValueError(
            "Cannot infer the views of X: X has no column names. Pass a pandas DataFrame whose "
            "columns are named '<view>__<feature>' (as ColumnTransformer and "
            "mmsk.make_modality_union write them), or pass views= explicitly, e.g. "
            "views={'audio': [0, 1, 2], 'image': slice(3, 67)}."
        )
    groups: dict[str, list[int]] = {}
    unprefixed = []
    for i, name in enumerate(feature_names):
        name = str(name)
        view, sep, feature = name.partition(VIEW_SEP)
        if not sep or not view or not feature:
            unprefixed.append(name)
            continue
        groups.setdefault(view, []).append(i)
    if unprefixed:
        found = sorted(groups) if groups else "none"
        raise ValueError(
            f"Cannot infer the views of X from its column names: {len(unprefixed)} column(s) are "
            f"not named '<view>{VIEW_SEP}<feature>': {_shorten(unprefixed)}. Views found in the "
            f"other columns: {found}. Name every column '<view>{VIEW_SEP}<feature>' (build the "
            f"features with mmsk.make_modality_union or ColumnTransformer), or pass views= "
            f"explicitly, e.g. views={{'audio': ['mfcc_0', 'mfcc_1'], 'image': ['px_0']}}."
        )
    return {view: np.asarray(idx, dtype=np.intp) for view, idx in groups.items()}


def _columns_to_indices(view, spec, n_features, feature_names, X):
    """Turn one view's column specification into an array of column positions."""
    if callable(spec):
        spec = spec(X)
    if isinstance(spec, (str, numbers.Integral)):
        spec = [spec]
    if isinstance(spec, range):
        spec = list(spec)
    if isinstance(spec, slice):
        if feature_names is not None and (isinstance(spec.start, str) or isinstance(spec.stop, str)):
            names = list(feature_names)
            try:
                start = None if spec.start is None else names.index(spec.start)
                stop = None if spec.stop is None else names.index(spec.stop) + 1
            except ValueError as exc:
                raise ValueError(f"View {view!r}: slice {spec!r} names a column X does not have.") from exc
            spec = slice(start, stop, spec.step)
        idx = np.arange(n_features)[spec]
    else:
        spec = np.asarray(spec)
        if spec.dtype == bool:
            if spec.shape != (n_features,):
                raise ValueError(
                    f"View {view!r}: a boolean mask must have one entry per column of X "
                    f"({n_features}); got shape {spec.shape}."
                )
            idx = np.flatnonzero(spec)
        elif spec.dtype.kind in "iu":
            idx = spec.astype(np.intp).ravel()
            bad = idx[(idx < -n_features) | (idx >= n_features)]
            if bad.size:
                raise ValueError(
                    f"View {view!r}: column position(s) {_shorten(bad.tolist())} out of range for "
                    f"X with {n_features} columns."
                )
            idx = np.where(idx < 0, idx + n_features, idx)
        elif spec.dtype.kind in "UO" or spec.size == 0:
            if spec.size and feature_names is None:
                raise ValueError(
                    f"View {view!r} is given by column names, but X has no column names (it is "
                    f"not a DataFrame and the estimator saw no feature names at fit). Give column "
                    f"positions instead, e.g. views={{{view!r}: [0, 1, 2]}}."
                )
            if spec.size == 0:
                idx = np.empty(0, dtype=np.intp)
            else:
                lookup = {str(n): i for i, n in enumerate(feature_names)}
                missing = [str(c) for c in spec.ravel() if str(c) not in lookup]
                if missing:
                    raise ValueError(
                        f"View {view!r} names column(s) X does not have: {_shorten(missing)}. "
                        f"X's columns: {_shorten([str(n) for n in feature_names])}."
                    )
                idx = np.asarray([lookup[str(c)] for c in spec.ravel()], dtype=np.intp)
        else:
            raise TypeError(
                f"View {view!r}: columns must be names, integer positions, a boolean mask, a slice "
                f"or a callable; got {spec!r}."
            )
    if idx.size == 0:
        raise ValueError(f"View {view!r} selects no columns of X.")
    if np.unique(idx).size != idx.size:
        raise ValueError(f"View {view!r} selects the same column more than once.")
    return np.asarray(idx, dtype=np.intp)


def resolve_views(views, *, n_features, feature_names=None, X=None, min_views=1):
    """Resolve a ``views=`` parameter into column positions.

    Parameters
    ----------
    views : mapping of str to columns, or None
        ``None`` infers the views from ``view__feature`` column names. A mapping
        gives each view's columns as names, integer positions, a boolean mask,
        a slice, or a callable of X returning one of these. Columns that belong
        to no view of an explicit mapping are ignored; a column may belong to
        several views.
    n_features : int
        Number of columns of X.
    feature_names : array-like of str, default=None
        Column names of X (a DataFrame's columns, or an estimator's
        ``feature_names_in_``); needed to infer views or to select by name.
    X : array-like, default=None
        The input, passed to callable column selectors.
    min_views : int, default=1
        Fewest views the caller can work with.

    Returns
    -------
    view_indices : dict of str to ndarray of int
        Column positions of each view, in the order of the mapping (explicit
        views) or of first appearance (inferred views).

    Raises
    ------
    ValueError
        If the views cannot be resolved; the message says what was found and
        how to pass ``views=``.

    Examples
    --------
    >>> from mmsk import resolve_views
    >>> resolve_views(None, n_features=3, feature_names=["a__x", "a__y", "b__z"])
    {'a': array([0, 1]), 'b': array([2])}
    >>> resolve_views({"left": slice(0, 2), "right": [2]}, n_features=3)
    {'left': array([0, 1]), 'right': array([2])}
    """
    if feature_names is not None:
        feature_names = np.asarray(feature_names, dtype=object)
    if views is None:
        resolved = _infer_views(feature_names)
    elif isinstance(views, Mapping):
        if not views:
            raise ValueError("views= is an empty mapping; give at least one view.")
        resolved = {}
        for view, spec in views.items():
            _check_view_name(view)
            resolved[view] = _columns_to_indices(view, spec, n_features, feature_names, X)
    else:
        raise TypeError(
            f"views= must be None (infer views from '<view>{VIEW_SEP}<feature>' column names) or "
            f"a mapping {{view name: columns}}; got {type(views).__name__}."
        )
    if len(resolved) < min_views:
        raise ValueError(
            f"This estimator needs at least {min_views} views; found {len(resolved)}: "
            f"{sorted(resolved)}. Pass views= to say which columns form each view."
        )
    return resolved


def _nan_counts(X, idx):
    """Per-row count of NaN entries of X among columns idx (dense or sparse X)."""
    if sp.issparse(X):
        sub = sp.csr_matrix(X[:, idx], dtype=float, copy=True)
        sub.data = np.isnan(sub.data).astype(float)
        return np.asarray(sub.sum(axis=1)).ravel().astype(np.intp)
    sub = np.asarray(X[:, idx], dtype=float)
    return np.isnan(sub).sum(axis=1)


def _row_label(row_labels, row):
    """The label of row ``row`` for messages: a plain Python value, not ``np.int64(3)``."""
    label = row_labels[row] if row_labels is not None else int(row)
    return label.item() if isinstance(label, np.generic) else label


def missing_view_masks(X, view_indices, *, row_labels=None, feature_names=None):
    """Per-view masks of the rows where that view is missing.

    A view is missing for a row when *all* of that row's columns in the view
    are NaN. A NaN anywhere else is an error.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated numeric input.
    view_indices : dict of str to ndarray of int
        Output of :func:`resolve_views`.
    row_labels : array-like of shape (n_samples,), default=None
        Labels used to name rows in error messages (a DataFrame's index).
    feature_names : array-like of str, default=None
        Column names used in error messages.

    Returns
    -------
    masks : dict of str to ndarray of bool
        ``masks[view][i]`` is True when row ``i`` has no data for ``view``.

    Raises
    ------
    ValueError
        If a row has NaN in some but not all columns of a view.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk import missing_view_masks
    >>> X = np.array([[1.0, 2.0, 3.0], [np.nan, np.nan, 4.0]])
    >>> missing_view_masks(X, {"a": np.array([0, 1]), "b": np.array([2])})
    {'a': array([False,  True]), 'b': array([False, False])}
    """
    if not sp.issparse(X):
        X = np.asarray(X)
        # one pass with no copy: a finite sum means no NaN anywhere (the common case)
        if X.dtype.kind in "fc" and np.isfinite(np.add.reduce(X, axis=None)):
            return {view: np.zeros(X.shape[0], dtype=bool) for view in view_indices}
    masks = {}
    for view, idx in view_indices.items():
        counts = _nan_counts(X, idx)
        partial = np.flatnonzero((counts > 0) & (counts < idx.size))
        if partial.size:
            row = int(partial[0])
            label = _row_label(row_labels, row)
            sub = np.asarray(X[row, idx].todense() if sp.issparse(X) else X[row, idx], dtype=float)
            nan_cols = idx[np.isnan(np.ravel(sub))]
            nan_cols = (
                [str(feature_names[c]) for c in nan_cols] if feature_names is not None else nan_cols.tolist()
            )
            raise ValueError(
                f"Row {label!r}: view {view!r} has NaN in {int(counts[row])} of its {idx.size} "
                f"columns ({_shorten(list(nan_cols))}). A missing modality must be NaN in every "
                f"column of its view; any other NaN is an error. {partial.size} row(s) are "
                f"affected. Impute those values first (e.g. sklearn.impute.SimpleImputer), or "
                f"set the whole view to NaN for rows where the modality is missing."
            )
        masks[view] = counts == idx.size
    return masks


def validate_multiview_data(
    estimator,
    X,
    y="no_validation",
    *,
    reset,
    min_views=1,
    allow_missing_views=True,
    **check_params,
):
    """Validate X (and y) like ``validate_data`` and resolve the estimator's views.

    On ``reset=True`` the estimator's ``views`` parameter is resolved and stored
    as ``view_indices_`` (dict of view name to column positions); otherwise the
    fitted ``view_indices_`` is reused. NaN is allowed only as whole missing
    views.

    Parameters
    ----------
    estimator : estimator instance
        Has a ``views`` parameter.
    X : array-like of shape (n_samples, n_features)
    y : array-like, default="no_validation"
        As in ``validate_data``: the default validates X only; None (a
        supervised fit given no y) raises.
    reset : bool
        True in ``fit``, False in ``transform``/``predict``.
    min_views : int, default=1
    allow_missing_views : bool, default=True
        If False, a missing view is an error too.
    **check_params
        Passed to :func:`sklearn.utils.validation.validate_data`.

    Returns
    -------
    X : ndarray or sparse matrix
    y : ndarray, only if y was validated
    masks : dict of str to ndarray of bool
        Rows where each view is missing.
    """
    row_labels = getattr(X, "index", None)
    raw_X = X
    check_params.setdefault("ensure_all_finite", "allow-nan")
    no_y = isinstance(y, str) and y == "no_validation"
    if no_y:
        X = validate_data(estimator, X, reset=reset, **check_params)
    else:
        X, y = validate_data(estimator, X, y, reset=reset, **check_params)
    feature_names = getattr(estimator, "feature_names_in_", None)
    if reset:
        estimator.view_indices_ = resolve_views(
            estimator.views,
            n_features=X.shape[1],
            feature_names=feature_names,
            # callables get the DataFrame (e.g. make_column_selector), else the array
            X=raw_X if hasattr(raw_X, "columns") else X,
            min_views=min_views,
        )
    masks = missing_view_masks(X, estimator.view_indices_, row_labels=row_labels, feature_names=feature_names)
    if X.shape[0]:
        all_missing = np.logical_and.reduce(list(masks.values()))
        if all_missing.any():
            row = np.flatnonzero(all_missing)[0]
            label = _row_label(row_labels, row)
            raise ValueError(
                f"Row {label!r} has every view missing (all NaN): there is nothing to use. "
                f"{int(all_missing.sum())} row(s) are affected; drop them first."
            )
    if not allow_missing_views:
        for view, mask in masks.items():
            if mask.any():
                row = np.flatnonzero(mask)[0]
                label = _row_label(row_labels, row)
                raise ValueError(
                    f"Row {label!r}: view {view!r} is missing (all NaN), and "
                    f"{type(estimator).__name__} needs every view present. Impute the view first "
                    f"or drop rows with missing views."
                )
    if no_y:
        return X, masks
    return X, y, masks


def view_feature_names(view, names):
    """Prefix feature names with their view: ``view__name``.

    Examples
    --------
    >>> from mmsk import view_feature_names
    >>> view_feature_names("audio", ["mfcc_0_mean", "rms_mean"])
    array(['audio__mfcc_0_mean', 'audio__rms_mean'], dtype=object)
    """
    _check_view_name(view)
    return np.asarray([f"{view}{VIEW_SEP}{n}" for n in names], dtype=object)


def per_view(value, views, name, default=None):
    """Broadcast a parameter given once or per view to ``{view: value}``.

    Parameters
    ----------
    value : object or mapping
        One value for every view, or a mapping ``{view: value}``; views the
        mapping leaves out get ``default``.
    views : iterable of str
        The views, in order.
    name : str
        The parameter's name, for the error message.
    default : object, default=None
        The value of a view that a mapping leaves out.

    Returns
    -------
    values : dict
        ``{view: value}`` for every view, in the order of ``views``.

    Raises
    ------
    ValueError
        If the mapping names a view that does not exist.

    Examples
    --------
    >>> from mmsk._views import per_view
    >>> per_view(0.1, ["audio", "image"], "reg")
    {'audio': 0.1, 'image': 0.1}
    >>> per_view({"image": 0.5}, ["audio", "image"], "reg", default=0.0)
    {'audio': 0.0, 'image': 0.5}
    """
    views = list(views)
    if not isinstance(value, Mapping):
        return dict.fromkeys(views, value)
    unknown = sorted(set(value) - set(views), key=str)
    if unknown:
        raise ValueError(f"{name} names unknown view(s) {unknown}; the views are {views}.")
    return {v: value.get(v, default) for v in views}


def stacked_view_bounds(sizes):
    """``(start, stop)`` of each view's columns once the views are laid side by side.

    Parameters
    ----------
    sizes : mapping or sequence
        The views in order: a mapping ``{view: columns}`` (such as
        ``view_indices_``) or a sequence, each entry the view's column
        positions or its number of columns.

    Returns
    -------
    bounds : list of (int, int)
        One ``(start, stop)`` per view, in order.

    Examples
    --------
    >>> from mmsk._views import stacked_view_bounds
    >>> stacked_view_bounds({"a": [7, 8, 9], "b": [0]})
    [(0, 3), (3, 4)]
    >>> stacked_view_bounds([2, 5])
    [(0, 2), (2, 7)]
    """
    entries = sizes.values() if isinstance(sizes, Mapping) else sizes
    widths = [e if isinstance(e, numbers.Integral) else len(e) for e in entries]
    edges = np.cumsum([0, *widths])
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
