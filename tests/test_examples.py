"""Every script in examples/ runs to the end (slow: `make test-all`)."""

import runpy
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").rglob("*.py"))


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plt.close("all")
    runpy.run_path(str(script), run_name="__main__")
    assert plt.get_fignums(), "every example draws its figure"
    # sphinx-gallery collects the figures; an example writes nothing where it is run
    assert list(tmp_path.iterdir()) == []
