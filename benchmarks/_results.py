"""Helpers shared by the benchmark scripts: machine description, tables, RESULTS.md sections."""

import os
import platform
import re
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

# The developers' data sets beside the checkout, unless MMSK_DATA names another folder.
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("MMSK_DATA") and _SHARED.is_dir():
    os.environ["MMSK_DATA"] = str(_SHARED)


def machine():
    """One line naming the machine, for the record."""
    import numpy
    import sklearn
    import torch

    return (
        f"{platform.node() or 'host'}: {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, scikit-learn {sklearn.__version__}, torch {torch.__version__}"
        + (f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU")
    )


def speed_reference():
    """Seconds this machine takes for a fixed single-core workload (best of 3), and the date.

    Rows measured on different days sit in one table, and the same machine
    runs the same code up to three times slower on some days. This short
    workload shows a steady slowdown but can miss one that comes and goes
    within a long run: a ratio measured within one run (``auto.py --before``)
    is the comparison that does not depend on the day.
    """
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=4000, n_features=40, random_state=0)

    def work():
        total = 0
        for i in range(2_000_000):
            total += i
        LogisticRegression(max_iter=500).fit(X, y)
        return np.linalg.svd(np.arange(250_000, dtype=float).reshape(500, 500) % 7)[1][0] + total

    seconds, _ = best_of(work)
    return f"{time.strftime('%Y-%m-%d')} (reference {seconds:.2f} s)"


def best_of(fn, repeat=3):
    """Smallest wall time of ``repeat`` calls of ``fn`` (seconds) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def table(rows, columns):
    """A Markdown table of dicts."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c, "")
            cells.append(f"{v:.3g}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_section(name, body):
    """Replace (or append) the section ``name`` of RESULTS.md, keeping the other sections."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = (
        RESULTS.read_text()
        if RESULTS.exists()
        else "# Benchmark results\n\nWritten by the scripts in this folder; each owns one section.\n"
    )
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    tmp = RESULTS.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, RESULTS)  # never a half-written results file


def section_tables(name):
    """The Markdown tables of section ``name`` of RESULTS.md, in order, each as a list of dicts (or [])."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else ""
    found = re.search(re.escape(start) + "(.*?)" + re.escape(end), text, re.S)
    tables, lines = [], (found.group(1).splitlines() if found else [])
    i = 0
    while i < len(lines):
        if lines[i].startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            columns = [c.strip() for c in lines[i].strip("|").split("|")]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("| "):
                rows.append(dict(zip(columns, (c.strip() for c in lines[i].strip("|").split("|")))))
                i += 1
            tables.append(rows)
            continue
        i += 1
    return tables
