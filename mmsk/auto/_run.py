"""One ``mmsk fit`` run: the prepared table, its settings, and steps that return what they make.

:meth:`FitRun.run` takes the steps in order: :meth:`~FitRun.extract` (every file
once, the unreadable ones listed), :meth:`~FitRun.search` (one
:class:`~mmsk.model_selection.StrategySearchCV`: the leaderboard, the stored
out-of-fold predictions, the estimate and the ensemble, the chosen model),
:meth:`~FitRun.save_model`, the explanations, read from what the search kept
(:meth:`~FitRun.cv_predictions`, :meth:`~FitRun.importance`,
:meth:`~FitRun.modality_weights`, and :meth:`~FitRun.nested_estimate` when asked
for), then the summary and the report. Each step writes its file as soon as it
has its result; an explanation that fails is recorded and the run goes on: it
never discards the model.
"""

import platform
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..report.layout import (
    ABLATION_FILE,
    LEADERBOARD_FILE,
    MODEL_FILE,
    PREDICTIONS_FILE,
    SEARCH_FILE,
    SUMMARY_FILE,
    UNREADABLE_FILE,
    WEIGHTS_FILE,
)
from ..utils._io import atomic_write
from ._detect import FILE_MODALITIES, sequence_views, view_names
from ._presets import make_feature_union, uncached
from ._strategies import (
    BASELINE,
    COLUMNS,
    ENSEMBLE,
    FEATURES,
    SEQUENCES,
    SINGLE_PREFIX,
    TABLE,
    columns_stage,
    resolve_strategies,
    simplicity,
    strategy_grid,
)

#: ``status`` of a run when every step succeeded, and when an explanation step failed.
COMPLETE, PARTIAL = "complete", "partial"
#: Rows from which the search runs its fits on every core by default: below them, starting the
#: worker processes (each imports torch) costs about what the fits do.
PARALLEL_MIN_ROWS = 1000
#: Rows from which a search that runs one fit at a time grows the random forest's trees on every core:
#: below them, dispatching trees to threads costs more than growing them (300 trees, 2 cores: on 64 rows
#: a fit took 1.13 s in threads against 0.95 s in one, and each prediction 0.12 s against 0.05 s; on
#: 480 rows the threads fit in 0.95 s against 1.5 s).
FOREST_THREADS_MIN_ROWS = 200


def write_json(path, data):
    import json

    text = json.dumps(data, indent=2, default=_plain)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def write_arrays(path, arrays):
    """A ``.npz`` file of named arrays, written atomically."""

    def write(tmp):
        with open(tmp, "wb") as handle:  # a file object: numpy adds no suffix
            np.savez_compressed(handle, **arrays)

    atomic_write(path, write)


def write_csv(path, frame, **kwargs):
    atomic_write(path, lambda tmp: frame.to_csv(tmp, **kwargs))


def splitter(task, cv, groups, random_state):
    """The cross-validation splitter of a run: by group, stratified, or plain shuffled folds."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    if groups is not None:
        return GroupKFold(n_splits=cv)
    if task == "classification":
        return StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return KFold(n_splits=cv, shuffle=True, random_state=random_state)


def unreadable_files(union, table, modalities):
    """Every unreadable file of the table's file columns, from a fitted feature stage (its cache)."""
    frames = []
    for _, transformer, column in union.transformers_:
        if isinstance(column, list) or modalities.get(column) not in FILE_MODALITIES:
            continue
        extractor = transformer.steps[0][1]
        shown = extractor.progress
        extractor.set_params(progress=False)  # the extraction before showed its bar; this reads the cache
        try:
            failed = extractor.failures(table[column])
        finally:
            extractor.set_params(progress=shown)
        failed.insert(1, "column", column)
        frames.append(failed)
    if not frames:
        return pd.DataFrame(columns=["row", "column", "item", "error"])
    return pd.concat(frames, ignore_index=True)


def feature_stages(model):
    """The fitted modality unions of a saved model: its ``features`` step, or each ensemble member's."""
    from sklearn.pipeline import Pipeline

    from ..compose import ModalityUnion

    if isinstance(model, ModalityUnion):
        return [model]
    if isinstance(model, Pipeline):
        return [u for _, step in model.steps for u in feature_stages(step)]
    if hasattr(model, "transformers_"):  # feature stages side by side
        return [u for _, part, _ in model.transformers_ for u in feature_stages(part)]
    return [u for member in getattr(model, "estimators_", []) for u in feature_stages(member)]


@dataclass(frozen=True)
class Rows:
    """The rows a run models: the table, target, prepared input, identifiers, extracted features."""

    table: pd.DataFrame
    y: pd.Series
    data: pd.DataFrame
    ids: pd.Series
    features: pd.DataFrame
    missing: dict
    unreadable: pd.DataFrame
    without_any_view: int


@dataclass(frozen=True)
class SearchOutcome:
    """What the search step returns: everything the explanations read, and the chosen model.

    ``record`` holds the search's stored arrays (``oof``, ``folds``, ``masked``,
    ``masked_views``, ``classes``); ``leaderboard`` one row per candidate and
    one for the ensemble, with ``candidate`` (its index in ``record``).
    """

    leaderboard: pd.DataFrame
    record: dict
    model: object
    chosen: dict
    estimate: dict
    ensemble: dict
    skipped: list
    left_out: list
    failed: list


class FitRun:
    """A prepared table, its settings, and the steps that fit, explain and save its model.

    Built by :func:`mmsk.auto.fit_table` once the table is read and every
    column has its role; :meth:`run` takes the steps. Every attribute is set
    here; the steps return their results.

    Parameters
    ----------
    settings : FitSettings
    table : DataFrame
        The rows with a target.
    y : Series
    data : DataFrame
        The prepared input (absolute paths, text as strings).
    modalities : dict
        Column to modality.
    detection : DataFrame
        Every column with its role.
    task : {"classification", "regression"}
    view_groups : dict
        Numeric column to its view.
    out : Path
    source : str or None
        The table's file.
    dropped : int
        Rows without a target, left out.
    dates : sequence of str, default=()
        Date columns expanded into date parts (repeated at predict).
    say : callable
    started : float
        ``time.perf_counter()`` when the run began.

    See Also
    --------
    fit_table : builds and runs it (what ``mmsk fit`` calls).

    Examples
    --------
    >>> from mmsk.auto import FitRun
    >>> [n for n in ("extract", "search", "save_model", "importance", "finish") if hasattr(FitRun, n)]
    ['extract', 'search', 'save_model', 'importance', 'finish']
    """

    def __init__(
        self,
        settings,
        *,
        table,
        y,
        data,
        modalities,
        detection,
        task,
        view_groups,
        out,
        source,
        dropped,
        say,
        started,
        dates=(),
    ):
        self.settings = settings
        self.table = table
        self.y = y
        self.data = data
        self.modalities = modalities
        self.detection = detection
        self.task = task
        self.view_groups = view_groups
        self.out = Path(out)
        self.source = source
        self.dates = list(dates)
        self.dropped = dropped
        self.say = say
        self.started = started
        self.seconds = {}
        self.failures = []
        self.done = []
        self.outputs = {}

    # ------------------------------------------------------------------ settings read often
    @property
    def views(self):
        return view_names(self.modalities, self.view_groups)

    @property
    def text_columns(self):
        """Each text view's column."""
        return {v: cols[0] for v, cols in self.views.items() if self.modalities[cols[0]] == "text"}

    @cached_property
    def sequences(self):
        """Each sequence view's (steps, features) (read from the column names once)."""
        return sequence_views(self.modalities, self.view_groups)

    def feature_stages(self):
        """The search's named feature stages: the union, the prepared table, its text and categories.

        With sequence views, ``features`` is the union's output pooled over time
        (what every classical candidate reads) and ``sequences`` the union's
        output itself, each sequence view step by step, for the temporal nets.
        """
        union = self.union()
        stages = [(FEATURES, self.pooled(union) if self.sequences else union), (TABLE, "passthrough")]
        raw = {
            v: cols for v, cols in self.views.items() if self.modalities[cols[0]] in ("text", "categorical")
        }
        if raw:
            stages.append((COLUMNS, columns_stage(raw)))
        if self.sequences:
            stages.append((SEQUENCES, union))
        return stages

    @staticmethod
    def pooled(union):
        """The union followed by statistics over time of its sequence views (pandas output)."""
        from sklearn.pipeline import make_pipeline

        from ..compose import TemporalPooling

        return make_pipeline(union, TemporalPooling()).set_output(transform="pandas")

    @property
    def metric_name(self):
        if self.settings.metric is not None:
            return self.settings.metric
        return "accuracy" if self.task == "classification" else "r2"

    @property
    def binary(self):
        return self.task == "classification" and self.y.nunique() == 2

    @property
    def cv_splitter(self):
        return splitter(self.task, self.settings.cv, self.settings.groups, self.settings.random_state)

    def group_values(self, rows):
        groups = self.settings.groups
        return rows.table[groups].to_numpy() if groups is not None else None

    def union(self, *, columns=None, progress=False, on_error=None, text_features=None):
        """The feature stage, over every column or ``columns``."""
        s = self.settings
        modalities = self.modalities if columns is None else {c: self.modalities[c] for c in columns}
        return make_feature_union(
            modalities,
            view_groups=self.view_groups,
            text_features=text_features or s.text_features,
            encoders=s.encoders,
            on_error=on_error or s.on_error,
            cache=str(s.cache or self.out / "cache"),
            progress=progress,
        )

    # ------------------------------------------------------------------ steps
    def run(self):
        """Extract, search, save the model, explain it, summarise.

        Returns
        -------
        result : dict
            ``summary`` (as written to ``summary.json``), ``model``,
            ``leaderboard`` and ``importance`` (None when that step failed or
            was reused).

        A rerun into the same folder with the same table (values and files) and
        settings reuses the search and the model, and each explanation step
        that succeeded; steps that failed or never ran are run.
        """
        rows = self._timed("extract", self.extract)
        previous = self._previous_run()
        if previous is not None:
            outcome = self._reuse(previous)
            meta = {k: previous.get(k) for k in ("target", "task", "modalities", "classes", "id", "dates")}
        else:
            outcome = self.search(rows)
            meta = self._timed("save_model", lambda: self.save_model(outcome, rows))
        results = {}
        steps = [
            ("cv_predictions", self.cv_predictions),
            ("importance", self.importance),
            ("modality_weights", self.modality_weights),
        ]
        if self.settings.estimate == "nested":
            steps.append(("nested_estimate", self.nested_estimate))
        for name, step in steps:
            if previous is not None and name in previous.get("done", []):
                self.done.append(name)
                self.seconds[name] = "reused"
                results[name] = previous.get("nested") if name == "nested_estimate" else None
                continue
            results[name] = self._explain(name, lambda step=step: step(rows, outcome))
        summary = self.finish(rows, outcome, meta, results)
        return {"summary": summary, "model": outcome.model, "leaderboard": outcome.leaderboard,
                "importance": results.get("importance")}  # fmt: skip

    def _timed(self, name, fn):
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds[name] = round(time.perf_counter() - t0, 2)

    def _explain(self, name, step):
        """Run one explanation step; a failure is recorded, and the run goes on."""
        try:
            result = self._timed(name, step)
            self.done.append(name)
            return result
        except Exception as exc:  # noqa: BLE001 - any failure here must not cost the model
            self.failures.append(
                {
                    "step": name,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=8),
                }
            )
            self.say(f"The {name.replace('_', ' ')} step failed ({type(exc).__name__}: {exc}); going on.")
            return None

    def extract(self):
        """Every file and text once (into the cache), the unreadable files listed, rows with no view left out.

        Returns
        -------
        rows : Rows

        Raises
        ------
        UnreadableFilesError
            With ``on_error="raise"``, listing every unreadable file.
        """
        from .._views import missing_view_masks, resolve_sequences, resolve_views
        from ._fit import UnreadableFilesError

        union = self.union(progress=self.settings.progress, on_error="nan")
        features = union.fit_transform(self.data)
        unreadable = unreadable_files(union, self.data, self.modalities)
        if len(unreadable) and self.settings.on_error == "raise":
            write_csv(self.out / UNREADABLE_FILE, unreadable, index=False)
            raise UnreadableFilesError(unreadable, self.out / UNREADABLE_FILE)
        if len(unreadable):
            self.say(f"{len(unreadable)} unreadable file(s) are treated as missing (listed in the report).")
        names = np.asarray(features.columns)
        views = resolve_views(None, n_features=len(names), feature_names=names)
        masks = missing_view_masks(
            features.to_numpy(), views, sequences=resolve_sequences(views, feature_names=names)
        )
        empty = np.logical_and.reduce(list(masks.values()))
        keep = ~empty
        if empty.any():
            self.say(f"{int(empty.sum())} row(s) have no readable view at all; they are left out.")
        ids = None if self.settings.id is None else self.table[self.settings.id][keep]
        return Rows(
            table=self.table[keep],
            y=self.y[keep],
            data=self.data[keep],
            ids=ids,
            features=features[keep],
            missing={view: mask[keep] for view, mask in masks.items()},
            unreadable=unreadable,
            without_any_view=int(empty.sum()),
        )

    # ------------------------------------------------------------------ search
    def strategies(self, rows):
        """The candidates, simplest first, and those left out by their cost (by candidate name)."""
        from ..compose import TemporalPooling

        s = self.settings
        n_train = len(rows.y) * (s.cv - 1) / s.cv
        n_classes = rows.y.nunique() if self.task == "classification" else 1
        # the classical candidates read a sequence view's statistics, not its steps
        n_stats = len(TemporalPooling().stats)
        pooled = sum((n_stats - steps) * width for steps, width in self.sequences.values())
        table = dict(
            views=list(self.views),
            text_columns=self.text_columns,
            kinds={v: self.modalities[cols[0]] for v, cols in self.views.items()},
            categorical_columns=self.views.get("categorical", []),
            n_rows=len(rows.y),
            n_features=rows.features.shape[1] + pooled,
            n_classes=n_classes if self.task == "classification" else None,
            widths=Counter(str(c).partition("__")[0] for c in rows.features.columns),
            sequences=self.sequences,
            max_epochs=s.max_epochs,
            # a validation split of 10% with a few rows of every class
            early_stopping=0.1 * n_train >= max(10, 2 * n_classes),
            # a search that runs one fit at a time leaves the other cores to the forest's trees
            n_jobs=-1
            if self.n_jobs(len(rows.y)) is None and len(rows.y) >= FOREST_THREADS_MIN_ROWS
            else None,
            random_state=s.random_state,
        )
        grid = strategy_grid(self.task, s.strategies, **table)
        # the strategies named explicitly: the same candidates without the cost rules
        asked = resolve_strategies(self.task, s.strategies, len(self.views), len(self.sequences))
        named = {name for name, *_ in grid}
        return grid, [name for name, *_ in strategy_grid(self.task, asked, **table) if name not in named]

    def make_search(self, rows, strategies):
        """The StrategySearchCV of the run (unfitted)."""
        from ..model_selection import StrategySearchCV

        s = self.settings
        scoring = {"score": self.metric_name}
        if self.binary and self.metric_name != "roc_auc":
            scoring["roc_auc"] = "roc_auc"
        always = [name for name, *_ in strategies if simplicity(name) < 2]
        return StrategySearchCV(
            strategies,
            features=self.feature_stages(),
            scoring=scoring,
            cv=self.cv_splitter,
            refit="one-se" if s.choose == "one-se" else "best",
            baseline=BASELINE,
            estimate="none" if s.estimate == "none" else "bbc",
            ensemble=s.ensemble,
            drop=s.prune,
            importance=s.importance == "mask",
            time_limit=s.time_limit,
            always_run=always,
            n_jobs=self.n_jobs(len(rows.y)),
            error_score=np.nan,
            progress=s.progress,
            random_state=s.random_state,
        )

    def n_jobs(self, n_rows):
        """The search's parallel fits: the setting, else every core on tables large enough to pay."""
        s = self.settings
        if s.n_jobs is not None or s.dask is not None:
            return s.n_jobs
        return -1 if n_rows >= PARALLEL_MIN_ROWS else None

    def search(self, rows):
        """Cross-validate every candidate once, keep their predictions; write the leaderboard.

        Returns
        -------
        outcome : SearchOutcome
        """
        strategies, left_out = self.strategies(rows)
        search = self.make_search(rows, strategies)
        n_candidates = sum(len(_grid_points(g)) for _, _, g, _ in strategies)
        self.say(
            f"Searching {n_candidates} candidates of {len(strategies)} strategies "
            f"({', '.join(name for name, *_ in strategies)}) with {self.settings.cv}-fold cross-validation, "
            f"scored by {self.metric_name} ..."
        )
        if left_out:
            self.say(f"Left out by their cost on {len(rows.y)} rows: {left_out} (name them to search them).")
        t0 = time.perf_counter()
        with _backend(self.settings.dask):
            search.fit(rows.data, rows.y, groups=self.group_values(rows))
        self.seconds["search"] = round(search.search_time_, 2)
        self.seconds["refit"] = round(getattr(search, "refit_time_", 0.0), 2)
        self.seconds["estimate"] = round(
            time.perf_counter() - t0 - search.search_time_ - self.seconds["refit"], 2
        )
        outcome = self._outcome(search, left_out, rows)
        record = outcome.record
        write_arrays(self.out / SEARCH_FILE, record)
        write_csv(self.out / LEADERBOARD_FILE, outcome.leaderboard, index=False)
        self.outputs.update(leaderboard=LEADERBOARD_FILE, search=SEARCH_FILE)
        if outcome.skipped:
            self.say(f"Time limit reached: not searched {outcome.skipped}.")
        self.say(f"Leaderboard (cross-validated {self.metric_name}):")
        shown = outcome.leaderboard.drop(columns=["chosen", "candidate"])
        self.say(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        return outcome

    def _outcome(self, search, left_out, rows):
        from ..model_selection import fusion_leaderboard

        results = search.cv_results_
        board = fusion_leaderboard(search)
        n_splits = search.n_splits_
        board.insert(
            board.columns.get_loc("std_score") + 1, "sem_score", board["std_score"] / np.sqrt(n_splits)
        )
        board["status"] = results["status"][board["candidate"]]
        board = board[board["status"] != "skipped"]  # listed in the summary and the report instead
        board["folds"] = results["n_folds_done"][board["candidate"]]
        if "mean_test_roc_auc" in results:
            board["roc_auc"] = results["mean_test_roc_auc"][board["candidate"]]
        board["chosen"] = (board["candidate"] == search.best_index_) & (search.choice_ != ENSEMBLE)
        ensemble = search.ensemble_
        if ensemble is not None:
            names = results["strategy"]
            members = ", ".join(
                f"{names[m]} #{m} ({w:.2f})" for m, w in zip(ensemble["members"], ensemble["weights"])
            )
            folds = _fold_scores(search, rows, ensemble, self.metric_name)
            row = {
                "strategy": ENSEMBLE,
                "params": members,
                "mean_score": folds["score"].mean(),
                "std_score": folds["score"].std(),
                "sem_score": folds["score"].std() / np.sqrt(n_splits),
                "mean_fit_time": np.nan,
                "rank": pd.NA,
                "candidate": -1,
                "status": "complete",
                "folds": n_splits,
                "chosen": search.choice_ == ENSEMBLE,
            }
            if "roc_auc" in folds:
                row["roc_auc"] = folds["roc_auc"].mean()
            board = pd.concat([board, pd.DataFrame([row])], ignore_index=True)
        board = board.sort_values("mean_score", ascending=False, kind="stable", na_position="last")
        board = board.reset_index(drop=True)
        best = int(search.best_index_)
        chosen = (
            {
                "strategy": ENSEMBLE,
                "candidate": -1,
                **board.loc[board["strategy"] == ENSEMBLE, ["params", "mean_score", "sem_score"]]
                .iloc[0]
                .to_dict(),
            }
            if search.choice_ == ENSEMBLE
            else {
                "strategy": str(results["strategy"][best]),
                "candidate": best,
                "params": board.loc[board["candidate"] == best, "params"].iloc[0],
                "mean_score": float(search.best_score_),
                "sem_score": float(results["std_test_score"][best] / np.sqrt(n_splits)),
            }
        )
        record = {
            "oof": search.oof_predictions_,
            "folds": search.oof_folds_,
            "classes": np.array([] if search.classes_ is None else search.classes_, dtype=object).astype(str),
            "masked_views": np.array(search.masked_views_, dtype=str),
            "split_scores": np.array([results[f"split{k}_test_score"] for k in range(n_splits)]).T,
        }
        if search.masked_predictions_ is not None:
            record["masked"] = search.masked_predictions_
        if ensemble is not None:
            record["ensemble_members"] = np.array(ensemble["members"])
            record["ensemble_weights"] = np.array(ensemble["weights"])
        status = results["status"]
        return SearchOutcome(
            leaderboard=board,
            record=record,
            model=search.best_estimator_,
            chosen=chosen,
            estimate=_jsonable(search.chosen_estimate_, drop=("candidate_oob", "chosen_share")),
            ensemble=None if ensemble is None else _jsonable(ensemble),
            skipped=sorted(
                set(results["strategy"][status == "skipped"]), key=list(results["strategy"]).index
            ),
            left_out=left_out,
            failed=sorted(set(results["strategy"][status == "failed"])),
        )

    def _previous_run(self):
        """The last run's summary when it computed the same thing and its files are there, else None."""
        import json

        try:
            previous = json.loads((self.out / SUMMARY_FILE).read_text())
        except (OSError, ValueError):
            return None
        files = (MODEL_FILE, LEADERBOARD_FILE, SEARCH_FILE)
        if previous.get("fingerprint") != self.fingerprint or not all(
            (self.out / f).is_file() for f in files
        ):
            return None
        self.say("The output folder holds this run already: reusing its finished steps.")
        return previous

    def _reuse(self, previous):
        """The previous run's search and model, read back from its files."""
        from ..report.layout import load_model

        board = pd.read_csv(self.out / LEADERBOARD_FILE).fillna({"params": ""})
        with np.load(self.out / SEARCH_FILE, allow_pickle=False) as stored:
            record = {k: stored[k] for k in stored.files}
        model, _ = load_model(self.out)
        self.seconds.update(search="reused", save_model="reused")
        self.outputs.update(leaderboard=LEADERBOARD_FILE, search=SEARCH_FILE, model=MODEL_FILE)
        return SearchOutcome(
            leaderboard=board,
            record=record,
            model=model,
            chosen=previous["best"],
            estimate=previous.get("estimate"),
            ensemble=previous.get("ensemble"),
            skipped=previous.get("skipped", []),
            left_out=previous.get("left_out", []),
            failed=previous.get("failed_strategies", []),
        )

    @cached_property
    def fingerprint(self):
        """A hash of what decides the run's results: the rows, their files, the target and settings."""
        import joblib

        from ..utils._fingerprint import rows_digest

        groups = None if self.settings.groups is None else self.table[self.settings.groups]
        settings = (self.task, sorted(self.modalities.items()), self.view_groups, _versions()["mmsk"])
        return joblib.hash((rows_digest(self.data), self.y, groups, self.settings.computed(), settings))

    def save_model(self, outcome, rows):
        """Write the chosen model (refit on every row) with its metadata; returns the metadata."""
        from .. import persist

        model = outcome.model
        for union in feature_stages(model):  # one, or one per member of an ensemble
            uncached(union)
        meta = {
            "target": str(self.settings.target),
            "task": self.task,
            "modalities": {str(k): v for k, v in self.modalities.items()},
            "classes": [str(c) for c in model.classes_] if hasattr(model, "classes_") else None,
            "id": self.settings.id,
            "dates": self.dates,
        }
        persist.save({"model": model, "meta": meta}, self.out / MODEL_FILE)
        self.outputs["model"] = MODEL_FILE
        return meta

    # ------------------------------------------------------------------ explanations
    def _chosen_predictions(self, outcome, key="oof"):
        """The chosen candidate's (or the ensemble's) stored predictions."""
        record = outcome.record
        stored = record[key]
        if outcome.chosen["candidate"] >= 0:
            return stored[outcome.chosen["candidate"]]
        weights = record["ensemble_weights"]
        return np.tensordot(weights, stored[record["ensemble_members"]], axes=1)

    def cv_predictions(self, rows, outcome):
        """The chosen model's out-of-fold predictions (and class probabilities), as the search kept them."""
        frame = pd.DataFrame(
            {"row": rows.table.index, "fold": outcome.record["folds"], "y_true": rows.y.to_numpy()}
        )
        if rows.ids is not None:
            frame.insert(1, str(rows.ids.name), rows.ids.to_numpy())
        predictions = self._chosen_predictions(outcome)
        if self.task == "classification":
            classes = np.unique(rows.y)
            frame["y_pred"] = classes[predictions.argmax(axis=1)]
            for j, c in enumerate(classes):
                frame[f"proba_{c}"] = predictions[:, j]
        else:
            frame["y_pred"] = predictions[:, 0]
        write_csv(self.out / PREDICTIONS_FILE, frame, index=False)
        self.outputs["cv_predictions"] = PREDICTIONS_FILE
        return frame

    def importance(self, rows, outcome):
        """What each view contributes: the score without it at predict time, or the refit ablation."""
        if self.settings.importance == "refit":
            table = self._refit_ablation(rows, outcome)
        else:
            table = self._masked_importance(rows, outcome)
        write_csv(self.out / ABLATION_FILE, table, index=False)
        self.outputs["ablation"] = ABLATION_FILE
        return table

    def _masked_importance(self, rows, outcome):
        """Per fold, the chosen model's score with each view made missing in the held-out rows."""
        from sklearn.metrics import get_scorer

        from ..model_selection import RowScores

        record = outcome.record
        views = [str(v) for v in record["masked_views"]]
        if "masked" not in record or not views or simplicity(outcome.chosen["strategy"]) < 2:
            return pd.DataFrame(columns=CONTRIBUTION_COLUMNS)
        folds = record["folds"]
        W = (folds[None, :] == np.arange(folds.max() + 1)[:, None]).astype(float)
        classes = np.unique(rows.y) if self.task == "classification" else None
        scores = RowScores(get_scorer(self.metric_name), self.metric_name, rows.y.to_numpy(), classes)
        full = scores.scores(self._chosen_predictions(outcome)[None], W)[:, 0]
        masked = self._chosen_predictions(outcome, key="masked")
        settings = [("all views", tuple(views), len(folds), full)]
        for j, view in enumerate(views):
            without = tuple(v for v in views if v != view)
            settings.append((f"without {view}", without, len(folds), scores.scores(masked[j][None], W)[:, 0]))
        return _contribution_table(settings)

    def _refit_ablation(self, rows, outcome):
        """The chosen model refit with each view alone and left out, cross-validated again."""
        from sklearn.base import clone
        from sklearn.model_selection import cross_val_score
        from sklearn.pipeline import Pipeline

        from ..model_selection import ablation_settings

        views = self.views
        model = outcome.model
        if len(views) < 2 or simplicity(outcome.chosen["strategy"]) < 2 or not hasattr(model, "named_steps"):
            return pd.DataFrame(columns=CONTRIBUTION_COLUMNS)
        final = model.named_steps["model"]
        settings = []
        groups = self.group_values(rows)
        for label, used in ablation_settings(list(views)):
            kept = [c for v in used for c in views[v]]
            union = self.union(columns=kept)
            pooled = isinstance(model.named_steps["features"], Pipeline)  # a classical model on sequences
            pipe = Pipeline([("features", self.pooled(union) if pooled else union), ("model", clone(final))])
            usable = ~np.logical_and.reduce([rows.missing[v] for v in used])
            scores = cross_val_score(
                pipe,
                rows.data.loc[usable, kept],
                rows.y[usable],
                groups=None if groups is None else groups[usable],
                cv=self.cv_splitter,
                scoring=self.metric_name,
                error_score=np.nan,
            )
            settings.append((label, tuple(used), int(usable.sum()), scores))
        return _contribution_table(settings)

    def modality_weights(self, rows, outcome):
        """Mean attention/gate weight of each view (per class) when the chosen net has them."""
        model = outcome.model
        path = self.out / WEIGHTS_FILE
        final = model.named_steps.get("model") if hasattr(model, "named_steps") else None
        if not hasattr(final, "modality_weights"):  # a net whose fusion family has weights
            path.unlink(missing_ok=True)
            return None
        w = final.modality_weights(model.named_steps["features"].transform(rows.data))
        if self.task == "classification":
            w = w.groupby(rows.y.to_numpy()).mean()
        else:
            w = w.mean().to_frame("all").T
        write_csv(path, w, index_label="group")
        self.outputs["modality_weights"] = WEIGHTS_FILE
        return w

    def nested_estimate(self, rows, outcome):
        """The whole search repeated in outer folds (three beyond 1000 rows), scored on folds it never saw."""
        from ..model_selection import nested_estimate

        s = self.settings
        n_outer = s.cv if len(rows.y) <= 1000 else min(s.cv, 3)
        strategies, _ = self.strategies(rows)
        search = self.make_search(rows, strategies).set_params(
            cv=splitter(self.task, max(2, min(s.cv, 3)), s.groups, s.random_state), progress=False
        )
        with _backend(s.dask):
            result = nested_estimate(
                search,
                rows.data,
                rows.y,
                groups=self.group_values(rows),
                cv=splitter(self.task, n_outer, s.groups, s.random_state + 1),
            )
        self.say(
            f"Nested estimate of the whole choice ({n_outer} outer folds): {self.metric_name} "
            f"{result['mean']:.4f}, 95% interval [{result['ci_low']:.4f}, {result['ci_high']:.4f}]"
        )
        return result

    # ------------------------------------------------------------------ summary
    def summary(self, rows, outcome, meta, results):
        board = outcome.leaderboard
        candidates = board[board["strategy"] != ENSEMBLE]
        baseline = candidates.loc[candidates["strategy"] == BASELINE, "mean_score"].max()
        singles = candidates[candidates["strategy"].str.startswith(SINGLE_PREFIX)].dropna(
            subset=["mean_score"]
        )
        best_single = singles.loc[singles["mean_score"].idxmax()] if len(singles) else None
        chosen = outcome.chosen
        estimate = results.get("nested_estimate") if self.settings.estimate == "nested" else outcome.estimate
        return {
            **meta,
            "status": PARTIAL if self.failures else COMPLETE,
            "fingerprint": self.fingerprint,
            "done": self.done,
            "table": self.source,
            "rows": int(len(rows.y)),
            "rows_without_target": self.dropped,
            "rows_without_any_view": rows.without_any_view,
            "groups": self.settings.groups,
            "cv": f"{type(self.cv_splitter).__name__}(n_splits={self.settings.cv})",
            "metric": self.metric_name,
            "choose": self.settings.choose,
            "text_features": self.settings.text_features if "text" in self.modalities.values() else None,
            "encoders": dict(self.settings.encoders),
            "detection": self.detection.to_dict(orient="records"),
            "views": self._view_counts(rows),
            "unreadable": rows.unreadable.astype({"row": str}).to_dict(orient="records"),
            "on_error": self.settings.on_error,
            "n_features": int(rows.features.shape[1]),
            "best": {k: chosen[k] for k in ("strategy", "candidate", "params", "mean_score", "sem_score")},
            "estimate": estimate,
            "ensemble": outcome.ensemble,
            "baseline_score": float(baseline),
            "best_single": None
            if best_single is None
            else {
                "strategy": best_single["strategy"],
                "mean_score": float(best_single["mean_score"]),
                "sem_score": float(best_single["sem_score"]),
            },
            "simpler_within_one_se": self._simpler_within_one_se(board, chosen),
            "verdict": NOTHING_FOUND if chosen["strategy"] == BASELINE else None,
            "dropped": board.loc[board["status"] == "dropped", "strategy"].drop_duplicates().tolist(),
            "skipped": outcome.skipped,
            "left_out": outcome.left_out,
            "failed_strategies": outcome.failed,
            "time_limit": self.settings.time_limit,
            "failures": self.failures,
            "outputs": self.outputs,
            "seconds": {**self.seconds, "total": round(time.perf_counter() - self.started, 2)},
            "versions": _versions(),
        }

    @staticmethod
    def _simpler_within_one_se(board, chosen):
        """Simpler candidates whose mean score is within one standard error of the chosen one's."""
        if chosen["strategy"] == ENSEMBLE:
            return []
        near = board[
            (board["strategy"] != ENSEMBLE)
            & (board["mean_score"] >= chosen["mean_score"] - chosen["sem_score"])
            & (board["strategy"].map(simplicity) < simplicity(chosen["strategy"]))
        ]
        return near["strategy"].drop_duplicates().tolist()

    def _view_counts(self, rows):
        """Each view: its modality, columns, shape over time, and rows with missing values or no view."""
        out = []
        sequences = self.sequences
        for view, columns in self.views.items():
            kind = self.modalities[columns[0]]
            raw = rows.data[columns].isna() if kind != "text" else rows.data[columns].eq("")
            steps = sequences.get(view)
            out.append(
                {
                    "view": view,
                    "modality": kind,
                    "columns": ", ".join(map(str, columns))
                    if len(columns) <= 3
                    else f"{len(columns)} columns",
                    "sequence": f"{steps[0]} steps x {steps[1]} features" if steps else "",
                    "missing_values": int(raw.any(axis=1).sum()),
                    "rows_without_view": int(rows.missing[view].sum()),
                }
            )
        return out

    def finish(self, rows, outcome, meta, results):
        """Write summary.json and the report (a failing report is recorded like any explanation)."""
        from ..report import write_report

        write_json(self.out / SUMMARY_FILE, self.summary(rows, outcome, meta, results))
        self._explain("report", lambda: write_report(self.out, model=outcome.model))
        summary = self.summary(rows, outcome, meta, results)
        write_json(self.out / SUMMARY_FILE, summary)
        best, estimate = summary["best"], summary["estimate"]
        told = (
            f"; estimate of the whole choice {estimate['mean']:.4f} [{estimate['ci_low']:.4f}, "
            f"{estimate['ci_high']:.4f}] ({estimate['method']})"
            if estimate
            else ""
        )
        self.say(
            f"Chosen: {best['strategy']} {best['params']} (cross-validated {self.metric_name} "
            f"{best['mean_score']:.4f}{told}). Model: {self.out / MODEL_FILE}; "
            f"report: {self.out / 'report.html'}"
            + (f". PARTIAL: {len(self.failures)} step(s) failed, see summary.json." if self.failures else "")
        )
        if summary["verdict"]:
            self.say(summary["verdict"])
        return summary


#: What a run that chose its baseline says.
NOTHING_FOUND = (
    "No candidate beat the baseline: in cross-validation the best led it by no more than one standard "
    "error, or the bootstrap estimate of the choice was no higher than the baseline score. The columns did "
    "not predict the target better than its class prior (or its mean). The saved model is the baseline."
)


#: The columns of the importance table (``ablation.csv``), whichever way it was computed.
CONTRIBUTION_COLUMNS = ["setting", "views", "rows", "mean_score", "std_score", "delta"]


def _contribution_table(settings):
    """(setting, views, rows, fold scores) per setting, the first with every view, as the importance table."""
    table = pd.DataFrame(
        [
            {
                "setting": label,
                "views": used,
                "rows": n,
                "mean_score": np.mean(scores),
                "std_score": np.std(scores),
            }
            for label, used, n, scores in settings
        ],  # fmt: skip
        columns=CONTRIBUTION_COLUMNS[:-1],
    )
    table["delta"] = table["mean_score"] - table["mean_score"].iloc[0] if len(table) else []
    return table


def _fold_scores(search, rows, ensemble, metric):
    """Each scorer's fold scores of the ensemble's averaged out-of-fold predictions."""
    from ..model_selection import RowScores

    average = np.tensordot(ensemble["weights"], search.oof_predictions_[ensemble["members"]], axes=1)
    folds = search.oof_folds_
    W = (folds[None, :] == np.arange(search.n_splits_)[:, None]).astype(float)
    names = {"score": metric, "roc_auc": "roc_auc"}
    return {
        key: RowScores(scorer, names.get(key), rows.y.to_numpy(), search.classes_).scores(average[None], W)[
            :, 0
        ]
        for key, scorer in search.scorer_.items()
    }


def _grid_points(grid):
    from sklearn.model_selection import ParameterGrid

    return list(ParameterGrid(grid))


def _jsonable(value, drop=()):
    if value is None:
        return None
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in value.items() if k not in drop}


@contextmanager
def _backend(address):
    """joblib's Dask backend on the scheduler at ``address`` (or a scheduler ``.json`` file), or nothing."""
    if address is None:
        yield
        return
    import joblib
    from distributed import Client

    kwargs = {"scheduler_file": str(address)} if str(address).endswith(".json") else {"address": address}
    with Client(**kwargs), joblib.parallel_backend("dask"):
        yield


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
