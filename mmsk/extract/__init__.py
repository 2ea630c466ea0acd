"""Extractors: a column of recordings, images or arrays to a block of features."""

from ._audio import AudioFeatures
from ._base import ExtractionError, ExtractionWarning
from ._image import ImageFeatures

__all__ = ["AudioFeatures", "ExtractionError", "ExtractionWarning", "ImageFeatures"]
