"""Extractors: a column of recordings, images, videos or texts to a block of features."""

from ._audio import AudioFeatures
from ._base import ExtractionError, ExtractionWarning
from ._image import ImageFeatures
from ._text import SentenceEmbedder, TfidfFeatures
from ._torch import ImageToTensor, PadCrop, TorchEncoder
from ._video import VideoFeatures

__all__ = [
    "AudioFeatures",
    "ExtractionError",
    "ExtractionWarning",
    "ImageFeatures",
    "ImageToTensor",
    "PadCrop",
    "SentenceEmbedder",
    "TfidfFeatures",
    "TorchEncoder",
    "VideoFeatures",
]
