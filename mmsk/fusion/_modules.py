"""torch modules of the deep fusion estimators (imported on first use: importing mmsk does not import torch).

``FusionNet`` takes the views' columns side by side (missing views zero-filled)
and a mask of which views each row has. Each view goes through its encoder
(the built-in MLP or a module of the user's choosing) to an embedding; the
embeddings ``H`` (batch, views, embed) and the mask go to one fusion family
of the table in ``_families.py``. Every family reads the mask, so a missing view is
masked out, never taken as a real all-zero observation, and returns
``(output, weights)``: the logits (or regression outputs) and its per-row view
weights, or None when it has none.
"""

import importlib

import torch
import torch.nn as nn

from .._views import stacked_view_bounds
from ._families import FAMILIES
from ._sequence_modules import StepMLP, masked_mean

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


def family_module(name):
    """The module class of the fusion family ``name``, from the families' table."""
    if name not in FAMILIES:
        raise ValueError(f"fusion={name!r}; choose among {tuple(FAMILIES)}.")
    module, _, cls = FAMILIES[name].path.rpartition(".")
    return getattr(importlib.import_module(module), cls)


def mlp_encoder(n_features, embed, hidden=64, dropout=0.0):
    """The built-in view encoder: ``n_features -> hidden -> embed``, ReLU after each layer."""
    return nn.Sequential(
        nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, embed), nn.ReLU()
    )


def _checked_encoder(factory, kwargs, n_features, embed, view, n_steps=None):
    """``factory(n_features, embed, **kwargs)``, checked on a probe of two rows.

    A temporal encoder (``reads_sequences``) of a view of ``n_steps`` steps gets
    the features of one step and must map (rows, T, d) and the step mask to
    (rows, T, embed); any other encoder maps (rows, n_features) to (rows, embed).
    """
    temporal = bool(getattr(factory, "reads_sequences", False))
    if temporal and n_steps is None:
        raise ValueError(
            f"The encoder of view {view!r} reads sequences, but {view!r} is not a sequence view: name its "
            f"columns '<view>__t<step>_<feature>' (see mmsk.sequence_frame), or give it a plain encoder."
        )
    width = n_features // n_steps if temporal else n_features
    module = factory(width, embed, **kwargs)
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"The encoder of view {view!r} must build a torch.nn.Module; got {type(module).__name__}."
        )
    module.eval()
    with torch.no_grad():
        if temporal:
            shape = tuple(module(torch.zeros(2, n_steps, width), torch.ones(2, n_steps)).shape)
        else:
            shape = tuple(module(torch.zeros(2, n_features)).shape)
    module.train()
    expected = (2, n_steps, embed) if temporal else (2, embed)
    if shape != expected:
        given = f"(2, {n_steps}, {width})" if temporal else f"2 rows of {n_features} columns"
        raise ValueError(
            f"The encoder of view {view!r} maps {given} to shape {shape}; it must give {expected} "
            f"(the estimator's embed_dim is {embed})."
        )
    return module, temporal


class FusionNet(nn.Module):
    """Per-view encoders and one fusion family; returns logits (or regression outputs).

    Parameters
    ----------
    slices : list of (int, int)
        Column range of each view in the input.
    n_out : int
        Outputs (classes or targets).
    fusion : str
        A family of ``_families.FAMILIES``.
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
        One entry per view: None for the built-in encoder, or ``(factory,
        kwargs)`` where ``factory(n_features, embed, **kwargs)`` builds a
        module mapping the view's columns to its embedding (a temporal
        encoder, with ``reads_sequences``, gets a step's features and maps
        its steps to one embedding per step).
    names : sequence of str or None
        The views' names, for error messages.
    steps : sequence of int or None
        Steps T of each view: an int for a sequence view (its columns step
        after step), None for a plain view. The built-in encoder of a
        sequence view is :class:`StepMLP` in a temporal family and the MLP
        over all its columns in the others.

    The input is ``x`` (the views side by side), ``mask`` (rows, views) and,
    with sequence views, ``step_mask``: (rows, sum of their T), 1 where a step
    holds values. A temporal family reads each view's steps (a plain view as
    one step); the others read each view's mean over its present steps.
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
        steps=None,
    ):
        super().__init__()
        family = family_module(fusion)
        self.temporal = FAMILIES[fusion].temporal
        self.slices = [tuple(s) for s in slices]
        self.modality_dropout = modality_dropout
        V = len(self.slices)
        specs = list(encoders) if encoders is not None else [None] * V
        names = list(names) if names is not None else [str(v) for v in range(V)]
        self.steps = list(steps) if steps is not None else [None] * V
        modules, self.reads_steps = [], []
        for (a, b), spec, name, n_steps in zip(self.slices, specs, names, self.steps):
            if spec is None:
                spec = (
                    (StepMLP, {"hidden": hidden, "dropout": dropout}) if self.temporal and n_steps else None
                )
            if spec is None:
                module, temporal = mlp_encoder(b - a, embed, hidden, dropout), False
            else:
                module, temporal = _checked_encoder(spec[0], dict(spec[1]), b - a, embed, name, n_steps)
            modules.append(module)
            self.reads_steps.append(temporal)
        self.encoders = nn.ModuleList(modules)
        bounds = stacked_view_bounds([t or 0 for t in self.steps])
        self.step_slices = [bound if t else None for bound, t in zip(bounds, self.steps)]
        self.fusion = family(n_views=V, embed=embed, hidden=hidden, n_out=n_out, dropout=dropout, rank=rank)

    def encode(self, x, step_mask=None):
        """Each view's steps (rows, T, embed) and step mask (a plain view: one step)."""
        sequences, masks = [], []
        for enc, (a, b), n_steps, temporal, bounds in zip(
            self.encoders, self.slices, self.steps, self.reads_steps, self.step_slices
        ):
            if temporal:
                steps = step_mask[:, bounds[0] : bounds[1]]
                H = enc(x[:, a:b].reshape(len(x), n_steps, -1), steps) * steps[:, :, None]
            else:
                H, steps = enc(x[:, a:b])[:, None, :], torch.ones(len(x), 1, dtype=x.dtype, device=x.device)
            sequences.append(H)
            masks.append(steps)
        return sequences, masks

    def fuse(self, x, mask, step_mask=None):
        """``(output, weights)``: the fused output and the family's per-row view weights (or None)."""
        mask = drop_views(mask, self.modality_dropout, self.training)
        sequences, steps = self.encode(x, step_mask)
        if self.temporal:  # missing views are masked out
            sequences = [H * mask[:, v, None, None] for v, H in enumerate(sequences)]
            return self.fusion(sequences, steps, mask)
        H = torch.stack([masked_mean(seq, s) for seq, s in zip(sequences, steps)], dim=1)
        return self.fusion(H * mask[:, :, None], mask)

    def forward(self, x, mask, step_mask=None):
        return self.fuse(x, mask, step_mask)[0]
