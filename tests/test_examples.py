"""Every script in examples/ runs to the end (slow: `make test-all`)."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").rglob("*.py"))


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # figures are written here
    runpy.run_path(str(script), run_name="__main__")
    assert list(tmp_path.glob("*.png")), "every example draws its figure"
