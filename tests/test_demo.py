"""The README's demo on the bundled data: fused >= the better single modality."""

from mmsk._demo import run_demo
from mmsk.cli import main
from mmsk.datasets._base import BUNDLED_DIR


def test_demo_on_bundled_data_fused_beats_single_modalities():
    lines = []
    results = run_demo(BUNDLED_DIR, n_splits=3, print_fn=lines.append)
    assert "480 recordings of 6 speakers" in lines[0]
    acc = dict(zip(results["model"], results["accuracy"]))
    fused = acc.pop("fused (late, soft voting)")
    assert set(acc) == {"image only", "audio only"}
    assert fused >= max(acc.values())
    assert min(acc.values()) > 0.5


def test_cli_demo_exit_code(capsys):
    assert main(["demo", "--data-home", str(BUNDLED_DIR), "--splits", "2"]) == 0
    out = capsys.readouterr().out
    assert "image only" in out and "audio only" in out and "Fused beats or matches" in out
