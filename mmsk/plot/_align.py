"""Plots of the CCA family: the correlation spectrum and a pair of canonical variates."""

import numpy as np
from sklearn.utils.validation import check_is_fitted


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.5))
    return ax


def plot_canonical_correlations(estimator, *, X=None, ax=None, label=None):
    """Bar chart of the canonical correlations of a fitted CCA, GCCA or KernelCCA.

    Parameters
    ----------
    estimator : CCA, GCCA or KernelCCA
        Fitted; a Pipeline ending in one is accepted too (with ``X`` it is
        evaluated after the earlier steps).
    X : array-like, default=None
        Held-out data: plot the correlations of its variates next to the
        training ones.
    ax : matplotlib Axes, default=None
    label : str, default=None
        Title; by default the estimator's class name.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from mmsk.align import CCA
    >>> from mmsk.plot import plot_canonical_correlations
    >>> X = np.random.default_rng(0).normal(size=(100, 6))
    >>> cca = CCA(views={"a": [0, 1, 2], "b": [3, 4, 5]}, n_components=3).fit(X)
    >>> len(plot_canonical_correlations(cca).patches)
    3
    """
    est, Xt = _last_step(estimator, X)
    check_is_fitted(est, "canonical_correlations_")
    ax = _axes(ax)
    k = len(est.canonical_correlations_)
    pos = np.arange(k)
    width = 0.4 if Xt is not None else 0.8
    ax.bar(pos - (width / 2 if Xt is not None else 0), est.canonical_correlations_, width, label="training")
    if Xt is not None:
        ax.bar(pos + width / 2, _held_out(est, Xt), width, label="held out")
        ax.legend(loc="lower left")
    ax.set_xticks(pos, [str(j) for j in pos])
    ax.set_xlabel("component")
    ax.set_ylabel("canonical correlation")
    ax.set_ylim(0, 1.05)
    ax.set_title(label or f"{type(est).__name__}: {' vs '.join(est.view_indices_)}")
    return ax


def plot_canonical_variates(estimator, X, y=None, *, component=0, views=None, ax=None):
    """Scatter of one canonical variate of two views against each other, coloured by a label.

    Parameters
    ----------
    estimator : CCA, GCCA or KernelCCA (or a Pipeline ending in one)
        Fitted.
    X : array-like
        Data to project (rows with either view missing are left out).
    y : array-like, default=None
        Colours the points (a legend for up to 20 classes).
    component : int, default=0
    views : tuple of two str, default=None
        Which views; by default the first two.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    est, Xt = _last_step(estimator, X)
    check_is_fitted(est, "weights_")
    names = list(est.view_indices_)
    va, vb = views if views is not None else names[:2]
    variates = _variates(est, Xt)
    a, b = variates[va][:, component], variates[vb][:, component]
    keep = ~(np.isnan(a) | np.isnan(b))
    ax = _axes(ax)
    if y is None:
        ax.scatter(a[keep], b[keep], s=8, alpha=0.6)
    else:
        y = np.asarray(y)[keep]
        classes = np.unique(y)
        for i, c in enumerate(classes):
            sel = y == c
            ax.scatter(a[keep][sel], b[keep][sel], s=8, alpha=0.6, color=f"C{i % 10}", label=str(c))
        if len(classes) <= 20:
            ax.legend(fontsize="small", markerscale=2, ncols=2 if len(classes) > 6 else 1)
    r = np.corrcoef(a[keep], b[keep])[0, 1]
    ax.set_xlabel(f"{va} variate {component}")
    ax.set_ylabel(f"{vb} variate {component}")
    ax.set_title(f"canonical variates {component}: r = {r:.3f}")
    return ax


def _last_step(estimator, X):
    """The aligner at the end of a Pipeline, and X passed through the steps before it."""
    if hasattr(estimator, "steps"):
        if X is not None:
            X = estimator[:-1].transform(X)
        return estimator.steps[-1][1], X
    return estimator, X


def _variates(est, X):
    X, _, masks = est._complete_rows(X, reset=False)
    return est._variates(X, masks)


def _held_out(est, X):
    v = list(_variates(est, X).values())
    keep = ~np.logical_or.reduce([np.isnan(x[:, 0]) for x in v])
    pairs = [
        [np.corrcoef(v[i][keep, j], v[k][keep, j])[0, 1] for j in range(v[0].shape[1])]
        for i in range(len(v))
        for k in range(i + 1, len(v))
    ]
    return np.mean(pairs, axis=0)
