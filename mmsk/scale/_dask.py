"""Apply a fitted transformer to a dask DataFrame, partition by partition."""

import numpy as np
import pandas as pd

from ._store import _check_fitted


def _transform_partition(part, transformer, columns):
    if len(part) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}, index=part.index)
    out = transformer.transform(part)
    out = out.to_numpy(dtype=float) if isinstance(out, pd.DataFrame) else np.asarray(out, dtype=float)
    return pd.DataFrame(out, index=part.index, columns=columns)


def dask_transform(transformer, ddf):
    """Transform every partition of a dask DataFrame with a fitted transformer (``map_partitions``).

    The result is lazy: nothing runs until ``.compute()``, ``.to_parquet()``
    or ``.persist()``, and then each partition is transformed where it lives
    (on the cluster's workers under dask.distributed). The index of ``ddf`` is
    kept, so the features line up with the table's other columns.

    Parameters
    ----------
    transformer : fitted transformer
        An extractor, a modality union or any fitted scikit-learn transformer
        (fit it first, on a sample of the table when it is large).
    ddf : dask.dataframe.DataFrame
        The input table: the columns the transformer expects.

    Returns
    -------
    features : dask.dataframe.DataFrame
        One float column per output feature, named by
        ``transformer.get_feature_names_out()``.

    See Also
    --------
    extract_to_store : the same work into a resumable Parquet store.

    Examples
    --------
    >>> import dask.dataframe as dd, numpy as np, pandas as pd
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mmsk.scale import dask_transform
    >>> table = pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) ** 2})
    >>> scaler = StandardScaler().fit(table)
    >>> lazy = dask_transform(scaler, dd.from_pandas(table, npartitions=3))
    >>> lazy.npartitions, lazy.compute().shape
    (3, (8, 2))
    """
    import dask.dataframe as dd

    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(f"ddf must be a dask.dataframe.DataFrame; got {type(ddf).__name__}")
    _check_fitted(transformer, "dask_transform", "on a sample of the table, e.g. ddf.head(1000)")
    try:
        columns = [str(n) for n in transformer.get_feature_names_out()]
    except Exception:  # noqa: BLE001 - no names: number the columns from the first row
        probe = transformer.transform(ddf.head(1, npartitions=-1))
        columns = [f"x{i}" for i in range(np.shape(probe)[1])]
    meta = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    meta.index = ddf._meta.index
    return ddf.map_partitions(_transform_partition, transformer, columns, meta=meta)
