"""
From a CSV of files and text to a fitted model and an HTML report
=================================================================

What ``mmsk fit table.csv --target digit --groups speaker --out run/`` does,
from Python: :func:`mmsk.auto.fit_table` detects each column's modality,
lists unreadable files, searches the fusion strategies with speaker-grouped
cross-validation, saves the best model with skops and writes ``report.html``.
:func:`mmsk.auto.predict_table` (``mmsk predict``) applies it to new rows.

The table is built from real data: FSDD recordings, digit images written as
PNG files, a free-text column and a numeric column. A few files are
deliberately broken; ``on_error="nan"`` treats them as missing modalities.

Needs the data folder (``MMSK_DATA`` or ``~/mmsk_data``) with ``fsdd``; without it the
recordings bundled in the package are used. About 2 minutes.
"""

# %%
import shutil
import tempfile
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")

from mmsk.auto import fit_table, predict_table
from mmsk.datasets import load_av_digits
from mmsk.plot import plot_leaderboard

root = Path(tempfile.mkdtemp(prefix="mmsk_table_"))
(root / "files").mkdir()
av = load_av_digits()
rng = np.random.default_rng(0)
rows = []
for k, i in enumerate(rng.choice(len(av.data), 400, replace=False)):
    image = (np.asarray(av.data["image"].iloc[i], dtype=float) / 16 * 255).astype(np.uint8)
    cv2.imwrite(str(root / f"files/{k}.png"), cv2.resize(image, (32, 32), interpolation=cv2.INTER_NEAREST))
    shutil.copyfile(av.data["audio"].iloc[i], root / f"files/{k}.wav")
    rows.append(
        {
            "recording": f"files/{k}.wav",
            "picture": f"files/{k}.png",
            "comment": rng.choice(
                ["clear voice, quiet room", "some background noise here", "fast speech today"]
            ),
            "level": rng.normal(),
            "speaker": av.groups.iloc[i],
            "digit": int(av.target[i]),
        }
    )
table = pd.DataFrame(rows)
for k in range(0, 400, 40):  # ten broken recordings
    (root / table.at[k, "recording"]).write_bytes(b"not audio")
table.iloc[:350].to_csv(root / "table.csv", index=False)
table.iloc[350:].drop(columns="digit").to_csv(root / "new.csv", index=False)

# %%
# Fit: detection, search, ablation, model and report.
result = fit_table(
    root / "table.csv",
    "digit",
    root / "run",
    groups="speaker",
    cv=3,
    strategies=["early", "late", "stacking", "mkl", "deep"],
    on_error="nan",
    max_epochs=30,
    progress=False,
)
print(result["ablation"][["setting", "rows", "mean_score"]].to_string(index=False))

# %%
# The leaderboard: the baseline (dashed line), each modality alone, the fusion strategies.
ax = plot_leaderboard(result["leaderboard"])
ax.set_title("AV-digits table, folds by speaker")

# %%
# Predict new rows with the saved model (what ``mmsk predict --on-error nan`` writes): one of
# them has a broken recording, predicted from its other modalities.
predictions = predict_table(root / "run", root / "new.csv", on_error="nan")
print(predictions.head())
print(f"report: {root / 'run' / 'report.html'}")
