"""The modality union: a thin layer over ColumnTransformer with view-prefixed names."""

from itertools import chain

from sklearn.compose import ColumnTransformer

from .._views import _check_view_name


class ModalityUnion(ColumnTransformer):
    """A ColumnTransformer whose views are modalities, for multimodal pipelines.

    Identical to :class:`~sklearn.compose.ColumnTransformer` with
    ``verbose_feature_names_out=True`` (output columns ``<view>__<feature>``),
    except that :meth:`set_output` also works when a view's transformer cannot
    produce pandas output itself (for example
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer`): that view's
    block is named by the union instead. Build it with
    :func:`make_modality_union`, which also sets pandas output so that the
    estimators after it find the views by name.

    Parameters
    ----------
    transformers : list of (view, transformer, columns) tuples
        As in ColumnTransformer; the names are the view names.
    remainder : {"drop", "passthrough"} or estimator, default="drop"
    sparse_threshold : float, default=0.0
    n_jobs : int, default=None
    transformer_weights : dict, default=None
    verbose : bool, default=False
    verbose_feature_names_out : bool, default=True
        Must stay True: the view prefix is how views are found downstream.

    Attributes
    ----------
    transformers_ : list
        The fitted transformers, as in ColumnTransformer.
    output_indices_ : dict of str to slice
        Output columns of each view.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mmsk.compose import ModalityUnion
    >>> union = ModalityUnion([("a", StandardScaler(), [0, 1]), ("b", "passthrough", [2])])
    >>> union.fit_transform(np.arange(12.0).reshape(4, 3)).shape
    (4, 3)
    """

    def __init__(
        self,
        transformers,
        *,
        remainder="drop",
        sparse_threshold=0.0,
        n_jobs=None,
        transformer_weights=None,
        verbose=False,
        verbose_feature_names_out=True,
    ):
        super().__init__(
            transformers,
            remainder=remainder,
            sparse_threshold=sparse_threshold,
            n_jobs=n_jobs,
            transformer_weights=transformer_weights,
            verbose=verbose,
            verbose_feature_names_out=verbose_feature_names_out,
        )

    @staticmethod
    def _check_table(X):
        """A union reads a table: 2-D, with rows and columns."""
        shape = getattr(X, "shape", None)
        if shape is None:
            return  # lists of dicts etc.: ColumnTransformer raises its own error
        if len(shape) != 2:
            raise ValueError(
                f"Expected a 2-D table (a DataFrame or a 2-D array), got an array of shape "
                f"{shape}. Reshape your data with X.reshape(-1, 1) for a single column."
            )
        if shape[0] == 0 or shape[1] == 0:
            raise ValueError(
                f"Found array with {shape[0]} sample(s) and {shape[1]} feature(s) (shape={shape}) "
                f"while a minimum of 1 is required of each."
            )

    def fit_transform(self, X, y=None, **params):
        """Fit every view's transformer and return the view-prefixed features.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,), default=None
        **params : dict
            Routed to the transformers, as in ColumnTransformer.

        Returns
        -------
        features : DataFrame or ndarray of shape (n_samples, n_features_out)
        """
        self._check_table(X)
        return super().fit_transform(X, y, **params)

    def transform(self, X, **params):
        """Return the view-prefixed features of X.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
        **params : dict
            Routed to the transformers, as in ColumnTransformer.

        Returns
        -------
        features : DataFrame or ndarray of shape (n_samples, n_features_out)
        """
        self._check_table(X)
        return super().transform(X, **params)

    def set_output(self, *, transform=None):
        """Set the output container of transform and fit_transform.

        Unlike ColumnTransformer, a view transformer without ``set_output``
        is left as it is; the union wraps its block (densified) under the
        view's names.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None

        Returns
        -------
        self : ModalityUnion
        """
        # ColumnTransformer's own container config (the mixin's set_output)
        super(ColumnTransformer, self).set_output(transform=transform)
        for trans in chain(
            (t for _, t, _ in self.transformers),
            (t for _, t, _ in getattr(self, "transformers_", [])),
            [self.remainder],
        ):
            if hasattr(trans, "set_output") and not isinstance(trans, str):
                trans.set_output(transform=transform)
        return self


def make_modality_union(
    *,
    remainder="drop",
    sparse_threshold=0.0,
    n_jobs=None,
    verbose=False,
    output="pandas",
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
    output : {"pandas", "default"}, default="pandas"
        Output container. With "pandas" the next estimator sees the
        ``<view>__<feature>`` names and finds the views (``views=None``).
        Transformers between the union and a multimodal estimator must keep
        the names too: put per-view scaling inside the view (``make_pipeline(
        AudioFeatures(), StandardScaler())``) or call
        ``set_output(transform="pandas")`` on the whole pipeline.
    **views : tuple of (columns, transformer)
        ``columns`` is what ColumnTransformer accepts: one column name (a
        transformer such as TfidfVectorizer then gets a 1-D column), a list of
        names, positions, or a callable such as
        :func:`~sklearn.compose.make_column_selector`. ``transformer`` is an
        estimator, ``"passthrough"`` or ``"drop"``.

    Returns
    -------
    union : ModalityUnion
        A ColumnTransformer with ``verbose_feature_names_out=True`` and, by
        default, pandas output; its fitted ``output_indices_`` gives each
        view's output columns.

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
    >>> union.fit_transform(table).columns.tolist()
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
    if output not in ("pandas", "default"):
        raise ValueError(f"output must be 'pandas' or 'default'; got {output!r}.")
    union = ModalityUnion(
        transformers,
        remainder=remainder,
        sparse_threshold=sparse_threshold,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    return union.set_output(transform=output)
