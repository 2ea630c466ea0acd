"""AudioFeatures and ImageFeatures on real files, and their bad-input policy."""

import io
import shutil
import struct
import zlib

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import resolve_sequences, sequence_arrays
from mmsk.compose import TemporalPooling
from mmsk.datasets._base import BUNDLED_DIR
from mmsk.extract import AudioFeatures, ExtractionError, ExtractionWarning, ImageFeatures

WAVS = sorted((BUNDLED_DIR / "fsdd" / "recordings").glob("*.wav"))


def _audio(**kw):
    return AudioFeatures(sr=8000, n_fft=256, hop_length=64, **kw)


def test_audio_features_on_real_recordings_match_librosa():
    import librosa

    feats = _audio(features=("mfcc",), n_mfcc=5, stats=("mean",))
    out = feats.fit_transform(pd.Series([str(p) for p in WAVS[:3]], name="clip"))
    y, sr = sf.read(WAVS[1], dtype="float32")
    mel = librosa.feature.melspectrogram(
        S=np.abs(librosa.stft(y, n_fft=256, hop_length=64)) ** 2, sr=8000, n_mels=64
    )
    expected = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=5).mean(axis=1)
    np.testing.assert_allclose(out[1], expected, rtol=1e-5, atol=1e-4)
    assert feats.get_feature_names_out().tolist() == [f"mfcc_{i}_mean" for i in range(5)]


def test_audio_every_family_bytes_and_arrays_agree():
    feats = _audio(
        features=("mfcc", "delta", "mel", "chroma", "spectral", "zcr", "rms", "onset"),
        stats=("mean", "std", "p90"),
        segments=2,
    ).set_output(transform="pandas")
    path = str(WAVS[5])
    wave, _ = sf.read(path, dtype="float32")
    out = feats.fit_transform(pd.DataFrame({"clip": [path, WAVS[5].read_bytes(), wave]}))
    assert out.shape[1] == len(feats.get_feature_names_out())
    assert "spectral_centroid_p90_s1" in out.columns and "tempo" in out.columns
    assert np.isfinite(out.to_numpy()).all()
    np.testing.assert_allclose(out.iloc[0], out.iloc[1])
    np.testing.assert_allclose(out.iloc[0], out.iloc[2], rtol=1e-5, atol=1e-4)


def test_audio_resamples_and_mel_frames_shape():
    feats = AudioFeatures(sr=16000, output="mel_frames", n_mels=32, n_frames=20)
    out = feats.fit_transform([str(WAVS[0])])
    assert out.shape == (1, 32 * 20)
    assert out.max() <= 0.0 and out.min() >= -80.0


def test_audio_frames_are_a_sequence_view_whose_statistics_are_the_pooled_features():
    clips = pd.Series([str(p) for p in WAVS[:4]], name="clip")
    families = dict(features=("mfcc", "delta", "rms"), n_mfcc=4)
    frames = _audio(**families, output="frames", n_frames=200).set_output(transform="pandas")
    steps = frames.fit_transform(clips).add_prefix("audio__")
    sequences = resolve_sequences({"audio": np.arange(steps.shape[1])}, feature_names=steps.columns)
    assert sequences["audio"].shape == (200, 9)  # 4 MFCC, 4 deltas, the energy
    assert steps.columns[9] == "audio__t01_mfcc_0"
    values = sequence_arrays(steps)["audio"]
    lengths = (~np.isnan(values).all(axis=2)).sum(axis=1)
    assert (lengths > 10).all() and (lengths < 200).all()  # each clip ends in padding steps
    # the padding-aware statistics over the frames are the extractor's own pooled features
    pooled = TemporalPooling(stats=["mean", "std"]).fit_transform(steps)
    direct = _audio(**families, stats=("mean", "std")).fit_transform(clips)
    np.testing.assert_allclose(pooled, direct, rtol=1e-6, atol=1e-6)  # librosa computes in float32
    # resampled: every clip spans all the steps
    even = _audio(**families, output="frames", n_frames=16, resample=True).fit_transform(clips)
    assert even.shape == (4, 16 * 9) and np.isfinite(even).all()


def test_audio_features_classify_spoken_digits():
    paths = pd.Series([str(p) for p in WAVS])
    digits = np.array([int(p.name[0]) for p in WAVS])
    pipe = make_pipeline(
        _audio(features=("mfcc", "delta"), n_mels=40, segments=4),
        StandardScaler(),
        LogisticRegression(C=0.05, max_iter=3000),
    )
    # speaker-dependent stratified 4-fold CV on the bundled 480 clips
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    assert cross_val_score(pipe, paths, digits, cv=cv).mean() > 0.85


def test_image_hog_classifies_digits():
    # acceptance: HOG on scikit-learn's digits >= 0.95 (5-fold, unshuffled; measured 0.983)
    digits = load_digits()
    images = pd.Series(list(digits.images), name="image")
    pipe = make_pipeline(
        ImageFeatures(features=("hog",), size=(32, 32)),
        StandardScaler(),
        LogisticRegression(C=0.1, max_iter=2000),
    )
    assert cross_val_score(pipe, images, digits.target, cv=5).mean() >= 0.95


def test_image_numeric_rows_with_image_shape_equal_arrays():
    digits = load_digits()
    feats = ImageFeatures(features=("pixels", "lbp"), size=(8, 8), image_shape=(8, 8))
    rows = feats.fit_transform(digits.data[:5])
    arrays = ImageFeatures(features=("pixels", "lbp"), size=(8, 8)).fit_transform(list(digits.images[:5]))
    np.testing.assert_allclose(rows, arrays)


def test_image_files_colour_and_names(shared_data):
    photos = sorted((shared_data / "coco_mini" / "train2017").glob("*.jpg"))[:4]
    feats = ImageFeatures(features=("color_hist", "hog", "lbp"), size=(64, 64))
    out = feats.set_output(transform="pandas").fit_transform(pd.DataFrame({"photo": map(str, photos)}))
    assert out.shape == (4, 128 + 1764 + 59)
    hist = out.filter(like="hsv_").to_numpy()
    np.testing.assert_allclose(hist.sum(axis=1), 1.0, rtol=1e-6)
    assert out.columns[0] == "hsv_0_0_0"


# ----------------------------------------------------------------------------- bad input


def _chunk(kind, payload):
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _png_header(width, height):
    """A tiny PNG file whose header declares width x height pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.fixture
def bad_files(tmp_path, shared_data):
    jpg = sorted((shared_data / "coco_mini" / "train2017").glob("*.jpg"))[0]
    data = jpg.read_bytes()
    files = {
        "good_jpg": shutil.copy(jpg, tmp_path / "good.jpg"),
        "truncated_jpg": tmp_path / "truncated.jpg",
        "garbage_jpg": tmp_path / "garbage.jpg",
        "bomb_png": tmp_path / "bomb.png",
        "good_wav": shutil.copy(WAVS[0], tmp_path / "good.wav"),
        "truncated_wav": tmp_path / "truncated.wav",
        "cut_wav": tmp_path / "cut.wav",
        "empty_wav": tmp_path / "empty.wav",
        "text_file": tmp_path / "notes.txt",
    }
    files["truncated_jpg"].write_bytes(data[: len(data) // 2])
    files["garbage_jpg"].write_bytes(b"\xff\xd8\xff" + b"\x00garbage" * 50)
    files["bomb_png"].write_bytes(_png_header(30000, 30000))
    files["truncated_wav"].write_bytes(WAVS[0].read_bytes()[:30])  # cut inside the header
    files["cut_wav"].write_bytes(WAVS[0].read_bytes()[:-1000])  # cut inside the samples
    files["empty_wav"].write_bytes(b"")
    files["text_file"].write_text("hello")
    return {k: str(v) for k, v in files.items()}


@pytest.mark.parametrize(
    "kind, match",
    [
        ("truncated_jpg", "truncated or corrupt JPEG"),
        ("garbage_jpg", "truncated or corrupt JPEG|not a recognised image"),
        ("bomb_png", r"header declares .*900000000 pixels"),
        ("text_file", r"unsupported extension '.txt'"),
        ("missing", "no such file"),
        ("directory", "is a directory"),
    ],
)
def test_image_bad_files_raise_naming_row_column_and_file(bad_files, tmp_path, kind, match):
    path = {"missing": str(tmp_path / "nope.png"), "directory": str(tmp_path)}.get(kind) or bad_files[kind]
    X = pd.DataFrame({"photo": [bad_files["good_jpg"], path]}, index=["r0", "r1"])
    feats = ImageFeatures(features=("color_hist",)).fit(X)
    with pytest.raises(ExtractionError, match=rf"row 'r1' of column 'photo', file '{path}'.*({match})"):
        feats.transform(X)


@pytest.mark.parametrize(
    "kind, match",
    [
        ("truncated_wav", "No 'data' chunk"),
        ("cut_wav", r"truncated WAV: the header declares \d+ bytes of audio data but the file holds \d+"),
        ("empty_wav", r"is empty \(0 bytes\)"),
        ("text_file", "unsupported extension"),
        ("missing", "no such file"),
        ("directory", "is a directory"),
    ],
)
def test_audio_bad_files_raise_naming_row_column_and_file(bad_files, tmp_path, kind, match):
    path = {"missing": str(tmp_path / "nope.wav"), "directory": str(tmp_path)}.get(kind) or bad_files[kind]
    X = pd.DataFrame({"clip": [bad_files["good_wav"], path]})
    expected = rf"row 1 of column 'clip', file '{path}'.*({match})"
    with pytest.raises(ExtractionError, match=expected):
        _audio().fit_transform(X)


def test_on_error_nan_records_missing_and_warns_once(bad_files):
    X = pd.Series(
        [bad_files["good_wav"], bad_files["empty_wav"], bad_files["truncated_wav"], None, "", np.nan],
        name="clip",
    )
    with pytest.warns(ExtractionWarning, match=r"2 of 6 audio item\(s\).*empty.wav.*truncated.wav"):
        out = _audio(on_error="nan").fit_transform(X)
    assert np.isfinite(out[0]).all()
    assert np.isnan(out[1:]).all()


def test_missing_items_are_missing_rows_not_errors():
    out = ImageFeatures(features=("pixels",), size=(4, 4)).fit_transform([None, "", np.zeros((4, 4))])
    assert np.isnan(out[:2]).all() and np.isfinite(out[2]).all()


def test_audio_too_long_is_refused(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(8000 * 3, dtype="float32"), 8000)
    with pytest.raises(ExtractionError, match=r"lasts 3.0 s, more than max_duration=2"):
        _audio(max_duration=2).fit_transform([str(path)])
    assert np.isfinite(_audio(max_duration=None).fit_transform([str(path)])).all()


def test_parallel_equals_serial():
    paths = [str(p) for p in WAVS[:12]]
    serial = _audio().fit_transform(paths)
    parallel = _audio(n_jobs=2).fit_transform(paths)
    np.testing.assert_allclose(serial, parallel)


def test_progress_bar_can_be_shown(capsys):
    _audio(progress=True).fit_transform([str(WAVS[0])])
    assert "AudioFeatures" in capsys.readouterr().err


def test_several_columns_is_a_clear_error():
    X = pd.DataFrame({"a": ["x.wav"], "b": ["y.wav"]})
    with pytest.raises(ValueError, match="ONE column"):
        _audio().fit(X)


def test_bytes_in_memory(bad_files):
    raw = io.BytesIO(open(bad_files["good_jpg"], "rb").read()).getvalue()
    out = ImageFeatures(features=("color_hist",)).fit_transform([raw])
    assert np.isfinite(out).all()


def test_max_pixels_is_checked_from_the_header(bad_files):
    feats = ImageFeatures(features=("color_hist",), max_pixels=1000)
    with pytest.raises(ExtractionError, match=r"declares \d+x\d+ = \d+ pixels, more than max_pixels=1000"):
        feats.fit_transform([bad_files["good_jpg"]])


def test_list_input_is_named_the_input_not_a_column(bad_files):
    with pytest.raises(ExtractionError, match=r"row 0 of the input, file"):
        _audio().fit_transform([bad_files["empty_wav"]])


def test_truncated_wav_bytes_are_refused_too():
    data = WAVS[0].read_bytes()
    feats = _audio().fit([data])
    with pytest.raises(ExtractionError, match="truncated WAV"):
        feats.transform([data[:-10]])


# ----------------------------------------------------------------------------- bag of visual words


def test_bovw_codebook_is_learned_in_fit_and_histograms_are_normalised(shared_data):
    photos = [str(p) for p in sorted((shared_data / "coco_mini" / "train2017").glob("*.jpg"))[:20]]
    feats = ImageFeatures(features=("color_hist", "bovw"), n_words=16, random_state=0)
    out = feats.set_output(transform="pandas").fit_transform(pd.Series(photos, name="photo"))
    assert feats.codebook_.cluster_centers_.shape == (16, 256)
    words = out.filter(like="bovw_").to_numpy()
    assert words.shape == (20, 16)
    np.testing.assert_allclose(words.sum(axis=1), 1.0)
    # the same seed gives the same codebook; another seed another one
    again = ImageFeatures(features=("color_hist", "bovw"), n_words=16, random_state=0).fit(photos)
    np.testing.assert_array_equal(again.codebook_.cluster_centers_, feats.codebook_.cluster_centers_)
    other = ImageFeatures(features=("color_hist", "bovw"), n_words=16, random_state=1).fit(photos)
    assert not np.array_equal(other.codebook_.cluster_centers_, feats.codebook_.cluster_centers_)


def test_bovw_flat_image_gives_zero_histogram_and_too_few_descriptors_is_clear(shared_data):
    photos = [str(p) for p in sorted((shared_data / "coco_mini" / "train2017").glob("*.jpg"))[:5]]
    feats = ImageFeatures(features=("bovw",), n_words=8, random_state=0).fit(photos)
    flat = np.full((64, 64), 128, dtype=np.uint8)
    assert (feats.transform([flat]) == 0).all()
    with pytest.raises(ValueError, match="fewer than n_words=8"):
        ImageFeatures(features=("bovw",), n_words=8).fit([flat, flat])


def test_bovw_fit_names_the_unreadable_training_image(bad_files):
    X = pd.DataFrame({"photo": [bad_files["good_jpg"], bad_files["truncated_jpg"]]})
    with pytest.raises(ExtractionError, match=r"row 1 of column 'photo'.*truncated.jpg"):
        ImageFeatures(features=("bovw",), n_words=4).fit(X)
    with pytest.warns(ExtractionWarning, match="1 of 2"):
        out = ImageFeatures(features=("bovw",), n_words=4, on_error="nan").fit_transform(X)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_speech_preset_sets_windows_from_the_sample_rate_and_takes_overrides():
    at_8k = AudioFeatures.for_speech(sr=8000)
    assert (at_8k.n_fft, at_8k.hop_length) == (256, 80)  # 32 ms, 10 ms
    at_16k = AudioFeatures.for_speech()
    assert (at_16k.sr, at_16k.n_fft, at_16k.hop_length) == (16000, 512, 160)
    assert at_16k.get_params()["features"] == ("mfcc", "delta")
    tuned = AudioFeatures.for_speech(sr=8000, segments=3, n_jobs=2)
    assert (tuned.segments, tuned.n_jobs, tuned.trim_db) == (3, 2, 20)
    assert clone(tuned).get_params() == tuned.get_params()
    with pytest.raises(TypeError, match="unexpected keyword"):
        AudioFeatures.for_speech(n_fttt=3)
