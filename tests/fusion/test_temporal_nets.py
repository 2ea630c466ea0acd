"""Deep fusion over sequence views: temporal encoders, temporal families, padding and missing views."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from mmsk import sequence_arrays, sequence_frame
from mmsk.datasets import make_event_timing
from mmsk.fusion import (
    ConvSequenceEncoder,
    FusionClassifier,
    FusionRegressor,
    GRUEncoder,
    TransformerSequenceEncoder,
)
from mmsk.fusion._sequence_modules import masked_mean

SMALL = dict(hidden=16, embed_dim=8, max_epochs=3, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def timing():
    return make_event_timing(240, n_steps=10, n_features=4, random_state=0)


@pytest.mark.parametrize(
    "fusion, encoder",
    [
        ("cross_attention", None),
        ("temporal_concat", None),
        ("cross_attention", GRUEncoder),
        ("attention", TransformerSequenceEncoder),
        ("concat", ConvSequenceEncoder),
    ],
)
def test_temporal_encoders_and_families_fit_predict_and_round_trip(timing, fusion, encoder):
    X, y = timing
    encoders = None if encoder is None else {"a": encoder, "b": encoder}
    params = {"module__encoders__a__heads": 2, "module__encoders__b__heads": 2}
    net = FusionClassifier(fusion=fusion, encoders=encoders, **SMALL)
    if encoder is TransformerSequenceEncoder:
        net.set_params(**params)
    proba = net.fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(again.predict_proba(X), proba)
    np.testing.assert_array_equal(clone(net).fit(X, y).predict_proba(X), proba)


def test_a_recurrent_encoder_reads_a_padded_row_as_its_steps_alone():
    torch.manual_seed(0)
    encoder = GRUEncoder(3, 5, hidden=4, bidirectional=True).eval()
    x = torch.randn(2, 6, 3)
    steps = torch.tensor([[1.0, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        padded = encoder(x, steps)
        alone = encoder(x[:1, :3], torch.ones(1, 3))
    torch.testing.assert_close(padded[0, :3], alone[0])  # the backward direction starts at step 2
    H = torch.arange(12.0).reshape(2, 3, 2)
    torch.testing.assert_close(
        masked_mean(H, torch.tensor([[1.0, 1, 0], [0, 0, 0]])), torch.tensor([[1.0, 2], [0, 0]])
    )


def test_padding_steps_and_missing_views_at_predict(timing):
    X, y = timing
    net = FusionClassifier(fusion="cross_attention", **SMALL).fit(X, y)
    values = sequence_arrays(X)
    short = {v: a.copy() for v, a in values.items()}
    short["a"][:40, 7:] = np.nan  # shorter rows of view a: padding steps
    short["b"][40:120] = np.nan  # a third of the rows without view b
    proba = net.predict_proba(sequence_frame(short, index=X.index))
    assert np.isfinite(proba).all()
    assert not np.allclose(proba[40:120], net.predict_proba(X)[40:120])  # view b is read when present


@pytest.mark.parametrize("encoder", [TransformerSequenceEncoder, ConvSequenceEncoder])
def test_what_padding_steps_hold_never_reaches_the_present_steps(encoder):
    torch.manual_seed(0)
    module = encoder(3, 4, **({"heads": 2} if encoder is TransformerSequenceEncoder else {})).eval()
    steps = torch.tensor([[1.0, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
    x = torch.randn(2, 6, 3)
    noisy = x.clone()
    noisy[0, 4:] = 100.0  # anything in the padding
    with torch.no_grad():
        torch.testing.assert_close(module(noisy, steps)[0, :4], module(x, steps)[0, :4])


def test_views_of_different_lengths_need_the_unaligned_family():
    rng = np.random.default_rng(0)
    X = sequence_frame({"audio": rng.normal(size=(60, 8, 2)), "video": rng.normal(size=(60, 5, 3))})
    y = rng.integers(0, 2, 60)
    FusionClassifier(fusion="cross_attention", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"aligned views.*\[5, 8\] steps.*cross_attention"):
        FusionClassifier(fusion="temporal_concat", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="'video' of X is a sequence of 4 steps"):
        FusionClassifier(fusion="cross_attention", **SMALL).fit(X, y).predict(
            sequence_frame({"audio": rng.normal(size=(3, 8, 2)), "video": rng.normal(size=(3, 4, 3))})
        )


def test_a_temporal_encoder_on_a_plain_view_says_what_a_sequence_view_is(timing):
    X, y = timing
    plain = X.rename(columns=lambda c: c.replace("__t", "__step"))
    with pytest.raises(ValueError, match=r"reads sequences, but 'a' is not a sequence view"):
        FusionClassifier(encoders={"a": GRUEncoder}, **SMALL).fit(plain, y)


def test_grid_search_over_an_encoder_parameter_and_the_fusion_family(timing):
    X, y = timing
    net = FusionClassifier(encoders={"a": GRUEncoder, "b": GRUEncoder}, **SMALL)
    grid = {"module__encoders__a__hidden": [4, 8], "fusion": ["concat", "cross_attention"]}
    search = GridSearchCV(net, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4 and np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.net_.module_.encoders[0].rnn.hidden_size in (4, 8)


def test_a_regressor_reads_sequences_too(timing):
    X, y = timing
    pred = FusionRegressor(fusion="temporal_concat", **SMALL).fit(X, y.astype(float)).predict(X)
    assert pred.shape == (len(X),) and np.isfinite(pred).all()


def test_a_temporal_net_saves_and_loads_with_skops(timing, tmp_path):
    from mmsk.persist import load, save

    X, y = timing
    net = FusionClassifier(fusion="cross_attention", encoders={"a": GRUEncoder}, **SMALL).fit(X, y)
    save(net, tmp_path / "net.skops")
    np.testing.assert_array_equal(load(tmp_path / "net.skops").predict_proba(X), net.predict_proba(X))


def test_cross_attention_uses_the_most_heads_that_divide_the_embedding_and_refuses_others():
    from mmsk.fusion._sequence_modules import CrossModalFusion

    assert CrossModalFusion(2, 6, 8, 2).blocks[0][0].attend.num_heads == 2
    assert CrossModalFusion(2, 32, 8, 2).blocks[0][0].attend.num_heads == 4
    with pytest.raises(ValueError, match="heads=4 does not divide the embedding size 6"):
        CrossModalFusion(2, 6, 8, 2, heads=4)
