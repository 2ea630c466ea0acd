"""Deep CCA (Andrew et al., 2013): a torch encoder per view trained by skorch on the CCA objective."""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np

from .._views import stacked_view_bounds
from ..utils._compat import Interval, StrOptions, _fit_context, check_is_fitted
from ..utils._deep import TRAINER_CONSTRAINTS, BaseDeepEstimator, trainer_doc
from ..utils._docs import fill_doc
from ._cca import CCA, _BaseCCA

_ACTIVATIONS = {"relu", "tanh", "sigmoid", "gelu"}


class DeepCCA(BaseDeepEstimator, _BaseCCA):
    """Deep CCA of two views: per-view MLP encoders trained to maximise canonical correlation.

    Each view's columns go through its own MLP (``hidden`` layers, then
    ``n_components`` outputs); the two encoders are trained together with
    skorch on minus the sum of the canonical correlations of their outputs
    over each mini-batch (Andrew et al., 2013). A linear :class:`CCA` fitted on
    the trained encoders' outputs then gives the canonical variates.

    Parameters
    ----------
    views : dict, list or None, default=None
        The two views; None reads them from ``<view>__<feature>`` names.
    n_components : int, default=2
        Outputs of each encoder and canonical variate pairs.
    hidden : tuple of int, default=(64,)
        Hidden layer sizes of each encoder.
    activation : {"relu", "tanh", "sigmoid", "gelu"}, default="relu"
    eps : float, default=1e-3
        Ridge added to the batch covariances in the objective.
    reg : float, default=1e-3
        Shrinkage of the final linear CCA (see :class:`CCA`).
    output : {"views", "shared"}, default="views"
    %(trainer)s

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained encoders (``net_.module_.towers``) and training history.
    batch_size_ : int
        The batch size used.
    device_ : str
        The device it trained on.
    cca_ : CCA
        The linear CCA on the encoders' outputs.
    view_indices_ : dict of str to ndarray
    canonical_correlations_ : ndarray of shape (n_components,)
        Training correlations of the variates.
    n_components_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    KernelCCA : non-linear CCA without training.

    Notes
    -----
    The network runs in ``dtype`` (in float64 a row's variates do not depend
    on the batch it is in); the loss is computed in float64. Rows missing a view are left out of training; in
    ``transform`` they get NaN for that view (and the other view's variates
    with ``output="shared"``).

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.align import DeepCCA
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(-2, 2, size=(500, 1))
    >>> X = np.hstack([t, t ** 2 + 0.05 * rng.normal(size=(500, 1))])
    >>> dcca = DeepCCA({"a": [0], "b": [1]}, n_components=1, max_epochs=30, random_state=0)
    >>> bool(dcca.fit(X).canonical_correlations_[0] > 0.9)
    True
    """

    _max_views = 2

    _parameter_constraints = {
        "views": [Mapping, None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden": [tuple, list],
        "activation": [StrOptions(_ACTIVATIONS)],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "reg": [Interval(Real, 0, 1, closed="both")],
        "output": [StrOptions({"views", "shared"})],
        **TRAINER_CONSTRAINTS,
        "batch_size": [Interval(Integral, 2, None, closed="left"), None],
    }
    _cpu_batch_size = 256

    def __init__(
        self,
        views=None,
        *,
        n_components=2,
        hidden=(64,),
        activation="relu",
        eps=1e-3,
        reg=1e-3,
        output="views",
        max_epochs=50,
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
        self.n_components = n_components
        self.hidden = hidden
        self.activation = activation
        self.eps = eps
        self.reg = reg
        self.output = output
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

    def _encode(self, X, masks):
        """Encoder outputs of each view (NaN rows where the view is missing), side by side."""
        return np.hstack(
            self._infer_views(X, masks, self.n_components, lambda module, x, view: module.towers[view](x))
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoders and the final linear CCA on the rows with both views.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """

        X, complete, masks = self._complete_rows(X, reset=True)
        n_ok = int(complete.sum())
        if n_ok < 2:
            raise ValueError(f"DeepCCA needs at least 2 rows with both views present; got {n_ok} sample(s).")
        idx = list(self.view_indices_.values())
        data = np.hstack([X[np.ix_(complete, i)] for i in idx]).astype(np.float64)
        from ._deep_cca_modules import CCALoss, TwoTower

        self.net_ = self._make_net(
            "net",
            TwoTower,
            criterion=CCALoss,
            n_rows=n_ok,
            criterion__eps=self.eps,
            module__slices=stacked_view_bounds(self.view_indices_),
            module__n_out=self.n_components,
            **self._module_kwargs(
                TwoTower,
                {"hidden": tuple(self.hidden), "activation": self.activation},
                from_data=("slices", "n_out"),
            ),
        )
        # no 1-row batch at the end: the batch covariances need two rows
        self.net_.set_params(iterator_train__drop_last=n_ok % self.batch_size_ == 1)
        self._train_net(data)
        H = self._encode(X, masks)
        views = {
            v: np.arange(j * self.n_components, (j + 1) * self.n_components)
            for j, v in enumerate(self.view_indices_)
        }
        self.cca_ = CCA(views, n_components=self.n_components, reg=self.reg, output=self.output)
        self.cca_.fit(H[complete])
        self.canonical_correlations_ = self.cca_.canonical_correlations_
        self.n_components_ = self.n_components
        self.n_features_out_ = self.cca_.n_features_out_
        self.weights_ = self.cca_.weights_  # marks the estimator fitted, as in the linear CCAs
        return self

    def transform(self, X, y=None):
        """Canonical variates of each view (or their average) after the trained encoders.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        Z : ndarray
        """
        check_is_fitted(self, "cca_")
        X, _, masks = self._complete_rows(X, reset=False)
        return self.cca_.transform(self._encode(X, masks))

    def _variates(self, X, masks):
        return self.cca_._variates(self._encode(X, masks), masks)

    def get_feature_names_out(self, input_features=None):
        """``<view>__deepcca<j>`` per view, or ``deepcca<j>`` for the shared output.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "cca_")
        return super().get_feature_names_out()


fill_doc(DeepCCA, {"trainer": trainer_doc(max_epochs=50, batch_size=256, module="TwoTower")})
