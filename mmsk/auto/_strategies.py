"""The candidates ``mmsk fit`` compares, each under its name, simplest first.

Every search has a baseline (a dummy model) and one candidate per modality alone
next to the fusion strategies, so a fused model has to beat both to be chosen.
"""

import re

import numpy as np

#: Fusion strategies by task, from the simplest to the most flexible.
CLASSIFICATION_STRATEGIES = ("early", "gbm", "forest", "late", "stacking", "cca", "mkl", "deep", "temporal")
REGRESSION_STRATEGIES = ("early", "gbm", "forest", "cca", "mkl", "deep", "temporal")
#: The comparison rows every search has, whatever the strategies asked for.
BASELINE = "baseline"
SINGLE_PREFIX = "only "
#: The leaderboard row of the ensemble of the candidates (the most flexible of all).
ENSEMBLE = "ensemble"
#: Suffix of a text view's candidate on its words.
WORDS = "(words)"
#: Suffix of the late fusion of a kernel SVM per view.
KERNEL = "(kernel)"


def resolve_strategies(task, strategies, n_views, n_sequences=0):
    """The fusion strategies to search: those asked for, checked, or every one that applies.

    ``"cca"`` needs two views or more, ``"temporal"`` a sequence view.
    """
    known = CLASSIFICATION_STRATEGIES if task == "classification" else REGRESSION_STRATEGIES
    if strategies is None:
        return [s for s in known if (s != "cca" or n_views >= 2) and (s != "temporal" or n_sequences)]
    unknown = [s for s in strategies if s not in known]
    if unknown:
        raise ValueError(f"unknown strategy {unknown} for {task}; choose among {list(known)}")
    if "cca" in strategies and n_views < 2:
        raise ValueError("the 'cca' strategy needs two views or more; this table has one")
    if "temporal" in strategies and not n_sequences:
        raise ValueError(
            "the 'temporal' strategy reads sequence views (<view>__t<step>_<feature> columns, "
            "see mmsk.sequence_frame); this table has none"
        )
    return [s for s in known if s in strategies]


def _one_view(view, model):
    """``model`` on one view's columns; a row without the view gets the column means and a flag."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    select = ColumnTransformer(
        [(view, "passthrough", _features_of([view]))],
        verbose_feature_names_out=False,
    )
    return make_pipeline(select, SimpleImputer(strategy="mean", add_indicator=True), model)


def documents(texts):
    """Text cells as strings, a missing one (a masked view) as the empty document."""
    import pandas as pd

    return ["" if pd.isna(v) else str(v) for v in np.asarray(texts, dtype=object).ravel()]


def _vectorizer():
    """Word and word-pair TF-IDF (sparse, no reduction); a missing text is an empty document."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    return make_pipeline(FunctionTransformer(documents), words)


def _words(column, model):
    """``model`` on the words of one text column of the table."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(ColumnTransformer([("words", _vectorizer(), column)]), model)


def _features_of(views):
    """Selects the union's (numeric) columns of ``views``, not the raw text and categories beside them."""
    from sklearn.compose import make_column_selector

    return make_column_selector(f"^(?:{'|'.join(re.escape(v) for v in views)})__", dtype_include="number")


def _early_words(text_views, other_views, numeric_views, model):
    """``model`` on the words of each text view beside the features of every other view.

    Reads the modality union's output and :func:`columns_stage`'s side by side.
    The features of ``numeric_views`` pass through ``PolynomialFeatures``
    (step ``columntransformer__numeric__polynomialfeatures``): degree 1 keeps
    them as they are, degree 2 adds their squares and pairwise products.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    def imputer():
        return SimpleImputer(strategy="mean", add_indicator=True, keep_empty_features=True)

    parts = [(f"{view} words", _vectorizer(), raw) for view, raw in text_views.items()]
    rest = [v for v in other_views if v not in numeric_views]
    if numeric_views:
        products = PolynomialFeatures(degree=1, include_bias=False)
        products = make_pipeline(imputer(), products, StandardScaler())
        parts.append(("numeric", products, _features_of(numeric_views)))
    if rest:
        parts.append(("views", imputer(), _features_of(rest)))
    return make_pipeline(ColumnTransformer(parts), model)


def _boosting(categorical, other_views, gbm):
    """``gbm`` on the views ``other_views`` of the union and the table's categorical columns, natively."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    if not categorical:
        select = ColumnTransformer([("views", "passthrough", _features_of(other_views))])
        return make_pipeline(select, gbm)
    # up to 250 levels a column (the rest as one infrequent level); unseen and missing levels are missing
    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=250, dtype=float
    )
    parts = [("categories", codes, list(categorical))]
    if other_views:
        parts.append(("views", "passthrough", _features_of(other_views)))
    gbm = gbm.set_params(categorical_features=list(range(len(categorical))))
    return make_pipeline(ColumnTransformer(parts), gbm)


def columns_stage(columns):
    """The table's text and categorical columns as ``<view>__<column>``, read beside the union's output.

    Parameters
    ----------
    columns : mapping of str to list of str
        View to its columns in the table.

    Returns
    -------
    stage : ColumnTransformer
        Unfitted, with pandas output; ``None`` when ``columns`` is empty.
    """
    from sklearn.compose import ColumnTransformer

    if not columns:
        return None
    parts = [(view, "passthrough", list(cols)) for view, cols in columns.items()]
    return ColumnTransformer(parts, verbose_feature_names_out=True).set_output(transform="pandas")


#: The feature stages a search reads: the modality union (pooled over time when the table has
#: sequence views), the prepared table itself, the table's text and categorical columns (named
#: as the union names its views), and the union's sequence views step by step.
FEATURES, TABLE, COLUMNS, SEQUENCES = "features", "table", "columns", "sequences"
#: Rows above which the exact-kernel candidates (MKL, and ``late (kernel)``'s SVMs) are left out of the
#: default search: their kernels grow as n².
KERNEL_MAX_ROWS = 6000
#: Rows squared times features above which ``late (kernel)`` is left out of the default search: its
#: kernels cost n² x features, and libsvm fits six times per view for its probabilities. On 2 cores UCI
#: mfeat (2000 rows, 649 features: 2.6e9) cost about 2 s per fold with libsvm's own kernel, half that
#: with the kernel computed once (``KernelMap``); AV-digits (3000 rows, 2132: 1.9e10) 15 s with its own.
SVM_MAX_COST = 6e9
#: Numeric columns up to which ``early (words)`` also tries their pairwise products (up to 465).
MAX_PRODUCT_COLUMNS = 30
#: Features times trees per boosting round (one, or one per class) above which gradient boosting is
#: left out of the default search: on 2 cores, 2000 such feature-trees cost about 1 s per round of
#: 2000 rows, and a thousand-column image or audio view over ten classes costs a minute per fold.
GBM_MAX_COST = 2000
#: Trees of the ``forest`` strategy's random forest.
FOREST_TREES = 300
#: Rows above which the random forest is left out of the default search: its fully grown trees cost
#: n log n rows each (a minute per fold at 20,000 rows on 2 cores), where gradient boosting's histograms,
#: which stay, cost n per round.
FOREST_MAX_ROWS = 10000


def strategy_grid(
    task,
    strategies=None,
    *,
    views=("a", "b"),
    text_columns=None,
    kinds=None,
    categorical_columns=(),
    n_rows=None,
    n_features=None,
    n_classes=None,
    widths=None,
    sequences=None,
    max_epochs=60,
    early_stopping=False,
    n_jobs=None,
    random_state=0,
):
    """The named candidates of a search over fusion strategies, simplest first, for StrategySearchCV.

    Parameters
    ----------
    task : {"classification", "regression"}
    strategies : sequence of str, default=None
        Fusion strategies among ``"early"``, ``"gbm"`` (gradient boosting
        on every view), ``"forest"`` (a random forest on every view),
        ``"late"`` (the mean or the product of the views' probabilities),
        ``"stacking"``, ``"cca"``, ``"mkl"``, ``"deep"`` (late and stacking:
        classification only); None: all that
        apply and whose predicted cost is reasonable (see ``n_rows`` and
        ``n_features``). ``"cca"`` needs two views or more.
    views : sequence of str, default=("a", "b")
        The views of the feature stage (``<view>__<feature>`` columns).
    text_columns : mapping of str to str, default=None
        Text view to its column of the table: each also gets a candidate on
        its words (sparse word and word-pair TF-IDF and a linear model),
        reading the table itself (the ``"table"`` feature stage), and
        ``"early (words)"`` reads those words beside every other view.
    kinds : mapping of str to str, default=None
        Each view's modality (``"numeric"``, ``"categorical"``, ``"text"``,
        a file modality); with numeric or categorical views beside others,
        ``"gbm (tabular)"`` boosts on those views alone.
    categorical_columns : sequence of str, default=()
        The table's categorical columns (the ``categorical`` view): gradient
        boosting reads them as categories (ordinal codes of up to 250
        levels), not one-hot.
    n_rows : int, default=None
        Rows of the table; with ``strategies=None``, MKL and ``late (kernel)``
        are left out above :data:`KERNEL_MAX_ROWS` and the random forest above
        :data:`FOREST_MAX_ROWS`.
    n_features, n_classes : int, default=None
        Columns of the feature stage and classes of the target; with
        ``strategies=None``, gradient boosting is left out when features
        times trees per round (one per class beyond two) exceed
        :data:`GBM_MAX_COST`, and ``late (kernel)`` when rows squared times
        features exceed :data:`SVM_MAX_COST`.
    widths : mapping of str to int, default=None
        Columns of each view in the feature stage. ``"early (words)"`` tries
        the pairwise products of the numeric views' columns (a
        ``PolynomialFeatures`` degree of 1 or 2) when they have at most
        :data:`MAX_PRODUCT_COLUMNS` columns in all (None: unknown, tried).
    sequences : mapping of str to (int, int), default=None
        The sequence views and their (steps, features), as
        :func:`~mmsk.auto.sequence_views` finds them. With any, the
        ``"temporal"`` strategy reads the union's views step by step (the
        ``"sequences"`` feature stage): a :class:`~mmsk.fusion.FusionClassifier`
        with cross-modal attention over time, and, when every view is a
        sequence of the same length, early fusion over time
        (``"temporal_concat"``). Every other candidate reads ``"features"``,
        which then holds the sequence views' statistics over time.
    max_epochs : int, default=60
        Epochs of the deep fusion networks.
    early_stopping : bool, default=False
        The deep networks and gradient boosting stop when their held-out 10%
        of the training rows stops improving (up to 300 boosting rounds;
        without it, 100).
    n_jobs : int, default=None
        Threads of each random forest's fit (scikit-learn's ``n_jobs``); for a
        search that runs its fits one at a time, so that the forest's trees
        use the cores the search leaves idle. None: one.
    random_state : int, default=0

    Returns
    -------
    strategies : list of (str, estimator, dict, str)
        ``(name, estimator, param_grid, features)`` as
        :class:`~mmsk.model_selection.StrategySearchCV` takes them:
        ``"baseline"`` (the class prior or the mean), ``"only <view>"`` for
        each view (a linear model on that view alone), ``"only <view>
        (words)"`` for each text view, then the fusion strategies.
        ``features`` is ``"features"`` (the modality union's output),
        ``"table"`` (the prepared table) or ``("features", "columns")``: the
        union's output beside the table's text and categorical columns
        (:func:`columns_stage`). Every classifier has ``predict_proba``
        except MKL's, whose decision values the search calibrates (see
        ``StrategySearchCV.calibrated_``).

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
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..align import GCCA
    from ..fusion import (
        EarlyFusionClassifier,
        EarlyFusionRegressor,
        FusionClassifier,
        FusionRegressor,
        LateFusionClassifier,
    )
    from ..mkl import KernelMap, MKLClassifier, MKLRegressor
    from ..utils._compat import svc_with_probabilities

    views = list(views)
    sequences = dict(sequences or {})
    asked = resolve_strategies(task, strategies, len(views), len(sequences))
    fusion = list(asked)
    if strategies is None and n_rows is not None:
        fusion = [s for s in fusion if not (s == "mkl" and n_rows > KERNEL_MAX_ROWS)]
        fusion = [s for s in fusion if not (s == "forest" and n_rows > FOREST_MAX_ROWS)]
    trees = 1 if n_classes is None or n_classes <= 2 else n_classes
    if strategies is None and n_features is not None and n_features * trees > GBM_MAX_COST:
        fusion = [s for s in fusion if s != "gbm"]
    affordable_svms = n_rows is None or (
        n_rows <= KERNEL_MAX_ROWS and (n_features is None or n_rows**2 * n_features <= SVM_MAX_COST)
    )
    classify = task == "classification"
    kinds = dict(kinds or {})
    categorical = [f"categorical__{c}" for c in categorical_columns] if "categorical" in views else []
    text = {view: f"{view}__{column}" for view, column in (text_columns or {}).items()}
    tabular = [v for v in views if kinds.get(v) in ("numeric", "categorical")]

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

    def gbm(on_views):
        boosting = (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(
            max_iter=300 if early_stopping else 100, early_stopping=early_stopping, random_state=random_state
        )
        if not categorical:
            return boosting if on_views == views else _boosting([], on_views, boosting), FEATURES
        others = [v for v in on_views if v != "categorical"]
        return _boosting(categorical, others, boosting), (FEATURES, COLUMNS)

    def net(fusion):
        return (FusionClassifier if classify else FusionRegressor)(
            fusion=fusion,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            dropout=0.2,
            modality_dropout=0.3,
            random_state=random_state,
        )

    entries = {
        "early": (
            (EarlyFusionClassifier if classify else EarlyFusionRegressor)(linear()),
            {"scale": ["standard", "block"], "estimator__C": c_grid}
            if classify
            else {"scale": ["standard", "block"]},
        ),
        # Breiman's forest as tabular tools fit it: a split tries the square root of the features
        "forest": (
            (RandomForestClassifier if classify else RandomForestRegressor)(
                n_estimators=FOREST_TREES, max_features="sqrt", n_jobs=n_jobs, random_state=random_state
            ),
            {},
        ),
        # the mean and the product of the views' probabilities (Kittler et al., 1998)
        "late": (LateFusionClassifier(linear()), {"estimator__C": c_grid, "voting": ["soft", "product"]}),
        "stacking": (LateFusionClassifier(linear(), voting="stacking", cv=3), {}),
        "cca": (make_pipeline(GCCA(n_components=10, reg=0.1, output="shared"), linear()), {}),
        "mkl": (
            # no probability=True: the search Platt-scales its out-of-fold decision values once
            MKLClassifier(method="alignf", random_state=random_state)
            if classify
            else MKLRegressor(method="alignf"),
            {},
        ),
        "deep": (net("attention"), {"fusion": ["concat", "attention"]}),
    }
    if sequences:
        aligned = len(sequences) == len(views) and len({steps for steps, _ in sequences.values()}) == 1
        families = ["temporal_concat", "cross_attention"] if aligned else ["cross_attention"]
        entries["temporal"] = (net("cross_attention"), {"fusion": families})
    others = [v for v in views if v not in text]
    for name in asked:
        if name == "gbm" and tabular and len(tabular) < len(views):  # cheap: never left out by cost
            estimator, stage = gbm(tabular)
            grid.append(("gbm (tabular)", estimator, {}, stage))
        if name not in fusion:
            continue
        if name == "gbm":
            estimator, stage = gbm(views)
            grid.append((name, estimator, {}, stage))
            continue
        grid.append((name, *entries[name], SEQUENCES if name == "temporal" else FEATURES))
        if name == "late" and (strategies is not None or affordable_svms):
            # Kittler's product rule over an RBF SVM per view, its kernel computed once by BLAS (the
            # same model as SVC's own RBF kernel, whose six fits per view evaluate it pair by pair)
            svm, c = svc_with_probabilities(kernel="precomputed", random_state=random_state)
            kernel = LateFusionClassifier(make_pipeline(StandardScaler(), KernelMap(), svm), voting="product")
            c = f"estimator__{type(svm).__name__.lower()}__{c}"
            grid.append((f"late {KERNEL}", kernel, {c: [1.0, 10.0]}, FEATURES))
        if name == "early" and text and others:
            numeric = [v for v in others if kinds.get(v) == "numeric"]
            words = {"logisticregression__C": [0.3, 3.0, 30.0]} if classify else {}
            width = None if widths is None else sum(widths.get(v, 0) for v in numeric)
            if numeric and (width is None or width <= MAX_PRODUCT_COLUMNS):
                words["columntransformer__numeric__polynomialfeatures__degree"] = [1, 2]
            estimator = _early_words(text, others, numeric, linear())
            grid.append((f"early {WORDS}", estimator, words, (FEATURES, COLUMNS)))
    return grid


def simplicity(strategy):
    """Rank of a strategy from the simplest (the baseline, 0) to the most flexible."""
    if strategy == BASELINE:
        return 0
    if strategy.startswith(SINGLE_PREFIX):
        return 1
    if strategy == ENSEMBLE:
        return 2 + len(CLASSIFICATION_STRATEGIES)
    base = strategy.split(" (")[0]  # "early (words)" and "gbm (tabular)" rank as their strategy
    return 2 + CLASSIFICATION_STRATEGIES.index(base)  # it lists every strategy in order
