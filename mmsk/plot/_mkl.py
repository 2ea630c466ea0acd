"""Plot of the kernel weights of a fitted MKL estimator."""

from sklearn.utils.validation import check_is_fitted


def plot_kernel_weights(estimator, *, ax=None):
    """Horizontal bars of ``kernel_weights_`` (one per view and kernel), largest on top.

    Parameters
    ----------
    estimator : MKLClassifier or MKLRegressor (or a Pipeline ending in one)
        Fitted.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from mmsk.mkl import MKLClassifier
    >>> from mmsk.plot import plot_kernel_weights
    >>> X, y = load_iris(return_X_y=True)
    >>> mkl = MKLClassifier(views={"sepal": [0, 1], "petal": [2, 3]}).fit(X, y)
    >>> [t.get_text() for t in plot_kernel_weights(mkl).get_yticklabels()]
    ['sepal:rbf', 'petal:rbf']
    """
    est = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    check_is_fitted(est, "kernel_weights_")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 0.4 * len(est.kernel_weights_) + 1.2))
    items = sorted(est.kernel_weights_.items(), key=lambda kv: kv[1])
    ax.barh([k for k, _ in items], [v for _, v in items], color="C0")
    ax.set_xlabel("kernel weight")
    ax.set_xlim(0, max(1e-9, max(v for _, v in items)) * 1.1)
    ax.set_title(f"{type(est).__name__} ({est.method})")
    return ax
