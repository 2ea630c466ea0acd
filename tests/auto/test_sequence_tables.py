"""`mmsk fit` on a table of sequence views: POM's word-aligned audio and video features, step by step."""

import json

import numpy as np
import pytest

from mmsk.auto import feature_stages, fit_table, load_model, predict_table, sequence_views, strategy_grid
from mmsk.datasets import load_pom


@pytest.fixture(scope="module")
def pom_run(shared_data, tmp_path_factory):
    """150 POM rows (two sequence views of 20 steps), fitted with the early and temporal strategies."""
    root = tmp_path_factory.mktemp("pom_sequences")
    pom = load_pom(shared_data, pooling="sequence")
    table = pom.data.iloc[:150].assign(trait=pom.target["trait_0"].to_numpy()[:150])
    # a few padded rows: their last five steps carry no words
    padded = [c for c in table.columns if c.startswith(("audio__t15", "audio__t16", "audio__t17",
                                                         "audio__t18", "audio__t19"))]  # fmt: skip
    table.loc[table.index[:10], padded] = np.nan
    table.to_csv(root / "pom.csv", index=False)
    lines = []
    result = fit_table(
        root / "pom.csv",
        out=root / "run",
        target="trait",
        strategies=["early", "temporal"],
        cv=3,
        max_epochs=3,
        progress=False,
        print_fn=lines.append,
    )
    return root, result, lines


def test_sequence_views_are_found_said_and_recorded(pom_run):
    root, result, lines = pom_run
    said = "\n".join(lines)
    assert "view audio: 860 columns, a sequence of 20 steps of 43" in said
    assert "view video: 820 columns, a sequence of 20 steps of 41" in said
    views = {v["view"]: v for v in json.loads((root / "run" / "summary.json").read_text())["views"]}
    assert views["audio"]["sequence"] == "20 steps x 43 features"
    assert "Sequence views (audio, video)" in (root / "run" / "report.html").read_text()


def test_the_leaderboard_holds_a_baseline_pooled_and_temporal_candidates(pom_run):
    _, result, _ = pom_run
    board = result["leaderboard"]
    assert result["status"] == "complete"
    assert {"baseline", "only audio", "only video", "early", "temporal"} <= set(board["strategy"])
    temporal = board[board["strategy"] == "temporal"]
    # every view is a sequence of 20 steps: early fusion over time is tried beside cross-modal attention
    assert sorted(temporal["params"]) == ["fusion='cross_attention'", "fusion='temporal_concat'"]
    assert temporal["mean_fit_time"].notna().all()  # each was fitted on a fold at least


def test_predict_on_new_rows_with_a_missing_view(pom_run, shared_data):
    root, _, _ = pom_run
    new = load_pom(shared_data, split="test", pooling="sequence").data.iloc[:12].copy()
    video = [c for c in new.columns if c.startswith("video__")]
    new.loc[new.index[:4], video] = np.nan  # no video for four rows
    predicted = predict_table(root / "run", new, print_fn=None)
    assert len(predicted) == 12
    assert np.isfinite(predicted["prediction"].astype(float)).all()


def test_the_grid_reads_sequences_only_in_the_temporal_strategy():
    sequences = sequence_views(
        dict.fromkeys([f"a__t{t:02d}_f{j}" for t in range(3) for j in range(2)] + ["age"], "numeric")
    )
    assert sequences == {"a": (3, 2)}
    grid = strategy_grid("classification", ["early", "temporal"], views=["a", "numeric"], sequences=sequences)
    stages = {name: stage for name, _, _, stage in grid}
    assert stages["temporal"] == "sequences" and stages["early"] == "features"
    # a static view beside the sequence: the views are not aligned, only cross-modal attention reads them
    assert dict((name, params) for name, _, params, _ in grid)["temporal"] == {"fusion": ["cross_attention"]}
    with pytest.raises(ValueError, match="'temporal' strategy reads sequence views"):
        strategy_grid("classification", ["temporal"], views=["a", "b"])


def test_a_pooled_table_keeps_its_precomputed_names_once(shared_data, tmp_path):
    pom = load_pom(shared_data, split="test")
    table = pom.data.iloc[:60].assign(trait=pom.target["trait_0"].to_numpy()[:60])
    table.to_csv(tmp_path / "pom.csv", index=False)
    fit_table(tmp_path / "pom.csv", out=tmp_path / "run", target="trait", strategies=["early"], cv=3,
              progress=False, print_fn=None)  # fmt: skip
    union = feature_stages(load_model(tmp_path / "run")[0])[0]
    names = union.get_feature_names_out()
    assert all(name.count("__") == 1 for name in names), names[:3]
