"""The one base of every torch-backed estimator: trainer parameters, net building, inputs, inference.

A deep estimator in mmsk is a scikit-learn estimator that builds a skorch net
in ``fit`` from X's views. What they all share lives here, once:

* the trainer parameters (``max_epochs``, ``lr``, ``weight_decay``,
  ``batch_size``, early stopping, ``device``, ``random_state``, ``verbose``),
  their constraints and their docstring fragment;
* skorch-style ``module__<name>`` parameters (:class:`ModuleParamsMixin`);
* building the skorch net (:meth:`BaseDeepEstimator._make_net`: Adam, the
  batch-index loader, device, precision, early stopping) and training it
  with the data placed on the device once, in ``dtype``
  (:meth:`BaseDeepEstimator._train_net`);
* the masked input of views side by side (:func:`masked_inputs`);
* inference, always in eval mode under ``torch.inference_mode``
  (:meth:`BaseDeepEstimator._infer`);
* the tags.

Each estimator keeps its torch module, its criterion, its module defaults
and its public methods. Importing this module does not import torch.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from ._compat import Interval, StrOptions

#: Rows per batch on a CUDA device when ``batch_size=None``: a small network is
#: bound by per-batch work on a GPU unless its batches are large.
CUDA_BATCH_SIZE = 1024

#: Rows per forward pass at inference (bounds the memory a prediction takes).
INFERENCE_CHUNK = 8192

#: The trainer parameters every deep estimator takes, with their constraints.
TRAINER_CONSTRAINTS = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "device": [str],
    "dtype": [StrOptions({"float32", "float64"})],
    "random_state": [Interval(Integral, 0, None, closed="left"), None],
    "verbose": ["verbose"],
}


def trainer_doc(*, max_epochs, batch_size, module):
    """The numpydoc entries of the trainer parameters, with one estimator's defaults.

    Parameters
    ----------
    max_epochs : int
        The estimator's default number of epochs.
    batch_size : int
        Its batch size on the CPU when ``batch_size=None``.
    module : str
        The name of its torch module, for the ``module__<name>`` entry.

    Returns
    -------
    doc : str
        Parameter entries, indented for a class docstring.
    """
    return f"""max_epochs : int, default={max_epochs}
    lr : float, default=1e-3
        Adam's learning rate.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    batch_size : int or None, default=None
        Rows per training batch. None: {batch_size} on the CPU and
        {CUDA_BATCH_SIZE} on a CUDA device, where a small network is bound by
        per-batch work unless batches are large. The value used is
        ``batch_size_``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows (stratified for
        a classifier) and stop when their loss has not improved for
        ``patience`` epochs, keeping the best epoch's weights.
    validation_fraction : float, default=0.1
    patience : int, default=5
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"`` (or ``"cuda:1"``, ...) or ``"auto"`` (CUDA when
        torch sees a GPU). On CUDA the training data move to the device once
        when they fit in its free memory, and are streamed from pinned memory
        otherwise.
    dtype : {{"float32", "float64"}}, default="float32"
        The precision the network trains and predicts in. float64 is about
        half as fast; in it a row's output does not depend on the batch it
        is computed in (to about 1e-12, against 1e-6 in float32), which
        scikit-learn's row-subset checks ask for.
    random_state : int or None, default=None
        Seeds torch (initial weights, batch order, random masking) and the
        validation split: the same seed gives the same model on the same
        device.
    verbose : int, default=0
        skorch's per-epoch table when > 0.
    **module_params
        ``module__<name>=value``: an argument of the torch module
        ({module}), as in skorch; it overrides what the parameters above give
        the module and can be searched by GridSearchCV
        (``"<step>__module__<name>"``)."""


def masked_inputs(X, masks, view_indices):
    """A deep estimator's input: the views side by side (a missing view zero-filled) and the view mask.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated, float64.
    masks : dict of str to ndarray of bool
        ``True`` where a row misses the view (from ``validate_multiview_data``).
    view_indices : dict of str to ndarray
        The views' column positions, in the order the module reads them.

    Returns
    -------
    inputs : dict
        ``{"x": (n_samples, n_view_columns), "mask": (n_samples, n_views)}``,
        float64; ``mask`` is 1 where the view is present.

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.utils._deep import masked_inputs
    >>> X = np.array([[1.0, 2.0, 3.0], [4.0, np.nan, np.nan]])
    >>> out = masked_inputs(X, {"a": np.array([False, False]), "b": np.array([False, True])},
    ...                     {"a": np.array([0]), "b": np.array([1, 2])})
    >>> out["x"].tolist(), out["mask"].tolist()
    ([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
    """
    idx = np.concatenate(list(view_indices.values()))
    x = np.nan_to_num(np.asarray(X[:, idx], dtype=np.float64), nan=0.0)
    mask = np.column_stack([~masks[v] for v in view_indices]).astype(np.float64)
    return {"x": x, "mask": mask}


class ModuleParamsMixin:
    """skorch-style ``module__<name>`` parameters next to an estimator's explicit ones.

    ``FusionClassifier(module__hidden=128)`` or a grid over
    ``"fusionclassifier__module__rank"`` set the torch module's constructor
    arguments directly, as in skorch. They override what the estimator's own
    parameters give the module. They are part of ``get_params``, so clone,
    pickle and GridSearchCV keep them. As scikit-learn asks, nothing is checked
    in ``__init__`` or ``set_params``: a keyword that is not ``module__<name>``,
    or a name the module does not take, is refused at ``fit``.
    """

    def _store_module_params(self, module_params):
        for key, value in module_params.items():
            setattr(self, key, value)

    def _module_param_names(self):
        """The keyword parameters given beyond the signature's named ones."""
        named = set(self._get_param_names())
        return sorted(
            k for k in vars(self) if not k.startswith("_") and not k.endswith("_") and k not in named
        )

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update({k: getattr(self, k) for k in self._module_param_names()})
        return params

    def set_params(self, **params):
        named = set(self._get_param_names())
        for key in [k for k in params if k.startswith("module__") or ("__" not in k and k not in named)]:
            setattr(self, key, params.pop(key))
        return super().set_params(**params)

    def _given_module_params(self):
        """The user's ``module__<name>`` values by ``<name>``; a stray keyword is refused."""
        names = self._module_param_names()
        stray = [k for k in names if not k.startswith("module__") or k == "module__"]
        if stray:
            raise TypeError(
                f"{type(self).__name__} got unexpected parameter(s) {stray}; besides its own parameters it "
                f"takes module__<name> arguments of its torch module."
            )
        return {k[len("module__") :]: getattr(self, k) for k in names}

    def _module_kwargs(self, module_class, defaults, from_data=("slices", "n_out"), given=None):
        """skorch's ``module__*`` arguments: ``defaults`` overridden by the user's ``module__*``."""
        import inspect

        given = self._given_module_params() if given is None else given
        accepted = set(inspect.signature(module_class).parameters) - {"self"}
        unknown = sorted(set(given) - accepted)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: {module_class.__name__} takes no parameter(s) "
                f"{['module__' + u for u in unknown]}; it takes {sorted(accepted - set(from_data))}."
            )
        fixed = sorted(set(given) & set(from_data))
        if fixed:
            raise ValueError(
                f"{type(self).__name__}: {['module__' + f for f in fixed]} are fixed by the estimator (from "
                f"X's views, y or its own parameters); they cannot be set as module parameters."
            )
        return {f"module__{k}": v for k, v in {**defaults, **given}.items()}


class BaseDeepEstimator(ModuleParamsMixin, BaseEstimator):
    """What every torch-backed estimator shares; see the module docstring.

    Subclasses set ``_cpu_batch_size`` (their batch size on the CPU when
    ``batch_size=None``), build their net with :meth:`_make_net`, train it
    with :meth:`_train_net` and run it with :meth:`_infer`.
    """

    _cpu_batch_size = 64

    def _resolve_batch_size(self, n_rows, device):
        """``batch_size``, or the device's default when None; never more than the rows."""
        size = self.batch_size
        if size is None:
            size = CUDA_BATCH_SIZE if device.startswith("cuda") else self._cpu_batch_size
        return max(1, min(int(size), int(n_rows)))

    def _make_net(self, kind, module, *, criterion, n_rows, stratified=False, **params):
        """A skorch net with the settings every mmsk deep estimator shares.

        ``kind`` is ``"net"``, ``"classifier"`` or ``"regressor"`` (skorch's
        NeuralNet, NeuralNetClassifier or NeuralNetRegressor; see ``_skorch``).
        Adam at ``lr`` with ``weight_decay``, ``max_epochs``, shuffled batches
        drawn by the batch-index loader, the resolved device (``device_``) and
        batch size (``batch_size_``), ``verbose``, and, with
        ``early_stopping=True``, a validation split of ``validation_fraction``
        (stratified if asked) with skorch's EarlyStopping (``patience``, best
        epoch restored). ``params`` adds the module's and criterion's
        arguments and anything else.
        """
        import torch
        from skorch.callbacks import EarlyStopping
        from skorch.dataset import ValidSplit

        from ._device import resolve_device
        from ._skorch import NETS
        from ._torch_data import BatchIndexLoader

        self.device_ = resolve_device(self.device)
        self.batch_size_ = self._resolve_batch_size(n_rows, self.device_)
        callbacks, split = [], None
        if self.early_stopping:
            split = ValidSplit(
                self.validation_fraction, stratified=stratified, random_state=self.random_state
            )
            callbacks.append(("early_stopping", EarlyStopping(patience=self.patience, load_best=True)))
        net = NETS[kind](
            module,
            criterion=criterion,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size_,
            iterator_train=BatchIndexLoader,
            iterator_valid=BatchIndexLoader,
            iterator_train__shuffle=True,
            train_split=split,
            callbacks=callbacks,
            device=self.device_,
            verbose=self.verbose,
            **params,
        )
        net.module_dtype = self.dtype  # the module is cast as it is built (see _skorch)
        return net

    def _train_net(self, X, y=None):
        """Initialise ``net_`` (its module in ``dtype``) and train it on (X, y), seeded.

        The data become tensors of the module's precision once, on the device
        when they fit there (see ``_torch_data.TensorRows``). With an integer
        ``random_state``, torch's random state (CPU, and the CUDA device in
        use) is seeded inside ``torch.random.fork_rng``: initialisation,
        dropout and shuffling are reproducible, and the caller's random state
        is as it was afterwards.
        """
        import torch

        from ._torch_data import TensorRows

        device = torch.device(self.device_)
        forked = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=forked, enabled=self.random_state is not None):
            if self.random_state is not None:
                torch.manual_seed(self.random_state)
            net = self.net_
            net.initialize()
            net.partial_fit(TensorRows(X, y, device=self.device_, dtype=self.dtype), y)
        return self

    def _infer(self, call, *arrays):
        """``call(module, *tensors)`` in eval mode without autograd, in row chunks; numpy out.

        Every deep estimator's inference goes through here, so dropout and
        batch norm always run in their inference behaviour.

        Parameters
        ----------
        call : callable
            ``call(module, *tensors) -> tensor or tuple of tensors``.
        *arrays : ndarray
            Row-aligned inputs, made tensors on ``device_``, floating ones of
            the module's precision.

        Returns
        -------
        out : ndarray or tuple of ndarray
            float64, whatever the module's precision.
        """
        import torch

        module = self.net_.module_
        module.eval()
        dtype = next(module.parameters()).dtype
        n = len(arrays[0])
        parts = []

        def tensor(a):
            a = np.asarray(a)
            return torch.as_tensor(a, dtype=dtype if a.dtype.kind == "f" else None, device=self.device_)

        def numpy(t):
            return t.cpu().numpy().astype(np.float64) if t.is_floating_point() else t.cpu().numpy()

        with torch.inference_mode():
            for start in range(0, max(n, 1), INFERENCE_CHUNK):
                out = call(module, *(tensor(a[start : start + INFERENCE_CHUNK]) for a in arrays))
                parts.append(tuple(numpy(o) for o in out) if isinstance(out, tuple) else numpy(out))
        if isinstance(parts[0], tuple):
            return tuple(np.concatenate(p) for p in zip(*parts))
        return np.concatenate(parts)

    def _infer_views(self, X, masks, width, call):
        """``call(module, columns, view=j)`` for each view j on the rows that have it, NaN elsewhere.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        masks : dict of str to ndarray of bool
            ``True`` where a row misses the view.
        width : int
            Columns of each view's output.
        call : callable
            ``call(module, tensor, view=j) -> tensor`` of shape (rows, width).

        Returns
        -------
        outputs : list of ndarray of shape (n_samples, width)
            One per view, in ``view_indices_`` order.
        """
        from functools import partial

        out = []
        for j, (view, idx) in enumerate(self.view_indices_.items()):
            Z = np.full((X.shape[0], width), np.nan)
            present = ~masks[view]
            if present.any():
                Z[present] = self._infer(partial(call, view=j), X[np.ix_(present, idx)])
            out.append(Z)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False  # only whole missing views
        tags.non_deterministic = self.random_state is None
        return tags
