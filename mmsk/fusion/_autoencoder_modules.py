"""torch parts of the multimodal autoencoder and VAE (imported on first use)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..utils._nn import mlp
from ._modules import drop_views


class MultimodalAE(nn.Module):
    """Per-view encoders into one shared latent, per-view decoders out of it.

    The shared latent of a row is built from the views it has (and, in
    training, has not lost to modality dropout): their mean (``variational=False``),
    or the product of the views' Gaussian experts and a standard normal prior
    (``variational=True``, as in the MVAE of Wu and Goodman, 2018). Every
    decoder reconstructs its view from that latent, so a missing view is
    reconstructed from the others.

    ``forward`` returns ``(reconstruction, mu, logvar)``; ``logvar`` is None
    for the plain autoencoder.
    """

    def __init__(
        self,
        slices=((0, 1), (1, 2)),
        latent_dim=8,
        hidden=(64,),
        dropout=0.0,
        modality_dropout=0.0,
        variational=False,
    ):
        super().__init__()
        self.slices = [tuple(s) for s in slices]
        self.latent_dim = latent_dim
        self.variational = variational
        self.modality_dropout = modality_dropout
        out = 2 * latent_dim if variational else latent_dim
        self.encoders = nn.ModuleList([mlp(b - a, tuple(hidden), out, dropout) for a, b in self.slices])
        self.decoders = nn.ModuleList(
            [mlp(latent_dim, tuple(reversed(hidden)), b - a, dropout) for a, b in self.slices]
        )

    def encode(self, x, mask):
        """(mu, logvar) of the shared latent from the views the mask keeps."""
        outs = torch.stack([enc(x[:, a:b]) for enc, (a, b) in zip(self.encoders, self.slices)], dim=1)
        m = mask[:, :, None]
        if not self.variational:
            return (outs * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0), None
        mu_v, logvar_v = outs[..., : self.latent_dim], outs[..., self.latent_dim :].clamp(-10, 10)
        precision = torch.exp(-logvar_v) * m
        total = 1.0 + precision.sum(dim=1)  # the N(0, I) prior is an expert with precision 1
        mu = (mu_v * precision).sum(dim=1) / total
        return mu, -torch.log(total)

    def decode(self, z):
        return torch.cat([dec(z) for dec in self.decoders], dim=1)

    def forward(self, x, mask):
        mu, logvar = self.encode(x, drop_views(mask, self.modality_dropout, self.training))
        z = mu
        if self.variational and self.training:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


class ReconstructionLoss(nn.Module):
    """Mean squared error per present view (each view counts equally), plus beta * KL for a VAE.

    The target is the input and its view mask side by side: ``[x, mask]``. Views
    that modality dropout hid from the encoder are still reconstructed, which
    is what teaches the model to fill in a missing view.
    """

    def __init__(self, slices=((0, 1), (1, 2)), beta=1.0):
        super().__init__()
        self.slices = [tuple(s) for s in slices]
        self.beta = beta

    def forward(self, outputs, target):
        recon, mu, logvar = outputs
        d = self.slices[-1][1]
        x, mask = target[:, :d], target[:, d:]
        per_view = torch.stack(
            [F.mse_loss(recon[:, a:b], x[:, a:b], reduction="none").mean(dim=1) for a, b in self.slices],
            dim=1,
        )
        loss = ((per_view * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)).mean()
        if logvar is not None:
            kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1).mean()
            loss = loss + self.beta * kl / d  # KL per input feature, on the scale of the MSE
        return loss
