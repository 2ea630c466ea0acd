"""Embed images, audio or arrays with any torch module: ``TorchEncoder`` and its preprocessing."""

import copy
import os
from numbers import Integral

import numpy as np

from ..utils._compat import HasMethods, Interval, StrOptions
from ..utils._device import resolve_device
from ..utils._docs import fill_doc
from ._base import EXTRACTOR_DOCS, BaseExtractor


class ImageToTensor:
    """Preprocessing for image encoders: resize, scale to [0, 1], normalise, channels first.

    A picklable callable for :class:`TorchEncoder`'s ``preprocess``: it takes
    a decoded image (H x W grayscale or H x W x 3 RGB, uint8) and returns a
    float32 array of shape (channels, height, width).

    Parameters
    ----------
    size : tuple of int, default=(224, 224)
        (height, width) after resizing (OpenCV, area interpolation when
        shrinking).
    mean, std : tuple of float, default=None
        Per-channel normalisation after scaling to [0, 1] (e.g. ImageNet's
        ``(0.485, 0.456, 0.406)`` and ``(0.229, 0.224, 0.225)``); None skips it.
    grayscale : bool, default=False
        Give one channel instead of three.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.extract import ImageToTensor
    >>> ImageToTensor(size=(32, 32))(np.zeros((8, 8), dtype=np.uint8)).shape
    (3, 32, 32)
    """

    def __init__(self, size=(224, 224), mean=None, std=None, grayscale=False):
        self.size = size
        self.mean = mean
        self.std = std
        self.grayscale = grayscale

    def __call__(self, img):
        import cv2

        img = np.asarray(img)
        h, w = self.size
        interp = cv2.INTER_AREA if img.shape[0] > h or img.shape[1] > w else cv2.INTER_LINEAR
        img = cv2.resize(img, (w, h), interpolation=interp)
        if self.grayscale and img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        elif not self.grayscale and img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        x = img.astype(np.float32) / 255.0
        x = x[np.newaxis] if x.ndim == 2 else np.transpose(x, (2, 0, 1))
        if self.mean is not None:
            x = x - np.asarray(self.mean, dtype=np.float32).reshape(-1, 1, 1)
        if self.std is not None:
            x = x / np.asarray(self.std, dtype=np.float32).reshape(-1, 1, 1)
        return np.ascontiguousarray(x)

    def __repr__(self):
        return (
            f"ImageToTensor(size={tuple(self.size)}, mean={self.mean}, std={self.std}, "
            f"grayscale={self.grayscale})"
        )


class PadCrop:
    """Preprocessing for audio encoders: a waveform padded with zeros or cropped to a fixed length.

    Parameters
    ----------
    length : int
        Samples kept (at the encoder's ``sr``).

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.extract import PadCrop
    >>> PadCrop(4)(np.ones(2)).tolist()
    [1.0, 1.0, 0.0, 0.0]
    """

    def __init__(self, length):
        self.length = length

    def __call__(self, wave):
        wave = np.asarray(wave, dtype=np.float32).ravel()
        out = np.zeros(self.length, dtype=np.float32)
        out[: min(self.length, wave.size)] = wave[: self.length]
        return out

    def __repr__(self):
        return f"PadCrop({self.length})"


class TorchEncoder(BaseExtractor):
    """Embeddings of images, recordings or arrays from any torch module.

    Each item is read (``reader``), preprocessed into one sample array
    (``preprocess``), and batches of samples go through ``module`` in eval
    mode with gradients off; the output of each sample is flattened into
    one feature row. No pretrained image encoder ships offline, so the module
    is yours: an ``nn.Module`` object, optionally with a local weights file
    (a ``state_dict`` saved by ``torch.save``, loaded with
    ``weights_only=True``).

    Parameters
    ----------
    module : torch.nn.Module
        The encoder. It is deep-copied at fit (the parameter is never
        changed) and called on a float32 batch of shape ``(batch, *sample)``;
        a tuple output uses its first element.
    weights : str or path-like, default=None
        A local ``state_dict`` file to load into the copy at fit.
    reader : {"image", "audio", "array"}, default="image"
        How items are read: ``"image"`` decodes paths, bytes and arrays as
        :class:`ImageFeatures` does (RGB or grayscale uint8); ``"audio"``
        reads recordings as :class:`AudioFeatures` does (mono, resampled to
        ``sr``); ``"array"`` takes numeric arrays (or numeric rows of X) as
        they are.
    preprocess : callable, default=None
        Maps one decoded item to one sample array (e.g.
        :class:`ImageToTensor`, :class:`PadCrop`, or your own picklable
        function). None: images become (channels, height, width) floats in
        [0, 1], other items float32 arrays as read. Samples of a batch must
        have one shape.
    sr : int, default=16000
        Sample rate for ``reader="audio"``.
    batch_size : int, default=32
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
    on_error : {"raise", "nan"}, default="raise"
        ``"raise"``: an unreadable item raises an error naming the row, the
        column and the file. ``"nan"``: it becomes a missing (all-NaN) row and
        one warning lists the failures.
    n_jobs : int, default=None
        Batches read and encoded at once, in threads; None means 1.
    progress : bool, default=False
        Show a progress bar (tqdm).
    cache : str or path-like, default=None
        Folder of an on-disk feature cache keyed by item, parameters and the
        module's weights; see :class:`AudioFeatures`.

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted copy of the module, on ``device_``, in eval mode.
    device_ : str
        The torch device used.
    n_outputs_ : int
        Length of the embedding of one item.
    feature_names_out_ : ndarray of str
        ``enc_0``, ``enc_1``, ...
    %(extractor_attributes)s

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import load_digits
    >>> from mmsk.extract import ImageToTensor, TorchEncoder
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(
    ...     torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2)
    ... )
    >>> enc = TorchEncoder(net, preprocess=ImageToTensor((16, 16), grayscale=True))
    >>> images = list(load_digits().images[:10])
    >>> enc.fit_transform(images).shape
    (10, 16)
    """

    _kind = "item"
    _batched = True
    _cache_ignore = ("module",)

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "module": [HasMethods(["forward", "state_dict"])],
        "weights": [str, os.PathLike, None],
        "reader": [StrOptions({"image", "audio", "array"})],
        "preprocess": [callable, None],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
    }

    def __init__(
        self,
        module,
        *,
        weights=None,
        reader="image",
        preprocess=None,
        sr=16000,
        batch_size=32,
        device="cpu",
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.module = module
        self.weights = weights
        self.reader = reader
        self.preprocess = preprocess
        self.sr = sr
        self.batch_size = batch_size
        self.device = device
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    # ------------------------------------------------------------------ reading
    def _reader(self):
        from ._audio import AudioFeatures
        from ._image import ImageFeatures

        if self.reader == "image":
            return ImageFeatures()._load
        if self.reader == "audio":
            return AudioFeatures(sr=self.sr, max_duration=None)._load
        return None

    def _load(self, item):
        read = self._reader()
        if read is None:
            obj = np.asarray(item)
            if obj.dtype == object or obj.dtype.kind not in "biuf":
                raise TypeError(f"expected a numeric array; got {type(item).__name__}")
        else:
            obj = read(item)
        if self.preprocess is not None:
            return np.asarray(self.preprocess(obj), dtype=np.float32)
        if self.reader == "image":
            x = np.asarray(obj, dtype=np.float32) / 255.0
            return x[np.newaxis] if x.ndim == 2 else np.transpose(x, (2, 0, 1))
        return np.asarray(obj, dtype=np.float32)

    # ------------------------------------------------------------------ fit
    def _fit_items(self, items, column, labels):
        import torch

        self.device_ = resolve_device(self.device)
        module = copy.deepcopy(self.module)
        if self.weights is not None:
            path = os.fspath(self.weights)
            if not os.path.isfile(path):
                raise ValueError(f"TorchEncoder: weights file {path!r} does not exist.")
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:  # noqa: BLE001
                raise ValueError(
                    f"TorchEncoder: could not load {path!r} as a state_dict with weights_only=True "
                    f"(only tensors are loaded, never pickled code): {exc}"
                ) from None
            module.load_state_dict(state)
        self.module_ = module.to(self.device_).eval()
        # the embedding length: run the first readable training item
        first = None
        for i, item in enumerate(items):
            if self._is_missing(item):
                continue
            try:
                first = self._load(item)
            except Exception as exc:  # noqa: BLE001
                if self.on_error == "raise":
                    raise self._item_error(exc, i, items, column, labels) from exc
                continue
            break
        if first is None:
            raise ValueError("TorchEncoder: no readable item in the training data to size the output.")
        self.n_outputs_ = int(self._encode(first[np.newaxis]).shape[1])

    def _fitted_state_for_cache(self):
        state = {k: v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()}
        return (repr(self.module_), state)

    def _names(self):
        return [f"enc_{i}" for i in range(self.n_outputs_)]

    # ------------------------------------------------------------------ work
    def _encode(self, batch):
        import torch

        with torch.inference_mode():
            out = self.module_(torch.as_tensor(batch, dtype=torch.float32, device=self.device_))
            if isinstance(out, (tuple, list)):
                out = out[0]
            return out.reshape(out.shape[0], -1).detach().cpu().numpy().astype(np.float64)

    def _features_batch(self, samples):
        shapes = {s.shape for s in samples}
        if len(shapes) > 1:
            raise ValueError(
                f"items of one batch have different shapes after preprocessing {sorted(shapes)}; "
                f"give a preprocess that makes them equal (e.g. ImageToTensor(size=...), PadCrop)"
            )
        return list(self._encode(np.stack(samples)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


fill_doc(TorchEncoder, EXTRACTOR_DOCS)
