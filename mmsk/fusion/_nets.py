"""FusionClassifier: deep multimodal fusion on skorch, the fusion family a searchable parameter."""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from .._views import stacked_view_bounds, validate_multiview_data
from ..utils._compat import Interval, StrOptions, check_is_fitted
from ..utils._fitting import ModuleParamsMixin, encode_classes, train_float64

#: The fusion families of :class:`FusionClassifier` (here, not beside the torch modules,
#: so that parameter validation does not import torch).
FUSIONS = ("concat", "late", "hybrid", "attention", "tensor", "low_rank_tensor", "gated")


class _BaseFusionNet(ModuleParamsMixin, BaseEstimator):
    """What FusionClassifier and FusionRegressor share: parameters, inputs, training, weights."""

    _parameter_constraints = {
        "views": [Mapping, None],
        "fusion": [StrOptions(set(FUSIONS))],
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "embed_dim": [Interval(Integral, 1, None, closed="left")],
        "rank": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "modality_dropout": [Interval(Real, 0, 1, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        views=None,
        *,
        fusion="concat",
        hidden=64,
        embed_dim=32,
        rank=4,
        dropout=0.0,
        modality_dropout=0.0,
        max_epochs=50,
        lr=1e-3,
        batch_size=64,
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        device="cpu",
        random_state=None,
        verbose=0,
        **module_params,
    ):
        self.views = views
        self.fusion = fusion
        self.hidden = hidden
        self.embed_dim = embed_dim
        self.rank = rank
        self.dropout = dropout
        self.modality_dropout = modality_dropout
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self._store_module_params(module_params)

    def _inputs(self, X, masks):
        """skorch's dict input: the views side by side (missing ones zero-filled) and the mask."""
        idx = np.concatenate(list(self.view_indices_.values()))
        x = np.nan_to_num(np.asarray(X[:, idx], dtype=np.float64), nan=0.0)
        mask = np.column_stack([~masks[v] for v in self.view_indices_]).astype(np.float64)
        return {"x": x, "mask": mask}

    def _train(self, X, y, masks, n_out, net_class, criterion, stratified, **net_params):
        """Build the skorch net for X's views and train it (float64) on (X, y)."""
        from ._modules import FusionNet

        self.net_ = self._make_net(
            net_class,
            FusionNet,
            criterion=criterion,
            batch_size=self.batch_size,
            stratified=stratified,
            module__slices=stacked_view_bounds(self.view_indices_),
            module__n_out=n_out,
            **self._module_kwargs(
                FusionNet,
                {
                    "fusion": self.fusion,
                    "hidden": self.hidden,
                    "embed": self.embed_dim,
                    "rank": self.rank,
                    "dropout": self.dropout,
                    "modality_dropout": self.modality_dropout,
                },
            ),
            **net_params,
        )
        train_float64(self.net_, self._inputs(X, masks), y, random_state=self.random_state)
        return self

    def _predict_inputs(self, X):
        check_is_fitted(self, "net_")
        X, masks = validate_multiview_data(self, X, reset=False, dtype=np.float64)
        return self._inputs(X, masks)

    def modality_weights(self, X):
        """Per-row weight of each view: attention (``"attention"``), gates (``"gated"``) or the
        renormalised late-fusion weights (``"late"``, ``"hybrid"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        weights : DataFrame of shape (n_samples, n_views)
            Rows sum to one; a missing view has weight 0.
        """
        import pandas as pd
        import torch

        if self.fusion not in ("attention", "gated", "late", "hybrid"):
            raise ValueError(
                f"fusion={self.fusion!r} has no per-modality weights; use 'attention', 'gated', "
                f"'late' or 'hybrid'."
            )
        inputs = self._predict_inputs(X)
        module = self.net_.module_
        module.eval()
        with torch.inference_mode():
            module(
                torch.as_tensor(inputs["x"], device=self.device_),
                torch.as_tensor(inputs["mask"], device=self.device_),
            )
        weights = module.last_weights_.cpu().numpy()
        return pd.DataFrame(weights, columns=list(self.view_indices_), index=getattr(X, "index", None))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False  # only whole missing views
        tags.non_deterministic = self.random_state is None
        return tags


class FusionClassifier(ClassifierMixin, _BaseFusionNet):
    """A deep multimodal classifier: per-view encoders and a fusion family, trained by skorch.

    Each view's columns go through its own MLP encoder; the embeddings are
    fused by ``fusion`` and a head gives the class logits. The view sizes come
    from X's views at fit. A row missing a view (all NaN) has it masked: every
    fusion family reads the mask, so a missing view is never taken as an
    all-zero observation. ``modality_dropout`` masks present views at random
    during training, so the model learns to cope with missing ones.

    Parameters
    ----------
    views : dict, list or None, default=None
        The views; None reads them from ``<view>__<feature>`` column names.
    fusion : {"concat", "late", "hybrid", "attention", "tensor", "low_rank_tensor", "gated"}, \
default="concat"
        ``"concat"``: early fusion of the embeddings (and the mask).
        ``"late"``: a head per view, logits mixed by learned weights
        renormalised over the views present. ``"hybrid"``: both, summed.
        ``"attention"``: per-row softmax attention over the present views.
        ``"tensor"``: the outer product of the ``[embedding, 1]`` vectors
        (Tensor Fusion Network). ``"low_rank_tensor"``: its low-rank
        factorisation (LMF). ``"gated"``: a gated multimodal unit.
    hidden : int, default=64
        Width of the encoders' and heads' hidden layers.
    embed_dim : int, default=32
        Size of each view's embedding.
    rank : int, default=4
        Rank of ``"low_rank_tensor"``.
    dropout : float, default=0.0
    modality_dropout : float, default=0.0
        Probability of masking each present view of a training row (one view
        is always kept).
    max_epochs : int, default=50
    lr : float, default=1e-3
        Adam's learning rate.
    batch_size : int, default=64
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows (stratified)
        and stop when the validation loss has not improved for ``patience``
        epochs, keeping the best weights.
    validation_fraction : float, default=0.1
    patience : int, default=5
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    random_state : int or None, default=None
        Seeds torch (initial weights, batches, modality dropout) and the
        validation split.
    verbose : int, default=0
        skorch's per-epoch table when > 0 (off by default).
    **module_params
        ``module__<name>=value``: an argument of the torch module (FusionNet),
        as in skorch; it overrides what the parameters above give the module
        and can be searched by GridSearchCV
        (``"<step>__module__<name>"``).

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The trained network (``net_.module_``) and its history.
    classes_ : ndarray
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    The network runs in float64, so a row's prediction does not depend on the
    batch it is in. Standardise the features first (a StandardScaler in the
    Pipeline, or per view in the modality union).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mmsk.fusion import FusionClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> net = FusionClassifier({"sepal": [0, 1], "petal": [2, 3]}, fusion="attention",
    ...                        max_epochs=60, lr=1e-2, random_state=0).fit(X, y)
    >>> bool(net.score(X, y) > 0.9)
    True
    >>> net.modality_weights(X[:2]).shape
    (2, 2)
    """

    def fit(self, X, y):
        """Train the encoders, the fusion and the head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        import torch
        from skorch import NeuralNetClassifier

        self._validate_params()
        X, y, masks = validate_multiview_data(self, X, y, reset=True, dtype=np.float64)
        codes = encode_classes(self, y).astype(np.int64)
        return self._train(
            X,
            codes,
            masks,
            len(self.classes_),
            NeuralNetClassifier,
            torch.nn.CrossEntropyLoss,
            stratified=True,
            classes=np.arange(len(self.classes_)),
        )

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        inputs = self._predict_inputs(X)
        return self.net_.predict_proba(inputs)

    def predict(self, X):
        """Predicted classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "net_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class FusionRegressor(RegressorMixin, _BaseFusionNet):
    """A deep multimodal regressor: per-view encoders and a fusion family, trained by skorch.

    The same network and parameters as :class:`FusionClassifier` (see it for
    every parameter), with a linear output per target and the mean squared
    error. Standardise the targets as well as the features when their scales
    differ (e.g. with :class:`~sklearn.compose.TransformedTargetRegressor`).

    Parameters
    ----------
    views, fusion, hidden, embed_dim, rank, dropout, modality_dropout, \
max_epochs, lr, batch_size, early_stopping, validation_fraction, patience, \
device, random_state, verbose, **module_params
        As in :class:`FusionClassifier`.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
    n_outputs_ : int
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.fusion import FusionRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4))
    >>> y = X[:, 0] * X[:, 2]  # a product across the two views
    >>> net = FusionRegressor({"a": [0, 1], "b": [2, 3]}, fusion="low_rank_tensor",
    ...                       max_epochs=80, lr=1e-2, random_state=0).fit(X, y)
    >>> bool(net.score(X, y) > 0.8)
    True
    """

    def fit(self, X, y):
        """Train the encoders, the fusion and the head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : object
        """
        import torch
        from skorch import NeuralNetRegressor

        self._validate_params()
        X, y, masks = validate_multiview_data(
            self, X, y, reset=True, dtype=np.float64, multi_output=True, y_numeric=True
        )
        self._y_1d_ = np.ndim(y) == 1
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        self.n_outputs_ = Y.shape[1]
        return self._train(
            X, Y, masks, self.n_outputs_, NeuralNetRegressor, torch.nn.MSELoss, stratified=False
        )

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self, "net_")
        out = self.net_.predict(self._predict_inputs(X))
        return out.ravel() if self._y_1d_ else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
