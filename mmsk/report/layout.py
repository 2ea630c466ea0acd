"""What a ``mmsk fit`` output folder holds: its file names, and reading its model back.

The run (:func:`mmsk.auto.fit_table`) writes these files and the report
(:func:`mmsk.report.write_report`) reads them; both take the names from here.
"""

from pathlib import Path

__all__ = [
    "ABLATION_FILE",
    "LEADERBOARD_FILE",
    "MODEL_FILE",
    "PREDICTIONS_FILE",
    "REPORT_FILE",
    "SEARCH_FILE",
    "SUMMARY_FILE",
    "UNREADABLE_FILE",
    "WEIGHTS_FILE",
    "load_model",
]

MODEL_FILE = "model.skops"
SUMMARY_FILE = "summary.json"
LEADERBOARD_FILE = "leaderboard.csv"
PREDICTIONS_FILE = "cv_predictions.csv"
ABLATION_FILE = "ablation.csv"
WEIGHTS_FILE = "modality_weights.csv"
REPORT_FILE = "report.html"
#: The search's stored arrays: out-of-fold predictions (also with each view masked), folds, split scores.
SEARCH_FILE = "search.npz"
UNREADABLE_FILE = "unreadable.csv"


def load_model(path):
    """The fitted pipeline and its metadata saved by ``mmsk fit``.

    Parameters
    ----------
    path : str or path-like
        The model file, or the output folder of ``mmsk fit``.

    Returns
    -------
    model : Pipeline
        The fitted feature stage and model.
    meta : dict
        Target, task, modalities and classes of the run.

    Raises
    ------
    ValueError
        If the file is not a model saved by ``mmsk fit``.
    """
    from .. import persist

    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    bundle = persist.load(path)
    if not isinstance(bundle, dict) or set(bundle) != {"model", "meta"}:
        raise ValueError(f"{str(path)!r} is not a model saved by mmsk fit")
    return bundle["model"], bundle["meta"]
