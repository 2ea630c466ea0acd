"""Cross-modal retrieval metrics: ranks of the true partners, recall@K, MRR, and scorers.

Retrieval is scored on paired rows: row i's first view should retrieve row i's
second view. ``groups`` (y in a scorer) says which rows belong together, e.g.
the five captions of one image: every gallery row of the query's group counts
as a hit, and a query or gallery item repeated within a group (the same image
on five rows) is counted once.
"""

import re

import numpy as np

from .._views import resolve_views


def _unique_per_group(E, groups):
    """Row indices to keep: the first row of each group if the group's rows are identical, else all."""
    keep = []
    for g in dict.fromkeys(groups.tolist()):
        rows = np.flatnonzero(groups == g)
        same = np.allclose(E[rows], E[rows[0]], equal_nan=True)
        keep.extend(rows[:1] if same else rows)
    return np.asarray(sorted(keep))


def retrieval_ranks(query, gallery, groups=None):
    """Rank (1 = best) of the first correct gallery item for each query, by cosine similarity.

    Parameters
    ----------
    query : array-like of shape (n_samples, n_dims)
        Embeddings of the query view, one per row.
    gallery : array-like of shape (n_samples, n_dims)
        Embeddings of the other view, row-aligned with ``query``.
    groups : array-like of shape (n_samples,) or None, default=None
        Rows with equal group are each other's matches; None: row i matches
        only row i. Queries and gallery items that repeat within a group are
        counted once.

    Returns
    -------
    ranks : ndarray of int
        One rank per distinct query.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.metrics import retrieval_ranks
    >>> q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> g = np.array([[0.9, 0.1], [1.0, 0.2], [0.5, 0.5]])
    >>> retrieval_ranks(q, g).tolist()
    [1, 2, 1]
    """
    query = np.asarray(query, dtype=np.float64)
    gallery = np.asarray(gallery, dtype=np.float64)
    if query.ndim != 2 or gallery.ndim != 2 or len(query) != len(gallery):
        raise ValueError(
            f"query and gallery must be 2-D with the same rows; got shapes {query.shape} and {gallery.shape}."
        )
    if query.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"query and gallery embeddings must have the same width; got {query.shape[1]} and "
            f"{gallery.shape[1]}."
        )
    ok = np.isfinite(query).all(axis=1) & np.isfinite(gallery).all(axis=1)
    if not ok.all():
        raise ValueError(
            f"{int((~ok).sum())} row(s) have a missing or non-finite embedding (first: row "
            f"{int(np.flatnonzero(~ok)[0])}); retrieval needs both views on every row."
        )
    groups = np.arange(len(query)) if groups is None else np.asarray(groups)
    if groups.shape != (len(query),):
        raise ValueError(f"groups must have one entry per row ({len(query)}); got shape {groups.shape}.")
    qi, gi = _unique_per_group(query, groups), _unique_per_group(gallery, groups)

    def unit(E):
        norm = np.linalg.norm(E, axis=1, keepdims=True)
        return E / np.where(norm > 0, norm, 1.0)

    sim = unit(query[qi]) @ unit(gallery[gi]).T
    hit = groups[qi][:, None] == groups[gi][None, :]
    best_hit = np.where(hit, sim, -np.inf).max(axis=1)
    # ties count against the query: a constant embedding cannot score well
    return 1 + np.sum(~hit & (sim >= best_hit[:, None]), axis=1)


def recall_at_k(query, gallery, groups=None, k=5):
    """Fraction of queries whose match is among the ``k`` most similar gallery items.

    Parameters
    ----------
    query, gallery : array-like of shape (n_samples, n_dims)
    groups : array-like of shape (n_samples,) or None, default=None
        See :func:`retrieval_ranks`.
    k : int, default=5

    Returns
    -------
    recall : float

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.metrics import recall_at_k
    >>> E = np.eye(4)
    >>> recall_at_k(E, E, k=1)
    1.0
    """
    return float(np.mean(retrieval_ranks(query, gallery, groups) <= k))


def mean_reciprocal_rank(query, gallery, groups=None):
    """Mean of 1 / rank of the first match (1 is perfect).

    Parameters
    ----------
    query, gallery : array-like of shape (n_samples, n_dims)
    groups : array-like of shape (n_samples,) or None, default=None
        See :func:`retrieval_ranks`.

    Returns
    -------
    mrr : float

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.metrics import mean_reciprocal_rank
    >>> mean_reciprocal_rank(np.eye(3), np.eye(3)[[0, 2, 1]])
    0.5555555555555555
    """
    return float(np.mean(1.0 / retrieval_ranks(query, gallery, groups)))


def view_embeddings(estimator, X):
    """A fitted cross-modal model's embeddings of X, per view: ``{view: array}``.

    Uses ``estimator.transform(X)`` and groups its output columns by their
    ``<view>__`` prefix, so it works for any estimator (or Pipeline) that maps
    each view into a shared space: :class:`~mmsk.fusion.ContrastiveDualEncoder`,
    :class:`~mmsk.align.CCA` and the other aligners with ``output="views"``.

    Parameters
    ----------
    estimator : fitted estimator with ``transform`` and ``get_feature_names_out``
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    embeddings : dict of str to ndarray
    """
    Z = estimator.transform(X)
    names = np.asarray(estimator.get_feature_names_out(), dtype=str)
    Z = np.asarray(Z, dtype=np.float64)
    try:
        views = resolve_views(None, n_features=len(names), feature_names=names)
    except ValueError as exc:
        raise ValueError(
            f"{type(estimator).__name__}'s output columns are not all '<view>__' blocks; retrieval needs "
            f"one embedding block per view (e.g. output='views'). {exc}"
        ) from None
    return {v: Z[:, cols] for v, cols in views.items()}


_METRIC = re.compile(r"^(recall@(?P<k>[1-9][0-9]*)|mrr)$")


def make_retrieval_scorer(metric="recall@5", query_view=None, gallery_view=None):
    """A scorer ``scorer(estimator, X, y=None)`` for cross-modal retrieval, for GridSearchCV.

    The estimator embeds X's rows per view (see :func:`view_embeddings`);
    each row's ``query_view`` embedding retrieves among the ``gallery_view``
    embeddings of the same rows; y, when given, holds the groups (rows with
    equal y match each other, e.g. an image's captions).

    Parameters
    ----------
    metric : str, default="recall@5"
        ``"recall@K"`` for any K >= 1, or ``"mrr"``.
    query_view, gallery_view : str or None, default=None
        The views; None: the first and the second view of the output.

    Returns
    -------
    scorer : callable

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.align import CCA
    >>> from mmsk.metrics import make_retrieval_scorer
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(200, 2))
    >>> X = np.hstack([Z @ rng.normal(size=(2, 4)), Z @ rng.normal(size=(2, 3))])
    >>> X += 0.05 * rng.normal(size=X.shape)
    >>> cca = CCA({"a": range(4), "b": range(4, 7)}, n_components=2).fit(X)
    >>> bool(make_retrieval_scorer("recall@5")(cca, X) > 0.5)
    True
    """
    match = _METRIC.match(metric)
    if match is None:
        raise ValueError(f"metric must be 'recall@K' (K >= 1) or 'mrr'; got {metric!r}.")
    k = int(match["k"]) if match["k"] else None

    def scorer(estimator, X, y=None):
        emb = view_embeddings(estimator, X)
        names = list(emb)
        if len(names) < 2:
            raise ValueError(f"retrieval needs two embedded views; the estimator's output has {names}.")
        q = names[0] if query_view is None else query_view
        g = (names[1] if q == names[0] else names[0]) if gallery_view is None else gallery_view
        for v in (q, g):
            if v not in emb:
                raise ValueError(f"view {v!r} is not in the estimator's output views {names}.")
        if k is None:
            return mean_reciprocal_rank(emb[q], emb[g], y)
        return recall_at_k(emb[q], emb[g], y, k=k)

    scorer.__name__ = f"retrieval_{metric}"
    return scorer
