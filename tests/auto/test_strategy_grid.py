"""The default candidates of ``mmsk fit``: what each strategy is, and what is left out by its cost."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from mmsk.auto import strategy_grid


def names(grid):
    return [name for name, *_ in grid]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_costly_strategies_are_left_out_on_large_tables_unless_named(task):
    small = names(strategy_grid(task, views=["a", "b"], n_rows=2000, n_features=40, n_classes=2))
    assert {"forest", "mkl", "gbm"} <= set(small)
    large = names(strategy_grid(task, views=["a", "b"], n_rows=20000, n_features=40, n_classes=2))
    assert "forest" not in large and "mkl" not in large
    assert "gbm" in large  # boosting's histograms cost n per round: it stays
    named = names(strategy_grid(task, ["forest", "mkl"], views=["a", "b"], n_rows=20000))
    assert named[-2:] == ["forest", "mkl"]


def test_the_per_view_svms_are_left_out_on_large_or_wide_tables_and_linear_late_fusion_stays():
    small = names(strategy_grid("classification", views=["a", "b"], n_rows=2000))
    assert {"late", "late (kernel)"} <= set(small)
    large = names(strategy_grid("classification", views=["a", "b"], n_rows=20000))
    assert "late" in large and "late (kernel)" not in large
    wide = names(strategy_grid("classification", views=["a", "b"], n_rows=3000, n_features=2000))
    assert "late" in wide and "late (kernel)" not in wide
    narrow = names(strategy_grid("classification", views=["a", "b"], n_rows=3000, n_features=600))
    assert "late (kernel)" in narrow
    named = names(strategy_grid("classification", ["late"], views=["a", "b"], n_rows=20000))
    assert named[-2:] == ["late", "late (kernel)"]


def test_kernel_late_fusion_separates_what_no_linear_model_can():
    from sklearn.datasets import make_circles
    from sklearn.model_selection import cross_val_score

    circle, y = make_circles(n_samples=300, noise=0.05, factor=0.5, random_state=0)
    noise = np.random.default_rng(0).normal(size=(300, 2))
    X = pd.DataFrame(np.column_stack([circle, noise]), columns=["a__0", "a__1", "b__0", "b__1"])
    grid = {name: est for name, est, *_ in strategy_grid("classification", ["late"], views=["a", "b"])}
    assert cross_val_score(grid["late (kernel)"], X, y, cv=3).mean() > 0.9
    assert cross_val_score(grid["late"], X, y, cv=3).mean() < 0.7


def test_the_forest_is_a_random_forest_on_every_view_that_reads_missing_values():
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, random_state=0)
    X[:40, :3] = np.nan  # view a missing in 40 rows
    grid = {name: est for name, est, *_ in strategy_grid("classification", ["forest"], views=["a", "b"])}
    forest = grid["forest"].fit(X, y)
    assert forest.n_features_in_ == 6
    assert forest.score(X, y) > 0.9
    np.testing.assert_allclose(forest.predict_proba(X).sum(axis=1), 1.0)


def test_late_fusion_candidates_average_and_multiply():
    grid = strategy_grid("classification", ["late"], views=["a", "b"])
    grid = {name: params for name, _, params, _ in grid}
    assert grid["late"]["voting"] == ["soft", "product"]


@pytest.mark.parametrize(
    ("n_rows", "n_jobs", "forest_jobs"), [(300, None, -1), (300, 1, None), (300, 2, None), (120, None, None)]
)
def test_the_forest_takes_the_cores_a_search_of_one_fit_at_a_time_leaves(
    tmp_path, n_rows, n_jobs, forest_jobs
):
    """A small table's search runs in one process by default: the forest's trees then use every core,
    unless the table is so small that sending trees to threads costs more than growing them."""
    import pandas as pd

    from mmsk.auto import prepare_run

    X, y = make_classification(n_samples=n_rows, n_features=6, random_state=0)
    table = pd.DataFrame(X, columns=[f"{v}__{i}" for v in "ab" for i in range(3)]).assign(y=y)
    run = prepare_run(table, "y", tmp_path, cv=3, n_jobs=n_jobs, strategies=["forest"], print_fn=None)
    grid = {name: est for name, est, *_ in run.strategies(run.extract())[0]}
    assert grid["forest"].n_jobs == forest_jobs
