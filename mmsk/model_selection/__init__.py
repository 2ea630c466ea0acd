"""Choosing among fusion strategies: a tidy leaderboard of a search, and per-modality ablation."""

from ._ablation import ablation_settings, modality_ablation
from ._leaderboard import fusion_leaderboard

__all__ = ["ablation_settings", "fusion_leaderboard", "modality_ablation"]
