"""Kernel combination learners: uniform average, ALIGNF, EasyMKL and a reduced-gradient MKL.

Each takes a list of trace-normalised training kernels (n x n) and the target,
and returns non-negative weights that sum to one.
"""

import numpy as np
from scipy import linalg
from scipy.optimize import nnls


def _centered(K):
    """H K H with H the centring matrix."""
    col = K.mean(axis=0)
    return K - col[None, :] - col[:, None] + col.mean()


def _simplex(w):
    w = np.clip(w, 0, None)
    total = w.sum()
    if total <= 0:
        return np.full(len(w), 1.0 / len(w))
    return w / total


def average_weights(kernels, Y):
    """Uniform weights: the baseline every learner should beat."""
    return np.full(len(kernels), 1.0 / len(kernels))


def alignf_weights(kernels, Y):
    """ALIGNF (Cortes, Mohri and Rostamizadeh, 2012): maximal centred alignment with Y Y^T.

    Solves ``min_{v >= 0} v' M v - 2 v' a`` with ``M_kl = <Kc_k, Kc_l>_F`` and
    ``a_k = <Kc_k, Y Y'>_F`` (Y centred one-hot or centred target), then scales
    v to sum to one.
    """
    Yc = Y - Y.mean(axis=0)
    centered = [_centered(K) for K in kernels]
    a = np.array([np.einsum("ij,ik,jk->", Kc, Yc, Yc) for Kc in centered])
    M = np.array([[np.vdot(Ki, Kj) for Kj in centered] for Ki in centered])
    M.flat[:: len(M) + 1] += 1e-10 * np.trace(M)
    L = linalg.cholesky(M, lower=True)
    v, _ = nnls(L.T, linalg.solve_triangular(L, a, lower=True))
    return _simplex(v)


def _project_two_simplices(g, pos):
    """Euclidean projection onto {g >= 0, sum over pos = 1, sum over the rest = 1}."""
    out = np.empty_like(g)
    for part in (pos, ~pos):
        v = g[part]
        u = np.sort(v)[::-1]
        css = np.cumsum(u) - 1.0
        rho = np.nonzero(u - css / np.arange(1, len(u) + 1) > 0)[0][-1]
        out[part] = np.maximum(v - css[rho] / (rho + 1.0), 0.0)
    return out


def easymkl_weights(kernels, Y, lam=0.1, max_iter=300, tol=1e-9):
    """EasyMKL (Aiolli and Donini, 2015), one class against the rest, weights averaged over classes.

    For each binary problem, solves the margin QP
    ``min_gamma (1 - lam) gamma' Yd K Yd gamma + lam ||gamma||^2`` over the
    product of the two class simplices (FISTA with exact projections), with K
    the average kernel; the weight of kernel k is ``gamma' Yd K_k Yd gamma``.
    All classes are solved together, so each step is one matrix product.
    """
    K = sum(kernels) / len(kernels)
    cols = [c for c in range(Y.shape[1] if Y.shape[1] > 2 else 1) if 0 < (Y[:, c] > 0).sum() < len(Y)]
    if not cols:
        return np.full(len(kernels), 1.0 / len(kernels))
    pos = Y[:, cols] > 0
    S = np.where(pos, 1.0, -1.0)
    G = np.where(pos, 1.0 / pos.sum(axis=0), 1.0 / (~pos).sum(axis=0))
    L = 2 * ((1 - lam) * linalg.eigvalsh(K, subset_by_index=[len(K) - 1, len(K) - 1])[0] + lam)
    Z, t = G.copy(), 1.0
    for _ in range(max_iter):
        grad = 2 * ((1 - lam) * S * (K @ (S * Z)) + lam * Z)
        step = Z - grad / L
        G_new = np.column_stack([_project_two_simplices(step[:, j], pos[:, j]) for j in range(len(cols))])
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        Z = G_new + (t - 1) / t_new * (G_new - G)
        done = np.abs(G_new - G).max() < tol
        G, t = G_new, t_new
        if done:
            break
    SG = S * G
    eta = np.array([np.einsum("ic,ij,jc->", SG, Kk, SG) for Kk in kernels])
    return _simplex(eta)


def gradient_weights(kernels, Y, lam=1e-2, max_iter=100, tol=1e-6):
    """SimpleMKL-class MKL with a squared loss: reduced gradient on the weight simplex.

    Minimises ``J(w) = lam * tr(Y' (sum_k w_k K_k + lam I)^-1 Y)``, the optimal
    value of kernel ridge regression of Y on the combined kernel, over
    ``w >= 0, sum w = 1``, by SimpleMKL's reduced-gradient steps (move along
    the gradient projected on the simplex, weights that reach zero leave the
    support) with a backtracking line search. ``dJ/dw_k = -lam * tr(A' K_k A)``
    with ``A = (K_w + lam I)^-1 Y``.
    """
    n, m = len(kernels[0]), len(kernels)
    w = np.full(m, 1.0 / m)

    def value_and_grad(w):
        Kw = sum(wk * Kk for wk, Kk in zip(w, kernels))
        Kw.flat[:: n + 1] += lam
        cho = linalg.cho_factor(Kw, lower=True, check_finite=False)
        A = linalg.cho_solve(cho, Y, check_finite=False)
        value = lam * np.vdot(Y, A)
        grad = np.array([-lam * np.vdot(A, Kk @ A) for Kk in kernels])
        return value, grad

    value, grad = value_and_grad(w)
    step = 1.0
    for _ in range(max_iter):
        # SimpleMKL's reduced gradient: relative to the largest weight, zero for weights stuck at 0
        mu = int(np.argmax(w))
        direction = -(grad - grad[mu])
        direction[(w <= 0) & (direction < 0)] = 0.0
        direction[mu] = -direction[np.arange(m) != mu].sum()
        if np.abs(direction).max() < tol:
            break
        neg = direction < 0
        max_step = np.min(-w[neg] / direction[neg]) if neg.any() else 1.0
        step = min(step * 2, max_step)
        while step > 1e-12:
            w_new = _simplex(w + step * direction)
            new_value, new_grad = value_and_grad(w_new)
            if new_value < value - 1e-4 * step * np.dot(direction, direction):
                break
            step /= 2
        else:
            break
        converged = value - new_value < tol * max(abs(value), 1.0)
        w, value, grad = w_new, new_value, new_grad
        if converged:
            break
    return _simplex(w)


METHODS = {
    "average": average_weights,
    "alignf": alignf_weights,
    "easymkl": easymkl_weights,
    "gradient": gradient_weights,
}
