"""Shared fixtures: the real data folder beside the checkout."""

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """Path of ../shared/data (skips the test, loudly, when the checkout has none)."""
    path = Path(os.environ.get("MMSK_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"no shared data folder at {path}")
    return path
