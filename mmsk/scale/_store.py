"""A chunked, resumable on-disk feature store (Parquet), for tables whose features outgrow memory."""

import copy
import json
import os
import re
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..utils._fingerprint import RUN_ONLY_PARAMS, rows_digest
from ..utils._io import atomic_write


def _check_fitted(transformer, caller, hint):
    """Raise NotFittedError naming ``caller`` unless fitted (non-estimators are taken as fitted)."""
    try:
        if isinstance(transformer, BaseEstimator):
            check_is_fitted(transformer)
    except NotFittedError as exc:
        raise NotFittedError(
            f"{caller} needs a fitted transformer: fit {type(transformer).__name__} first ({hint})"
        ) from exc


_FORMAT = "mmsk-feature-store"
_VERSION = 1
_MANIFEST = "manifest.json"
_PART = re.compile(r"^part-(\d{5,})\.parquet$")
_TEMP = re.compile(r"^\.part-\d{5,}\.parquet\..+\.tmp$")
_META_KEY = b"mmsk"


class StoreMismatchError(ValueError):
    """A feature store's folder holds a store made by another transformer or for another table."""


def _part_name(i):
    return f"part-{i:05d}.parquet"


def _transformer_digest(transformer):
    """A hash of the fitted transformer, blind to the parameters that only change how it runs."""
    shadow = copy.deepcopy(transformer)
    try:
        params = shadow.get_params(deep=True)
    except Exception:  # noqa: BLE001 - not a scikit-learn estimator: hash it as it is
        params = {}
    neutral = {k: None for k in params if k.rsplit("__", 1)[-1] in RUN_ONLY_PARAMS and params[k] is not None}
    for key in sorted(neutral, key=lambda k: -k.count("__")):
        try:
            shadow.set_params(**{key: None})
        except Exception:  # noqa: BLE001 - a parameter that refuses None: keep it in the hash
            pass
    # fitted sub-estimators (a ColumnTransformer's transformers_) keep their own copies
    for fitted in _fitted_parts(shadow):
        for name in RUN_ONLY_PARAMS:
            if name in getattr(fitted, "__dict__", {}):
                setattr(fitted, name, None)
    return joblib.hash((type(transformer).__qualname__, shadow))


def _fitted_parts(estimator):
    """The estimators held inside a fitted composite (transformers_, steps, named_transformers_)."""
    found = []
    for attr in ("transformers_", "steps", "transformer_list"):
        for entry in getattr(estimator, attr, None) or []:
            part = entry[1] if isinstance(entry, tuple) else entry
            if hasattr(part, "get_params"):
                found.append(part)
                found.extend(_fitted_parts(part))
    return found


def _feature_names(transformer, X):
    """The transformer's output names; numbered from a one-row probe when it has none."""
    try:
        return [str(n) for n in transformer.get_feature_names_out()]
    except Exception:  # noqa: BLE001 - a transformer without names: number the columns
        probe = transformer.transform(X.iloc[:1] if isinstance(X, pd.DataFrame) else X[:1])
        return [f"x{i}" for i in range(np.shape(probe)[1])]


def _warm_up(transformer):
    """Compile JIT code (librosa's numba) once in this process, so parallel workers read numba's cache."""
    seen = [transformer, *_fitted_parts(transformer)]
    try:
        seen += list(transformer.get_params(deep=True).values())
    except Exception:  # noqa: BLE001
        pass
    done = set()
    for obj in seen:
        if callable(getattr(obj, "warm_up", None)) and type(obj) not in done:
            obj.warm_up()
            done.add(type(obj))


def _write_part(transformer, rows, index, path, meta):
    """Transform one chunk and write it to ``path`` atomically; return (chunk, seconds)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = time.perf_counter()
    out = transformer.transform(rows)
    out = out.to_numpy(dtype=float) if isinstance(out, pd.DataFrame) else np.asarray(out, dtype=float)
    if out.ndim != 2 or out.shape[0] != len(index) or out.shape[1] != len(meta["columns"]):
        raise RuntimeError(
            f"{type(transformer).__name__} returned shape {out.shape} for a chunk of {len(index)} rows; "
            f"expected ({len(index)}, {len(meta['columns'])})"
        )
    frame = pd.DataFrame(out, index=index, columns=meta["columns"])
    table = pa.Table.from_pandas(frame, preserve_index=True)
    info = {k: meta[k] for k in ("chunk", "start", "stop", "rows_digest", "transformer_digest")}
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), _META_KEY: json.dumps(info).encode()}
    )
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return meta["chunk"], time.perf_counter() - start


def _atomic_json(path, data):
    text = json.dumps(data, indent=1)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


class FeatureStore:
    """Features of a table, on disk as one Parquet file per chunk of rows.

    Made (and resumed) by :func:`extract_to_store`; open an existing one with
    ``FeatureStore(path)``. Every chunk file is written under a temporary name
    and renamed when complete, and carries in its metadata a hash of its input
    rows and of the transformer, so a chunk is read back only when it is whole
    and belongs to this store.

    Parameters
    ----------
    path : str or path-like
        The store's folder (it holds ``manifest.json`` and ``part-*.parquet``).

    Attributes
    ----------
    path : pathlib.Path
    columns : list of str
        The feature names.
    n_rows : int
    chunk_size : int
    n_chunks : int
    last_run : dict or None
        After :func:`extract_to_store`: ``{"computed": [...], "reused": [...],
        "seconds": float}``, the chunks this run computed and those it found
        done. None for a store opened with ``FeatureStore(path)``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mmsk.scale import FeatureStore, extract_to_store
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> folder = tempfile.mkdtemp()
    >>> store = extract_to_store(StandardScaler().fit(X), X, folder, chunk_size=4)
    >>> store.n_chunks, store.complete, store.last_run["computed"]
    (3, True, [0, 1, 2])
    >>> FeatureStore(folder).read().shape
    (10, 2)
    """

    def __init__(self, path):
        self.path = Path(path)
        manifest = self.path / _MANIFEST
        if not manifest.is_file():
            raise FileNotFoundError(f"{os.fspath(self.path)!r} is not a feature store (no {_MANIFEST})")
        try:
            info = json.loads(manifest.read_text())
        except ValueError as exc:
            raise ValueError(f"{os.fspath(manifest)!r} is not valid JSON: {exc}") from exc
        if info.get("format") != _FORMAT:
            raise ValueError(f"{os.fspath(manifest)!r} is not an mmsk feature store manifest")
        if info.get("version") != _VERSION:
            raise ValueError(
                f"feature store version {info.get('version')} is not supported (this is {_VERSION})"
            )
        self._info = info
        self.columns = list(info["columns"])
        self.n_rows = int(info["n_rows"])
        self.chunk_size = int(info["chunk_size"])
        self.n_chunks = int(info["n_chunks"])
        self.last_run = None

    def __len__(self):
        return self.n_rows

    def __repr__(self):
        done = self.n_chunks - len(self.missing_chunks())
        return (
            f"FeatureStore({os.fspath(self.path)!r}, rows={self.n_rows}, features={len(self.columns)}, "
            f"chunks={done}/{self.n_chunks})"
        )

    def chunk_path(self, chunk):
        """The Parquet file of chunk ``chunk``."""
        return self.path / _part_name(chunk)

    def _chunk_valid(self, chunk, rows_digest=None):
        import pyarrow.parquet as pq

        path = self.chunk_path(chunk)
        if not path.is_file():
            return False
        try:
            meta = pq.read_metadata(path)
            info = json.loads((meta.metadata or {}).get(_META_KEY, b"{}"))
        except Exception:  # noqa: BLE001 - unreadable footer: not a finished chunk
            return False
        start, stop = self._bounds(chunk)
        return (
            meta.num_rows == stop - start
            and info.get("transformer_digest") == self._info["transformer_digest"]
            and info.get("start") == start
            and info.get("stop") == stop
            and (rows_digest is None or info.get("rows_digest") == rows_digest)
        )

    def _bounds(self, chunk):
        start = chunk * self.chunk_size
        return start, min(start + self.chunk_size, self.n_rows)

    def missing_chunks(self):
        """The chunks with no whole, matching Parquet file yet."""
        return [c for c in range(self.n_chunks) if not self._chunk_valid(c)]

    @property
    def complete(self):
        """Whether every chunk is on disk."""
        return not self.missing_chunks()

    def iter_chunks(self, columns=None):
        """Yield the chunks in order as DataFrames (one in memory at a time).

        Parameters
        ----------
        columns : list of str, default=None
            Read only these feature columns.
        """
        import pyarrow.parquet as pq

        self._check_complete()
        for chunk in range(self.n_chunks):
            yield pq.read_table(self.chunk_path(chunk), columns=columns).to_pandas()

    def read(self, columns=None):
        """All the features as one DataFrame, in the input's row order and with its index.

        Parameters
        ----------
        columns : list of str, default=None
            Read only these feature columns.

        Returns
        -------
        features : pandas.DataFrame of shape (n_rows, n_columns)
        """
        return pd.concat(list(self.iter_chunks(columns)), axis=0)

    def to_dask(self, columns=None):
        """The store as a lazy ``dask.dataframe`` (one partition per chunk); needs dask.

        Parameters
        ----------
        columns : list of str, default=None
            Read only these feature columns.
        """
        import dask.dataframe as dd

        self._check_complete()
        paths = [os.fspath(self.chunk_path(c)) for c in range(self.n_chunks)]
        return dd.read_parquet(paths, columns=columns)

    def _check_complete(self):
        missing = self.missing_chunks()
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise ValueError(
                f"feature store {os.fspath(self.path)!r} is incomplete: {len(missing)} of {self.n_chunks} "
                f"chunk(s) missing ({shown}); run extract_to_store again to finish it"
            )


def _clear_store(path):
    """Remove a store's own files (manifest, parts, temporary parts), nothing else."""
    for entry in path.iterdir():
        if entry.name == _MANIFEST or _PART.match(entry.name) or _TEMP.match(entry.name):
            entry.unlink()


def extract_to_store(transformer, X, path, *, chunk_size=1000, n_jobs=None, progress=False, overwrite=False):
    """Transform X chunk by chunk into an on-disk feature store that survives interruption.

    Each chunk of ``chunk_size`` rows is transformed (by the fitted
    ``transformer``: an extractor, a modality union, a Pipeline...) and
    written to ``path/part-NNNNN.parquet`` under a temporary name, then
    renamed, so a killed run leaves only whole chunk files. Run it again with
    the same arguments and it keeps every finished chunk whose input rows are
    unchanged and computes only the others.

    Chunks run in parallel through joblib, so ``with
    joblib.parallel_backend("dask"):`` spreads them over a dask.distributed
    cluster; the workers then write the chunk files themselves, so ``path``
    must be on a file system they all see.

    Parameters
    ----------
    transformer : fitted transformer
        Anything with ``transform``; fit it first (on a sample when the table
        is large). Its errors (an unreadable file with ``on_error="raise"``)
        stop the run with the finished chunks kept.
    X : DataFrame or array-like of shape (n_samples, n_columns)
        The input table (paths, texts, numbers), in memory; only the features
        are kept out of memory.
    path : str or path-like
        The store's folder, made if needed. An existing folder must be empty
        or hold a store of this transformer and table (or pass
        ``overwrite=True``).
    chunk_size : int, default=1000
        Rows per chunk: the unit of work, of parallelism and of resumption.
    n_jobs : int, default=None
        Chunks transformed at once (joblib; None means 1). When above 1, JIT
        code (librosa's) is compiled once here first, so workers load it from
        numba's cache.
    progress : bool, default=False
        Show a progress bar over chunks (tqdm).
    overwrite : bool, default=False
        Replace a store of another transformer or table at ``path`` (only the
        store's own files are removed).

    Returns
    -------
    store : FeatureStore
        With ``store.last_run`` saying which chunks were computed and which
        were found finished.

    Raises
    ------
    StoreMismatchError
        ``path`` holds a store made by another transformer, with another chunk
        size or for a table of another length, and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from mmsk.scale import extract_to_store
    >>> X = np.random.default_rng(0).normal(size=(100, 5))
    >>> folder = tempfile.mkdtemp()
    >>> pca = PCA(2).fit(X)
    >>> extract_to_store(pca, X, folder, chunk_size=30).last_run["computed"]
    [0, 1, 2, 3]
    >>> extract_to_store(pca, X, folder, chunk_size=30).last_run["reused"]  # a rerun resumes
    [0, 1, 2, 3]
    """
    if not hasattr(transformer, "transform"):
        raise TypeError(f"transformer must have a transform method; got {type(transformer).__name__}")
    _check_fitted(transformer, "extract_to_store", "on a sample of the table when it is large")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    if not isinstance(X, pd.DataFrame):
        X = np.asarray(X) if not hasattr(X, "iloc") else X
        if X.ndim == 1:
            raise ValueError("X must be 2-D (a table); got a 1-D array: pass X.reshape(-1, 1) for one column")
    n_rows = len(X)
    if n_rows == 0:
        raise ValueError("X has no rows")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    digest = _transformer_digest(transformer)
    columns = _feature_names(transformer, X)
    manifest = {
        "format": _FORMAT,
        "version": _VERSION,
        "transformer": type(transformer).__name__,
        "transformer_digest": digest,
        "columns": columns,
        "n_rows": n_rows,
        "chunk_size": int(chunk_size),
        "n_chunks": -(-n_rows // int(chunk_size)),
    }
    manifest_path = path / _MANIFEST
    if manifest_path.is_file():
        try:
            old = json.loads(manifest_path.read_text())
        except ValueError:
            old = {}
        keys = ("format", "version", "transformer_digest", "columns", "n_rows", "chunk_size")
        changed = [k for k in keys if old.get(k) != manifest[k]]
        if changed and not overwrite:
            raise StoreMismatchError(
                f"{os.fspath(path)!r} holds a feature store that differs in {', '.join(changed)} "
                "(another transformer, chunk size or table); use another folder or pass overwrite=True"
            )
        if changed:
            _clear_store(path)
    elif any(e.name != _MANIFEST and not _TEMP.match(e.name) for e in path.iterdir()) and not overwrite:
        raise StoreMismatchError(
            f"{os.fspath(path)!r} is not empty and is not a feature store; use an empty or new folder"
        )
    for entry in path.iterdir():  # leftovers of a killed run: never read, now removed
        if _TEMP.match(entry.name):
            entry.unlink(missing_ok=True)
    _atomic_json(manifest_path, manifest)
    store = FeatureStore(path)

    todo, reused = [], []
    for chunk in range(store.n_chunks):
        start, stop = store._bounds(chunk)
        rows = X.iloc[start:stop] if isinstance(X, pd.DataFrame) else X[start:stop]
        chunk_digest = rows_digest(rows)
        if store._chunk_valid(chunk, chunk_digest):
            reused.append(chunk)
        else:
            index = rows.index if isinstance(rows, pd.DataFrame) else pd.RangeIndex(start, stop)
            meta = {"chunk": chunk, "start": start, "stop": stop, "rows_digest": chunk_digest}
            todo.append((rows, index, {**meta, "transformer_digest": digest, "columns": columns}))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=store.n_chunks, initial=len(reused), desc="feature store", unit="chunk")
    computed = []
    try:
        if todo:
            if n_jobs not in (None, 1) and len(todo) > 1:
                _warm_up(transformer)
            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            tasks = (
                delayed(_write_part)(transformer, rows, index, store.chunk_path(meta["chunk"]), meta)
                for rows, index, meta in todo
            )
            for chunk, _ in parallel(tasks):
                computed.append(chunk)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    store.last_run = {
        "computed": sorted(computed),
        "reused": reused,
        "seconds": time.perf_counter() - started,
    }
    return store
