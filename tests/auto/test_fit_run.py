"""``mmsk fit`` on a real table: no lost work, columns, honest choice, bad input.

The table: bundled FSDD recordings (WAV files) and 8x8 digit images written as PNG
files, a numeric column, a row identifier; some files unreadable.
"""

import json
import os
import re
import shutil
import warnings

import cv2
import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

from mmsk import persist
from mmsk.auto import FitRun, fit_table, make_feature_union, prepare_table, strategy_grid
from mmsk.cli import main
from mmsk.datasets import bundled_data_home, load_av_digits
from mmsk.extract import ExtractionWarning

QUIET = dict(progress=False, print_fn=None, text_features="tfidf")


@pytest.fixture(scope="module")
def table_dir(tmp_path_factory):
    """table.csv: 96 rows of 4 speakers (files beside it; one photo missing, 5 files not media)."""
    root = tmp_path_factory.mktemp("fit_table")
    (root / "files").mkdir()
    av = load_av_digits(bundled_data_home())
    keep = np.flatnonzero(av.frame["take"].to_numpy() < 4)
    keep = keep[np.isin(av.groups.to_numpy()[keep], ["george", "jackson", "lucas", "theo"])]
    rng = np.random.default_rng(0)
    rows = []
    for k, i in enumerate(keep):
        png, wav = f"files/{k:03d}.png", f"files/{k:03d}.wav"
        image = (np.asarray(av.data["image"].iloc[i], dtype=float) / 16 * 255).astype(np.uint8)
        cv2.imwrite(str(root / png), cv2.resize(image, (32, 32), interpolation=cv2.INTER_NEAREST))
        shutil.copyfile(av.data["audio"].iloc[i], root / wav)
        rows.append(
            {
                "key": f"r{k:03d}",
                "voice": wav,
                "photo": png,
                "level": rng.normal(),
                "speaker": av.groups.iloc[i],
                "digit": int(av.target[i]),
            }
        )
    table = pd.DataFrame(rows)
    broken = []
    for j, r in enumerate(rng.choice(len(table), 6, replace=False)):
        path = root / table.at[r, "voice" if j % 2 else "photo"]
        if j == 0:
            path.unlink()  # a photo that is not there at all
        else:
            path.write_bytes(b"this is not a media file")  # a text file under a media name
        broken.append(str(path))
    table.to_csv(root / "table.csv", index=False)
    return root, table, sorted(broken)


def test_on_error_nan_runs_every_strategy_through_every_step(table_dir, tmp_path, feature_cache):
    root, table, broken = table_dir
    result = fit_table(
        root / "table.csv",
        "digit",
        tmp_path,
        groups="speaker",
        id="key",
        cv=2,
        on_error="nan",
        max_epochs=3,
        prune=False,
        cache=str(feature_cache),
        **QUIET,
    )
    board = result["leaderboard"]
    # gradient boosting on a thousand audio and image features over ten classes: left out by its cost;
    # on the numeric view alone it is cheap, and stays
    assert result["summary"]["left_out"] == ["gbm"]
    assert set(board["strategy"]) == {
        "baseline", "only voice", "only photo", "only numeric",
        "early", "gbm (tabular)", "forest", "late", "late (kernel)", "stacking", "cca", "mkl", "deep",
        "ensemble",
    }  # fmt: skip
    # every candidate of every strategy scored every fold (none dropped: pruning is off),
    # rows without a view included
    assert board["mean_score"].notna().all(), board[board["mean_score"].isna()]
    assert (board["status"] == "complete").all()
    assert result["status"] == "complete" and result["summary"]["failures"] == []
    for name in ("model.skops", "leaderboard.csv", "cv_predictions.csv", "ablation.csv", "report.html"):
        assert (tmp_path / name).is_file(), name
    cv_pred = pd.read_csv(tmp_path / "cv_predictions.csv")
    assert list(cv_pred["key"]) == list(table["key"])  # the identifier travels
    proba = cv_pred[[f"proba_{c}" for c in range(10)]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert sorted(u["item"] for u in result["summary"]["unreadable"]) == broken


def test_runs_into_other_folders_that_share_a_feature_cache_read_each_file_once(table_dir, tmp_path):
    root, table, broken = table_dir
    copy = tmp_path / "table"
    shutil.copytree(root, copy)  # with each file's modification time
    settings = dict(groups="speaker", cv=2, on_error="nan", strategies=["early"], ensemble=False,
                    estimate="none", drop=["photo"], cache=str(tmp_path / "features"), **QUIET)  # fmt: skip
    first = fit_table(copy / "table.csv", "digit", tmp_path / "first", **settings)
    # every readable recording becomes unreadable with its size and time kept: only the cache knows it
    for name in table["voice"]:
        path = copy / name
        if path.exists() and str(root / name) not in broken:
            stat = path.stat()
            path.write_bytes(bytes(stat.st_size))
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = fit_table(copy / "table.csv", "digit", tmp_path / "second", **settings)
    assert not (tmp_path / "second" / "cache").exists() and not (tmp_path / "first" / "cache").exists()
    unreadable = sorted(u["item"] for u in second["summary"]["unreadable"])
    voices = [str(copy / name) for name in table["voice"] if str(root / name) in broken]
    assert voices and unreadable == sorted(voices)  # as in the first run

    def board(result):  # ties are ordered by fit time, which differs between runs
        columns = ["strategy", "params", "mean_score"]
        return result["leaderboard"][columns].sort_values(["strategy", "params"], ignore_index=True)

    pd.testing.assert_frame_equal(board(second), board(first))


@pytest.mark.parametrize(
    "strategy", ["early", "gbm", "forest", "late", "late (kernel)", "stacking", "cca", "mkl", "deep"]
)
def test_every_strategy_predicts_every_row_with_a_readable_view(table_dir, tmp_path, strategy, feature_cache):
    """The strategy as ``mmsk fit`` builds it, on the table with its unreadable files."""
    root, table, _ = table_dir
    modalities = {"voice": "audio", "photo": "image", "level": "numeric"}
    data = prepare_table(table, modalities, base_dir=root)
    union = make_feature_union(modalities, on_error="nan", cache=str(feature_cache))
    asked = [strategy.split(" (")[0]]
    grid = strategy_grid("classification", asked, views=["voice", "photo", "numeric"], max_epochs=3)
    model = Pipeline([("features", union), ("model", dict((n, e) for n, e, *_ in grid)[strategy])])
    if strategy == "gbm":  # a thousand features over ten classes: fewer rounds keep the test short
        model.set_params(model__max_iter=8)
    if strategy == "forest":
        model.set_params(model__n_estimators=30)
    if strategy == "mkl":  # decision values, which the search calibrates: here, scikit-learn's calibration
        model = CalibratedClassifierCV(model, method="sigmoid", cv=2, ensemble=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtractionWarning)  # the unreadable files, expected
        model.fit(data, table["digit"])
        pred, proba = model.predict(data), model.predict_proba(data)
    assert len(pred) == len(table) and pd.notna(pred).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (pred == table["digit"]).mean() > 0.5  # and they mean something (chance is 0.1)
    persist.save(model, tmp_path / "model.skops")  # and the fitted model loads as a trusted skops file
    loaded = persist.load(tmp_path / "model.skops")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtractionWarning)
        np.testing.assert_allclose(loaded.predict_proba(data), proba)


def test_naming_a_column_adds_to_detection_and_identifiers_are_left_out(table_dir, tmp_path, capsys):
    root, table, _ = table_dir
    table = table.assign(
        row_number=np.arange(len(table)),
        note=[f"files/{k:03d}.png" if k % 2 else "a few words of free text" for k in range(len(table))],
    )
    table.to_csv(tmp_path / "t.csv", index=False)
    shutil.copytree(root / "files", tmp_path / "files")
    args = ["fit", str(tmp_path / "t.csv"), "--target", "digit", "--groups", "speaker", "--cv", "2",
            "--on-error", "nan", "--strategies", "early", "--no-progress",
            "--image", "photo", "--drop", "voice", "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    roles = {d["column"]: (d["role"], d["modality"]) for d in summary["detection"]}
    assert roles["photo"] == ("feature", "image")
    assert roles["level"] == ("feature", "numeric")  # detected although photo was named
    assert roles["voice"][0] == "dropped" and roles["digit"][0] == "target"
    assert roles["row_number"][0] == "skipped" and roles["key"][0] == "skipped"
    assert roles["note"][0] == "skipped"
    whys = {d["column"]: d["why"] for d in summary["detection"]}
    assert "identifier" in whys["row_number"] and "identifier" in whys["key"] and "mixed" in whys["note"]
    for column in table.columns:  # every column is printed with its role
        assert column in out

    only = [*args[:-2], "--only-named", "--out", str(tmp_path / "only")]
    assert main(only) == 0
    summary = json.loads((tmp_path / "only" / "summary.json").read_text())
    assert [d["column"] for d in summary["detection"] if d["role"] == "feature"] == ["photo"]
    assert summary["rows_without_any_view"] == 3  # the unreadable photos: nothing else is used


def test_metric_one_se_choice_roc_auc_and_one_progress_bar_on_a_binary_target(table_dir, tmp_path, capsys):
    root, table, _ = table_dir
    binary = table.assign(odd=table["digit"] % 2).drop(columns="digit")
    binary.to_csv(tmp_path / "b.csv", index=False)
    shutil.copytree(root / "files", tmp_path / "files")
    result = fit_table(
        tmp_path / "b.csv", "odd", tmp_path / "run", groups="speaker", cv=2, on_error="nan",
        strategies=["early", "late"], metric="balanced_accuracy", choose="one-se", ensemble=False,
        progress=True, print_fn=None, text_features="tfidf",
    )  # fmt: skip  # the rule among the candidates (an ensemble is chosen by its estimate, not by it)
    board = result["leaderboard"]
    assert result["summary"]["metric"] == "balanced_accuracy"
    assert board["roc_auc"].between(0, 1).all()
    chosen = board[board["chosen"]].iloc[0]
    best = board.iloc[0]
    # the chosen candidate is within one standard error of the best, and no simpler one is
    assert chosen["mean_score"] >= best["mean_score"] - best["sem_score"] - 1e-12
    order = {"baseline": 0, "only voice": 1, "only photo": 1, "only numeric": 1, "early": 2, "late": 3,
             "late (kernel)": 3}  # fmt: skip
    near = board[board["mean_score"] >= best["mean_score"] - best["sem_score"] - 1e-12]
    assert order[chosen["strategy"]] == near["strategy"].map(order).min()

    err = capsys.readouterr().err
    # one extractor bar: the extraction lists the unreadable files too, and folds read the cache
    audio_bars = len(re.findall(r"\rAudioFeatures:\s+0%", err)) + len(
        re.findall(r"^AudioFeatures:\s+0%", err, re.M)
    )
    assert audio_bars == 1, audio_bars
    # one bar over every fit: (baseline 1 + 3 modalities x 2 + early 4 + late 4 + late (kernel) 2)
    # x 2 folds, timed
    assert len(re.findall(r"search: 100%", err)) >= 1
    assert re.search(r"search: 100%\|[^\n\r]*\| 34/34 \[", err)


@pytest.mark.parametrize(
    ("change", "args", "message"),
    [
        (lambda t: t.assign(digit=3), [], "has one class"),
        (lambda t: t.assign(speaker="all"), ["--groups", "speaker"], "holds a single group"),
        (lambda t: t, ["--metric", "no_such_metric"], "no_such_metric"),
    ],
)
def test_bad_input_is_refused_with_a_message(table_dir, tmp_path, capsys, change, args, message):
    root, table, _ = table_dir
    change(table).to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "run"
    assert main(["fit", str(tmp_path / "t.csv"), "--target", "digit", *args, "--out", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not (out / "model.skops").exists()


def test_rows_without_a_target_are_dropped_and_counted(table_dir, tmp_path, capsys):
    root, table, _ = table_dir
    table = table.astype({"digit": float})
    table.loc[[0, 5, 9], "digit"] = np.nan
    table.to_csv(tmp_path / "t.csv", index=False)
    shutil.copytree(root / "files", tmp_path / "files")
    args = ["fit", str(tmp_path / "t.csv"), "--target", "digit", "--groups", "speaker", "--cv", "2",
            "--on-error", "nan", "--strategies", "early", "--no-progress", "--drop", "voice",
            "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(args) == 0
    assert "3 row(s) without a target value are left out" in capsys.readouterr().out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["rows"] == len(table) - 3 and summary["rows_without_target"] == 3


def test_an_output_folder_that_is_a_file_is_refused(table_dir, tmp_path, capsys):
    root, _, _ = table_dir
    (tmp_path / "out").write_text("I am a file")
    assert main(["fit", str(root / "table.csv"), "--target", "digit", "--out", str(tmp_path / "out")]) == 1
    assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "out").read_text() == "I am a file"


def test_a_failing_explanation_keeps_the_model_and_a_rerun_redoes_only_what_failed(
    table_dir, tmp_path, monkeypatch, capsys, feature_cache
):
    root, _, _ = table_dir
    args = ["fit", str(root / "table.csv"), "--target", "digit", "--groups", "speaker", "--cv", "2",
            "--on-error", "nan", "--strategies", "early", "--no-progress", "--cache", str(feature_cache),
            "--text-features", "tfidf", "--out", str(tmp_path)]  # fmt: skip

    def broken_importance(self, rows, outcome):
        raise RuntimeError("the importance broke")

    with monkeypatch.context() as patch:
        patch.setattr(FitRun, "importance", broken_importance)
        assert main(args) == 3  # partial
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "partial"
    assert [f["step"] for f in summary["failures"]] == ["importance"]
    assert "the importance broke" in summary["failures"][0]["error"]
    for name in ("model.skops", "leaderboard.csv", "cv_predictions.csv", "report.html"):
        assert (tmp_path / name).is_file(), name
    assert not (tmp_path / "ablation.csv").exists()
    page = (tmp_path / "report.html").read_text()
    assert "Partial run: 1 step(s) failed" in page and "the importance broke" in page
    assert "PARTIAL" in capsys.readouterr().out
    model_time = (tmp_path / "model.skops").stat().st_mtime_ns
    board = pd.read_csv(tmp_path / "leaderboard.csv")

    class Searched(Exception):
        pass

    def search(self, rows):
        raise Searched

    monkeypatch.setattr(FitRun, "search", search)
    assert main(args) == 0
    # no Searched raised: the search and the model were reused, not redone; the failed step was
    assert (tmp_path / "model.skops").stat().st_mtime_ns == model_time
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "leaderboard.csv"), board)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "complete" and (tmp_path / "ablation.csv").is_file()
    assert summary["seconds"]["search"] == "reused"

    # another setting is another run: everything is computed again
    with pytest.raises(Searched):
        main([*args, "--cv", "3"])


def test_a_time_limit_too_short_still_writes_the_baseline_and_each_modality(
    table_dir, tmp_path, capsys, feature_cache
):
    root, _, _ = table_dir
    args = ["fit", str(root / "table.csv"), "--target", "digit", "--groups", "speaker", "--cv", "2",
            "--on-error", "nan", "--strategies", "early", "late", "--no-progress",
            "--time-limit", "0", "--cache", str(feature_cache), "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    assert "not searched ['early', 'late', 'late (kernel)']" in capsys.readouterr().out
    board = pd.read_csv(tmp_path / "leaderboard.csv")
    assert set(board["strategy"]) - {"ensemble"} == {"baseline", "only voice", "only photo", "only numeric"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["skipped"] == ["early", "late", "late (kernel)"]
    assert "not searched early, late, late (kernel)" in (tmp_path / "report.html").read_text()


def test_report_plots_start_at_the_baseline_and_keep_legends_off_the_bars():
    import matplotlib

    matplotlib.use("Agg")
    from mmsk.plot import plot_leaderboard, plot_modality_ablation

    board = pd.DataFrame(
        {"strategy": ["late", "only a", "baseline"], "params": ["", "", ""], "mean_score": [0.9, 0.8, 0.5],
         "std_score": [0.02, 0.03, 0.01]}
    )  # fmt: skip
    ax = plot_leaderboard(board)
    assert ax.get_xlim()[0] == pytest.approx(0.49)  # the baseline (minus its spread), not 0 and not 0.52
    assert any(line.get_xdata()[0] == 0.5 for line in ax.get_lines())  # the dashed baseline line
    ablation = pd.DataFrame(
        {"setting": ["all views", "only a", "only b"], "mean_score": [0.9, 0.7, 0.8], "std_score": [0.01] * 3}
    )
    ax = plot_modality_ablation(ablation)
    legend = ax.get_legend().get_window_extent()
    figure = ax.figure
    figure.canvas.draw()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the axes, on no bar


def test_pretrained_encoders_replace_the_classical_features_and_the_report_names_them(table_dir, tmp_path):
    import _tiny_hf

    root, table, _ = table_dir
    small = table.groupby("speaker").head(8).copy()  # 32 rows, 4 speakers
    for column in ("voice", "photo"):
        small[column] = [str(root / p) for p in small[column]]
    small.to_csv(tmp_path / "small.csv", index=False)
    vit, wav2vec2 = _tiny_hf.folder("vit"), _tiny_hf.folder("wav2vec2")
    out = tmp_path / "run"
    code = main(
        ["fit", str(tmp_path / "small.csv"), "--target", "digit", "--groups", "speaker", "--id", "key",
         "--on-error", "nan", "--cv", "2", "--strategies", "early", "--no-progress",
         "--image-encoder", vit, "--audio-encoder", wav2vec2, "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["encoders"] == {"image": vit, "audio": wav2vec2}
    report = (out / "report.html").read_text()
    assert f"ImageEmbedder ({vit})" in report and f"AudioEmbedder ({wav2vec2})" in report
    board = pd.read_csv(out / "leaderboard.csv")
    assert np.isfinite(board["mean_score"]).all()


def test_the_refit_ablation_and_the_nested_estimate_stay_available(table_dir, tmp_path, feature_cache):
    root, _, _ = table_dir
    result = fit_table(
        root / "table.csv", "digit", tmp_path, groups="speaker", cv=2, on_error="nan", strategies=["early"],
        importance="refit", estimate="nested", ensemble=False, cache=str(feature_cache), **QUIET,
    )  # fmt: skip
    assert result["status"] == "complete"
    ablation = result["importance"]
    assert {"all views", "only voice", "only photo", "without numeric"} <= set(ablation["setting"])
    scores = dict(zip(ablation["setting"], ablation["mean_score"]))
    assert scores["only numeric"] < 0.3 < scores["only photo"]  # the numbers are noise, the photos are digits
    estimate = result["summary"]["estimate"]
    assert estimate["method"] == "nested" and len(estimate["scores"]) == 2
    assert estimate["ci_low"] <= estimate["mean"] <= estimate["ci_high"]
    assert "Nested estimate of the whole choice" in (tmp_path / "report.html").read_text()
