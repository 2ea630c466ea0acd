"""From a table to a fitted, compared and saved multimodal model (what ``mmsk fit`` runs)."""

import os
import re
import time
import warnings
from pathlib import Path

import pandas as pd
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from ..extract import ExtractionWarning
from ..report.layout import UNREADABLE_FILE, load_model
from ._detect import FILE_MODALITIES, MODALITIES, detect_modalities, prepare_table
from ._presets import make_feature_union, resolve_text_features
from ._run import FitRun, write_csv

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


def _scan_files(union, table, modalities):
    """Every unreadable file of the table's file columns (extracting through the cache).

    A fitted union's extractors are used as they are (at predict); an unfitted
    one's are fitted on the column first.
    """
    fitted = hasattr(union, "transformers_")
    frames = []
    for _, transformer, column in union.transformers_ if fitted else union.transformers:
        if isinstance(column, list) or modalities.get(column) not in FILE_MODALITIES:
            continue
        extractor = transformer.steps[0][1]
        if not fitted:
            extractor = clone(extractor).fit(table[column])
        failed = extractor.failures(table[column])
        failed.insert(1, "column", column)
        frames.append(failed)
    if not frames:
        return pd.DataFrame(columns=["row", "column", "item", "error"])
    return pd.concat(frames, ignore_index=True)


def read_table(path):
    """A CSV or Parquet table (by extension), with a clear error when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such table {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        table = pd.read_parquet(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        try:
            table = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        except pd.errors.EmptyDataError:
            raise ValueError(f"the table {str(path)!r} is empty: no header and no rows") from None
    else:
        raise ValueError(f"cannot read {str(path)!r}: use a .csv, .tsv or .parquet table")
    if table.empty:
        raise ValueError(f"the table {str(path)!r} has no rows (columns: {list(table.columns)})")
    return table


def fit_table(
    table,
    target,
    out,
    *,
    modalities=None,
    views=None,
    only_named=False,
    drop=(),
    id=None,
    base_dir=None,
    groups=None,
    strategies=None,
    cv=5,
    task="auto",
    metric=None,
    choose="best",
    nested=True,
    time_limit=None,
    text_features="auto",
    encoders=None,
    on_error="raise",
    max_epochs=60,
    n_jobs=None,
    progress=True,
    random_state=0,
    print_fn=print,
):
    """Extract, search, save and explain a model of a multimodal table: what ``mmsk fit`` runs.

    Steps: read the table and find each column's role; list unreadable
    files; extract every file's features once into the cache; grid-search
    the candidates (a baseline, each modality alone, the fusion strategies)
    with cross-validation, the feature stage refit in every fold (reading
    the cache), so TF-IDF, scalers and codebooks never see held-out rows;
    save the chosen model refit on every row; then explain it:
    cross-validated predictions, a modality ablation, attention weights, and
    a nested estimate of the whole choice on folds that did not make it.
    Each step writes its files as soon as it has them; a failing
    explanation step is recorded in ``summary.json`` and the report, and the
    model stays (status ``"partial"``).

    Parameters
    ----------
    table : DataFrame or str or path-like
        The table, or a CSV/Parquet file (then ``base_dir`` defaults to its folder).
    target : str
        The column to predict. Rows where it is missing are left out (and counted).
    out : str or path-like
        Output folder (made if needed; see :mod:`mmsk.report.layout`).
    modalities : mapping of str to str, default=None
        Column to modality for the columns you name; the other columns are
        detected (:func:`detect_modalities`) unless ``only_named``.
    views : mapping of str to str, default=None
        Named views of numeric columns: view name to a glob pattern or a
        prefix of column names (``{"covarep": "covarep_*"}``). Numeric
        columns named ``<view>__<feature>`` form their view without it; the
        other numeric columns form the ``numeric`` view.
    only_named : bool, default=False
        Use only the columns in ``modalities`` and ``views``.
    drop : sequence of str, default=()
        Columns to leave out.
    id : str, default=None
        A column identifying rows, left out of the model and carried into
        the cross-validated predictions (and saved, so that
        :func:`predict_table` carries it too).
    base_dir : str or path-like, default=None
        Folder relative file paths start from.
    groups : str, default=None
        A column of groups (speakers, patients): folds keep each group whole.
    strategies : sequence of str, default=None
        Fusion strategies; see :func:`strategy_grid`. The baseline and each
        modality alone are always compared too.
    cv : int, default=5
    task : {"auto", "classification", "regression"}, default="auto"
        Auto: classification for a non-numeric target or integers with at most 20 values.
    metric : str, default=None
        A scikit-learn scorer name (``"balanced_accuracy"``, ``"f1_macro"``,
        ``"neg_mean_absolute_error"``, ...); None: accuracy or R². Binary
        tasks also report ROC AUC.
    choose : {"best", "one-se"}, default="best"
        ``"one-se"``: the simplest candidate whose mean score is within one
        standard error of the best's.
    nested : bool, default=True
        Estimate the whole choice by nested cross-validation (the search
        repeated inside outer folds; costs about as many searches as folds).
    time_limit : float, default=None
        Seconds for the search: strategies run simplest first, and past the
        limit no further fusion strategy starts (the baseline and each
        modality alone always run); the skipped ones are listed in the
        summary and the report.
    text_features : {"auto", "tfidf", "sentence"}, default="auto"
        Auto: sentence embeddings when the offline MiniLM is installed.
    encoders : mapping of str to str, default=None
        A pretrained Hugging Face model (local folder or hub name) for
        ``"image"``, ``"audio"`` or ``"text"`` columns, in place of the
        classical features (see :func:`make_feature_union`); the report
        names it.
    on_error : {"raise", "nan"}, default="raise"
        Unreadable files: raise :class:`UnreadableFilesError` listing all of
        them, or treat each as a missing modality (listed in the report).
    max_epochs : int, default=60
    n_jobs : int, default=None
        Parallel candidates in the search.
    progress : bool, default=True
        Progress bars of the extractors.
    random_state : int, default=0
    print_fn : callable, default=print
        Where progress messages go (None: nowhere).

    Returns
    -------
    result : dict
        ``model`` (the fitted Pipeline), ``leaderboard``, ``ablation`` (None
        if that step failed), ``summary``, ``status`` (``"complete"`` or
        ``"partial"``) and ``out`` (the folder).
    """
    say = print_fn or (lambda *a, **k: None)
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"the output folder {str(out)!r} is a file; give a folder (it is made if needed)")
    source = None
    if not isinstance(table, pd.DataFrame):
        source = os.path.abspath(table)
        base_dir = os.path.dirname(source) if base_dir is None else base_dir
        table = read_table(table)
    if table.empty:
        raise ValueError(f"the table has no rows (columns: {list(table.columns)})")
    roles = {target: "target", groups: "groups", id: "id"}
    roles.update({c: "dropped" for c in drop})
    roles.pop(None, None)
    for name, role in roles.items():
        if name not in table.columns:
            raise KeyError(f"no {role} column {name!r} in the table; its columns are {list(table.columns)}")
    absent = [c for c in modalities or {} if c not in table.columns]
    if absent:
        raise KeyError(f"no column(s) {absent} in the table; its columns are {list(table.columns)}")
    named = dict(modalities or {})
    view_groups = _match_views(table, views or {}, set(roles))
    named.update(dict.fromkeys(view_groups, "numeric"))
    bad = {c: k for c, k in named.items() if k not in MODALITIES}
    if bad:
        raise ValueError(f"unknown modality {bad}; known: {list(MODALITIES)}")
    clash = sorted(set(named) & set(roles))
    if clash:
        raise ValueError(f"column(s) {clash} are both named as a modality and used as {roles[clash[0]]}")

    if metric is not None:
        from sklearn.metrics import get_scorer

        get_scorer(metric)  # an unknown name fails here, before any work, listing the valid ones
    if choose not in ("best", "one-se"):
        raise ValueError(f"choose must be 'best' or 'one-se'; got {choose!r}")
    y_all = table[target]
    keep = y_all.notna().to_numpy()
    if not keep.any():
        raise ValueError(f"the target column {target!r} has no values")
    dropped = int((~keep).sum())
    if dropped:
        say(f"{dropped} row(s) without a target value are left out.")
    table = table.loc[keep]
    y = table[target]
    task = _task_of(y, task)
    if task == "classification" and y.nunique() < 2:
        raise ValueError(f"the target column {target!r} has one class ({y.iloc[0]!r}); nothing to learn")
    if groups is not None and table[groups].nunique() < 2:
        raise ValueError(
            f"the groups column {groups!r} holds a single group; folds that keep groups whole need "
            f"at least {cv} groups (or leave out --groups)"
        )

    detection = _roles(table, named, roles, only_named, view_groups)
    modalities = {r.column: r.modality for r in detection.itertuples() if r.modality in MODALITIES}
    say("Columns:")
    for r in detection.itertuples():
        kind = r.modality if isinstance(r.modality, str) else ""
        say(f"  {r.column!s:<24} {r.role:<10} {kind:<12} {r.why}")
    if not modalities:
        raise ValueError(
            "no usable column besides the target: name them with modalities= (--text, --image, ...)"
        )

    out.mkdir(parents=True, exist_ok=True)
    data = prepare_table(table, modalities, base_dir=base_dir)
    text_features = resolve_text_features(text_features)
    union = make_feature_union(
        modalities,
        view_groups=view_groups,
        text_features=text_features,
        encoders=encoders,
        on_error=on_error,
        cache=str(out / "cache"),
        progress=progress,
    )
    scan_started = time.perf_counter()
    unreadable = _scan_files(union, data, modalities)  # extracts every file once, into the cache
    scan_seconds = round(time.perf_counter() - scan_started, 2)
    if len(unreadable) and on_error == "raise":
        write_csv(out / UNREADABLE_FILE, unreadable, index=False)
        raise UnreadableFilesError(unreadable, out / UNREADABLE_FILE)
    if len(unreadable):
        say(f"{len(unreadable)} unreadable file(s) are treated as missing (listed in the report).")

    run = FitRun(
        table=table,
        y=y,
        data=data,
        modalities=modalities,
        detection=detection,
        unreadable=unreadable,
        out=out,
        task=task,
        target=target,
        groups=groups,
        view_groups=view_groups,
        ids=None if id is None else table[id],
        strategies=strategies,
        cv=cv,
        metric=metric,
        choose=choose,
        nested=nested,
        time_limit=time_limit,
        text_features=text_features,
        encoders=encoders,
        on_error=on_error,
        max_epochs=max_epochs,
        n_jobs=n_jobs,
        progress=progress,
        random_state=random_state,
        source=source,
        dropped=dropped,
        say=say,
        started=started,
        seconds={"scan_files": scan_seconds},
    )
    # One BLAS thread: the search fits many small linear models, whose matrix-vector products
    # run slower split over threads (10x on 2 cores: 0.11 s against 1.1 s for a logistic
    # regression on 200 x 2000); parallelism comes from n_jobs, one process per candidate.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # the scan above listed every unreadable file once; each fold would repeat them
        warnings.simplefilter("ignore", ExtractionWarning)
        status = run.run()
    return {
        "model": run.model_,
        "leaderboard": run.leaderboard_,
        "ablation": getattr(run, "ablation_", None),
        "summary": run.summary_,
        "status": status,
        "out": out,
    }


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


def _roles(table, named, roles, only_named, view_groups):
    """Every column with its role (feature, target, groups, id, dropped, skipped), modality and why."""
    detected = (
        pd.DataFrame(columns=["column", "modality", "why"])
        if only_named
        else detect_modalities(table, exclude=[*roles, *named])
    )
    found = {r.column: (r.modality, r.why) for r in detected.itertuples()}
    rows = []
    for column in table.columns:
        if column in roles:
            rows.append({"column": column, "role": roles[column], "modality": None, "why": ""})
        elif column in named:
            why = f"view {view_groups[column]} (--view)" if column in view_groups else "named"
            rows.append({"column": column, "role": "feature", "modality": named[column], "why": why})
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
    data = prepare_table(table, meta["modalities"], base_dir=base_dir)
    features = pipeline.named_steps["features"]
    features.set_params(**{k: on_error for k in features.get_params(deep=True) if k.endswith("__on_error")})
    unreadable = _scan_files(features, data, meta["modalities"])
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
