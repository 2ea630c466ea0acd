"""ContrastiveDualEncoder: retrieval on non-linear pairs, pair groups, missing views, search, errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk.align import CCA
from mmsk.fusion import ContrastiveDualEncoder
from mmsk.fusion._contrastive_modules import InfoNCELoss
from mmsk.metrics import make_retrieval_scorer


def curved_pairs(n=500, seed=0):
    """Two views of a 2-D latent: one linear, one through sin/cos (no linear map links them)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-np.pi, np.pi, size=(n, 2))
    a = np.hstack([np.sin(t), np.cos(t), np.sin(2 * t)]) @ rng.normal(size=(6, 6))
    b = t @ rng.normal(size=(2, 4))
    a += 0.05 * rng.normal(size=a.shape)
    b += 0.05 * rng.normal(size=b.shape)
    cols = [f"a__{i}" for i in range(6)] + [f"b__{i}" for i in range(4)]
    return pd.DataFrame(np.hstack([a, b]), columns=cols)


FAST = dict(embed_dim=16, hidden=(64,), max_epochs=80, lr=3e-3, batch_size=128, random_state=0)


def test_dual_encoder_retrieves_non_linear_partners_far_better_than_linear_cca():
    X = curved_pairs()
    train, test = X.iloc[:400], X.iloc[400:]
    recall = make_retrieval_scorer("recall@5")
    dual = make_pipeline(StandardScaler().set_output(transform="pandas"), ContrastiveDualEncoder(**FAST)).fit(
        train
    )
    cca = make_pipeline(StandardScaler().set_output(transform="pandas"), CCA(n_components=4, reg=0.1)).fit(
        train
    )
    r_dual, r_cca = recall(dual, test), recall(cca, test)
    assert r_dual > 0.6, r_dual
    assert r_dual > r_cca + 0.2, (r_dual, r_cca)


def test_transform_is_unit_norm_per_view_and_nan_for_a_missing_view():
    X = curved_pairs(200)
    enc = ContrastiveDualEncoder(**{**FAST, "max_epochs": 5}).fit(X)
    X_missing = X.copy()
    X_missing.iloc[:3, 6:] = np.nan
    Z = enc.set_output(transform="pandas").transform(X_missing)
    assert list(Z.columns[:2]) == ["a__emb0", "a__emb1"] and Z.columns[-1] == "b__emb15"
    a, b = Z.filter(like="a__").to_numpy(), Z.filter(like="b__").to_numpy()
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-6)  # float32
    assert np.isnan(b[:3]).all() and np.isfinite(b[3:]).all()
    np.testing.assert_allclose(np.linalg.norm(b[3:], axis=1), 1.0, rtol=1e-6)


def test_rows_missing_a_view_are_left_out_of_training():
    X = curved_pairs(300)
    X_missing = X.copy()
    X_missing.iloc[250:, :6] = np.nan  # 50 rows without view a: no pair to learn from
    full = ContrastiveDualEncoder(**{**FAST, "max_epochs": 5}).fit(X.iloc[:250])
    part = ContrastiveDualEncoder(**{**FAST, "max_epochs": 5}).fit(X_missing)
    np.testing.assert_allclose(full.transform(X), part.transform(X))


def test_retrieve_returns_the_nearest_gallery_rows_in_the_other_view():
    X = curved_pairs()
    enc = make_pipeline(StandardScaler().set_output(transform="pandas"), ContrastiveDualEncoder(**FAST)).fit(
        X.iloc[:400]
    )
    scaled = enc[0].transform(X.iloc[400:])
    idx, sims = enc[-1].retrieve(scaled, scaled, k=5)
    assert idx.shape == (100, 5) and np.all(np.diff(sims, axis=1) <= 1e-12)
    assert np.mean([i in row for i, row in enumerate(idx)]) > 0.6
    back, _ = enc[-1].retrieve(scaled, scaled, k=1, query_view="b")
    assert back.shape == (100, 1)
    with pytest.raises(ValueError, match="query_view 'c'"):
        enc[-1].retrieve(scaled, scaled, query_view="c")
    gallery = scaled.copy()
    gallery.iloc[7, 6:] = np.nan
    with pytest.raises(ValueError, match="X_gallery row 7 has no 'b' view"):
        enc[-1].retrieve(scaled, gallery)


def test_pair_groups_are_positives_not_negatives_in_the_loss():
    # rows 0 and 1 are one pair group (say, two recordings and two images of one digit).
    # With the groups, the loss prefers the group's rows together; without them, it
    # treats row 1 as a negative of row 0 and prefers them apart.
    together = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    apart = torch.tensor([[1.0, 0.0], [0.6, -0.8], [0.0, 1.0]])
    scale = torch.tensor(10.0)

    def loss(Z, groups):
        return InfoNCELoss()((Z, Z, scale), torch.tensor(groups)).item()

    assert loss(together, [0, 0, 1]) < loss(apart, [0, 0, 1])
    assert loss(apart, [0, 1, 2]) < loss(together, [0, 1, 2])


def test_groups_as_y_and_grid_search_with_a_retrieval_scorer():
    X = curved_pairs(400)
    groups = np.arange(len(X)) // 2
    X.iloc[1::2, :6] = X.iloc[::2, :6].to_numpy()  # two rows per group share view a
    search = GridSearchCV(
        make_pipeline(
            StandardScaler().set_output(transform="pandas"),
            ContrastiveDualEncoder(**{**FAST, "max_epochs": 30}),
        ),
        {"contrastivedualencoder__embed_dim": [2, 16]},
        scoring={"recall@5": make_retrieval_scorer("recall@5"), "mrr": make_retrieval_scorer("mrr")},
        refit="mrr",
        cv=KFold(2),
    ).fit(X, groups)
    assert search.best_params_ == {"contrastivedualencoder__embed_dim": 16}
    assert 0 < search.cv_results_["mean_test_recall@5"].max() <= 1


def test_temperature_is_learned_or_fixed_and_results_are_reproducible():
    X = curved_pairs(300)
    learned = ContrastiveDualEncoder(**{**FAST, "max_epochs": 20}).fit(X)
    fixed = ContrastiveDualEncoder(**{**FAST, "max_epochs": 20}, learn_temperature=False).fit(X)
    assert fixed.temperature_ == pytest.approx(0.07)
    assert learned.temperature_ != pytest.approx(0.07, rel=1e-3)
    again = clone(learned).fit(X)
    np.testing.assert_array_equal(learned.transform(X), again.transform(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(learned)).transform(X), learned.transform(X))


def test_bad_input_errors():
    X = curved_pairs(50)
    enc = ContrastiveDualEncoder(max_epochs=1, random_state=0)
    three = X.assign(c__0=1.0)
    with pytest.raises(ValueError, match="pairs exactly 2 views; got 3"):
        enc.fit(three)
    lonely = X.copy()
    lonely.iloc[1:, :6] = np.nan
    with pytest.raises(ValueError, match="at least 2 rows with both views present; got 1"):
        enc.fit(lonely)
    with pytest.raises(ValueError, match="one pair group per row"):
        enc.fit(X, np.zeros(3))
    partial = X.copy()
    partial.iloc[4, 0] = np.nan
    with pytest.raises(ValueError, match="Row 4"):
        enc.fit(partial)


def test_zero_shot_classification_from_label_names_with_an_unseen_prompt():
    # digit images paired with captions written from three templates; the classes are
    # then named through a fourth template the encoder never saw, and no classifier is
    # trained on the labels
    from sklearn.datasets import load_digits
    from sklearn.feature_extraction.text import HashingVectorizer

    from mmsk.extract import SentenceEmbedder

    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    templates = ["a handwritten {}", "the digit {}", "number {} written by hand"]
    digits = load_digits()
    y = digits.target
    which = np.random.default_rng(0).integers(0, 3, len(y))
    embedder = SentenceEmbedder()
    captions = embedder.fit_transform([t.format(w) for t in templates for w in words])
    text = captions[which * 10 + y]
    X = pd.DataFrame(
        np.hstack([digits.data / 16.0, text]),
        columns=[f"image__px{j}" for j in range(64)] + [f"text__e{j}" for j in range(text.shape[1])],
    )
    enc = ContrastiveDualEncoder(embed_dim=32, hidden=(128,), max_epochs=30, random_state=0)
    enc.fit(X.iloc[:1200], y[:1200])
    images = X.iloc[1200:].copy()
    images.loc[:, images.columns.str.startswith("text__")] = np.nan
    names = np.asarray(words, dtype=object)
    pred = enc.zero_shot_predict(images, words, text_embedder=embedder, template="a picture of the number {}")
    assert np.mean(pred == names[y[1200:]]) > 0.85  # measured 0.93; chance 0.1
    proba = enc.zero_shot_proba(images.iloc[:5], words, text_embedder=embedder)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="gives 16 features per label, but view 'text' has 384 columns"):
        enc.zero_shot_predict(images, words, text_embedder=HashingVectorizer(n_features=16))
    with pytest.raises(ValueError, match="at least 2 labels"):
        enc.zero_shot_predict(images, ["seven"], text_embedder=embedder)
    with pytest.raises(ValueError, match="X row 0 has no 'image' view"):
        enc.zero_shot_predict(
            X.iloc[:3].assign(**{c: np.nan for c in X.columns[:64]}), words, text_embedder=embedder
        )
