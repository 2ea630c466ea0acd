"""torch modules for sequence views: temporal encoders and the fusion families that read time.

A *temporal encoder* maps a view's steps ``x`` (rows, T, d) and its step mask
``steps`` (rows, T; 1 where the step holds values, 0 for padding) to one
embedding per step (rows, T, embed). It says so with the class attribute
``reads_sequences = True``; :class:`~mmsk.fusion.FusionClassifier` builds it as
``factory(n_features=d, embed_dim, **kwargs)``. A pooled fusion family gets the
mean of its present steps; a temporal family gets the steps themselves.

A *temporal family* maps ``(sequences, step_masks, mask)`` (one (rows, T_v,
embed) sequence and (rows, T_v) mask per view, a static view as one step; and
the view mask) to ``(output, weights or None)``, as the pooled families map
``(H, mask)``.
"""

import math

import torch
import torch.nn as nn

from ..utils._nn import mlp


def masked_mean(H, steps):
    """The mean over the present steps of (rows, T, embed); 0 for a row with none."""
    weight = steps[:, :, None]
    return (H * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)


def positions(n_steps, dim, dtype, device):
    """Sinusoidal position encodings (T, dim), as in "Attention is all you need"."""
    position = torch.arange(n_steps, dtype=dtype, device=device)[:, None]
    scale = torch.exp(torch.arange(0, dim, 2, dtype=dtype, device=device) * (-math.log(10000.0) / dim))
    out = torch.zeros(n_steps, dim, dtype=dtype, device=device)
    out[:, 0::2] = torch.sin(position * scale)
    out[:, 1::2] = torch.cos(position * scale)[:, : dim // 2]
    return out


def _padding(steps):
    """A key padding mask (True: ignore) that leaves one key to a row without any, so softmax stays finite."""
    padding = steps == 0
    empty = padding.all(dim=1)
    return padding & ~(empty[:, None] & (torch.arange(steps.shape[1], device=steps.device) == 0)[None, :])


def run_recurrent(rnn, x, steps):
    """A batch-first recurrent layer over each row's steps up to its length (padding is trailing)."""
    lengths = steps.sum(dim=1).clamp(min=1).long().cpu()
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out


class StepMLP(nn.Module):
    """The same small MLP at every step: ``d -> hidden -> embed``, ReLU after each layer.

    The default encoder of a sequence view in a temporal fusion family.

    Examples
    --------
    >>> import torch
    >>> from mmsk.fusion import StepMLP
    >>> tuple(StepMLP(3, 8)(torch.zeros(2, 5, 3), torch.ones(2, 5)).shape)
    (2, 5, 8)
    """

    reads_sequences = True

    def __init__(self, n_features, embed_dim, hidden=64, dropout=0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, embed_dim),
            nn.ReLU(),
        )

    def forward(self, x, steps):
        return self.net(x)


class GRUEncoder(nn.Module):
    """A GRU (or LSTM) over a sequence view's steps, padding skipped; one embedding per step.

    Parameters
    ----------
    n_features : int
        Features of each step; given by the estimator.
    embed_dim : int
        Size of each step's embedding; given by the estimator.
    hidden : int, default=64
        Hidden size of the recurrent layers (of each direction).
    layers : int, default=1
    bidirectional : bool, default=False
    cell : {"gru", "lstm"}, default="gru"
    dropout : float, default=0.0
        Dropout between recurrent layers and before the output map.

    Examples
    --------
    >>> import torch
    >>> from mmsk.fusion import GRUEncoder
    >>> steps = torch.tensor([[1.0, 1, 1, 0], [1, 1, 1, 1]])  # the first row is three steps long
    >>> tuple(GRUEncoder(3, 8, hidden=4, bidirectional=True)(torch.randn(2, 4, 3), steps).shape)
    (2, 4, 8)
    """

    reads_sequences = True

    def __init__(
        self, n_features, embed_dim, hidden=64, layers=1, bidirectional=False, cell="gru", dropout=0.0
    ):
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm'; got {cell!r}.")
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(
            n_features,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.out = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(hidden * (2 if bidirectional else 1), embed_dim)
        )

    def forward(self, x, steps):
        return self.out(run_recurrent(self.rnn, x, steps))


class TransformerSequenceEncoder(nn.Module):
    """A transformer encoder over a view's steps, with sinusoidal positions and a key-padding mask.

    Parameters
    ----------
    n_features : int
        Features of each step; given by the estimator.
    embed_dim : int
        Model width and the size of each step's embedding; given by the estimator.
    heads : int, default=4
        Attention heads; must divide ``embed_dim``.
    layers : int, default=2
    feedforward : int, default=None
        Width of the feed-forward layers; None: ``2 * embed_dim``.
    dropout : float, default=0.0

    Examples
    --------
    >>> import torch
    >>> from mmsk.fusion import TransformerSequenceEncoder
    >>> encoder = TransformerSequenceEncoder(3, 8, heads=2, layers=1)
    >>> tuple(encoder(torch.randn(2, 6, 3), torch.ones(2, 6)).shape)
    (2, 6, 8)
    """

    reads_sequences = True

    def __init__(self, n_features, embed_dim, heads=4, layers=2, feedforward=None, dropout=0.0):
        super().__init__()
        if embed_dim % heads:
            raise ValueError(
                f"TransformerSequenceEncoder: heads={heads} does not divide embed_dim={embed_dim}; set "
                f"module__encoders__<view>__heads to a divisor."
            )
        self.embed = nn.Linear(n_features, embed_dim)
        layer = nn.TransformerEncoderLayer(
            embed_dim, heads, dim_feedforward=feedforward or 2 * embed_dim, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x, steps):
        h = self.embed(x) + positions(x.shape[1], self.embed.out_features, x.dtype, x.device)
        return self.encoder(h, src_key_padding_mask=_padding(steps))


class ConvSequenceEncoder(nn.Module):
    """1-D convolutions over a view's steps (same length out), padding steps zeroed between layers.

    Parameters
    ----------
    n_features : int
        Features of each step; given by the estimator.
    embed_dim : int
        Channels of the last layer: each step's embedding; given by the estimator.
    channels : int, default=64
    kernel_size : int, default=3
        Odd, so that each step's output is centred on it.
    layers : int, default=2
    dropout : float, default=0.0

    Examples
    --------
    >>> import torch
    >>> from mmsk.fusion import ConvSequenceEncoder
    >>> tuple(ConvSequenceEncoder(3, 8, channels=4)(torch.randn(2, 7, 3), torch.ones(2, 7)).shape)
    (2, 7, 8)
    """

    reads_sequences = True

    def __init__(self, n_features, embed_dim, channels=64, kernel_size=3, layers=2, dropout=0.0):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd (each step's output centred on it); got {kernel_size}."
            )
        sizes = [n_features] + [channels] * (layers - 1) + [embed_dim]
        self.convs = nn.ModuleList(
            [nn.Conv1d(a, b, kernel_size, padding=kernel_size // 2) for a, b in zip(sizes[:-1], sizes[1:])]
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, steps):
        h = (x * steps[:, :, None]).transpose(1, 2)
        for i, conv in enumerate(self.convs):
            h = conv(h) * steps[:, None, :]
            if i < len(self.convs) - 1:
                h = self.dropout(torch.relu(h))
        return h.transpose(1, 2)


class CrossModalBlock(nn.Module):
    """One cross-modal transformer block (MulT): the target's steps attend to a source's steps."""

    def __init__(self, embed, heads, dropout):
        super().__init__()
        self.attend = nn.MultiheadAttention(embed, heads, dropout=dropout, batch_first=True)
        self.norm_q, self.norm_kv, self.norm_out = (
            nn.LayerNorm(embed),
            nn.LayerNorm(embed),
            nn.LayerNorm(embed),
        )
        self.feedforward = nn.Sequential(
            nn.Linear(embed, 2 * embed), nn.ReLU(), nn.Dropout(dropout), nn.Linear(2 * embed, embed)
        )

    def forward(self, target, source, source_steps):
        kv = self.norm_kv(source)
        attended, _ = self.attend(self.norm_q(target), kv, kv, key_padding_mask=_padding(source_steps))
        h = target + attended
        return h + self.feedforward(self.norm_out(h))


class CrossModalFusion(nn.Module):
    """Cross-modal attention over time (the Multimodal Transformer, Tsai et al. 2019), then one head.

    Each view's steps (with sinusoidal positions) attend to every other
    view's steps through ``layers`` cross-modal blocks; each (target, source)
    result is averaged over the target's present steps. A row's output reads
    those averages and the views' own pooled steps, each zero where its view
    is missing, and the view mask. Views need not be aligned: each keeps its
    own T and padding. ``heads`` (None: 4, 2 or 1, the most that divide the
    embedding) must divide the embedding size.
    """

    temporal = True

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4, heads=None, layers=1):
        super().__init__()
        if heads is None:
            heads = next(h for h in (4, 2, 1) if embed % h == 0)
        elif embed % heads:
            raise ValueError(
                f"fusion='cross_attention': heads={heads} does not divide the embedding size {embed}; "
                f"choose embed_dim as a multiple of the heads."
            )
        pairs = [(t, s) for t in range(n_views) for s in range(n_views) if t != s]
        self.pairs = pairs
        self.blocks = nn.ModuleList(
            [nn.ModuleList([CrossModalBlock(embed, heads, dropout) for _ in range(layers)]) for _ in pairs]
        )
        self.head = mlp((len(pairs) + n_views) * embed + n_views, (hidden,), n_out, dropout)

    def forward(self, sequences, step_masks, mask):
        placed = [
            seq + positions(seq.shape[1], seq.shape[2], seq.dtype, seq.device) * steps[:, :, None]
            for seq, steps in zip(sequences, step_masks)
        ]
        parts = []
        for (t, s), blocks in zip(self.pairs, self.blocks):
            h = placed[t]
            for block in blocks:
                h = block(h, placed[s], step_masks[s])
            both = (mask[:, t] * mask[:, s])[:, None]  # nothing to read when either view is missing
            parts.append(masked_mean(h, step_masks[t]) * both)
        own = [
            masked_mean(seq, steps) * mask[:, v, None]
            for v, (seq, steps) in enumerate(zip(sequences, step_masks))
        ]
        return self.head(torch.cat([*parts, *own, mask], dim=1)), None


class TemporalConcatFusion(nn.Module):
    """Early fusion over time for aligned views: the views side by side at each step, one GRU reads them.

    The EF-LSTM baseline of multimodal sentiment analysis. Every view must
    have the same number of steps; a missing view is zeros at every step (and
    the view mask goes to the head).
    """

    temporal = True

    def __init__(self, n_views, embed, hidden, n_out, dropout=0.0, rank=4):
        super().__init__()
        self.rnn = nn.GRU(n_views * embed, hidden, batch_first=True)
        self.head = mlp(hidden + n_views, (hidden,), n_out, dropout)

    def forward(self, sequences, step_masks, mask):
        lengths = {seq.shape[1] for seq in sequences}
        if len(lengths) > 1:
            raise ValueError(
                f"fusion='temporal_concat' reads aligned views, every one with the same steps; the views "
                f"have {sorted(lengths)} steps. Use fusion='cross_attention' for unaligned views."
            )
        steps = torch.stack(step_masks, dim=0).amax(dim=0)
        out = run_recurrent(self.rnn, torch.cat(sequences, dim=2), steps)
        return self.head(torch.cat([masked_mean(out, steps), mask], dim=1)), None
