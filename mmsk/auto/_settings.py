"""The settings of a ``mmsk fit`` run: one frozen, validated object, listed once.

The command line builds its options from these fields (their ``metadata``),
:func:`~mmsk.auto.fit_table` takes them as keywords, and the run reads them; a
new setting is a new field here and nowhere else.
"""

from dataclasses import asdict, dataclass, field, fields

#: Settings that change how a run goes, not what it computes (left out of its fingerprint).
RUN_ONLY = ("n_jobs", "dask", "progress", "cache")


def _opt(default, help, *, flag=None, **cli):
    """A field with its command-line option: ``help``, the flag (default ``--name``), argparse keywords."""
    return field(default=default, metadata={"help": help, "flag": flag, "cli": cli})


def _fixed(default, help):
    """A field the command line sets its own way (columns, views, encoders) or not at all."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class FitSettings:
    """Everything a ``mmsk fit`` run is told, checked once.

    Parameters
    ----------
    target : str
        The column to predict. Rows where it is missing are left out (and counted).
    modalities : mapping of str to str, default=None
        Column to modality for the columns you name; the other columns are
        detected (:func:`~mmsk.auto.detect_modalities`) unless ``only_named``.
    views : mapping of str to str, default=None
        Named views of numeric columns: view name to a glob pattern or a
        prefix (``{"covarep": "covarep_*"}``). Numeric columns named
        ``<view>__<feature>`` form their view without it.
    only_named : bool, default=False
        Use only the columns in ``modalities`` and ``views``.
    drop : sequence of str, default=()
        Columns to leave out.
    id : str, default=None
        A column identifying rows, carried into every prediction file.
    base_dir : str, default=None
        Folder relative file paths start from (default: the table's folder).
    groups : str, default=None
        A column of groups: folds keep each group whole, and the bootstrap
        estimate resamples whole groups.
    strategies : sequence of str, default=None
        Fusion strategies (see :func:`~mmsk.auto.strategy_grid`); the
        baseline and each modality alone are always compared too.
    cv : int, default=5
    task : {"auto", "classification", "regression"}, default="auto"
    metric : str, default=None
        A scikit-learn scorer name; None: accuracy or R².
    choose : {"best", "one-se"}, default="best"
        The best candidate, unless it beats the baseline by no more than its
        standard error (then the baseline: nothing was found in the data);
        or the simplest candidate within one standard error of the best.
    estimate : {"bbc", "nested", "none"}, default="bbc"
        How the whole choice is estimated: the bootstrap of the stored
        out-of-fold predictions (no refit), nested cross-validation (the
        search repeated in outer folds), or not at all.
    importance : {"mask", "refit"}, default="mask"
        Modality importance: the chosen model's held-out score with each
        view made missing at predict time (no refit), or the refit ablation
        (each view alone and left out, cross-validated again).
    prune : bool, default=True
        Stop spending folds on candidates that cannot win.
    ensemble : bool, default=True
        Build the greedy ensemble of the candidates; it is chosen when its
        bootstrap estimate beats the best candidate's.
    time_limit : float, default=None
        Seconds of search after which no further fusion strategy starts.
    text_features : {"auto", "tfidf", "sentence"}, default="auto"
    encoders : mapping of str to str, default=None
        A pretrained Hugging Face model per modality (``"image"``,
        ``"audio"``, ``"text"``) in place of the classical features.
    on_error : {"raise", "nan"}, default="raise"
    max_epochs : int, default=60
    n_jobs : int, default=None
        Parallel (candidate, fold) fits, and the ensemble's members refit
        side by side. None: every core (``-1``) on tables of at least
        ``PARALLEL_MIN_ROWS`` (1000) rows, where the fits outweigh starting
        the worker processes, else one; under ``dask``, every worker.
    dask : str, default=None
        Address of a Dask scheduler (or a scheduler file) whose workers run the fits.
    cache : str, default=None
        The feature cache folder (default: ``cache`` in the output folder).
        Runs into other output folders that name the same one extract each
        file once between them: its entries are keyed by the file (path,
        size, modification time) and the extractor's settings.
    progress : bool, default=True
    random_state : int, default=0

    Examples
    --------
    >>> from mmsk.auto import FitSettings
    >>> FitSettings(target="digit", cv=3).estimate
    'bbc'
    >>> FitSettings(target="digit", choose="worst")
    Traceback (most recent call last):
    ...
    ValueError: choose must be one of ['best', 'one-se']; got 'worst'
    """

    target: str = _fixed(None, "Column to predict.")
    modalities: dict = _fixed(None, "Column to modality for the named columns.")
    views: dict = _fixed(None, "Named views of numeric columns (NAME=PATTERN).")
    only_named: bool = _opt(False, "Use only the named columns.", action="store_true")
    drop: tuple = _opt((), "Columns to leave out.", nargs="+", metavar="COL")
    id: str = _opt(None, "Row identifier, carried into the predictions.", metavar="COL")
    base_dir: str = _fixed(None, "Folder relative file paths start from.")
    groups: str = _opt(None, "Folds keep each group whole.", metavar="COL")
    strategies: tuple = _opt(
        None,
        "Among early, gbm, forest, late, stacking, mkl, cca, deep, temporal (default: all that apply).",
        nargs="+",
    )
    cv: int = _opt(5, "Cross-validation folds (default 5).", type=int)
    task: str = _opt("auto", "Classification or regression (auto: from the target).",
                     choices=("auto", "classification", "regression"))  # fmt: skip
    metric: str = _opt(None, "A scikit-learn scorer name (default: accuracy, or R^2 for regression).")
    choose: str = _opt("best", "best: the best candidate, or the baseline when the best beats it by no more "
                       "than one standard error or the estimate scores it as high; one-se: the simplest "
                       "candidate within one standard error of the best.",
                       choices=("best", "one-se"))  # fmt: skip
    estimate: str = _opt(
        "bbc",
        "Estimate of the whole choice: bootstrap of the stored out-of-fold predictions (bbc, no refit), "
        "nested cross-validation (nested), or none.",
        choices=("bbc", "nested", "none"),
    )
    importance: str = _opt(
        "mask",
        "Modality importance: score with each view made missing at predict time (mask, no refit), or "
        "refit with each view alone and left out (refit).",
        choices=("mask", "refit"),
    )
    prune: bool = _opt(True, "Run every fold of every candidate (no early dropping).", flag="--no-prune",
                       action="store_false")  # fmt: skip
    ensemble: bool = _opt(True, "No ensemble of the candidates.", flag="--no-ensemble", action="store_false")
    time_limit: float = _opt(
        None,
        "Past this many seconds of search no further fusion strategy starts (the baseline and each "
        "modality alone always run).",
        type=float,
        metavar="SECONDS",
    )
    text_features: str = _opt("auto", "Text representation of the fusion strategies.",
                              choices=("auto", "tfidf", "sentence"))  # fmt: skip
    encoders: dict = _fixed(None, "A pretrained model per modality.")
    on_error: str = _opt(
        "raise", "Unreadable files: stop with their list (raise) or treat them as missing (nan).",
        choices=("raise", "nan"),
    )  # fmt: skip
    max_epochs: int = _opt(60, "Epochs of the deep fusion nets.", flag="--epochs", type=int)
    n_jobs: int = _opt(None, "Parallel fits in the search (default: every core from 1000 rows).", type=int)
    dask: str = _opt(None, "A Dask scheduler address (tcp://host:8786) or scheduler file whose workers run "
                     "the fits.", metavar="ADDRESS")  # fmt: skip
    cache: str = _opt(None, "Feature cache folder, which runs into other output folders may share "
                      "(default: OUT/cache).", metavar="DIR")  # fmt: skip
    progress: bool = _opt(True, "No progress bars.", flag="--no-progress", action="store_false")
    random_state: int = _opt(0, "Seed of the folds, the models and the bootstrap.", type=int)

    def __post_init__(self):
        choices = {f.name: f.metadata.get("cli", {}).get("choices") for f in fields(self)}
        for name, allowed in choices.items():
            if allowed is not None and getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {list(allowed)}; got {getattr(self, name)!r}")
        if self.target is None:
            raise ValueError("target is required: the column to predict")
        if not isinstance(self.cv, int) or self.cv < 2:
            raise ValueError(f"cv must be an integer of at least 2; got {self.cv!r}")
        if self.metric is not None:
            from sklearn.metrics import get_scorer

            get_scorer(self.metric)  # an unknown name fails here, before any work, listing the valid ones
        for name in ("drop", "strategies"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, None if value is None else tuple(value))
        for name in ("modalities", "views", "encoders"):
            object.__setattr__(self, name, dict(getattr(self, name) or {}))

    def computed(self):
        """The settings that decide what the run computes (its fingerprint's part)."""
        return {k: v for k, v in asdict(self).items() if k not in RUN_ONLY}
