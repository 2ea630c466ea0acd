"""FusionClassifier: every fusion family, missing modalities, weights, search, early stopping."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV

from mmsk.fusion import FusionClassifier


def two_views(n=600, seed=0):
    """The class is the sign of a product across views: no single view predicts it."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    y = (a[:, 0] * b[:, 0] > 0).astype(int)
    X = pd.DataFrame(np.hstack([a, b]), columns=[f"a__{i}" for i in range(3)] + [f"b__{i}" for i in range(3)])
    return X, y


FAST = dict(hidden=32, embed_dim=8, max_epochs=60, lr=1e-2, batch_size=64, random_state=0)


@pytest.mark.parametrize("fusion", ["concat", "hybrid", "tensor", "low_rank_tensor"])
def test_fusions_with_joint_features_learn_a_cross_view_product(fusion):
    X, y = two_views()
    net = FusionClassifier(fusion=fusion, **FAST).fit(X.iloc[:400], y[:400])
    assert net.score(X.iloc[400:], y[400:]) > 0.8


@pytest.mark.parametrize("fusion", ["attention", "gated"])
def test_weighted_mixtures_of_views_learn_an_additive_cross_view_rule(fusion):
    # attention and gating mix the views' embeddings (a weighted sum), so they reach
    # rules that add evidence across views; a product of views is beyond them
    X, _ = two_views()
    y = (X["a__0"] + X["b__0"] > 0).to_numpy().astype(int)
    net = FusionClassifier(fusion=fusion, **FAST).fit(X.iloc[:400], y[:400])
    assert net.score(X.iloc[400:], y[400:]) > 0.85


def test_late_fusion_cannot_learn_a_cross_view_rule_but_runs():
    # per-view heads never see the other view: the product rule stays out of reach
    X, y = two_views()
    net = FusionClassifier(fusion="late", **FAST).fit(X.iloc[:400], y[:400])
    assert net.score(X.iloc[400:], y[400:]) < 0.7


def test_same_seed_same_model_and_pandas_in():
    X, y = two_views(n=200)
    p1 = FusionClassifier(**FAST).fit(X, y).predict_proba(X)
    p2 = FusionClassifier(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)


def test_missing_views_are_masked_and_weights_renormalised():
    rng = np.random.default_rng(1)
    n = 600
    a = rng.normal(size=(n, 3))
    y = (a[:, 0] > 0).astype(int)
    b = a + 0.1 * rng.normal(size=(n, 3))  # a redundant copy: either view alone suffices
    X = pd.DataFrame(np.hstack([a, b]), columns=[f"a__{i}" for i in range(3)] + [f"b__{i}" for i in range(3)])
    Xm = X.copy()
    Xm.loc[rng.random(n) < 0.3, [f"b__{i}" for i in range(3)]] = np.nan
    net = FusionClassifier(fusion="attention", modality_dropout=0.3, **FAST).fit(Xm.iloc[:400], y[:400])
    test = X.iloc[400:].copy()
    test[[f"b__{i}" for i in range(3)]] = np.nan  # every test row lacks b
    assert net.score(test, y[400:]) > 0.9
    w = net.modality_weights(test)
    assert list(w.columns) == ["a", "b"] and (w["b"] == 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    # masked is not the same as zero-filled: a real all-zero b gets attention
    zeros = test.fillna(0.0)
    assert (net.modality_weights(zeros)["b"] > 0).all()


def test_grid_search_over_every_fusion_family():
    X, y = two_views(n=300)
    grid = GridSearchCV(
        FusionClassifier(hidden=16, embed_dim=4, max_epochs=15, lr=2e-2, random_state=0),
        {"fusion": ["concat", "late", "hybrid", "attention", "tensor", "low_rank_tensor", "gated"]},
        cv=2,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 7
    assert grid.best_params_["fusion"] != "late"


def test_early_stopping_and_errors():
    X, y = two_views(n=300)
    net = FusionClassifier(early_stopping=True, patience=2, max_epochs=200, lr=5e-2, random_state=0).fit(X, y)
    assert len(net.net_.history) < 200
    with pytest.raises(ValueError, match="2 classes; y has 1 class"):
        FusionClassifier().fit(X, np.zeros(len(y)))
    concat = FusionClassifier(fusion="concat", max_epochs=1).fit(X, y)
    assert not hasattr(concat, "modality_weights")
    with pytest.raises(AttributeError, match="has no attribute 'modality_weights'") as info:
        concat.modality_weights(X)
    assert "fusion='concat' has no per-modality weights; use one of ['late'" in str(info.value.__cause__)
    many = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 6)), columns=[f"v{i}__0" for i in range(6)])
    with pytest.raises(ValueError, match="use fusion='low_rank_tensor'"):
        FusionClassifier(fusion="tensor", embed_dim=32).fit(many, np.arange(50) % 2)


def test_regressor_learns_a_cross_view_product_and_handles_missing_views():
    from mmsk.fusion import FusionRegressor

    X, _ = two_views(n=600)
    y = (X["a__0"] * X["b__0"]).to_numpy()
    net = FusionRegressor(fusion="low_rank_tensor", **FAST).fit(X.iloc[:400], y[:400])
    assert net.score(X.iloc[400:], y[400:]) > 0.7
    assert net.predict(X.iloc[400:]).shape == (200,)
    Xm = X.iloc[400:].copy()
    Xm.loc[Xm.index[:50], [f"b__{i}" for i in range(3)]] = np.nan
    assert np.isfinite(net.predict(Xm)).all()
    two = FusionRegressor(**FAST | {"max_epochs": 5}).fit(X, np.column_stack([y, -y]))
    assert two.predict(X).shape == (600, 2) and two.n_outputs_ == 2


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_bad_input_errors_name_the_problem():
    X, y = two_views(n=100)
    net = FusionClassifier(max_epochs=1, random_state=0)
    partial = X.copy()
    partial.iloc[7, 1] = np.nan  # NaN outside a whole missing view
    with pytest.raises(ValueError, match="Row 7: view 'a' has NaN in 1 of its 3 columns"):
        net.fit(partial, y)
    empty = X.copy()
    empty.iloc[9] = np.nan  # a row with every view missing
    with pytest.raises(ValueError, match="Row 9 has every view missing"):
        net.fit(empty, y)
    with pytest.raises(ValueError, match="2 classes; y has 1 class"):
        net.fit(X, np.ones(len(y)))
    fitted = net.fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but FusionClassifier is expecting 6"):
        fitted.predict(X.iloc[:, :5].to_numpy())
    with pytest.raises(ValueError, match="Row 9 has every view missing"):
        fitted.predict(empty)
