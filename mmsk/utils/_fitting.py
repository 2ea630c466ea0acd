"""Small pieces of ``fit`` that several estimators share: class encoding, skorch training."""

from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets


def encode_classes(estimator, y):
    """Set ``estimator.classes_`` and return y as codes 0..n_classes-1; refuse a single class."""
    check_classification_targets(y)
    enc = LabelEncoder().fit(y)
    estimator.classes_ = enc.classes_
    if len(enc.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs at least 2 classes; y has 1 class ({enc.classes_[0]!r})."
        )
    return enc.transform(y)


def train_float64(net, X, y=None, random_state=None):
    """Seed torch, initialise a skorch net, switch its module to float64 and train it.

    In float64 a row's output does not depend on the batch it is computed in, so
    predictions on a subset equal those on the whole (scikit-learn checks this).
    """
    import torch

    if random_state is not None:
        torch.manual_seed(random_state)
    net.initialize()
    net.module_.double()
    net.initialize_optimizer()
    return net.partial_fit(_tensor_rows(X, y), y)


def _tensor_rows(X, y):
    """The training data as torch tensors, indexed a whole batch at a time (see ``_torch_data``)."""
    from ._torch_data import TensorRows

    return TensorRows(X, y)


def batch_loader_class():
    """skorch's ``iterator_train`` / ``iterator_valid``: one fancy index per batch (see ``_torch_data``)."""
    from ._torch_data import BatchIndexLoader

    return BatchIndexLoader


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

    def _module_kwargs(self, module_class, defaults, from_data=("slices", "n_out")):
        """skorch's ``module__*`` arguments: ``defaults`` overridden by the user's ``module__*``."""
        import inspect

        names = self._module_param_names()
        stray = [k for k in names if not k.startswith("module__") or k == "module__"]
        if stray:
            raise TypeError(
                f"{type(self).__name__} got unexpected parameter(s) {stray}; besides its own parameters it "
                f"takes module__<name> arguments of its torch module."
            )
        accepted = set(inspect.signature(module_class).parameters) - {"self"}
        given = {k[len("module__") :]: getattr(self, k) for k in names}
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

    def _make_net(self, net_class, module, *, criterion, batch_size, stratified=False, **params):
        """A skorch net with the settings every mmsk deep estimator shares.

        Adam at the estimator's ``lr``, ``max_epochs``, shuffled batches drawn by
        the batch-index loader, the resolved ``device`` (stored as ``device_``),
        ``verbose``, and, when the estimator has ``early_stopping=True``, a
        validation split of ``validation_fraction`` (stratified if asked) with
        skorch's EarlyStopping (``patience``, best epoch restored). ``params``
        adds the module's and criterion's arguments and anything else.
        """
        import torch
        from skorch.callbacks import EarlyStopping
        from skorch.dataset import ValidSplit

        from ._device import resolve_device

        self.device_ = resolve_device(self.device)
        callbacks, split = [], None
        if getattr(self, "early_stopping", False):
            split = ValidSplit(
                self.validation_fraction, stratified=stratified, random_state=self.random_state
            )
            callbacks.append(("early_stopping", EarlyStopping(patience=self.patience, load_best=True)))
        loader = batch_loader_class()
        return net_class(
            module,
            criterion=criterion,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            iterator_train=loader,
            iterator_valid=loader,
            iterator_train__shuffle=True,
            train_split=split,
            callbacks=callbacks,
            device=self.device_,
            verbose=self.verbose,
            **params,
        )
