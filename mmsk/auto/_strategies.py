"""The candidates ``mmsk fit`` compares, each under its name, simplest first.

Every search has a baseline (a dummy model) and one candidate per modality alone
next to the fusion strategies, so a fused model has to beat both to be chosen.
"""

import re

import numpy as np

#: Fusion strategies by task, from the simplest to the most flexible.
CLASSIFICATION_STRATEGIES = ("early", "late", "stacking", "cca", "mkl", "deep")
REGRESSION_STRATEGIES = ("early", "cca", "mkl", "deep")
#: The comparison rows every search has, whatever the strategies asked for.
BASELINE = "baseline"
SINGLE_PREFIX = "only "


def resolve_strategies(task, strategies, n_views):
    """The fusion strategies to search: those asked for, checked, or every one that applies."""
    known = CLASSIFICATION_STRATEGIES if task == "classification" else REGRESSION_STRATEGIES
    if strategies is None:
        return [s for s in known if s != "cca" or n_views >= 2]
    unknown = [s for s in strategies if s not in known]
    if unknown:
        raise ValueError(f"unknown strategy {unknown} for {task}; choose among {list(known)}")
    if "cca" in strategies and n_views < 2:
        raise ValueError("the 'cca' strategy needs two views or more; this table has one")
    return [s for s in known if s in strategies]


def _one_view(view, model):
    """``model`` on one view's columns; a row without the view gets the column means and a flag."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    select = ColumnTransformer(
        [(view, "passthrough", make_column_selector(pattern=f"^{re.escape(view)}__"))],
        verbose_feature_names_out=False,
    )
    return make_pipeline(select, SimpleImputer(strategy="mean", add_indicator=True), model)


def strategy_grid(
    task, strategies=None, *, views=("a", "b"), max_epochs=60, early_stopping=False, random_state=0
):
    """The named candidates of a search over fusion strategies, for a Pipeline step ``model``.

    Parameters
    ----------
    task : {"classification", "regression"}
    strategies : sequence of str, default=None
        Fusion strategies among ``"early"``, ``"late"``, ``"stacking"``,
        ``"cca"``, ``"mkl"``, ``"deep"`` (late and stacking: classification
        only); None: all that apply. ``"cca"`` needs two views or more.
    views : sequence of str, default=("a", "b")
        The views of the feature stage (``<view>__<feature>`` columns).
    max_epochs : int, default=60
        Epochs of the deep fusion networks.
    early_stopping : bool, default=False
        The deep networks stop when their held-out 10% of the training rows
        stops improving (for large tables: on small ones that 10% is too
        few rows to judge by).
    random_state : int, default=0

    Returns
    -------
    grid : dict of str to dict
        Strategy name to its GridSearchCV grid entry (``{"model":
        [estimator], "model__...": [...]}``), simplest first:
        ``"baseline"`` (predicts the class prior or the mean), ``"only
        <view>"`` for each view (a linear model on that view alone), then
        the fusion strategies. Every classifier has ``predict_proba``.

    Examples
    --------
    >>> from mmsk.auto import strategy_grid
    >>> grid = strategy_grid("regression", ["early", "mkl"], views=["audio", "image"])
    >>> list(grid)
    ['baseline', 'only audio', 'only image', 'early', 'mkl']
    >>> type(grid["mkl"]["model"][0]).__name__
    'MKLRegressor'
    """
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import make_pipeline

    from ..align import GCCA
    from ..fusion import (
        EarlyFusionClassifier,
        EarlyFusionRegressor,
        FusionClassifier,
        FusionRegressor,
        LateFusionClassifier,
    )
    from ..mkl import MKLClassifier, MKLRegressor

    views = list(views)
    fusion = resolve_strategies(task, strategies, len(views))
    classify = task == "classification"

    def linear():
        return LogisticRegression(max_iter=3000) if classify else RidgeCV(alphas=np.logspace(-3, 3, 13))

    c_grid = [0.05, 0.5]
    grid = {BASELINE: {"model": [DummyClassifier(strategy="prior") if classify else DummyRegressor()]}}
    for view in views:
        single = {"model": [_one_view(view, linear())]}
        if classify:
            single["model__logisticregression__C"] = c_grid
        grid[SINGLE_PREFIX + view] = single
    entries = {
        "early": (
            {
                "model": [EarlyFusionClassifier(linear())],
                "model__scale": ["standard", "block"],
                "model__estimator__C": c_grid,
            }
            if classify
            else {"model": [EarlyFusionRegressor(linear())], "model__scale": ["standard", "block"]}
        ),
        "late": {"model": [LateFusionClassifier(linear())], "model__estimator__C": c_grid},
        "stacking": {"model": [LateFusionClassifier(linear(), voting="stacking", cv=3)]},
        "cca": {"model": [make_pipeline(GCCA(n_components=10, reg=0.1, output="shared"), linear())]},
        "mkl": {
            "model": [
                MKLClassifier(method="alignf", probability=True, random_state=random_state)
                if classify
                else MKLRegressor(method="alignf")
            ]
        },
        "deep": {
            "model": [
                (FusionClassifier if classify else FusionRegressor)(
                    fusion="attention",
                    max_epochs=max_epochs,
                    early_stopping=early_stopping,
                    dropout=0.2,
                    modality_dropout=0.1,
                    random_state=random_state,
                )
            ],
            "model__fusion": ["concat", "attention"],
        },
    }
    grid.update({name: entries[name] for name in fusion})
    return grid


def candidate_strategies(grid, params):
    """The strategy of each candidate of a search over ``grid`` (``cv_results_["params"]``).

    A candidate is named by the grid entry its ``model`` came from: the
    search keeps the very estimator objects of the grid.
    """
    owner = {id(entry["model"][0]): name for name, entry in grid.items()}
    return [owner[id(p["model"])] for p in params]


def simplicity(strategy):
    """Rank of a strategy from the simplest (the baseline, 0) to the most flexible."""
    if strategy == BASELINE:
        return 0
    if strategy.startswith(SINGLE_PREFIX):
        return 1
    return 2 + CLASSIFICATION_STRATEGIES.index(strategy)  # it lists every strategy in order
