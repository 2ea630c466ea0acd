"""From a table of files, text and numbers to a fitted multimodal model: what ``mmsk fit`` runs.

:func:`detect_modalities` reads each column's modality from its dtype and
values; :func:`make_feature_union` builds the feature stage;
:func:`strategy_grid` the candidates of the search; :class:`FitSettings`
every setting of a run; :func:`fit_table` runs it all and writes a model, a leaderboard and a report
(:func:`prepare_run` gives the :class:`FitRun` it runs, before any step);
:func:`predict_table` applies a saved model to new rows.
"""

from ._detect import MODALITIES, detect_modalities, prepare_table, sequence_views, view_names
from ._fit import UnreadableFilesError, fit_table, load_model, predict_table, prepare_run, read_table
from ._presets import make_feature_union
from ._run import FitRun, feature_stages
from ._settings import FitSettings
from ._strategies import strategy_grid

__all__ = [
    "FitRun",
    "FitSettings",
    "MODALITIES",
    "UnreadableFilesError",
    "detect_modalities",
    "feature_stages",
    "fit_table",
    "load_model",
    "make_feature_union",
    "predict_table",
    "prepare_run",
    "prepare_table",
    "read_table",
    "sequence_views",
    "strategy_grid",
    "view_names",
]
