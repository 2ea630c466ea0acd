"""What counts when deciding whether two runs compute the same thing."""

import hashlib
import os

import joblib
import numpy as np
import pandas as pd

#: Parameters that change how the work is done (workers, progress, device, caching),
#: never what it gives. The extractors' feature cache and the feature store both leave
#: them out of their fingerprints, so changing one reuses what was computed.
RUN_ONLY_PARAMS = frozenset(
    {"n_jobs", "progress", "on_error", "cache", "batch_size", "device", "verbose", "memory"}
)


def rows_digest(rows):
    """A hash of a chunk's input: its values, index and, for file paths, each file's size and mtime.

    A file replaced in place changes its size or modification time, so its
    chunk is recomputed rather than read back stale.
    """
    h = hashlib.sha1(joblib.hash(rows).encode())
    frame = rows if isinstance(rows, pd.DataFrame) else None
    values = frame.select_dtypes(include=["object", "string"]).to_numpy().ravel() if frame is not None else []
    if frame is None and isinstance(rows, np.ndarray) and rows.dtype == object:
        values = rows.ravel()
    for value in values:
        if isinstance(value, (str, os.PathLike)):
            try:
                st = os.stat(value)
            except (OSError, ValueError):
                continue
            h.update(f"{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()
