"""Kernel helpers shared by kernel CCA and multiple kernel learning."""

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances, pairwise_distances
from sklearn.utils import check_random_state


def median_gamma(block, kernel, random_state, n_max=1000):
    """Median heuristic: 1 / median pairwise squared Euclidean (rbf) or L1 (laplacian) distance."""
    rng = check_random_state(random_state)
    if len(block) > n_max:
        block = block[rng.choice(len(block), n_max, replace=False)]
    if kernel == "laplacian":
        d = pairwise_distances(block, metric="manhattan")
    else:
        d = euclidean_distances(block, squared=True)  # BLAS, unlike scipy's pdist
    med = np.median(d[np.triu_indices_from(d, k=1)]) if len(block) > 1 else 0.0
    return 1.0 / med if med > 0 else 1.0
