"""fusion_leaderboard and modality_ablation: tidy tables of searches and ablations, with their plots."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline

from mmsk.align import GCCA
from mmsk.fusion import EarlyFusionClassifier, FusionClassifier, LateFusionClassifier
from mmsk.model_selection import fusion_leaderboard, modality_ablation
from mmsk.plot import plot_leaderboard, plot_modality_ablation


def three_views(n=300, seed=0):
    """View a carries the class, b a little of it, c none."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a = rng.normal(size=(n, 4)) + 1.5 * y[:, None]
    b = rng.normal(size=(n, 4)) + 0.3 * y[:, None]
    c = rng.normal(size=(n, 4))
    cols = [f"{v}__{i}" for v in "abc" for i in range(4)]
    return pd.DataFrame(np.hstack([a, b, c]), columns=cols), y


def strategy_search(X, y):
    grid = [
        {"model": [EarlyFusionClassifier()], "model__scale": ["block", "standard"]},
        {"model": [LateFusionClassifier()], "model__voting": ["soft", "hard"]},
        {"model": [make_pipeline(GCCA(n_components=2, output="shared"), LogisticRegression())]},
    ]
    return GridSearchCV(Pipeline([("model", EarlyFusionClassifier())]), grid, cv=3).fit(X, y)


def test_leaderboard_lists_every_candidate_by_strategy_best_first():
    X, y = three_views()
    search = strategy_search(X, y)
    board = fusion_leaderboard(search)
    assert len(board) == 5
    assert set(board["strategy"]) == {
        "EarlyFusionClassifier",
        "LateFusionClassifier",
        "GCCA -> LogisticRegression",
    }
    assert board["rank"].is_monotonic_increasing and board["rank"].iloc[0] == 1
    early = board[board["strategy"] == "EarlyFusionClassifier"]
    assert set(early["params"]) == {"scale='block'", "scale='standard'"}
    best = board.iloc[0]
    j = int(np.argmin(search.cv_results_["rank_test_score"]))
    assert best["mean_score"] == pytest.approx(search.cv_results_["mean_test_score"][j])
    assert (board["mean_fit_time"] > 0).all()
    ax = plot_leaderboard(board)
    assert [t.get_text() for t in ax.get_yticklabels()][0] == best["strategy"]
    assert len(ax.get_yticklabels()) == 3
    assert len(plot_leaderboard(board, best_per_strategy=False).get_yticklabels()) == 5


def test_leaderboard_of_a_search_over_a_string_parameter_and_multiple_metrics():
    X, y = three_views(200)
    search = GridSearchCV(
        FusionClassifier(max_epochs=3, random_state=0),
        {"fusion": ["concat", "attention"], "hidden": [8, 16]},
        scoring={"acc": "accuracy", "bal": "balanced_accuracy"},
        refit="bal",
        cv=2,
    ).fit(X, y)
    board = fusion_leaderboard(search, strategy_param="fusion")
    assert set(board["strategy"]) == {"concat", "attention"}
    assert set(board["params"]) == {"hidden=8", "hidden=16"}
    assert board["mean_score"].iloc[0] == pytest.approx(search.cv_results_["mean_test_bal"].max())


def test_leaderboard_errors():
    X, y = three_views(100)
    with pytest.raises(ValueError, match="not fitted"):
        fusion_leaderboard(GridSearchCV(LogisticRegression(), {"C": [1]}))
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1]}, cv=2).fit(X, y)
    with pytest.raises(ValueError, match=r"pass strategy_param= \(one of \['C'\]\)"):
        fusion_leaderboard(search)
    with pytest.raises(ValueError, match="strategy_param 'fusion' is not a searched parameter"):
        fusion_leaderboard(search, strategy_param="fusion")
    assert fusion_leaderboard(search, strategy_param="C")["strategy"].tolist() in (["0.1", "1"], ["1", "0.1"])


def test_ablation_finds_the_view_that_carries_the_class():
    X, y = three_views()
    table = modality_ablation(LateFusionClassifier(), X, y, cv=3)
    scores = dict(zip(table["setting"], table["mean_score"]))
    assert scores["only a"] > 0.8 and scores["only c"] < 0.65
    assert scores["without a"] < scores["all views"] - 0.1
    assert abs(scores["without c"] - scores["all views"]) < 0.05
    assert table["delta"].iloc[0] == 0 and table["views"].iloc[0] == ("a", "b", "c")
    ax = plot_modality_ablation(table)
    assert [t.get_text() for t in ax.get_yticklabels()] == table["setting"].tolist()[1:]


def test_ablation_with_two_views_groups_and_a_scorer():
    X, y = three_views(240)
    X2 = X.drop(columns=[c for c in X.columns if c.startswith("c__")])
    groups = np.arange(len(X2)) % 4
    table = modality_ablation(
        EarlyFusionClassifier(), X2, y, cv=GroupKFold(4), groups=groups, scoring="balanced_accuracy"
    )
    assert table["setting"].tolist() == ["all views", "only a", "only b"]
    with pytest.raises(ValueError, match="at least 2"):
        modality_ablation(EarlyFusionClassifier(), X2.filter(like="a__"), y)
