"""CCA, GCCA and KernelCCA: exactness, agreement with references, views, missing rows, search."""

import pickle

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
from scipy import linalg
from sklearn.base import clone
from sklearn.cross_decomposition import CCA as SklearnCCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union
from mmsk.align import CCA, GCCA, DeepCCA, KernelCCA
from mmsk.datasets import load_mfeat
from mmsk.plot import plot_canonical_correlations, plot_canonical_variates


def latent_views(n=1500, dims=(10, 8), k=3, noise=1.0, seed=0):
    """Views that share k latent factors, as one DataFrame with a__*, b__*, ... columns."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k))
    blocks = {}
    for name, d in zip("abcdef", dims):
        blocks[name] = z @ rng.normal(size=(k, d)) + noise * rng.normal(size=(n, d))
    cols = {f"{v}__{i}": blocks[v][:, i] for v in blocks for i in range(blocks[v].shape[1])}
    return pd.DataFrame(cols), blocks


def direct_canonical_correlations(A, B):
    """Textbook CCA: sqrt of the eigenvalues of Caa^-1 Cab Cbb^-1 Cba (numpy/scipy)."""
    A = A - A.mean(0)
    B = B - B.mean(0)
    Caa, Cbb, Cab = A.T @ A, B.T @ B, A.T @ B
    M = linalg.solve(Caa, Cab) @ linalg.solve(Cbb, Cab.T)
    return np.sqrt(np.sort(np.real(linalg.eigvals(M)))[::-1])


def test_correlations_equal_the_textbook_computation():
    X, blocks = latent_views()
    cca = CCA(n_components=5, reg=0).fit(X)
    expected = direct_canonical_correlations(blocks["a"], blocks["b"])[:5]
    np.testing.assert_allclose(cca.canonical_correlations_, expected, atol=1e-6)
    Z = cca.transform(X)
    got = [np.corrcoef(Z[:, j], Z[:, 5 + j])[0, 1] for j in range(5)]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # the variates of one view are uncorrelated with unit variance
    np.testing.assert_allclose(np.cov(Z[:, :5].T), np.eye(5), atol=1e-6)


def test_whitening_methods_and_torch_covariances_agree():
    X, _ = latent_views()
    chol = CCA(n_components=3, reg=0.01).fit(X)
    eigh = CCA(n_components=3, reg=0.01, whiten="eigh").fit(X)
    torch_cpu = CCA(n_components=3, reg=0.01, device="cpu").fit(X)
    for other in (eigh, torch_cpu):
        np.testing.assert_allclose(other.transform(X), chol.transform(X), atol=1e-8)


def test_agrees_with_scikit_learn_on_the_leading_components():
    X, blocks = latent_views()
    ours = CCA(n_components=2, reg=0).fit(X).transform(X)
    sk = SklearnCCA(n_components=2, max_iter=5000, tol=1e-12, scale=False).fit(blocks["a"], blocks["b"])
    xa, xb = sk.transform(blocks["a"], blocks["b"])
    for j in range(2):
        assert abs(np.corrcoef(ours[:, j], xa[:, j])[0, 1]) > 0.9999
        assert abs(np.corrcoef(ours[:, 2 + j], xb[:, j])[0, 1]) > 0.9999


def test_sign_convention_is_deterministic_across_row_orders():
    X, _ = latent_views()
    a = CCA(n_components=3).fit(X)
    b = CCA(n_components=3).fit(X.sample(frac=1.0, random_state=0))
    for v in ("a", "b"):
        np.testing.assert_allclose(a.weights_[v], b.weights_[v], atol=1e-8)


def test_gcca_on_two_views_is_cca_up_to_sign_and_scale():
    X, _ = latent_views()
    # exact at reg=0; with reg > 0 GCCA regularises each view's projection (MAXVAR's
    # sum of ridge hat matrices), CCA the covariances, and they differ slightly
    cca = CCA(n_components=3, reg=0).fit(X)
    gcca = GCCA(n_components=3, reg=0).fit(X)
    np.testing.assert_allclose(gcca.canonical_correlations_, cca.canonical_correlations_, atol=1e-8)
    np.testing.assert_allclose(gcca.eigenvalues_, 1 + cca.canonical_correlations_, atol=1e-8)
    Zc, Zg = cca.transform(X), gcca.transform(X)
    for j in range(6):
        assert abs(np.corrcoef(Zc[:, j], Zg[:, j])[0, 1]) == pytest.approx(1.0, abs=1e-8)


def _maxvar_variates(X, views, reg, k):
    """GCCA (MAXVAR) written out on the full D x D matrix of whitened covariance blocks."""
    blocks = [X[:, idx] - X[:, idx].mean(axis=0) for idx in views.values()]
    n = X.shape[0]
    whiteners = []
    for B in blocks:
        C = B.T @ B / (n - 1)
        S = (1 - reg) * C + reg * np.trace(C) / C.shape[0] * np.eye(C.shape[0])
        vals, vecs = linalg.eigh(S)
        whiteners.append(vecs / np.sqrt(vals) @ vecs.T)
    A = np.hstack([B @ W for B, W in zip(blocks, whiteners)])
    _, vecs = linalg.eigh(A.T @ A / (n - 1))
    top, start, shared = vecs[:, ::-1][:, :k], 0, 0
    for B, W in zip(blocks, whiteners):
        part = top[start : start + W.shape[0]]
        start += W.shape[0]
        shared = shared + B @ W @ (part / np.linalg.norm(part, axis=0))
    return shared / len(blocks)


def test_gcca_on_views_wider_than_the_rows_gives_the_full_maxvar_solution():
    # 40 rows, 230 columns: the weights are found in the rows' span; the result is the same
    X, _ = latent_views(n=40, dims=(120, 80, 30), k=2, noise=0.5, seed=3)
    X = X.to_numpy()
    views = {"a": np.arange(120), "b": np.arange(120, 200), "c": np.arange(200, 230)}
    gcca = GCCA(views=views, n_components=4, reg=0.2, output="shared").fit(X)
    expected = _maxvar_variates(X, views, reg=0.2, k=4)
    got = gcca.transform(X)
    for j in range(4):
        sign = np.sign(got[:, j] @ expected[:, j])
        np.testing.assert_allclose(got[:, j], sign * expected[:, j], atol=1e-9)
    assert (gcca.canonical_correlations_ > 0.5).all()


def test_gcca_three_views_recovers_the_shared_factors():
    X, _ = latent_views(dims=(10, 8, 6), k=2, noise=0.5)
    gcca = GCCA(n_components=2, output="shared").fit(X)
    assert gcca.get_feature_names_out().tolist() == ["gcca0", "gcca1"]
    assert (gcca.canonical_correlations_ > 0.9).all()
    # a view's variates are shared: each is predictable from the others
    assert gcca.score(X) > 0.9


def test_reg_per_view_and_bad_reg():
    X, _ = latent_views(dims=(10, 8))
    per_view = CCA(n_components=2, reg={"a": 0.5}).fit(X)
    assert not np.allclose(per_view.weights_["a"], CCA(n_components=2, reg=0).fit(X).weights_["a"])
    with pytest.raises(ValueError, match=r"unknown view\(s\)"):
        CCA(reg={"text": 0.1}).fit(X)
    with pytest.raises(ValueError, match="n_components=9 is more than the smallest view"):
        CCA(n_components=9).fit(X)
    with pytest.raises(ValueError, match="exactly 2 views.*GCCA"):
        CCA().fit(latent_views(dims=(3, 3, 3))[0])


def test_singular_view_without_reg_is_a_clear_error():
    X, _ = latent_views()
    X["a__dup"] = X["a__0"]
    with pytest.raises(ValueError, match="covariance of view 'a' is singular.*reg > 0"):
        CCA(reg=0).fit(X)
    CCA(reg=1e-3).fit(X)  # regularised, it works


def test_missing_views_fit_on_complete_rows_and_transform_what_is_there():
    X, _ = latent_views()
    Xm = X.copy()
    b_cols = [c for c in X.columns if c.startswith("b__")]
    Xm.loc[:99, b_cols] = np.nan  # view b missing in the first 100 rows
    fitted = CCA(n_components=2).fit(Xm)
    reference = CCA(n_components=2).fit(X.iloc[100:])
    np.testing.assert_allclose(fitted.weights_["a"], reference.weights_["a"])
    Z = fitted.transform(Xm)
    assert np.isnan(Z[:100, 2:]).all() and np.isfinite(Z[:100, :2]).all()
    shared = clone(fitted).set_params(output="shared").fit(Xm).transform(Xm)
    np.testing.assert_allclose(shared[:100], Z[:100, :2])  # only view a: its variates
    np.testing.assert_allclose(shared[100:], (Z[100:, :2] + Z[100:, 2:]) / 2)


def test_pandas_output_clone_pickle():
    X, _ = latent_views()
    cca = CCA(n_components=2).set_output(transform="pandas")
    out = cca.fit_transform(X)
    assert out.columns.tolist() == ["a__cca0", "a__cca1", "b__cca0", "b__cca1"]
    again = pickle.loads(pickle.dumps(cca))
    pd.testing.assert_frame_equal(again.transform(X), out)


@pytest.fixture(scope="module")
def mfeat(shared_data):
    return load_mfeat(data_home=shared_data)


def test_mfeat_fourier_and_karhunen_loeve_views_correlate(mfeat):
    cols = [c for c in mfeat.data.columns if c.startswith(("fou__", "kar__"))]
    cca = CCA(n_components=3).fit(mfeat.data[cols])
    assert cca.canonical_correlations_[0] >= 0.9  # measured 0.923


def test_mfeat_gcca_on_all_views_then_a_linear_classifier(mfeat):
    pipe = make_pipeline(
        StandardScaler().set_output(transform="pandas"),
        GCCA(n_components=40, reg=0.1, output="shared"),
        StandardScaler(),
        LogisticRegression(max_iter=3000),
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    assert cross_val_score(pipe, mfeat.data, mfeat.target, cv=cv).mean() >= 0.97  # measured 0.978


def test_grid_search_tunes_reg_and_n_components_without_labels(mfeat):
    views = ("fou", "kar")
    X = mfeat.data[[c for c in mfeat.data.columns if c.startswith(tuple(f"{v}__" for v in views))]]
    raw = X.rename(columns=lambda c: c.replace("__", "_"))  # a raw table: no view prefixes
    union = make_modality_union(
        fou=([c for c in raw.columns if c.startswith("fou_")], StandardScaler()),
        kar=([c for c in raw.columns if c.startswith("kar_")], StandardScaler()),
    )
    grid = GridSearchCV(
        make_pipeline(union, CCA()),
        {"cca__reg": [0.0, 0.1, 0.9], "cca__n_components": [1, 5]},
        cv=KFold(3, shuffle=True, random_state=0),  # mfeat's rows are sorted by class
    )
    grid.fit(raw)
    scores = pd.DataFrame(grid.cv_results_["params"]).assign(score=grid.cv_results_["mean_test_score"])
    # heavy shrinkage loses correlation; the first component correlates most
    assert grid.best_params_["cca__reg"] < 0.9 and grid.best_params_["cca__n_components"] == 1
    assert scores.score.max() > 0.85


def test_kernel_cca_finds_a_non_linear_relation():
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, size=(600, 1))
    X = pd.DataFrame({"a__t": t[:, 0], "b__t2": (t**2 + 0.05 * rng.normal(size=(600, 1)))[:, 0]})
    train, test = X.iloc[:400], X.iloc[400:]
    assert CCA(n_components=1).fit(train).score(test) < 0.2
    kcca = KernelCCA(n_components=1, random_state=0).fit(train)
    assert kcca.approx_ == "exact" and kcca.score(test) > 0.9
    assert set(kcca.gammas_) == {"a", "b"}


def test_kernel_cca_nystroem_agrees_with_exact():
    X, _ = latent_views(n=1200, dims=(6, 6), k=2, noise=0.3)
    X = np.tanh(X)  # a non-linear twist
    train, test = X.iloc[:800], X.iloc[800:]
    exact = KernelCCA(n_components=3, approx="exact", random_state=0).fit(train)
    approx = KernelCCA(n_components=3, approx="nystroem", n_landmarks=300, random_state=0).fit(train)
    assert approx.maps_["a"].n_components == 300
    assert approx.score(test) == pytest.approx(exact.score(test), rel=0.02)


@pytest.mark.parametrize("kernel", ["rbf", "laplacian", "poly", "linear", "cosine"])
def test_kernel_cca_kernels(kernel):
    X, _ = latent_views(n=300, dims=(4, 4), k=2, noise=0.3)
    kcca = KernelCCA(n_components=2, kernel={"a": kernel, "b": "rbf"}, random_state=0).fit(X)
    assert kcca.kernels_ == {"a": kernel, "b": "rbf"}
    assert np.isfinite(kcca.transform(X)).all() and kcca.canonical_correlations_[0] > 0.5


def test_kernel_cca_constant_view_is_a_clear_error():
    X, _ = latent_views(n=100, dims=(3, 3))
    X[[c for c in X.columns if c.startswith("b__")]] = 1.0
    with pytest.raises(ValueError, match="kernel of view 'b' is constant"):
        KernelCCA(approx="exact").fit(X)


def test_plots(mfeat):
    cols = [c for c in mfeat.data.columns if c.startswith(("fou__", "kar__"))]
    cca = CCA(n_components=4).fit(mfeat.data[cols].iloc[::2])
    ax = plot_canonical_correlations(cca, X=mfeat.data[cols].iloc[1::2])
    assert len(ax.patches) == 8 and ax.get_legend() is not None
    heights = [p.get_height() for p in ax.patches[:4]]
    np.testing.assert_allclose(heights, cca.canonical_correlations_)
    ax = plot_canonical_variates(cca, mfeat.data[cols], mfeat.target)
    assert len(ax.collections) == 10 and "r = 0.9" in ax.get_title()


def test_deep_cca_learns_a_non_linear_relation_reproducibly():
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, size=(800, 1))
    X = pd.DataFrame(
        {
            "a__t": t[:, 0],
            "a__u": rng.normal(size=800),
            "b__t2": (t**2 + 0.05 * rng.normal(size=(800, 1)))[:, 0],
        }
    )
    train, test = X.iloc[:600], X.iloc[600:]
    assert CCA(n_components=1).fit(train).score(test) < 0.2
    dcca = DeepCCA(n_components=1, hidden=(32,), max_epochs=40, lr=1e-2, random_state=0).fit(train)
    assert dcca.score(test) > 0.9
    assert len(dcca.net_.history) == 40
    again = DeepCCA(n_components=1, hidden=(32,), max_epochs=40, lr=1e-2, random_state=0).fit(train)
    np.testing.assert_allclose(again.transform(test), dcca.transform(test))
    assert dcca.get_feature_names_out().tolist() == ["a__deepcca0", "b__deepcca0"]


def test_deep_cca_missing_views_and_pickle():
    X, _ = latent_views(n=400, dims=(4, 4), k=2, noise=0.3)
    X.loc[:49, [c for c in X.columns if c.startswith("b__")]] = np.nan
    dcca = DeepCCA(n_components=2, hidden=(8,), max_epochs=3, random_state=0, output="shared").fit(X)
    Z = dcca.transform(X)
    assert np.isfinite(Z).all()  # rows without b use a's variates
    restored = pickle.loads(pickle.dumps(dcca))
    np.testing.assert_allclose(restored.transform(X), Z)


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs CUDA")
def test_gpu_paths_agree_with_cpu():
    X, _ = latent_views()
    np.testing.assert_allclose(
        CCA(n_components=3, device="cuda").fit(X).transform(X),
        CCA(n_components=3).fit(X).transform(X),
        atol=1e-8,
    )
    dcca = DeepCCA(n_components=2, hidden=(8,), max_epochs=3, random_state=0, device="cuda").fit(X)
    assert dcca.device_ == "cuda" and np.isfinite(dcca.transform(X)).all()
