"""The package's layering and how it loads: rules a newcomer can rely on."""

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import mmsk

ROOT = Path(mmsk.__file__).parent
#: The shared internal layer every package may use, besides the root package's own
#: modules (``mmsk._views``, the views contract).
SHARED_PACKAGES = {"utils"}


def _imported_modules(path):
    """(line, dotted module, imported names) for each import of an mmsk module in ``path``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    package = ["mmsk", *parts[:-1]]  # the package this module lives in
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = [*base, *(node.module.split(".") if node.module else [])]
            else:
                module = (node.module or "").split(".")
            yield node.lineno, module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split("."), []


def private_imports_across_packages():
    """Imports of another mmsk package's private module or private name."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        own = parts[0] if len(parts) > 1 else None
        for line, module, names in _imported_modules(path):
            if module[0] != "mmsk" or len(module) < 2:
                continue
            other = module[1]
            if other == own or other in SHARED_PACKAGES:
                continue
            if len(module) == 2 and not (ROOT / other).is_dir():
                continue  # a module of the root package itself (mmsk._views)
            hidden = [p for p in module[2:] if p.startswith("_")] + [n for n in names if n.startswith("_")]
            if hidden:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {'.'.join(module)} {names}")
    return found


def test_no_package_imports_another_packages_private_names():
    assert private_imports_across_packages() == []


def test_the_layering_check_sees_a_private_import(tmp_path, monkeypatch):
    fake = tmp_path / "mmsk"
    (fake / "mkl").mkdir(parents=True)
    (fake / "align").mkdir()
    (fake / "mkl" / "_kernels.py").write_text("from ..align._kernel_cca import median_gamma\n")
    (fake / "mkl" / "_ok.py").write_text("from ..align import CCA\nfrom ..utils._compat import Interval\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake)
    assert private_imports_across_packages() == [
        "mkl/_kernels.py:1 imports mmsk.align._kernel_cca ['median_gamma']"
    ]


def public_modules():
    return sorted(
        m.name
        for m in pkgutil.walk_packages(mmsk.__path__, "mmsk.")
        if not any(p.startswith("_") for p in m.name.split(".")[1:])
    )


#: Imports the modules named on its command line with mmsk's own compiled as ``python -OO`` compiles
#: them (no docstrings, no asserts). The libraries keep theirs: under ``-OO`` none of them has bytecode
#: to reuse, and compiling them all again took most of this check's time.
STRIPPED_IMPORTS = """
import importlib, importlib.machinery, sys


class Stripped(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname):
        path = self.get_filename(fullname)
        return compile(self.get_data(path), path, "exec", dont_inherit=True, optimize=2)


class StrippedMmsk:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] != "mmsk":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec.loader = Stripped(name, spec.origin)
        return spec


sys.meta_path.insert(0, StrippedMmsk)
for name in sys.argv[1:]:
    importlib.import_module(name)
assert all(sys.modules[name].__doc__ is None for name in sys.argv[1:]), "docstrings left"
"""


def test_every_public_module_imports_with_docstrings_stripped():
    assert "mmsk.fusion" in public_modules() and "mmsk.report.layout" in public_modules()
    result = subprocess.run(
        [sys.executable, "-c", STRIPPED_IMPORTS, *public_modules()],
        capture_output=True, text=True, cwd=ROOT.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_public_module_imports():
    for name in public_modules():
        importlib.import_module(name)


def mutual_imports(package):
    """Pairs of modules of ``package`` (e.g. ``fusion``) that import each other, in functions too."""
    imports = {}
    for path in sorted((ROOT / package).glob("*.py")):
        siblings = set()
        for _, module, names in _imported_modules(path):
            if module[:2] == ["mmsk", package]:
                # "from . import _a" names the module; "from ._a import x" is in the path
                siblings.update(module[2:3] or [n for n in names if (ROOT / package / f"{n}.py").exists()])
        imports[path.stem] = siblings - {path.stem}
    pairs = {tuple(sorted((a, b))) for a, deps in imports.items() for b in deps if a in imports.get(b, ())}
    return sorted(pairs)


def test_no_two_fusion_modules_import_each_other():
    assert mutual_imports("fusion") == []


def test_the_mutual_import_check_sees_a_lazy_import(tmp_path, monkeypatch):
    fake = tmp_path / "mmsk" / "fam"
    fake.mkdir(parents=True)
    (fake / "_a.py").write_text("from ._b import thing\n")
    (fake / "_b.py").write_text("def f():\n    from ._a import other\n")
    (fake / "_c.py").write_text("from . import _a\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path / "mmsk")
    assert mutual_imports("fam") == [("_a", "_b")]
