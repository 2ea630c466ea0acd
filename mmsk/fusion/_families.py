"""The fusion families of the deep fusion estimators, by name: a plain table that imports nothing.

Each family is a torch module mapping ``(H, mask)`` (the views' embeddings,
(batch, views, embed), and which views each row has) to ``(output, weights or
None)``; a temporal family maps each view's steps instead (see
``_sequence_modules.py``). Parameter validation, ``mmsk.auto`` and the docs read this table
without importing torch; :class:`~mmsk.fusion.FusionClassifier`'s network
resolves the class from its dotted path when it is built. Adding a family is
one class and one entry here.
"""

from collections import namedtuple

#: What the table says of a family: its class as a dotted path, whether it gives per-row view
#: weights (attention, gates, mixing weights) that ``modality_weights`` returns, and whether it
#: reads each view's steps (a temporal family) rather than one pooled embedding per view.
Family = namedtuple("Family", ["path", "has_weights", "temporal"], defaults=[False])

#: Fusion family name -> Family, in the order the docs list them.
FAMILIES = {
    "concat": Family("mmsk.fusion._modules.ConcatFusion", False),
    "late": Family("mmsk.fusion._modules.LateFusion", True),
    "hybrid": Family("mmsk.fusion._modules.HybridFusion", True),
    "attention": Family("mmsk.fusion._modules.AttentionFusion", True),
    "tensor": Family("mmsk.fusion._modules.TensorFusion", False),
    "low_rank_tensor": Family("mmsk.fusion._modules.LowRankTensorFusion", False),
    "gated": Family("mmsk.fusion._modules.GatedFusion", True),
    "cross_attention": Family("mmsk.fusion._sequence_modules.CrossModalFusion", False, temporal=True),
    "temporal_concat": Family("mmsk.fusion._sequence_modules.TemporalConcatFusion", False, temporal=True),
}


def weighted_families():
    """The families with per-row view weights.

    Examples
    --------
    >>> from mmsk.fusion._families import weighted_families
    >>> weighted_families()
    ['late', 'hybrid', 'attention', 'gated']
    """
    return [name for name, family in FAMILIES.items() if family.has_weights]
