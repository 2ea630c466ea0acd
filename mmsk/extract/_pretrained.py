"""Pretrained Hugging Face encoders as extractors: images, audio, text, and CLIP-style joint models.

Each embedder loads ``transformers.AutoModel`` and the model's own processor
(image processor, feature extractor or tokenizer) from a local folder or a hub
name, lazily: the loaded model is never pickled with the estimator, which
stores the reference and a digest of the weights, reloads the model when
needed and refuses one that is gone or has changed.
"""

import hashlib
import os
from numbers import Integral, Real

import numpy as np

from ..utils._compat import Interval, StrOptions
from ..utils._device import resolve_device
from ..utils._docs import fill_doc
from ._audio import AudioFeatures
from ._base import EXTRACTOR_DOCS, BaseExtractor
from ._image import ImageFeatures
from ._loaded import load_once
from ._text import _TextExtractor

_TRUE = {"1", "true", "yes", "on"}

#: Recordings shorter than this (seconds) are padded with silence for AudioEmbedder.
_MIN_SECONDS = 0.1


def _offline():
    """True when ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` forbids Hugging Face downloads."""
    return any(
        os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _looks_like_path(ref):
    """A reference that can only be a folder (absolute, from ``.`` or ``~``, or deeper than org/name)."""
    return (
        os.path.isabs(ref)
        or ref.startswith((".", "~"))
        or ref.count("/") > 1
        or os.sep != "/"
        and os.sep in ref
    )


def _unavailable(ref, cls, exc):
    return OSError(
        f"{cls}: the model {ref!r} is not available on this machine ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0][:200]}). mmsk never downloads at run time unless Hugging Face may: "
        f"download it once where there is a network, e.g. `huggingface-cli download {ref}` (it lands in "
        f"the Hugging Face cache) or `AutoModel.from_pretrained({ref!r}).save_pretrained(FOLDER)` with "
        f"its processor, and pass model=FOLDER."
    )


def load_pretrained(ref, loaders, cls, check=None):
    """Load ``loaders`` (``from_pretrained`` callables, the model's first) from a folder or a hub name.

    A folder is read as it is. A hub name is read from the Hugging Face cache,
    and fetched only when the environment allows it (neither ``HF_HUB_OFFLINE``
    nor ``TRANSFORMERS_OFFLINE`` is set). Whatever cannot be found raises an
    error naming the model and saying how to make it available. ``check``, if
    given, is called on the model before its processors are loaded.

    Returns
    -------
    ref : str
        The absolute folder, or the hub name.
    loaded : list
        One object per loader.
    """
    ref = os.path.expanduser(os.fspath(ref))
    if os.path.isdir(ref):
        ref = os.path.abspath(ref)
        local_only = True
    elif _looks_like_path(ref):
        raise FileNotFoundError(
            f"{cls}: model={ref!r} is not a folder. Give the folder of a Hugging Face model saved with "
            f"save_pretrained (with its processor or tokenizer), or a hub name such as "
            f"'openai/clip-vit-base-patch32'."
        )
    else:
        local_only = _offline()
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        loaded = []
        for j, load in enumerate(loaders):
            attempts = [True] if local_only else [True, False]
            for i, only in enumerate(attempts):
                try:
                    loaded.append(load(ref, local_files_only=only))
                    break
                except (OSError, ValueError) as exc:  # not cached, not fetchable, or not that kind of folder
                    if i < len(attempts) - 1:
                        continue
                    if j == 0:
                        raise _unavailable(ref, cls, exc) from None
                    raise OSError(
                        f"{cls}: {ref!r} holds a model but no {load.__self__.__name__} could be loaded "
                        f"from it ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); save the "
                        f"model's processor or tokenizer beside it with save_pretrained."
                    ) from None
            if j == 0 and check is not None:
                check(loaded[0])
        return ref, loaded
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()


def weights_digest(model):
    """A digest of a model's configuration and weights (names, shapes and sums of every tensor)."""
    import torch

    h = hashlib.sha1(model.config.to_json_string(use_diff=False).encode())
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            h.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
            if tensor.is_floating_point():
                h.update(f"{float(tensor.double().sum()):.10e}".encode())
    return h.hexdigest()


def _features_out(out):
    """A tensor from ``get_*_features``: transformers 5 returns a model output, earlier versions a tensor."""
    return out if hasattr(out, "dim") else out.pooler_output


_COMMON = """model : str or path-like
        A folder holding a Hugging Face model saved with ``save_pretrained``
        and its processor (or tokenizer), or a hub name such as
        ``"facebook/dinov2-small"``. A hub name is read from the Hugging Face
        cache, and fetched only when downloads are allowed (neither
        ``HF_HUB_OFFLINE`` nor ``TRANSFORMERS_OFFLINE`` is set); a model that
        cannot be found raises an error saying how to make it available.
    batch_size : int, default=32
        Items per forward pass; the output does not depend on it.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Torch device; ``"auto"`` picks CUDA when torch sees a GPU.
    precision : {"auto", "float32", "float16", "bfloat16"}, default="auto"
        The model's floating-point type: ``"auto"`` is float16 on CUDA and
        float32 on the CPU. The output is float64 in every case."""

_ATTRIBUTES = """model_ref_ : str
        The absolute folder the model was loaded from, or its hub name.
    model_digest_ : str
        A digest of its configuration and weights: an unpickled embedder
        reloads the model from ``model_ref_`` and refuses it if the digest
        differs.
    embedding_dim_ : int
        Length of the embeddings.
    device_ : str
        The torch device used.
    feature_names_out_ : ndarray of str
        ``e0``, ``e1``, ..."""


class _PretrainedEmbedder(BaseExtractor):
    """The shared part: lazy loading, the weights check, device and precision, names, batching."""

    _batched = True
    _loaders = ()  # ``from_pretrained`` owners: the model first, then its processor(s)

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "model": [str, os.PathLike],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "precision": [StrOptions({"auto", "float32", "float16", "bfloat16"})],
    }

    # ------------------------------------------------------------------ model
    def _loader_callables(self):
        try:
            import transformers
        except ImportError:
            raise ImportError(
                f"{type(self).__name__} needs Hugging Face transformers: pip install 'mmsk[pretrained]'"
            ) from None

        return [getattr(transformers, name).from_pretrained for name in self._loaders]

    def _load_model(self, ref):
        """``(ref, weights digest, (model, processor...))``; a folder's model is read once per process."""
        folder = os.path.expanduser(os.fspath(ref))
        if not os.path.isdir(folder):  # a hub name
            return self._read_model(ref)
        key = (type(self).__qualname__, self.device_, self.dtype_)
        return load_once(folder, key, lambda: self._read_model(folder))

    def _read_model(self, ref):
        import torch

        ref, (model, *processors) = load_pretrained(
            ref, self._loader_callables(), type(self).__name__, check=self._check_model
        )
        digest = weights_digest(model)
        dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(self.dtype_, torch.float32)
        model = model.to(device=self.device_, dtype=dtype).eval()
        return ref, digest, (model, *processors)

    def _check_model(self, model):
        """Refuse a model this embedder cannot use (before its processors are loaded)."""

    def _configure(self, processors):
        """Learn what reading items needs from the loaded processors (before the probe runs)."""

    def transform(self, X):
        """Embed each item of the column.

        Parameters
        ----------
        X : column of items

        Returns
        -------
        features : ndarray of shape (n_samples, embedding_dim_)
            A missing item (or, with ``on_error="nan"``, an unreadable one)
            gives a row of NaN.
        """
        if hasattr(self, "model_ref_"):
            self._get()  # a gone or changed model is one clear error, not one per row
        return super().transform(X)

    def _fit_items(self, items, column, labels):
        self.device_ = resolve_device(self.device)
        precision = self.precision
        if precision == "auto":
            precision = "float16" if self.device_.startswith("cuda") else "float32"
        self.dtype_ = precision
        self.model_ref_, self.model_digest_, self._loaded = self._load_model(self.model)
        self._configure(self._loaded[1:])
        self.embedding_dim_ = int(self._embed([self._probe()]).shape[1])

    def _get(self):
        """The loaded (model, processor...), reloaded and checked after unpickling."""
        if getattr(self, "_loaded", None) is None:
            if os.path.isabs(self.model_ref_) and not os.path.isdir(self.model_ref_):
                raise FileNotFoundError(
                    f"{type(self).__name__} was fitted with the model in {self.model_ref_!r}, which is "
                    f"gone; put the model back there or refit with model= its new folder."
                )
            ref, digest, loaded = self._load_model(self.model_ref_)
            if digest != self.model_digest_:
                raise ValueError(
                    f"{type(self).__name__}: the model at {ref!r} is not the one this estimator was fitted "
                    f"with (its weights or configuration differ); refit it to use the new model."
                )
            self._loaded = loaded
        return self._loaded

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_loaded", None)  # the model is reloaded from model_ref_ when needed
        return state

    def _fitted_state_for_cache(self):
        return (getattr(self, "model_digest_", None), getattr(self, "dtype_", None))

    def _names(self):
        return [f"e{i}" for i in range(self.embedding_dim_)]

    # ------------------------------------------------------------------ work
    def _batch_size(self):
        return self.batch_size

    def _to_device(self, inputs):
        """Processor outputs as tensors on the device, floating ones in the model's precision."""
        import torch

        model = self._get()[0]
        return {
            k: v.to(self.device_, dtype=model.dtype if v.is_floating_point() else v.dtype)
            for k, v in inputs.items()
            if isinstance(v, torch.Tensor)
        }

    def _features_batch(self, objs):
        return list(self._embed(objs))

    def _embed(self, objs):
        """Embeddings of decoded items, float64, shape (n, dim)."""
        import torch

        with torch.inference_mode():
            return self._forward(list(objs)).float().cpu().numpy().astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def _pool(hidden, pooling, mask=None, pooler=None, cls=None):
    """(batch, dim) from a model's states: ``cls`` token, masked ``mean`` or ``max``, or its ``pooler``."""
    import torch

    if hidden.dim() == 4:  # a convolutional backbone: (batch, channels, height, width)
        if pooling == "cls":
            raise ValueError(f"{cls}: pooling='cls' needs a transformer; this model gives feature maps.")
        hidden = hidden.flatten(2).transpose(1, 2)
    if pooling == "pooler":
        if pooler is None:
            raise ValueError(f"{cls}: this model has no pooler output; use pooling='mean' or 'cls'.")
        return pooler.flatten(1)
    if pooling == "cls":
        return hidden[:, 0]
    if mask is None:
        mask = torch.ones(hidden.shape[:2], dtype=hidden.dtype, device=hidden.device)
    mask = mask.to(hidden.dtype)[:, :, None]
    if pooling == "max":
        return hidden.masked_fill(mask == 0, float("-inf")).amax(dim=1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)


class _HiddenStatesEmbedder(_PretrainedEmbedder):
    """Embedders that pool a model's hidden states (``pooling``, ``layer``)."""

    _parameter_constraints = {
        **_PretrainedEmbedder._parameter_constraints,
        "pooling": [StrOptions({"auto", "cls", "mean", "max", "pooler"})],
        "layer": [Integral],
    }

    def _states(self, tower, inputs):
        """(hidden states of ``layer``, pooler output or None) of a tower on prepared inputs."""
        out = tower(**inputs, output_hidden_states=self.layer != -1)
        hidden = out.last_hidden_state if self.layer == -1 else out.hidden_states[self.layer]
        return hidden, getattr(out, "pooler_output", None)

    def _pooling(self, pooler):
        if self.pooling != "auto":
            return self.pooling
        return "pooler" if pooler is not None and self.layer == -1 else "mean"


def _image_reader():
    return ImageFeatures()._load


# Images are (height, width, 3): said, so that a processor never guesses channels first on a tiny image.
_CHANNELS_LAST = {"input_data_format": "channels_last"}


def _rgb(img):
    return np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img


class ImageEmbedder(_HiddenStatesEmbedder):
    """Image embeddings from a pretrained Hugging Face vision model (ViT, DINOv2, CLIP's image tower, ...).

    Each image is read as :class:`ImageFeatures` reads it (a path, bytes or
    an array; grayscale made RGB), prepared by the model's own image
    processor (resizing, cropping, normalisation), and batches go through the
    model in eval mode with gradients off. The embedding pools the hidden
    states of ``layer``. Given a joint image-text model (CLIP, SigLIP), its
    image tower is used; for CLIP's shared image-text space use
    :class:`ClipEmbedder`.

    Parameters
    ----------
    %(common)s
    pooling : {"auto", "cls", "mean", "max", "pooler"}, default="auto"
        ``"cls"``: the first token; ``"mean"`` / ``"max"``: over every token
        (or every position of a convolutional feature map); ``"pooler"``: the
        model's pooled output. ``"auto"``: the pooler when the model has one
        and ``layer=-1``, else the mean.
    layer : int, default=-1
        Which hidden layer to pool (-1 the last, 0 the embeddings, as in
        ``output_hidden_states``).
    %(extractor_params)s

    Attributes
    ----------
    %(attributes)s
    %(extractor_attributes)s

    See Also
    --------
    ClipEmbedder : images and texts in CLIP's joint space, zero-shot classification.
    ImageFeatures : classical image features (HOG, colour, LBP, ...), no model needed.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from transformers import ViTConfig, ViTImageProcessor, ViTModel
    >>> from mmsk.extract import ImageEmbedder
    >>> folder = tempfile.mkdtemp()
    >>> config = ViTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
    ...                    intermediate_size=32, image_size=32, patch_size=8)
    >>> ViTModel(config).save_pretrained(folder)  # a tiny random ViT; use a real one
    >>> ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)  # doctest: +ELLIPSIS
    [...]
    >>> images = [np.full((40, 50, 3), v, dtype=np.uint8) for v in (0, 128, 255)]
    >>> ImageEmbedder(folder, pooling="cls").fit_transform(images).shape
    (3, 16)
    """

    _kind = "image"
    _loaders = ("AutoModel", "AutoImageProcessor")

    def __init__(
        self,
        model,
        *,
        pooling="auto",
        layer=-1,
        batch_size=32,
        device="cpu",
        precision="auto",
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.model = model
        self.pooling = pooling
        self.layer = layer
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    file_suffixes = ImageFeatures.file_suffixes

    def _load(self, item):
        return _rgb(_image_reader()(item))

    def _probe(self):
        return np.zeros((32, 32, 3), dtype=np.uint8)

    def _forward(self, images):
        model, processor = self._get()
        tower = model.vision_model if hasattr(model, "get_image_features") else model
        inputs = self._to_device(processor(images=images, return_tensors="pt", **_CHANNELS_LAST))
        hidden, pooler = self._states(tower, inputs)
        return _pool(hidden, self._pooling(pooler), pooler=pooler, cls=type(self).__name__)


class AudioEmbedder(_HiddenStatesEmbedder):
    """Audio embeddings from a pretrained Hugging Face speech model (wav2vec 2.0, HuBERT, Whisper, ...).

    Each recording is read as :class:`AudioFeatures` reads it (a path, bytes
    or a waveform; mixed to mono) and resampled to the rate of the model's
    feature extractor. A recording longer than ``window`` seconds is cut
    into equal windows no longer than that; each window goes through the
    model (its encoder, for an encoder-decoder such as Whisper) and the
    frame states of all windows are pooled into one embedding. Windows of
    equal length share a forward pass and none is padded, so the embedding of
    a recording does not depend on the others in its batch. A recording
    shorter than 0.1 s is padded with silence to that length.

    Parameters
    ----------
    %(common)s
    pooling : {"auto", "mean", "max"}, default="auto"
        Over the frames of every window; ``"auto"`` is ``"mean"``.
    layer : int, default=-1
        Which hidden layer to pool (-1 the last).
    window : float, default=30.0
        Longest stretch, in seconds, given to the model at once.
    %(extractor_params)s

    Attributes
    ----------
    sampling_rate_ : int
        The rate recordings are resampled to (the feature extractor's).
    %(attributes)s
    %(extractor_attributes)s

    See Also
    --------
    AudioFeatures : MFCC and other classical audio features, no model needed.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model
    >>> from mmsk.extract import AudioEmbedder
    >>> folder = tempfile.mkdtemp()
    >>> config = Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
    ...                         intermediate_size=32, conv_dim=(16, 16), conv_kernel=(10, 3),
    ...                         conv_stride=(5, 2), num_conv_pos_embeddings=16,
    ...                         num_conv_pos_embedding_groups=2)
    >>> Wav2Vec2Model(config).save_pretrained(folder)  # a tiny random model; use a real one
    >>> Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(folder)  # doctest: +ELLIPSIS
    [...]
    >>> clips = [np.sin(np.arange(n) / 10.0) for n in (8000, 16000)]
    >>> AudioEmbedder(folder).fit_transform(clips).shape
    (2, 16)
    """

    _kind = "audio"
    _loaders = ("AutoModel", "AutoFeatureExtractor")

    _parameter_constraints = {
        **_HiddenStatesEmbedder._parameter_constraints,
        "pooling": [StrOptions({"auto", "mean", "max"})],
        "window": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        model,
        *,
        pooling="auto",
        layer=-1,
        window=30.0,
        batch_size=32,
        device="cpu",
        precision="auto",
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.model = model
        self.pooling = pooling
        self.layer = layer
        self.window = window
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    file_suffixes = AudioFeatures.file_suffixes

    def _configure(self, processors):
        self.sampling_rate_ = int(processors[0].sampling_rate)

    def _load(self, item):
        return AudioFeatures(sr=self.sampling_rate_, max_duration=None)._load(item)

    def _probe(self):
        return np.zeros(self.sampling_rate_, dtype=np.float32)

    def _forward(self, waves):
        import torch

        model, extractor = self._get()
        tower = model.get_encoder() if getattr(model.config, "is_encoder_decoder", False) else model
        longest = max(1, int(round(self.window * self.sampling_rate_)))
        shortest = int(round(_MIN_SECONDS * self.sampling_rate_))
        windows, owner = [], []
        for i, wave in enumerate(waves):
            wave = np.asarray(wave, dtype=np.float32)
            if len(wave) < shortest:  # shorter than a speech model's receptive field: pad with silence
                wave = np.pad(wave, (0, shortest - len(wave)))
            parts = np.array_split(wave, max(1, -(-len(wave) // longest)))
            windows += parts
            owner += [i] * len(parts)
        pooling = "mean" if self.pooling == "auto" else self.pooling
        sums = [None] * len(waves)  # per recording: pooled frames (sum or max) and frame count
        by_length = {}
        for j, w in enumerate(windows):
            by_length.setdefault(len(w), []).append(j)
        for group in by_length.values():
            inputs = extractor(
                [windows[j] for j in group], sampling_rate=self.sampling_rate_, return_tensors="pt"
            )
            inputs.pop("attention_mask", None)  # equal lengths: nothing is padded
            hidden, _ = self._states(tower, self._to_device(inputs))
            hidden = hidden.float()
            for row, j in enumerate(group):
                i, frames = owner[j], hidden[row]
                part = frames.amax(dim=0) if pooling == "max" else frames.sum(dim=0)
                if sums[i] is None:
                    sums[i] = [part, len(frames)]
                elif pooling == "max":
                    sums[i][0] = torch.maximum(sums[i][0], part)
                else:
                    sums[i] = [sums[i][0] + part, sums[i][1] + len(frames)]
        return torch.stack([s if pooling == "max" else s / n for s, n in sums])


class TextEmbedder(_HiddenStatesEmbedder, _TextExtractor):
    """Text embeddings from a pretrained Hugging Face language model (any BERT-family encoder, ...).

    Each text is tokenised by the model's own tokenizer (truncated to
    ``max_length`` tokens) and batches go through the model in eval mode with
    gradients off; the embedding pools the hidden states of ``layer`` over
    the text's tokens (padding is masked out, so a text's embedding does not
    depend on its batch). A missing text (None, NaN, blank) gives an all-NaN
    row. Given a joint image-text model (CLIP), its text tower is used; for
    the joint space use :class:`ClipEmbedder`.

    Parameters
    ----------
    %(common)s
    pooling : {"auto", "cls", "mean", "max", "pooler"}, default="auto"
        ``"auto"``: the masked mean over tokens (what sentence-embedding
        models are trained for).
    layer : int, default=-1
        Which hidden layer to pool (-1 the last).
    max_length : int, default=512
        Tokens kept per text.
    %(extractor_params)s

    Attributes
    ----------
    %(attributes)s
    %(extractor_attributes)s

    See Also
    --------
    SentenceEmbedder : sentence-transformers models (the offline MiniLM by default).
    TfidfFeatures : TF-IDF and LSA, no model needed.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from transformers import BertConfig, BertModel, BertTokenizerFast
    >>> from mmsk.extract import TextEmbedder
    >>> folder = Path(tempfile.mkdtemp())
    >>> words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "dog", "runs", "cat"]
    >>> _ = (folder / "vocab.txt").write_text("\\n".join(words))
    >>> BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)  # doctest: +ELLIPSIS
    (...)
    >>> config = BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1,
    ...                     num_attention_heads=2, intermediate_size=32)
    >>> BertModel(config).save_pretrained(folder)  # a tiny random BERT; use a real one
    >>> TextEmbedder(folder).fit_transform(["a dog runs", "a cat", None]).shape
    (3, 16)
    """

    _loaders = ("AutoModel", "AutoTokenizer")

    _parameter_constraints = {
        **_HiddenStatesEmbedder._parameter_constraints,
        "max_length": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        model,
        *,
        pooling="auto",
        layer=-1,
        max_length=512,
        batch_size=32,
        device="cpu",
        precision="auto",
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.model = model
        self.pooling = pooling
        self.layer = layer
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    def _probe(self):
        return "a"

    def _forward(self, texts):
        model, tokenizer = self._get()
        if hasattr(model, "get_text_features"):
            tower = model.text_model
        elif getattr(model.config, "is_encoder_decoder", False):
            tower = model.get_encoder()
        else:
            tower = model
        inputs = self._to_device(
            tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        )
        hidden, pooler = self._states(tower, inputs)
        pooling = "mean" if self.pooling == "auto" else self.pooling
        return _pool(
            hidden, pooling, mask=inputs.get("attention_mask"), pooler=pooler, cls=type(self).__name__
        )


class ClipEmbedder(_PretrainedEmbedder):
    """Images or texts in the joint space of a CLIP-style model, so they can be compared directly.

    With ``modality="image"`` each image goes through the model's image
    tower and projection (``get_image_features``); with ``modality="text"``
    each text through its text tower (``get_text_features``). Two embedders on
    the same model, one on a photo column and one on a caption column (for
    example in :func:`mmsk.make_modality_union`), put both in one space, so
    :mod:`mmsk.metrics` scores retrieval between them and
    :meth:`zero_shot_predict` classifies images by label names, with no
    training.

    Parameters
    ----------
    %(common)s
    modality : {"image", "text"}, default="image"
        Which column this embedder reads.
    normalize : bool, default=True
        Scale every embedding to unit length, as CLIP compares them.
    max_length : int, default=77
        Tokens kept per text.
    %(extractor_params)s

    Attributes
    ----------
    logit_scale_ : float
        The model's learned inverse temperature (CLIP's ``logit_scale.exp()``).
    %(attributes)s
    %(extractor_attributes)s

    See Also
    --------
    mmsk.fusion.ContrastiveDualEncoder : trains such a joint space on your own pairs.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from transformers import BertTokenizerFast, CLIPConfig, CLIPImageProcessor, CLIPModel
    >>> from mmsk.extract import ClipEmbedder
    >>> folder = Path(tempfile.mkdtemp())
    >>> words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "photo", "of", "cat", "dog"]
    >>> _ = (folder / "vocab.txt").write_text("\\n".join(words))
    >>> BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)  # doctest: +ELLIPSIS
    (...)
    >>> tower = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    >>> config = CLIPConfig(text_config=dict(tower, vocab_size=len(words), eos_token_id=3),
    ...                     vision_config=dict(tower, image_size=32, patch_size=8), projection_dim=8)
    >>> CLIPModel(config).save_pretrained(folder)  # a tiny random CLIP; use a real one
    >>> processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    >>> processor.save_pretrained(folder)  # doctest: +ELLIPSIS
    [...]
    >>> images = [np.full((40, 50, 3), v, dtype=np.uint8) for v in (0, 255)]
    >>> clip = ClipEmbedder(folder, modality="image").fit(images)
    >>> clip.transform(images).shape
    (2, 8)
    >>> clip.zero_shot_predict(images, ["cat", "dog"], template="a photo of a {}").shape
    (2,)
    """

    _loaders = ("AutoModel", "AutoImageProcessor", "AutoTokenizer")

    _parameter_constraints = {
        **_PretrainedEmbedder._parameter_constraints,
        "modality": [StrOptions({"image", "text"})],
        "normalize": ["boolean"],
        "max_length": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        model,
        *,
        modality="image",
        normalize=True,
        max_length=77,
        batch_size=32,
        device="cpu",
        precision="auto",
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.model = model
        self.modality = modality
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    @property
    def _kind(self):
        return self.modality

    @property
    def _content_keys(self):
        return self.modality == "text"

    def _check_model(self, model):
        if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
            raise ValueError(
                f"ClipEmbedder: {self.model!r} holds a {type(model).__name__}, not a joint image-text "
                f"model (CLIP, SigLIP, ...); use ImageEmbedder or TextEmbedder for it."
            )

    def _fit_items(self, items, column, labels):
        super()._fit_items(items, column, labels)
        model = self._get()[0]
        scale = getattr(model, "logit_scale", None)
        self.logit_scale_ = 100.0 if scale is None else float(scale.detach().exp())

    def _is_missing(self, item):
        return super()._is_missing(item) or (
            self.modality == "text" and isinstance(item, str) and not item.strip()
        )

    def _load(self, item):
        if self.modality == "image":
            return _rgb(_image_reader()(item))
        return _TextExtractor._load(self, item)

    def _probe(self):
        return np.zeros((32, 32, 3), dtype=np.uint8) if self.modality == "image" else "a"

    def _forward(self, objs):
        import torch

        model, image_processor, tokenizer = self._get()
        if not hasattr(model, "get_image_features"):
            raise ValueError(
                f"ClipEmbedder: {self.model!r} is not a joint image-text model (CLIP, SigLIP, ...)."
            )
        if self.modality == "image":
            inputs = self._to_device(image_processor(images=objs, return_tensors="pt", **_CHANNELS_LAST))
            out = _features_out(model.get_image_features(**inputs))
        else:
            inputs = self._to_device(
                tokenizer(
                    objs, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
                )
            )
            out = _features_out(model.get_text_features(**inputs))
        return torch.nn.functional.normalize(out, dim=-1) if self.normalize else out

    def zero_shot_proba(self, X, labels, *, template="a photo of a {}."):
        """Class probabilities from label names alone (CLIP zero-shot classification).

        Each label is written into ``template`` and embedded by the model's
        text tower; each image is scored against them by cosine similarity
        times the model's learned scale, and a softmax gives probabilities.

        Parameters
        ----------
        X : column of images
            As for :meth:`transform`; every row must have an image.
        labels : sequence of str
            Class names, e.g. ``["cat", "dog"]``.
        template : str, default="a photo of a {}."
            The prompt each label is written into.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
        """
        import torch

        if self.modality != "image":
            raise ValueError("zero_shot_proba classifies images: use an embedder with modality='image'.")
        labels = list(labels)
        if len(labels) < 2:
            raise ValueError(f"zero-shot classification needs at least 2 labels; got {labels!r}.")
        E = self.transform(X)
        missing = np.isnan(E).any(axis=1)
        if missing.any():
            raise ValueError(f"X row {int(np.flatnonzero(missing)[0])} has no image to classify.")
        model, _, tokenizer = self._get()
        prompts = [template.format(label) for label in labels]
        with torch.inference_mode():
            inputs = self._to_device(
                tokenizer(
                    prompts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
                )
            )
            T = torch.nn.functional.normalize(_features_out(model.get_text_features(**inputs)), dim=-1)
        T = T.float().cpu().numpy().astype(np.float64)
        E = E / np.linalg.norm(E, axis=1, keepdims=True)
        logits = self.logit_scale_ * (E @ T.T)
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def zero_shot_predict(self, X, labels, *, template="a photo of a {}."):
        """The most likely label name for each image; see :meth:`zero_shot_proba`.

        Parameters
        ----------
        X : column of images
        labels : sequence of str
        template : str, default="a photo of a {}."

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.zero_shot_proba(X, labels, template=template)
        return np.asarray(list(labels), dtype=object)[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.modality == "text":
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
        return tags


_DOCS = {**EXTRACTOR_DOCS, "common": _COMMON, "attributes": _ATTRIBUTES}
for _cls in (ImageEmbedder, AudioEmbedder, TextEmbedder, ClipEmbedder):
    fill_doc(_cls, _DOCS)
