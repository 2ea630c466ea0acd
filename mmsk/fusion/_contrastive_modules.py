"""torch parts of the contrastive dual encoder (imported on first use)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..utils._nn import mlp

_MAX_LOGIT_SCALE = math.log(100.0)  # CLIP clamps the inverse temperature at 100


class DualEncoder(nn.Module):
    """Two MLP towers into one space, unit-normalised, and a learnable temperature.

    Parameters
    ----------
    slices : list of two (int, int)
        Column range of each view in the input.
    hidden : tuple of int
        Hidden layer sizes of each tower (empty: a linear projection).
    embed_dim : int
        Size of the shared space.
    dropout : float
    temperature : float
        Initial softmax temperature (CLIP: 0.07).
    learn_temperature : bool
        Train the temperature (as its log inverse, clamped at 1/100).
    """

    def __init__(
        self,
        slices=((0, 1), (1, 2)),
        hidden=(128,),
        embed_dim=64,
        dropout=0.0,
        temperature=0.07,
        learn_temperature=True,
    ):
        super().__init__()
        self.slices = [tuple(s) for s in slices]
        self.towers = nn.ModuleList([mlp(b - a, tuple(hidden), embed_dim, dropout) for a, b in self.slices])
        scale = torch.tensor(math.log(1.0 / temperature))
        if learn_temperature:
            self.logit_scale = nn.Parameter(scale)
        else:
            self.register_buffer("logit_scale", scale)

    def embed_view(self, xv, view):
        """Unit-norm embedding of one view's own columns."""
        return F.normalize(self.towers[view](xv), dim=1)

    def embed(self, x, view):
        a, b = self.slices[view]
        return self.embed_view(x[:, a:b], view)

    def forward(self, x):
        return self.embed(x, 0), self.embed(x, 1), self.logit_scale.clamp(max=_MAX_LOGIT_SCALE).exp()


class InfoNCELoss(nn.Module):
    """Symmetric InfoNCE (CLIP's loss) where rows of the same group are all positives.

    With distinct groups this is CLIP's cross-entropy over the batch in both
    directions; when several rows share a group (an image's five captions),
    the target of each row is spread evenly over its group's rows, so a
    caption of the same image is never pushed away as a negative.
    """

    def forward(self, outputs, groups):
        za, zb, scale = outputs
        logits = scale * za @ zb.T
        same = (groups[:, None] == groups[None, :]).to(logits.dtype)
        target = same / same.sum(dim=1, keepdim=True)
        loss_a = -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        loss_b = -(target * F.log_softmax(logits.T, dim=1)).sum(dim=1).mean()
        return (loss_a + loss_b) / 2
