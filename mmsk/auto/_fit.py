"""From a table to a fitted, compared and saved multimodal model (what ``mmsk fit`` runs)."""

import os
import re
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from ..extract import ExtractionWarning
from ..report.layout import ABLATION_FILE, load_model
from ..utils._compat import SVC_PROBABILITY_DEPRECATION
from ._dates import DATE_PARTS, expand_dates
from ._detect import MODALITIES, detect_modalities, prepare_table, sequence_views, view_names
from ._presets import resolve_text_features
from ._run import FitRun, feature_stages, unreadable_files
from ._settings import FitSettings

_MAX_CLASSES_INTEGER = 20


class UnreadableFilesError(ValueError):
    """Some files of the table cannot be read; ``failures`` lists them all.

    Attributes
    ----------
    failures : DataFrame
        Columns ``row``, ``column``, ``item`` (the file) and ``error``.

    Parameters
    ----------
    failures : DataFrame
    listed_in : str or path-like, default=None
        A file that lists them all, named in the message.
    """

    def __init__(self, failures, listed_in=None):
        self.failures = failures
        shown = failures.head(20)
        lines = [f"  row {r.row!r}, column {r.column!r}: {r.item} ({r.error})" for r in shown.itertuples()]
        more = f"\n  ... and {len(failures) - len(shown)} more" if len(failures) > len(shown) else ""
        where = f" (all of them are listed in {os.fspath(listed_in)})" if listed_in is not None else ""
        super().__init__(
            f"{len(failures)} file(s) cannot be read{where}:\n" + "\n".join(lines) + more + "\n"
            "Fix or remove them, or pass on_error='nan' (--on-error nan on the command line) to "
            "treat those rows' modality as missing."
        )


def _task_of(y, task):
    if task != "auto":
        return task
    if (
        pd.api.types.is_bool_dtype(y)
        or not pd.api.types.is_numeric_dtype(y)
        or (pd.api.types.is_integer_dtype(y) and y.nunique() <= _MAX_CLASSES_INTEGER)
    ):
        return "classification"
    return "regression"


def _separator(path):
    """The separator of a delimited file, from its first lines (``,`` when they do not tell)."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        head = handle.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(path):
    """A CSV or Parquet table (by extension), with a clear error when it cannot be used.

    The separator of a ``.csv`` or ``.txt`` file (comma, semicolon, tab or
    bar) is read off its first lines.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such table {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        table = pd.read_parquet(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        try:
            table = pd.read_csv(path, sep="\t" if suffix == ".tsv" else _separator(path))
        except pd.errors.EmptyDataError:
            raise ValueError(f"the table {str(path)!r} is empty: no header and no rows") from None
        except pd.errors.ParserError as exc:
            raise ValueError(
                f"cannot read {str(path)!r} as a table ({exc}). Is it separated by commas? Save it as CSV "
                "with one separator (',', ';', tab or '|') and quote values that hold it."
            ) from None
    else:
        raise ValueError(f"cannot read {str(path)!r}: use a .csv, .tsv or .parquet table")
    if table.empty:
        raise ValueError(f"the table {str(path)!r} has no rows (columns: {list(table.columns)})")
    return table


def prepare_run(table, target=None, out=None, *, settings=None, nested=None, print_fn=print, **kwargs):
    """The table read, each column's role found and the input prepared: the run ``fit_table`` takes.

    Parameters and their meaning are :func:`fit_table`'s. Nothing is
    extracted or fitted yet; the output folder is made.

    Returns
    -------
    run : FitRun
        Its :meth:`~FitRun.run` takes every step; :meth:`~FitRun.extract`,
        :meth:`~FitRun.strategies` and :meth:`~FitRun.make_search` give the
        features, the candidates and the search on their own (for example to
        repeat the search under other seeds).

    Examples
    --------
    >>> import tempfile
    >>> from mmsk.auto import prepare_run
    >>> from mmsk.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=60, random_state=0)
    >>> run = prepare_run(X.assign(y=y), "y", tempfile.mkdtemp(), cv=3, print_fn=None)
    >>> sorted(run.views)
    ['view0', 'view1']
    >>> rows = run.extract()
    >>> strategies, left_out = run.strategies(rows)
    >>> [name for name, *_ in strategies][:3]
    ['baseline', 'only view0', 'only view1']
    """
    if settings is None:
        settings = FitSettings(target=target, **kwargs)
    elif kwargs or target is not None:
        settings = replace(settings, **({"target": target} if target is not None else {}), **kwargs)
    if nested:
        settings = replace(settings, estimate="nested")
    if out is None:
        raise ValueError("out is required: the folder the run writes to")
    target = settings.target
    say = print_fn or (lambda *a, **k: None)
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"the output folder {str(out)!r} is a file; give a folder (it is made if needed)")
    source = None
    base_dir = settings.base_dir
    if not isinstance(table, pd.DataFrame):
        source = os.path.abspath(table)
        base_dir = os.path.dirname(source) if base_dir is None else base_dir
        table = read_table(table)
    if table.empty:
        raise ValueError(f"the table has no rows (columns: {list(table.columns)})")
    roles = {target: "target", settings.groups: "groups", settings.id: "id"}
    roles.update({c: "dropped" for c in settings.drop})
    roles.pop(None, None)
    for name, role in roles.items():
        if name not in table.columns:
            raise KeyError(f"no {role} column {name!r} in the table; its columns are {list(table.columns)}")
    absent = [c for c in settings.modalities if c not in table.columns]
    if absent:
        raise KeyError(f"no column(s) {absent} in the table; its columns are {list(table.columns)}")
    named = dict(settings.modalities)
    view_groups = _match_views(table, settings.views, set(roles))
    named.update(dict.fromkeys(view_groups, "numeric"))
    bad = {c: k for c, k in named.items() if k not in MODALITIES}
    if bad:
        raise ValueError(f"unknown modality {bad}; known: {list(MODALITIES)}")
    clash = sorted(set(named) & set(roles))
    if clash:
        raise ValueError(f"column(s) {clash} are both named as a modality and used as {roles[clash[0]]}")

    y_all = table[target]
    keep = y_all.notna().to_numpy()
    if not keep.any():
        raise ValueError(f"the target column {target!r} has no values")
    dropped = int((~keep).sum())
    if dropped:
        say(f"{dropped} row(s) without a target value are left out.")
    table = table.loc[keep]
    y = table[target]
    task = _task_of(y, settings.task)
    if task == "classification" and y.nunique() < 2:
        raise ValueError(f"the target column {target!r} has one class ({y.iloc[0]!r}); nothing to learn")
    if settings.groups is not None and table[settings.groups].nunique() < 2:
        raise ValueError(
            f"the groups column {settings.groups!r} holds a single group; folds that keep groups whole need "
            f"at least {settings.cv} groups (or leave out --groups)"
        )

    table, derived = expand_dates(table, exclude=set(roles) | set(named))
    detection = _roles(table, named, roles, settings.only_named, view_groups, derived)
    modalities = {r.column: r.modality for r in detection.itertuples() if r.modality in MODALITIES}
    _say_columns(say, detection, view_names(modalities, view_groups), sequence_views(modalities, view_groups))
    if not modalities:
        raise ValueError(
            "no usable column besides the target: name them with modalities= (--text, --image, ...)"
        )

    out.mkdir(parents=True, exist_ok=True)
    data = prepare_table(table, modalities, base_dir=base_dir)
    settings = replace(settings, text_features=resolve_text_features(settings.text_features))
    return FitRun(
        settings,
        table=table,
        y=y,
        data=data,
        modalities=modalities,
        detection=detection,
        task=task,
        view_groups=view_groups,
        out=out,
        source=source,
        dates=list(derived),
        dropped=dropped,
        say=say,
        started=started,
    )


def fit_table(table, target=None, out=None, *, settings=None, nested=None, print_fn=print, **kwargs):
    """Extract, search, save and explain a model of a multimodal table: what ``mmsk fit`` runs.

    Steps: read the table and find each column's role; extract every file and
    text once into the cache, listing unreadable files; cross-validate the
    candidates (a baseline, each modality alone, the fusion strategies) in
    one :class:`~mmsk.model_selection.StrategySearchCV`, the feature stage
    refit in every fold (reading the cache) and shared by that fold's
    candidates, each candidate's out-of-fold predictions kept; estimate the
    whole choice from those predictions (BBC-CV, no refit); build the greedy
    ensemble of the candidates, chosen when its estimate wins; save the
    chosen model refit on every row; then explain it from what the search
    kept: cross-validated predictions, and each modality's importance as
    the drop in the held-out score when it is made missing. Each step writes
    its files as soon as it has them; a failing explanation step is
    recorded in ``summary.json`` and the report, and the model stays (status
    ``"partial"``).

    Parameters
    ----------
    table : DataFrame or str or path-like
        The table, or a CSV/Parquet file (then ``base_dir`` defaults to its
        folder). The separator of a CSV file is detected.
    target : str
        The column to predict (or give ``settings``).
    out : str or path-like
        Output folder (made if needed; see :mod:`mmsk.report.layout`).
    settings : FitSettings, default=None
        Every other setting; or give them as keywords (``cv=3``,
        ``strategies=["early"]``, ...), whose names and meanings are
        :class:`FitSettings`'s.
    nested : bool, default=None
        ``True``: ``estimate="nested"``; kept for the ``--no-nested`` habit
        (``False`` leaves the estimate as it is).
    print_fn : callable, default=print
        Where progress messages go (None: nowhere).
    **kwargs
        :class:`FitSettings` fields.

    Returns
    -------
    result : dict
        ``model`` (the fitted model), ``leaderboard``, ``importance`` (None
        if that step failed), ``summary``, ``status`` (``"complete"`` or
        ``"partial"``) and ``out`` (the folder).

    See Also
    --------
    FitSettings : every setting, with its default.
    predict_table : predictions of the saved model.
    """
    run = prepare_run(table, target, out, settings=settings, nested=nested, print_fn=print_fn, **kwargs)
    # One BLAS thread: the search fits many small linear models, whose matrix-vector products
    # run slower split over threads (10x on 2 cores: 0.11 s against 1.1 s for a logistic
    # regression on 200 x 2000); parallelism comes from n_jobs, one process per fit.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # the extraction step lists every unreadable file once; each fold would repeat them
        warnings.simplefilter("ignore", ExtractionWarning)
        # the per-view SVMs use libsvm's probabilities while scikit-learn has them
        warnings.filterwarnings("ignore", SVC_PROBABILITY_DEPRECATION, FutureWarning)
        result = run.run()
    summary = result["summary"]
    importance = result["importance"]
    if importance is None and "importance" in summary["done"]:  # reused from the previous run
        importance = pd.read_csv(run.out / ABLATION_FILE)
    return {
        "model": result["model"],
        "leaderboard": result["leaderboard"].drop(columns="candidate"),
        "importance": importance,
        "summary": summary,
        "status": summary["status"],
        "out": run.out,
    }


def _say_columns(say, detection, views, sequences=None):
    """Every column with its role; the columns of a precomputed view as one line for the view."""
    sequences = sequences or {}
    say("Columns:")
    grouped = {c: view for view, cols in views.items() if len(cols) > 3 for c in cols}
    shown = set()
    for r in detection.itertuples():
        view = grouped.get(r.column)
        if view is not None:
            if view not in shown:
                cols = views[view]
                steps, width = sequences.get(view, (None, None))
                shape = f", a sequence of {steps} steps of {width}" if steps else ""
                say(f"  {view + '__*':<24} {'feature':<10} {r.modality:<12} view {view}: {len(cols)} "
                    f"columns{shape} ({cols[0]} ... {cols[-1]})")  # fmt: skip
                shown.add(view)
            continue
        kind = r.modality if isinstance(r.modality, str) else ""
        say(f"  {r.column!s:<24} {r.role:<10} {kind:<12} {r.why}")


def _match_views(table, views, reserved):
    """Numeric column -> view name for ``views`` ({name: glob pattern or prefix})."""
    from fnmatch import fnmatchcase

    groups = {}
    for name, pattern in views.items():
        if not re.fullmatch(r"\w+", str(name)):
            raise ValueError(f"view name {name!r}: use letters, digits and underscores")
        hits = [
            c
            for c in table.columns
            if c not in reserved and (fnmatchcase(str(c), pattern) or str(c).startswith(pattern))
        ]
        if not hits:
            raise ValueError(
                f"the view {name}={pattern!r} matches no column; the columns are {list(table.columns)}"
            )
        text = [c for c in hits if not pd.api.types.is_numeric_dtype(table[c])]
        if text:
            raise ValueError(f"the view {name}={pattern!r} matches non-numeric column(s) {text}")
        taken = [c for c in hits if c in groups]
        if taken:
            raise ValueError(f"column(s) {taken} match both view {groups[taken[0]]!r} and view {name!r}")
        groups.update(dict.fromkeys(hits, name))
    return groups


def _roles(table, named, roles, only_named, view_groups, dates=None):
    """Every column with its role (feature, target, groups, id, dropped, skipped), modality and why."""
    made = {new: old for old, news in (dates or {}).items() for new in news}
    detected = (
        pd.DataFrame(columns=["column", "modality", "why"])
        if only_named
        else detect_modalities(table, exclude=[*roles, *named, *made])
    )
    found = {r.column: (r.modality, r.why) for r in detected.itertuples()}
    rows = []
    for column in table.columns:
        if column in roles:
            rows.append({"column": column, "role": roles[column], "modality": None, "why": ""})
        elif column in named:
            why = f"view {view_groups[column]} (--view)" if column in view_groups else "named"
            rows.append({"column": column, "role": "feature", "modality": named[column], "why": why})
        elif column in made and not only_named:
            why = f"from the date column {made[column]} ({', '.join(DATE_PARTS)})"
            rows.append({"column": column, "role": "feature", "modality": "numeric", "why": why})
        elif column in found and isinstance(found[column][0], str):
            modality, why = found[column]
            rows.append({"column": column, "role": "feature", "modality": modality, "why": why})
        else:
            why = found[column][1] if column in found else "not named (only the named columns are used)"
            rows.append({"column": column, "role": "skipped", "modality": None, "why": why})
    return pd.DataFrame(rows, columns=["column", "role", "modality", "why"])


def predict_table(model, table, *, base_dir=None, proba=True, on_error="raise", print_fn=print):
    """Predictions of a model saved by :func:`fit_table` for the rows of a table.

    Parameters
    ----------
    model : str or path-like
        The model file, or the output folder of ``mmsk fit``.
    table : DataFrame or str or path-like
        Rows to predict, with the columns the model was fitted on (the
        target may be absent). A file path makes relative file paths start
        from the table's folder.
    base_dir : str or path-like, default=None
    proba : bool, default=True
        Add one ``proba_<class>`` column per class for classifiers.
    on_error : {"raise", "nan"}, default="raise"
        Unreadable files: raise :class:`UnreadableFilesError` listing all of
        them, or treat each as a missing modality of its row (the row is
        predicted from the modalities it has; the files are listed through
        ``print_fn``).
    print_fn : callable, default=print
        Where the list of unreadable files goes with ``on_error="nan"`` (None:
        nowhere).

    Returns
    -------
    predictions : DataFrame
        Indexed like the table: the identifier column given to ``mmsk fit
        --id`` (when the table has it), ``prediction``, and one
        ``proba_<class>`` column per class.
    """
    pipeline, meta = load_model(model)
    if not isinstance(table, pd.DataFrame):
        base_dir = os.path.dirname(os.path.abspath(table)) if base_dir is None else base_dir
        table = read_table(table)
    if table.empty:
        raise ValueError("the table has no rows")
    if on_error not in ("raise", "nan"):
        raise ValueError(f"on_error must be 'raise' or 'nan'; got {on_error!r}")
    table, _ = expand_dates(table, columns=[c for c in meta.get("dates", []) if c in table.columns])
    data = prepare_table(table, meta["modalities"], base_dir=base_dir)
    frames = []
    for features in feature_stages(pipeline):  # one, or one per member of an ensemble
        features.set_params(
            **{k: on_error for k in features.get_params(deep=True) if k.endswith("__on_error")}
        )
        frames.append(unreadable_files(features, data, meta["modalities"]))
    unreadable = pd.concat(frames, ignore_index=True).drop_duplicates(["row", "column"])
    if len(unreadable) and on_error == "raise":
        raise UnreadableFilesError(unreadable)
    say = print_fn or (lambda *a, **k: None)
    for r in unreadable.itertuples():
        say(f"unreadable, treated as missing: row {r.row!r}, column {r.column!r}: {r.item} ({r.error})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtractionWarning)  # listed above, once
        out = pd.DataFrame({"prediction": pipeline.predict(data)}, index=table.index)
    if meta.get("id") is not None and meta["id"] in table.columns:
        out.insert(0, meta["id"], table[meta["id"]].to_numpy())
    if proba and meta["task"] == "classification" and hasattr(pipeline, "predict_proba"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtractionWarning)
            p = pipeline.predict_proba(data)
        for j, c in enumerate(pipeline.classes_):
            out[f"proba_{c}"] = p[:, j]
    return out
