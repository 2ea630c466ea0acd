"""Build the feature stage of a multimodal pipeline: raw columns to view-prefixed features."""

from ._temporal import SequenceScaler, TemporalPooling
from ._union import ModalityUnion, make_modality_union

__all__ = ["ModalityUnion", "SequenceScaler", "TemporalPooling", "make_modality_union"]
