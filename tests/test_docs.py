"""The docs build offline without a warning, and every public name has an API page.

The examples are rendered, not run, here (``-D plot_gallery=0``); ``make docs``
runs them. A malformed docstring (bad numpydoc section, broken reference) fails.
Here Sphinx reads, resolves and checks every page as the HTML build does, and
writes no HTML (its ``dummy`` builder, a quarter faster); the
pages are read back from the doctrees it keeps. ``make docs`` writes the HTML.
"""

import importlib
import pickle
import pkgutil
from pathlib import Path

import pytest

import mmsk

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("sphinx_gallery")

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The folder of the doctrees: one pickled page per document.

    Sphinx runs in the test's own process, which has imported the package and its dependencies
    already (a fresh process spent about 4 of its 21 seconds importing them again).
    """
    from sphinx.cmd.build import build_main

    out = tmp_path_factory.mktemp("out")
    doctrees = tmp_path_factory.mktemp("doctrees")
    warnings = out / "warnings.txt"
    status = build_main(
        ["-b", "dummy", "-W", "--keep-going", "-q", "-E", "-w", str(warnings), "-d", str(doctrees),
         "-D", "plot_gallery=0", str(DOCS), str(out)]
    )  # fmt: skip
    said = warnings.read_text() if warnings.exists() else "(no warnings file: see the test's captured output)"
    assert status == 0, f"the docs build failed or warned:\n{said[-6000:]}"
    return doctrees


def _page_text(doctree):
    return pickle.loads(doctree.read_bytes()).astext()


def _api_modules():
    spec = importlib.util.spec_from_file_location("docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return conf.API_MODULES


def test_every_public_package_is_in_the_api_reference():
    listed = set(_api_modules())
    for info in pkgutil.iter_modules(mmsk.__path__, "mmsk."):
        if info.name.split(".")[-1].startswith("_") or info.name == "mmsk.cli":
            continue
        module = importlib.import_module(info.name)
        if getattr(module, "__all__", None):
            assert info.name in listed, (
                f"{info.name} has public names but no place in docs/conf.py API_MODULES"
            )


def test_docs_build_and_every_public_name_has_a_page(built):
    for name in _api_modules():
        module = importlib.import_module(name)
        for public in module.__all__:
            if public.startswith("_"):
                continue
            page = built / "generated" / f"{name}.{public}.doctree"
            assert page.exists(), f"no API page for {name}.{public}"
            assert public in _page_text(page)
    fusion = _page_text(built / "generated" / "mmsk.fusion.FusionClassifier.doctree")
    assert "Parameters" in fusion and "Examples" in fusion  # numpydoc sections rendered
    examples = sorted(p.stem for p in (built / "auto_examples").rglob("plot_*.doctree"))
    scripts = sorted(p.stem for p in (DOCS.parent / "examples").rglob("plot_*.py"))
    assert examples == scripts
