"""Image features with OpenCV: pixels, HSV colour histograms, HOG, LBP, bag of visual words."""

import functools
import io
import os
from numbers import Integral

import numpy as np

from ..utils._compat import Interval
from ..utils._docs import fill_doc
from ._base import EXTRACTOR_DOCS, BaseExtractor, check_file

_FAMILIES = ("pixels", "color_hist", "hog", "lbp", "bovw", "detections")
_ORB_SIDE = 256  # ORB runs on the image scaled so that its longer side is this many pixels
_DETECT_SIDE = 480  # the detectors run on the image scaled so that its longer side is at most this
_DETECTIONS = ("people_count", "people_score", "people_area", "face_count", "face_area")
_MAX_DESCRIPTORS = 100_000  # descriptors sampled to learn the codebook


def _uniform_lbp_table():
    """Map the 256 8-neighbour LBP codes to 59 bins: 58 uniform patterns and one for the rest."""
    table = np.full(256, 58, dtype=np.intp)
    nxt = 0
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(8)]
        transitions = sum(bits[i] != bits[(i + 1) % 8] for i in range(8))
        if transitions <= 2:
            table[code] = nxt
            nxt += 1
    return table


_LBP_TABLE = _uniform_lbp_table()


def _to_uint8(img):
    """Bring an image array to uint8, keeping its scale where it fits in 0-255."""
    if img.dtype == np.uint8:
        return img
    img = np.asarray(img, dtype=np.float64)
    if not np.isfinite(img).all():
        raise ValueError("the image array holds NaN or infinite values")
    lo, hi = img.min(), img.max()
    if lo >= 0 and hi <= 1.0:
        img = img * 255.0
    elif lo < 0 or hi > 255:
        img = (img - lo) / (hi - lo if hi > lo else 1.0) * 255.0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _check_complete(buf):
    """Refuse JPEG and PNG data that end early (OpenCV would decode them partly, silently)."""
    data = bytes(buf[:8])
    tail = bytes(buf[-64:]).rstrip(b"\x00\r\n ")
    if data[:3] == b"\xff\xd8\xff" and not tail.endswith(b"\xff\xd9"):
        raise ValueError("truncated or corrupt JPEG data (no end-of-image marker)")
    if data == b"\x89PNG\r\n\x1a\n" and b"IEND" not in tail:
        raise ValueError("truncated or corrupt PNG data (no IEND chunk)")


class ImageFeatures(BaseExtractor):
    """Image features from a column of pictures, with OpenCV.

    Each item is a path, the bytes of an image file, or an array: 2-D
    (grayscale, e.g. an 8x8 digit) or 3-D (height, width, 3 or 4 channels in
    RGB(A) order). Files are decoded by OpenCV after their header is checked
    against ``max_pixels`` (so a decompression bomb is refused before any
    memory is spent on it) and converted to RGB. Every image is resized to
    ``size`` before the feature families are computed. A numeric 2-D X is
    also accepted: each row is one flattened grayscale image of
    ``image_shape`` (or a 1-pixel-high strip when ``image_shape`` is None).

    Parameters
    ----------
    features : tuple of str, default=("hog",)
        Families: ``"pixels"`` (grayscale intensities in [0, 1]),
        ``"color_hist"`` (joint HSV histogram, normalised), ``"hog"``
        (histogram of oriented gradients, ``cv2.HOGDescriptor``), ``"lbp"``
        (uniform local binary pattern histogram, 59 bins), ``"bovw"`` (bag of
        visual words: ORB descriptors, computed on the image scaled to a
        longer side of 256 pixels, assigned to a codebook of ``n_words``
        learned in ``fit`` by MiniBatchKMeans; a normalised word histogram,
        all zeros when the image has no keypoints), ``"detections"``
        (OpenCV's pretrained detectors, which ship inside its wheel, run on
        the image scaled to a longer side of at most 480 pixels: the HOG
        people detector's count of people, best score and largest box's
        share of the image; the Haar frontal-face cascade's count and
        largest face's share). Nothing is downloaded; the signal is small
        but semantic.
    size : tuple of int, default=(64, 64)
        (height, width) every image is resized to.
    hist_bins : tuple of int, default=(8, 4, 4)
        Bins of the hue, saturation and value axes of ``"color_hist"``.
    hog_cell : int, default=8
        HOG cell side in pixels (blocks are 2x2 cells, stride one cell, 9
        orientation bins); must divide both sides of ``size``.
    n_words : int, default=64
        Codebook size of ``"bovw"``.
    orb_features : int, default=300
        At most this many ORB keypoints per image (``"bovw"``).
    random_state : int, RandomState instance or None, default=None
        Seeds the codebook's k-means and its descriptor sample (``"bovw"``).
    image_shape : tuple of int, default=None
        (height, width) of the images when X is numeric rows.
    max_pixels : int, default=100_000_000
        Refuse images whose header declares more pixels than this.
    %(extractor_params)s

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Names of the output columns (``px_0``, ``hsv_0_1_2``, ``hog_17``,
        ``lbp_3``, ``bovw_5``).
    codebook_ : MiniBatchKMeans or None
        The visual-word codebook (``"bovw"`` only), fitted on the ORB
        descriptors of the training images.
    %(extractor_attributes)s

    See Also
    --------
    AudioFeatures : the same for recordings, with librosa.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mmsk.extract import ImageFeatures
    >>> images = list(load_digits().images[:5])  # 8x8 arrays
    >>> hog = ImageFeatures(features=("hog",), size=(32, 32)).fit(images)
    >>> hog.transform(images).shape
    (5, 324)
    """

    _kind = "image"

    #: File suffixes read from paths (OpenCV's decoders, and PIL for GIF's first frame);
    #: :func:`mmsk.auto.detect_modalities` reads this too.
    file_suffixes = frozenset(
        {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".gif"}
    )

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "features": [tuple, list],
        "size": [tuple, list],
        "hist_bins": [tuple, list],
        "hog_cell": [Interval(Integral, 2, None, closed="left")],
        "n_words": [Interval(Integral, 2, None, closed="left")],
        "orb_features": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "image_shape": [tuple, list, None],
        "max_pixels": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        features=("hog",),
        size=(64, 64),
        hist_bins=(8, 4, 4),
        hog_cell=8,
        n_words=64,
        orb_features=300,
        random_state=None,
        image_shape=None,
        max_pixels=100_000_000,
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.features = features
        self.size = size
        self.hist_bins = hist_bins
        self.hog_cell = hog_cell
        self.n_words = n_words
        self.orb_features = orb_features
        self.random_state = random_state
        self.image_shape = image_shape
        self.max_pixels = max_pixels
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    def _hog_shape(self):
        h, w = self.size
        c = self.hog_cell
        if h % c or w % c or h < 2 * c or w < 2 * c:
            raise ValueError(
                f"size={tuple(self.size)} must be a multiple of hog_cell={c} and at least "
                f"{2 * c} on each side for HOG."
            )
        return (h // c - 1) * (w // c - 1) * 4 * 9

    def _names(self):
        unknown = [f for f in self.features if f not in _FAMILIES]
        if unknown or not self.features:
            raise ValueError(f"Unknown image feature families {unknown}; choose among {_FAMILIES}.")
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"size must be (height, width) of positive ints; got {self.size}.")
        names = []
        for family in self.features:
            if family == "pixels":
                names += [f"px_{i}" for i in range(self.size[0] * self.size[1])]
            elif family == "color_hist":
                if len(self.hist_bins) != 3 or min(self.hist_bins) < 1:
                    raise ValueError(f"hist_bins must be 3 positive ints; got {self.hist_bins}.")
                hb, sb, vb = self.hist_bins
                names += [f"hsv_{h}_{s}_{v}" for h in range(hb) for s in range(sb) for v in range(vb)]
            elif family == "hog":
                names += [f"hog_{i}" for i in range(self._hog_shape())]
            elif family == "lbp":
                names += [f"lbp_{i}" for i in range(59)]
            elif family == "detections":
                names += [f"det_{name}" for name in _DETECTIONS]
            else:
                names += [f"bovw_{i}" for i in range(self.n_words)]
        return names

    # ------------------------------------------------------------------ bovw
    def _orb(self, img):
        """ORB descriptors of one decoded image, unpacked to 256 bits (float32, n x 256)."""
        import cv2

        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        scale = _ORB_SIDE / max(gray.shape[:2])
        new = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, new, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        orb = cv2.ORB_create(nfeatures=self.orb_features)
        _, desc = orb.detectAndCompute(gray, None)
        if desc is None:
            return np.zeros((0, 256), dtype=np.float32)
        return np.unpackbits(desc, axis=1).astype(np.float32)

    def _fit_items(self, items, column, labels):
        self.codebook_ = None
        if "bovw" not in self.features:
            return
        from sklearn.cluster import MiniBatchKMeans
        from sklearn.utils import check_random_state

        rng = check_random_state(self.random_state)
        found = [d for d in self._map_items(items, "_orb", column, labels) if d is not None]
        desc = np.concatenate(found) if found else np.zeros((0, 256), dtype=np.float32)
        if len(desc) < self.n_words:
            raise ValueError(
                f"bag of visual words: the training images gave {len(desc)} ORB descriptors, "
                f"fewer than n_words={self.n_words}; use more or more textured images, or a "
                f"smaller n_words."
            )
        if len(desc) > _MAX_DESCRIPTORS:
            desc = desc[rng.choice(len(desc), _MAX_DESCRIPTORS, replace=False)]
        self.codebook_ = MiniBatchKMeans(
            n_clusters=self.n_words, n_init=3, batch_size=2048, random_state=rng
        ).fit(desc)

    def _fitted_state_for_cache(self):
        if getattr(self, "codebook_", None) is None:
            return None
        return self.codebook_.cluster_centers_

    def _bovw(self, img):
        desc = self._orb(img)
        hist = np.zeros(self.n_words)
        if len(desc):
            hist += np.bincount(self.codebook_.predict(desc), minlength=self.n_words)
            hist /= hist.sum()
        return hist

    # ------------------------------------------------------------------ work
    def _decode(self, buf):
        import cv2
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(buf)) as header:  # reads the header only
                width, height = header.size
                kind = header.format
        except Image.DecompressionBombError as exc:
            raise ValueError(
                f"the image header declares more pixels than can be read safely ({exc}); "
                f"refused before decoding (max_pixels={self.max_pixels})"
            ) from None
        except UnidentifiedImageError:
            raise ValueError("not a recognised image: corrupt data or an unsupported format") from None
        if width * height > self.max_pixels:
            raise ValueError(
                f"the image header declares {width}x{height} = {width * height} pixels, more "
                f"than max_pixels={self.max_pixels}; raise max_pixels to read it"
            )
        if kind == "GIF":  # OpenCV has no GIF decoder; an animation gives its first frame
            try:
                with Image.open(io.BytesIO(buf)) as gif:
                    return np.asarray(gif.convert("RGB"))
            except (OSError, SyntaxError) as exc:
                raise ValueError(f"truncated or corrupt GIF data ({exc})") from None
        _check_complete(buf)
        img = cv2.imdecode(np.frombuffer(buf, dtype=np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError("OpenCV could not decode the image (corrupt or unsupported data)")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def _load(self, item):
        if isinstance(item, (str, os.PathLike)):
            path = check_file(item, self.file_suffixes, kind="image file")
            with open(path, "rb") as fh:
                return self._decode(fh.read())
        if isinstance(item, (bytes, bytearray)):
            return self._decode(bytes(item))
        img = np.asarray(item)
        if img.dtype == object or img.dtype.kind not in "biuf":
            raise TypeError(f"expected a path, bytes or an image array; got {type(item).__name__}")
        if img.ndim == 1:
            shape = (1, img.size) if self.image_shape is None else tuple(self.image_shape)
            if int(np.prod(shape)) != img.size:
                raise ValueError(f"a row of {img.size} values does not fit image_shape={shape}")
            img = img.reshape(shape)
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
            raise ValueError(
                f"expected a 2-D grayscale or (height, width, 3|4) colour image; got shape {img.shape}"
            )
        if img.size == 0:
            raise ValueError("empty image array")
        if img.shape[0] * img.shape[1] > self.max_pixels:
            raise ValueError(f"the image has more than max_pixels={self.max_pixels} pixels")
        img = _to_uint8(img)
        if img.ndim == 3 and img.shape[2] == 4:
            img = np.ascontiguousarray(img[:, :, :3])
        return img

    def _features(self, img):
        import cv2

        original = img
        h, w = self.size
        shrink = img.shape[0] > h or img.shape[1] > w
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        img = cv2.resize(img, (w, h), interpolation=interp)
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        out = []
        for family in self.features:
            if family == "pixels":
                out.append(gray.ravel() / 255.0)
            elif family == "color_hist":
                rgb = img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
                hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
                hist = cv2.calcHist(
                    [hsv], [0, 1, 2], None, list(self.hist_bins), [0, 180, 0, 256, 0, 256]
                ).ravel()
                out.append(hist / max(hist.sum(), 1.0))
            elif family == "hog":
                c = self.hog_cell
                hog = cv2.HOGDescriptor((w, h), (2 * c, 2 * c), (c, c), (c, c), 9)
                out.append(hog.compute(gray).ravel())
            elif family == "lbp":
                out.append(self._lbp(gray))
        for family, compute in (("bovw", self._bovw), ("detections", _detections)):
            if family in self.features:  # on the full-resolution image, not the resized one
                out.insert(list(self.features).index(family), compute(original))
        return np.concatenate(out)

    @staticmethod
    def _lbp(gray):
        g = gray.astype(np.int16)
        padded = np.pad(g, 1, mode="edge")
        centre = padded[1:-1, 1:-1]
        code = np.zeros_like(centre, dtype=np.intp)
        offsets = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
        for bit, (dy, dx) in enumerate(offsets):
            neighbour = padded[1 + dy : padded.shape[0] - 1 + dy, 1 + dx : padded.shape[1] - 1 + dx]
            code |= (neighbour >= centre).astype(np.intp) << bit
        hist = np.bincount(_LBP_TABLE[code].ravel(), minlength=59).astype(float)
        return hist / hist.sum()


@functools.cache
def _detectors():
    """OpenCV's HOG people detector and its Haar frontal-face cascade, built once per process."""
    import cv2

    people = cv2.HOGDescriptor()
    people.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    face = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml"))
    return people, face


def _detections(img):
    """The ``"detections"`` family of one decoded image (see ImageFeatures): five numbers."""
    import cv2

    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, _DETECT_SIDE / max(gray.shape))
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    area = float(gray.shape[0] * gray.shape[1])
    people, face = _detectors()
    boxes, scores = (), ()
    if min(gray.shape) >= 128:  # the people detector's window is 64x128
        boxes, scores = people.detectMultiScale(gray, winStride=(8, 8), padding=(8, 8), scale=1.05)
    faces = face.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5) if min(gray.shape) >= 24 else ()

    def largest(found):
        return max((w * h for _, _, w, h in found), default=0) / area

    scores = np.ravel(scores)
    return np.array(
        [
            len(boxes),
            float(scores.max()) if scores.size else 0.0,
            largest(boxes),
            len(faces),
            largest(faces),
        ],
        dtype=np.float64,
    )


fill_doc(ImageFeatures, EXTRACTOR_DOCS)
