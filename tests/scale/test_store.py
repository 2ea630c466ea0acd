"""The on-disk feature store: chunks, atomic files, resumption, mismatches, real audio, a killed run."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from mmsk._demo import _audio_features
from mmsk.extract import AudioFeatures, ExtractionError
from mmsk.scale import FeatureStore, StoreMismatchError, extract_to_store

# the speech set-up the demo uses (its n_jobs only changes how it runs)
FSDD_SETTINGS = {**_audio_features().get_params(), "n_jobs": 1}


class NoNames:
    """A duck-typed transformer (no scikit-learn base class, no feature names)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X)[:, :2] * 2


class FileSize:
    """Each file's size: its output changes when a file is rewritten in place."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.array([[os.path.getsize(p)] for p in X["path"]], dtype=float)


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    index = pd.Index([f"r{i}" for i in range(103)], name="id")
    return pd.DataFrame(rng.normal(size=(103, 4)), columns=list("abcd"), index=index)


@pytest.fixture
def pca(table):
    return PCA(3, random_state=0).set_output(transform="pandas").fit(table)


def test_store_equals_transform_with_index_and_names(tmp_path, table, pca):
    store = extract_to_store(pca, table, tmp_path / "s", chunk_size=25)
    assert store.n_chunks == 5 and store.complete and len(store) == 103
    assert store.last_run["computed"] == [0, 1, 2, 3, 4] and store.last_run["reused"] == []
    got = FeatureStore(tmp_path / "s").read()
    expected = pca.transform(table)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["manifest.json"] + [
        f"part-{i:05d}.parquet" for i in range(5)
    ]
    # columns can be read alone, and chunk by chunk
    assert list(store.read(columns=["pca1"]).columns) == ["pca1"]
    assert [len(c) for c in store.iter_chunks()] == [25, 25, 25, 25, 3]


def test_array_input_and_unnamed_output(tmp_path):
    X = np.arange(30.0).reshape(10, 3)
    store = extract_to_store(NoNames().fit(X), X, tmp_path, chunk_size=4)
    got = store.read()
    assert list(got.columns) == ["x0", "x1"] and list(got.index) == list(range(10))
    np.testing.assert_array_equal(got.to_numpy(), X[:, :2] * 2)


def test_rerun_reuses_every_chunk_without_rewriting(tmp_path, table, pca):
    extract_to_store(pca, table, tmp_path, chunk_size=40)
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("part-*")}
    again = extract_to_store(pca, table, tmp_path, chunk_size=40, n_jobs=2)
    assert again.last_run == {**again.last_run, "computed": [], "reused": [0, 1, 2]}
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("part-*")} == stamps


def test_changed_rows_recompute_only_their_chunk(tmp_path, table, pca):
    extract_to_store(pca, table, tmp_path, chunk_size=40)
    changed = table.copy()
    changed.iloc[50, 0] += 1.0
    store = extract_to_store(pca, changed, tmp_path, chunk_size=40)
    assert store.last_run["computed"] == [1] and store.last_run["reused"] == [0, 2]
    pd.testing.assert_frame_equal(store.read(), pca.transform(changed), check_exact=False, rtol=1e-12)


def test_a_file_changed_in_place_recomputes_its_chunk(tmp_path):
    paths = []
    for i in range(6):
        p = tmp_path / f"f{i}.txt"
        p.write_text("x" * (i + 1))
        paths.append(str(p))
    X = pd.DataFrame({"path": paths})
    store_dir = tmp_path / "store"
    extract_to_store(FileSize().fit(X), X, store_dir, chunk_size=2)
    Path(paths[3]).write_text("y" * 100)  # same path, new content
    store = extract_to_store(FileSize().fit(X), X, store_dir, chunk_size=2)
    assert store.last_run["computed"] == [1]
    assert store.read().iloc[3, 0] == 100


def test_another_transformer_or_chunk_size_is_refused_unless_overwrite(tmp_path, table, pca):
    extract_to_store(pca, table, tmp_path, chunk_size=40)
    other = PCA(3, random_state=0).set_output(transform="pandas").fit(table.iloc[:50])
    with pytest.raises(StoreMismatchError, match="transformer_digest"):
        extract_to_store(other, table, tmp_path, chunk_size=40)
    with pytest.raises(StoreMismatchError, match="chunk_size"):
        extract_to_store(pca, table, tmp_path, chunk_size=30)
    with pytest.raises(StoreMismatchError, match="n_rows"):
        extract_to_store(pca, table.iloc[:90], tmp_path, chunk_size=40)
    (tmp_path / "notes.txt").write_text("mine")
    store = extract_to_store(other, table, tmp_path, chunk_size=30, overwrite=True)
    assert store.last_run["computed"] == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(store.read(), other.transform(table), check_exact=False, rtol=1e-12)
    assert (tmp_path / "notes.txt").read_text() == "mine"  # only the store's own files go


def test_parameters_that_only_change_how_it_runs_do_not_invalidate(tmp_path):
    X = pd.DataFrame({"audio": [np.sin(np.arange(4000) / (5.0 + i)) for i in range(6)]}).map(
        lambda a: a.astype(np.float32)
    )
    X = pd.DataFrame({"audio": list(X["audio"])})
    ex = AudioFeatures(sr=8000, n_mfcc=5, features=("mfcc",), n_jobs=1, progress=False)
    extract_to_store(ex.fit(X), X, tmp_path, chunk_size=3)
    ex2 = AudioFeatures(sr=8000, n_mfcc=5, features=("mfcc",), n_jobs=2, progress=True, on_error="nan")
    assert extract_to_store(ex2.fit(X), X, tmp_path, chunk_size=3).last_run["reused"] == [0, 1]
    ex3 = AudioFeatures(sr=8000, n_mfcc=6, features=("mfcc",))
    with pytest.raises(StoreMismatchError):
        extract_to_store(ex3.fit(X), X, tmp_path, chunk_size=3)


def test_bad_arguments(tmp_path, table, pca):
    with pytest.raises(NotFittedError, match="fit PCA first"):
        extract_to_store(PCA(2), table, tmp_path / "a")
    with pytest.raises(ValueError, match="chunk_size"):
        extract_to_store(pca, table, tmp_path / "b", chunk_size=0)
    with pytest.raises(ValueError, match="no rows"):
        extract_to_store(pca, table.iloc[:0], tmp_path / "c")
    with pytest.raises(TypeError, match="transform method"):
        extract_to_store(object(), table, tmp_path / "d")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "data.csv").write_text("a,b\n")
    with pytest.raises(StoreMismatchError, match="not empty"):
        extract_to_store(pca, table, tmp_path / "e")
    with pytest.raises(FileNotFoundError, match="not a feature store"):
        FeatureStore(tmp_path / "e")


def test_damaged_and_half_written_chunks_are_never_read(tmp_path, table, pca):
    store = extract_to_store(pca, table, tmp_path, chunk_size=40)
    # a chunk cut short (as by a full disk) and a temporary file left by a killed writer
    data = store.chunk_path(1).read_bytes()
    store.chunk_path(1).write_bytes(data[: len(data) // 2])
    (tmp_path / ".part-00002.parquet.deadbeef.tmp").write_bytes(b"PAR1 half")
    store.chunk_path(2).unlink()
    assert FeatureStore(tmp_path).missing_chunks() == [1, 2]
    with pytest.raises(ValueError, match=r"2 of 3 chunk\(s\) missing \(1, 2\)"):
        FeatureStore(tmp_path).read()
    resumed = extract_to_store(pca, table, tmp_path, chunk_size=40)
    assert resumed.last_run["computed"] == [1, 2] and resumed.last_run["reused"] == [0]
    assert not list(tmp_path.glob(".*.tmp"))
    pd.testing.assert_frame_equal(resumed.read(), pca.transform(table), check_exact=False, rtol=1e-12)


def test_a_chunk_of_another_store_is_not_taken(tmp_path, table, pca):
    """A part file copied in from another store (other rows) is recomputed, not read back."""
    extract_to_store(pca, table, tmp_path / "a", chunk_size=40)
    extract_to_store(pca, table, tmp_path / "b", chunk_size=40)
    shutil.copy(tmp_path / "a" / "part-00000.parquet", tmp_path / "b" / "part-00001.parquet")
    assert FeatureStore(tmp_path / "b").missing_chunks() == [1]


def _recordings(shared_data, n=None):
    folder = shared_data / "fsdd" / "recordings"
    files = sorted(str(p) for p in folder.glob("*.wav"))
    if not files:
        pytest.skip(f"no FSDD recordings in {folder}")
    return pd.DataFrame({"audio": files[:n] if n else files})


def test_a_broken_recording_stops_the_run_and_keeps_finished_chunks(tmp_path, shared_data):
    X = _recordings(shared_data, 40).copy()
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not really")
    X.loc[25, "audio"] = str(broken)
    ex = AudioFeatures(**FSDD_SETTINGS).fit(X.iloc[:2])
    with pytest.raises(ExtractionError, match=r"row 25 of column 'audio'.*broken\.wav"):
        extract_to_store(ex, X, tmp_path / "store", chunk_size=10)
    assert FeatureStore(tmp_path / "store").missing_chunks() == [2, 3]
    # the user chooses to record it as missing: finished chunks are kept
    ex.set_params(on_error="nan")
    with pytest.warns(UserWarning, match="broken.wav"):
        store = extract_to_store(ex, X, tmp_path / "store", chunk_size=10)
    assert store.last_run["reused"] == [0, 1] and store.last_run["computed"] == [2, 3]
    features = store.read()
    assert features.iloc[25].isna().all() and not features.drop(index=25).isna().any().any()


KILLED_RUN = textwrap.dedent(
    """
    import sys, pandas as pd
    from mmsk.extract import AudioFeatures
    from mmsk.scale import extract_to_store
    files = pd.read_csv(sys.argv[1])
    ex = AudioFeatures(**{settings}).fit(files.iloc[:2])
    extract_to_store(ex, files, sys.argv[2], chunk_size=int(sys.argv[3]))
    """
)


def test_all_fsdd_recordings_survive_a_killed_run(tmp_path, shared_data, feature_cache):
    """Extract all 3000 recordings, SIGKILL the process midway, rerun: finished chunks are not redone.

    The rerun's extractor reads the session's feature cache (a run-only setting the store ignores),
    so the recordings other real-data tests extract with the same settings are extracted once.
    """
    X = _recordings(shared_data)
    assert len(X) == 3000
    listing, store_dir, chunk = tmp_path / "files.csv", tmp_path / "store", 100
    X.to_csv(listing, index=False)
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN.format(settings=repr(FSDD_SETTINGS)))
    proc = subprocess.Popen([sys.executable, str(script), str(listing), str(store_dir), str(chunk)])
    deadline = time.monotonic() + 300
    try:
        while len(list(store_dir.glob("part-*.parquet"))) < 5:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no chunk written in 300 s"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in store_dir.glob("part-*.parquet")}
    finished = sorted(int(name[5:10]) for name in before)
    assert 5 <= len(finished) < 30
    assert FeatureStore(store_dir).missing_chunks() == [c for c in range(30) if c not in finished]

    ex = AudioFeatures(**{**FSDD_SETTINGS, "cache": feature_cache}).fit(X.iloc[:2])
    store = extract_to_store(ex, X, store_dir, chunk_size=chunk)
    assert store.last_run["reused"] == finished
    assert store.last_run["computed"] == [c for c in range(30) if c not in finished]
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in store_dir.glob("part-*.parquet")}
    assert {name: after[name] for name in before} == before  # not rewritten
    assert not list(store_dir.glob(".*.tmp")) and store.complete
    features = store.read()
    assert features.shape == (3000, len(ex.get_feature_names_out())) and np.isfinite(features).all().all()
    # rows from a chunk of the killed run and from one of the rerun equal a direct transform
    direct = AudioFeatures(**FSDD_SETTINGS).fit(X.iloc[:2])
    for c in (finished[0], store.last_run["computed"][-1]):
        rows = X.iloc[c * chunk : c * chunk + 7]
        np.testing.assert_allclose(features.loc[rows.index].to_numpy(), direct.transform(rows), rtol=1e-10)
