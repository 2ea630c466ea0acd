"""KernelMap: a precomputed-kernel pipeline is the estimator with its own kernel."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from mmsk.datasets import load_mfeat
from mmsk.mkl import KernelMap
from mmsk.utils._compat import SVC_PROBABILITY_DEPRECATION


@pytest.fixture(scope="module")
def karhunen(shared_data):
    """UCI mfeat's 64 Karhunen-Loeve coefficients, 600 of the digits."""
    mfeat = load_mfeat(shared_data, views=["kar"])
    return mfeat.data.to_numpy()[::2][:600], np.asarray(mfeat.target)[::2][:600]


@pytest.mark.filterwarnings(f"ignore:{SVC_PROBABILITY_DEPRECATION}")
def test_an_svm_on_the_map_gives_the_probabilities_of_the_svm_with_its_own_kernel(karhunen):
    X, y = karhunen
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    own = make_pipeline(StandardScaler(), SVC(C=10.0, probability=True, random_state=0))
    mapped = make_pipeline(
        StandardScaler(), KernelMap(), SVC(C=10.0, kernel="precomputed", probability=True, random_state=0)
    )
    expected = cross_val_predict(own, X, y, cv=cv, method="predict_proba")
    got = cross_val_predict(mapped, X, y, cv=cv, method="predict_proba")
    np.testing.assert_allclose(got, expected, atol=1e-10)
    assert (expected.argmax(axis=1) == y).mean() > 0.9  # a model worth matching


def test_gamma_is_the_estimators_own_and_the_median_heuristic_reads_up_to_1000_rows():
    X = np.random.default_rng(0).normal(scale=3.0, size=(1500, 4))
    assert KernelMap().fit(X).gamma_ == pytest.approx(1 / (4 * X.var()))
    ridge_own = KernelRidge(kernel="rbf", gamma=0.3).fit(X, X[:, 0] ** 2)
    ridge_map = make_pipeline(KernelMap(gamma=0.3), KernelRidge(kernel="precomputed")).fit(X, X[:, 0] ** 2)
    np.testing.assert_allclose(ridge_map.predict(X[:50]), ridge_own.predict(X[:50]), rtol=1e-8)
    a, b = (KernelMap(gamma="median", random_state=s).fit(X).gamma_ for s in (0, 1))
    assert a != b  # two draws of 1000 rows
    squared = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    assert a == pytest.approx(1 / np.median(squared[np.triu_indices(len(X), 1)]), rel=0.05)
    assert KernelMap(kernel="linear").fit(X).gamma_ is None


def test_sparse_rows_give_the_dense_kernel():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6)) * (rng.random((40, 6)) < 0.3)
    dense, sparse = KernelMap().fit(X), KernelMap().fit(sp.csr_matrix(X))
    assert sparse.gamma_ == pytest.approx(dense.gamma_)
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X[:7])), dense.transform(X[:7]), rtol=1e-12)


def test_a_grid_search_tunes_the_kernel_and_the_svm_together(karhunen):
    X, y = karhunen
    pipe = make_pipeline(StandardScaler(), KernelMap(), SVC(kernel="precomputed"))
    grid = {"kernelmap__gamma": ["scale", 1e-4], "svc__C": [1.0, 10.0]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert search.best_params_["kernelmap__gamma"] == "scale"  # 1e-4 is almost a constant kernel
    assert search.best_estimator_[:-1].transform(X[:3]).shape == (3, len(X))
    names = pipe.fit(X, y)[:-1].get_feature_names_out()
    assert list(names[:2]) == ["kernelmap0", "kernelmap1"] and len(names) == len(X)
