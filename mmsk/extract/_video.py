"""Video features: frames sampled with OpenCV, an image extractor per frame, pooled over time."""

import os
import tempfile
from numbers import Integral

import numpy as np
from sklearn.base import clone

from ..utils._compat import HasMethods, Interval, StrOptions
from ..utils._docs import fill_doc
from ._audio import _STAT, _pool
from ._base import EXTRACTOR_DOCS, BaseExtractor, check_file

_FIT_FRAMES = 256  # frames (sampled over the training videos) the image extractor is fitted on
_FRAME_SLACK = 0.9  # fewer decoded frames than this share of the header's count: truncated


class VideoFeatures(BaseExtractor):
    """Video features: sample frames with OpenCV, featurise each, pool over time.

    Each item is a path to a video file, the bytes of one, or an array of
    frames (frames x height x width [x 3], RGB). Frames are sampled either
    ``n_frames`` evenly spaced over the video, or every ``every``-th frame;
    each goes through the image extractor (by default colour histograms and
    HOG), and the per-frame vectors are pooled with ``stats``.

    A file whose header declares more frames than can be decoded (by more than
    10%%) is reported as truncated rather than silently featurised from its
    first part.

    Parameters
    ----------
    image_features : extractor, default=None
        Extractor applied per frame: an :class:`ImageFeatures` or a
        :class:`TorchEncoder` with ``reader="image"``; it is cloned and fitted
        on up to 256 frames sampled from the training videos. None:
        ``ImageFeatures(features=("color_hist", "hog"), size=(64, 64))``.
    n_frames : int, default=8
        Frames sampled evenly over each video (used when ``every`` is None).
    every : int, default=None
        Take every ``every``-th frame instead (frame 0, every, 2 * every, ...),
        at most ``max_frames`` of them.
    max_frames : int, default=256
        Cap on the frames taken with ``every``.
    stats : tuple of str, default=("mean", "std")
        Pooling over frames: ``mean``, ``std``, ``min``, ``max``, ``median`` or
        a percentile ``pNN``.
    output : {"stats", "frames"}, default="stats"
        ``"frames"``: no pooling; each sampled frame's features, frame after
        frame (``t00_hog_3``, ..., ``t01_hog_3``), a sequence view (see
        :func:`mmsk.sequence_frame`) of ``n_frames`` steps (``max_frames``
        with ``every``). A video with fewer frames gets padding steps (all
        NaN) after its last one.
    frame_shape : tuple of int, default=None
        (height, width) of the frames when X is numeric rows (a flattened
        grayscale clip per row); None: each value of a row is a 1x1 frame.
    max_pixels : int, default=50_000_000
        Refuse videos whose frames declare more pixels than this.
    %(extractor_params)s

    Attributes
    ----------
    image_features_ : extractor
        The fitted per-frame extractor.
    feature_names_out_ : ndarray of str
        Per-frame names with the statistic appended (``hog_3_mean``).
    %(extractor_attributes)s

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.extract import ImageFeatures, VideoFeatures
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.integers(0, 255, (12, 32, 32, 3), dtype=np.uint8) for _ in range(2)]
    >>> video = VideoFeatures(ImageFeatures(features=("color_hist",)), n_frames=4, stats=("mean",))
    >>> video.fit_transform(clips).shape
    (2, 128)
    """

    _kind = "video"

    #: File suffixes read from paths (OpenCV's video decoder); :func:`mmsk.auto.detect_modalities`
    #: reads this too.
    file_suffixes = frozenset(
        {".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".ogv"}
    )

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "image_features": [HasMethods(["fit", "transform"]), None],
        "n_frames": [Interval(Integral, 1, None, closed="left")],
        "every": [Interval(Integral, 1, None, closed="left"), None],
        "max_frames": [Interval(Integral, 1, None, closed="left")],
        "stats": [tuple, list],
        "output": [StrOptions({"stats", "frames"})],
        "frame_shape": [tuple, list, None],
        "max_pixels": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        image_features=None,
        *,
        n_frames=8,
        every=None,
        max_frames=256,
        stats=("mean", "std"),
        output="stats",
        frame_shape=None,
        max_pixels=50_000_000,
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.image_features = image_features
        self.n_frames = n_frames
        self.every = every
        self.max_frames = max_frames
        self.stats = stats
        self.output = output
        self.frame_shape = frame_shape
        self.max_pixels = max_pixels
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    # ------------------------------------------------------------------ frames
    def _plan(self, total):
        """Frame indices to keep for a video of ``total`` frames."""
        if self.every is not None:
            return list(range(0, total, self.every))[: self.max_frames]
        if total <= self.n_frames:
            return list(range(total))
        return sorted(set(np.linspace(0, total - 1, self.n_frames).round().astype(int).tolist()))

    def _read_file(self, path):
        import cv2

        cap = cv2.VideoCapture(path)
        try:
            if not cap.isOpened():
                raise ValueError("OpenCV could not open the video (corrupt, truncated or unsupported)")
            width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            if width * height > self.max_pixels:
                raise ValueError(
                    f"the video's frames are {width}x{height} = {width * height} pixels, more "
                    f"than max_pixels={self.max_pixels}"
                )
            declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            if declared <= 0:  # unknown length: decode everything, sample afterwards
                frames = []
                while len(frames) < 100_000:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    frames.append(frame)
                keep = self._plan(len(frames))
                frames = [frames[i] for i in keep]
            else:
                keep = set(self._plan(declared))
                frames, n = [], 0
                last_needed = max(keep)
                while n <= last_needed and cap.grab():
                    if n in keep:
                        ok, frame = cap.retrieve()
                        if not ok:
                            break
                        frames.append(frame)
                    n += 1
                if n < _FRAME_SLACK * (last_needed + 1):
                    raise ValueError(
                        f"truncated or corrupt video: the header declares {declared} frames but "
                        f"only {n} could be decoded"
                    )
                while len(frames) < len(keep) and frames:  # a frame or two short of the header
                    frames.append(frames[-1])
        finally:
            cap.release()
        if not frames:
            raise ValueError("no frame of the video could be decoded")
        return [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames]

    def _load(self, item):
        if isinstance(item, (str, os.PathLike)):
            return self._read_file(check_file(item, self.file_suffixes, kind="video file"))
        if isinstance(item, (bytes, bytearray)):
            # OpenCV reads videos from files only: go through a private temporary file
            fd, tmp = tempfile.mkstemp(suffix=".video")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(item)
                return self._read_file(tmp)
            finally:
                os.unlink(tmp)
        arr = np.asarray(item)
        if arr.ndim == 1 and arr.dtype.kind in "biuf":  # a numeric row of X: a flattened clip
            shape = (1, 1) if self.frame_shape is None else tuple(self.frame_shape)
            if arr.size % int(np.prod(shape)):
                raise ValueError(f"a row of {arr.size} values is not a whole number of {shape} frames")
            arr = arr.reshape(-1, *shape)
        if arr.dtype == object or arr.dtype.kind not in "biuf" or arr.ndim not in (3, 4):
            raise ValueError(
                f"expected a path, bytes, or an array of frames (frames, height, width[, 3]); got "
                f"{type(item).__name__}" + (f" of shape {arr.shape}" if arr.dtype != object else "")
            )
        if len(arr) == 0:
            raise ValueError("the array holds no frames")
        return [arr[i] for i in self._plan(len(arr))]

    # ------------------------------------------------------------------ fit
    def _check_stats(self):
        bad = [s for s in self.stats if not isinstance(s, str) or not _STAT.match(s)]
        if bad or not self.stats:
            raise ValueError(f"Unknown statistics {bad}; use mean, std, min, max, median or 'pNN'.")

    def _fit_items(self, items, column, labels):
        from ._image import ImageFeatures

        if self.output == "stats":
            self._check_stats()
        if self.image_features is None:
            sub = ImageFeatures(features=("color_hist", "hog"), size=(64, 64))
        else:
            sub = clone(self.image_features)
        present = [i for i, item in enumerate(items) if not self._is_missing(item)]
        per_video = max(1, _FIT_FRAMES // max(1, len(present)))
        frames = []
        for i in present:
            if len(frames) >= _FIT_FRAMES:
                break
            try:
                video = self._load(items[i])
            except Exception as exc:  # noqa: BLE001
                if self.on_error == "raise":
                    raise self._item_error(exc, i, items, column, labels) from exc
                continue
            step = max(1, len(video) // per_video)
            frames.extend(video[::step][:per_video])
        if not frames:
            raise ValueError("VideoFeatures: no readable video in the training data.")
        self.image_features_ = sub.fit(frames)

    def _fitted_state_for_cache(self):
        from ._cache import settings_digest

        return settings_digest(self.image_features_)

    def _steps(self):
        return self.max_frames if self.every is not None else self.n_frames

    def _names(self):
        names = self.image_features_.get_feature_names_out()
        if self.output == "frames":
            return [f"t{t:02d}_{n}" for t in range(self._steps()) for n in names]
        self._check_stats()
        return [f"{n}_{s}" for n in names for s in self.stats]

    def _features(self, frames):
        from ._base import _run_chunk

        vectors = _run_chunk(self.image_features_, frames)
        bad = [v for v in vectors if v is None or isinstance(v, Exception)]
        if bad:
            raise ValueError(f"a frame could not be featurised: {bad[0]}")
        per_frame = np.asarray(vectors, dtype=float).T  # (features, frames)
        if self.output == "frames":
            steps = np.full((self._steps(), per_frame.shape[0]), np.nan)  # padding after the last frame
            steps[: per_frame.shape[1]] = per_frame.T[: self._steps()]
            return steps.ravel()
        return np.column_stack([_pool(per_frame, s) for s in self.stats]).ravel()


fill_doc(VideoFeatures, EXTRACTOR_DOCS)
