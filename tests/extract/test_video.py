"""VideoFeatures on video files written by OpenCV in the test."""

import cv2
import numpy as np
import pandas as pd
import pytest

from mmsk import sequence_arrays
from mmsk.compose import TemporalPooling
from mmsk.extract import ExtractionError, ExtractionWarning, ImageFeatures, TorchEncoder, VideoFeatures


def _write(path, frames, fourcc="MJPG", fps=10):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return str(path)


def _ramp(n=20, channel=0):
    """Frames whose `channel` brightens over time: frame i has value 10 * i."""
    frames = []
    for i in range(n):
        f = np.zeros((48, 64, 3), dtype=np.uint8)
        f[:, :, channel] = min(255, 10 * i)
        frames.append(f)
    return frames


def _mean_red(video, **kw):
    feats = VideoFeatures(
        ImageFeatures(features=("pixels",), size=(4, 4)), stats=("mean", "min", "max"), **kw
    )
    return feats, feats.fit_transform([video])


def test_evenly_spaced_frames_from_a_file(tmp_path):
    path = _write(tmp_path / "ramp.avi", _ramp(20))
    feats, out = _mean_red(path, n_frames=3)  # frames 0, 10 (rounded from 9.5) and 19
    names = feats.get_feature_names_out().tolist()
    assert names[:3] == ["px_0_mean", "px_0_min", "px_0_max"]
    gray = lambda v: round(0.299 * v) / 255  # noqa: E731 - grayscale of a pure-red frame
    lo, hi = out[0, 1], out[0, 2]
    assert lo == pytest.approx(gray(0), abs=0.02) and hi == pytest.approx(gray(190), abs=0.02)
    assert out[0, 0] == pytest.approx(np.mean([gray(0), gray(100), gray(190)]), abs=0.02)


def test_every_kth_frame_and_array_input_agree_with_the_file(tmp_path):
    frames = _ramp(20)
    path = _write(tmp_path / "ramp.avi", frames)
    _, from_file = _mean_red(path, every=5)
    _, from_array = _mean_red(np.stack(frames), every=5)
    np.testing.assert_allclose(from_file, from_array, atol=0.02)  # MJPG is lossy
    _, from_bytes = _mean_red(open(path, "rb").read(), every=5)
    np.testing.assert_allclose(from_file, from_bytes)


def test_frames_unpooled_are_a_sequence_view_padded_after_the_last_frame(tmp_path):
    long, short = _write(tmp_path / "long.avi", _ramp(20)), _write(tmp_path / "short.avi", _ramp(3))
    per_frame = ImageFeatures(features=("pixels",), size=(2, 2))
    video = VideoFeatures(per_frame, n_frames=5, output="frames").set_output(transform="pandas")
    steps = video.fit_transform(pd.Series([long, short], name="clip")).add_prefix("clip__")
    assert steps.shape == (2, 5 * 4) and steps.columns[4] == "clip__t01_px_0"
    values = sequence_arrays(steps)["clip"]
    assert np.isfinite(values[0]).all()
    assert np.isfinite(values[1, :3]).all() and np.isnan(values[1, 3:]).all()  # 3 frames, 2 padding steps
    # pooled over its present steps, it is what the pooled extractor gives
    pooled = TemporalPooling(stats=["mean", "max"]).fit_transform(steps)
    direct = VideoFeatures(per_frame, n_frames=5, stats=("mean", "max")).fit_transform([long, short])
    np.testing.assert_allclose(pooled, direct)


def test_default_image_features_tell_colours_apart(tmp_path):
    red = _write(tmp_path / "red.avi", _ramp(8, channel=0))
    blue = _write(tmp_path / "blue.avi", _ramp(8, channel=2))
    feats = VideoFeatures(n_frames=4).set_output(transform="pandas")
    out = feats.fit_transform(pd.DataFrame({"clip": [red, blue, None]}))
    assert out.shape[1] == 2 * (128 + 1764)
    assert not np.allclose(out.iloc[0].filter(like="hsv"), out.iloc[1].filter(like="hsv"))
    assert out.iloc[2].isna().all()


def test_torch_encoder_per_frame(tmp_path):
    import torch

    path = _write(tmp_path / "ramp.avi", _ramp(10))
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    feats = VideoFeatures(TorchEncoder(module), n_frames=5, stats=("mean",))
    out = feats.fit_transform([path])
    assert out.shape == (1, 3)  # mean RGB over frames
    assert out[0, 0] > out[0, 1] == pytest.approx(0, abs=0.01)


@pytest.mark.parametrize(
    "kind, match",
    [
        ("truncated", "could not open the video|truncated or corrupt video"),
        ("garbage", "could not open the video"),
        ("text", "unsupported extension '.txt'"),
        ("missing", "no such file"),
        ("empty", r"is empty \(0 bytes\)"),
    ],
)
def test_bad_videos_name_row_column_and_file(tmp_path, kind, match):
    good = _write(tmp_path / "good.avi", _ramp(10))
    data = open(good, "rb").read()
    bad = {
        "truncated": tmp_path / "cut.avi",
        "garbage": tmp_path / "garbage.mp4",
        "text": tmp_path / "notes.txt",
        "missing": tmp_path / "nope.avi",
        "empty": tmp_path / "empty.avi",
    }[kind]
    if kind == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif kind in ("garbage", "text"):
        bad.write_bytes(b"garbage" * 100)
    elif kind == "empty":
        bad.write_bytes(b"")
    X = pd.DataFrame({"clip": [good, str(bad)]}, index=["ok", "broken"])
    feats = VideoFeatures(ImageFeatures(features=("pixels",), size=(2, 2)))
    with pytest.raises(ExtractionError, match=rf"row 'broken' of column 'clip', file '{bad}'.*({match})"):
        feats.fit_transform(X)
    with pytest.warns(ExtractionWarning, match="1 of 2 video"):
        out = feats.set_params(on_error="nan").fit_transform(X)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_frames_fewer_than_the_header_declares_are_refused(tmp_path):
    # OpenCV opens an MJPG AVI cut in half (its header still declares 40 frames) and
    # decodes the first 19: featurising those silently would be a wrong answer
    rng = np.random.default_rng(0)
    path = tmp_path / "cut.avi"
    _write(path, [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(40)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    feats = VideoFeatures(ImageFeatures(features=("pixels",), size=(2, 2)), n_frames=8)
    feats.fit([_write(tmp_path / "ok.avi", _ramp(5))])
    with pytest.raises(ExtractionError, match=r"header declares 40 frames but only 19 could be decoded"):
        feats.transform([str(path)])
    # the frames before the cut are still there for a sampling that only needs them
    early = VideoFeatures(ImageFeatures(features=("pixels",), size=(2, 2)), every=5, max_frames=3)
    assert np.isfinite(early.fit_transform([str(path)])).all()
