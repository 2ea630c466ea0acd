"""ContrastiveDualEncoder: CLIP-style two-tower training on paired views, for cross-modal retrieval."""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.base import TransformerMixin

from .._views import stacked_view_bounds, validate_multiview_data
from ..utils._compat import Interval, _fit_context, check_is_fitted
from ..utils._deep import TRAINER_CONSTRAINTS, BaseDeepEstimator, trainer_doc
from ..utils._docs import fill_doc


class ContrastiveDualEncoder(TransformerMixin, BaseDeepEstimator):
    """CLIP-style dual encoder: one tower per view, trained with InfoNCE into a shared space.

    Each of the two views goes through its own MLP tower into a shared
    ``embed_dim``-dimensional space, where embeddings are unit-normalised. The
    towers and a temperature are trained with skorch on the symmetric InfoNCE
    loss (Radford et al., 2021): within a mini-batch, each row's first view
    must pick its own second view among the batch's, and vice versa. After
    ``fit``, ``transform`` maps each view into the shared space, so either
    view can retrieve the other (:meth:`retrieve`,
    :func:`mmsk.metrics.make_retrieval_scorer`), and when the second view is
    text, rows can be classified by label names alone
    (:meth:`zero_shot_predict`, DeViSE / CLIP zero-shot).

    Parameters
    ----------
    views : dict, list or None, default=None
        The two views; None reads them from ``<view>__<feature>`` names.
    embed_dim : int, default=64
        Size of the shared space.
    hidden : tuple of int, default=(128,)
        Hidden layer sizes of each tower; ``()`` gives linear projections.
    dropout : float, default=0.0
    temperature : float, default=0.07
        Initial softmax temperature.
    learn_temperature : bool, default=True
        Learn the temperature along with the towers (CLIP does; it is clamped
        at 0.01).
    %(trainer)s

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained towers (``net_.module_``) and training history.
    temperature_ : float
        The final temperature.
    batch_size_ : int
        The batch size used.
    device_ : str
        The device it trained on.
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    mmsk.align.CCA : the linear baseline for the same task.
    mmsk.metrics.make_retrieval_scorer : recall@K and MRR scorers for GridSearchCV.

    Notes
    -----
    ``fit(X, y)`` takes an optional y of pair groups: rows with equal y are all
    positives of each other (an image's five captions), so a batch never
    pushes an image away from its other captions. Rows missing either view are
    left out of training; ``transform`` gives NaN for a missing view. The
    network runs in ``dtype`` (in float64 a row's embedding does not depend on
    its batch).
    The negatives of each row are its batch's other rows: larger batches give
    harder negatives.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.fusion import ContrastiveDualEncoder
    >>> from mmsk.metrics import make_retrieval_scorer
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(300, 3))
    >>> X = np.hstack([np.tanh(Z @ rng.normal(size=(3, 6))), Z @ rng.normal(size=(3, 5))])
    >>> enc = ContrastiveDualEncoder({"a": range(6), "b": range(6, 11)}, embed_dim=8,
    ...                              max_epochs=60, random_state=0).fit(X)
    >>> enc.transform(X).shape
    (300, 16)
    >>> bool(make_retrieval_scorer("recall@5")(enc, X) > 0.5)
    True
    """

    _parameter_constraints = {
        "views": [Mapping, None],
        "embed_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "learn_temperature": ["boolean"],
        **TRAINER_CONSTRAINTS,
        "batch_size": [Interval(Integral, 2, None, closed="left"), None],
    }
    _cpu_batch_size = 128

    def __init__(
        self,
        views=None,
        *,
        embed_dim=64,
        hidden=(128,),
        dropout=0.0,
        temperature=0.07,
        learn_temperature=True,
        max_epochs=100,
        lr=1e-3,
        weight_decay=0.0,
        batch_size=None,
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        device="cpu",
        dtype="float32",
        random_state=None,
        verbose=0,
        **module_params,
    ):
        self.views = views
        self.embed_dim = embed_dim
        self.hidden = hidden
        self.dropout = dropout
        self.temperature = temperature
        self.learn_temperature = learn_temperature
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self._store_module_params(module_params)

    def _validate(self, X, reset):
        X, masks = validate_multiview_data(
            self, X, reset=reset, min_views=2, allow_missing_views=True, dtype=np.float64
        )
        if len(self.view_indices_) != 2:
            raise ValueError(
                f"{type(self).__name__} pairs exactly 2 views; got {len(self.view_indices_)}: "
                f"{list(self.view_indices_)}."
            )
        return X, masks

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the two towers on the rows that have both views.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or None, default=None
            Pair groups: rows with equal y are positives of each other. None:
            each row is its own pair.

        Returns
        -------
        self : object
        """

        from ._contrastive_modules import DualEncoder, InfoNCELoss

        X, masks = self._validate(X, reset=True)
        if y is None:
            groups = np.arange(X.shape[0])
        else:
            y = np.asarray(y)
            if y.shape != (X.shape[0],):
                raise ValueError(f"y must hold one pair group per row ({X.shape[0]}); got shape {y.shape}.")
            groups = np.unique(y, return_inverse=True)[1].ravel()
        complete = ~np.logical_or.reduce(list(masks.values()))
        n_ok = int(complete.sum())
        if n_ok < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 rows with both views present; got {n_ok} sample(s)."
            )
        idx = np.concatenate(list(self.view_indices_.values()))
        data = X[np.ix_(complete, idx)]
        self.net_ = self._make_net(
            "net",
            DualEncoder,
            criterion=InfoNCELoss,
            n_rows=n_ok,
            module__slices=stacked_view_bounds(self.view_indices_),
            module__embed_dim=self.embed_dim,
            **self._module_kwargs(
                DualEncoder,
                {
                    "hidden": tuple(self.hidden),
                    "dropout": self.dropout,
                    "temperature": self.temperature,
                    "learn_temperature": self.learn_temperature,
                },
                from_data=("slices", "embed_dim"),
            ),
        )
        # a 1-row batch has no negatives
        self.net_.set_params(iterator_train__drop_last=n_ok % self.batch_size_ == 1)
        self._train_net(data, groups[complete])
        self.temperature_ = float(1.0 / self.net_.module_.logit_scale.detach().clamp(max=np.log(100.0)).exp())
        self.n_features_out_ = 2 * self.embed_dim
        return self

    def _embed(self, X, masks):
        """Each view's unit-norm embedding; NaN rows where the row misses the view."""
        return self._infer_views(X, masks, self.embed_dim, lambda module, x, view: module.embed_view(x, view))

    def transform(self, X, y=None):
        """Each view's unit-norm embedding in the shared space, side by side.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        Z : ndarray of shape (n_samples, 2 * embed_dim)
            ``<view>__emb<j>`` columns; NaN where the row misses the view.
        """
        check_is_fitted(self, "net_")
        X, masks = self._validate(X, reset=False)
        return np.hstack(self._embed(X, masks))

    def get_feature_names_out(self, input_features=None):
        """``<view>__emb<j>`` for each view and shared dimension.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "net_")
        return np.asarray(
            [f"{v}__emb{j}" for v in self.view_indices_ for j in range(self.embed_dim)], dtype=object
        )

    def retrieve(self, X_query, X_gallery, *, k=5, query_view=None):
        """For each query row, the positions of its ``k`` nearest gallery rows in the other view.

        Parameters
        ----------
        X_query : array-like of shape (n_queries, n_features)
            Rows whose ``query_view`` is present (the other view may be NaN).
        X_gallery : array-like of shape (n_gallery, n_features)
            Rows whose other view is present.
        k : int, default=5
        query_view : str or None, default=None
            The view queries are made of; None: the first view.

        Returns
        -------
        indices : ndarray of shape (n_queries, k)
            Gallery row positions, most similar first.
        scores : ndarray of shape (n_queries, k)
            Their cosine similarities.
        """
        check_is_fitted(self, "net_")
        names = list(self.view_indices_)
        q = names[0] if query_view is None else query_view
        if q not in names:
            raise ValueError(f"query_view {q!r} is not one of the views {names}.")
        qj, gj = names.index(q), 1 - names.index(q)
        EQ = self._embed(*self._validate(X_query, reset=False))[qj]
        EG = self._embed(*self._validate(X_gallery, reset=False))[gj]
        for name, E, view in (("X_query", EQ, q), ("X_gallery", EG, names[gj])):
            bad = np.isnan(E).any(axis=1)
            if bad.any():
                raise ValueError(
                    f"{name} row {int(np.flatnonzero(bad)[0])} has no {view!r} view to retrieve with."
                )
        sim = EQ @ EG.T
        k = min(int(k), EG.shape[0])
        top = np.argsort(-sim, axis=1, kind="stable")[:, :k]
        return top, np.take_along_axis(sim, top, axis=1)

    def _label_embeddings(self, labels, text_embedder, template, text_view):
        """Each label's prompt through ``text_embedder`` and the text view's tower."""
        if text_embedder is None:
            from ..extract import SentenceEmbedder

            text_embedder = SentenceEmbedder()
        labels = list(labels)
        if len(labels) < 2:
            raise ValueError(f"zero-shot classification needs at least 2 labels; got {labels!r}.")
        prompts = [template.format(label) for label in labels]
        T = text_embedder.fit_transform(prompts)
        T = np.asarray(T.toarray() if hasattr(T, "toarray") else T, dtype=np.float64)
        names = list(self.view_indices_)
        j = names.index(text_view)
        width = len(self.view_indices_[text_view])
        if T.shape != (len(labels), width):
            raise ValueError(
                f"text_embedder gives {T.shape[1] if T.ndim == 2 else T.shape} features per label, but view "
                f"{text_view!r} has {width} columns; embed the labels as that view was embedded."
            )
        return self._infer(lambda module, t: module.embed_view(t, j), T)

    def zero_shot_proba(self, X, labels, *, text_embedder=None, template="{}", view=None):
        """Class probabilities from label names alone (CLIP / DeViSE zero-shot classification).

        Each label is written into ``template``, embedded by ``text_embedder``
        (the same embedder that made the text view) and mapped by the text
        tower into the shared space; each row of ``view`` is scored against
        them by cosine similarity, and a softmax at the learned temperature
        gives probabilities. No classifier is trained on the labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows whose ``view`` is present (the text view may be NaN).
        labels : sequence of str
            Class names, e.g. ``["cat", "dog"]``.
        text_embedder : transformer or None, default=None
            Maps a list of strings to the text view's features;
            None: :class:`~mmsk.extract.SentenceEmbedder` (the offline MiniLM).
        template : str, default="{}"
            Prompt with one ``{}`` for the label, e.g. ``"a photo of a {}"``.
        view : str or None, default=None
            The view to classify (the other one is the text view); None: the
            first view.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
        """
        check_is_fitted(self, "net_")
        names = list(self.view_indices_)
        view = names[0] if view is None else view
        if view not in names:
            raise ValueError(f"view {view!r} is not one of the views {names}.")
        text_view = names[1 - names.index(view)]
        E = self._embed(*self._validate(X, reset=False))[names.index(view)]
        bad = np.isnan(E).any(axis=1)
        if bad.any():
            raise ValueError(f"X row {int(np.flatnonzero(bad)[0])} has no {view!r} view to classify.")
        L = self._label_embeddings(labels, text_embedder, template, text_view)
        logits = (E @ L.T) / self.temperature_
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def zero_shot_predict(self, X, labels, *, text_embedder=None, template="{}", view=None):
        """The most similar label name for each row; see :meth:`zero_shot_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        labels : sequence of str
        text_embedder : transformer or None, default=None
        template : str, default="{}"
        view : str or None, default=None

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.zero_shot_proba(X, labels, text_embedder=text_embedder, template=template, view=view)
        return np.asarray(list(labels), dtype=object)[proba.argmax(axis=1)]

    def score(self, X, y=None):
        """Mean reciprocal rank of first-view-to-second-view retrieval among X's rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with both views.
        y : array-like of shape (n_samples,) or None, default=None
            Pair groups (see :meth:`fit`).

        Returns
        -------
        mrr : float
            1 is perfect; higher is better, so GridSearchCV can tune the
            encoder with no other scorer.
        """
        from ..metrics import make_retrieval_scorer

        return make_retrieval_scorer("mrr")(self, X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags


fill_doc(
    ContrastiveDualEncoder, {"trainer": trainer_doc(max_epochs=100, batch_size=128, module="DualEncoder")}
)
