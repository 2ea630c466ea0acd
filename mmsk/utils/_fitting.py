"""Class encoding shared by every classifier's ``fit``."""

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
