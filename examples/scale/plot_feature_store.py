"""
A resumable feature store, then a strategy search on a dask cluster
===================================================================

The AV-digits table (audio recordings and digit images) is turned into
features chunk by chunk in an on-disk :class:`~mmsk.scale.FeatureStore`. Two
chunks are then deleted, as if the run had been killed there: the rerun
computes only those two. The stored features then feed one StrategySearchCV over
fusion strategies whose fits run on a dask.distributed ``LocalCluster`` of
two workers, through joblib's dask backend.

Needs dask (``pip install "mmsk[dask]"``). Uses the data folder
(``MMSK_DATA`` or ``~/mmsk_data``) when it is there, else the recordings bundled with mmsk. About
a minute with the full data.
"""

# %%
import tempfile

import joblib
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from distributed import Client, LocalCluster
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union
from mmsk.auto import strategy_grid
from mmsk.datasets import load_av_digits
from mmsk.extract import AudioFeatures, ImageFeatures
from mmsk.model_selection import StrategySearchCV, fusion_leaderboard
from mmsk.plot import plot_leaderboard
from mmsk.scale import FeatureStore, extract_to_store

av = load_av_digits()
table, y, speakers = av.data, av.target, av.groups
print(f"{len(table)} rows, columns {list(table.columns)}")

# %%
# The store
# ---------
# The modality union is fitted on a sample (its extractors need nothing more),
# then applied chunk by chunk; every chunk is a Parquet file written under a
# temporary name and renamed when whole.
union = make_modality_union(
    audio=("audio", AudioFeatures.for_speech(sr=8000, n_jobs=2)),
    image=("image", ImageFeatures(features=("hog", "pixels"), size=(32, 32), hog_cell=8)),
)
union.fit(table.head(20))
folder = tempfile.mkdtemp(prefix="mmsk-store-")
store = extract_to_store(union, table, folder, chunk_size=250)
print(store, "computed:", store.last_run["computed"])

# %%
# An interrupted run leaves some chunks missing (and perhaps a temporary file,
# which is never read). Running the same call again finishes the store.
for chunk in (3, 7):
    store.chunk_path(chunk).unlink()
print("missing after the 'crash':", FeatureStore(folder).missing_chunks())
store = extract_to_store(union, table, folder, chunk_size=250)
print("rerun computed", store.last_run["computed"], "and reused", len(store.last_run["reused"]), "chunks")
features = store.read()

# %%
# A search over fusion strategies on a dask cluster
# -------------------------------------------------
# Folds are by speaker. The cluster here is two workers in this process
# (``processes=False``: worker processes would re-run this script's top level
# when they start, so scripts that want them put their work under
# ``if __name__ == "__main__":``). Give ``Client`` a scheduler's address to use
# a real cluster; nothing else changes.
strategies = [
    (name, estimator, params)
    for name, estimator, params, _ in strategy_grid(
        "classification",
        ["early", "late", "stacking", "cca", "deep"],
        views=["audio", "image"],
        max_epochs=30,
    )
]
search = StrategySearchCV(
    strategies,
    features=StandardScaler().set_output(transform="pandas"),
    cv=GroupKFold(3),
    n_jobs=-1,
    random_state=0,
)
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
with cluster, Client(cluster):
    with joblib.parallel_backend("dask"):
        search.fit(features, y, groups=speakers)
board = fusion_leaderboard(search)
print(board[["strategy", "mean_score", "std_score", "mean_fit_time"]].round(3).to_string(index=False))

# %%
ax = plot_leaderboard(board)
ax.set_title("AV-digits, folds by speaker: fits on a dask cluster")
plt.tight_layout()
