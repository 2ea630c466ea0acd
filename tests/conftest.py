"""Shared fixtures: the real data folder beside the checkout, and folders built once for every worker.

The developers' data sets live in ``../shared/data`` beside the project root. The
library never looks there: this file points ``MMSK_DATA`` at it (unless it is set
already) before any test or doctest calls a loader.
"""

import os
import shutil
from pathlib import Path

import pytest
from filelock import FileLock

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

if not os.environ.get("MMSK_DATA") and SHARED_DATA.is_dir():
    os.environ["MMSK_DATA"] = str(SHARED_DATA)

# Tests never download: Hugging Face models are read from local folders (or its cache) only.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

# Each test worker gets its share of the cores for BLAS, OpenMP and torch (scikit-learn's own test
# suite does the same), and so do the processes a test starts: two workers that each run two BLAS
# threads per library on two cores make linear models several times slower than one thread does.
# A run without workers keeps the libraries' defaults.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _threads = str(max((os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]), 1))
    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, _threads)


@pytest.fixture(scope="session")
def shared_data():
    """Path of the data folder (skips the test, loudly, when there is none)."""
    path = Path(os.environ.get("MMSK_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"no shared data folder at {path}")
    return path


@pytest.fixture
def no_data_folder(monkeypatch, tmp_path):
    """No MMSK_DATA and an empty home folder: what a fresh install sees."""
    monkeypatch.delenv("MMSK_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def _session_root(tmp_path_factory):
    """The folder every xdist worker of this session shares (each worker's temp folder's parent)."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory):
    """A feature cache folder for the whole session, both workers included.

    Tests that extract the same real recordings with the same settings pass it
    as ``cache=``: the first computes and stores each item's features (SQLite
    handles the two workers writing at once) and the others read them back.
    """
    return _session_root(tmp_path_factory) / "feature-cache"


@pytest.fixture(scope="session")
def build_once(tmp_path_factory):
    """``build_once(name, build)``: a folder that ``build(folder)`` fills once per test session.

    A module-scoped fixture is built again by every xdist worker that runs one
    of the module's tests, and again when a worker comes back to the module.
    The workers share the parent of their temporary folders: the first one to
    ask builds there, under a lock, and the others wait for it and read. A
    build that failed part way is removed and done again by the next one to ask.
    """
    root = _session_root(tmp_path_factory)

    def built(name, build):
        folder = root / name
        with FileLock(f"{folder}.lock"):
            if not (folder / ".built").is_file():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                build(folder)
                (folder / ".built").touch()
        return folder

    return built
