"""On-disk cache of extracted feature vectors, keyed by item and by extractor settings.

One SQLite file per (extractor class, settings) under the cache folder; one
row per item. SQLite writes are transactions, so an interrupted run never
leaves a half-written vector behind: a row is either there whole or absent.

Item keys:

* a path: its absolute path, size and modification time (a file that
  changes gets a new key, so stale features are never returned);
* bytes, text or an array: a hash of the content (and dtype and shape).
"""

import hashlib
import os
import sqlite3

import joblib
import numpy as np

from ..utils._fingerprint import RUN_ONLY_PARAMS

_SCHEMA_VERSION = "1"


def item_key(item, content_hash=False):
    """A string that changes whenever the item's features could change.

    Parameters
    ----------
    item : str, path-like, bytes, ndarray or other picklable value
    content_hash : bool, default=False
        Hash a ``str`` item's text instead of taking it as a path (for text
        extractors, whose items are strings but not files).
    """
    if isinstance(item, os.PathLike) or (isinstance(item, str) and not content_hash):
        path = os.path.abspath(os.fspath(item))
        st = os.stat(path)  # raises for a missing path: the caller extracts it, and reports
        return f"path:{path}:{st.st_size}:{st.st_mtime_ns}"
    digest = hashlib.sha1()
    if isinstance(item, str):
        digest.update(b"text:" + item.encode("utf-8", "surrogatepass"))
    elif isinstance(item, (bytes, bytearray, memoryview)):
        digest.update(b"bytes:" + bytes(item))
    elif isinstance(item, np.ndarray) and item.dtype != object:
        arr = np.ascontiguousarray(item)
        digest.update(f"array:{arr.dtype.str}:{arr.shape}:".encode())
        digest.update(arr.tobytes())
    else:
        return "obj:" + joblib.hash(item)
    return digest.hexdigest()


def settings_digest(extractor):
    """A hash of everything that decides an extractor's output for a given item."""
    ignore = RUN_ONLY_PARAMS | set(getattr(extractor, "_cache_ignore", ()))
    params = {}
    for name, value in sorted(extractor.get_params(deep=False).items()):
        if name in ignore:
            continue
        try:
            params[name] = joblib.hash(value)
        except Exception:  # noqa: BLE001 - e.g. a lambda: fall back on its text
            params[name] = repr(value)
    state = extractor._fitted_state_for_cache()
    return joblib.hash((_SCHEMA_VERSION, type(extractor).__qualname__, params, state))


class FeatureCache:
    """Feature vectors of one extractor setting, in ``<folder>/<Class>-<digest>.sqlite``.

    Parameters
    ----------
    folder : str or path-like
        The cache folder; made if it does not exist.
    extractor : BaseExtractor
        A fitted extractor; its class, parameters and fitted state name the file.
    """

    def __init__(self, folder, extractor):
        os.makedirs(folder, exist_ok=True)
        name = f"{type(extractor).__name__}-{settings_digest(extractor)[:20]}.sqlite"
        self.path = os.path.join(os.fspath(folder), name)
        self.n_features = len(extractor.feature_names_out_)

    def _connect(self):
        con = sqlite3.connect(self.path, timeout=60.0)
        con.execute("CREATE TABLE IF NOT EXISTS features (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return con

    def get(self, keys):
        """Return ``{key: vector}`` for the keys that are stored."""
        found = {}
        unique = list(dict.fromkeys(keys))
        con = self._connect()
        try:
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = con.execute(f"SELECT key, vec FROM features WHERE key IN ({marks})", part)
                for key, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float64)
                    if vec.size == self.n_features:
                        found[key] = vec
        finally:
            con.close()
        return found

    def put(self, pairs):
        """Store ``(key, vector)`` pairs in one transaction."""
        pairs = [(k, np.asarray(v, dtype=np.float64).tobytes()) for k, v in pairs]
        if not pairs:
            return
        con = self._connect()
        try:
            with con:
                con.executemany("INSERT OR REPLACE INTO features (key, vec) VALUES (?, ?)", pairs)
        finally:
            con.close()
