"""Date columns as the numeric features tabular tools derive: year, month, day of week, day number."""

import re

import numpy as np
import pandas as pd

#: What each date column becomes (a suffix of the new column's name).
DATE_PARTS = ("year", "month", "dayofweek", "ordinal")
#: ISO dates (``2024-03-09``, optionally with a time) in at least this share of a text column's values.
_ISO_SHARE = 0.9
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$")


def is_date_column(column):
    """A datetime column (Parquet, or parsed), or text whose values (90% of those present) are ISO dates.

    Examples
    --------
    >>> import pandas as pd
    >>> from mmsk.auto._dates import is_date_column
    >>> is_date_column(pd.Series(["2024-01-31", "2023-12-01 08:30", None]))
    True
    >>> is_date_column(pd.Series(["2024", "soon"]))
    False
    """
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    values = column.dropna().astype(str).str.strip()
    values = values[values != ""]
    return bool(len(values) > 0 and values.map(lambda v: bool(_ISO.match(v))).mean() >= _ISO_SHARE)


def date_features(column):
    """The date parts of one column, named ``<column>_<part>``; a value that is no date is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from mmsk.auto._dates import date_features
    >>> date_features(pd.Series(["2024-03-09", None], name="when")).iloc[0].tolist()
    [2024.0, 3.0, 5.0, 738954.0]
    """
    if pd.api.types.is_datetime64_any_dtype(column):
        when = column
    else:
        when = pd.to_datetime(column, errors="coerce", utc=True, format="ISO8601")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    ok = when.notna().to_numpy()
    ordinal = np.full(len(when), np.nan)
    ordinal[ok] = [t.toordinal() for t in when[ok]]
    parts = {
        "year": when.dt.year,
        "month": when.dt.month,
        "dayofweek": when.dt.day_of_week,
        "ordinal": ordinal,
    }
    return pd.DataFrame(
        {f"{column.name}_{part}": np.asarray(parts[part], dtype=float) for part in DATE_PARTS},
        index=column.index,
    )


def expand_dates(table, *, exclude=(), columns=None):
    """The table with each date column replaced by its date parts.

    Parameters
    ----------
    table : DataFrame
    exclude : iterable of str, default=()
        Columns never expanded (the target, named columns).
    columns : sequence of str, default=None
        Expand exactly these (at predict, the columns a model was fitted
        with); None: every date column found (:func:`is_date_column`).

    Returns
    -------
    table : DataFrame
    expanded : dict of str to list of str
        Each expanded column and the columns made from it.
    """
    exclude = set(exclude)
    if columns is None:
        columns = [c for c in table.columns if c not in exclude and is_date_column(table[c])]
    expanded = {}
    for name in columns:
        parts = date_features(table[name])
        position = table.columns.get_loc(name)
        table = pd.concat([table.iloc[:, :position], parts, table.iloc[:, position + 1 :]], axis=1)
        expanded[name] = list(parts.columns)
    return table, expanded
