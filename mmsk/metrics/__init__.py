"""Metrics and scorers for multimodal models: cross-modal retrieval (recall@K, MRR)."""

from ._retrieval import (
    make_retrieval_scorer,
    mean_reciprocal_rank,
    recall_at_k,
    retrieval_ranks,
    view_embeddings,
)

__all__ = [
    "make_retrieval_scorer",
    "mean_reciprocal_rank",
    "recall_at_k",
    "retrieval_ranks",
    "view_embeddings",
]
