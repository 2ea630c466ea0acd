"""A synthetic multimodal classification generator with known latent structure."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._views import view_feature_names


def _per_view(value, n_views, name, kind=float):
    if isinstance(value, numbers.Number):
        return [kind(value)] * n_views
    value = list(value)
    if len(value) != n_views:
        raise ValueError(f"{name} must be a scalar or have one entry per view ({n_views}); got {value}.")
    return [kind(v) for v in value]


def make_multimodal_classification(
    n_samples=500,
    *,
    n_views=2,
    n_features=20,
    n_classes=2,
    n_shared=2,
    n_private=2,
    class_sep=1.0,
    noise=1.0,
    missing_rate=0.0,
    view_names=None,
    as_frame=True,
    return_latent=False,
    random_state=None,
):
    """Generate a multiview classification problem with shared and private factors.

    Each sample has a class; the class moves the mean of ``n_shared`` latent
    factors seen by every view and of ``n_private`` factors seen by one view
    only. Each view is a random linear map of its latent factors (shared and
    its own private ones) to ``n_features`` columns plus Gaussian noise. A
    view therefore carries part of the class signal alone, and fusing the views
    recovers more of it.

    Parameters
    ----------
    n_samples : int, default=500
    n_views : int, default=2
    n_features : int or list of int, default=20
        Columns per view (scalar or one per view).
    n_classes : int, default=2
    n_shared : int, default=2
        Latent factors common to all views.
    n_private : int, default=2
        Latent factors of each single view.
    class_sep : float, default=1.0
        Distance scale between class means in latent space.
    noise : float or list of float, default=1.0
        Standard deviation of the observation noise of each view.
    missing_rate : float or list of float, default=0.0
        Fraction of rows whose view is missing (set all-NaN); a row never
        loses every view.
    view_names : list of str, default=None
        Defaults to ``view0``, ``view1``, ...
    as_frame : bool, default=True
        Return X as a DataFrame with ``<view>__<i>`` columns; otherwise an
        ndarray and the views as a dict of column positions.
    return_latent : bool, default=False
        Also return the latent factors.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : DataFrame or ndarray of shape (n_samples, sum of n_features)
    y : ndarray of shape (n_samples,)
    views : dict of str to ndarray of int, only when ``as_frame=False``
    latent : dict, only when ``return_latent=True``
        ``shared`` (n_samples, n_shared) and ``private`` {view: (n_samples,
        n_private)}.

    Examples
    --------
    >>> from mmsk.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=100, n_features=[5, 3], random_state=0)
    >>> list(X.columns[:2]), list(X.columns[-1:])
    (['view0__0', 'view0__1'], ['view1__2'])
    """
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("n_views", n_views, 1),
        ("n_classes", n_classes, 2),
        ("n_shared", n_shared, 0),
        ("n_private", n_private, 0),
    ):
        if not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    if n_shared + n_private == 0:
        raise ValueError("n_shared + n_private must be positive: the views need a latent factor.")
    widths = _per_view(n_features, n_views, "n_features", int)
    if min(widths) < 1:
        raise ValueError(f"n_features must be >= 1 per view; got {widths}.")
    noises = _per_view(noise, n_views, "noise")
    rates = _per_view(missing_rate, n_views, "missing_rate")
    if any(not 0 <= r < 1 for r in rates):
        raise ValueError(f"missing_rate must be in [0, 1) per view; got {rates}.")
    names = [f"view{i}" for i in range(n_views)] if view_names is None else list(view_names)
    if len(names) != n_views or len(set(names)) != n_views:
        raise ValueError(f"view_names must be {n_views} distinct names; got {names}.")

    rng = check_random_state(random_state)
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)

    def class_factors(k):
        centres = rng.normal(scale=class_sep, size=(n_classes, k))
        return centres[y] + rng.normal(size=(n_samples, k))

    shared = class_factors(n_shared)
    blocks, private = [], {}
    for name, width, sigma in zip(names, widths, noises):
        private[name] = class_factors(n_private)
        latent = np.hstack([shared, private[name]])
        loading = rng.normal(size=(latent.shape[1], width)) / np.sqrt(latent.shape[1])
        blocks.append(latent @ loading + sigma * rng.normal(size=(n_samples, width)))
    X = np.hstack(blocks)

    offsets = np.cumsum([0] + widths)
    views = {n: np.arange(offsets[i], offsets[i + 1]) for i, n in enumerate(names)}
    if any(rates):
        missing = np.column_stack([rng.uniform(size=n_samples) < r for r in rates])
        everything = missing.all(axis=1)
        # keep one random view for rows that would lose them all
        keep = rng.randint(n_views, size=n_samples)
        missing[everything, keep[everything]] = False
        for j, name in enumerate(names):
            X[np.ix_(missing[:, j], views[name])] = np.nan

    if as_frame:
        columns = np.concatenate([view_feature_names(n, range(w)) for n, w in zip(names, widths)])
        out = [pd.DataFrame(X, columns=columns), y]
    else:
        out = [X, y, views]
    if return_latent:
        out.append({"shared": shared, "private": private})
    return tuple(out)


def make_event_timing(
    n_samples=2000,
    *,
    n_steps=20,
    n_features=8,
    amplitude=4.0,
    noise=1.0,
    random_state=None,
):
    """Two sequence views whose label is whether their events happen at the same time.

    Each row has two views, ``a`` and ``b``, each ``n_steps`` steps of
    ``n_features`` features of Gaussian noise. Each view has one event, a
    fixed pattern of its own (norm ``amplitude``) added at two steps placed
    symmetrically about the middle, ``o`` steps in from it (``o`` from 1 to
    ``n_steps // 2 - 1``, never the first or last step). The label is 1 when
    the two views have the same ``o``, so their events coincide, and 0
    otherwise; the classes are balanced.

    Every statistic over time of a view (mean, spread, extremes, quantiles,
    first and last step, and the slope, since the two steps are symmetric
    about the middle) has the same distribution whatever its ``o``, so
    pooled statistics score at chance, however they are combined. A model
    that reads both views step by step sees the events coincide.

    Parameters
    ----------
    n_samples : int, default=2000
    n_steps : int, default=20
        Steps T of each view, at least 6.
    n_features : int, default=8
        Features d of each step.
    amplitude : float, default=4.0
        Norm of each view's event pattern.
    noise : float, default=1.0
        Standard deviation of the background.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, 2 * n_steps * n_features)
        Sequence views ``a__t{t:02d}_f{j}`` and ``b__t{t:02d}_f{j}``.
    y : pandas.Series of shape (n_samples,)
        1 when the events coincide.

    Examples
    --------
    >>> from mmsk import sequence_arrays
    >>> from mmsk.datasets import make_event_timing
    >>> X, y = make_event_timing(100, n_steps=10, n_features=3, random_state=0)
    >>> sequence_arrays(X)["a"].shape, float(y.mean())
    ((100, 10, 3), 0.5)
    """
    from .._views import sequence_frame

    if n_steps < 6:
        raise ValueError(
            f"n_steps must be at least 6 (events away from the first and last step); got {n_steps}."
        )
    rng = check_random_state(random_state)
    offsets = np.arange(1, n_steps // 2)
    y = rng.permutation(np.arange(n_samples) % 2)
    o_a = rng.choice(offsets, n_samples)
    shift = rng.randint(1, len(offsets), n_samples)  # another offset, uniformly
    o_b = np.where(y == 1, o_a, offsets[(np.searchsorted(offsets, o_a) + shift) % len(offsets)])
    rows = np.arange(n_samples)
    views = {}
    for view, offset in (("a", o_a), ("b", o_b)):
        pattern = rng.normal(size=n_features)
        pattern *= amplitude / np.linalg.norm(pattern)
        values = rng.normal(scale=noise, size=(n_samples, n_steps, n_features))
        middle = n_steps // 2
        values[rows, middle - offset] += pattern
        values[rows, n_steps - 1 - middle + offset] += pattern
        views[view] = values
    return sequence_frame(views), pd.Series(y, name="coincide")
