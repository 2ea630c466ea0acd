"""The README's demo on the bundled data: fused >= the better single modality."""

import re
from pathlib import Path

from mmsk.cli import main
from mmsk.datasets._base import BUNDLED_DIR


def test_the_cli_demo_on_bundled_data_fuses_at_least_as_well_as_either_modality(capsys):
    assert main(["demo", "--data-home", str(BUNDLED_DIR), "--splits", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "480 recordings of 6 speakers" in lines[0]
    rows = (re.match(r"  (.+?)\s+accuracy (\d\.\d+)", line) for line in lines)
    acc = {m[1]: float(m[2]) for m in rows if m}
    fused = acc.pop("fused (late, soft voting)")
    assert set(acc) == {"image only", "audio only"}
    assert fused >= max(acc.values())
    assert min(acc.values()) > 0.5
    assert lines[-1].startswith("Fused beats or matches the better single modality")


def test_readme_first_example_prints_what_the_readme_shows(no_data_folder, monkeypatch, capsys):
    """The README's first code block, run as written on a fresh install (the bundled recordings)."""
    monkeypatch.chdir(no_data_folder)  # its feature cache is a folder in the working directory
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    shown = re.search(r"prints, on the 480 bundled recordings.*?```\n(.*?)\n```", readme, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.strip()
    number = r"accuracy (\d\.\d+)"
    assert printed.split(" speaker")[0] == shown.split(" speaker")[0]  # the chosen parameters
    # one test row of 480 is 0.002: the README's figure holds to within a few rows
    assert abs(float(re.search(number, printed)[1]) - float(re.search(number, shown)[1])) <= 0.01
    assert (no_data_folder / "features").is_dir()
