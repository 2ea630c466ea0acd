"""Sphinx configuration: numpydoc API reference and a sphinx-gallery of examples/, built offline.

``make docs`` builds it with the examples run (minutes); the test suite builds it
with ``-D plot_gallery=0`` (examples rendered, not run) and warnings as errors.
"""

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

project = "mmsk"
author = "mmsk developers"
copyright = "2026, mmsk developers"
release = importlib.import_module("mmsk").__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/**/*.ipynb", "auto_examples/**/*.py.md5"]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
html_theme = "alabaster"
html_static_path = []
templates_path = ["_templates"]
suppress_warnings = ["config.cache"]

#: Public modules of the API reference; every name in each one's ``__all__`` gets a page.
API_MODULES = [
    "mmsk",
    "mmsk.compose",
    "mmsk.extract",
    "mmsk.align",
    "mmsk.mkl",
    "mmsk.fusion",
    "mmsk.metrics",
    "mmsk.model_selection",
    "mmsk.plot",
    "mmsk.datasets",
    "mmsk.persist",
    "mmsk.auto",
    "mmsk.report",
    "mmsk.scale",
]


def _write_api_page():
    """api.rst from the modules' ``__all__``, so no public name can be left out."""
    lines = ["API reference", "=============", ""]
    for name in API_MODULES:
        module = importlib.import_module(name)
        public = [n for n in getattr(module, "__all__", []) if not n.startswith("_")]
        if not public:
            continue
        lines += [f"``{name}``", "-" * (len(name) + 4), "", f".. automodule:: {name}", "   :no-members:", ""]
        lines += [f".. currentmodule:: {name}", "", ".. autosummary::", "   :toctree: generated/", ""]
        lines += [f"   {n}" for n in sorted(public)] + [""]
    text = "\n".join(lines)
    path = HERE / "api.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_write_api_page()


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document what mmsk defines; methods inherited from scikit-learn or skorch are theirs."""
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and not module.startswith("mmsk"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": os.environ.get("MMSK_DOCS_RUN_EXAMPLES", "False"),
    "download_all_examples": False,
    "abort_on_example_error": True,
    "remove_config_comments": True,
}
