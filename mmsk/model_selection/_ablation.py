"""modality_ablation: cross-validated score with every view, each view alone, and each view left out."""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import cross_validate

from .._views import resolve_views


def ablation_settings(views):
    """The settings of a modality ablation: all views, each alone, and (from three views) each left out.

    Parameters
    ----------
    views : list of str
        The view names.

    Returns
    -------
    settings : list of (str, list of str)
        ``(label, views used)`` per setting.

    Examples
    --------
    >>> from mmsk.model_selection import ablation_settings
    >>> ablation_settings(["audio", "image"])
    [('all views', ['audio', 'image']), ('only audio', ['audio']), ('only image', ['image'])]
    """
    settings = [("all views", list(views))]
    settings += [(f"only {v}", [v]) for v in views]
    if len(views) > 2:
        settings += [(f"without {v}", [w for w in views if w != v]) for v in views]
    return settings


def modality_ablation(estimator, X, y=None, *, views=None, cv=5, scoring=None, groups=None, n_jobs=None):
    """How much each modality contributes: refit and score with each view alone and each view dropped.

    For every setting (all views; each view alone; all but one view, when
    there are three or more) the estimator is cloned and cross-validated on
    that setting's columns only.

    Parameters
    ----------
    estimator : estimator
        Must find its views from X's ``<view>__<feature>`` column names
        (``views=None``), since each setting hands it a subset of the columns.
    X : DataFrame or array-like of shape (n_samples, n_features)
    y : array-like, default=None
    views : mapping of str to columns, default=None
        The views to ablate; None reads them from the column names.
    cv : int, cross-validation generator or iterable, default=5
    scoring : str or callable, default=None
        The estimator's ``score`` when None.
    groups : array-like, default=None
        Passed to the splitter (e.g. speakers with GroupKFold).
    n_jobs : int, default=None

    Returns
    -------
    table : DataFrame
        One row per setting: ``setting`` ("all views", "only <view>",
        "without <view>"), ``views`` (the views used), ``mean_score``,
        ``std_score``, and ``delta`` (mean score minus that of all views).

    Examples
    --------
    >>> from mmsk.datasets import make_multimodal_classification
    >>> from mmsk.fusion import LateFusionClassifier
    >>> from mmsk.model_selection import modality_ablation
    >>> X, y = make_multimodal_classification(n_samples=200, n_views=3, random_state=0)
    >>> table = modality_ablation(LateFusionClassifier(), X, y, cv=3)
    >>> table["setting"].tolist()
    ['all views', 'only view0', 'only view1', 'only view2', 'without view0', 'without view1', 'without view2']
    """
    import pandas as pd

    names = np.asarray(X.columns, dtype=object) if hasattr(X, "columns") else None
    n_features = X.shape[1]
    view_indices = resolve_views(views, n_features=n_features, feature_names=names, X=X, min_views=2)
    rows = []
    for label, used in ablation_settings(list(view_indices)):
        cols = np.sort(np.unique(np.concatenate([view_indices[v] for v in used])))
        X_sub = X.iloc[:, cols] if hasattr(X, "iloc") else np.asarray(X)[:, cols]
        scores = cross_validate(
            clone(estimator),
            X_sub,
            y,
            groups=groups,
            cv=cv,
            scoring=scoring,
            n_jobs=n_jobs,
            error_score="raise",
        )["test_score"]
        rows.append(
            {"setting": label, "views": tuple(used), "mean_score": scores.mean(), "std_score": scores.std()}
        )
    table = pd.DataFrame(rows)
    table["delta"] = table["mean_score"] - table["mean_score"].iloc[0]
    return table
