"""EarlyFusionClassifier / Regressor: per-view scaling, weights, missing views, cross-view rules."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from mmsk.fusion import EarlyFusionClassifier, EarlyFusionRegressor, LateFusionClassifier


def views(n=400, wide=50, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 3)) * np.array([1.0, 10.0, 100.0])
    b = rng.normal(size=(n, wide))
    cols = [f"a__{i}" for i in range(3)] + [f"b__{i}" for i in range(wide)]
    return pd.DataFrame(np.hstack([a, b]), columns=cols)


def test_block_scaling_gives_every_view_the_same_total_variance():
    X = views()
    y = np.arange(len(X)) % 2
    for scale, expected in (("block", {"a": 1.0, "b": 1.0}), ("standard", {"a": 3.0, "b": 50.0})):
        Z = EarlyFusionClassifier(scale=scale).fit(X, y).fused_features(X)
        total = {"a": Z[:, :3].var(axis=0).sum(), "b": Z[:, 3:53].var(axis=0).sum()}
        assert total == pytest.approx(expected)
        np.testing.assert_array_equal(Z[:, -2:], 1.0)  # presence columns
    Z = EarlyFusionClassifier(view_weights={"b": 0.0}).fit(X, y).fused_features(X)
    assert np.all(Z[:, 3:53] == 0) and Z[:, :3].var(axis=0).sum() == pytest.approx(1.0)


def test_a_missing_view_is_the_mean_plus_a_presence_flag_or_an_error():
    X = views(wide=4)
    y = (X["a__0"] > 0).to_numpy().astype(int)
    X_missing = X.copy()
    X_missing.iloc[:100, 3:] = np.nan
    clf = EarlyFusionClassifier().fit(X_missing, y)
    Z = clf.fused_features(X_missing)
    assert np.all(Z[:100, 3:7] == 0) and np.all(Z[:100, -1] == 0) and np.all(Z[100:, -1] == 1)
    # the view's mean and spread come from the rows that have it
    np.testing.assert_allclose(clf.mean_["b"], X.iloc[100:, 3:].mean().to_numpy())
    assert clf.score(X_missing, y) > 0.9
    with pytest.raises(ValueError, match="Row 0: view 'b' is missing"):
        EarlyFusionClassifier(missing="error").fit(X_missing, y)


def test_early_fusion_learns_a_cross_view_rule_that_late_fusion_cannot():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(1200, 4)), columns=["a__0", "a__1", "b__0", "b__1"])
    y = (X["a__0"] * X["b__0"] > 0).to_numpy().astype(int)
    forest = RandomForestClassifier(n_estimators=100, random_state=0)
    early = EarlyFusionClassifier(forest).fit(X.iloc[:800], y[:800]).score(X.iloc[800:], y[800:])
    late = LateFusionClassifier(forest).fit(X.iloc[:800], y[:800]).score(X.iloc[800:], y[800:])
    assert early > 0.85 and late < 0.65, (early, late)


def test_grid_search_over_scaling_weights_and_the_inner_estimator():
    X = views(wide=30)
    y = (X["a__2"] > 0).to_numpy().astype(int)
    search = GridSearchCV(
        EarlyFusionClassifier(LogisticRegression(max_iter=1000)),
        {"scale": ["block", "none"], "view_weights": [None, {"b": 0.0}], "estimator__C": [0.01, 1.0]},
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > 0.9
    assert search.best_estimator_.estimator_.C in (0.01, 1.0)


def test_regressor_multi_output_and_proba_of_classifier():
    X = views(wide=3)
    Y = np.column_stack([X["a__0"], X["b__1"]])
    reg = EarlyFusionRegressor().fit(X, Y)
    assert reg.predict(X).shape == (len(X), 2) and reg.score(X, Y) > 0.99
    clf = EarlyFusionClassifier().fit(X, np.where(X["a__0"] > 0, "yes", "no"))
    assert list(clf.classes_) == ["no", "yes"] and set(clf.predict(X)) <= {"no", "yes"}
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
