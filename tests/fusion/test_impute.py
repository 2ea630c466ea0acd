"""ViewImputer: every method fills a missing view from the others; present values untouched; pipelines."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from mmsk.fusion import EarlyFusionClassifier, ViewImputer


def linked(n=600, seed=0, curved=False):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-2, 2, size=(n, 2))
    a = z @ rng.normal(size=(2, 5)) + 0.05 * rng.normal(size=(n, 5))
    b_in = np.sin(2 * z) if curved else z
    b = b_in @ rng.normal(size=(2, 3)) + 0.05 * rng.normal(size=(n, 3))
    c = rng.normal(size=(n, 2))
    cols = [f"a__{i}" for i in range(5)] + [f"b__{i}" for i in range(3)] + ["c__0", "c__1"]
    return pd.DataFrame(np.hstack([a, b, c]), columns=cols)


def r2_of_filled(imputer, X, rows, cols):
    X_missing = X.copy()
    X_missing.loc[rows, cols] = np.nan
    filled = imputer.fit(X_missing).transform(X_missing)
    truth, got = X.loc[rows, cols].to_numpy(), filled.loc[rows, cols].to_numpy()
    return 1 - ((got - truth) ** 2).sum() / ((truth - truth.mean(0)) ** 2).sum()


@pytest.mark.parametrize(
    ("method", "curved", "floor"),
    [
        ("ridge", False, 0.95),
        ("cca", False, 0.8),
        ("knn", True, 0.6),
        ("mlp", True, 0.8),
    ],
)
def test_each_method_recovers_a_missing_view(method, curved, floor):
    X = linked(curved=curved)
    b = [c for c in X.columns if c.startswith("b__")]
    imputer = ViewImputer(method=method, random_state=0).set_output(transform="pandas")
    assert r2_of_filled(imputer, X, X.index[:150], b) > floor


def test_non_linear_methods_beat_ridge_on_a_curved_link():
    X = linked(curved=True)
    b = [c for c in X.columns if c.startswith("b__")]
    ridge = r2_of_filled(ViewImputer(method="ridge").set_output(transform="pandas"), X, X.index[:150], b)
    knn = r2_of_filled(ViewImputer(method="knn").set_output(transform="pandas"), X, X.index[:150], b)
    assert knn > ridge + 0.2, (knn, ridge)


def test_present_values_untouched_and_rows_missing_two_views():
    X = linked()
    X_missing = X.copy()
    X_missing.iloc[:20, 5:8] = np.nan  # b missing
    X_missing.iloc[10:30, 8:] = np.nan  # c missing (rows 10-19 miss both)
    imputer = ViewImputer().set_output(transform="pandas").fit(X_missing)
    filled = imputer.transform(X_missing)
    assert list(filled.columns) == list(X.columns) and np.isfinite(filled.to_numpy()).all()
    pd.testing.assert_frame_equal(filled.iloc[30:], X.iloc[30:])
    pd.testing.assert_frame_equal(filled.iloc[:20, :5], X.iloc[:20, :5])
    # b of rows 10-19 comes from a alone (c, missing too, enters at its mean): still close
    assert np.abs(filled.iloc[10:20, 5:8].to_numpy() - X.iloc[10:20, 5:8].to_numpy()).mean() < 0.2


def test_imputation_lets_an_every_view_model_take_rows_with_missing_views():
    X = linked()
    y = (X["b__0"] > X["b__0"].median()).to_numpy().astype(int)
    X_missing = X.copy()
    X_missing.iloc[::3, 5:8] = np.nan
    strict = EarlyFusionClassifier(missing="error")
    with pytest.raises(ValueError, match="needs every view present"):
        strict.fit(X_missing, y)
    pipe = make_pipeline(ViewImputer().set_output(transform="pandas"), strict).fit(
        X_missing.iloc[:400], y[:400]
    )
    assert pipe.score(X_missing.iloc[400:], y[400:]) > 0.9


def test_too_few_complete_rows():
    X = linked(50)
    X.iloc[1:, 5:8] = np.nan
    with pytest.raises(ValueError, match="got 1 sample"):
        ViewImputer().fit(X)
