"""Multimodal autoencoder and VAE: a shared latent of every view, reconstruct any view from the others."""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.base import TransformerMixin

from .._views import stacked_view_bounds, validate_multiview_data
from ..utils._compat import Interval, _fit_context, check_is_fitted
from ..utils._deep import TRAINER_CONSTRAINTS, BaseDeepEstimator, masked_inputs, trainer_doc
from ..utils._docs import fill_doc

_COMMON = """views : dict, list or None, default=None
        The views (two or more); None reads them from ``<view>__<feature>``
        column names.
    latent_dim : int, default=16
        Size of the shared latent space.
    hidden : tuple of int, default=(64,)
        Hidden layer sizes of each view's encoder (the decoders mirror them).
    dropout : float, default=0.0
    modality_dropout : float, default=0.3
        Training only: each present view of a row is hidden from the encoders
        with this probability (one view is always kept) but still
        reconstructed, which teaches the model to fill in a missing view.
    %(trainer)s"""

_ATTRIBUTES = """net_ : skorch.NeuralNet
        The trained encoders and decoders (``net_.module_``), and the history.
    batch_size_ : int
        The batch size used.
    device_ : str
        The device it trained on.
    view_indices_ : dict of str to ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str"""


class _BaseMultimodalAE(TransformerMixin, BaseDeepEstimator):
    _variational = False

    _parameter_constraints = {
        "views": [Mapping, None],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "modality_dropout": [Interval(Real, 0, 1, closed="left")],
        **TRAINER_CONSTRAINTS,
    }

    def _validate(self, X, reset):
        X, masks = validate_multiview_data(
            self, X, reset=reset, min_views=2, allow_missing_views=True, dtype=np.float64
        )
        return masked_inputs(X, masks, self.view_indices_)

    def _net_params(self):
        return {}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoders and decoders to reconstruct every present view.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Views as column groups; a row may miss views (all NaN), not all.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """

        from ._autoencoder_modules import MultimodalAE, ReconstructionLoss

        inputs = self._validate(X, reset=True)
        n = len(inputs["x"])
        if n < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 samples; got {n} sample.")
        slices = stacked_view_bounds(self.view_indices_)
        self.net_ = self._make_net(
            "net",
            MultimodalAE,
            criterion=ReconstructionLoss,
            n_rows=n,
            criterion__slices=slices,
            module__slices=slices,
            module__latent_dim=self.latent_dim,
            module__variational=self._variational,
            **self._module_kwargs(
                MultimodalAE,
                {
                    "hidden": tuple(self.hidden),
                    "dropout": self.dropout,
                    "modality_dropout": self.modality_dropout,
                },
                from_data=("slices", "latent_dim", "variational"),
            ),
            **self._net_params(),
        )
        self._train_net(inputs, np.hstack([inputs["x"], inputs["mask"]]))
        self.n_features_out_ = self.latent_dim
        return self

    def _run(self, inputs, what):
        """The latent (posterior mean) or its decoding, from each row's present views."""

        def run(module, x, mask):
            mu, _ = module.encode(x, mask)
            return mu if what == "latent" else module.decode(mu)

        return self._infer(run, inputs["x"], inputs["mask"])

    def transform(self, X, y=None):
        """The shared latent of each row, from the views it has.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            The latent (the posterior mean for the VAE).
        """
        check_is_fitted(self, "net_")
        return self._run(self._validate(X, reset=False), "latent")

    def inverse_transform(self, Z):
        """Decode latents into every view: an array in X's column layout.

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim)

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features_in_)
            Columns outside every view are NaN.
        """
        check_is_fitted(self, "net_")
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.latent_dim:
            raise ValueError(f"Z must have shape (n_samples, {self.latent_dim}); got {Z.shape}.")
        return self._scatter(self._infer(lambda module, z: module.decode(z), Z))

    def _scatter(self, rec):
        out = np.full((len(rec), self.n_features_in_), np.nan)
        out[:, np.concatenate(list(self.view_indices_.values()))] = rec
        return out

    def reconstruct(self, X):
        """Every view of every row, reconstructed from the views the row has.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "net_")
        return self._scatter(self._run(self._validate(X, reset=False), "reconstruction"))

    def impute(self, X):
        """X with each missing view filled in from the row's other views; present values unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_filled : ndarray or DataFrame of shape (n_samples, n_features)
            A DataFrame (same index and columns) when X is one.
        """
        check_is_fitted(self, "net_")
        inputs = self._validate(X, reset=False)
        rec = self._scatter(self._run(inputs, "reconstruction"))
        values = np.array(X, dtype=np.float64)
        for j, idx in enumerate(self.view_indices_.values()):
            missing = inputs["mask"][:, j] == 0
            values[np.ix_(missing, idx)] = rec[np.ix_(missing, idx)]
        if hasattr(X, "columns"):
            import pandas as pd

            return pd.DataFrame(values, index=X.index, columns=X.columns)
        return values

    def get_feature_names_out(self, input_features=None):
        """``latent0``, ``latent1``, ...

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "net_")
        return np.asarray([f"latent{j}" for j in range(self.latent_dim)], dtype=object)


class MultimodalAutoencoder(_BaseMultimodalAE):
    """Multimodal autoencoder: one shared latent from all views, every view reconstructed from it.

    Each view has an MLP encoder; a row's latent is the mean of the codes of
    the views it has. Each view has an MLP decoder from the latent. Training
    (skorch) minimises the reconstruction error of every present view, with
    ``modality_dropout`` hiding views from the encoders so that the model
    learns to reconstruct a view from the others. ``transform`` gives the
    latent, :meth:`impute` fills missing views, :meth:`reconstruct` and
    :meth:`inverse_transform` decode.

    Parameters
    ----------
    %(common)s

    Attributes
    ----------
    %(attributes)s

    See Also
    --------
    MultimodalVAE : the variational version.

    Notes
    -----
    Standardise the views first (e.g. ``StandardScaler``): the loss is the
    mean squared error per view, each view counting equally. The network runs
    in ``dtype`` (in float64 a row's latent does not depend on its batch).

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.fusion import MultimodalAutoencoder
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(400, 2))
    >>> X = np.hstack([Z @ rng.normal(size=(2, 5)), np.tanh(Z @ rng.normal(size=(2, 4)))])
    >>> ae = MultimodalAutoencoder({"a": range(5), "b": range(5, 9)}, latent_dim=2,
    ...                            max_epochs=40, lr=1e-2, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (400, 2)
    >>> X_missing = X.copy(); X_missing[:, 5:] = np.nan  # view b lost on every row
    >>> filled = ae.impute(X_missing)
    >>> bool(np.corrcoef(filled[:, 5], X[:, 5])[0, 1] > 0.8)
    True
    """

    def __init__(
        self,
        views=None,
        *,
        latent_dim=16,
        hidden=(64,),
        dropout=0.0,
        modality_dropout=0.3,
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
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.dropout = dropout
        self.modality_dropout = modality_dropout
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


class MultimodalVAE(_BaseMultimodalAE):
    """Multimodal variational autoencoder with a product-of-experts posterior (MVAE).

    Each view's encoder gives a Gaussian expert over the shared latent; a
    row's posterior is the product of its present views' experts and a
    standard normal prior (Wu and Goodman, 2018), so any subset of views gives
    a posterior and a missing view simply contributes no expert. Each view's
    decoder reconstructs it from a latent sample. Training (skorch) minimises
    the per-view reconstruction error plus ``beta`` times the KL divergence to
    the prior, with ``modality_dropout`` as in
    :class:`MultimodalAutoencoder`. ``transform`` gives the posterior mean.

    Parameters
    ----------
    %(common)s
    beta : float, default=1.0
        Weight of the KL term (per input feature, on the scale of the mean
        squared error); smaller keeps more detail, larger a smoother latent.

    Attributes
    ----------
    %(attributes)s

    See Also
    --------
    MultimodalAutoencoder : the deterministic version.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.fusion import MultimodalVAE
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(400, 2))
    >>> X = np.hstack([Z @ rng.normal(size=(2, 5)), Z @ rng.normal(size=(2, 4))])
    >>> vae = MultimodalVAE({"a": range(5), "b": range(5, 9)}, latent_dim=2, beta=0.1,
    ...                     max_epochs=40, lr=1e-2, random_state=0).fit(X)
    >>> X_missing = X.copy(); X_missing[:, 5:] = np.nan
    >>> bool(np.corrcoef(vae.impute(X_missing)[:, 5], X[:, 5])[0, 1] > 0.8)
    True
    """

    _variational = True
    _parameter_constraints = {
        **_BaseMultimodalAE._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        views=None,
        *,
        latent_dim=16,
        hidden=(64,),
        dropout=0.0,
        modality_dropout=0.3,
        beta=1.0,
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
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.dropout = dropout
        self.modality_dropout = modality_dropout
        self.beta = beta
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

    def _net_params(self):
        return {"criterion__beta": self.beta}


for _cls in (MultimodalAutoencoder, MultimodalVAE):
    fill_doc(
        _cls,
        {
            "common": _COMMON
            % {"trainer": trainer_doc(max_epochs=100, batch_size=64, module="MultimodalAE")},
            "attributes": _ATTRIBUTES,
        },
    )
