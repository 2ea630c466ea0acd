"""Small pieces of ``fit`` that several estimators share: class encoding, skorch training."""

import numpy as np
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


def view_slices(view_indices):
    """(start, end) of each view when the views' columns are laid side by side."""
    edges = np.cumsum([0] + [len(i) for i in view_indices.values()])
    return [(int(edges[j]), int(edges[j + 1])) for j in range(len(edges) - 1)]


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
