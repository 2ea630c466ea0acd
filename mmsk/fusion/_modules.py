"""torch modules of the deep fusion estimators (imported on first use: importing mmsk does not import torch).

``FusionNet`` takes the views' columns side by side (missing views zero-filled)
and a mask of which views each row has; every fusion family reads the mask, so
a missing view is masked out, never taken as a real all-zero observation.
"""

import torch
import torch.nn as nn

from ._nets import FUSIONS

_MAX_TENSOR = 200_000  # largest outer-product size "tensor" fusion accepts


def mlp(d_in, hidden, d_out, dropout=0.0):
    """Linear layers of the sizes in ``hidden`` (ReLU and dropout after each), then one to ``d_out``."""
    layers, d = [], d_in
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU(), nn.Dropout(dropout)]
        d = h
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


def drop_views(mask, p, training):
    """Modality dropout: hide each present view of a row with probability p (training only).

    A row never loses every view: where all would go, it keeps its own mask.
    """
    if not training or p <= 0:
        return mask
    keep = (torch.rand_like(mask) >= p).to(mask.dtype) * mask
    empty = keep.sum(dim=1) == 0
    return torch.where(empty[:, None], mask, keep)


def _encoder(d_in, hidden, embed, dropout):
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, embed), nn.ReLU()
    )


def _head(d_in, hidden, n_out, dropout):
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))


class FusionNet(nn.Module):
    """Per-view MLP encoders and one fusion family; returns logits (or regression outputs).

    Parameters
    ----------
    slices : list of (int, int)
        Column range of each view in the input.
    n_out : int
        Outputs (classes or targets).
    fusion : str
        One of ``FUSIONS``.
    hidden : int
        Hidden width of the encoders and heads.
    embed : int
        Size of each view's embedding.
    rank : int
        Rank of ``"low_rank_tensor"`` fusion.
    dropout : float
        Dropout in encoders and heads.
    modality_dropout : float
        Training only: each present view of a row is masked out with this
        probability (at least one view is always kept).
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
    ):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion={fusion!r}; choose among {FUSIONS}.")
        self.slices = [tuple(s) for s in slices]
        self.fusion = fusion
        self.modality_dropout = modality_dropout
        V = len(self.slices)
        self.encoders = nn.ModuleList([_encoder(b - a, hidden, embed, dropout) for a, b in self.slices])
        if fusion in ("concat", "hybrid"):
            self.head = _head(V * embed + V, hidden, n_out, dropout)
        if fusion in ("late", "hybrid"):
            self.view_heads = nn.ModuleList([_head(embed, hidden, n_out, dropout) for _ in range(V)])
            self.view_logit_weights = nn.Parameter(torch.zeros(V))
        if fusion == "attention":
            self.att_proj = nn.Linear(embed, hidden)
            self.att_query = nn.Linear(hidden, 1, bias=False)
            self.head = _head(embed, hidden, n_out, dropout)
        if fusion == "tensor":
            size = (embed + 1) ** V
            if size > _MAX_TENSOR:
                raise ValueError(
                    f"tensor fusion of {V} views with embed={embed} makes a {size}-dimensional outer "
                    f"product; use fusion='low_rank_tensor' or a smaller embed."
                )
            self.head = _head(size, hidden, n_out, dropout)
        if fusion == "low_rank_tensor":
            self.factors = nn.ParameterList(
                [nn.Parameter(torch.randn(rank, embed + 1, hidden) * (embed + 1) ** -0.5) for _ in range(V)]
            )
            self.head = _head(hidden, hidden, n_out, dropout)
        if fusion == "gated":
            self.gmu_proj = nn.ModuleList([nn.Linear(embed, embed) for _ in range(V)])
            self.gmu_gate = nn.Linear(V * embed + V, V)
            self.head = _head(embed, hidden, n_out, dropout)
        self.last_weights_ = None

    def forward(self, x, mask):
        mask = drop_views(mask, self.modality_dropout, self.training)
        H = torch.stack([enc(x[:, a:b]) for enc, (a, b) in zip(self.encoders, self.slices)], dim=1)
        H = H * mask[:, :, None]  # (batch, views, embed); missing views are masked out
        n = H.shape[0]
        if self.fusion == "concat":
            return self.head(torch.cat([H.reshape(n, -1), mask], dim=1))
        if self.fusion in ("late", "hybrid"):
            logits = torch.stack([h(H[:, v]) for v, h in enumerate(self.view_heads)], dim=1)
            w = torch.softmax(self.view_logit_weights, dim=0)[None, :] * mask
            w = w / w.sum(dim=1, keepdim=True)
            self.last_weights_ = w.detach()
            late = (logits * w[:, :, None]).sum(dim=1)
            if self.fusion == "late":
                return late
            return late + self.head(torch.cat([H.reshape(n, -1), mask], dim=1))
        if self.fusion == "attention":
            scores = self.att_query(torch.tanh(self.att_proj(H))).squeeze(-1)
            scores = scores.masked_fill(mask == 0, float("-inf"))
            alpha = torch.softmax(scores, dim=1)
            self.last_weights_ = alpha.detach()
            return self.head((alpha[:, :, None] * H).sum(dim=1))
        ones = torch.ones(n, H.shape[1], 1, dtype=H.dtype, device=H.device)
        Z = torch.cat([H, ones], dim=2)  # [h_v; 1] per view, as in TFN
        if self.fusion == "tensor":
            out = Z[:, 0]
            for v in range(1, Z.shape[1]):
                out = (out[:, :, None] * Z[:, v, None, :]).reshape(n, -1)
            return self.head(out)
        if self.fusion == "low_rank_tensor":
            fused = None
            for v, factor in enumerate(self.factors):
                proj = torch.einsum("be,reh->brh", Z[:, v], factor)
                fused = proj if fused is None else fused * proj
            return self.head(fused.sum(dim=1))
        # gated multimodal unit: per-view tanh projections mixed by softmax gates over present views
        proj = torch.stack([torch.tanh(p(H[:, v])) for v, p in enumerate(self.gmu_proj)], dim=1)
        gates = self.gmu_gate(torch.cat([H.reshape(n, -1), mask], dim=1)).masked_fill(
            mask == 0, float("-inf")
        )
        gates = torch.softmax(gates, dim=1)
        self.last_weights_ = gates.detach()
        return self.head((gates[:, :, None] * proj).sum(dim=1))
