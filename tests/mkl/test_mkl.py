"""MKLClassifier and MKLRegressor: weights, views, searches and bad input."""

import pickle

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk.mkl import MKLClassifier, MKLRegressor
from mmsk.mkl._combine import METHODS
from mmsk.plot import plot_kernel_weights


def informative_and_noise(n=300, seed=0):
    """View "signal" decides the class (non-linearly); view "noise" is unrelated."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(n, 3))
    y = (np.linalg.norm(signal, axis=1) > 1.6).astype(int)
    noise = rng.normal(size=(n, 5))
    cols = {f"signal__{i}": signal[:, i] for i in range(3)} | {f"noise__{i}": noise[:, i] for i in range(5)}
    return pd.DataFrame(cols), y


@pytest.mark.parametrize("method", sorted(METHODS))
def test_weights_are_on_the_simplex_and_favour_the_informative_view(method):
    X, y = informative_and_noise()
    mkl = MKLClassifier(method=method, C=10).fit(X, y)
    weights = mkl.kernel_weights_
    assert set(weights) == {"signal:rbf", "noise:rbf"}
    assert sum(weights.values()) == pytest.approx(1.0) and min(weights.values()) >= 0
    if method != "average":
        assert weights["signal:rbf"] > weights["noise:rbf"]
    assert mkl.score(X, y) > 0.9


def test_several_kernels_per_view_and_per_view_dict():
    X, y = informative_and_noise()
    mkl = MKLClassifier(kernels={"signal": ["rbf", "poly", "linear"], "noise": "laplacian"}).fit(X, y)
    assert mkl.kernel_specs_ == [
        ("signal", "rbf"),
        ("signal", "poly"),
        ("signal", "linear"),
        ("noise", "laplacian"),
    ]
    assert len(plot_kernel_weights(mkl).patches) == 4


def test_regressor_weights_the_view_that_predicts():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.sin(2 * X[:, 2]) + X[:, 3] ** 2 + 0.1 * rng.normal(size=300)
    for method in ("alignf", "gradient"):
        mkl = MKLRegressor(views={"a": [0, 1], "b": [2, 3]}, method=method, alpha=0.1).fit(X[:200], y[:200])
        assert mkl.kernel_weights_["b:rbf"] > 0.8
        assert mkl.score(X[200:], y[200:]) > 0.7


def test_grid_search_over_method_kernels_and_c_in_a_pipeline():
    X, y = informative_and_noise()
    pipe = make_pipeline(StandardScaler().set_output(transform="pandas"), MKLClassifier())
    grid = GridSearchCV(
        pipe,
        {
            "mklclassifier__method": ["average", "alignf"],
            "mklclassifier__kernels": ["rbf", "linear"],
            "mklclassifier__C": [1.0, 10.0],
        },
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 8
    assert grid.best_params_["mklclassifier__kernels"] == "rbf"  # the classes are not linearly separable
    assert grid.best_score_ > 0.85


def test_bad_input_is_a_clear_error():
    X, y = informative_and_noise()
    with pytest.raises(ValueError, match="at least 2 classes; y has 1 class"):
        MKLClassifier().fit(X, np.zeros(len(y)))
    const = X.copy()
    const[[c for c in X.columns if c.startswith("noise__")]] = 3.0
    with pytest.raises(ValueError, match="view 'noise' is constant"):
        MKLClassifier().fit(const, y)
    with pytest.raises(ValueError, match="chi2 kernel of view 'signal' needs non-negative"):
        MKLClassifier(kernels="chi2").fit(X, y)
    with pytest.raises(ValueError, match="sigmoid kernel of view .* not positive semi-definite"):
        MKLClassifier(kernels="sigmoid", gamma=5.0, coef0=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="unknown kernel 'gauss'"):
        MKLClassifier(kernels="gauss").fit(X, y)
    partial = X.copy()
    partial.loc[0, "noise__0"] = np.nan
    with pytest.raises(ValueError, match="Row 0: view 'noise' has NaN in 1 of its 5 columns"):
        MKLClassifier().fit(partial, y)


def test_rows_missing_a_view_use_the_kernels_of_the_views_they_have():
    X, y = informative_and_noise(n=400)
    noise_cols = [c for c in X.columns if c.startswith("noise__")]
    signal_cols = [c for c in X.columns if c.startswith("signal__")]
    rng = np.random.default_rng(1)
    Xm = X.copy()
    Xm.loc[rng.random(len(X)) < 0.5, noise_cols] = np.nan  # half the rows lack the noise view
    train, test = slice(0, 300), slice(300, 400)
    mkl = MKLClassifier(method="alignf", C=10).fit(Xm.iloc[train], y[train])
    # the renormalised training kernel is still positive semi-definite
    K = mkl._combined(Xm.iloc[train])
    assert np.linalg.eigvalsh((K + K.T) / 2)[0] > -1e-8
    assert mkl.score(Xm.iloc[test], y[test]) > 0.85
    # a row without the noise view is predicted from the signal view alone: with every view
    # present nothing changes, and a model on the signal view alone agrees closely
    alone = MKLClassifier(views={"signal": signal_cols}, C=10).fit(X.iloc[train][signal_cols], y[train])
    no_noise = Xm.iloc[test][Xm.iloc[test][noise_cols].isna().all(axis=1)]
    agree = (mkl.predict(no_noise) == alone.predict(no_noise[signal_cols])).mean()
    assert agree > 0.9


def test_with_every_view_present_the_kernel_is_the_plain_weighted_sum():
    from sklearn.metrics.pairwise import rbf_kernel

    X, y = informative_and_noise()
    mkl = MKLClassifier(method="alignf").fit(X.iloc[:200], y[:200])
    expected = sum(
        mkl.kernel_weights_[f"{view}:rbf"]
        * rbf_kernel(
            X.iloc[200:].filter(like=f"{view}__"),
            X.iloc[:200].filter(like=f"{view}__"),
            gamma=params["gamma"],
        )
        for (view, _), params in zip(mkl.kernel_specs_, mkl.kernel_params_)
    )
    np.testing.assert_allclose(mkl._combined(X.iloc[200:]), expected, rtol=1e-10)


def test_nystroem_path_agrees_with_exact_and_keeps_missing_views():
    X, y = informative_and_noise(n=1500, seed=2)
    noise_cols = [c for c in X.columns if c.startswith("noise__")]
    Xm = X.copy()
    Xm.loc[Xm.index[::4], noise_cols] = np.nan
    train, test = slice(0, 1000), slice(1000, 1500)
    exact = MKLClassifier(method="alignf", C=10, approx="exact").fit(Xm.iloc[train], y[train])
    approx = MKLClassifier(
        method="alignf", C=10, approx="nystroem", n_landmarks=300, weight_rows=600, random_state=0
    ).fit(Xm.iloc[train], y[train])
    assert approx.approx_ == "nystroem" and len(approx.maps_) == 2
    assert not hasattr(approx, "X_fit_")  # nothing n x n is kept
    assert approx.kernel_weights_["signal:rbf"] > approx.kernel_weights_["noise:rbf"]
    assert approx.score(Xm.iloc[test], y[test]) > exact.score(Xm.iloc[test], y[test]) - 0.05
    reg = MKLRegressor(approx="nystroem", n_landmarks=200, random_state=0).fit(Xm.iloc[train], y[train])
    assert reg.predict(Xm.iloc[test]).shape == (500,)


def _small_kernels(seed=0, n=120):
    from sklearn.metrics.pairwise import rbf_kernel

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    kernels = [rbf_kernel(X[:, i : i + 2], gamma=0.5) for i in (0, 2, 4)]
    return kernels, np.eye(2)[y]


def test_alignf_solves_its_quadratic_program():
    from scipy.optimize import minimize

    from mmsk.mkl._combine import _centered, alignf_weights

    kernels, Y = _small_kernels()
    Yc = Y - Y.mean(axis=0)
    Kc = [_centered(K) for K in kernels]
    M = np.array([[np.vdot(a, b) for b in Kc] for a in Kc])
    a = np.array([np.vdot(K, Yc @ Yc.T) for K in Kc])
    ref = minimize(
        lambda v: v @ M @ v - 2 * v @ a,
        np.ones(3) / 3,
        bounds=[(0, None)] * 3,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-12},
    ).x
    np.testing.assert_allclose(alignf_weights(kernels, Y), ref / ref.sum(), atol=1e-4)


def test_gradient_method_lowers_the_kernel_ridge_objective():
    from scipy import linalg

    from mmsk.mkl._combine import gradient_weights

    kernels, Y = _small_kernels()
    lam = 1e-2

    def J(w):
        K = sum(wk * Kk for wk, Kk in zip(w, kernels)) + lam * np.eye(len(Y))
        return lam * np.vdot(Y, linalg.solve(K, Y))

    w = gradient_weights(kernels, Y, lam=lam)
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    assert J(w) < J(np.ones(3) / 3)
    for vertex in np.eye(3):  # no better than the solution at any single kernel
        assert J(w) <= J(vertex) + 1e-9


@pytest.mark.parametrize("approx", ["exact", "nystroem"])
def test_rows_whose_views_all_got_zero_weight_use_equal_weights(approx):
    """ALIGNF gives the noise view weight 0; rows with only that view are still predicted.

    Such a row weighs the views it has equally, so it is compared, through the noise
    kernel, with the training rows that have only the noise view too.
    """
    from sklearn.metrics.pairwise import rbf_kernel

    X, y = informative_and_noise(n=400)
    signal_cols = [c for c in X.columns if c.startswith("signal__")]
    noise_cols = [c for c in X.columns if c.startswith("noise__")]
    Xm = X.copy()
    Xm.loc[Xm.index[::10], signal_cols] = np.nan  # 30 training rows have the noise view only
    Xm.loc[Xm.index[300::5], signal_cols] = np.nan  # and 20 test rows
    mkl = MKLClassifier(method="alignf", C=10, approx=approx, n_landmarks=200, random_state=0)
    mkl.fit(Xm.iloc[:300], y[:300])
    assert mkl.kernel_weights_["noise:rbf"] == 0.0
    test = Xm.iloc[300:]
    only_noise = test[signal_cols].isna().all(axis=1).to_numpy()
    proba = mkl.predict_proba(test) if hasattr(mkl, "predict_proba") else None
    pred = mkl.predict(test)
    assert pred.shape == (100,) and only_noise.sum() == 20
    if proba is not None:
        assert np.isfinite(proba).all()
    if approx == "exact":
        # such a row is compared with the training rows through the noise kernel alone
        K = mkl._combined(test[only_noise])
        train_noise = Xm.iloc[:300][noise_cols].to_numpy()
        gamma = mkl.kernel_params_[mkl.kernel_specs_.index(("noise", "rbf"))]["gamma"]
        expected = rbf_kernel(test[only_noise][noise_cols].to_numpy(), train_noise, gamma=gamma)
        scale = mkl.kernel_scales_[mkl.kernel_specs_.index(("noise", "rbf"))]
        has_signal = ~Xm.iloc[:300][signal_cols].isna().all(axis=1).to_numpy()
        # training rows with the signal view give the noise kernel no weight
        np.testing.assert_allclose(K[:, has_signal], 0.0)
        np.testing.assert_allclose(K[:, ~has_signal], expected[:, ~has_signal] / scale, rtol=1e-10)
        # rows with every view present are untouched: accuracy stays as on the signal view
        assert mkl.score(test[~only_noise], y[300:][~only_noise]) > 0.85


@pytest.mark.parametrize("approx", ["exact", "nystroem"])
def test_probability_gives_platt_scaled_probabilities_that_follow_the_decision(approx):
    X, y = informative_and_noise(n=400, seed=3)
    mkl = MKLClassifier(C=10, probability=True, approx=approx, n_landmarks=200, random_state=0)
    mkl.fit(X.iloc[:300], y[:300])
    proba = mkl.predict_proba(X.iloc[300:])
    assert proba.shape == (100, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    decision = mkl.decision_function(X.iloc[300:])
    # Platt scaling is monotone in the decision value
    order = np.argsort(decision)
    assert np.all(np.diff(proba[order, 1]) >= -1e-9)
    assert (proba.argmax(axis=1) == mkl.predict(X.iloc[300:])).mean() > 0.9
    assert not hasattr(MKLClassifier(), "predict_proba")
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(mkl)).predict_proba(X.iloc[300:]), proba)
