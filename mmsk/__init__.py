"""mmsk: multimodal learning as an ordinary scikit-learn workflow.

Multimodal data is one table. A modality union turns raw columns (text, image
paths, audio paths, numbers) into view-prefixed feature columns
(``audio__mfcc_0_mean``, ``image__px_12``); every mmsk estimator after it finds
those views by name, so Pipeline, GridSearchCV and cross_val_score just work.
"""

from ._views import (
    missing_view_masks,
    resolve_sequences,
    resolve_views,
    sequence_arrays,
    sequence_frame,
    view_feature_names,
)
from .compose import make_modality_union

__version__ = "0.1.0.dev0"

__all__ = [
    "__version__",
    "make_modality_union",
    "missing_view_masks",
    "resolve_sequences",
    "resolve_views",
    "sequence_arrays",
    "sequence_frame",
    "view_feature_names",
]
