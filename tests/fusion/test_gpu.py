"""The deep fusion models on CUDA: they train there and agree with their CPU runs (skip without CUDA)."""

import numpy as np
import pandas as pd
import pytest
import torch

from mmsk.fusion import ContrastiveDualEncoder, FusionClassifier, MultimodalVAE
from mmsk.metrics import make_retrieval_scorer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def two_views(n=600, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    a = z @ rng.normal(size=(2, 6)) + 0.3 * rng.normal(size=(n, 6))
    b = np.tanh(z @ rng.normal(size=(2, 4))) + 0.3 * rng.normal(size=(n, 4))
    X = pd.DataFrame(np.hstack([a, b]), columns=[f"a__{i}" for i in range(6)] + [f"b__{i}" for i in range(4)])
    return X, (z[:, 0] * z[:, 1] > 0).astype(int)


@pytest.mark.parametrize(
    "fusion", ["concat", "late", "hybrid", "attention", "tensor", "low_rank_tensor", "gated"]
)
def test_fusion_classifier_on_cuda_matches_cpu(fusion):
    X, y = two_views()
    # the same batch size on both (by default CUDA takes larger batches)
    params = dict(
        fusion=fusion, hidden=32, embed_dim=8, max_epochs=30, lr=1e-2, batch_size=64, random_state=0
    )
    cpu = FusionClassifier(**params).fit(X.iloc[:400], y[:400])
    gpu = FusionClassifier(**params, device="cuda").fit(X.iloc[:400], y[:400])
    assert gpu.device_ == "cuda" and next(gpu.net_.module_.parameters()).is_cuda
    assert FusionClassifier(max_epochs=1, device="cuda").fit(X, y).batch_size_ == len(X)  # 1024, capped
    # float32 on both, initialised on the CPU, batches drawn by the CPU generator: the same
    # seed gives the same network up to float32 rounding
    held = X.iloc[400:]
    np.testing.assert_allclose(gpu.predict_proba(held), cpu.predict_proba(held), rtol=1e-4, atol=1e-5)
    assert (gpu.predict(held) == cpu.predict(held)).mean() >= 0.995
    # in float64 too (the precision the CPU/GPU agreement was first measured in)
    exact = dict(params, dtype="float64")
    cpu64 = FusionClassifier(**exact).fit(X.iloc[:400], y[:400])
    gpu64 = FusionClassifier(**exact, device="cuda").fit(X.iloc[:400], y[:400])
    np.testing.assert_allclose(gpu64.predict_proba(held), cpu64.predict_proba(held), atol=1e-4)
    X_missing = X.iloc[400:].copy()
    X_missing.iloc[:50, 6:] = np.nan
    assert np.isfinite(gpu.predict_proba(X_missing)).all()
    if fusion in ("attention", "gated", "late", "hybrid"):
        w = gpu.modality_weights(X_missing)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
        assert (w.iloc[:50]["b"] == 0).all()


def test_dual_encoder_and_vae_on_cuda_match_cpu():
    X, _ = two_views()
    params = dict(embed_dim=8, hidden=(32,), max_epochs=20, batch_size=128, random_state=0)
    cpu = ContrastiveDualEncoder(**params).fit(X)
    gpu = ContrastiveDualEncoder(**params, device="auto").fit(X)
    assert gpu.device_ == "cuda"
    np.testing.assert_allclose(gpu.transform(X), cpu.transform(X), rtol=1e-4, atol=1e-5)  # float32
    assert make_retrieval_scorer("mrr")(gpu, X) == pytest.approx(
        make_retrieval_scorer("mrr")(cpu, X), abs=1e-3
    )
    # the VAE samples its latent and drops views with the device's generator, so the two
    # runs differ: compare how well each fills in view b from view a
    vae_params = dict(
        latent_dim=2, hidden=(16,), max_epochs=60, lr=3e-3, beta=0.1, batch_size=64, random_state=0
    )
    X_missing = X.copy()
    X_missing.iloc[:, 6:] = np.nan
    truth = X.iloc[:, 6:].to_numpy()
    r2 = []
    for device in ("cpu", "cuda"):
        filled = MultimodalVAE(**vae_params, device=device).fit(X).impute(X_missing).iloc[:, 6:].to_numpy()
        r2.append(1 - ((filled - truth) ** 2).sum() / ((truth - truth.mean(0)) ** 2).sum())
    assert r2[1] > 0.3 and abs(r2[0] - r2[1]) < 0.1, r2
