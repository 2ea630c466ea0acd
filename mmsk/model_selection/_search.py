"""StrategySearchCV: one cross-validated search over named strategies that keeps every prediction.

Every (candidate, fold) fit runs through joblib, so ``n_jobs`` and any joblib
backend (Dask's included) apply. Each task returns its fold scores, its
out-of-fold predictions and, when asked, the scores with each view made missing;
everything the search learns lands in ``cv_results_`` (GridSearchCV's layout) and
a few arrays beside it. From the stored predictions come, without a refit, the
BBC-CV estimate of the whole choice, the greedy ensemble of the candidates and
the rule that stops spending folds on candidates that cannot win.
"""

import functools
import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import ParameterGrid, check_cv
from sklearn.utils import check_random_state, indexable
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import column_or_1d

from .._views import resolve_views
from ..utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_calibrator,
    _fit_context,
    _num_samples,
    _safe_indexing,
    available_if,
    check_is_fitted,
    get_namespace,
    object_columns,
)
from ._bootstrap import FAST_METRICS, RowScores, _Replay, bootstrap_weights, greedy_ensemble, one_se_choice
from ._voting import EnsembleClassifier, EnsembleRegressor

#: Candidate status in ``cv_results_["status"]``.
COMPLETE, DROPPED, SKIPPED, FAILED = "complete", "dropped", "skipped", "failed"
#: Probability of being worse than the best above which a candidate stops (BBCD-CV's threshold).
_DROP_CONFIDENCE = 0.99
#: Resamples of the dropping test and of the ensemble's estimate.
_DROP_BOOTSTRAP = 500
_ENSEMBLE_BOOTSTRAP = 200
_ENSEMBLE_POOL = 8


def _fit_and_predict(
    candidate,
    estimator,
    params,
    fold,
    X_train,
    y_train,
    X_test,
    y_test,
    scorers,
    kind,
    error_score,
    mask_views,
):
    """One (candidate, fold) task: fit, score, keep the predictions, and those with each view masked."""
    result = {"candidate": candidate, "fold": fold, "fit_error": None}
    start = time.perf_counter()
    try:
        est = clone(estimator).set_params(**params)
        est.fit(X_train, y_train)
    except Exception as exc:  # noqa: BLE001 - recorded as error_score, as GridSearchCV does
        if isinstance(error_score, str):
            raise
        result.update(
            fit_time=time.perf_counter() - start,
            score_time=0.0,
            fit_error=f"{type(exc).__name__}: {exc}",
            scores=dict.fromkeys(scorers, error_score),
            predictions=None,
            decisions=None,
            masked={},
            masked_decisions={},
        )
        return result
    result["fit_time"] = time.perf_counter() - start
    start = time.perf_counter()
    remembered = _Remembered(est, X_test)  # the scorers' predictions are the stored ones: one call each
    result["scores"] = {name: float(scorer(remembered, X_test, y_test)) for name, scorer in scorers.items()}
    result["predictions"] = _predictions(remembered, X_test, kind)
    result["decisions"] = _decisions(remembered, X_test, kind)
    result["masked"] = _without_each_view(est, X_test, mask_views, kind)
    result["masked_decisions"] = dict.fromkeys(result["masked"])
    rest = {view: columns for view, columns in mask_views.items() if view not in result["masked"]}
    predicted = _masked_in_one_call(est, X_test, rest, kind)
    for view, columns in rest.items():
        if predicted is not None:
            result["masked"][view], result["masked_decisions"][view] = predicted[view]
            continue
        masked = X_test.copy()
        masked.iloc[:, columns] = np.nan
        try:
            result["masked"][view] = _predictions(est, masked, kind)
            result["masked_decisions"][view] = _decisions(est, masked, kind)
        except Exception:  # noqa: BLE001 - a model that cannot predict without the view: no importance
            result["masked"][view] = None
    result["score_time"] = time.perf_counter() - start
    return result


def _masked_in_one_call(est, X, mask_views, kind):
    """The predictions (and decision values) with each view masked in turn, from one call on all copies.

    The masked copies of ``X`` are stacked and predicted together: a
    scikit-learn estimator predicts each row on its own, and one call on
    ``k`` copies costs less than ``k`` calls (a forest dispatches its trees,
    a pipeline validates its input, once). Returns ``{view: (predictions,
    decisions)}``, or None when there is nothing to mask or the call fails
    (a model that cannot predict without some view: each copy is then
    predicted on its own, to tell which).
    """
    if not mask_views:
        return None
    copies = []
    for columns in mask_views.values():
        masked = X.copy()
        masked.iloc[:, columns] = np.nan
        copies.append(masked)
    stacked = pd.concat(copies, ignore_index=True)
    try:
        predictions, decisions = _predictions(est, stacked, kind), _decisions(est, stacked, kind)
    except Exception:  # noqa: BLE001 - told apart view by view by the caller
        return None
    rows = np.split(np.arange(len(stacked)), len(mask_views))
    return {
        view: (predictions[block], None if decisions is None else decisions[block])
        for view, block in zip(mask_views, rows)
    }


def _without_each_view(est, X, mask_views, kind):
    """The predictions with each view masked, from one prediction per view, where ``est`` offers it.

    A late fusion's probabilities without a view combine the other views'
    outputs, the same with or without it: ``predict_proba_without`` computes
    each view's once, where masking a copy of X per view recomputes them all.
    Returns ``{view: predictions}`` for the views whose columns are the
    estimator's own, or {} (each view is then masked in a copy of X).
    """
    own = getattr(est, "view_indices_", None)
    if kind["classes"] is None or own is None or not hasattr(est, "predict_proba_without"):
        return {}
    views = [v for v, columns in mask_views.items() if v in own and np.array_equal(own[v], columns)]
    if not views:
        return {}
    try:
        without = est.predict_proba_without(X, views=views)
    except ValueError:  # a row with no other view: each view masked in its own copy says which
        return {}
    order = np.searchsorted(kind["classes"], est.classes_)
    out = {}
    for view, proba in without.items():
        out[view] = np.zeros((len(proba), len(kind["classes"])))
        out[view][:, order] = proba
    return out


class _Remembered:
    """A fitted estimator whose outputs on one X are computed once, whoever asks for them.

    The fold's scorer and the search's stored predictions read the same
    method on the same rows when the scorer is a regressor's, one on
    probabilities or decision values, or accuracy for a classifier without
    ``predict_proba`` (whose stored predictions are its labels): each is
    then one call, not two. Any other X, or a call with other arguments,
    goes to the estimator; everything else is the estimator's own.
    """

    _METHODS = ("predict", "predict_proba", "decision_function")

    def __init__(self, estimator, X):
        self._estimator, self._X, self._outputs = estimator, X, {}

    def __sklearn_tags__(self):
        return self._estimator.__sklearn_tags__()

    def __getattr__(self, name):
        if name in ("_estimator", "_X", "_outputs"):  # a copy made without __init__: no recursion
            raise AttributeError(name)
        method = getattr(self._estimator, name)
        if name not in self._METHODS:
            return method

        @functools.wraps(method)  # scikit-learn's scorers read the method's name
        def remembered(X, *args, **kwargs):
            if X is not self._X or args or kwargs:
                return method(X, *args, **kwargs)
            if name not in self._outputs:
                self._outputs[name] = method(X)
            return self._outputs[name]

        return remembered


def _predictions(est, X, kind):
    """What the search stores per row: class probabilities (one-hot labels without them), or values."""
    if kind["classes"] is None:
        values = np.asarray(est.predict(X), dtype=float)
        return values.reshape(len(values), -1)
    classes = kind["classes"]
    if hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X), dtype=float)
        out = np.zeros((len(proba), len(classes)))
        out[:, np.searchsorted(classes, est.classes_)] = proba  # a fold may lack a class
        return out
    return (np.asarray(est.predict(X))[:, None] == classes[None, :]).astype(float)


def _decisions(est, X, kind):
    """A classifier's decision values, (n, 1) for two classes, when it has no ``predict_proba``; else None."""
    if kind["classes"] is None or hasattr(est, "predict_proba") or not hasattr(est, "decision_function"):
        return None
    if not np.array_equal(getattr(est, "classes_", []), kind["classes"]):
        return None  # a fold without every class: no calibration
    values = np.asarray(est.decision_function(X), dtype=float)
    return values.reshape(len(values), -1)


def _platt(estimator, decisions, y, classes):
    """Sigmoid calibration of ``decisions`` (rows labelled ``y``): scikit-learn's, as a fitted wrapper."""
    xp, _ = get_namespace(decisions)
    return _fit_calibrator(estimator, decisions, y, classes, "sigmoid", xp)


def _any_torch(estimators):
    """Whether any of ``estimators``, or an estimator among their parameters, trains a torch net."""
    from ..utils._deep import BaseDeepEstimator

    def nested(est):
        yield est
        if hasattr(est, "get_params"):
            yield from (v for v in est.get_params(deep=True).values() if hasattr(v, "fit"))

    return any(isinstance(e, BaseDeepEstimator) for est in estimators for e in nested(est))


def _import_torch():
    """Import torch, and the compiler that its first optimizer imports, in a worker as it starts.

    loky restarts a worker whose memory grew by more than 300 MB after its first
    task, taking the growth for a leak. Importing torch and its compiler
    inside a task adds about 250 MB and a net's training the rest: the worker
    restarts, and the next net pays the import again (seconds per restart).
    Imported before the first task, they count as the worker's own size. The
    other joblib backends (threads, Dask) ignore the initializer.
    """
    import torch  # noqa: F401
    import torch._dynamo  # noqa: F401 - imported by the first torch.optim optimizer


def _the_search_workers(starts):
    """A context in which joblib's loky calls reuse the search's workers, torch already imported.

    loky reuses its pool only for a call with the same settings, initializer
    included: an ensemble's members, refit side by side, then meet warm
    workers. Within it, a call that prefers threads gets loky too (joblib's
    ``prefer`` yields to a configured backend); any other backend the caller
    chose stays as it is.
    """
    from contextlib import nullcontext

    from joblib import parallel_config
    from joblib.parallel import get_active_backend

    if not starts or type(get_active_backend()[0]).__name__ != "LokyBackend":
        return nullcontext()
    return parallel_config(backend="loky", **starts)


def _fit_features(key, features, X, y, train, test):
    """The feature stage of one fold: fitted on the training rows, applied to both; with ``key``."""
    X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
    y_train = _safe_indexing(y, train)
    if features is None or features == "passthrough":
        return key, object_columns(X_train), object_columns(X_test)
    stage = clone(features)
    # label checks read NumPy labels faster than pandas 3's Arrow ones (see object_columns)
    return key, object_columns(stage.fit_transform(X_train, y_train)), object_columns(stage.transform(X_test))


def _task_seconds(result):
    """What one (candidate, fold) task took: its fit and its scoring."""
    return result["fit_time"] + result["score_time"]


def _views_of(X):
    """Column positions of each ``<view>__`` group of a DataFrame, or {} (nothing to mask)."""
    if not hasattr(X, "columns") or not hasattr(X, "iloc"):
        return {}
    try:
        views = resolve_views(None, n_features=X.shape[1], feature_names=np.asarray(X.columns, dtype=object))
    except (ValueError, TypeError):
        return {}
    return views if len(views) > 1 else {}


def _side_by_side(parts, names):
    """The outputs of several feature stages as one DataFrame, their columns in the order of the stages."""
    import pandas as pd

    if not all(isinstance(part, pd.DataFrame) for part in parts):
        kinds = [type(part).__name__ for part in parts]
        raise TypeError(
            f"a strategy that reads the feature stages {list(names)} side by side needs DataFrames from "
            f"each (set_output(transform='pandas')); got {kinds}"
        )
    frame = pd.concat([part.set_axis(parts[0].index) for part in parts], axis=1)
    twice = frame.columns[frame.columns.duplicated()]
    if len(twice):
        raise ValueError(f"the feature stages {list(names)} both have the columns {list(twice[:5])}")
    return frame


def _delegate(method):
    def check(self):
        return hasattr(self.best_estimator_, method) if hasattr(self, "best_estimator_") else True

    return check


class StrategySearchCV(MetaEstimatorMixin, BaseEstimator):
    """Cross-validated search over named strategies that keeps every out-of-fold prediction.

    Each strategy is an estimator with its parameter grid; its candidates are
    the grid's points. Every (candidate, fold) fit runs through joblib. The
    feature stage (``features``) is fitted once per fold and shared by every
    candidate of that fold. What the search keeps, beside GridSearchCV's
    ``cv_results_``, is each candidate's prediction of every row from the fold
    that held it out; from these, without any refit, come

    * the **estimate** of the whole choice (BBC-CV): resample rows, choose the
      best candidate on the in-bag rows, score it on the out-of-bag rows;
    * the **ensemble**: greedy forward selection with replacement over the
      candidates' out-of-fold predictions (Caruana et al., 2004), chosen over
      the best candidate only when its own bootstrap estimate (selection redone
      in-bag) is higher;
    * **dropping**: every candidate first runs a third of the folds (one of
      five); one that is worse than the best on those rows in 99% of
      bootstrap resamples of them (BBCD-CV) runs no further folds. Each round
      goes to joblib whole, the second the costliest fits first (as the first
      round measured them), so that no core waits on one strategy's last fit.

    Parameters
    ----------
    strategies : list of tuple
        ``(name, estimator, param_grid)``, or ``(name, estimator, param_grid,
        features_name)`` to read a named feature stage of ``features`` (a
        tuple of names reads those stages side by side: their DataFrame
        outputs, columns concatenated in that order);
        ``param_grid`` is a dict or a list of dicts of the estimator's own
        parameters, as GridSearchCV takes. Simplest first: the order ranks
        simplicity for ``refit="one-se"``.
    features : transformer, list of (str, transformer) or None, default=None
        The feature stage, fitted on each fold's training rows and applied to
        its test rows once for all candidates. A list names several stages (a
        strategy picks one by name; the first is the default); ``None`` or
        ``"passthrough"``: the candidates read X.
    scoring : str, callable, list or dict, default=None
        As in GridSearchCV; with several, the first is the one the search
        chooses by (``"score"`` when one is given).
    cv : int, cross-validation generator or iterable, default=5
        Must put every row in exactly one test fold (the stored predictions
        are out-of-fold predictions).
    refit : {"best", "one-se"}, bool or callable, default="best"
        ``"best"`` (or True): the best mean score; ``"one-se"``: the simplest
        candidate whose mean is within one standard error of the best's; a
        callable takes ``cv_results_`` and returns the index. False: no refit.
        The estimate applies the same rule in-bag.
    baseline : str, default=None
        The strategy that predicts without reading the data (a dummy model).
        Under ``"best"``, the choice falls back to it (in-bag too) unless the
        best candidate's mean beats it by more than the best's standard
        error: on data with no signal, the best of many candidates beats the
        baseline on the folds by chance alone, and predicts new rows worse
        than it. Under ``"one-se"`` it ranks simplest. Then, with
        ``estimate="bbc"``, the estimate has the last word as between the
        candidate and the ensemble: the baseline is chosen when its mean
        out-of-bag score is at least the estimate of the choice (on the same
        resamples). None: no baseline.
    estimate : {"bbc", "nested", "none"}, default="bbc"
        ``"bbc"``: the bootstrap estimate above (no refit). ``"nested"``: the
        search itself repeated inside outer folds of ``cv`` (costs about as
        many searches as folds).
    ensemble : bool, default=True
        Build the greedy ensemble (needs ``estimate="bbc"`` to be chosen).
    drop : bool, default=True
        Stop spending folds on candidates that cannot win.
    importance : bool, default=False
        Predict each (candidate, fold)'s test rows again with each
        ``<view>__`` group of the test features made missing (all NaN):
        ``masked_predictions_``.
    n_bootstrap : int, default=1000
        Resamples of the estimate.
    time_limit : float, default=None
        Seconds: past it, no further strategy starts, and one whose first
        round of folds ran before it (see dropping) runs no more; except those
        in ``always_run``. The skipped ones are listed (status
        ``"skipped"``). With a time limit, the simplest strategies run
        first.
    always_run : sequence of str, default=()
        Strategies run whatever the time limit, and never dropped.
    n_jobs : int, default=None
        Parallel (candidate, fold) tasks.
    error_score : "raise" or float, default=nan
        As in GridSearchCV.
    progress : bool, default=False
        One progress bar over every fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap resamples.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        GridSearchCV's layout (``params``, ``param_<name>``,
        ``split<k>_test_<scorer>``, ``mean_``/``std_``/``rank_test_<scorer>``,
        fit and score times), plus ``strategy`` (the strategy of each
        candidate), ``status`` (``"complete"``, ``"dropped"``, ``"skipped"``,
        ``"failed"``) and ``n_folds_done``. ``params`` holds the estimator's
        parameters; ``strategy`` says whose.
    oof_predictions_ : ndarray of shape (n_candidates, n_samples, n_outputs)
        Each candidate's prediction of every row, from the fold that held the
        row out: class probabilities in the order of ``classes_``, or the
        predicted values (regression). A classifier without
        ``predict_proba`` but with ``decision_function`` (an SVM) gets
        Platt-scaled decision values (see ``calibrated_``); one with neither,
        one-hot predicted labels. NaN where not computed (a dropped, skipped
        or failed candidate's folds).
    oof_folds_ : ndarray of shape (n_samples,)
        The test fold of each row.
    calibrated_ : list of int
        Candidates whose probabilities are Platt-scaled decision values,
        computed once from the folds' decision values: each fold's rows by the
        sigmoid fitted on the other folds' rows, and the refit model by the
        sigmoid fitted on every row's out-of-fold decision values (what
        :class:`~sklearn.calibration.CalibratedClassifierCV` with the
        search's folds and ``ensemble=False`` fits, without fitting the folds
        again). The refit model is that CalibratedClassifierCV.
    masked_predictions_ : ndarray of shape (n_candidates, n_views, n_samples, n_outputs) or None
        With ``importance``: the out-of-fold predictions with each view of
        ``masked_views_`` made missing (all NaN) at predict time, laid out as
        ``oof_predictions_``; NaN where a model could not predict without it.
    masked_views_ : list of str
    estimate_ : dict or None
        ``method``, ``mean``, ``ci_low``, ``ci_high`` (2.5 and 97.5
        percentiles of the out-of-bag scores, or a t interval for nested),
        ``n_bootstrap`` or ``scores`` (nested), ``candidate_oob`` (each
        candidate's mean out-of-bag score: BBC) and ``chosen_share`` (how often
        each candidate was chosen in-bag).
    ensemble_ : dict or None
        ``members`` (candidate indices), ``weights``, ``oof_score`` (optimistic:
        the selection saw these rows), ``estimate`` (mean and interval with the
        selection redone in-bag) and ``candidate_estimate`` (the candidates'
        BBC on the same resamples).
    choice_ : {"candidate", "ensemble"}
        What ``best_estimator_`` is.
    chosen_estimate_ : dict or None
        The estimate of what ``best_estimator_`` is: ``estimate_``, the
        ensemble's ``estimate``, or, when the baseline is chosen, its own
        out-of-bag scores' mean and interval.
    best_index_, best_params_, best_score_ : int, dict, float
        The candidate chosen by ``refit`` (also when the ensemble is chosen).
    best_estimator_ : estimator
        The chosen candidate, or the ensemble (an :class:`EnsembleClassifier`
        or :class:`EnsembleRegressor`: scikit-learn's voting over its members),
        refit on every row, after the feature stage.
    scorer_ : dict of str to callable
    n_splits_ : int
    refit_time_ : float
    classes_ : ndarray
        For classification.
    n_features_in_ : int

    See Also
    --------
    sklearn.model_selection.GridSearchCV : the layout of ``cv_results_``.
    mmsk.model_selection.fusion_leaderboard : a tidy table of ``cv_results_``.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mmsk.datasets import make_multimodal_classification
    >>> from mmsk.fusion import EarlyFusionClassifier, LateFusionClassifier
    >>> from mmsk.model_selection import StrategySearchCV
    >>> X, y = make_multimodal_classification(n_samples=150, random_state=0)
    >>> search = StrategySearchCV(
    ...     [("baseline", DummyClassifier(), {}),
    ...      ("early", EarlyFusionClassifier(LogisticRegression()), {"scale": ["standard", "block"]}),
    ...      ("late", LateFusionClassifier(LogisticRegression()), {})],
    ...     cv=3, random_state=0,
    ... ).fit(X, y)
    >>> list(search.cv_results_["strategy"])
    ['baseline', 'early', 'early', 'late']
    >>> search.oof_predictions_.shape
    (4, 150, 2)
    >>> bool(search.estimate_["ci_low"] <= search.estimate_["mean"] <= search.estimate_["ci_high"])
    True
    """

    _parameter_constraints = {
        "strategies": [list],
        "features": [HasMethods(["fit", "transform"]), list, StrOptions({"passthrough"}), None],
        "scoring": [str, callable, list, dict, None],
        "cv": ["cv_object"],
        "refit": ["boolean", StrOptions({"best", "one-se"}), callable],
        "baseline": [str, None],
        "estimate": [StrOptions({"bbc", "nested", "none"})],
        "ensemble": ["boolean"],
        "drop": ["boolean"],
        "importance": ["boolean"],
        "n_bootstrap": [Interval(Integral, 10, None, closed="left")],
        "time_limit": [Interval(Real, 0, None, closed="left"), None],
        "always_run": ["array-like", tuple, list],
        "n_jobs": [Integral, None],
        "error_score": [StrOptions({"raise"}), Real],
        "progress": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        strategies,
        *,
        features=None,
        scoring=None,
        cv=5,
        refit="best",
        baseline=None,
        estimate="bbc",
        ensemble=True,
        drop=True,
        importance=False,
        n_bootstrap=1000,
        time_limit=None,
        always_run=(),
        n_jobs=None,
        error_score=np.nan,
        progress=False,
        random_state=None,
    ):
        self.strategies = strategies
        self.features = features
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.baseline = baseline
        self.estimate = estimate
        self.ensemble = ensemble
        self.drop = drop
        self.importance = importance
        self.n_bootstrap = n_bootstrap
        self.time_limit = time_limit
        self.always_run = always_run
        self.n_jobs = n_jobs
        self.error_score = error_score
        self.progress = progress
        self.random_state = random_state

    # ------------------------------------------------------------------ parts
    def _entries(self):
        """The strategies as (name, estimator, grid, features name), checked."""
        if not self.strategies:
            raise ValueError("strategies is empty; give at least one (name, estimator, param_grid).")
        entries, seen = [], set()
        names = [name for name, _ in self._feature_stages()]
        for entry in self.strategies:
            if not isinstance(entry, tuple | list) or len(entry) not in (3, 4):
                raise ValueError(
                    f"each strategy is (name, estimator, param_grid) or (name, estimator, param_grid, "
                    f"features_name); got {entry!r}"
                )
            name, estimator, grid = entry[:3]
            stage = entry[3] if len(entry) == 4 else names[0]
            if isinstance(stage, tuple | list):
                stage = tuple(stage) if len(stage) > 1 else stage[0]
            if name in seen:
                raise ValueError(f"strategy name {name!r} appears twice; names must be unique")
            unknown = [part for part in (stage if isinstance(stage, tuple) else [stage]) if part not in names]
            if unknown:
                raise ValueError(f"strategy {name!r} reads the feature stage {unknown[0]!r}; known: {names}")
            if not hasattr(estimator, "fit"):
                raise TypeError(f"strategy {name!r}: {estimator!r} is not an estimator (it has no fit)")
            seen.add(name)
            entries.append((name, estimator, grid if grid is not None else {}, stage))
        if self.baseline is not None and self.baseline not in seen:
            raise ValueError(f"baseline {self.baseline!r} is not one of the strategies {sorted(seen)}")
        return entries

    def _feature_stages(self):
        if isinstance(self.features, list):
            if not self.features:
                raise ValueError("features is an empty list; give (name, transformer) pairs or None")
            return [(name, stage) for name, stage in self.features]
        return [("features", self.features)]

    def _scorers(self, estimator):
        scoring = self.scoring
        if scoring is None or isinstance(scoring, str) or callable(scoring):
            return {"score": check_scoring(estimator, scoring=scoring)}
        if isinstance(scoring, dict):
            return {name: check_scoring(estimator, scoring=s) for name, s in scoring.items()}
        return {name: get_scorer(name) for name in scoring}

    def _metric_name(self):
        """The first scorer's name when it is one the bootstrap computes from sums, else None."""
        first = self.scoring
        if isinstance(first, dict):
            first = next(iter(first.values()))
        elif isinstance(first, list):
            first = first[0]
        if first is None:
            return "accuracy" if self._classifier else "r2"
        return first if isinstance(first, str) and first in FAST_METRICS else None

    @staticmethod
    def _stage(stages, key):
        """The feature stage a strategy reads: one by name, or several side by side (a tuple of names)."""
        if not isinstance(key, tuple):
            return stages[key]
        from sklearn.compose import ColumnTransformer, make_column_selector

        # each stage reads every column (a FeatureUnion keeps pandas Index objects: skops cannot save them)
        parts = [(name, stages[name] or "passthrough", make_column_selector()) for name in key]
        return ColumnTransformer(parts, verbose_feature_names_out=False).set_output(transform="pandas")

    def _pipeline(self, stage, estimator):
        from sklearn.pipeline import Pipeline

        if stage is None or stage == "passthrough":
            return clone(estimator)
        return Pipeline([("features", clone(stage)), ("model", clone(estimator))])

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, groups=None):
        """Cross-validate every candidate, estimate the choice, build the ensemble, refit.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            What the feature stage (or, without one, the candidates) read.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        groups : array-like of shape (n_samples,), default=None
            Passed to the splitter; the bootstrap then resamples whole groups.

        Returns
        -------
        self : StrategySearchCV
        """
        entries = self._entries()
        stages = dict(self._feature_stages())
        self._classifier = is_classifier(entries[0][1])
        if y is None and entries[0][1].__sklearn_tags__().target_tags.required:
            raise ValueError(
                f"{type(entries[0][1]).__name__} requires y to be passed, but the target y is None."
            )
        if self._classifier:
            y = column_or_1d(y, warn=True)
        X, y, groups = indexable(X, y, groups)
        n = _num_samples(X)
        y_arr = np.asarray(y)
        cv = check_cv(self.cv, y, classifier=self._classifier)
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        self.oof_folds_ = self._check_partition(splits, n)
        self.classes_ = np.unique(y_arr) if self._classifier else None
        self.n_features_in_ = X.shape[1] if hasattr(X, "shape") and len(X.shape) == 2 else None
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.scorer_ = self._scorers(entries[0][1])
        kind = {"classes": self.classes_}
        candidates = [(s, dict(p)) for s, (_, _, grid, _) in enumerate(entries) for p in ParameterGrid(grid)]
        n_out = len(self.classes_) if self._classifier else (1 if y_arr.ndim == 1 else y_arr.shape[1])
        oof = np.full((len(candidates), n, n_out), np.nan)
        fold_results = [[None] * self.n_splits_ for _ in candidates]
        status = [COMPLETE] * len(candidates)
        self._y_scores = RowScores(
            next(iter(self.scorer_.values())), self._metric_name(), y_arr, self.classes_
        )
        self._groups = None if groups is None else np.asarray(groups)
        rng = check_random_state(self.random_state)
        self._seed = rng.randint(np.iinfo(np.int32).max)
        started = time.perf_counter()
        always = set(self.always_run)
        from tqdm.auto import tqdm

        total = len(candidates) * self.n_splits_
        # One parallel context for every call: its workers and the memory-mapped copies of the
        # large arrays they read live until the search ends (separate Parallel calls each delete
        # their memory maps when done, and loky's reused workers then meet files that are gone).
        # workers that will train torch nets import torch as they start (see _import_torch)
        starts = {"initializer": _import_torch} if _any_torch(e[1] for e in entries) else {}
        with (
            Parallel(n_jobs=self.n_jobs, return_as="generator_unordered", **starts) as parallel,
            tqdm(total=total, desc="search", unit="fit", disable=not self.progress, leave=True) as bar,
        ):
            fold_data = self._fold_data(parallel, entries, stages, X, y, splits)
            mask_views = {
                key: _views_of(data[0][1]) if self.importance else {} for key, data in fold_data.items()
            }

            def task(c, k):
                s = candidates[c][0]
                data = fold_data[entries[s][3]]
                return delayed(_fit_and_predict)(
                    c,
                    entries[s][1],
                    candidates[c][1],
                    k,
                    data[k][0],
                    _safe_indexing(y, splits[k][0]),
                    data[k][1],
                    _safe_indexing(y, splits[k][1]),
                    self.scorer_,
                    kind,
                    self.error_score,
                    mask_views[entries[s][3]],
                )

            def late():
                return self.time_limit is not None and time.perf_counter() - started > self.time_limit

            def run(plan):
                """Run ``plan`` [(candidate, folds)]; a strategy whose first task comes past the time
                limit is skipped (tasks are made as joblib dispatches them)."""
                begun = set()

                def tasks():
                    for c, folds in plan:
                        s = candidates[c][0]
                        if s not in begun:
                            if late() and entries[s][0] not in always:
                                status[c] = SKIPPED
                                bar.total -= sum(1 for r in fold_results[c] if r is None)
                                bar.refresh()
                                continue
                            begun.add(s)
                        yield from (task(c, k) for k in folds)

                for result in parallel(tasks()):
                    c = result["candidate"]
                    fold_results[c][result["fold"]] = result
                    if result["predictions"] is not None:
                        oof[c, splits[result["fold"]][1]] = result["predictions"]
                    bar.update(1)

            folds = list(range(self.n_splits_))
            dropping = self.drop and self.n_splits_ >= 3
            first = folds[: max(1, self.n_splits_ // 3)] if dropping else folds
            droppable = [c for c, (s, _) in enumerate(candidates) if dropping and entries[s][0] not in always]
            # simplest first when a time limit may stop the search (the simplest run before it),
            # else the most flexible (and mostly the costliest) first, so that cheap fits fill the end
            order = list(range(len(candidates)))
            if self.time_limit is None:
                order.reverse()
            run([(c, first if c in droppable else folds) for c in order])
            if dropping:
                rows = np.concatenate([splits[k][1] for k in first])
                dropped = self._drop(oof, [c for c in droppable if status[c] == COMPLETE], rows)
                if self._metric_name() not in ("accuracy", "balanced_accuracy"):
                    # decision values are calibrated after the last fold; until then, labels only
                    dropped = [c for c in dropped if fold_results[c][first[0]]["decisions"] is None]
                for c in dropped:
                    status[c] = DROPPED
                bar.total -= len(dropped) * (self.n_splits_ - len(first))
                bar.refresh()
                rest = [c for c in droppable if status[c] == COMPLETE]
                if self.time_limit is None:  # the longest first (as the first fold took), cheap ones last
                    rest.sort(key=lambda c: -_task_seconds(fold_results[c][first[0]]))
                run([(c, folds[len(first) :]) for c in rest])
        self.search_time_ = time.perf_counter() - started
        for c, results in enumerate(fold_results):
            done = [r for r in results if r is not None]
            if status[c] == COMPLETE and done and all(r["fit_error"] is not None for r in done):
                status[c] = FAILED
        self._warn_failures(fold_results, candidates, entries)
        self.cv_results_ = self._results(candidates, entries, fold_results, status)
        self.oof_predictions_ = oof
        self.masked_views_ = list(
            dict.fromkeys(v for res in fold_results for r in res if r for v in r["masked"])
        )
        self.masked_predictions_ = None
        if self.importance:
            masked = np.full((len(candidates), len(self.masked_views_), n, n_out), np.nan)
            for c, res in enumerate(fold_results):
                for r in (r for r in res if r is not None):
                    for j, view in enumerate(self.masked_views_):
                        if r["masked"].get(view) is not None:
                            masked[c, j, splits[r["fold"]][1]] = r["masked"][view]
            self.masked_predictions_ = masked
        self._decisions = self._calibrate(fold_results, splits, status, y_arr)
        self.calibrated_ = sorted(self._decisions)
        scores = self.cv_results_[
            "mean_test_score"
            if "mean_test_score" in self.cv_results_
            else f"mean_test_{next(iter(self.scorer_))}"
        ]
        if not np.isfinite(scores).any():
            errors = sorted({r["fit_error"] for res in fold_results for r in res if r and r["fit_error"]})
            raise ValueError(
                "every candidate failed to fit (error_score='raise' stops at the first); the errors:\n  "
                + "\n  ".join(errors[:5])
            )
        self.best_index_ = self._best_index()
        self.estimate_, self.ensemble_ = None, None
        # one set of resamples: the ensemble's estimate is paired with the candidates'
        resamples = self._weights(self.n_bootstrap) if self.estimate == "bbc" else None
        out_of_bag, ensemble_scores = None, None
        if resamples is not None:
            self.estimate_, out_of_bag = self._bbc(oof, resamples)
        if self.ensemble:
            self.ensemble_, ensemble_scores = self._ensemble(oof, status, resamples)
        self.choice_ = "candidate"
        self.chosen_estimate_ = self.estimate_
        if (
            self.ensemble_ is not None
            and self.ensemble_.get("estimate") is not None
            and self.ensemble_["estimate"]["mean"] > self.ensemble_["candidate_estimate"]["mean"]
            and len(self.ensemble_["members"]) > 1
        ):
            self.choice_ = "ensemble"
            self.chosen_estimate_ = self.ensemble_["estimate"]
        if out_of_bag is not None:
            chosen = ensemble_scores if self.choice_ == "ensemble" else out_of_bag["chosen"]
            self._fall_back_by_the_estimate(out_of_bag["candidates"], chosen)
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_score_ = float(scores[self.best_index_])
        if self.estimate == "nested":
            self.estimate_ = self.chosen_estimate_ = nested_estimate(self, X, y, groups=groups, cv=cv)
        if self.refit is not False:
            start = time.perf_counter()
            # an ensemble's members are refit side by side: in the search's workers, where they are warm
            warm = starts if self.choice_ == "ensemble" and self.n_jobs not in (None, 1) else {}
            with _the_search_workers(warm):
                self.best_estimator_ = self._attach_calibration(
                    self._build(entries, candidates, stages).fit(X, y)
                )
            self.refit_time_ = time.perf_counter() - start
        return self

    def _fold_data(self, parallel, entries, stages, X, y, splits):
        """Each feature stage the strategies read, fitted on every fold's training rows, in one call.

        Returns ``{stage: [(X_train, X_test) per fold]}``, where a stage is a
        name or a tuple of names (those stages' outputs side by side).
        """
        keys = list(dict.fromkeys(stage for *_, stage in entries))
        parts = list(dict.fromkeys(p for key in keys for p in (key if isinstance(key, tuple) else [key])))
        done = {
            key: (train, test)
            for key, train, test in parallel(
                delayed(_fit_features)((part, k), stages[part], X, y, train, test)
                for part in parts
                for k, (train, test) in enumerate(splits)
            )
        }
        data = {part: [done[part, k] for k in range(len(splits))] for part in parts}
        for key in keys:
            if isinstance(key, tuple):  # several stages side by side, fold by fold
                data[key] = [
                    tuple(_side_by_side([data[p][k][i] for p in key], key) for i in (0, 1))
                    for k in range(len(splits))
                ]
        return data

    def _calibrate(self, fold_results, splits, status, y):
        """Platt-scale the out-of-fold decision values of classifiers without ``predict_proba``, once.

        Each fold's rows get the sigmoid fitted on the other folds' rows: the
        stored probabilities stay out-of-fold, and no model is fitted again.
        Returns each such candidate's decision values of every row, which the
        refit calibrates on.
        """
        found = {}
        for c, results in enumerate(fold_results):
            if status[c] != COMPLETE or any(r is None or r["decisions"] is None for r in results):
                continue
            D = np.empty((len(y), results[0]["decisions"].shape[1]))
            for r in results:
                D[splits[r["fold"]][1]] = r["decisions"]
            rows = np.arange(len(y))
            for r in results:
                train, test = splits[r["fold"]]
                sigmoid = _platt(_Replay(D, self.classes_), D[train], y[train], self.classes_)
                self.oof_predictions_[c, test] = sigmoid.predict_proba(test)
                for j, view in enumerate(self.masked_views_ if self.masked_predictions_ is not None else []):
                    values = r["masked_decisions"].get(view)
                    if values is not None:
                        sigmoid.estimator = _Replay(values, self.classes_)
                        self.masked_predictions_[c, j, test] = sigmoid.predict_proba(rows[: len(test)])
            found[c] = D
        return found

    def _attach_calibration(self, model):
        """Put the Platt scaling of each calibrated member of the fitted ``model`` around it."""
        from sklearn.calibration import CalibratedClassifierCV

        def wrap(c, fitted):
            if hasattr(fitted, "steps"):
                fitted.steps[-1] = (fitted.steps[-1][0], wrap(c, fitted.steps[-1][1]))
                return fitted
            # a voting ensemble's members learn the classes' codes: the labels in the member's terms
            labels = fitted.classes_[np.searchsorted(self.classes_, self._y_scores.y)]
            calibrated = CalibratedClassifierCV(fitted, method="sigmoid", ensemble=False)
            calibrated.calibrated_classifiers_ = [_platt(fitted, self._decisions[c], labels, fitted.classes_)]
            calibrated.classes_ = fitted.classes_
            for name in ("n_features_in_", "feature_names_in_"):
                if hasattr(fitted, name):
                    setattr(calibrated, name, getattr(fitted, name))
            return calibrated

        members = self.ensemble_["members"] if self.choice_ == "ensemble" else [self.best_index_]
        if not any(c in self._decisions for c in members):
            return model
        if self.choice_ != "ensemble":
            return wrap(members[0], model)
        vote = (
            model.steps[-1][1]
            if hasattr(model, "steps") and hasattr(model.steps[-1][1], "estimators_")
            else model
        )
        for i, c in enumerate(members):
            if c in self._decisions:
                vote.estimators_[i] = wrap(c, vote.estimators_[i])
                vote.named_estimators_[vote.estimators[i][0]] = vote.estimators_[i]
        return model

    def _check_partition(self, splits, n):
        folds = np.full(n, -1)
        seen = np.zeros(n, dtype=int)
        for k, (_, test) in enumerate(splits):
            folds[test] = k
            np.add.at(seen, test, 1)
        if (seen != 1).any():
            raise ValueError(
                f"cv must put every row in exactly one test fold, so that each row has one out-of-fold "
                f"prediction; {int((seen == 0).sum())} row(s) are in no test fold and "
                f"{int((seen > 1).sum())} in several. Use KFold, StratifiedKFold, GroupKFold or another "
                "partitioning splitter."
            )
        return folds

    def _drop(self, oof, droppable, rows):
        """Candidates of ``droppable`` worse than the best on ``rows`` in 99% of resamples of them.

        The best is the best of every candidate that predicted all of ``rows``.
        """
        pool = [c for c in range(len(oof)) if np.isfinite(oof[c, rows]).all()]
        if len(pool) < 2:
            return []
        P = oof[pool][:, rows]
        groups = None if self._groups is None else self._groups[rows]
        w_in, _ = bootstrap_weights(len(rows), _DROP_BOOTSTRAP, groups=groups, random_state=self._seed)
        sub = RowScores(
            self._y_scores.scorer, self._y_scores.metric, self._y_scores.y[rows], self._y_scores.classes
        )
        S = sub.scores(P, w_in)
        full = sub.scores(P, np.ones((1, len(rows))))[0]
        if not np.isfinite(full).any():
            return []
        best = int(np.nanargmax(full))
        worse = (S < S[:, [best]]).mean(axis=0)
        droppable = set(droppable)
        hopeless = (worse >= _DROP_CONFIDENCE) & (np.arange(len(pool)) != best)
        return [c for j, c in enumerate(pool) if c in droppable and hopeless[j]]

    def _warn_failures(self, fold_results, candidates, entries):
        from sklearn.exceptions import FitFailedWarning

        errors = [
            (entries[candidates[c][0]][0], r["fit_error"])
            for c, res in enumerate(fold_results)
            for r in res
            if r is not None and r["fit_error"] is not None
        ]
        if errors:
            shown = "\n".join(f"  {name}: {err}" for name, err in errors[:5])
            warnings.warn(
                f"{len(errors)} fit(s) failed and scored error_score={self.error_score!r}:\n{shown}",
                FitFailedWarning,
                stacklevel=3,
            )

    def _results(self, candidates, entries, fold_results, status):
        from scipy.stats import rankdata

        n_cand = len(candidates)
        results = {
            "strategy": np.array([entries[s][0] for s, _ in candidates], dtype=object),
            "status": np.array(status, dtype=object),
            "n_folds_done": np.array([sum(r is not None for r in res) for res in fold_results]),
        }
        for key in ("fit_time", "score_time"):
            times = np.array([[r[key] if r else np.nan for r in res] for res in fold_results])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                results[f"mean_{key}"] = np.nanmean(times, axis=1) if n_cand else times
                results[f"std_{key}"] = np.nanstd(times, axis=1) if n_cand else times
        names = sorted({k for _, p in candidates for k in p})
        for key in names:
            column = np.ma.MaskedArray(np.empty(n_cand, dtype=object), mask=True)
            for c, (_, p) in enumerate(candidates):
                if key in p:
                    column[c] = p[key]
            results[f"param_{key}"] = column
        results["params"] = [p for _, p in candidates]
        for metric in self.scorer_:
            split = np.array(
                [[r["scores"][metric] if r else np.nan for r in res] for res in fold_results], dtype=float
            ).reshape(n_cand, self.n_splits_)
            for k in range(self.n_splits_):
                results[f"split{k}_test_{metric}"] = split[:, k]
            mean, std = split.mean(axis=1), split.std(axis=1)
            results[f"mean_test_{metric}"] = mean
            results[f"std_test_{metric}"] = std
            ranked = np.where(np.isnan(mean), np.nanmin(mean) - 1 if np.isfinite(mean).any() else 0, mean)
            results[f"rank_test_{metric}"] = rankdata(-ranked, method="min").astype(np.int32)
        return results

    def _primary(self):
        return next(iter(self.scorer_))

    def _sem(self):
        r = self.cv_results_
        return np.asarray(r[f"std_test_{self._primary()}"], dtype=float) / np.sqrt(self.n_splits_)

    def _order(self):
        names = [e[0] for e in self._entries()]
        order = np.array([names.index(s) for s in self.cv_results_["strategy"]], dtype=float)
        order[self._baseline_mask()] = -1.0
        return order

    def _baseline_mask(self):
        return np.asarray(self.cv_results_["strategy"] == self.baseline, dtype=bool)

    def _best_index(self):
        mean = np.asarray(self.cv_results_[f"mean_test_{self._primary()}"], dtype=float)
        if callable(self.refit):
            index = self.refit(self.cv_results_)
            if not isinstance(index, Integral) or not 0 <= index < len(mean):
                raise IndexError(f"refit callable returned {index!r}; expected an index into cv_results_")
            return int(index)
        return int(self._choose(mean[None, :])[0])

    def _choose(self, S):
        """The candidate each weighting's rule chooses (in-bag): best (or the baseline), or one-se."""
        if self.refit == "one-se":
            return one_se_choice(S, self._sem(), self._order())
        null = self._baseline_mask()
        if null.any():  # the one-se rule with the baseline as the only simpler candidate
            return one_se_choice(S, self._sem(), np.where(null, 0.0, 1.0))
        return np.where(np.isnan(S), -np.inf, S).argmax(axis=1)

    def _weights(self, n_bootstrap):
        n = len(self._y_scores.y)
        return bootstrap_weights(n, n_bootstrap, groups=self._groups, random_state=self._seed)

    def _bbc(self, oof, resamples):
        """BBC-CV: the in-bag choice scored out of bag, over ``n_bootstrap`` resamples."""
        usable = np.isfinite(oof).all(axis=(1, 2))
        P = np.where(usable[:, None, None], oof, np.nan)
        w_in, w_out = resamples
        S_in = self._y_scores.scores(P, w_in)
        S_out = self._y_scores.scores(np.nan_to_num(P), w_out)
        S_out[:, ~usable] = np.nan
        pick = self._choose(S_in)
        chosen = S_out[np.arange(len(pick)), pick]
        values = chosen[np.isfinite(chosen)]
        estimate = {
            "method": "bbc",
            "mean": float(values.mean()),
            "ci_low": float(np.percentile(values, 2.5)),
            "ci_high": float(np.percentile(values, 97.5)),
            "n_bootstrap": int(self.n_bootstrap),
            "candidate_oob": _nanmean(S_out),
            "chosen_share": np.bincount(pick, minlength=oof.shape[0]) / len(pick),
        }
        return estimate, {"chosen": chosen, "candidates": S_out}

    def _fall_back_by_the_estimate(self, candidates_oob, chosen):
        """The baseline, when its out-of-bag score is at least the estimate of what the rule chose.

        The in-bag rule's choice (or the ensemble) and the baseline are scored
        on the same resamples' out-of-bag rows; the higher mean wins, as the
        ensemble wins over the candidate. A chosen baseline's estimate is its
        own out-of-bag scores': it is one fixed model, not a choice among many.
        """
        null = np.flatnonzero(self._baseline_mask())
        if not len(null) or callable(self.refit):
            return
        b = int(null[0])
        if self.choice_ != "candidate" or self.best_index_ != b:
            base = candidates_oob[: len(chosen), b]  # the ensemble's resamples are the first of the set
            paired = np.isfinite(chosen) & np.isfinite(base)
            if not paired.any() or base[paired].mean() < chosen[paired].mean():
                return
            self.choice_, self.best_index_ = "candidate", b
        self.chosen_estimate_ = _interval(candidates_oob[:, b])

    def _ensemble(self, oof, status, resamples):
        """Greedy selection on every row; its estimate with the selection redone in-bag."""
        usable = np.array([st == COMPLETE for st in status]) & np.isfinite(oof).all(axis=(1, 2))
        if self.classes_ is not None:  # soft voting needs probabilities: one-hot labels are left out
            usable &= ~np.all(np.isin(np.nan_to_num(oof), (0.0, 1.0)), axis=(1, 2))
        if usable.sum() < 2:
            return None, None
        idx = np.flatnonzero(usable)
        P = oof[idx]
        n = P.shape[1]
        full = self._y_scores.scores(P, np.ones((1, n)))[0]
        top = idx[np.argsort(-np.nan_to_num(full, nan=-np.inf), kind="stable")[:_ENSEMBLE_POOL]]
        counts = greedy_ensemble(oof, self._y_scores, np.ones((1, n)), pool=top[None, :])[0]
        members = np.flatnonzero(counts)
        weights = counts[members] / counts.sum()
        average = np.tensordot(weights, oof[members], axes=1)
        result = {
            "members": [int(m) for m in members],
            "weights": [float(w) for w in weights],
            "oof_score": float(self._y_scores.scores(average[None], np.ones((1, n)))[0, 0]),
            "estimate": None,
            "candidate_estimate": None,
        }
        if resamples is None:
            return result, None
        w_in, w_out = resamples
        w_in, w_out = w_in[:_ENSEMBLE_BOOTSTRAP], w_out[:_ENSEMBLE_BOOTSTRAP]
        P_all = np.where(usable[:, None, None], oof, np.nan)
        S_in = self._y_scores.scores(P_all, w_in)
        ranked = np.argsort(-np.where(np.isnan(S_in), -np.inf, S_in), axis=1, kind="stable")
        pool = ranked[:, : min(_ENSEMBLE_POOL, int(usable.sum()))]
        counts = greedy_ensemble(np.nan_to_num(oof), self._y_scores, w_in, pool=pool)
        averaged = np.einsum("bc,cnk->bnk", counts / counts.sum(axis=1, keepdims=True), np.nan_to_num(oof))
        ens = self._y_scores.paired_scores(averaged, w_out)
        pick = self._choose(S_in)
        single = self._y_scores.scores(np.nan_to_num(oof), w_out)[np.arange(len(pick)), pick]
        result["estimate"] = _interval(ens)
        result["candidate_estimate"] = _interval(single)
        return result, ens

    def _build(self, entries, candidates, stages):
        """The chosen model, unfitted: the feature stage, then the candidate or the voting ensemble."""

        def member(c):
            s, params = candidates[c]
            return clone(entries[s][1]).set_params(**params), entries[s][3]

        if self.choice_ != "ensemble":
            est, stage = member(self.best_index_)
            return self._pipeline(self._stage(stages, stage), est)
        chosen = [member(c) for c in self.ensemble_["members"]]
        same = len({stage for _, stage in chosen}) == 1
        named = [
            (f"c{c}", est if same else self._pipeline(self._stage(stages, stage), est))
            for c, (est, stage) in zip(self.ensemble_["members"], chosen)
        ]
        weights = self.ensemble_["weights"]
        # the members are fitted side by side, with the search's n_jobs
        vote = (
            EnsembleClassifier(named, voting="soft", weights=weights, n_jobs=self.n_jobs)
            if self._classifier
            else EnsembleRegressor(named, weights=weights, n_jobs=self.n_jobs)
        )
        return self._pipeline(self._stage(stages, chosen[0][1]), vote) if same else vote

    # ------------------------------------------------------------------ delegation
    @available_if(_delegate("predict"))
    def predict(self, X):
        """Predict with ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_delegate("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @available_if(_delegate("decision_function"))
    def decision_function(self, X):
        """Decision function of ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.decision_function(X)

    def score(self, X, y=None):
        """The first scorer on ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return next(iter(self.scorer_.values()))(self.best_estimator_, X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            first = self.strategies[0][1]
            sub = first.__sklearn_tags__()
        except (TypeError, IndexError, AttributeError):
            return tags
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = sub.classifier_tags
        tags.regressor_tags = sub.regressor_tags
        tags.target_tags.required = sub.target_tags.required
        tags.input_tags.sparse = sub.input_tags.sparse and self.features is None
        tags.input_tags.pairwise = sub.input_tags.pairwise
        tags.input_tags.allow_nan = sub.input_tags.allow_nan
        return tags


def nested_estimate(search, X, y=None, *, groups=None, cv=None):
    """The whole search repeated inside outer folds, its choice scored on each outer test fold.

    Parameters
    ----------
    search : StrategySearchCV
        Cloned for every outer fold (with ``estimate="bbc"``, which costs no
        refit and lets the ensemble be chosen as in the search itself).
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), default=None
    groups : array-like of shape (n_samples,), default=None
    cv : int or cross-validation generator, default=None
        The outer folds; None: the search's own ``cv``.

    Returns
    -------
    estimate : dict
        ``method`` ("nested"), ``mean``, ``ci_low``, ``ci_high`` (the mean
        plus or minus a t quantile times the standard error of the outer
        scores), ``scores`` and ``chosen`` (the strategy chosen in each outer
        fold, or "ensemble").
    """
    from scipy import stats

    classifier = is_classifier(search.strategies[0][1])
    cv = check_cv(search.cv if cv is None else cv, y, classifier=classifier)
    outer = list(cv.split(X, y, groups))
    for k, (train, _) in enumerate(outer):  # each inner search must be able to make its folds
        y_train = None if y is None else _safe_indexing(y, train)
        g_train = None if groups is None else _safe_indexing(groups, train)
        try:
            next(iter(check_cv(search.cv, y_train, classifier=classifier).split(train, y_train, g_train)))
        except ValueError as exc:
            held = "" if groups is None else f" and {len(np.unique(g_train))} groups"
            raise ValueError(
                f"Outer fold {k} leaves {len(train)} rows{held} for the inner search, whose cv cannot "
                f"split them ({exc}). Give the inner search fewer folds, or the nested estimate more "
                f"outer folds, so that every outer training set keeps enough groups."
            ) from exc
    scores, chosen = [], []
    for train, test in outer:
        inner = clone(search).set_params(estimate="bbc", progress=False)  # bbc: the ensemble may be chosen
        inner.fit(
            _safe_indexing(X, train),
            _safe_indexing(y, train),
            None if groups is None else _safe_indexing(groups, train),
        )
        scorer = next(iter(inner.scorer_.values()))
        scores.append(float(scorer(inner.best_estimator_, _safe_indexing(X, test), _safe_indexing(y, test))))
        best = str(inner.cv_results_["strategy"][inner.best_index_])
        chosen.append("ensemble" if inner.choice_ == "ensemble" else best)
    scores = np.asarray(scores)
    k = len(scores)
    half = stats.t.ppf(0.975, k - 1) * scores.std(ddof=1) / np.sqrt(k) if k > 1 else np.nan
    return {
        "method": "nested",
        "mean": float(scores.mean()),
        "ci_low": float(scores.mean() - half),
        "ci_high": float(scores.mean() + half),
        "scores": [float(v) for v in scores],
        "chosen": chosen,
    }


def _interval(values):
    values = values[np.isfinite(values)]
    return {
        "method": "bbc",
        "n_bootstrap": len(values),
        "mean": float(values.mean()),
        "ci_low": float(np.percentile(values, 2.5)),
        "ci_high": float(np.percentile(values, 97.5)),
    }


def _nanmean(values):
    """Column means over the finite entries; NaN for a column with none (no warning)."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)
