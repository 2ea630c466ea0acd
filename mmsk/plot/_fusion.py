"""Plot of per-modality weights of a fitted fusion network."""


def plot_modality_weights(estimator, X, y=None, *, ax=None):
    """Mean weight of each view over the rows of X (per class when y is given), as bars.

    Parameters
    ----------
    estimator : FusionClassifier (or a Pipeline ending in one)
        Fitted, with ``fusion`` in attention, gated, late or hybrid.
    X : array-like
        Rows to explain (passed through the Pipeline's earlier steps).
    y : array-like, default=None
        Groups the rows: one group of bars per class.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from mmsk.fusion import FusionClassifier
    >>> from mmsk.plot import plot_modality_weights
    >>> X, y = load_iris(return_X_y=True)
    >>> net = FusionClassifier({"sepal": [0, 1], "petal": [2, 3]}, fusion="attention",
    ...                        max_epochs=5, random_state=0).fit(X, y)
    >>> len(plot_modality_weights(net, X, y).patches)
    6
    """
    import pandas as pd

    if hasattr(estimator, "steps"):
        X = estimator[:-1].transform(X)
        estimator = estimator.steps[-1][1]
    weights = estimator.modality_weights(X)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 3.5))
    if y is None:
        weights.mean().plot.bar(ax=ax, color="C0")
    else:
        weights.groupby(pd.Series(list(y), index=weights.index, name="class")).mean().plot.bar(ax=ax)
        ax.legend(title="view")
    ax.set_ylabel("mean modality weight")
    ax.set_ylim(0, 1)
    ax.set_title(f"{type(estimator).__name__} ({estimator.fusion})")
    return ax
