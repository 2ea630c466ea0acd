"""fusion_leaderboard: a fitted search's candidates as one tidy table, strategy by strategy."""

import numpy as np


def _is_estimator(value):
    return hasattr(value, "fit") and hasattr(value, "get_params")


def _describe(value):
    """A short name for a strategy: the estimator's class, or a Pipeline's steps joined by arrows."""
    if hasattr(value, "steps"):
        return " -> ".join(_describe(step) for _, step in value.steps if step not in (None, "passthrough"))
    return type(value).__name__


def fusion_leaderboard(search, *, strategy_param=None):
    """A fitted GridSearchCV (or RandomizedSearchCV) over fusion strategies, as a tidy DataFrame.

    One row per candidate: which strategy it is, its other parameters, its
    mean and standard deviation of the test score over the folds, its mean
    fit time and its rank, best first.

    Parameters
    ----------
    search : fitted GridSearchCV, RandomizedSearchCV or StrategySearchCV
        A StrategySearchCV names each candidate's strategy itself. Otherwise
        typically a grid whose entries put different estimators (early, late,
        MKL, CCA + classifier, deep fusion, ...) on one Pipeline step, e.g.
        ``[{"model": [EarlyFusionClassifier()], "model__scale": [...]},
        {"model": [MKLClassifier()], "model__C": [...]}]``.
    strategy_param : str or None, default=None
        The parameter that names the strategy. None: the first parameter
        whose values are estimators (their class names, or a Pipeline's step
        names, become the strategy); if no parameter holds estimators, give
        one such as ``"fusionclassifier__fusion"``, whose values are used.

    Returns
    -------
    leaderboard : DataFrame
        Columns ``strategy``, ``params`` (the other parameters, without the
        strategy step's prefix), ``mean_score``, ``std_score``,
        ``mean_fit_time`` (seconds), ``rank`` (with several scorers, the
        refit scorer's) and ``candidate`` (the candidate's position in the
        search's ``cv_results_``).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import Pipeline
    >>> from mmsk.datasets import make_multimodal_classification
    >>> from mmsk.fusion import EarlyFusionClassifier, LateFusionClassifier
    >>> from mmsk.model_selection import fusion_leaderboard
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> grid = [
    ...     {"model": [EarlyFusionClassifier()], "model__scale": ["block", "standard"]},
    ...     {"model": [LateFusionClassifier()], "model__voting": ["soft", "hard"]},
    ... ]
    >>> search = GridSearchCV(Pipeline([("model", EarlyFusionClassifier())]), grid, cv=3).fit(X, y)
    >>> board = fusion_leaderboard(search)
    >>> list(board.columns)
    ['strategy', 'params', 'mean_score', 'std_score', 'mean_fit_time', 'rank', 'candidate']
    >>> sorted(set(board["strategy"]))
    ['EarlyFusionClassifier', 'LateFusionClassifier']
    """
    import pandas as pd

    results = getattr(search, "cv_results_", None)
    if results is None:
        raise ValueError(
            f"{type(search).__name__} is not fitted (it has no cv_results_); fit the search first."
        )
    params = results["params"]
    if strategy_param is None and "strategy" in results:  # a StrategySearchCV names each candidate's strategy
        params = [{"strategy": name, **p} for name, p in zip(results["strategy"], params)]
        strategy_param = "strategy"
    if strategy_param is None:
        keys = sorted(
            {k for p in params for k, v in p.items() if _is_estimator(v)}, key=lambda k: k.count("__")
        )
        if not keys:
            raise ValueError(
                "No searched parameter holds estimators, so the strategy cannot be read off the grid; pass "
                f"strategy_param= (one of {sorted({k for p in params for k in p})})."
            )
        strategy_param = keys[0]
    elif not any(strategy_param in p for p in params):
        raise ValueError(
            f"strategy_param {strategy_param!r} is not a searched parameter; the grid has "
            f"{sorted({k for p in params for k in p})}."
        )
    refit = search.refit if isinstance(search.refit, str) else "score"
    suffix = refit if f"mean_test_{refit}" in results else "score"
    prefix = strategy_param + "__"
    rows = []
    for j, p in enumerate(params):
        value = p.get(strategy_param, "(default)")
        strategy = _describe(value) if _is_estimator(value) else str(value)
        rest = {
            (k[len(prefix) :] if k.startswith(prefix) else k): v for k, v in p.items() if k != strategy_param
        }
        rows.append(
            {
                "strategy": strategy,
                "params": ", ".join(
                    f"{k}={_describe(v) if _is_estimator(v) else v!r}" for k, v in rest.items()
                ),
                "mean_score": float(results[f"mean_test_{suffix}"][j]),
                "std_score": float(results[f"std_test_{suffix}"][j]),
                "mean_fit_time": float(results["mean_fit_time"][j]),
                "rank": int(results[f"rank_test_{suffix}"][j]),
                "candidate": j,
            }
        )
    board = pd.DataFrame(rows).sort_values(["rank", "mean_fit_time"], kind="stable").reset_index(drop=True)
    board["mean_score"] = board["mean_score"].astype(np.float64)
    return board
