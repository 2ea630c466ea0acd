"""StrategySearchCV against GridSearchCV and cross_val_predict, and what it derives from its predictions."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    ShuffleSplit,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeRegressor

from mmsk import persist
from mmsk.fusion import EarlyFusionClassifier, FusionClassifier, LateFusionClassifier
from mmsk.model_selection import (
    EnsembleClassifier,
    EnsembleRegressor,
    StrategySearchCV,
    fusion_leaderboard,
    nested_estimate,
)


def three_views(n=240, seed=0, labels=None):
    """View a carries the class, b a little of it, c none."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n) if labels is None else labels
    a = rng.normal(size=(n, 4)) + 1.2 * y[:, None]
    b = rng.normal(size=(n, 4)) + 0.4 * y[:, None]
    c = rng.normal(size=(n, 4))
    cols = [f"{v}__{i}" for v in "abc" for i in range(4)]
    return pd.DataFrame(np.hstack([a, b, c]), columns=cols), y


STRATEGIES = [
    ("baseline", DummyClassifier(), {}),
    (
        "early",
        EarlyFusionClassifier(LogisticRegression()),
        {"scale": ["standard", "block"], "estimator__C": [0.1, 1]},
    ),
    ("late", LateFusionClassifier(LogisticRegression()), {"voting": ["soft", "stacking"]}),
]


def only(view):
    """A logistic regression on one view's columns."""
    pick = ColumnTransformer([(view, "passthrough", make_column_selector(pattern=f"^{view}__"))])
    return Pipeline([("pick", pick), ("lr", LogisticRegression())])


CV = StratifiedKFold(3, shuffle=True, random_state=0)


def split_scores(results, rows):
    return np.array([[results[f"split{k}_test_score"][j] for k in range(3)] for j in rows])


def test_scores_and_predictions_equal_grid_search_and_cross_val_predict():
    X, y = three_views()
    search = StrategySearchCV(STRATEGIES, cv=CV, drop=False, random_state=0).fit(X, y)
    results = search.cv_results_
    for name, estimator, grid in STRATEGIES:
        rows = np.flatnonzero(results["strategy"] == name)
        reference = GridSearchCV(estimator, grid, cv=CV).fit(X, y)
        assert [results["params"][j] for j in rows] == reference.cv_results_["params"]
        np.testing.assert_array_equal(
            split_scores(results, rows), split_scores(reference.cv_results_, range(len(rows)))
        )
        for j, params in zip(rows, reference.cv_results_["params"]):
            expected = cross_val_predict(estimator.set_params(**params), X, y, cv=CV, method="predict_proba")
            np.testing.assert_allclose(search.oof_predictions_[j], expected, rtol=1e-12)
    folds = np.empty(len(y), dtype=int)
    for k, (_, test) in enumerate(CV.split(X, y)):
        folds[test] = k
    np.testing.assert_array_equal(search.oof_folds_, folds)
    board = fusion_leaderboard(search)
    assert sorted(set(board["strategy"])) == ["baseline", "early", "late"]
    assert board["mean_score"].iloc[0] == pytest.approx(search.best_score_)


#: The rows of each ``predict`` call of the counting estimators below (the search runs in this process).
PREDICTED = []


class CountingRidge(Ridge):
    def predict(self, X):
        PREDICTED.append(len(X))
        return super().predict(X)


class CountingLinearSVC(LinearSVC):
    def predict(self, X):
        PREDICTED.append(len(X))
        return super().predict(X)


@pytest.mark.parametrize(
    ("estimator", "scoring", "target"),
    [(CountingRidge(), "r2", "values"), (CountingLinearSVC(), "accuracy", "labels")],
    ids=["regressor", "classifier-without-probabilities"],
)
def test_each_fold_predicts_once_for_its_score_and_its_stored_predictions(estimator, scoring, target):
    X, labels = three_views(n=120)
    y = X["a__0"].to_numpy() if target == "values" else labels
    cv = KFold(3, shuffle=True, random_state=0)
    PREDICTED.clear()
    search = StrategySearchCV([("m", estimator, {})], scoring=scoring, cv=cv, drop=False, ensemble=False,
                              estimate="none", refit=False).fit(X, y)  # fmt: skip
    assert PREDICTED == [40, 40, 40]  # one call per fold: the scorer's, and the stored predictions
    reference = GridSearchCV(estimator, {}, scoring=scoring, cv=cv).fit(X, y)
    np.testing.assert_array_equal(
        split_scores(search.cv_results_, [0]), split_scores(reference.cv_results_, [0])
    )


def test_deep_candidates_match_grid_search_within_tolerance():
    X, y = three_views(n=150)
    net = FusionClassifier(hidden=8, embed_dim=4, max_epochs=5, batch_size=64, random_state=0)
    strategies = [("deep", net, {"fusion": ["concat", "attention"]})]
    search = StrategySearchCV(strategies, cv=CV, drop=False, ensemble=False, random_state=0).fit(X, y)
    reference = GridSearchCV(net, {"fusion": ["concat", "attention"]}, cv=CV).fit(X, y)
    np.testing.assert_allclose(
        split_scores(search.cv_results_, [0, 1]), split_scores(reference.cv_results_, [0, 1]), rtol=1e-5
    )


def test_a_cv_that_is_not_a_partition_is_refused():
    X, y = three_views(n=60)
    with pytest.raises(ValueError, match="exactly one test fold"):
        StrategySearchCV(STRATEGIES[:1], cv=ShuffleSplit(3, test_size=0.2, random_state=0)).fit(X, y)


def test_bbc_estimate_of_random_labels_is_not_optimistic():
    """On labels unrelated to X, the best CV score is above chance and the BBC estimate is not."""
    rng = np.random.default_rng(1)
    gaps, optimism = [], []
    for seed in range(3):
        labels = rng.integers(0, 2, 150)
        X, _ = three_views(n=150, seed=seed, labels=np.zeros(150, dtype=int))
        strategies = (
            [("baseline", DummyClassifier(), {})]
            + [(f"lr{c}", LogisticRegression(C=c), {}) for c in (0.01, 0.1, 1, 10)]
            + [("late", LateFusionClassifier(LogisticRegression()), {})]
        )
        search = StrategySearchCV(
            strategies,
            cv=KFold(5, shuffle=True, random_state=seed),
            drop=False,
            ensemble=False,
            random_state=seed,
        ).fit(X, labels)
        baseline_oob = search.estimate_["candidate_oob"][0]
        gaps.append(search.estimate_["mean"] - baseline_oob)
        optimism.append(search.best_score_ - search.estimate_["mean"])
    assert abs(np.mean(gaps)) < 0.05
    assert np.mean(optimism) > 0


def test_the_baseline_is_chosen_unless_the_best_beats_it_by_more_than_its_standard_error():
    """On labels unrelated to X, the best candidate beats the baseline on the folds by chance; the
    rule then falls back to the baseline, in the choice and in-bag (the bootstrap chooses the baseline
    more often). On labels that X carries, it changes nothing."""
    rng = np.random.default_rng(1)
    strategies = [("baseline", DummyClassifier(), {})] + [
        (f"lr{c}", LogisticRegression(C=c), {}) for c in (0.01, 0.1, 1, 10, 100)
    ]
    fallbacks, shares = 0, []
    for seed in range(4):
        labels = rng.integers(0, 2, 150)
        # none of these candidates reads views: an array spares each of the 360 fits pandas' checks
        X = three_views(n=150, seed=seed, labels=np.zeros(150, dtype=int))[0].to_numpy()
        kw = dict(cv=StratifiedKFold(5, shuffle=True, random_state=seed), drop=False, ensemble=False,
                  refit=False, random_state=seed)  # fmt: skip
        plain = StrategySearchCV(strategies, **kw).fit(X, labels)
        rule = StrategySearchCV(strategies, baseline="baseline", estimate="none", **kw).fit(X, labels)
        guarded = StrategySearchCV(strategies, baseline="baseline", **kw).fit(X, labels)
        mean = plain.cv_results_["mean_test_score"]
        sem = plain.cv_results_["std_test_score"] / np.sqrt(5)
        best = int(np.argmax(mean))
        expected = 0 if mean[0] >= mean[best] - sem[best] else best
        assert rule.best_index_ == expected
        fallbacks += expected == 0
        np.testing.assert_array_equal(guarded.cv_results_["mean_test_score"], mean)
        shares.append((guarded.estimate_["chosen_share"][0], plain.estimate_["chosen_share"][0]))
    assert fallbacks >= 1
    assert all(g >= p for g, p in shares) and sum(g - p for g, p in shares) > 0.3
    X, y = three_views()
    kw = dict(cv=CV, drop=False, ensemble=False, refit=False, random_state=0)
    signal = StrategySearchCV(STRATEGIES, baseline="baseline", **kw).fit(X, y)
    assert signal.best_index_ == StrategySearchCV(STRATEGIES, **kw).fit(X, y).best_index_ != 0
    assert signal.estimate_["chosen_share"][0] == 0
    with pytest.raises(ValueError, match="baseline 'dummy' is not one of the strategies"):
        StrategySearchCV(STRATEGIES, baseline="dummy", **kw).fit(X, y)


def test_the_estimate_chooses_the_baseline_when_the_choice_does_not_beat_it_out_of_bag():
    """After the rule, the estimate has the last word: the baseline is chosen when its mean out-of-bag
    score is at least the estimate of the rule's choice, and its own out-of-bag scores are the chosen
    model's estimate whichever chose it. On labels that X carries, nothing changes."""
    rng = np.random.default_rng(2)
    strategies = [
        ("baseline", DummyClassifier(), {}),
        ("knn", KNeighborsClassifier(), {"n_neighbors": [1, 3, 5, 9, 15, 25]}),
    ]
    late = 0
    for seed in range(6):
        labels = (rng.random(100) < 0.4).astype(int)  # unbalanced: a noise model scores below the majority
        X = three_views(n=100, seed=seed, labels=np.zeros(100, dtype=int))[0].to_numpy()
        kw = dict(cv=StratifiedKFold(5, shuffle=True, random_state=seed), drop=False, refit=False,
                  ensemble=False, baseline="baseline", random_state=seed)  # fmt: skip
        rule = StrategySearchCV(strategies, estimate="none", **kw).fit(X, labels)
        search = StrategySearchCV(strategies, **kw).fit(X, labels)
        estimate, base_oob = search.estimate_, search.estimate_["candidate_oob"][0]
        if rule.best_index_ == 0 or base_oob >= estimate["mean"]:
            late += rule.best_index_ != 0
            assert (search.best_index_, search.choice_) == (0, "candidate")
            assert search.best_score_ == search.cv_results_["mean_test_score"][0]
            assert search.chosen_estimate_["mean"] == pytest.approx(base_oob)
            assert search.chosen_estimate_["ci_low"] <= base_oob <= search.chosen_estimate_["ci_high"]
        else:
            assert search.best_index_ == rule.best_index_ and search.chosen_estimate_ is estimate
    assert late >= 1
    X, y = three_views()
    kw = dict(cv=CV, drop=False, refit=False, random_state=0)
    signal = StrategySearchCV(STRATEGIES, baseline="baseline", **kw).fit(X, y)
    assert signal.best_index_ == StrategySearchCV(STRATEGIES, **kw).fit(X, y).best_index_ != 0
    assert signal.chosen_estimate_["mean"] > signal.estimate_["candidate_oob"][0] + 0.2


def test_a_hopeless_candidate_is_dropped_and_kept_in_the_results_marked():
    X, y = three_views(n=300)
    strategies = [
        ("only a", only("a"), {}),
        ("only c", only("c"), {}),
    ]
    cv = StratifiedKFold(6, shuffle=True, random_state=0)
    search = StrategySearchCV(strategies, cv=cv, random_state=0).fit(X, y)
    results = search.cv_results_
    assert list(results["status"]) == ["complete", "dropped"]
    assert results["n_folds_done"][1] == 2
    assert np.isnan(results["mean_test_score"][1])
    assert np.isnan(search.oof_predictions_[1]).any() and not np.isnan(search.oof_predictions_[0]).any()
    assert search.best_index_ == 0
    kept = StrategySearchCV(strategies, cv=cv, drop=False, random_state=0).fit(X, y)
    assert list(kept.cv_results_["status"]) == ["complete", "complete"]
    np.testing.assert_array_equal(kept.cv_results_["split0_test_score"], results["split0_test_score"])


def two_halves(n=300):
    """Views a and b, each carrying the class as much as the other: their average beats either."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    X = pd.DataFrame(
        np.hstack([rng.normal(size=(n, 3)) + 0.8 * y[:, None], rng.normal(size=(n, 3)) + 0.8 * y[:, None]]),
        columns=[f"{v}__{i}" for v in "ab" for i in range(3)],
    )
    return X, y


def test_complementary_views_choose_the_ensemble_which_round_trips(tmp_path):
    """Two views that each carry half of the class: their average beats either, and the bootstrap says so."""
    X, y = two_halves()
    strategies = [
        ("only a", only("a"), {}),
        ("only b", only("b"), {}),
    ]
    search = StrategySearchCV(strategies, cv=CV, random_state=0).fit(X, y)
    ensemble = search.ensemble_
    assert search.choice_ == "ensemble"
    assert ensemble["members"] == [0, 1] and np.isclose(sum(ensemble["weights"]), 1)
    assert ensemble["estimate"]["mean"] > ensemble["candidate_estimate"]["mean"]
    assert ensemble["estimate"]["ci_low"] <= ensemble["estimate"]["mean"] <= ensemble["estimate"]["ci_high"]
    vote = search.best_estimator_
    assert isinstance(vote, EnsembleClassifier) and isinstance(vote, VotingClassifier)
    assert vote.weights == ensemble["weights"]
    expected = sum(w * est.predict_proba(X) for w, est in zip(vote.weights, vote.estimators_))
    np.testing.assert_allclose(search.predict_proba(X), expected, rtol=1e-10)
    refit_members = [clone(est).fit(X, y).predict_proba(X) for _, est, _ in strategies]
    np.testing.assert_allclose(expected, sum(w * p for w, p in zip(vote.weights, refit_members)), rtol=1e-10)
    persist.save(vote, tmp_path / "ensemble.skops")
    loaded = persist.load(tmp_path / "ensemble.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), vote.predict_proba(X))
    assert [loaded.named_estimators_[name] for name, _ in vote.estimators] == loaded.estimators_


def test_a_saved_ensemble_holds_each_member_once(tmp_path):
    X, y = three_views(n=200)
    forest = RandomForestClassifier(50, random_state=0)
    members = [("forest", forest), ("linear", LogisticRegression())]
    ours = EnsembleClassifier(members, weights=[0.5, 0.5]).fit(X, y)
    theirs = VotingClassifier(members, voting="soft", weights=[0.5, 0.5]).fit(X, y)
    for model, name in ((ours, "ours.skops"), (theirs, "theirs.skops")):
        persist.save(model, tmp_path / name)
    # the forest's state makes most of either file: once in ours, twice in scikit-learn's
    assert (tmp_path / "ours.skops").stat().st_size < 0.6 * (tmp_path / "theirs.skops").stat().st_size
    loaded = persist.load(tmp_path / "ours.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), theirs.predict_proba(X))
    assert loaded.named_estimators_["forest"] is loaded.estimators_[0]
    assert loaded.get_params()["weights"] == [0.5, 0.5]
    regressor = EnsembleRegressor([("tree", DecisionTreeRegressor(random_state=0)), ("ridge", Ridge())])
    regressor.fit(X, y.astype(float))
    persist.save(regressor, tmp_path / "regressor.skops")
    again = persist.load(tmp_path / "regressor.skops")
    np.testing.assert_array_equal(again.predict(X), regressor.predict(X))
    assert sorted(again.named_estimators_) == ["ridge", "tree"]


def test_one_se_callable_and_no_refit():
    X, y = three_views()
    best = StrategySearchCV(STRATEGIES, cv=CV, drop=False, ensemble=False, random_state=0).fit(X, y)
    one_se = StrategySearchCV(STRATEGIES, cv=CV, drop=False, ensemble=False, refit="one-se", random_state=0)
    one_se.fit(X, y)
    mean = best.cv_results_["mean_test_score"]
    sem = best.cv_results_["std_test_score"] / np.sqrt(3)
    near = np.flatnonzero(mean >= mean[best.best_index_] - sem[best.best_index_])
    order = [["baseline", "early", "late"].index(s) for s in best.cv_results_["strategy"]]
    simplest = min(order[j] for j in near)
    assert order[one_se.best_index_] == simplest
    last = StrategySearchCV(STRATEGIES, cv=CV, drop=False, refit=lambda r: len(r["params"]) - 1).fit(X, y)
    assert last.best_index_ == len(last.cv_results_["params"]) - 1
    assert isinstance(last.best_estimator_, LateFusionClassifier)
    none = StrategySearchCV(STRATEGIES, cv=CV, refit=False).fit(X, y)
    assert not hasattr(none, "best_estimator_")
    with pytest.raises(NotFittedError):
        none.predict(X)


def test_time_limit_skips_all_but_the_strategies_that_always_run():
    X, y = three_views(n=90)
    search = StrategySearchCV(STRATEGIES, cv=CV, time_limit=0, always_run=["baseline", "late"]).fit(X, y)
    status = dict(zip(search.cv_results_["strategy"], search.cv_results_["status"]))
    assert status == {"baseline": "complete", "early": "skipped", "late": "complete"}


class SlowDummy(DummyClassifier):
    """A dummy classifier whose fit takes ``seconds``."""

    def __init__(self, seconds=0.3):
        self.seconds = seconds
        super().__init__()

    def fit(self, X, y, sample_weight=None):
        import time

        time.sleep(self.seconds)
        return super().fit(X, y, sample_weight)


def test_a_strategy_begun_before_the_time_limit_runs_no_folds_after_it():
    """Its first fold (dropping's first round) ran; past the limit, its other folds do not."""
    X, y = three_views(n=90)
    strategies = [("baseline", DummyClassifier(), {}), ("slow", SlowDummy(seconds=0.3), {})]
    search = StrategySearchCV(strategies, cv=CV, time_limit=0.2, always_run=["baseline"]).fit(X, y)
    results = search.cv_results_
    assert list(results["status"]) == ["complete", "skipped"]
    assert list(results["n_folds_done"]) == [3, 1]
    assert np.isnan(results["split1_test_score"][1]) and np.isfinite(results["split0_test_score"][1])
    assert search.best_index_ == 0
    unlimited = StrategySearchCV(strategies, cv=CV, always_run=["baseline"]).fit(X, y)
    assert list(unlimited.cv_results_["status"]) == ["complete", "complete"]


def test_groups_reach_the_splitter_and_regression_keeps_values():
    rng = np.random.default_rng(0)
    X, _ = three_views(n=120)
    y = X["a__0"].to_numpy() * 2 + rng.normal(scale=0.5, size=120)
    groups = np.repeat(np.arange(12), 10)
    strategies = [("mean", DummyRegressor(), {}), ("ridge", Ridge(), {"alpha": [0.1, 10.0]})]
    search = StrategySearchCV(strategies, cv=GroupKFold(4), random_state=0).fit(X, y, groups=groups)
    for g in range(12):
        assert len(set(search.oof_folds_[groups == g])) == 1
    expected = cross_val_predict(Ridge(alpha=0.1), X, y, cv=GroupKFold(4), groups=groups)
    np.testing.assert_allclose(search.oof_predictions_[1, :, 0], expected)
    assert search.estimate_["mean"] > 0.5 and search.best_params_ in ({"alpha": 0.1}, {"alpha": 10.0})


def test_masking_a_view_costs_the_score_of_the_view_that_carries_the_class():
    X, y = three_views(n=300)
    strategies = [("late", LateFusionClassifier(LogisticRegression()), {})]
    search = StrategySearchCV(strategies, cv=CV, importance=True, ensemble=False).fit(X, y)
    assert search.masked_views_ == ["a", "b", "c"]
    assert search.masked_predictions_.shape == (1, 3, 300, 2)
    full = (search.oof_predictions_[0].argmax(axis=1) == y).mean()
    masked = (search.masked_predictions_[0].argmax(axis=2) == y).mean(axis=1)
    drop = full - masked
    assert drop[0] > 0.15 and drop[0] > drop[1] > drop[2] - 0.02
    assert abs(drop[2]) < 0.03


def test_masked_predictions_of_a_late_fusion_equal_predicting_a_masked_copy():
    X, y = three_views(n=150)
    late = LateFusionClassifier(LogisticRegression())
    strategies = [("late", late, {"voting": ["soft", "product", "stacking"]})]
    search = StrategySearchCV(strategies, cv=CV, importance=True, ensemble=False, drop=False).fit(X, y)
    for j, params in enumerate(search.cv_results_["params"]):
        for train, test in CV.split(X, y):
            model = clone(late).set_params(**params).fit(X.iloc[train], y[train])
            for v, view in enumerate(search.masked_views_):
                masked = X.iloc[test].copy()
                masked.loc[:, masked.columns.str.startswith(f"{view}__")] = np.nan
                np.testing.assert_allclose(
                    search.masked_predictions_[j, v, test], model.predict_proba(masked), rtol=1e-12
                )


def test_masked_predictions_of_any_model_equal_predicting_each_masked_copy_alone():
    X, y = three_views(n=150)
    imputing = Pipeline([("impute", SimpleImputer()), ("model", LogisticRegression())])
    decisions = Pipeline([("impute", SimpleImputer()), ("model", LinearSVC())])
    cannot = LogisticRegression()
    strategies = [("imputing", imputing, {}), ("decisions", decisions, {}), ("no nan", cannot, {})]
    search = StrategySearchCV(strategies, cv=CV, importance=True, ensemble=False, drop=False).fit(X, y)
    assert search.masked_views_ == ["a", "b", "c"]
    calibrated = search.calibrated_
    for j, (_, model, _) in enumerate(strategies):
        for train, test in CV.split(X, y):
            fitted = clone(model).fit(X.iloc[train], y[train])
            for v, view in enumerate(search.masked_views_):
                masked = X.iloc[test].copy()
                masked.loc[:, masked.columns.str.startswith(f"{view}__")] = np.nan
                got = search.masked_predictions_[j, v, test]
                if j == 0:
                    np.testing.assert_allclose(got, fitted.predict_proba(masked), rtol=1e-12)
                elif j == 1:  # decision values, calibrated on the fold's training rows as the unmasked ones
                    assert j in calibrated
                    order = np.argsort(fitted.decision_function(masked))
                    assert np.all(np.diff(got[order, 1]) >= -1e-12)  # the same ranking as the decisions
                else:  # a model that cannot predict with a missing value: no importance, not a crash
                    assert np.isnan(got).all()


def test_nested_estimate_repeats_the_search_in_outer_folds():
    X, y = three_views(n=150)
    search = StrategySearchCV(STRATEGIES[:2], cv=3, estimate="nested", random_state=0).fit(X, y)
    estimate = search.estimate_
    assert estimate["method"] == "nested" and len(estimate["scores"]) == 3
    assert set(estimate["chosen"]) <= {"baseline", "early", "ensemble"}
    assert estimate["ci_low"] <= estimate["mean"] <= estimate["ci_high"]
    assert estimate["mean"] > 0.7


def test_nested_estimate_says_when_an_outer_fold_leaves_too_few_groups_for_the_inner_folds():
    from sklearn.model_selection import GroupKFold

    X, y = three_views(n=120)
    groups = np.arange(120) % 6  # six speakers: an outer third leaves four, and the inner search wants five
    search = StrategySearchCV(STRATEGIES[:1], cv=GroupKFold(5))
    with pytest.raises(ValueError, match=r"Outer fold 0 leaves 80 rows and 4 groups for the inner search"):
        nested_estimate(search, X, y, groups=groups, cv=GroupKFold(3))
    estimate = nested_estimate(search, X, y, groups=groups, cv=GroupKFold(6))  # five groups in each
    assert len(estimate["scores"]) == 6


def test_a_strategy_reads_two_feature_stages_side_by_side(tmp_path):
    """Scaled numbers from one stage, a raw text column from another: one frame, fold by fold and at refit."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    X, y = three_views(n=150)
    rng = np.random.default_rng(1)
    X["note"] = [f"{'good' if label else 'bad'} w{rng.integers(50)}" for label in y]
    scaled = ColumnTransformer([("a", StandardScaler(), ["a__0", "a__1"])]).set_output(transform="pandas")
    raw = ColumnTransformer([("note", "passthrough", ["note"])]).set_output(transform="pandas")
    words = Pipeline(
        [("text", FunctionTransformer(lambda t: t.iloc[:, 0].fillna(""))), ("tfidf", TfidfVectorizer())]
    )
    model = Pipeline(
        [
            (
                "pick",
                ColumnTransformer(
                    [("words", words, ["note__note"]), ("a", "passthrough", ["a__a__0", "a__a__1"])]
                ),
            ),
            ("lr", LogisticRegression()),
        ]
    )
    strategies = [("baseline", DummyClassifier(), {}, "scaled"), ("both", model, {}, ("scaled", "raw"))]
    search = StrategySearchCV(
        strategies,
        features=[("scaled", scaled), ("raw", raw)],
        cv=CV,
        drop=False,
        ensemble=False,
        importance=True,
    ).fit(X, y)
    both = ColumnTransformer(
        [("scaled", scaled, make_column_selector()), ("raw", raw, make_column_selector())],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    reference = Pipeline([("features", both), ("model", model)])
    expected = cross_val_predict(reference, X, y, cv=CV, method="predict_proba")
    np.testing.assert_allclose(search.oof_predictions_[1], expected, rtol=1e-12)
    np.testing.assert_allclose(
        search.predict_proba(X), clone(reference).fit(X, y).predict_proba(X), rtol=1e-12
    )
    # the raw column is masked with its view: without the note the model is left with view a
    assert search.masked_views_ == ["a", "note"]
    masked_note = search.masked_predictions_[1, 1]
    assert np.isfinite(masked_note).all() and not np.allclose(masked_note, search.oof_predictions_[1])
    with pytest.raises(ValueError, match="reads the feature stage 'nosuch'"):
        StrategySearchCV([("both", model, {}, ("scaled", "nosuch"))], features=[("scaled", scaled)]).fit(X, y)


class CountedSVC(LinearSVC):
    """A linear SVM (decision values, no probabilities) that counts its fits."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_classifier_without_probabilities_is_calibrated_once_from_its_out_of_fold_decisions(tmp_path):
    X, y = three_views(n=240)
    y = np.where(y == 1, "yes", "no")
    CountedSVC.fits = 0
    svm = Pipeline([("impute", SimpleImputer()), ("svm", CountedSVC())])  # a masked view: its means
    strategies = [("baseline", DummyClassifier(), {}), ("svm", svm, {})]
    search = StrategySearchCV(strategies, cv=CV, drop=False, ensemble=False, importance=True, random_state=0)
    search.fit(X, y)
    assert search.calibrated_ == [1] and CountedSVC.fits == 3 + 1  # the folds and the refit, nothing more
    # the refit model is scikit-learn's Platt scaling on cross-validated decision values, exactly
    plain = Pipeline([("impute", SimpleImputer()), ("svm", LinearSVC())])
    reference = CalibratedClassifierCV(plain, method="sigmoid", cv=CV, ensemble=False).fit(X, y)
    np.testing.assert_allclose(search.predict_proba(X), reference.predict_proba(X), rtol=1e-10)
    # stored: probabilities (each fold's rows calibrated on the other folds), not one-hot labels
    oof = search.oof_predictions_[1]
    np.testing.assert_allclose(oof.sum(axis=1), 1.0)
    assert len(np.unique(oof[:, 1].round(6))) > 100
    assert log_loss(y, oof) < log_loss(y, search.oof_predictions_[0])
    masked = search.masked_predictions_[1, search.masked_views_.index("a")]
    assert np.isfinite(masked).all() and log_loss(y, masked) > log_loss(y, oof)  # view a carries the class
    persist.save(search.best_estimator_, tmp_path / "svm.skops")
    loaded = persist.load(tmp_path / "svm.skops", trusted=["test_search.CountedSVC"])
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))


def test_a_calibrated_member_of_the_ensemble_keeps_its_scaling():
    X, y = two_halves()
    svm_b = Pipeline([("pick", only("b").steps[0][1]), ("svm", LinearSVC())])
    search = StrategySearchCV([("only a", only("a"), {}), ("svm b", svm_b, {})], cv=CV, random_state=0).fit(
        X, y
    )
    assert search.choice_ == "ensemble" and search.calibrated_ == [1]
    vote = search.best_estimator_
    reference = CalibratedClassifierCV(svm_b, method="sigmoid", cv=CV, ensemble=False).fit(X, y)
    w = search.ensemble_["weights"]
    expected = w[0] * clone(only("a")).fit(X, y).predict_proba(X) + w[1] * reference.predict_proba(X)
    np.testing.assert_allclose(vote.predict_proba(X), expected, rtol=1e-10)
