"""What every deep estimator shares: eval-mode inference, batch sizes, device placement, fusion families."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from mmsk.align import DeepCCA
from mmsk.fusion import (
    ContrastiveDualEncoder,
    FusionClassifier,
    FusionRegressor,
    MultimodalAutoencoder,
    MultimodalVAE,
)
from mmsk.fusion._families import FAMILIES
from mmsk.fusion._modules import family_module
from mmsk.utils import _deep
from mmsk.utils._torch_data import TensorRows, placement


def two_views(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(n, 7)), columns=[f"a__{i}" for i in range(4)] + [f"b__{i}" for i in range(3)]
    )
    return X, (X["a__0"] - X["b__1"] > 0).to_numpy().astype(int)


# Each deep estimator with dropout in its module, and every output it computes after fit.
OUTPUTS = {
    "FusionClassifier": (
        lambda: FusionClassifier(fusion="attention", dropout=0.5, max_epochs=2, random_state=0),
        lambda est, X: [est.predict_proba(X), est.modality_weights(X).to_numpy()],
    ),
    "FusionRegressor": (
        lambda: FusionRegressor(fusion="late", dropout=0.5, max_epochs=2, random_state=0),
        lambda est, X: [est.predict(X), est.modality_weights(X).to_numpy()],
    ),
    "MultimodalAutoencoder": (
        lambda: MultimodalAutoencoder(dropout=0.5, max_epochs=2, random_state=0),
        lambda est, X: [est.transform(X), est.reconstruct(X), est.inverse_transform(est.transform(X))],
    ),
    "MultimodalVAE": (
        lambda: MultimodalVAE(dropout=0.5, max_epochs=2, random_state=0),
        lambda est, X: [est.transform(X), est.reconstruct(X)],
    ),
    "ContrastiveDualEncoder": (
        lambda: ContrastiveDualEncoder(dropout=0.5, max_epochs=2, random_state=0),
        lambda est, X: [est.transform(X)],
    ),
    "DeepCCA": (
        lambda: DeepCCA(module__dropout=0.5, n_components=1, max_epochs=2, random_state=0),
        lambda est, X: [est.transform(X)],
    ),
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_inference_runs_in_eval_mode(name):
    make, outputs = OUTPUTS[name]
    X, y = two_views()
    est = make().fit(X, y)
    first, second = outputs(est, X), outputs(est, X)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)  # dropout active would make every call differ
    assert not est.net_.module_.training


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_a_seeded_fit_is_reproducible_and_leaves_the_global_random_state_alone(name):
    import random

    make, outputs = OUTPUTS[name]
    X, y = two_views()
    torch.manual_seed(123)
    np.random.seed(7)
    random.seed(5)
    before = torch.get_rng_state(), np.random.get_state(), random.getstate()
    first = outputs(make().fit(X, y), X)
    after = torch.get_rng_state(), np.random.get_state(), random.getstate()
    assert torch.equal(before[0], after[0])
    assert np.array_equal(before[1][1], after[1][1]) and before[1][2:] == after[1][2:]
    assert before[2] == after[2]
    torch.rand(3)  # another global state: the same seed still gives the same model
    for a, b in zip(first, outputs(make().fit(X, y), X)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_the_network_trains_in_float32_by_default_and_in_float64_when_asked(name):
    make, outputs = OUTPUTS[name]
    X, y = two_views()
    for dtype in ("float32", "float64"):
        est = make() if dtype == "float32" else make().set_params(dtype=dtype)
        est.fit(X, y)
        assert {p.dtype for p in est.net_.module_.parameters()} == {getattr(torch, dtype)}
        for out in outputs(est, X):  # what users get is float64 either way
            assert out.dtype == np.float64 and np.isfinite(out).all()


def test_inference_in_chunks_equals_one_pass(monkeypatch):
    X, y = two_views(150)
    # in float64 a row's output does not depend on its chunk
    net = FusionClassifier(fusion="gated", max_epochs=2, random_state=0, dtype="float64").fit(X, y)
    whole = net.predict_proba(X)
    monkeypatch.setattr(_deep, "INFERENCE_CHUNK", 16)
    np.testing.assert_allclose(net.predict_proba(X), whole, rtol=0, atol=1e-12)


def test_batch_size_none_is_the_device_default_and_never_more_than_the_rows():
    X, y = two_views(300)
    assert FusionClassifier(max_epochs=1, random_state=0).fit(X, y).batch_size_ == 64
    assert ContrastiveDualEncoder(max_epochs=1, random_state=0).fit(X).batch_size_ == 128
    assert DeepCCA(n_components=1, max_epochs=1, random_state=0).fit(X).batch_size_ == 256
    assert FusionClassifier(batch_size=1000, max_epochs=1).fit(X, y).batch_size_ == 300
    net = FusionClassifier(max_epochs=1)
    assert net._resolve_batch_size(5000, "cuda") == _deep.CUDA_BATCH_SIZE
    assert net._resolve_batch_size(5000, "cpu") == 64


def test_every_deep_estimator_has_the_trainer_parameters():
    for make, _ in OUTPUTS.values():
        params = make().get_params()
        missing = set(_deep.TRAINER_CONSTRAINTS) - set(params)
        assert not missing, (type(make()).__name__, missing)


def test_training_data_placement():
    assert placement(10**12, "cpu") == "host"
    assert placement(10**9, "cuda", free_bytes=4 * 10**9) == "device"
    assert placement(3 * 10**9, "cuda:0", free_bytes=4 * 10**9) == "pinned"
    rows = TensorRows({"x": np.ones((5, 2)), "mask": np.ones((5, 1))}, np.arange(5))
    assert rows.placement == "host"
    X, y = rows[np.array([4, 1])]
    assert X["x"].shape == (2, 2) and y.tolist() == [4, 1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_data_move_to_the_gpu_once():
    rows = TensorRows(np.ones((100, 3)), np.arange(100), device="cuda")
    assert rows.placement == "device" and rows.X.is_cuda and rows.y.is_cuda
    X, _ = rows[np.arange(10)]
    assert X.is_cuda


def test_the_families_table_says_which_families_return_weights_and_each_does():
    H = torch.randn(6, 3, 4)
    mask = torch.ones(6, 3)
    mask[:2, 1] = 0
    # a temporal family reads each view's steps: here views of 1, 4 and 2 steps, the last padded
    sequences = [H[:, :1], torch.randn(6, 4, 4), torch.randn(6, 2, 4)]
    steps = [torch.ones(6, 1), torch.ones(6, 4), torch.tensor([[1.0, 0]] * 6)]
    for name, entry in FAMILIES.items():
        module = family_module(name)(n_views=3, embed=4, hidden=8, n_out=5, rank=2)
        if entry.temporal:
            if name == "temporal_concat":  # aligned views only
                sequences, steps = [torch.randn(6, 3, 4)] * 3, [torch.ones(6, 3)] * 3
            out, weights = module(sequences, steps, mask)
        else:
            out, weights = module(H, mask)
        assert out.shape == (6, 5), name
        assert (weights is not None) == entry.has_weights, name
        if weights is not None:
            assert weights.shape == (6, 3), name
            torch.testing.assert_close(weights.sum(dim=1), torch.ones(6))
            assert (weights[:2, 1] == 0).all(), name
    assert {n for n, f in FAMILIES.items() if f.has_weights} == {"late", "hybrid", "attention", "gated"}


def test_default_modality_dropout_masks_views_in_training_only():
    X, y = two_views()
    net = FusionClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert net.modality_dropout == 0.3 and net.net_.module_.modality_dropout == 0.3
    clone(net).set_params(modality_dropout=0.0).fit(X, y)  # still settable
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))
