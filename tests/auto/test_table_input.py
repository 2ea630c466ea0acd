"""Tables as analysts have them: semicolon CSV files, precomputed feature views, dates (text and Parquet)."""

import json

import numpy as np
import pandas as pd
import pytest

from mmsk.auto import fit_table, predict_table, read_table, strategy_grid
from mmsk.datasets import load_mfeat

QUIET = dict(progress=False, cv=3, strategies=["early"])


def dated(n=240, seed=0):
    """A label set by the month of a date (ISO text), and a number beside it that carries nothing."""
    rng = np.random.default_rng(seed)
    when = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, n), unit="D")
    late = when.month >= 7
    return pd.DataFrame(
        {
            "visited": when.strftime(
                "%Y-%m-%d"
            ),  # every value distinct or nearly: once read as an identifier
            "noise": rng.normal(size=n),
            "busy": np.where(late, "yes", "no"),
        }
    )


def test_a_semicolon_csv_is_read_and_fitted(tmp_path, capsys):
    table = dated()
    table.to_csv(tmp_path / "t.csv", sep=";", index=False)
    read = read_table(tmp_path / "t.csv")
    assert list(read.columns) == ["visited", "noise", "busy"] and len(read) == len(table)
    result = fit_table(tmp_path / "t.csv", "busy", tmp_path / "run", print_fn=None, **QUIET)
    assert result["status"] == "complete"


def test_a_table_that_cannot_be_parsed_says_what_to_pass(tmp_path):
    (tmp_path / "bad.csv").write_text('a,b\n1,2\n3,"4,5,6\n7,8,9,10\n')
    with pytest.raises(ValueError, match="one separator"):
        read_table(tmp_path / "bad.csv")


def test_dates_become_date_parts_at_fit_and_at_predict(tmp_path):
    table = dated()
    table.iloc[:180].to_csv(tmp_path / "t.csv", index=False)
    result = fit_table(tmp_path / "t.csv", "busy", tmp_path / "run", print_fn=None, **QUIET)
    roles = {d["column"]: (d["role"], d["modality"], d["why"]) for d in result["summary"]["detection"]}
    for part in ("year", "month", "dayofweek", "ordinal"):
        role, modality, why = roles[f"visited_{part}"]
        assert (role, modality) == ("feature", "numeric") and "date column visited" in why
    # the label is a function of the month: the dated model beats the baseline by far
    assert result["summary"]["best"]["mean_score"] > result["summary"]["baseline_score"] + 0.1
    table.iloc[180:].drop(columns="busy").to_csv(tmp_path / "new.csv", index=False)
    predicted = predict_table(tmp_path / "run", tmp_path / "new.csv", print_fn=None)
    accuracy = (predicted["prediction"].to_numpy() == table["busy"].iloc[180:].to_numpy()).mean()
    assert accuracy > (table["busy"] == "no").mean()


def test_parquet_datetimes_become_date_parts(tmp_path):
    table = dated()
    table["visited"] = pd.to_datetime(table["visited"])
    assert pd.api.types.is_datetime64_any_dtype(table["visited"])
    table.to_parquet(tmp_path / "t.parquet")
    result = fit_table(tmp_path / "t.parquet", "busy", tmp_path / "run", print_fn=None, **QUIET)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    features = [d["column"] for d in summary["detection"] if d["role"] == "feature"]
    assert "visited_month" in features and "visited" not in features
    assert summary["dates"] == ["visited"]
    assert result["summary"]["best"]["mean_score"] > result["summary"]["baseline_score"] + 0.1


def test_a_table_whose_columns_carry_nothing_keeps_the_baseline_and_says_so(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"noise": rng.normal(size=240), "other": rng.normal(size=240),
                          "busy": np.where(rng.random(240) < 0.7, "no", "yes")})  # fmt: skip
    table.to_csv(tmp_path / "t.csv", index=False)
    said = []
    result = fit_table(tmp_path / "t.csv", "busy", tmp_path / "run", print_fn=said.append, **QUIET)
    summary = result["summary"]
    assert summary["best"]["strategy"] == "baseline"
    assert summary["verdict"].startswith("No candidate beat the baseline")
    assert summary["verdict"] in said
    assert summary["verdict"] in (tmp_path / "run" / "report.html").read_text()


def test_precomputed_views_print_one_line_per_view(shared_data, tmp_path, capsys):
    mfeat = load_mfeat(shared_data, views=["fou", "kar"])
    table = mfeat.data.assign(digit=mfeat.target).groupby("digit").head(15)
    table.to_csv(tmp_path / "t.csv", index=False)
    fit_table(tmp_path / "t.csv", "digit", tmp_path / "run", **QUIET)
    out = capsys.readouterr().out
    columns = out.split("Columns:")[1].split("Searching")[0].strip().splitlines()
    assert len(columns) == 3, columns  # fou, kar and the target
    fou = next(line for line in columns if "fou__" in line)
    assert "view fou: 76 columns" in fou and "numeric" in fou


def reviews(n=300, seed=0):
    """A label set by a shop's level and by ten words of praise among a hundred (five a review)."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"w{k:03d}" for k in range(100)])
    drawn = rng.integers(0, 100, size=(n, 5))
    shop = rng.integers(0, 6, n)
    score = 1.5 * (drawn < 10).sum(axis=1) + 0.8 * (shop >= 3) + rng.normal(scale=0.3, size=n)
    return pd.DataFrame(
        {
            "shop": np.array([f"shop{k}" for k in range(6)])[shop],
            "noise": rng.normal(size=n),
            "review": [" ".join(row) for row in vocabulary[drawn]],
            "good": np.where(score > 1.0, "yes", "no"),
        }
    )


def test_words_beside_the_other_views_and_categories_as_categories(tmp_path):
    table = reviews()
    table.iloc[:240].to_csv(tmp_path / "t.csv", index=False)
    result = fit_table(
        tmp_path / "t.csv", "good", tmp_path / "run", print_fn=None, progress=False, cv=3,
        strategies=["early", "gbm"], text_features="tfidf", prune=False, ensemble=False,
    )  # fmt: skip
    board = result["leaderboard"].set_index(["strategy", "params"])["mean_score"]
    strategies = set(result["leaderboard"]["strategy"])
    assert {"early", "early (words)", "gbm (tabular)", "gbm"} <= strategies
    # ten words among a hundred: 64 SVD components of TF-IDF blur them, the words themselves keep them
    assert board["early (words)"].max() > board["early"].max() + 0.03
    # the words read beside the shop: better than either alone
    assert board["early (words)"].max() > board["only review (words)"].max()
    # gradient boosting reads the shop as one categorical column, not as its one-hot columns
    kinds = {"numeric": "numeric", "categorical": "categorical", "review": "text"}
    entries = strategy_grid(
        "classification", ["gbm"], views=list(kinds), text_columns={"review": "review"}, kinds=kinds,
        categorical_columns=["shop"],
    )  # fmt: skip
    grid = {name: (est, stage) for name, est, _, stage in entries}
    for name in ("gbm (tabular)", "gbm"):
        model, stage = grid[name]
        assert stage == ("features", "columns") and model[-1].categorical_features == [0]
    assert board["gbm (tabular)"].notna().all() and board["gbm"].notna().all()
    table.iloc[240:].drop(columns="good").to_csv(tmp_path / "new.csv", index=False)
    predicted = predict_table(tmp_path / "run", tmp_path / "new.csv", print_fn=None)
    assert (predicted["prediction"].to_numpy() == table["good"].iloc[240:].to_numpy()).mean() > 0.8
