"""One ``mmsk fit`` run: a small object holding the table and its settings, and the steps it takes.

The steps write what they produce as soon as they have it: the leaderboard right
after the search, then the model, then each explanation. An explanation step that
fails is recorded (``summary.json``, the report) and the run goes on: it never
discards the model.
"""

import platform
import time
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    ParameterGrid,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.pipeline import Pipeline

from ..report.layout import (
    ABLATION_FILE,
    LEADERBOARD_FILE,
    MODEL_FILE,
    PREDICTIONS_FILE,
    SUMMARY_FILE,
    WEIGHTS_FILE,
)
from ..utils._io import atomic_write
from ._detect import view_names
from ._presets import make_feature_union, uncached
from ._strategies import candidate_strategies, simplicity, strategy_grid

#: ``FitRun.status`` when every step succeeded, and when an explanation step failed.
COMPLETE, PARTIAL = "complete", "partial"
#: Outer folds of the nested estimate on tables larger than this many rows (else ``cv``).
_NESTED_LARGE = 1000


def write_json(path, data):
    import json

    text = json.dumps(data, indent=2, default=str)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def write_csv(path, frame, **kwargs):
    atomic_write(path, lambda tmp: frame.to_csv(tmp, **kwargs))


def splitter(task, cv, groups, random_state):
    """The cross-validation splitter of a run: by group, stratified, or plain shuffled folds."""
    if groups is not None:
        return GroupKFold(n_splits=cv)
    if task == "classification":
        return StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return KFold(n_splits=cv, shuffle=True, random_state=random_state)


def one_se_index(results, strategies):
    """The simplest candidate of a search whose mean score is within one standard error of the best's.

    ``results`` is a search's ``cv_results_`` (its scorer ``"score"`` is the one
    to choose by); ``strategies`` names each candidate.
    """
    n_splits = sum(1 for k in results if k.startswith("split") and k.endswith("_test_score"))
    board = pd.DataFrame(
        {
            "strategy": strategies,
            "mean_score": np.asarray(results["mean_test_score"], dtype=float),
            "sem_score": np.asarray(results["std_test_score"], dtype=float) / np.sqrt(max(n_splits, 1)),
            "candidate": np.arange(len(strategies)),
        }
    )
    return choose_candidate(board, "one-se")


def choose_candidate(board, choose):
    """The candidate to keep: the best mean score, or with ``"one-se"`` the simplest within one
    standard error of the best (ties: the higher score)."""
    scores = board["mean_score"].to_numpy(dtype=float)
    best = int(np.nanargmax(scores))
    if choose != "one-se":
        return int(board["candidate"].iloc[best])
    threshold = scores[best] - board["sem_score"].iloc[best]
    near = board[np.nan_to_num(scores, nan=-np.inf) >= threshold]
    ranked = near.assign(_simple=near["strategy"].map(simplicity)).sort_values(
        ["_simple", "mean_score"], ascending=[True, False], kind="stable"
    )
    return int(ranked["candidate"].iloc[0])


def _progress(total, enabled):
    """One bar over every fit of the search, with its time estimate."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="search", unit="fit", disable=not enabled, leave=True)


@dataclass
class FitRun:
    """A table, its target and settings, and the steps that fit, explain and save its model.

    Built by :func:`mmsk.auto.fit_table` once the table is read, every column
    has its role and unreadable files are listed; :meth:`run` takes the steps
    in order: :meth:`extract`, :meth:`search` (writes the leaderboard, refits
    the chosen candidate), :meth:`save_model`, then the explanations
    (:meth:`cross_validated_predictions`, :meth:`ablation`,
    :meth:`modality_weights`, :meth:`nested_estimate`), each recorded in
    ``failures`` instead of stopping the run when it fails, and
    :meth:`finish` (``summary.json`` and the report). The fields are
    :func:`~mmsk.auto.fit_table`'s parameters, resolved.

    Attributes
    ----------
    leaderboard_ : DataFrame
        Every candidate's cross-validated score, best first, ``chosen`` marked.
    model_ : Pipeline
        The chosen candidate (feature stage and model) refit on every row.
    nested_ : dict or None
        The nested estimate of the whole choice: outer scores, mean, interval.
    failures : list of dict
        The explanation steps that failed: step, error, traceback.

    See Also
    --------
    fit_table : builds and runs it (what ``mmsk fit`` calls).

    Examples
    --------
    >>> from mmsk.auto import FitRun
    >>> [name for name in ("search", "save_model", "nested_estimate", "finish") if hasattr(FitRun, name)]
    ['search', 'save_model', 'nested_estimate', 'finish']
    """

    table: pd.DataFrame
    y: pd.Series
    data: pd.DataFrame
    modalities: dict
    detection: pd.DataFrame
    unreadable: pd.DataFrame
    out: Path
    task: str
    target: str
    groups: str = None
    view_groups: dict = None
    ids: pd.Series = None
    strategies: tuple = None
    cv: int = 5
    metric: str = None
    choose: str = "best"
    text_features: str = "tfidf"
    encoders: dict = None
    on_error: str = "raise"
    max_epochs: int = 60
    n_jobs: int = None
    progress: bool = True
    nested: bool = True
    time_limit: float = None
    random_state: int = 0
    source: str = None
    dropped: int = 0
    say: object = print
    started: float = field(default_factory=time.perf_counter)
    seconds: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    done: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    rows_without_any_view: int = 0

    # ------------------------------------------------------------------ settings
    @property
    def feature_kwargs(self):
        return dict(
            text_features=self.text_features,
            encoders=self.encoders,
            on_error=self.on_error,
            cache=str(self.out / "cache"),
        )

    @property
    def views(self):
        return view_names(self.modalities, self.view_groups)

    @property
    def splitter(self):
        return splitter(self.task, self.cv, self.groups, self.random_state)

    @property
    def group_values(self):
        return self.table[self.groups].to_numpy() if self.groups is not None else None

    @property
    def metric_name(self):
        if self.metric is not None:
            return self.metric
        return "accuracy" if self.task == "classification" else "r2"

    @property
    def early_stopping(self):
        """Deep nets stop early on tables of 1000 rows or more (their held-out 10% is then enough)."""
        return len(self.table) >= 1000

    @property
    def binary(self):
        return self.task == "classification" and self.y.nunique() == 2

    def union(self, columns=None, progress=None):
        """The feature stage; extractors' own progress bars only where asked (the first extraction)."""
        modalities = self.modalities if columns is None else {c: self.modalities[c] for c in columns}
        return make_feature_union(
            modalities,
            view_groups=self.view_groups,
            progress=self.progress if progress is None else progress,
            **self.feature_kwargs,
        )

    def _scoring(self):
        scoring = {"score": self.metric_name}
        if self.binary and self.metric_name != "roc_auc":
            scoring["roc_auc"] = "roc_auc"
        return scoring

    # ------------------------------------------------------------------ steps
    def run(self):
        """Extract, search, save the model, then explain it; returns the status.

        A rerun into the same folder with the same table (values and files) and
        settings reuses what the last run finished: the leaderboard and the
        model, and each explanation step that succeeded. Steps that failed or
        never ran are run.
        """
        self.extract()
        previous = self._previous_run()
        if previous is not None:
            self._reuse_search(previous)
        else:
            self.search()
            self.save_model()
        for name, step in (
            ("cv_predictions", self.cross_validated_predictions),
            ("ablation", self.ablation),
            ("modality_weights", self.modality_weights),
            ("nested_estimate", self.nested_estimate),
        ):
            if previous is not None and name in previous.get("done", []):
                self.done.append(name)
                self.seconds[name] = "reused"
                if name == "nested_estimate":
                    self.nested_ = previous.get("nested")
                continue
            self._explain(name, step)
        return self.finish()

    @cached_property
    def fingerprint(self):
        """A hash of what decides the run's results: the rows, their files, the target and settings."""
        import joblib

        from ..utils._fingerprint import rows_digest

        settings = (
            self.task, self.target, self.groups, self.modalities, self.view_groups, self.strategies,
            self.cv, self.metric, self.choose, self.nested, self.text_features, self.encoders, self.on_error,
            self.max_epochs, self.random_state, _versions()["mmsk"],
        )  # fmt: skip
        groups = None if self.groups is None else self.table[self.groups]
        return joblib.hash((rows_digest(self.data), self.y, groups, settings))

    def _previous_run(self):
        """The last run's summary when it computed the same thing and its model is there, else None."""
        import json

        path = self.out / SUMMARY_FILE
        try:
            previous = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        same = previous.get("fingerprint") == self.fingerprint
        if not same or not (self.out / MODEL_FILE).is_file() or not (self.out / LEADERBOARD_FILE).is_file():
            return None
        self.say("The output folder holds this run already: reusing its finished steps.")
        return previous

    def _reuse_search(self, previous):
        """The leaderboard and the model of the previous run, in place of a new search."""
        from ..report.layout import load_model

        self.leaderboard_ = pd.read_csv(self.out / LEADERBOARD_FILE).fillna({"params": ""})
        self.model_, self.meta_ = load_model(self.out)
        self.seconds.update(search="reused", model="reused")
        self.outputs.update(leaderboard=LEADERBOARD_FILE, model=MODEL_FILE)

    def _chosen(self):
        """A fresh copy of the chosen candidate (feature stage and model), cached per fold."""
        return clone(self.model_).set_params(memory=self._fold_cache)

    def _timed(self, name, fn):
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds[name] = round(time.perf_counter() - t0, 2)

    def _explain(self, name, step):
        """Run one explanation step; a failure is recorded, and the run goes on."""
        try:
            self._timed(name, step)
            self.done.append(name)
        except Exception as exc:  # noqa: BLE001 - any failure here must not cost the model
            self.failures.append(
                {
                    "step": name,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=8),
                }
            )
            self.say(f"The {name.replace('_', ' ')} step failed ({type(exc).__name__}: {exc}); going on.")

    def extract(self):
        """Extract every file once (into the cache); leave out the rows with no readable view."""
        from .._views import missing_view_masks, resolve_views

        def work():
            self.features_ = clone(self.union()).fit_transform(self.data)

        self._timed("extract", work)
        names = np.asarray(self.features_.columns)
        masks = missing_view_masks(
            self.features_.to_numpy(), resolve_views(None, n_features=len(names), feature_names=names)
        )
        empty = np.logical_and.reduce(list(masks.values()))
        #: view -> rows without it, for the rows kept (the ablation and the summary read it)
        self.missing_ = {view: mask[~empty] for view, mask in masks.items()}
        self.rows_without_any_view = int(empty.sum())
        if empty.any():
            self.say(f"{int(empty.sum())} row(s) have no readable view at all; they are left out.")
            keep = ~empty
            self.table, self.y, self.data = self.table[keep], self.y[keep], self.data[keep]
            self.features_ = self.features_[keep]
            if self.ids is not None:
                self.ids = self.ids[keep]

    def search(self):
        """Cross-validate the candidates, simplest strategy first; write the leaderboard; refit the chosen.

        One search per strategy, with the feature stage refit in every fold (read
        back from the fold cache by every candidate). One progress bar counts
        the fits. Past ``time_limit`` seconds no further fusion strategy starts
        (the baseline and each modality alone always run); the skipped ones are
        listed in the summary and the report.
        """
        from ..model_selection import fusion_leaderboard

        self.grid_ = self._strategy_grid()
        n_splits = self.splitter.get_n_splits(self.data, self.y, self.group_values)
        sizes = {name: len(ParameterGrid(entry)) for name, entry in self.grid_.items()}
        self.say(
            f"Searching {sum(sizes.values())} candidates of {len(sizes)} strategies ({', '.join(sizes)}) "
            f"with {n_splits}-fold cross-validation, scored by {self.metric_name} ..."
        )
        boards, params, self.skipped_, self.failed_strategies_ = [], [], [], []
        started = time.perf_counter()
        with _progress(sum(sizes.values()) * n_splits, self.progress) as bar:
            for name, entry in self.grid_.items():
                late = self.time_limit is not None and time.perf_counter() - started > self.time_limit
                if late and simplicity(name) >= 2:
                    self.skipped_.append(name)
                    bar.total -= sizes[name] * n_splits
                    continue
                search = self._grid_search({name: entry}, self.splitter, refit=False)
                try:
                    search.fit(self.data, self.y, groups=self.group_values)
                except ValueError as exc:  # every fit of the strategy failed: the others go on
                    self.failed_strategies_.append({"strategy": name, "error": str(exc).strip()[-2000:]})
                    self.say(f"Every fit of the {name} strategy failed; it is left out (see summary.json).")
                    bar.update(sizes[name] * n_splits)
                    continue
                board = fusion_leaderboard(search, strategy_param="model").rename(
                    columns={"strategy": "estimator"}
                )
                board.insert(0, "strategy", name)
                if "mean_test_roc_auc" in search.cv_results_:
                    board["roc_auc"] = search.cv_results_["mean_test_roc_auc"][board["candidate"]]
                board["candidate"] += len(params)
                params += search.cv_results_["params"]
                boards.append(board)
                bar.update(sizes[name] * n_splits)
        self.seconds["search"] = round(time.perf_counter() - started, 2)
        if self.skipped_:
            self.say(f"Time limit reached: not searched {self.skipped_}.")
        board = pd.concat(boards, ignore_index=True)
        board.insert(
            board.columns.get_loc("std_score") + 1, "sem_score", board["std_score"] / np.sqrt(n_splits)
        )
        board = board.sort_values("mean_score", ascending=False, kind="stable", na_position="last")
        board["rank"] = board["mean_score"].rank(ascending=False, method="min").astype("Int64")
        if not np.isfinite(board["mean_score"]).any():
            write_csv(self.out / LEADERBOARD_FILE, board.drop(columns="candidate"), index=False)
            raise ValueError("every candidate failed; see the warnings above")
        chosen = choose_candidate(board, self.choose)
        board["chosen"] = board["candidate"] == chosen
        self.leaderboard_ = board.drop(columns="candidate").reset_index(drop=True)
        write_csv(self.out / LEADERBOARD_FILE, self.leaderboard_, index=False)
        self.outputs["leaderboard"] = LEADERBOARD_FILE
        self.say(f"Leaderboard (cross-validated {self.metric_name}):")
        self.say(
            self.leaderboard_.drop(columns="chosen").to_string(index=False, float_format=lambda v: f"{v:.4f}")
        )
        template = self._pipeline(next(iter(self.grid_.values()))["model"][0])
        self.model_ = self._timed(
            "refit", lambda: clone(template).set_params(**params[chosen]).fit(self.data, self.y)
        )

    def _strategy_grid(self):
        return strategy_grid(
            self.task,
            self.strategies,
            views=list(self.views),
            max_epochs=self.max_epochs,
            early_stopping=self.early_stopping,
            random_state=self.random_state,
        )

    def _pipeline(self, model):
        # memory: the feature stage is fitted once per fold and read back for every candidate
        return Pipeline([("features", self.union(progress=False)), ("model", model)], memory=self._fold_cache)

    @property
    def _fold_cache(self):
        return str(self.out / "cache" / "folds")

    def _grid_search(self, grid, cv, refit=True):
        names = candidate_strategies(grid, list(ParameterGrid(list(grid.values()))))
        if refit and self.choose == "one-se":

            def refit(results):
                return one_se_index(results, names)

        elif refit:
            refit = "score"
        return GridSearchCV(
            self._pipeline(next(iter(grid.values()))["model"][0]),
            list(grid.values()),
            scoring=self._scoring(),
            refit=refit,
            cv=cv,
            n_jobs=self.n_jobs,
            error_score=np.nan,
        )

    def save_model(self):
        """Write the chosen model (refit on every row) with its metadata."""
        from .. import persist

        self.model_.set_params(memory=None)
        uncached(self.model_.named_steps["features"])
        final = self.model_.named_steps["model"]
        self.meta_ = {
            "target": str(self.target),
            "task": self.task,
            "modalities": {str(k): v for k, v in self.modalities.items()},
            "classes": [str(c) for c in final.classes_] if hasattr(final, "classes_") else None,
            "id": None if self.ids is None else str(self.ids.name),
        }
        persist.save({"model": self.model_, "meta": self.meta_}, self.out / MODEL_FILE)
        self.outputs["model"] = MODEL_FILE

    def cross_validated_predictions(self):
        """Out-of-fold predictions (and class probabilities) of the chosen candidate."""
        frame = pd.DataFrame({"row": self.table.index, "y_true": self.y.to_numpy()})
        if self.ids is not None:
            frame.insert(1, str(self.ids.name), self.ids.to_numpy())
        estimator = self._chosen()
        kwargs = dict(cv=self.splitter, groups=self.group_values)
        if self.task == "classification" and hasattr(estimator, "predict_proba"):
            proba = cross_val_predict(estimator, self.data, self.y, method="predict_proba", **kwargs)
            classes = np.unique(self.y)
            frame["y_pred"] = classes[proba.argmax(axis=1)]
            for j, c in enumerate(classes):
                frame[f"proba_{c}"] = proba[:, j]
        else:
            frame["y_pred"] = cross_val_predict(estimator, self.data, self.y, **kwargs)
        write_csv(self.out / PREDICTIONS_FILE, frame, index=False)
        self.outputs["cv_predictions"] = PREDICTIONS_FILE

    def ablation(self):
        """The chosen model with each view alone and left out, scored on the rows that have them."""
        from ..model_selection import ablation_settings

        columns = ["setting", "views", "rows", "mean_score", "std_score", "delta"]
        views = self.views
        final = self.model_.named_steps["model"]
        if len(views) < 2 or simplicity(self._chosen_strategy()) < 2:
            table = pd.DataFrame(columns=columns)
        else:
            missing = self.missing_
            rows = []
            for label, used in ablation_settings(list(views)):
                kept = [c for v in used for c in views[v]]
                pipe = Pipeline([("features", self.union(kept, progress=False)), ("model", clone(final))])
                usable = ~np.logical_and.reduce([missing[v] for v in used])
                groups = self.group_values
                scores = cross_val_score(
                    pipe,
                    self.data.loc[usable, kept],
                    self.y[usable],
                    groups=None if groups is None else groups[usable],
                    cv=self.splitter,
                    scoring=self.metric_name,
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
        self.ablation_ = table
        write_csv(self.out / ABLATION_FILE, table, index=False)
        self.outputs["ablation"] = ABLATION_FILE

    def modality_weights(self):
        """Mean attention/gate weight of each view (per class) when the chosen net has them."""
        final = self.model_.named_steps["model"]
        path = self.out / WEIGHTS_FILE
        if getattr(final, "fusion", None) not in ("attention", "gated", "late", "hybrid"):
            path.unlink(missing_ok=True)
            return
        w = final.modality_weights(self.model_.named_steps["features"].transform(self.data))
        if self.task == "classification":
            w = w.groupby(self.y.to_numpy()).mean()
        else:
            w = w.mean().to_frame("all").T
        write_csv(path, w, index_label="group")
        self.outputs["modality_weights"] = WEIGHTS_FILE

    def nested_estimate(self):
        """The whole choice (search, then refit) scored on folds it never saw: nested cross-validation.

        Outer folds: the run's own splitter on tables up to 1000 rows, three
        folds beyond. The interval is the outer scores' mean plus or minus a
        t quantile times their standard error.
        """
        from scipy import stats

        if not self.nested:
            self.nested_ = None
            return
        n_outer = self.cv if len(self.table) <= _NESTED_LARGE else min(self.cv, 3)
        outer = splitter(self.task, n_outer, self.groups, self.random_state + 1)
        inner_cv = splitter(self.task, max(2, min(self.cv, 3)), self.groups, self.random_state)
        scorer = check_scoring(self.model_, scoring=self.metric_name)
        scores, chosen = [], []
        groups = self.group_values
        for train, test in outer.split(self.data, self.y, groups):
            grid = self._strategy_grid()  # fresh estimators for every outer fold
            search = self._grid_search(grid, inner_cv)
            search.fit(
                self.data.iloc[train], self.y.iloc[train], groups=None if groups is None else groups[train]
            )
            chosen.append(candidate_strategies(grid, [search.cv_results_["params"][search.best_index_]])[0])
            scores.append(float(scorer(search.best_estimator_, self.data.iloc[test], self.y.iloc[test])))
        scores = np.asarray(scores)
        k = len(scores)
        sem = scores.std(ddof=1) / np.sqrt(k) if k > 1 else float("nan")
        half = stats.t.ppf(0.975, k - 1) * sem if k > 1 else float("nan")
        self.nested_ = {
            "metric": self.metric_name,
            "outer_folds": k,
            "scores": [round(float(s), 4) for s in scores],
            "chosen": chosen,
            "mean": float(scores.mean()),
            "ci_low": float(scores.mean() - half),
            "ci_high": float(scores.mean() + half),
        }
        self.say(
            f"Nested estimate of the whole choice ({k} outer folds): {self.metric_name} "
            f"{scores.mean():.4f}, 95% interval [{self.nested_['ci_low']:.4f}, {self.nested_['ci_high']:.4f}]"
        )

    def _chosen_strategy(self):
        return self.leaderboard_.loc[self.leaderboard_["chosen"], "strategy"].iloc[0]

    # ------------------------------------------------------------------ summary
    def _simpler_within_one_se(self):
        """Simpler candidates whose mean score is within one standard error of the chosen one's."""
        board = self.leaderboard_
        chosen = board[board["chosen"]].iloc[0]
        near = board[
            (board["mean_score"] >= chosen["mean_score"] - chosen["sem_score"])
            & (board["strategy"].map(simplicity) < simplicity(chosen["strategy"]))
        ]
        return near["strategy"].drop_duplicates().tolist()

    def summary(self):
        board = self.leaderboard_
        chosen = board[board["chosen"]].iloc[0]
        baseline = board[board["strategy"] == "baseline"]["mean_score"].max()
        singles = board[board["strategy"].str.startswith("only ")]
        best_single = singles.loc[singles["mean_score"].idxmax()] if len(singles) else None
        return {
            **self.meta_,
            "status": PARTIAL if self.failures else COMPLETE,
            "fingerprint": self.fingerprint,
            "done": self.done,
            "table": self.source,
            "rows": int(len(self.table)),
            "rows_without_target": self.dropped,
            "rows_without_any_view": self.rows_without_any_view,
            "groups": self.groups,
            "cv": f"{type(self.splitter).__name__}(n_splits={self.cv})",
            "metric": self.metric_name,
            "choose": self.choose,
            "text_features": self.text_features if "text" in self.modalities.values() else None,
            "encoders": dict(self.encoders or {}),
            "detection": self.detection.to_dict(orient="records"),
            "views": self._view_counts(),
            "unreadable": self.unreadable.astype({"row": str}).to_dict(orient="records"),
            "on_error": self.on_error,
            "n_features": int(self.features_.shape[1]),
            "best": {
                "strategy": chosen["strategy"],
                "params": chosen["params"],
                "mean_score": float(chosen["mean_score"]),
                "sem_score": float(chosen["sem_score"]),
            },
            "baseline_score": float(baseline),
            "best_single": None
            if best_single is None
            else {"strategy": best_single["strategy"], "mean_score": float(best_single["mean_score"])},
            "simpler_within_one_se": self._simpler_within_one_se(),
            "skipped": getattr(self, "skipped_", []),
            "failed_strategies": getattr(self, "failed_strategies_", []),
            "time_limit": self.time_limit,
            "nested": getattr(self, "nested_", None),
            "failures": self.failures,
            "outputs": self.outputs,
            "seconds": {**self.seconds, "total": round(time.perf_counter() - self.started, 2)},
            "versions": _versions(),
        }

    def _view_counts(self):
        missing = self.missing_
        rows = []
        for view, columns in self.views.items():
            kind = self.modalities[columns[0]]
            raw = self.data[columns].isna() if kind != "text" else self.data[columns].eq("")
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

    def finish(self):
        """Write summary.json and the report; a failing report is recorded like any explanation."""
        from ..report import write_report

        write_json(self.out / SUMMARY_FILE, self.summary())
        self._explain("report", lambda: write_report(self.out))
        summary = self.summary()
        write_json(self.out / SUMMARY_FILE, summary)
        best = summary["best"]
        self.say(
            f"Chosen: {best['strategy']} {best['params']} ({self.metric_name} {best['mean_score']:.4f}). "
            f"Model: {self.out / MODEL_FILE}; report: {self.out / 'report.html'}"
            + (f". PARTIAL: {len(self.failures)} step(s) failed, see summary.json." if self.failures else "")
        )
        self.summary_ = summary
        return summary["status"]


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
