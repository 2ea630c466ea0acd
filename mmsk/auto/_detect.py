"""Which modality each column of a table holds, and the feature stage that reads them."""

import os
import re

import numpy as np
import pandas as pd

from ..extract import AudioFeatures, ImageFeatures, VideoFeatures

#: Every modality :func:`detect_modalities` can return; ``None`` marks a skipped column.
MODALITIES = ("audio", "image", "video", "text", "numeric", "categorical")
FILE_MODALITIES = ("audio", "image", "video")
#: The suffixes each extractor reads: a path column is detected only in a format it can read.
_SUFFIXES = {
    "audio": AudioFeatures.file_suffixes,
    "image": ImageFeatures.file_suffixes,
    "video": VideoFeatures.file_suffixes,
}
#: Media formats people have that no extractor reads: such a column is skipped with a reason.
_UNREADABLE_MEDIA = {
    ".m4a": "audio",
    ".aac": "audio",
    ".wma": "audio",
    ".heic": "image",
    ".heif": "image",
    ".svg": "image",
    ".jp2": "image",
    ".flv": "video",
}
#: Share of a column's values that must end in one modality's suffixes to call it a path column.
_PATH_SHARE = 0.9
_MAX_CATEGORIES = 50
#: From this share of file paths (below _PATH_SHARE) a column is mixed, and left out.
_MIXED_SHARE = 0.2


def _present(column):
    """The non-missing values of a column (NaN, None and blank strings are missing)."""
    values = column.dropna()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        values = values[values.astype(str).str.strip() != ""]
    return values


def _guess(column):
    """(modality or None, why) for one column."""
    values = _present(column)
    if values.empty:
        return None, "every value is missing"
    if pd.api.types.is_integer_dtype(column) and not pd.api.types.is_bool_dtype(column):
        n = len(values)
        if n > _MAX_CATEGORIES and values.nunique() == n and values.max() - values.min() == n - 1:
            return None, "an identifier (consecutive integers, one per row); left out (--id carries it)"
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return "numeric", f"numeric dtype ({column.dtype})"
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        return None, "dates are not used; derive numeric columns from them"
    if isinstance(column.dtype, pd.CategoricalDtype):
        return "categorical", "categorical dtype"
    text = values.astype(str)
    suffixes = text.map(lambda v: os.path.splitext(v.strip())[1].lower())
    for kind, known in _SUFFIXES.items():
        share = suffixes.isin(known).mean()
        if share >= _PATH_SHARE:
            common = suffixes[suffixes.isin(known)].value_counts().index[0]
            return kind, f"{share:.0%} of values are {kind} paths (e.g. {common})"
    media = suffixes.map(_UNREADABLE_MEDIA)
    if media.notna().mean() >= _PATH_SHARE:
        kind, common = media.mode().iloc[0], suffixes[media.notna()].value_counts().index[0]
        readable = ", ".join(sorted(_SUFFIXES[kind]))
        return (
            None,
            f"{kind} files in a format mmsk cannot read ({common}); convert them to one of {readable}",
        )
    looks_like_file = suffixes.isin(set().union(*_SUFFIXES.values(), _UNREADABLE_MEDIA))
    if looks_like_file.mean() >= _MIXED_SHARE:
        return None, (
            f"mixed: {looks_like_file.mean():.0%} of values are file paths, the rest are not; "
            f"left out (name it with --text/--image/... to use it)"
        )
    n_unique = text.nunique()
    words = text.str.split().str.len().mean()
    if n_unique == len(text) and words <= 1 and len(text) > _MAX_CATEGORIES:
        return None, "an identifier (every value unique, one word each); left out (--id carries it)"
    if words >= 3 or (n_unique > _MAX_CATEGORIES and n_unique > 0.5 * len(text)):
        return "text", f"free text ({words:.1f} words per value, {n_unique} distinct)"
    return "categorical", f"{n_unique} distinct values"


def detect_modalities(table, *, exclude=()):
    """Guess the modality of every column of a table, from its dtype and values.

    A column whose values (at least 90% of those present) end in an audio,
    image or video file extension is that modality; other numeric or boolean
    columns are ``"numeric"``; string columns are ``"text"`` when they read
    as free text (three words or more per value on average, or mostly
    distinct values) and ``"categorical"`` otherwise. Columns that are
    entirely missing, dates, and identifiers (every value a distinct single
    word) are skipped, with the reason.

    Parameters
    ----------
    table : DataFrame
    exclude : iterable of str, default=()
        Columns not to consider (the target, a group column).

    Returns
    -------
    detection : DataFrame
        One row per considered column: ``column``, ``modality`` (one of
        ``"audio"``, ``"image"``, ``"video"``, ``"text"``, ``"numeric"``,
        ``"categorical"``, or None when skipped) and ``why``.

    Examples
    --------
    >>> import pandas as pd
    >>> from mmsk.auto import detect_modalities
    >>> table = pd.DataFrame({
    ...     "clip": ["a.wav", "b.wav", "c.wav"],
    ...     "photo": ["a.png", "b.jpg", None],
    ...     "note": ["a loud bark outside", "quiet purring cat", "birds at dawn singing"],
    ...     "age": [3, 5, 2],
    ...     "label": ["dog", "cat", "bird"],
    ... })
    >>> detect_modalities(table, exclude=["label"])[["column", "modality"]].values.tolist()
    [['clip', 'audio'], ['photo', 'image'], ['note', 'text'], ['age', 'numeric']]
    """
    exclude = set(exclude)
    rows = []
    for name in table.columns:
        if name in exclude:
            continue
        kind, why = _guess(table[name])
        rows.append({"column": name, "modality": kind, "why": why})
    return pd.DataFrame(rows, columns=["column", "modality", "why"])


def view_names(modalities, groups=None):
    """The views of a table: one per file or text column; numeric and categorical columns grouped.

    Numeric columns form views by, in order: ``groups`` (column to view name,
    e.g. from ``mmsk fit --view``), then their own name when it follows the
    ``<view>__<feature>`` contract (precomputed features such as
    ``covarep__f0`` become the view ``covarep``), else the one ``numeric``
    view. Categorical columns form the ``categorical`` view.

    Parameters
    ----------
    modalities : mapping of str to str
        Column to modality.
    groups : mapping of str to str, default=None
        Numeric column to the name of its view.

    Returns
    -------
    views : dict of str to list of str
        View name to its columns, in the order of ``modalities``. File and
        text views are named after their column made into an identifier
        (``"photo file"`` gives ``photo_file``).

    Examples
    --------
    >>> from mmsk.auto import view_names
    >>> view_names({"clip": "audio", "fou__0": "numeric", "fou__1": "numeric", "age": "numeric"})
    {'clip': ['clip'], 'fou': ['fou__0', 'fou__1'], 'numeric': ['age']}
    """
    groups = dict(groups or {})
    views = {}
    for column, kind in modalities.items():
        if kind == "numeric":
            view = groups.get(column)
            if view is None:
                prefix, sep, feature = str(column).partition("__")
                view = prefix if sep and feature and re.fullmatch(r"\w+", prefix) else "numeric"
            views.setdefault(view, []).append(column)
            continue
        if kind == "categorical":
            views.setdefault(kind, []).append(column)
            continue
        base = re.sub(r"_+", "_", re.sub(r"\W", "_", str(column))).strip("_") or "column"
        name, k = base, 2
        while name in views or name in ("numeric", "categorical"):
            name, k = f"{base}_{k}", k + 1
        views[name] = [column]
    for view, columns in views.items():
        kinds = sorted({modalities[c] for c in columns})
        if len(kinds) > 1:
            raise ValueError(
                f"the view {view!r} would hold columns of different modalities ({kinds}: {columns}); "
                f"rename the columns or name the groups with views= (--view NAME=PATTERN)"
            )
    return views


def sequence_views(modalities, groups=None):
    """The numeric views whose columns are a complete grid of steps: ``{view: (steps, features)}``.

    A precomputed view named ``<view>__t{t}_<feature>`` for every step and
    feature (see :func:`mmsk.resolve_sequences`) is a sequence view; its
    padding steps are all NaN.

    Examples
    --------
    >>> from mmsk.auto import sequence_views
    >>> columns = ["pitch__t00_f0", "pitch__t00_f1", "pitch__t01_f0", "pitch__t01_f1", "age"]
    >>> sequence_views(dict.fromkeys(columns, "numeric"))
    {'pitch': (2, 2)}
    """
    from .. import resolve_sequences

    found = {}
    for view, columns in view_names(modalities, groups).items():
        if modalities[columns[0]] != "numeric":
            continue
        names = np.asarray([str(c) for c in columns], dtype=object)
        grid = resolve_sequences({view: np.arange(len(names))}, feature_names=names).get(view)
        if grid is not None:
            found[view] = grid.shape
    return found


def prepare_table(table, modalities, *, base_dir=None):
    """The table as the fitted model reads it: file paths made absolute, text cells as strings.

    File paths that are relative are taken relative to ``base_dir`` (the
    table's folder); missing text becomes the empty string (which
    :class:`~mmsk.extract.SentenceEmbedder` reads as a missing modality and
    TF-IDF as an empty document).

    Parameters
    ----------
    table : DataFrame
    modalities : mapping of str to str
        Column to modality, as from :func:`detect_modalities`.
    base_dir : str or path-like, default=None
        Folder that relative paths start from; None: the working directory.

    Returns
    -------
    table : DataFrame
        A copy with only the columns in ``modalities``.

    Raises
    ------
    KeyError
        When a column of ``modalities`` is not in the table.
    """
    absent = [c for c in modalities if c not in table.columns]
    if absent:
        raise KeyError(f"the table has no column(s) {absent}; it has {list(table.columns)}")
    out = table[list(modalities)].copy()
    for column, kind in modalities.items():
        if kind in FILE_MODALITIES:
            out[column] = out[column].map(lambda p: _absolute(p, base_dir)).astype(object)
        elif kind == "text":
            out[column] = out[column].map(lambda v: "" if _missing(v) else str(v)).astype(object)
    return out


def _missing(value):
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _absolute(path, base_dir):
    if _missing(path) or not str(path).strip():
        return None
    path = os.path.expanduser(str(path).strip())
    if not os.path.isabs(path) and base_dir is not None:
        path = os.path.join(os.fspath(base_dir), path)
    return os.path.normpath(path)
