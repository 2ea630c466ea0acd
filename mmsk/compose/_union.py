"""The modality union: a thin layer over ColumnTransformer with view-prefixed names."""

from sklearn.compose import ColumnTransformer

from .._views import _check_view_name


def make_modality_union(
    *,
    remainder="drop",
    sparse_threshold=0.0,
    n_jobs=None,
    verbose=False,
    **views,
):
    """Build the feature stage of a multimodal pipeline from a table.

    Each keyword names a view (a modality) and gives ``(columns, transformer)``:
    the raw column(s) of the table and the transformer that turns them into
    that view's features. The result is a plain
    :class:`~sklearn.compose.ColumnTransformer` whose output columns are always
    named ``<view>__<feature>``, which is how every mmsk estimator after it
    finds the views (``views=None``).

    Parameters
    ----------
    remainder : {"drop", "passthrough"} or estimator, default="drop"
        What to do with the table's other columns; kept columns form a view
        named ``"remainder"``.
    sparse_threshold : float, default=0.0
        As in ColumnTransformer. The default gives a dense array, which the
        missing-modality masks (all-NaN rows of a view) rely on.
    n_jobs : int, default=None
        Fit the views' transformers in parallel.
    verbose : bool, default=False
        Print the time each view's transformer takes.
    **views : tuple of (columns, transformer)
        ``columns`` is what ColumnTransformer accepts: one column name (a
        transformer such as TfidfVectorizer then gets a 1-D column), a list of
        names, positions, or a callable such as
        :func:`~sklearn.compose.make_column_selector`. ``transformer`` is an
        estimator, ``"passthrough"`` or ``"drop"``.

    Returns
    -------
    union : ColumnTransformer
        With ``verbose_feature_names_out=True``; its fitted ``output_indices_``
        gives each view's output columns.

    See Also
    --------
    mmsk.resolve_views : how estimators find the views in the output names.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mmsk import make_modality_union
    >>> table = pd.DataFrame({"review": ["good tea", "bad tea", "good cake"],
    ...                       "age": [31.0, 45.0, 27.0], "price": [3.0, 2.5, 4.0]})
    >>> union = make_modality_union(text=("review", TfidfVectorizer()),
    ...                             numeric=(["age", "price"], StandardScaler()))
    >>> union.fit(table).get_feature_names_out().tolist()
    ['text__bad', 'text__cake', 'text__good', 'text__tea', 'numeric__age', 'numeric__price']
    """
    if not views:
        raise ValueError(
            "make_modality_union needs at least one view, e.g. "
            "make_modality_union(text=('review', TfidfVectorizer()))."
        )
    transformers = []
    for view, spec in views.items():
        _check_view_name(view)
        if not isinstance(spec, tuple) or len(spec) != 2:
            raise TypeError(
                f"View {view!r}: expected a (columns, transformer) tuple, e.g. "
                f"{view}=('review', TfidfVectorizer()); got {spec!r}."
            )
        columns, transformer = spec
        if isinstance(transformer, str) and transformer not in ("passthrough", "drop"):
            raise ValueError(
                f"View {view!r}: the transformer must be an estimator, 'passthrough' or 'drop'; "
                f"got {transformer!r}. Did you swap columns and transformer? The order is "
                f"(columns, transformer)."
            )
        transformers.append((view, transformer, columns))
    if "remainder" in views and remainder != "drop":
        raise ValueError(
            "A view named 'remainder' clashes with remainder columns kept by remainder="
            f"{remainder!r}; rename the view."
        )
    # verbose_feature_names_out=True is what guarantees '<view>__<feature>' names.
    return ColumnTransformer(
        transformers,
        remainder=remainder,
        sparse_threshold=sparse_threshold,
        n_jobs=n_jobs,
        verbose=verbose,
        verbose_feature_names_out=True,
    )
