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


def _project_two_simplices(V, pos):
    """Project every column of V onto {v >= 0, sum over its ``pos`` rows = 1, sum over the rest = 1}.

    The sort-based Euclidean projection onto a simplex (Held, Wolfe and Crowder),
    done for all columns and both parts at once.
    """
    n, c = V.shape
    rank = np.arange(1, n + 1)[:, None]
    out = np.zeros_like(V)
    for part in (pos, ~pos):
        U = -np.sort(np.where(part, -V, np.inf), axis=0)  # each column's part, descending, then -inf
        valid = rank <= part.sum(axis=0)
        U = np.where(valid, U, 0.0)
        css = np.cumsum(U, axis=0) - 1.0
        last = n - 1 - np.argmax((valid & (U > css / rank))[::-1], axis=0)
        theta = css[last, np.arange(c)] / (last + 1.0)
        out = np.where(part, np.maximum(V - theta, 0.0), out)
    return out


def easymkl_weights(kernels, Y, lam=0.1, max_iter=500, tol=1e-4):
    """EasyMKL (Aiolli and Donini, 2015), one class against the rest, weights averaged over classes.

    For each binary problem, solves the margin QP
    ``min_gamma (1 - lam) gamma' Yd K Yd gamma + lam ||gamma||^2`` over the
    product of the two class simplices, with K the average kernel; the weight
    of kernel k is ``gamma' Yd K_k Yd gamma``. The solver is the spectral
    projected gradient (Birgin, Martinez and Raydan 2000: Barzilai-Borwein
    steps, exact projections, a non-monotone line search), which needs a few
    dozen matrix products where FISTA needs hundreds. All classes are solved
    together, so each step is one matrix product. It stops when the projected
    gradient is below ``tol`` times the largest entry of gamma.
    """
    K = sum(kernels) / len(kernels)
    cols = [c for c in range(Y.shape[1] if Y.shape[1] > 2 else 1) if 0 < (Y[:, c] > 0).sum() < len(Y)]
    if not cols:
        return np.full(len(kernels), 1.0 / len(kernels))
    pos = Y[:, cols] > 0
    S = np.where(pos, 1.0, -1.0)

    def value_and_grad(G):
        KG = S * (K @ (S * G))
        value = (1 - lam) * np.sum(G * KG, axis=0) + lam * np.sum(G * G, axis=0)
        return value, 2 * ((1 - lam) * KG + lam * G)

    G = np.where(pos, 1.0 / pos.sum(axis=0), 1.0 / (~pos).sum(axis=0))
    value, grad = value_and_grad(G)
    history = [value]
    alpha = np.ones(len(cols))
    for _ in range(max_iter):
        D = _project_two_simplices(G - alpha * grad, pos) - G
        slope = np.sum(grad * D, axis=0)
        reference = np.max(history[-10:], axis=0)  # non-monotone: the worst of the last 10 values
        step = np.ones(len(cols))
        while True:
            G_new = G + step * D
            value_new, grad_new = value_and_grad(G_new)
            bad = value_new > reference + 1e-4 * step * slope
            if not bad.any() or step.min() < 1e-10:
                break
            step = np.where(bad, step / 2, step)
        s, r = G_new - G, grad_new - grad
        sr = np.sum(s * r, axis=0)
        alpha = np.clip(np.where(sr > 0, np.sum(s * s, axis=0) / np.where(sr > 0, sr, 1.0), 1e3), 1e-10, 1e10)
        G, value, grad = G_new, value_new, grad_new
        history.append(value)
        if np.abs(_project_two_simplices(G - grad, pos) - G).max() < tol * G.max():
            break
    SG = S * G
    eta = np.array([np.vdot(Kk @ SG, SG) for Kk in kernels])
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
