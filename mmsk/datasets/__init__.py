"""Real multimodal data sets, the bundled demo subset, and a synthetic generator."""

from ._base import bundled_data_home, get_data_home
from ._real import (
    load_av_digits,
    load_coco_mini,
    load_mfeat,
    load_pom,
    train_test_split_by_speaker,
)
from ._synthetic import make_event_timing, make_multimodal_classification

__all__ = [
    "bundled_data_home",
    "get_data_home",
    "load_av_digits",
    "load_coco_mini",
    "load_mfeat",
    "load_pom",
    "make_event_timing",
    "make_multimodal_classification",
    "train_test_split_by_speaker",
]
