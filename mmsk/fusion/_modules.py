"""torch modules of the deep fusion estimators (imported on first use: importing mmsk does not import torch).

``FusionNet`` takes the views' columns side by side (missing views zero-filled)
and a mask of which views each row has. Each view goes through its encoder
(the built-in MLP or a module of the user's choosing) to an embedding; the
embeddings ``H`` (batch, views, embed) and the mask go to one fusion family
from ``FUSION_FAMILIES``. Every family reads the mask, so a missing view is
masked out, never taken as a real all-zero observation, and returns
``(output, weights)``: the logits (or regression outputs) and its per-row view
weights, or None when it has none.
"""

import torch
import torch.nn as nn

from ._nets import FUSIONS

_MAX_TENSOR = 200_000  # largest outer-product size "tensor" fusion accepts


def drop_views(mask, p, training):
    """Modality dropout: hide each present view of a row with probability p (training only).

    A row never loses every view: where all would go, it keeps its own mask.
    """
    if not training or p <= 0:
        return mask
    keep = (torch.rand_like(mask) >= p).to(mask.dtype) * mask
    empty = keep.sum(dim=1) == 0
    return torch.where(empty[:, None], mask, keep)


def _head(d_in, hidden, n_out, dropout):
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))


def _masked_softmax(scores, mask):
    """Softmax over the views a row has; a missing view gets weight 0."""
    return torch.softmax(scores.masked_fill(mask == 0, float("-inf")), dim=1)


# Every family takes the same keyword arguments (``n_views, embed, hidden, n_out,
# dropout, rank``) and maps ``(H, mask)`` to ``(output, weights or None)``.


class ConcatFusion(nn.Module):
    """Early fusion of the embeddings: one head over ``[h_1, ..., h_V, mask]``."""

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4):
        super().__init__()
        self.head = _head(n_views * embed + n_views, hidden, n_out, dropout)

    def forward(self, H, mask):
        return self.head(torch.cat([H.reshape(len(H), -1), mask], dim=1)), None


class LateFusion(nn.Module):
    """A head per view; the logits mixed by learned weights renormalised over the present views."""

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4):
        super().__init__()
        self.view_heads = nn.ModuleList([_head(embed, hidden, n_out, dropout) for _ in range(n_views)])
        self.view_logit_weights = nn.Parameter(torch.zeros(n_views))

    def forward(self, H, mask):
        logits = torch.stack([h(H[:, v]) for v, h in enumerate(self.view_heads)], dim=1)
        w = torch.softmax(self.view_logit_weights, dim=0)[None, :] * mask
        w = w / w.sum(dim=1, keepdim=True)
        return (logits * w[:, :, None]).sum(dim=1), w


class HybridFusion(nn.Module):
    """Late fusion plus early fusion, their outputs summed; the weights are late fusion's."""

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4):
        super().__init__()
        self.late = LateFusion(n_views, embed, hidden, n_out, dropout)
        self.early = ConcatFusion(n_views, embed, hidden, n_out, dropout)

    def forward(self, H, mask):
        late, w = self.late(H, mask)
        return late + self.early(H, mask)[0], w


class AttentionFusion(nn.Module):
    """Per-row additive attention over the present views' embeddings, then one head."""

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4):
        super().__init__()
        self.proj = nn.Linear(embed, hidden)
        self.query = nn.Linear(hidden, 1, bias=False)
        self.head = _head(embed, hidden, n_out, dropout)

    def forward(self, H, mask):
        alpha = _masked_softmax(self.query(torch.tanh(self.proj(H))).squeeze(-1), mask)
        return self.head((alpha[:, :, None] * H).sum(dim=1)), alpha


def _with_one(H):
    """``[h_v; 1]`` per view, as in the Tensor Fusion Network."""
    ones = torch.ones(H.shape[0], H.shape[1], 1, dtype=H.dtype, device=H.device)
    return torch.cat([H, ones], dim=2)


class TensorFusion(nn.Module):
    """The outer product of the views' ``[h_v; 1]`` vectors (Tensor Fusion Network), then one head."""

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4):
        super().__init__()
        size = (embed + 1) ** n_views
        if size > _MAX_TENSOR:
            raise ValueError(
                f"tensor fusion of {n_views} views with embed={embed} makes a {size}-dimensional outer "
                f"product; use fusion='low_rank_tensor' or a smaller embed."
            )
        self.head = _head(size, hidden, n_out, dropout)

    def forward(self, H, mask):
        Z = _with_one(H)
        out = Z[:, 0]
        for v in range(1, Z.shape[1]):
            out = (out[:, :, None] * Z[:, v, None, :]).reshape(len(H), -1)
        return self.head(out), None


class LowRankTensorFusion(nn.Module):
    """The tensor fusion's rank-``rank`` factorisation (LMF, Liu et al., 2018), then one head."""

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4):
        super().__init__()
        self.factors = nn.ParameterList(
            [nn.Parameter(torch.randn(rank, embed + 1, hidden) * (embed + 1) ** -0.5) for _ in range(n_views)]
        )
        self.head = _head(hidden, hidden, n_out, dropout)

    def forward(self, H, mask):
        Z = _with_one(H)
        fused = None
        for v, factor in enumerate(self.factors):
            proj = torch.einsum("be,reh->brh", Z[:, v], factor)
            fused = proj if fused is None else fused * proj
        return self.head(fused.sum(dim=1)), None


class GatedFusion(nn.Module):
    """Gated multimodal unit: per-view tanh projections mixed by softmax gates over the present views."""

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4):
        super().__init__()
        self.proj = nn.ModuleList([nn.Linear(embed, embed) for _ in range(n_views)])
        self.gate = nn.Linear(n_views * embed + n_views, n_views)
        self.head = _head(embed, hidden, n_out, dropout)

    def forward(self, H, mask):
        proj = torch.stack([torch.tanh(p(H[:, v])) for v, p in enumerate(self.proj)], dim=1)
        gates = _masked_softmax(self.gate(torch.cat([H.reshape(len(H), -1), mask], dim=1)), mask)
        return self.head((gates[:, :, None] * proj).sum(dim=1)), gates


#: Fusion family name -> module class; adding a family is one class and one entry.
FUSION_FAMILIES = {
    "concat": ConcatFusion,
    "late": LateFusion,
    "hybrid": HybridFusion,
    "attention": AttentionFusion,
    "tensor": TensorFusion,
    "low_rank_tensor": LowRankTensorFusion,
    "gated": GatedFusion,
}
assert tuple(FUSION_FAMILIES) == FUSIONS, "FUSIONS in _nets.py lists the families without importing torch"


def mlp_encoder(n_features, embed, hidden=64, dropout=0.0):
    """The built-in view encoder: ``n_features -> hidden -> embed``, ReLU after each layer."""
    return nn.Sequential(
        nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, embed), nn.ReLU()
    )


def _checked_encoder(factory, kwargs, n_features, embed, view):
    """``factory(n_features, embed, **kwargs)``, checked to map (rows, n_features) to (rows, embed)."""
    module = factory(n_features, embed, **kwargs)
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"The encoder of view {view!r} must build a torch.nn.Module; got {type(module).__name__}."
        )
    module.eval()
    with torch.no_grad():
        shape = tuple(module(torch.zeros(2, n_features)).shape)
    module.train()
    if shape != (2, embed):
        raise ValueError(
            f"The encoder of view {view!r} maps 2 rows of {n_features} columns to shape {shape}; it must "
            f"give (rows, {embed}) (the estimator's embed_dim)."
        )
    return module


class FusionNet(nn.Module):
    """Per-view encoders and one fusion family; returns logits (or regression outputs).

    Parameters
    ----------
    slices : list of (int, int)
        Column range of each view in the input.
    n_out : int
        Outputs (classes or targets).
    fusion : str
        A key of ``FUSION_FAMILIES``.
    hidden : int
        Hidden width of the built-in encoders and of the heads.
    embed : int
        Size of each view's embedding.
    rank : int
        Rank of ``"low_rank_tensor"`` fusion.
    dropout : float
        Dropout in the built-in encoders and the heads.
    modality_dropout : float
        Training only: each present view of a row is masked out with this
        probability (at least one view is always kept).
    encoders : sequence or None
        One entry per view: None for the built-in MLP, or ``(factory,
        kwargs)`` where ``factory(n_features, embed, **kwargs)`` builds a
        module mapping the view's columns to its embedding.
    names : sequence of str or None
        The views' names, for error messages.
    """

    def __init__(
        self,
        slices=((0, 1), (1, 2)),
        n_out=2,
        fusion="concat",
        hidden=64,
        embed=32,
        rank=4,
        dropout=0.0,
        modality_dropout=0.0,
        encoders=None,
        names=None,
    ):
        super().__init__()
        if fusion not in FUSION_FAMILIES:
            raise ValueError(f"fusion={fusion!r}; choose among {tuple(FUSION_FAMILIES)}.")
        self.slices = [tuple(s) for s in slices]
        self.modality_dropout = modality_dropout
        V = len(self.slices)
        specs = list(encoders) if encoders is not None else [None] * V
        names = list(names) if names is not None else [str(v) for v in range(V)]
        self.encoders = nn.ModuleList(
            [
                mlp_encoder(b - a, embed, hidden, dropout)
                if spec is None
                else _checked_encoder(spec[0], dict(spec[1]), b - a, embed, name)
                for (a, b), spec, name in zip(self.slices, specs, names)
            ]
        )
        self.fusion = FUSION_FAMILIES[fusion](
            n_views=V, embed=embed, hidden=hidden, n_out=n_out, dropout=dropout, rank=rank
        )

    def fuse(self, x, mask):
        """``(output, weights)``: the fused output and the family's per-row view weights (or None)."""
        mask = drop_views(mask, self.modality_dropout, self.training)
        H = torch.stack([enc(x[:, a:b]) for enc, (a, b) in zip(self.encoders, self.slices)], dim=1)
        return self.fusion(H * mask[:, :, None], mask)  # missing views are masked out

    def forward(self, x, mask):
        return self.fuse(x, mask)[0]
