"""torch modules of DeepCCA (imported on first use, so that importing mmsk does not import torch)."""

import torch
import torch.nn as nn

from ..utils._nn import mlp


class TwoTower(nn.Module):
    """One MLP per view on the columns ``slices[j]`` of the input; returns their outputs.

    ``dropout`` (after each hidden layer, none by default) is reachable as
    ``DeepCCA(module__dropout=...)``.
    """

    def __init__(self, slices=((0, 1), (1, 2)), hidden=(64,), n_out=2, activation="relu", dropout=0.0):
        super().__init__()
        self.slices = [tuple(s) for s in slices]
        self.towers = nn.ModuleList(
            [mlp(b - a, tuple(hidden), n_out, dropout=dropout, activation=activation) for a, b in self.slices]
        )

    def forward(self, X):
        return tuple(t(X[:, a:b]) for t, (a, b) in zip(self.towers, self.slices))


class CCALoss(nn.Module):
    """Minus the sum of the canonical correlations of two outputs over a batch (Andrew et al.)."""

    def __init__(self, eps=1e-3):
        super().__init__()
        self.eps = eps

    def _inv_sqrt(self, S):
        vals, vecs = torch.linalg.eigh(S)
        return vecs @ torch.diag(vals.clamp_min(self.eps) ** -0.5) @ vecs.T

    def forward(self, outputs, _target=None):
        # in float64 whatever the network's precision: the eigendecomposition of a nearly
        # singular covariance loses its small eigenvalues in float32
        h1, h2 = (h.double() for h in outputs)
        m = h1.shape[0]
        h1 = h1 - h1.mean(dim=0)
        h2 = h2 - h2.mean(dim=0)
        eye = torch.eye(h1.shape[1], dtype=h1.dtype, device=h1.device)
        s11 = h1.T @ h1 / (m - 1) + self.eps * eye
        s22 = h2.T @ h2 / (m - 1) + self.eps * eye
        s12 = h1.T @ h2 / (m - 1)
        T = self._inv_sqrt(s11) @ s12 @ self._inv_sqrt(s22)
        return -torch.linalg.svdvals(T).sum()
