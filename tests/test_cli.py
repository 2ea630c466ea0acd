"""The ``mmsk`` command end to end: fit on a CSV of real files, predict, report, bad input.

The table is made from real data: FSDD recordings (shared data, or the subset
bundled in the package), digit images written as PNG files, a text column and
a numeric column, with 10% of the files unreadable.
"""

import json
import re
import shutil
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest

from mmsk.auto import detect_modalities, load_model, prepare_table
from mmsk.cli import main
from mmsk.datasets import load_av_digits

N_ROWS = 220
N_HELD_BACK = 30


def _write_table(root):
    """table.csv (with 10% unreadable files), new.csv (held-back rows, no target), files beside them."""
    (root / "images").mkdir()
    (root / "audio").mkdir()
    av = load_av_digits()
    rng = np.random.default_rng(0)
    idx = rng.choice(len(av.data), N_ROWS + N_HELD_BACK, replace=False)
    rows = []
    for k, i in enumerate(idx):
        image = np.asarray(av.data["image"].iloc[i], dtype=float) / 16 * 255
        png = f"images/{k:04d}.png"
        cv2.imwrite(
            str(root / png), cv2.resize(image.astype(np.uint8), (32, 32), interpolation=cv2.INTER_NEAREST)
        )
        wav = f"audio/{k:04d}.wav"
        shutil.copyfile(av.data["audio"].iloc[i], root / wav)
        rows.append(
            {
                "recording": wav,
                "picture": png,
                "comment": f"take {k % 5} in room {'abc'[k % 3]} late on a quiet evening",
                "level": rng.normal(),
                "speaker": av.groups.iloc[i],
                "digit": int(av.target[i]),
            }
        )
    table = pd.DataFrame(rows)
    train, new = table.iloc[:N_ROWS].copy(), table.iloc[N_ROWS:].drop(columns="digit")
    # 10% unreadable files: truncated WAVs and PNGs that are not images
    bad = rng.choice(N_ROWS, N_ROWS // 10, replace=False)
    for j, r in enumerate(bad):
        path = root / (train.at[r, "recording"] if j % 2 else train.at[r, "picture"])
        path.write_bytes(b"not a real file")
    train.to_csv(root / "table.csv", index=False)
    new.to_csv(root / "new.csv", index=False)
    unreadable = sorted(
        str(root / (train.at[r, "recording"] if j % 2 else train.at[r, "picture"])) for j, r in enumerate(bad)
    )
    (root / "unreadable.json").write_text(json.dumps(unreadable))


@pytest.fixture(scope="module")
def table_dir(build_once):
    """The table's folder (shared by the test workers; tests only add files) and its unreadable files."""
    root = build_once("cli_table", _write_table)
    return root, json.loads((root / "unreadable.json").read_text())


FIT_ARGS = [
    "--target", "digit", "--groups", "speaker", "--cv", "2", "--epochs", "10",
    "--strategies", "late", "deep", "--text-features", "tfidf", "--no-progress",
]  # fmt: skip


def test_unreadable_files_stop_the_run_with_the_whole_list(table_dir, tmp_path, capsys):
    root, unreadable = table_dir
    assert main(["fit", str(root / "table.csv"), *FIT_ARGS, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{len(unreadable)} file(s) cannot be read" in err and "--on-error nan" in err
    listed = pd.read_csv(tmp_path / "unreadable.csv")
    assert sorted(listed["item"]) == unreadable
    assert set(listed["column"]) == {"recording", "picture"}
    assert not (tmp_path / "model.skops").exists()


@pytest.fixture(scope="module")
def fitted(table_dir, build_once):
    """The run's folder, fitted once for every test worker: tests that change it work on a copy."""
    root, _ = table_dir

    def fit(out):
        assert main(["fit", str(root / "table.csv"), *FIT_ARGS, "--on-error", "nan", "--out", str(out)]) == 0

    return build_once("cli_run", fit)


def test_fit_writes_leaderboard_model_and_report(fitted, table_dir):
    _, unreadable = table_dir
    board = pd.read_csv(fitted / "leaderboard.csv")
    singles = {"only recording", "only picture", "only comment", "only comment (words)", "only numeric"}
    assert set(board["strategy"]) - {"ensemble"} == {"baseline", *singles, "late", "late (kernel)", "deep"}
    assert board["mean_score"].is_monotonic_decreasing or board["rank"].is_monotonic_increasing
    assert board["mean_score"].iloc[0] > 0.85  # spoken + written digits, speakers held out
    baseline = board.loc[board["strategy"] == "baseline", "mean_score"].item()
    assert baseline < 0.2  # ten digits: the prior is about 0.1
    summary = json.loads((fitted / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["failures"] == []
    assert summary["baseline_score"] == pytest.approx(baseline)
    estimate = summary["estimate"]
    assert estimate["method"] == "bbc" and estimate["n_bootstrap"] >= 200
    assert estimate["ci_low"] <= estimate["mean"] <= estimate["ci_high"] and estimate["mean"] > baseline + 0.5
    roles = {d["column"]: d["role"] for d in summary["detection"]}
    assert roles == {
        "recording": "feature",
        "picture": "feature",
        "comment": "feature",
        "level": "feature",
        "speaker": "groups",
        "digit": "target",
    }
    assert {d["column"]: d["modality"] for d in summary["detection"] if d["role"] == "feature"} == {
        "recording": "audio",
        "picture": "image",
        "comment": "text",
        "level": "numeric",
    }
    assert sorted(u["item"] for u in summary["unreadable"]) == unreadable
    views = {v["view"]: v["rows_without_view"] for v in summary["views"]}
    assert views["recording"] + views["picture"] == len(unreadable)
    page = (fitted / "report.html").read_text()
    for path in unreadable:  # every unreadable file is listed in the report
        assert path in page
    assert "Estimate of the whole choice (BBC-CV" in page and "Baseline accuracy" in page
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', page)
    assert len(images) >= 3 and any("Confusion" in a for a in images) and any("ablation" in a for a in images)
    ablation = pd.read_csv(fitted / "ablation.csv")
    settings = {"all views", "without recording", "without picture", "without comment", "without numeric"}
    assert set(ablation["setting"]) == settings
    deltas = dict(zip(ablation["setting"], ablation["delta"]))
    # the recordings and the pictures both carry the digit; the comment carries nothing
    assert deltas["without recording"] < 0 and deltas["without picture"] < 0
    assert abs(deltas["without comment"]) < 0.05


def test_predict_reproduces_the_saved_model(fitted, table_dir, tmp_path, capsys):
    root, _ = table_dir
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(fitted), str(root / "new.csv"), "--out", str(out)]) == 0
    cli = pd.read_csv(out)
    model, meta = load_model(fitted / "model.skops")
    new = pd.read_csv(root / "new.csv")
    direct = model.predict(prepare_table(new, meta["modalities"], base_dir=root))
    assert len(cli) == N_HELD_BACK
    np.testing.assert_array_equal(cli["prediction"].to_numpy(), direct)
    proba = cli[[f"proba_{c}" for c in model.classes_]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert "written" in capsys.readouterr().out


def test_predict_reads_parquet_like_csv(fitted, table_dir, tmp_path):
    root, _ = table_dir
    parquet = root / "new.parquet"  # beside the CSV: relative paths start from the same folder
    pd.read_csv(root / "new.csv").to_parquet(parquet)
    assert main(["predict", str(fitted), str(parquet), "--out", str(tmp_path / "p.csv"), "--no-proba"]) == 0
    assert main(["predict", str(fitted), str(root / "new.csv"), "--out", str(tmp_path / "c.csv")]) == 0
    from_parquet, from_csv = pd.read_csv(tmp_path / "p.csv"), pd.read_csv(tmp_path / "c.csv")
    assert list(from_parquet.columns) == ["row", "prediction"]
    np.testing.assert_array_equal(from_parquet["prediction"], from_csv["prediction"])


def test_report_command_rebuilds_the_page(fitted, tmp_path):
    # the run wrote its page from the model it held; the command reads the saved model back
    run = shutil.copytree(fitted, tmp_path / "run")
    page = run / "report.html"
    before = page.read_text()
    page.unlink()
    assert main(["report", str(run)]) == 0
    after = page.read_text()

    def from_the_model(text):  # the figures, and the feature stage the page names
        return re.findall(r"<img [^>]*>", text), re.findall(r"with the feature stage \((.*?)\)", text)

    images, stage = from_the_model(after)
    assert len(images) >= 3 and stage and "Features" in stage[0]
    assert (images, stage) == from_the_model(before)


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_report_renders_in_headless_chromium(fitted, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium); .ci/run installs it")
    # The page plus a probe that records, after load, how each image decoded.
    probe = (
        "<script>window.addEventListener('load', () => { document.body.setAttribute('data-probe', "
        "JSON.stringify([...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight, "
        "i.getBoundingClientRect().width]))); });</script>"
    )
    page = tmp_path / "probe.html"
    page.write_text((fitted / "report.html").read_text().replace("</body>", probe + "</body>"))
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1200,3000",
    ]
    dom = subprocess.run(
        [*flags, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, "the browser did not run the page to its load event"
    images = json.loads(found.group(1).replace("&quot;", '"'))
    assert len(images) >= 3
    assert "Estimate of the whole choice (BBC-CV" in dom and "95% interval" in dom
    assert "the dashed line is the baseline" in dom
    for complete, width, height, shown in images:
        assert complete and width > 100 and height > 100 and shown > 100  # decoded and laid out
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", (fitted / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    pixels = cv2.imread(str(shot))
    assert pixels is not None and pixels.shape[:2] == (3000, 1200)
    assert (pixels < 200).any(axis=2).mean() > 0.05  # text, tables and plots drawn, not a blank page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nosuch"], "no target column 'nosuch'"),
        (["--target", "digit", "--text", "nosuch"], "no column(s) ['nosuch']"),
        (["--target", "digit", "--groups", "who"], "no groups column 'who'"),
    ],
)
def test_bad_columns_are_named(table_dir, tmp_path, capsys, args, message):
    root, _ = table_dir
    assert main(["fit", str(root / "table.csv"), *args, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert message in err and "columns are" in err


def test_empty_tables_are_refused(tmp_path, capsys):
    header_only = tmp_path / "header.csv"
    header_only.write_text("recording,digit\n")
    blank = tmp_path / "blank.csv"
    blank.write_text("")
    assert main(["fit", str(header_only), "--target", "digit", "--out", str(tmp_path / "o")]) == 1
    assert "has no rows" in capsys.readouterr().err
    assert main(["fit", str(blank), "--target", "digit", "--out", str(tmp_path / "o")]) == 1
    assert "is empty" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "none.csv"), "--target", "digit", "--out", str(tmp_path / "o")]) == 1
    assert "no such table" in capsys.readouterr().err


def test_detection_reads_extensions_and_dtypes():
    table = pd.DataFrame(
        {
            "clip": [f"c{i}.WAV" for i in range(60)],
            "photo": [f"p{i}.jpg" if i % 10 else None for i in range(60)],
            "review": [f"great product number {i}" for i in range(60)],
            "colour": ["red", "green", "blue"] * 20,
            "id": [f"id{i}" for i in range(60)],
            "price": np.arange(60.0),
            "empty": [np.nan] * 60,
            "label": [0, 1] * 30,
        }
    )
    detection = detect_modalities(table, exclude=["label"])
    found = dict(
        zip(
            detection["column"],
            detection["modality"].astype(object).where(detection["modality"].notna(), None),
        )
    )
    assert found == {
        "clip": "audio",
        "photo": "image",
        "review": "text",
        "colour": "categorical",
        "id": None,
        "price": "numeric",
        "empty": None,
    }


def test_predict_lists_unreadable_files_and_on_error_nan_predicts_every_row(
    fitted, table_dir, tmp_path, capsys
):
    root, _ = table_dir
    new = pd.read_csv(root / "new.csv").head(8)
    (root / "broken").mkdir(exist_ok=True)
    (root / "broken" / "cut.wav").write_bytes(b"RIFF not really")
    (root / "broken" / "text.png").write_text("a text file named like an image")
    new.loc[1, "recording"] = "broken/cut.wav"
    new.loc[4, "picture"] = "broken/text.png"
    new.to_csv(root / "new_broken.csv", index=False)
    out = tmp_path / "pred.csv"

    args = ["predict", str(fitted), str(root / "new_broken.csv"), "--out", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "2 file(s) cannot be read" in err and "cut.wav" in err and "text.png" in err
    assert "--on-error nan" in err and not out.exists()

    assert main([*args, "--on-error", "nan"]) == 0
    captured = capsys.readouterr().out
    assert "cut.wav" in captured and "text.png" in captured
    pred = pd.read_csv(out)
    assert len(pred) == 8 and pred["prediction"].notna().all()
    model, _ = load_model(fitted)
    proba = pred[[f"proba_{c}" for c in model.classes_]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
