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

A view can also be a *sequence*: T steps of the same d features, stored as
T·d columns named ``<view>__t{t:02d}_<feature>`` (:func:`sequence_column`).
Its shape is read from the names (:func:`resolve_sequences`), so a CSV file
keeps it. In a sequence view a step whose columns are all NaN is padding (a
row shorter than T steps); estimators that read time accept it, every other
estimator rejects it with an error that names
:class:`~mmsk.compose.TemporalPooling`.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array, check_X_y

from .utils._compat import validate_data

__all__ = [
    "VIEW_SEP",
    "resolve_views",
    "missing_view_masks",
    "validate_multiview_data",
    "view_feature_names",
    "per_view",
    "stacked_view_bounds",
    "sequence_column",
    "resolve_sequences",
    "sequence_step_masks",
    "sequence_frame",
    "sequence_arrays",
]

#: Separator between a view name and a feature name, as ColumnTransformer writes it.
VIEW_SEP = "__"

_MAX_LISTED = 5
#: A sequence view's feature name: ``t<step>_<feature>`` (steps from 0).
_STEP = re.compile(r"t(\d+)_(.+)", re.DOTALL)


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


def sequence_column(view, step, feature):
    """The column name of ``feature`` at ``step`` of the sequence view ``view``.

    Examples
    --------
    >>> from mmsk._views import sequence_column
    >>> sequence_column("audio", 3, "mfcc_0")
    'audio__t03_mfcc_0'
    """
    return f"{view}{VIEW_SEP}t{step:02d}_{feature}"


def _step_grid(names):
    """``(positions (T, d), features)`` when ``names`` are a complete step x feature grid, else None.

    ``names`` are a view's feature names without the view (``t03_mfcc_0``).
    """
    steps: dict[int, dict[str, int]] = {}
    for i, name in enumerate(names):
        match = _STEP.fullmatch(str(name))
        if match is None:
            return None
        step, feature = int(match.group(1)), match.group(2)
        if feature in steps.setdefault(step, {}):  # t5 and t05
            return None
        steps[step][feature] = i
    if not steps or sorted(steps) != list(range(len(steps))):
        return None
    features = list(steps[0])
    if any(set(steps[t]) != set(features) for t in steps):
        return None
    return np.asarray([[steps[t][f] for f in features] for t in range(len(steps))], dtype=np.intp), features


def _view_features(view, idx, feature_names):
    """The names of a view's columns without their ``<view>__`` prefix (or None without names)."""
    if feature_names is None:
        return None
    prefix = f"{view}{VIEW_SEP}"
    names = np.asarray(feature_names, dtype=object)[idx]
    return [str(n)[len(prefix) :] if str(n).startswith(prefix) else str(n) for n in names]


def resolve_sequences(view_indices, *, feature_names=None, n_steps=None):
    """The sequence views among resolved views, as a grid of column positions.

    Parameters
    ----------
    view_indices : dict of str to ndarray of int
        Output of :func:`resolve_views`.
    feature_names : array-like of str, default=None
        Column names of X. A view whose columns are named
        ``<view>__t{t}_<feature>`` for every step ``t`` from 0 to T-1 and
        the same features at each step is a sequence view; any other view
        is a plain view.
    n_steps : int or mapping of str to int, default=None
        Read views by position instead: the columns of each view (every
        view for an int, the named ones for a mapping) are its steps one
        after the other, ``n_steps`` of them, each of the same width.

    Returns
    -------
    sequences : dict of str to ndarray of int, shape (T, d)
        For each sequence view, the column of X of feature ``j`` at step
        ``t``; plain views are left out.

    Raises
    ------
    ValueError
        If ``n_steps`` does not divide a view's columns.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk import resolve_sequences, resolve_views
    >>> names = ["a__t00_x", "a__t00_y", "a__t01_x", "a__t01_y", "b__z"]
    >>> views = resolve_views(None, n_features=5, feature_names=names)
    >>> resolve_sequences(views, feature_names=names)
    {'a': array([[0, 1],
           [2, 3]])}
    """
    if feature_names is not None:
        feature_names = np.asarray(feature_names, dtype=object)
    if n_steps is not None:
        wanted = per_view(n_steps, view_indices, "n_steps") if isinstance(n_steps, Mapping) else None
        sequences = {}
        for view, idx in view_indices.items():
            count = n_steps if wanted is None else wanted[view]
            if count is None:
                continue
            if not isinstance(count, numbers.Integral) or count < 1 or idx.size % count:
                raise ValueError(
                    f"n_steps={count!r} for view {view!r}: its {idx.size} columns are not that many "
                    f"steps of equal width; give a positive number of steps that divides {idx.size}."
                )
            sequences[view] = np.asarray(idx, dtype=np.intp).reshape(int(count), -1)
        return sequences
    if feature_names is None:
        return {}
    sequences = {}
    for view, idx in view_indices.items():
        grid = _step_grid(_view_features(view, idx, feature_names))
        if grid is not None:
            sequences[view] = np.asarray(idx, dtype=np.intp)[grid[0]]
    return sequences


def sequence_step_masks(X, sequences):
    """Per sequence view, which steps of each row hold values (are not padding).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sequences : dict of str to ndarray of int, shape (T, d)
        Output of :func:`resolve_sequences`.

    Returns
    -------
    masks : dict of str to ndarray of bool, shape (n_samples, T)
        True where the step has values; a row's length is its count of True.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk._views import sequence_step_masks
    >>> X = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, np.nan, np.nan]])
    >>> sequence_step_masks(X, {"a": np.array([[0, 1], [2, 3]])})["a"]
    array([[ True,  True],
           [ True, False]])
    """
    X = np.asarray(X, dtype=float)
    return {view: ~np.isnan(X[:, grid]).all(axis=2) for view, grid in sequences.items()}


def _padding_hint(view, idx, feature_names):
    """What to do when a sequence view with padding steps reaches an estimator that reads vectors."""
    grid = _step_grid(_view_features(view, idx, feature_names) or [])
    if grid is None:
        return ""
    n_steps, width = grid[0].shape
    return (
        f" View {view!r} is a sequence view ({n_steps} steps of {width} features); a step whose "
        f"columns are all NaN is padding, which this estimator cannot read: it reads each view as one "
        f"vector. Put mmsk.compose.TemporalPooling before it (statistics over time), or use an "
        f"estimator that reads sequences."
    )


def _check_steps(view, grid, X, row_labels, feature_names):
    """Raise when a row of a sequence view has NaN in part of a step (padding is a whole step)."""
    values = X[:, grid.ravel()]
    values = np.asarray(values.toarray() if sp.issparse(values) else values, dtype=float)
    nan = np.isnan(values).reshape(len(values), *grid.shape)
    counts = nan.sum(axis=2)
    partial = np.argwhere((counts > 0) & (counts < grid.shape[1]))
    if not partial.size:
        return
    row, step = (int(i) for i in partial[0])
    label = _row_label(row_labels, row)
    cols = grid[step][nan[row, step]]
    cols = [str(feature_names[c]) for c in cols] if feature_names is not None else cols.tolist()
    raise ValueError(
        f"Row {label!r}: view {view!r} has NaN in {int(counts[row, step])} of the {grid.shape[1]} "
        f"columns of step {step} ({_shorten(cols)}). In a sequence view a step is padding when all "
        f"its columns are NaN, and the view is missing when every step is; any other NaN is an "
        f"error. {len({int(r) for r, _ in partial})} row(s) are affected. Impute those values first."
    )


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


def missing_view_masks(X, view_indices, *, row_labels=None, feature_names=None, sequences=None):
    """Per-view masks of the rows where that view is missing.

    A view is missing for a row when *all* of that row's columns in the view
    are NaN. A NaN anywhere else is an error, except in the views of
    ``sequences``, where a step whose columns are all NaN is padding.

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
    sequences : dict of str to ndarray of int, shape (T, d), default=None
        Output of :func:`resolve_sequences`: the views whose padding steps
        the caller reads.

    Returns
    -------
    masks : dict of str to ndarray of bool
        ``masks[view][i]`` is True when row ``i`` has no data for ``view``.

    Raises
    ------
    ValueError
        If a row has NaN in some but not all columns of a view (of a step,
        in a sequence view).

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
    sequences = sequences or {}
    for view, idx in view_indices.items():
        counts = _nan_counts(X, idx)
        if view in sequences:
            _check_steps(view, sequences[view], X, row_labels, feature_names)
            masks[view] = counts == idx.size
            continue
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
                + _padding_hint(view, idx, feature_names)
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
    sequences=False,
    n_steps=None,
    allow_empty_rows=False,
    **check_params,
):
    """Validate X (and y) like ``validate_data`` and resolve the estimator's views.

    On ``reset=True`` the estimator's ``views`` parameter is resolved and stored
    as ``view_indices_`` (dict of view name to column positions); otherwise the
    fitted ``view_indices_`` is reused. NaN is allowed only as whole missing
    views, and, with ``sequences=True``, as padding steps of sequence views.

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
    sequences : bool, default=False
        The estimator reads sequence views: on ``reset=True`` they are
        resolved (:func:`resolve_sequences`, with ``n_steps``) and stored as
        ``sequence_indices_``; their padding steps are allowed, and X with
        another number of steps than at fit is an error that says so.
    n_steps : int or mapping of str to int, default=None
        Passed to :func:`resolve_sequences`.
    allow_empty_rows : bool, default=False
        If False, a row with every view missing is an error (a model has
        nothing to use); transformers that keep NaN as NaN allow it.
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
    if sequences and not reset and n_steps is None and hasattr(raw_X, "columns"):
        _check_same_steps(estimator, list(raw_X.columns))
    X, y = _validate(estimator, X, y, reset, no_y, check_params)
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
    if reset and sequences:
        estimator.sequence_indices_ = resolve_sequences(
            estimator.view_indices_, feature_names=feature_names, n_steps=n_steps
        )
    masks = missing_view_masks(
        X,
        estimator.view_indices_,
        row_labels=row_labels,
        feature_names=feature_names,
        sequences=estimator.sequence_indices_ if sequences else None,
    )
    if X.shape[0] and not allow_empty_rows:
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


def _validate(estimator, X, y, reset, no_y, check_params):
    """``validate_data``, with wide frames of plain number columns stacked once, not column by column.

    ``check_array`` inspects a DataFrame's dtypes one column at a time, which on
    the thousands of columns an image or text view has costs more than the fit
    of a linear model. Such a frame has nothing to convert: its feature names
    and width are checked as usual, and its values go on as one array.
    """
    if not _plain_number_frame(X):
        if no_y:
            return validate_data(estimator, X, reset=reset, **check_params), y
        return validate_data(estimator, X, y, reset=reset, **check_params)
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    if no_y:
        return check_array(X.to_numpy(), input_name="X", estimator=estimator, **check_params), y
    return check_X_y(X.to_numpy(), y, estimator=estimator, **check_params)


def _plain_number_frame(X):
    """X is a DataFrame whose columns all hold NumPy floats or integers."""
    if not (hasattr(X, "columns") and hasattr(X, "to_numpy")):
        return False
    return all(isinstance(d, np.dtype) and d.kind in "fi" for d in X.dtypes)


def _check_same_steps(estimator, columns):
    """Raise when a sequence view of X has another number of steps than the fitted one."""
    fitted = estimator.sequence_indices_
    names = np.asarray([str(c) for c in columns], dtype=object)
    for view, grid in fitted.items():
        own = np.flatnonzero([n.startswith(f"{view}{VIEW_SEP}") for n in names])
        found = _step_grid(_view_features(view, own, names)) if own.size else None
        if found is not None and found[0].shape != grid.shape:
            n_steps, width = found[0].shape
            raise ValueError(
                f"View {view!r} of X is a sequence of {n_steps} steps of {width} features, but "
                f"{type(estimator).__name__} was fitted on {grid.shape[0]} steps of {grid.shape[1]}. "
                f"Give it sequences of {grid.shape[0]} steps: pad shorter ones with NaN steps "
                f"(mmsk.sequence_frame pads ragged sequences) and resample or cut longer ones."
            )


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


def view_prefixed(view, feature):
    """A feature's name in a union's output: ``<view>__<feature>``, once.

    For ``verbose_feature_names_out`` of a :class:`~mmsk.compose.ModalityUnion`
    whose views pass precomputed ``<view>__<feature>`` columns on: their names
    keep one prefix, so a sequence view's ``audio__t00_f0`` stays readable as
    steps.

    Examples
    --------
    >>> from mmsk._views import view_prefixed
    >>> view_prefixed("audio", "mfcc_0_mean"), view_prefixed("audio", "audio__t00_f0")
    ('audio__mfcc_0_mean', 'audio__t00_f0')
    """
    feature = str(feature)
    return feature if feature.startswith(f"{view}{VIEW_SEP}") else f"{view}{VIEW_SEP}{feature}"


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


def _padded(view, values, width):
    """A view's sequences as one (n, T, d) float array: ragged rows padded with NaN steps."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        if values.ndim != 3:
            raise ValueError(
                f"Sequences of view {view!r} must be an array of shape (n, T, d) or a list of (T_i, d) "
                f"arrays; got an array of shape {values.shape}."
            )
        return values.astype(float, copy=False)
    rows = [None if r is None else np.asarray(r, dtype=float) for r in values]
    widths = {r.shape[1] for r in rows if r is not None and r.ndim == 2}
    bad = [i for i, r in enumerate(rows) if r is not None and (r.ndim != 2 or len(widths) > 1)]
    if bad or not widths:
        raise ValueError(
            f"Sequences of view {view!r}: each row must be a (T_i, d) array with the same d (or None "
            f"for a missing view); row {bad[0] if bad else 0} is not."
        )
    d = widths.pop() if width is None else width
    n_steps = max((len(r) for r in rows if r is not None), default=0)
    out = np.full((len(rows), max(n_steps, 1), d), np.nan)
    for i, r in enumerate(rows):
        if r is not None:
            out[i, : len(r)] = r
    return out


def sequence_frame(sequences, *, features=None, index=None):
    """A table of sequence views from arrays: ``{view: (n, T, d)}`` to T·d columns per view.

    Parameters
    ----------
    sequences : mapping of str to array-like
        Each view's sequences: an array of shape ``(n, T, d)`` (NaN steps are
        padding), or a list of ``n`` arrays of shape ``(T_i, d)`` (ragged:
        padded with NaN steps to the longest; None or an empty array is a
        missing view). Views may have different T. sktime's and aeon's
        ``(n, d, T)`` panels are ``np.swapaxes(panel, 1, 2)``.
    features : mapping of str to list of str, default=None
        The d feature names of each view; default ``f0 ... f{d-1}``.
    index : array-like, default=None
        The table's index.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``<view>__t{t:02d}_<feature>``, step-major, view after view.

    See Also
    --------
    sequence_arrays : The inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk import sequence_arrays, sequence_frame
    >>> audio = np.arange(12.0).reshape(2, 3, 2)  # 2 rows, 3 steps, 2 features
    >>> frame = sequence_frame({"audio": audio}, features={"audio": ["pitch", "energy"]})
    >>> list(frame.columns[:3])
    ['audio__t00_pitch', 'audio__t00_energy', 'audio__t01_pitch']
    >>> np.array_equal(sequence_arrays(frame)["audio"], audio)
    True
    """
    import pandas as pd

    features = dict(features or {})
    blocks = []
    for view, values in sequences.items():
        _check_view_name(view)
        names = features.get(view)
        array = _padded(view, values, None if names is None else len(names))
        n, n_steps, width = array.shape
        names = [f"f{j}" for j in range(width)] if names is None else [str(f) for f in names]
        if len(names) != width:
            raise ValueError(f"features[{view!r}] names {len(names)} features; the sequences have {width}.")
        columns = [sequence_column(view, t, f) for t in range(n_steps) for f in names]
        blocks.append(pd.DataFrame(array.reshape(n, -1), columns=columns, index=index))
    if not blocks:
        raise ValueError("sequences is empty; give at least one view.")
    if len({len(b) for b in blocks}) > 1:
        raise ValueError(
            f"The views have different numbers of rows: {dict(zip(sequences, (len(b) for b in blocks)))}."
        )
    return pd.concat(blocks, axis=1)


def sequence_arrays(X, *, ragged=False):
    """The sequence views of a table, as arrays: the inverse of :func:`sequence_frame`.

    Parameters
    ----------
    X : pandas.DataFrame
        Columns named ``<view>__t{t}_<feature>``; plain views are left out.
    ragged : bool, default=False
        False: one ``(n, T, d)`` float array per view, padding steps NaN.
        True: a list of ``n`` arrays of shape ``(T_i, d)`` per view, without
        the padding steps, and None where the view is missing.

    Returns
    -------
    sequences : dict of str to ndarray or list
        Each sequence view's values, steps in order, features in the
        column order of step 0.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk import sequence_arrays, sequence_frame
    >>> frame = sequence_frame({"video": [np.ones((1, 2)), np.zeros((3, 2)), None]})
    >>> [None if r is None else r.shape for r in sequence_arrays(frame, ragged=True)["video"]]
    [(1, 2), (3, 2), None]
    """
    if not hasattr(X, "columns"):
        raise TypeError(
            f"sequence_arrays reads the column names of a DataFrame; got {type(X).__name__}. "
            f"Give the table as a DataFrame with columns '<view>__t{{t}}_<feature>'."
        )
    names = np.asarray([str(c) for c in X.columns], dtype=object)
    out = {}
    for view, grid in resolve_sequences(_prefixed_views(names), feature_names=names).items():
        # a copy of its own (pandas may hand out a read-only view of the frame's memory)
        array = np.array(X.iloc[:, grid.ravel()].to_numpy(dtype=float)).reshape(len(X), *grid.shape)
        if not ragged:
            out[view] = array
            continue
        present = ~np.isnan(array).all(axis=2)
        out[view] = [row[keep] if keep.any() else None for row, keep in zip(array, present)]
    return out


def _prefixed_views(names):
    """The views of the ``<view>__<feature>`` columns among ``names``, ignoring the others."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        view, sep, feature = name.partition(VIEW_SEP)
        if sep and view and feature:
            groups.setdefault(view, []).append(i)
    return {view: np.asarray(idx, dtype=np.intp) for view, idx in groups.items()}
