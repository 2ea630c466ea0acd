"""Sequence views in the one 2-D table: names, padding, helpers, and statistics over time."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from mmsk import missing_view_masks, resolve_sequences, resolve_views, sequence_arrays, sequence_frame
from mmsk.compose import SequenceScaler, TemporalPooling
from mmsk.datasets import make_event_timing
from mmsk.fusion import EarlyFusionClassifier


def padded(rng, n, n_steps, width, shortest=1):
    """(n, T, d) values whose rows have random lengths, the steps after each length NaN."""
    values = rng.normal(size=(n, n_steps, width))
    lengths = rng.integers(shortest, n_steps + 1, n)
    values[np.arange(n_steps)[None, :] >= lengths[:, None]] = np.nan
    return values, lengths


def test_arrays_round_trip_exactly_with_padding_and_different_lengths():
    rng = np.random.default_rng(0)
    audio, _ = padded(rng, 7, 12, 3)
    video, _ = padded(rng, 7, 5, 2)
    frame = sequence_frame({"audio": audio, "video": video}, features={"video": ["au1", "au2"]})
    assert frame.shape == (7, 12 * 3 + 5 * 2)
    assert list(frame.columns[36:40]) == [
        "video__t00_au1",
        "video__t00_au2",
        "video__t01_au1",
        "video__t01_au2",
    ]
    back = sequence_arrays(frame)
    assert set(back) == {"audio", "video"}
    assert back["audio"].flags.writeable  # the caller's own arrays
    np.testing.assert_array_equal(back["audio"], audio)  # NaN where NaN, every value bit for bit
    np.testing.assert_array_equal(back["video"], video)
    # through a CSV file, as mmsk fit reads a table
    again = sequence_arrays(pd.read_csv(pd.io.common.StringIO(frame.to_csv(index=False))))
    np.testing.assert_allclose(again["audio"], audio, rtol=1e-15, equal_nan=True)


def test_ragged_lists_round_trip_and_none_is_a_missing_view():
    rng = np.random.default_rng(1)
    rows = [rng.normal(size=(t, 4)) for t in (3, 1, 6)] + [None]
    frame = sequence_frame({"speech": rows}, index=["a", "b", "c", "d"])
    assert frame.shape == (4, 6 * 4) and list(frame.index) == ["a", "b", "c", "d"]
    back = sequence_arrays(frame, ragged=True)["speech"]
    assert back[3] is None
    for mine, theirs in zip(rows[:3], back[:3]):
        np.testing.assert_array_equal(mine, theirs)
    # the last row is missing: every column of the view is NaN, which resolve_views reads as missing
    X = frame.to_numpy()
    views = resolve_views(None, n_features=X.shape[1], feature_names=frame.columns)
    masks = missing_view_masks(X, views, sequences=resolve_sequences(views, feature_names=frame.columns))
    assert masks["speech"].tolist() == [False, False, False, True]


def test_sktime_panels_map_by_swapping_the_last_two_axes():
    panel = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)  # sktime/aeon: (n, d, T)
    frame = sequence_frame({"x": np.swapaxes(panel, 1, 2)})
    assert frame.shape == (2, 15)
    assert frame.loc[1, "x__t04_f2"] == panel[1, 2, 4]
    np.testing.assert_array_equal(np.swapaxes(sequence_arrays(frame)["x"], 1, 2), panel)


@pytest.mark.parametrize(
    "names",
    [
        ["t00_a", "t00_b", "t01_a"],  # a step lacks a feature
        ["t01_a", "t02_a"],  # steps do not start at 0
        ["t5_a", "t05_a"],  # the same step twice
        ["t00_a", "mean_a"],  # a column that is not a step
    ],
)
def test_only_a_complete_step_by_feature_grid_is_a_sequence(names):
    columns = [f"v__{n}" for n in names] + ["w__t00_x", "w__t01_x"]
    views = resolve_views(None, n_features=len(columns), feature_names=columns)
    sequences = resolve_sequences(views, feature_names=columns)
    assert list(sequences) == ["w"]
    np.testing.assert_array_equal(sequences["w"], [[len(names)], [len(names) + 1]])


def test_steps_by_position_for_arrays_without_names():
    views = {"a": np.arange(6), "b": np.arange(6, 8)}
    sequences = resolve_sequences(views, n_steps={"a": 3})
    np.testing.assert_array_equal(sequences["a"], [[0, 1], [2, 3], [4, 5]])
    assert "b" not in sequences
    with pytest.raises(ValueError, match=r"n_steps=4 for view 'a': its 6 columns"):
        resolve_sequences(views, n_steps=4)


def test_nan_inside_a_step_names_the_row_the_view_and_the_step():
    rng = np.random.default_rng(2)
    values, _ = padded(rng, 5, 4, 3, shortest=4)
    values[3, 2, 1] = np.nan
    frame = sequence_frame({"audio": values}, index=[f"clip{i}" for i in range(5)])
    with pytest.raises(ValueError, match=r"Row 'clip3': view 'audio' .* step 2 \('audio__t02_f1'\)"):
        TemporalPooling().fit(frame)


def test_an_estimator_that_reads_vectors_names_temporal_pooling_on_padded_views():
    rng = np.random.default_rng(3)
    audio, _ = padded(rng, 40, 6, 2)
    frame = sequence_frame({"audio": audio, "video": rng.normal(size=(40, 6, 2))})
    y = rng.integers(0, 2, 40)
    with pytest.raises(ValueError, match=r"sequence view \(6 steps of 2 features\).*TemporalPooling"):
        EarlyFusionClassifier().fit(frame, y)
    # after pooling (pandas output keeps the view names), the same estimator fits
    model = make_pipeline(TemporalPooling(), EarlyFusionClassifier()).set_output(transform="pandas")
    model.fit(frame, y)
    assert model.predict_proba(frame).shape == (40, 2)


def reference_stats(row):
    """The statistics of one sequence without padding, computed plainly."""
    steps = np.arange(len(row))
    slope = np.polyfit(steps, row, 1)[0] if len(row) > 1 else np.zeros(row.shape[1])
    return {
        "mean": row.mean(0), "std": row.std(0), "min": row.min(0), "max": row.max(0),
        "first": row[0], "last": row[-1], "slope": slope, "q25": np.quantile(row, 0.25, axis=0),
    }  # fmt: skip


def test_statistics_over_present_steps_match_a_plain_computation():
    rng = np.random.default_rng(4)
    audio, lengths = padded(rng, 30, 9, 3)
    static = rng.normal(size=(30, 2))
    frame = sequence_frame({"audio": audio}, features={"audio": ["pitch", "energy", "voicing"]})
    frame[["face__smile", "face__brow"]] = static
    frame.loc[5, [c for c in frame.columns if c.startswith("audio__")]] = np.nan  # a missing view
    pooling = TemporalPooling(quantiles=(0.25,)).set_output(transform="pandas")
    out = pooling.fit_transform(frame)
    stats = ("mean", "std", "min", "max", "first", "last", "slope", "q25")
    assert list(out.columns[:9]) == [f"audio__pitch_{s}" for s in stats] + ["audio__energy_mean"]
    assert list(out.columns[-2:]) == ["face__smile", "face__brow"]
    np.testing.assert_array_equal(out[["face__smile", "face__brow"]].to_numpy(), static)
    for i in [0, 1, 7, 29]:
        expected = reference_stats(audio[i, : lengths[i]])
        for j, feature in enumerate(["pitch", "energy", "voicing"]):
            for stat, values in expected.items():
                np.testing.assert_allclose(out.loc[i, f"audio__{feature}_{stat}"], values[j], atol=1e-10)
    assert out.loc[5, [c for c in out.columns if c.startswith("audio__")]].isna().all()
    assert out.drop(index=5).notna().all().all()


def test_quantiles_of_whole_and_padded_rows_are_those_of_their_present_steps():
    rng = np.random.default_rng(8)
    audio, lengths = padded(rng, 40, 7, 2, shortest=3)
    audio[:20] = rng.normal(size=(20, 7, 2))  # whole rows beside padded ones
    lengths[:20] = 7
    pooling = TemporalPooling(stats=["mean"], quantiles=(0.1, 0.5, 0.9))
    out = pooling.fit_transform(sequence_frame({"audio": audio}))
    expected = np.array(
        [np.concatenate([np.quantile(row[:n], q, axis=0) for q in (0.1, 0.5, 0.9)])
         for row, n in zip(audio, lengths)]
    )  # fmt: skip
    # columns: each feature's mean, then its quantiles, feature by feature
    got = out.reshape(40, 2, 4)[:, :, 1:].transpose(0, 2, 1).reshape(40, 6)
    np.testing.assert_array_equal(got, expected)


def test_sequence_scaler_scales_a_feature_over_every_present_step_and_keeps_padding():
    rng = np.random.default_rng(2)
    audio, lengths = padded(rng, 30, 6, 2, shortest=2)
    audio = audio * [1.0, 10.0] + np.arange(6)[None, :, None]  # the feature rises over time
    audio[3] = np.nan  # a row without the view
    price = rng.normal(5.0, 2.0, size=(30, 1))
    frame = sequence_frame({"audio": audio}).assign(price__usd=price[:, 0])
    scaled = SequenceScaler().set_output(transform="pandas").fit_transform(frame)
    assert list(scaled.columns) == list(frame.columns)
    values = sequence_arrays(scaled)["audio"]
    assert np.array_equal(np.isnan(values), np.isnan(audio))
    present = audio[~np.isnan(audio[..., 0])]  # every row's present steps, (steps, 2)
    expected = (audio - present.mean(axis=0)) / present.std(axis=0)
    np.testing.assert_allclose(values, expected, equal_nan=True)
    # the rise over time survives: later steps are higher on average
    assert np.nanmean(values[:, -1, 0]) > np.nanmean(values[:, 0, 0]) + 1
    np.testing.assert_allclose(scaled["price__usd"], (price[:, 0] - price.mean()) / price.std())


def test_a_different_number_of_steps_at_transform_is_a_clear_error():
    rng = np.random.default_rng(5)
    pooling = TemporalPooling().fit(sequence_frame({"audio": rng.normal(size=(4, 20, 2))}))
    with pytest.raises(
        ValueError, match=r"View 'audio' of X is a sequence of 30 steps .* fitted on 20 steps"
    ):
        pooling.transform(sequence_frame({"audio": rng.normal(size=(4, 30, 2))}))


def test_pooling_clones_pickles_and_cross_validates_in_a_pipeline():
    rng = np.random.default_rng(6)
    n = 120
    y = rng.integers(0, 2, n)
    trend = np.linspace(-1, 1, 10)[None, :, None] * (2 * y - 1)[:, None, None]  # rising or falling
    audio = trend + rng.normal(scale=0.5, size=(n, 10, 2))
    frame = sequence_frame({"audio": audio})
    pooling = TemporalPooling(stats=["mean", "slope"])
    again = pickle.loads(pickle.dumps(clone(pooling).fit(frame)))
    np.testing.assert_array_equal(again.transform(frame), pooling.fit(frame).transform(frame))
    # the mean is the same for both classes; the slope tells them apart
    assert cross_val_score(make_pipeline(pooling, LogisticRegression()), frame, y, cv=3).mean() > 0.9
    means = make_pipeline(TemporalPooling(stats=["mean"]), LogisticRegression())
    assert cross_val_score(means, frame, y, cv=3).mean() < 0.7


def test_event_timing_needs_time_pooled_statistics_score_at_chance():
    X, y = make_event_timing(400, random_state=0)
    assert y.mean() == 0.5 and X.shape == (400, 2 * 20 * 8)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    for model in (
        LogisticRegression(max_iter=2000),
        HistGradientBoostingClassifier(max_iter=50, random_state=0),
    ):
        pooled = make_pipeline(TemporalPooling(quantiles=(0.25, 0.75)), model)
        assert cross_val_score(pooled, X, y, cv=cv).mean() <= 0.60
    # read step by step, the events' coincidence is plain: the summed products of each view's
    # projection on its own event pattern (its covariance's top direction) give it away
    steps = sequence_arrays(X)
    projected = []
    for values in steps.values():
        flat = values.reshape(-1, values.shape[2])
        direction = np.linalg.eigh(flat.T @ flat)[1][:, -1]
        projected.append(values @ direction)
    together = (projected[0] * projected[1]).sum(axis=1, keepdims=True)
    assert cross_val_score(LogisticRegression(), np.abs(together), y, cv=cv).mean() > 0.9
