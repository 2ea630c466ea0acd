"""Extractors: a column of recordings, images, videos or texts to a block of features."""

from ._audio import AudioFeatures
from ._base import ExtractionError, ExtractionWarning
from ._image import ImageFeatures
from ._pretrained import AudioEmbedder, ClipEmbedder, ImageEmbedder, TextEmbedder
from ._text import SentenceEmbedder, TfidfFeatures
from ._torch import ImageToTensor, PadCrop, TorchEncoder
from ._video import VideoFeatures

__all__ = [
    "AudioEmbedder",
    "AudioFeatures",
    "ClipEmbedder",
    "ExtractionError",
    "ExtractionWarning",
    "ImageEmbedder",
    "ImageFeatures",
    "ImageToTensor",
    "PadCrop",
    "SentenceEmbedder",
    "TextEmbedder",
    "TfidfFeatures",
    "TorchEncoder",
    "VideoFeatures",
]
