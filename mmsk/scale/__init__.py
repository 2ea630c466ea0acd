"""Scaling out: a resumable on-disk feature store, dask DataFrames, and distributed search.

Search and cross-validation need nothing from mmsk to run on a cluster: every
mmsk estimator pickles and runs under joblib, so scikit-learn's ``n_jobs``
follows ``joblib.parallel_backend("dask")`` onto dask.distributed workers
(see the user guide's "Scaling out" page).
"""

from ._dask import dask_transform
from ._store import FeatureStore, StoreMismatchError, extract_to_store

__all__ = ["FeatureStore", "StoreMismatchError", "dask_transform", "extract_to_store"]
