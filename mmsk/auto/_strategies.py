"""The candidates ``mmsk fit`` compares, each under its name, simplest first.

Every search has a baseline (a dummy model) and one candidate per modality alone
next to the fusion strategies, so a fused model has to beat both to be chosen.
"""

import re

import numpy as np

#: Fusion strategies by task, from the simplest to the most flexible.
CLASSIFICATION_STRATEGIES = ("early", "gbm", "late", "stacking", "cca", "mkl", "deep")
REGRESSION_STRATEGIES = ("early", "gbm", "cca", "mkl", "deep")
#: The comparison rows every search has, whatever the strategies asked for.
BASELINE = "baseline"
SINGLE_PREFIX = "only "
#: The leaderboard row of the ensemble of the candidates (the most flexible of all).
ENSEMBLE = "ensemble"
#: Suffix of a text view's candidate on its words.
WORDS = "(words)"


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


def _words(column, model):
    """``model`` on word and word-pair TF-IDF of one text column of the table (sparse, no reduction)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    return make_pipeline(ColumnTransformer([("words", vectorizer, column)]), model)


#: The feature stages a search reads: the modality union, and the prepared table itself.
FEATURES, TABLE = "features", "table"
#: Rows above which the exact-kernel MKL is left out of the default search (its kernels grow as n²).
MKL_MAX_ROWS = 6000
#: Features times trees per boosting round (one, or one per class) above which gradient boosting is
#: left out of the default search: on 2 cores, 2000 such feature-trees cost about 1 s per round of
#: 2000 rows, and a thousand-column image or audio view over ten classes costs a minute per fold.
GBM_MAX_COST = 2000


def strategy_grid(
    task,
    strategies=None,
    *,
    views=("a", "b"),
    text_columns=None,
    n_rows=None,
    n_features=None,
    n_classes=None,
    max_epochs=60,
    early_stopping=False,
    random_state=0,
):
    """The named candidates of a search over fusion strategies, simplest first, for StrategySearchCV.

    Parameters
    ----------
    task : {"classification", "regression"}
    strategies : sequence of str, default=None
        Fusion strategies among ``"early"``, ``"gbm"`` (gradient boosting
        on every view), ``"late"``, ``"stacking"``, ``"cca"``, ``"mkl"``,
        ``"deep"`` (late and stacking: classification only); None: all that
        apply and whose predicted cost is reasonable (see ``n_rows`` and
        ``n_features``). ``"cca"`` needs two views or more.
    views : sequence of str, default=("a", "b")
        The views of the feature stage (``<view>__<feature>`` columns).
    text_columns : mapping of str to str, default=None
        Text view to its column of the table: each also gets a candidate on
        its words (sparse word and word-pair TF-IDF and a linear model),
        reading the table itself (the ``"table"`` feature stage).
    n_rows : int, default=None
        Rows of the table; with ``strategies=None``, MKL is left out above
        :data:`MKL_MAX_ROWS`.
    n_features, n_classes : int, default=None
        Columns of the feature stage and classes of the target; with
        ``strategies=None``, gradient boosting is left out when features
        times trees per round (one per class beyond two) exceed
        :data:`GBM_MAX_COST`.
    max_epochs : int, default=60
        Epochs of the deep fusion networks.
    early_stopping : bool, default=False
        The deep networks and gradient boosting stop when their held-out 10%
        of the training rows stops improving (up to 300 boosting rounds;
        without it, 100).
    random_state : int, default=0

    Returns
    -------
    strategies : list of (str, estimator, dict, str)
        ``(name, estimator, param_grid, features)`` as
        :class:`~mmsk.model_selection.StrategySearchCV` takes them:
        ``"baseline"`` (the class prior or the mean), ``"only <view>"`` for
        each view (a linear model on that view alone), ``"only <view>
        (words)"`` for each text view, then the fusion strategies.
        ``features`` is ``"features"`` (the modality union's output) or
        ``"table"`` (the prepared table). Every classifier has
        ``predict_proba``.

    Examples
    --------
    >>> from mmsk.auto import strategy_grid
    >>> grid = strategy_grid("regression", ["early", "mkl"], views=["audio", "image"])
    >>> [name for name, *_ in grid]
    ['baseline', 'only audio', 'only image', 'early', 'mkl']
    >>> type(grid[-1][1]).__name__
    'MKLRegressor'
    """
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
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
    if strategies is None and n_rows is not None and n_rows > MKL_MAX_ROWS:
        fusion = [s for s in fusion if s != "mkl"]
    trees = 1 if n_classes is None or n_classes <= 2 else n_classes
    if strategies is None and n_features is not None and n_features * trees > GBM_MAX_COST:
        fusion = [s for s in fusion if s != "gbm"]
    classify = task == "classification"

    def linear():
        return LogisticRegression(max_iter=3000) if classify else RidgeCV(alphas=np.logspace(-3, 3, 13))

    c_grid = [0.05, 0.5]
    grid = [(BASELINE, DummyClassifier(strategy="prior") if classify else DummyRegressor(), {}, FEATURES)]
    for view in views:
        grid.append((SINGLE_PREFIX + view, _one_view(view, linear()),
                     {"logisticregression__C": c_grid} if classify else {}, FEATURES))  # fmt: skip
    for view, column in (text_columns or {}).items():
        words = {"logisticregression__C": [1.0, 10.0]} if classify else {}
        grid.append((f"{SINGLE_PREFIX}{view} {WORDS}", _words(column, linear()), words, TABLE))
    gbm = (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(
        max_iter=300 if early_stopping else 100, early_stopping=early_stopping, random_state=random_state
    )
    entries = {
        "early": (
            (EarlyFusionClassifier if classify else EarlyFusionRegressor)(linear()),
            {"scale": ["standard", "block"], "estimator__C": c_grid}
            if classify
            else {"scale": ["standard", "block"]},
        ),
        "gbm": (gbm, {}),
        "late": (LateFusionClassifier(linear()), {"estimator__C": c_grid}),
        "stacking": (LateFusionClassifier(linear(), voting="stacking", cv=3), {}),
        "cca": (make_pipeline(GCCA(n_components=10, reg=0.1, output="shared"), linear()), {}),
        "mkl": (
            MKLClassifier(method="alignf", probability=True, random_state=random_state)
            if classify
            else MKLRegressor(method="alignf"),
            {},
        ),
        "deep": (
            (FusionClassifier if classify else FusionRegressor)(
                fusion="attention",
                max_epochs=max_epochs,
                early_stopping=early_stopping,
                dropout=0.2,
                modality_dropout=0.3,
                random_state=random_state,
            ),
            {"fusion": ["concat", "attention"]},
        ),
    }
    grid += [(name, *entries[name], FEATURES) for name in fusion]
    return grid


def simplicity(strategy):
    """Rank of a strategy from the simplest (the baseline, 0) to the most flexible."""
    if strategy == BASELINE:
        return 0
    if strategy.startswith(SINGLE_PREFIX):
        return 1
    if strategy == ENSEMBLE:
        return 2 + len(CLASSIFICATION_STRATEGIES)
    return 2 + CLASSIFICATION_STRATEGIES.index(strategy)  # it lists every strategy in order
