"""skorch-style ``module__*`` parameters on every deep estimator: set, searched, cloned, pickled, checked."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk.align import DeepCCA
from mmsk.fusion import ContrastiveDualEncoder, FusionClassifier, MultimodalAutoencoder, MultimodalVAE


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(n, 6)), columns=[f"a__{i}" for i in range(3)] + [f"b__{i}" for i in range(3)]
    )
    return X, (X["a__0"] + X["b__0"] > 0).to_numpy().astype(int)


# (estimator, a module parameter, how to read it back from the trained module)
CASES = [
    (FusionClassifier, {"module__hidden": 24}, lambda m: m.encoders[0][0].out_features),
    (ContrastiveDualEncoder, {"module__hidden": (24,)}, lambda m: m.towers[0][0].out_features),
    (MultimodalAutoencoder, {"module__hidden": (24,)}, lambda m: m.encoders[0][0].out_features),
    (MultimodalVAE, {"module__hidden": (24,)}, lambda m: m.encoders[0][0].out_features),
    (DeepCCA, {"module__activation": "tanh"}, lambda m: type(m.towers[0][1]).__name__),
]
EXPECTED = [24, 24, 24, 24, "Tanh"]


@pytest.mark.parametrize(("case", "expected"), zip(CASES, EXPECTED), ids=[c[0].__name__ for c in CASES])
def test_module_params_reach_the_module_and_survive_clone_and_pickle(case, expected):
    cls, params, read = case
    X, y = data()
    est = cls(max_epochs=2, random_state=0, **params)
    assert est.get_params()[next(iter(params))] == next(iter(params.values()))
    assert next(iter(params)) in repr(est)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    est.fit(X, y)
    assert read(est.net_.module_) == expected
    restored = pickle.loads(pickle.dumps(est))
    assert restored.get_params() == est.get_params() and read(restored.net_.module_) == expected
    assert read(clone(est).fit(X, y).net_.module_) == expected


def test_grid_search_over_fusion_and_module_params_together():
    X, y = data(300)
    pipe = make_pipeline(
        StandardScaler().set_output(transform="pandas"),
        FusionClassifier(max_epochs=5, lr=1e-2, random_state=0),
    )
    grid = {
        "fusionclassifier__fusion": ["concat", "low_rank_tensor"],
        "fusionclassifier__module__rank": [1, 3],
        "fusionclassifier__module__dropout": [0.0, 0.1],
    }
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    best = search.best_estimator_[-1]
    assert best.get_params()["module__rank"] == search.best_params_["fusionclassifier__module__rank"]
    if best.fusion == "low_rank_tensor":
        assert best.net_.module_.fusion.factors[0].shape[0] == best.module__rank


def test_module_params_override_the_estimator_parameters():
    X, y = data()
    net = FusionClassifier(hidden=8, module__hidden=16, max_epochs=1, random_state=0).fit(X, y)
    assert net.net_.module_.encoders[0][0].out_features == 16
    net.set_params(module__hidden=12).fit(X, y)
    assert net.net_.module_.encoders[0][0].out_features == 12


def test_bad_module_params_are_refused():
    X, y = data()
    with pytest.raises(ValueError, match=r"FusionNet takes no parameter\(s\) \['module__width'\]"):
        FusionClassifier(module__width=3, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"\['module__n_out'\] are fixed by the estimator"):
        FusionClassifier(module__n_out=3, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"\['module__latent_dim'\] are fixed"):
        MultimodalAutoencoder(module__latent_dim=3, max_epochs=1).fit(X)
    typo = FusionClassifier(hiden=3, max_epochs=1)  # nothing is checked in __init__ (scikit-learn's rule)
    assert clone(typo).get_params()["hiden"] == 3
    with pytest.raises(TypeError, match=r"unexpected parameter\(s\) \['hiden'\]"):
        typo.fit(X, y)
