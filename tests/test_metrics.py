"""Retrieval metrics: ranks with pair groups, duplicates counted once, ties, scorers, errors."""

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from mmsk.metrics import make_retrieval_scorer, mean_reciprocal_rank, recall_at_k, retrieval_ranks


def test_each_image_is_one_query_and_any_of_its_captions_is_a_hit():
    # 2 images x 3 captions: the image rows repeat, so there are 2 queries, not 6
    img = np.repeat([[1.0, 0.0], [0.0, 1.0]], 3, axis=0)
    cap = np.array([[0.1, 1.0], [0.9, 0.1], [0.5, 0.5], [0.0, 1.0], [1.0, 0.2], [0.2, 0.9]])
    groups = np.repeat([10, 20], 3)
    # image 10: its best caption [0.9, 0.1] beats every caption of image 20 -> rank 1;
    # image 20: caption [0.0, 1.0] is the nearest of all -> rank 1
    assert retrieval_ranks(img, cap, groups).tolist() == [1, 1]
    # captions -> images: 6 distinct queries, gallery of 2 distinct images
    # ([0.5, 0.5] is as near to both images: a tie, which counts against it)
    ranks = retrieval_ranks(cap, img, groups)
    assert ranks.tolist() == [2, 1, 2, 1, 2, 1]
    assert recall_at_k(cap, img, groups, k=1) == pytest.approx(3 / 6)
    assert mean_reciprocal_rank(cap, img, groups) == pytest.approx((3 + 3 * 0.5) / 6)


def test_ties_count_against_the_query():
    constant = np.ones((5, 3))
    assert retrieval_ranks(constant, constant).tolist() == [5] * 5
    assert recall_at_k(constant, constant, k=1) == 0.0


def test_scorer_reads_the_views_from_output_names_and_checks_them():
    from mmsk.align import CCA

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(300, 3))
    X = np.hstack([Z @ rng.normal(size=(3, 5)), Z @ rng.normal(size=(3, 4))]) + 0.1 * rng.normal(
        size=(300, 9)
    )
    cca = CCA({"img": range(5), "txt": range(5, 9)}, n_components=3).fit(X)
    forward = make_retrieval_scorer("recall@5")(cca, X)
    backward = make_retrieval_scorer("recall@5", query_view="txt")(cca, X)
    chance = 5 / 300
    assert forward > 20 * chance and backward > 20 * chance
    with pytest.raises(ValueError, match="view 'sound' is not in the estimator's output views"):
        make_retrieval_scorer(query_view="sound")(cca, X)
    shared = CCA({"img": range(5), "txt": range(5, 9)}, n_components=3, output="shared").fit(X)
    with pytest.raises(ValueError, match="not all '<view>__' blocks"):
        make_retrieval_scorer()(shared, X)
    with pytest.raises(ValueError, match="not all '<view>__' blocks"):
        make_retrieval_scorer()(StandardScaler().fit(X), X)


@pytest.mark.parametrize("metric", ["recall@0", "recall", "map", "recall@-1"])
def test_unknown_metric_is_refused(metric):
    with pytest.raises(ValueError, match="'recall@K'"):
        make_retrieval_scorer(metric)


def test_bad_embeddings_are_refused():
    E = np.eye(4)
    with pytest.raises(ValueError, match="same rows"):
        retrieval_ranks(E, E[:3])
    with pytest.raises(ValueError, match="same width"):
        retrieval_ranks(E, E[:, :3])
    bad = E.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="first: row 2"):
        retrieval_ranks(E, bad)
    with pytest.raises(ValueError, match="one entry per row"):
        retrieval_ranks(E, E, groups=[1, 2])
