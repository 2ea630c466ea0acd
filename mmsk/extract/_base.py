"""Machinery shared by every extractor: reading a column of items, errors, jobs, progress.

An extractor turns one column of a table (paths, bytes, arrays) into a block of
numeric features. Subclasses implement three hooks:

* ``_load(item)``: a path, bytes or array -> a decoded object (waveform, image);
* ``_features(obj)``: decoded object -> 1-D float vector of ``len(_names())``;
* ``_names()``: feature names, known after ``fit``.

Everything else (input checks, missing values, the ``on_error`` policy, the
error message naming row, column and file, ``n_jobs``, progress bars) is here
and written once.
"""

import os
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin

from .._views import _row_label
from ..utils._compat import StrOptions, check_is_fitted, validate_data
from ._cache import FeatureCache, item_key

_MAX_LISTED = 5

#: Docstring fragments shared by every extractor (``%(extractor_params)s`` etc.).
EXTRACTOR_DOCS = {
    "extractor_params": """on_error : {"raise", "nan"}, default="raise"
        ``"raise"``: an unreadable item raises an error naming the row, the
        column and the file. ``"nan"``: it becomes a missing (all-NaN) row and
        one warning lists the failures.
    n_jobs : int, default=None
        Parallel workers (joblib); None means 1, -1 all cores.
    progress : bool, default=False
        Show a progress bar (tqdm).
    cache : str or path-like, default=None
        Folder of an on-disk feature cache. Features are stored per item,
        keyed by the item (a file by its path, size and modification time;
        bytes, text and arrays by a hash of their content) and by the
        extractor's parameters and fitted state, so a re-run reads them
        back instead of recomputing them, and a changed file or setting is
        recomputed. None: no cache.""",
    "extractor_attributes": """n_features_in_ : int
        Columns of X seen in fit (1 for a column of items).
    feature_names_in_ : ndarray of str
        Column name of X, when X was a DataFrame or Series.""",
}


class ExtractionError(ValueError):
    """An item of the input column could not be read or featurised.

    The message names the row, the column and the file (or the kind of
    in-memory item) and what went wrong.
    """


class ExtractionWarning(UserWarning):
    """Some items could not be read and were recorded as missing (``on_error="nan"``)."""


def is_missing_item(item):
    """True for None, NaN, pandas NA, an empty string and empty bytes."""
    if item is None or item is pd.NA:
        return True
    if isinstance(item, float) and np.isnan(item):
        return True
    if isinstance(item, (str, bytes)) and len(item) == 0:
        return True
    return False


def describe_item(item):
    """Short text naming an item in error messages: its path, or its type and size."""
    if isinstance(item, (str, os.PathLike)):
        return f"file {os.fspath(item)!r}"
    if isinstance(item, (bytes, bytearray)):
        return f"{len(item)} bytes in memory"
    if isinstance(item, np.ndarray):
        return f"array of shape {item.shape}"
    return f"{type(item).__name__} value"


def check_file(path, allowed_suffixes=None, kind="file"):
    """Check that ``path`` is an existing, non-empty file with an allowed suffix."""
    import stat as stat_

    path = os.fspath(path)
    try:
        st = os.stat(path)  # one system call for existence, kind and size
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file {path!r}") from None
    if stat_.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{path!r} is a directory, expected a {kind}")
    suffix = os.path.splitext(path)[1].lower()
    if allowed_suffixes is not None and suffix not in allowed_suffixes:
        raise ValueError(
            f"unsupported extension {suffix or '(none)'!r} for a {kind}; supported: "
            f"{', '.join(sorted(allowed_suffixes))}"
        )
    if st.st_size == 0:
        raise ValueError(f"{path!r} is empty (0 bytes)")
    return path


def _run_chunk(extractor, items):
    """Featurise a list of items; each result is a vector, None (missing) or the exception."""
    results = [None] * len(items)
    loaded = []
    for i, item in enumerate(items):
        if extractor._is_missing(item):
            continue
        try:
            obj = extractor._load(item)
        except Exception as exc:  # noqa: BLE001 - reported per row by the caller
            results[i] = exc
            continue
        if not extractor._batched:
            try:
                results[i] = extractor._features(obj)
            except Exception as exc:  # noqa: BLE001
                results[i] = exc
        else:
            loaded.append((i, obj))
    if loaded:
        try:
            vectors = extractor._features_batch([obj for _, obj in loaded])
        except Exception:  # noqa: BLE001 - find the culprit item by item
            vectors = []
            for _, obj in loaded:
                try:
                    vectors.append(extractor._features_batch([obj])[0])
                except Exception as exc:  # noqa: BLE001
                    vectors.append(exc)
        for (i, _), vec in zip(loaded, vectors):
            results[i] = vec
    return results


def _map_chunk(extractor, items, method):
    """``getattr(extractor, method)(extractor._load(item))`` per item; exceptions returned."""
    out = []
    for item in items:
        if extractor._is_missing(item):
            out.append(None)
            continue
        try:
            out.append(getattr(extractor, method)(extractor._load(item)))
        except Exception as exc:  # noqa: BLE001 - reported per row by the caller
            out.append(exc)
    return out


class BaseExtractor(TransformerMixin, BaseEstimator):
    """Base class of the extractors: one input column of items to a feature block.

    Not for direct use. The input X is one column: a Series, a one-column
    DataFrame, a list, a 1-D array, or an (n, 1) array, whose items are paths,
    bytes or arrays. A missing item (None, NaN, empty string) gives an all-NaN
    row, which mmsk estimators read as the modality missing for that row. A
    numeric 2-D array is also accepted: each row is one item (a waveform, a
    flattened image), and an all-NaN row is missing.
    """

    _parameter_constraints = {
        "on_error": [StrOptions({"raise", "nan"})],
        "n_jobs": [Integral, None],
        "progress": ["boolean"],
        "cache": [str, os.PathLike, None],
    }

    #: "audio", "image", ...: used in messages.
    _kind = "item"
    #: True when features are computed for a batch at once (``_features_batch``).
    _batched = False
    #: True when string items are content (text), not paths, for the cache keys.
    _content_keys = False

    # ------------------------------------------------------------------ hooks
    def _load(self, item):
        raise NotImplementedError

    def _features(self, obj):
        raise NotImplementedError

    def _names(self):
        raise NotImplementedError

    def _is_missing(self, item):
        """True when the item marks a missing modality (an all-NaN output row)."""
        return is_missing_item(item)

    def _fit_items(self, items, column, labels):
        """Learn what the features need from the training items (e.g. a codebook)."""

    def _features_batch(self, objs):
        """Features of several decoded items at once (batched extractors override it)."""
        return [self._features(obj) for obj in objs]

    def _batch_size(self):
        return getattr(self, "batch_size", 32)

    def warm_up(self):
        """Prepare this process for parallel extraction; a no-op for most extractors.

        Runs once in the parent before items go to worker processes: an
        extractor whose library compiles code on first use (librosa's numba)
        compiles it here, so the workers load the compiled cache instead of
        each compiling it. :func:`mmsk.scale.extract_to_store` calls it too.
        """

    def _fitted_state_for_cache(self):
        """What fit learned that changes the features (part of the cache key)."""
        return None

    # ------------------------------------------------------------------ input
    def _as_items(self, X, reset):
        """Validate X; return (items, column name, row labels).

        ``items`` is an object array of paths/bytes/arrays, or a float 2-D
        array whose rows are the items.
        """
        labels = X.index if isinstance(X, (pd.Series, pd.DataFrame)) else None
        if isinstance(X, pd.Series):
            X = X.to_frame()
        elif isinstance(X, (list, tuple)):
            objects = np.empty(len(X), dtype=object)
            objects[:] = list(X)  # keeps arrays (even of equal shapes) as items
            X = objects
        if isinstance(X, np.ndarray) and X.ndim == 1:
            if X.dtype.kind in "biufc":
                raise ValueError(
                    f"{type(self).__name__} expects a column of {self._kind} items (paths, "
                    f"bytes or arrays) or a 2-D array with one item per row; got a 1-D numeric "
                    f"array of shape {X.shape}. Reshape your data: for one waveform or image, pass [item]."
                )
            X = X.reshape(-1, 1)
        if (
            isinstance(X, pd.DataFrame)
            and X.shape[1] == 1
            and not pd.api.types.is_numeric_dtype(X.dtypes.iloc[0])
        ):
            validate_data(self, X, reset=reset, skip_check_array=True)
            column = str(X.columns[0])
            items = X.iloc[:, 0].to_numpy(dtype=object)
            if not items.size:
                raise ValueError(f"{type(self).__name__}: the input column {column!r} is empty.")
            return items, column, labels
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1 and X.dtype.kind in "OUS":
            validate_data(self, X, reset=reset, skip_check_array=True)
            if not X.shape[0]:
                raise ValueError(f"{type(self).__name__}: the input column is empty.")
            return X[:, 0].astype(object), None, labels
        # numeric rows: each row is one item
        try:
            X = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan", dtype=np.float64)
        except ValueError as exc:
            if "could not convert" not in str(exc):
                raise
            raise ValueError(
                f"{type(self).__name__} extracts features from ONE column of {self._kind} items "
                f"(paths, bytes or arrays), or from numeric rows; got {np.shape(X)[1]} columns "
                f"that are not numbers. Use one extractor per column, e.g. in "
                f"mmsk.make_modality_union."
            ) from exc
        nan = np.isnan(X)
        partial = np.flatnonzero(nan.any(axis=1) & ~nan.all(axis=1))
        if partial.size:
            row = _row_label(labels, partial[0])
            raise ValueError(
                f"{type(self).__name__}: row {row!r} has NaN in some of its values; a missing "
                f"{self._kind} must be all NaN ({partial.size} row(s) affected)."
            )
        return X, None, labels

    # ------------------------------------------------------------------ run
    @staticmethod
    def _item_list(items):
        """Items as a list; a numeric all-NaN row (a missing item) becomes None."""
        if isinstance(items, np.ndarray) and items.dtype == object:
            return list(items)
        # partial-NaN rows were refused by _as_items
        return [None if np.isnan(r).all() else r for r in items]

    def _extract(self, items, column, labels):
        items = self._item_list(items)
        return self._assemble(self._compute(items), items, column, labels)

    def _compute(self, items):
        """Per item: its feature vector, the exception it raised, or None when missing.

        Reads the cache first and stores what it computes, chunk by chunk.
        """
        results = [None] * len(items)
        todo = [i for i, item in enumerate(items) if not self._is_missing(item)]
        cache, keys = None, {}
        if self.cache is not None and todo:
            cache = FeatureCache(self.cache, self)
            for i in todo:
                try:
                    keys[i] = item_key(items[i], content_hash=self._content_keys)
                except OSError:  # e.g. a missing file: extraction reports it
                    pass
            stored = cache.get(keys.values())
            for i, key in keys.items():
                if key in stored:
                    results[i] = stored[key]
            todo = [i for i in todo if results[i] is None]
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(items), desc=type(self).__name__, unit=self._kind)
            bar.update(len(items) - len(todo))
        n_jobs = self.n_jobs if self.n_jobs is not None else 1
        n_workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
        if self._batched:  # batches in threads: torch and tokenizers release the GIL
            size = self._batch_size()
            chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
            if n_workers == 1 or len(chunks) < 2:
                outputs = (_run_chunk(self, [items[i] for i in c]) for c in chunks)
            else:
                parallel = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")
                outputs = parallel(delayed(_run_chunk)(self, [items[i] for i in c]) for c in chunks)
        elif n_workers == 1 or len(todo) < 2:
            chunks = [[i] for i in todo]
            outputs = (_run_chunk(self, [items[i]]) for i in todo)
        else:
            self.warm_up()  # compile (and cache) JIT code once, not once per worker
            size = max(1, min(64, len(todo) // (4 * n_workers)))
            chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
            parallel = Parallel(n_jobs=n_jobs, return_as="generator")
            outputs = parallel(delayed(_run_chunk)(self, [items[i] for i in c]) for c in chunks)
        new = []
        for chunk, out in zip(chunks, outputs):
            for i, res in zip(chunk, out):
                results[i] = res
                if cache is not None and i in keys and not isinstance(res, Exception):
                    new.append((keys[i], res))
            if bar is not None:
                bar.update(len(chunk))
            if cache is not None and len(new) >= 256:
                cache.put(new)  # store as we go: an interrupted run keeps its work
                new = []
        if cache is not None:
            cache.put(new)
        if bar is not None:
            bar.close()
        return results

    def _map_items(self, items, method, column, labels):
        """Run ``method`` on every decoded item (for fit-time work such as a codebook).

        Follows ``n_jobs`` and ``on_error``: with ``"raise"`` an unreadable item
        raises the same error as ``transform``; with ``"nan"`` it gives None.
        """
        n_jobs = self.n_jobs if self.n_jobs is not None else 1
        if n_jobs == 1 or len(items) < 2:
            results = _map_chunk(self, items, method)
        else:
            size = max(1, min(64, len(items) // 8))
            chunks = [items[i : i + size] for i in range(0, len(items), size)]
            parts = Parallel(n_jobs=n_jobs)(delayed(_map_chunk)(self, c, method) for c in chunks)
            results = [r for part in parts for r in part]
        for i, res in enumerate(results):
            if isinstance(res, Exception):
                if self.on_error == "raise":
                    raise self._item_error(res, i, items, column, labels) from res
                results[i] = None
        return results

    def _item_error(self, exc, i, items, column, labels):
        """The ExtractionError for item ``i``, naming its row, column and file."""
        row = _row_label(labels, i)
        col = f"column {column!r}" if column is not None else "the input"
        return ExtractionError(
            f"{type(self).__name__} could not read row {row!r} of {col}, "
            f"{describe_item(items[i])}: {type(exc).__name__}: {exc}. Fix or remove "
            f"the {self._kind}, or pass on_error='nan' to record it as missing."
        )

    def _assemble(self, results, items, column, labels):
        n_out = len(self._names())
        out = np.full((len(results), n_out), np.nan)
        failed = []
        for i, res in enumerate(results):
            if res is None:
                continue
            if isinstance(res, Exception):
                failed.append(i)
                if self.on_error == "raise":
                    raise self._item_error(res, i, items, column, labels) from res
                continue
            vec = np.asarray(res, dtype=float).ravel()
            if vec.size != n_out:  # a bug in a subclass, not bad input
                raise RuntimeError(f"{type(self).__name__} made {vec.size} features, expected {n_out}")
            out[i] = vec
        if failed:
            shown = [describe_item(items[i]) for i in failed[:_MAX_LISTED]]
            warnings.warn(
                f"{type(self).__name__}: {len(failed)} of {len(items)} {self._kind} item(s) could "
                f"not be read and are recorded as missing (all-NaN rows): {'; '.join(shown)}"
                + (" ..." if len(failed) > _MAX_LISTED else ""),
                ExtractionWarning,
                stacklevel=3,
            )
        return out

    # ------------------------------------------------------------------ API
    def fit(self, X, y=None):
        """Check the input column and learn what the features need.

        Parameters
        ----------
        X : column of items, or numeric array of shape (n_samples, n_values)
            Paths, bytes or arrays (one column), or one item per numeric row.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted extractor.
        """
        self._validate_params()
        items, column, labels = self._as_items(X, reset=True)
        self._fit_items(self._item_list(items), column, labels)
        self.feature_names_out_ = np.asarray(self._names(), dtype=object)
        return self

    def transform(self, X):
        """Extract one feature vector per item.

        Parameters
        ----------
        X : column of items, or numeric array of shape (n_samples, n_values)

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
            A missing item (or, with ``on_error="nan"``, an unreadable one)
            gives a row of NaN.
        """
        check_is_fitted(self, "feature_names_out_")
        items, column, labels = self._as_items(X, reset=False)
        return self._extract(items, column, labels)

    def failures(self, X):
        """The items of X that cannot be read or featurised, one row each.

        Runs the extraction (through the cache, when there is one, so a later
        ``transform`` of the same items reads their features back) and lists
        every failure, where ``transform`` with ``on_error="raise"`` stops at
        the first one. Missing items (None, NaN, empty) are not failures.

        Parameters
        ----------
        X : column of items, or numeric array of shape (n_samples, n_values)

        Returns
        -------
        failures : DataFrame
            Columns ``row`` (the row label, or position), ``item`` (the path,
            or a description of an in-memory item) and ``error``.

        Examples
        --------
        >>> import pandas as pd
        >>> from mmsk.extract import ImageFeatures
        >>> column = pd.Series(["no/such/image.png"], name="photo")
        >>> ImageFeatures().fit(column).failures(column)[["row", "item"]].values.tolist()
        [[0, 'no/such/image.png']]
        """
        check_is_fitted(self, "feature_names_out_")
        items, _, labels = self._as_items(X, reset=False)
        items = self._item_list(items)
        rows = [
            {
                "row": _row_label(labels, i),
                "item": os.fspath(items[i])
                if isinstance(items[i], (str, os.PathLike))
                else describe_item(items[i]),
                "error": f"{type(res).__name__}: {res}",
            }
            for i, res in enumerate(self._compute(items))
            if isinstance(res, Exception)
        ]
        return pd.DataFrame(rows, columns=["row", "item", "error"])

    def get_feature_names_out(self, input_features=None):
        """Names of the extracted features, e.g. ``mfcc_3_mean``.

        Inside :func:`mmsk.make_modality_union` they get the view prefix
        (``audio__mfcc_3_mean``).

        Parameters
        ----------
        input_features : None
            Ignored; the names depend on the parameters only.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # An all-NaN row is a missing item, but any other NaN is an error, so for
        # the checks' purposes (NaN anywhere) NaN is not allowed.
        tags.input_tags.allow_nan = False
        tags.requires_fit = True
        return tags
