"""Choosing among fusion strategies: one search that keeps every prediction, its estimate and ensemble,
a tidy leaderboard, and per-modality ablation."""

from ._ablation import ablation_settings, modality_ablation
from ._bootstrap import RowScores, bootstrap_weights, greedy_ensemble, one_se_choice
from ._leaderboard import fusion_leaderboard
from ._search import StrategySearchCV, nested_estimate
from ._voting import EnsembleClassifier, EnsembleRegressor

__all__ = [
    "EnsembleClassifier",
    "EnsembleRegressor",
    "RowScores",
    "StrategySearchCV",
    "ablation_settings",
    "bootstrap_weights",
    "fusion_leaderboard",
    "greedy_ensemble",
    "modality_ablation",
    "nested_estimate",
    "one_se_choice",
]
