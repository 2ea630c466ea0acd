"""The on-disk feature cache: re-runs read stored features; changes are recomputed."""

import os
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest

from mmsk.datasets._base import BUNDLED_DIR
from mmsk.extract import AudioFeatures, ExtractionError, ImageFeatures
from mmsk.extract._cache import item_key

WAVS = sorted((BUNDLED_DIR / "fsdd" / "recordings").glob("*.wav"))


def _audio(cache, **kw):
    return AudioFeatures(sr=8000, n_fft=256, hop_length=64, features=("mfcc",), cache=cache, **kw)


def _stored(cache_dir):
    """Number of vectors stored over every cache file of the folder."""
    total = 0
    for name in os.listdir(cache_dir):
        con = sqlite3.connect(os.path.join(cache_dir, name))
        total += con.execute("SELECT COUNT(*) FROM features").fetchone()[0]
        con.close()
    return total


def test_cached_rerun_returns_the_same_features_without_reading_files(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    paths = [str(shutil.copy(w, clips / w.name)) for w in WAVS[:6]]
    cache = tmp_path / "cache"
    first = _audio(cache).fit_transform(paths)
    assert _stored(cache) == 6
    # garbage of the same size and modification time: the key is unchanged, so a
    # re-run that read the files instead of the cache would fail
    for p in paths:
        st = os.stat(p)
        with open(p, "wb") as fh:
            fh.write(b"\0" * st.st_size)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = _audio(cache).fit_transform(paths)
    with pytest.raises(ExtractionError):
        _audio(None).fit_transform(paths)
    np.testing.assert_array_equal(first, again)


def test_a_changed_file_or_setting_is_recomputed(tmp_path):
    path = tmp_path / "clip.wav"
    shutil.copy(WAVS[0], path)
    cache = tmp_path / "cache"
    before = _audio(cache).fit_transform([str(path)])
    key_before = item_key(str(path))
    shutil.copy(WAVS[1], path)  # same name, other content
    os.utime(path, ns=(1, 1))  # and an other modification time
    assert item_key(str(path)) != key_before
    after = _audio(cache).fit_transform([str(path)])
    direct = _audio(None).fit_transform([str(WAVS[1])])
    np.testing.assert_allclose(after, direct)
    assert not np.allclose(before, after)
    # another parameter value gets its own file
    _audio(cache, n_mfcc=5).fit_transform([str(path)])
    assert len(os.listdir(cache)) == 2


def test_neutral_parameters_share_the_cache(tmp_path):
    cache = tmp_path / "cache"
    paths = [str(w) for w in WAVS[:4]]
    _audio(cache).fit_transform(paths)
    _audio(cache, n_jobs=2, progress=False, on_error="nan").fit_transform(paths)
    assert len(os.listdir(cache)) == 1 and _stored(cache) == 4


def test_arrays_and_bytes_are_keyed_by_content(tmp_path):
    cache = tmp_path / "cache"
    a = np.zeros((8, 8))
    b = np.ones((8, 8))
    feats = ImageFeatures(features=("pixels",), size=(8, 8), cache=cache)
    out = feats.fit_transform([a, b, a.copy()])
    assert _stored(cache) == 2  # two distinct contents
    np.testing.assert_array_equal(out[0], out[2])
    assert item_key(b"abc") == item_key(b"abc") != item_key(b"abd")


def test_failures_and_missing_items_are_not_cached(tmp_path):
    cache = tmp_path / "cache"
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF0000WAVEjunk")
    X = pd.Series([str(WAVS[0]), str(bad), None], name="clip")
    with pytest.warns(UserWarning, match="1 of 3"):
        out = _audio(cache, on_error="nan").fit_transform(X)
    assert np.isnan(out[1:]).all()
    assert _stored(cache) == 1
    # a later fix of the file is picked up
    shutil.copy(WAVS[2], bad)
    fixed = _audio(cache, on_error="nan").fit_transform(X)
    assert np.isfinite(fixed[1]).all()


def test_fitted_state_is_part_of_the_key(tmp_path, shared_data):
    photos = [str(p) for p in sorted((shared_data / "coco_mini" / "train2017").glob("*.jpg"))[:6]]
    cache = tmp_path / "cache"
    one = ImageFeatures(features=("bovw",), n_words=8, random_state=0, cache=cache)
    two = ImageFeatures(features=("bovw",), n_words=8, random_state=1, cache=cache)
    out1 = one.fit_transform(photos)
    out2 = two.fit_transform(photos)
    assert len(os.listdir(cache)) == 2  # the codebooks differ, so do the files
    np.testing.assert_allclose(out1, one.transform(photos))
    np.testing.assert_allclose(
        out2, ImageFeatures(features=("bovw",), n_words=8, random_state=1).fit_transform(photos)
    )
