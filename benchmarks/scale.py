"""Scaling out: extraction throughput and search wall time against the number of workers.

Two workloads, each timed in one run with the tools a user would otherwise pick:

* **Extraction** of FSDD recordings (all 3000 by default) with the speech
  ``AudioFeatures`` set-up:

  - ``AudioFeatures.transform`` in one process, and with its own ``n_jobs``
    (joblib's loky processes, features in memory): what a user has without
    mmsk.scale;
  - ``mmsk.scale.extract_to_store`` (chunks of 250 into Parquet) on loky
    processes and on a dask.distributed ``LocalCluster`` of W worker
    processes (``joblib.parallel_backend("dask")``);
  - plain dask: ``dask_transform(...).to_parquet(...)`` on the same cluster;
  - a rerun of the finished store (everything reused).

* **Search**: one ``GridSearchCV`` over the fusion strategies of
  ``mmsk.auto.strategy_grid`` (early, late, stacking, MKL, GCCA + LR, deep
  fusion; 9 candidates x 3 folds) on UCI mfeat, with ``n_jobs=1``, loky, and the
  dask backend on W workers; the best parameters are checked equal.

Every timing is one run after a warm-up (librosa's numba code compiled and
cached, the cluster or loky's processes started, a small search run on them
first), so it shows steady state, not start-up. W runs over
``--workers`` (default 1 2: this machine has 2 cores).

Run: ``python benchmarks/scale.py [--n-audio 3000] [--workers 1 2] [--section scale]``;
the tables are printed and written into benchmarks/RESULTS.md.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import machine, table, write_section  # noqa: E402

from mmsk.datasets import get_data_home  # noqa: E402
from mmsk.extract import AudioFeatures  # noqa: E402

AUDIO = AudioFeatures.for_speech(sr=8000, n_jobs=1).get_params()  # the demo's speech set-up
DATA = get_data_home()


EXPECT = (
    "What to expect on a cluster: extraction is embarrassingly parallel, so throughput grows with "
    "workers until the file system is the limit; the store adds one Parquet write per chunk (a few "
    "per cent here) and makes a rerun after a crash cost only the missing chunks. dask costs more "
    "per task than loky on one machine (scheduler round trips, pickled estimators), so it pays "
    "once the work is spread over machines, with tasks of seconds or more (chunks of hundreds of "
    "rows, whole CV fits). Each new machine compiles librosa's numba code once (about 25 s). "
    "See docs/scaling.rst."
)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def cluster(n_workers):
    from distributed import Client, LocalCluster

    lc = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=50,
    )
    client = Client(lc)
    # the workers' imports (mmsk, torch, librosa) and librosa's numba cache, once
    client.run(lambda: __import__("mmsk.extract") and __import__("mmsk.fusion") and None)
    return lc, client


def extraction(n_audio, workers, scratch):
    from mmsk.extract import AudioFeatures
    from mmsk.scale import dask_transform, extract_to_store

    files = sorted(str(p) for p in (DATA / "fsdd" / "recordings").glob("*.wav"))[:n_audio]
    X = pd.DataFrame({"audio": files})
    ex = AudioFeatures(**AUDIO).fit(X.iloc[:2])
    ex.transform(X.iloc[:4])  # numba compiled (and cached) here
    rows, reference = [], None

    def record(method, w, seconds, out=None):
        nonlocal reference
        if out is not None:
            values = out.to_numpy() if isinstance(out, pd.DataFrame) else np.asarray(out)
            if reference is None:
                reference = values
            assert np.allclose(values, reference, rtol=1e-10, equal_nan=True), method
        rows.append({"method": method, "workers": w, "seconds": seconds, "recordings/s": len(X) / seconds})
        print(f"  {method:<48} {w:>2}  {seconds:7.2f} s  {len(X) / seconds:8.0f}/s", flush=True)

    seconds, out = timed(lambda: ex.transform(X))
    record("AudioFeatures.transform, in memory", 1, seconds, out)
    for w in workers:
        if w > 1:
            par = AudioFeatures(**{**AUDIO, "n_jobs": w}).fit(X.iloc[:2])
            par.transform(X.iloc[: 8 * w])  # start loky's workers
            seconds, out = timed(lambda: par.transform(X))
            record("AudioFeatures(n_jobs=W).transform (loky), in memory", w, seconds, out)
        folder = scratch / f"loky-{w}"
        seconds, store = timed(lambda: extract_to_store(ex, X, folder, chunk_size=250, n_jobs=w))
        record("extract_to_store (loky), Parquet", w, seconds, store.read())
    for w in workers:
        lc, client = cluster(w)
        try:
            with joblib.parallel_backend("dask"):
                extract_to_store(ex, X.iloc[:20], scratch / f"warm-{w}", chunk_size=10, n_jobs=-1)
                folder = scratch / f"dask-{w}"
                seconds, store = timed(lambda: extract_to_store(ex, X, folder, chunk_size=250, n_jobs=-1))
            record("extract_to_store (dask LocalCluster), Parquet", w, seconds, store.read())
            import dask.dataframe as dd

            target = scratch / f"plain-dask-{w}"
            ddf = dd.from_pandas(X, npartitions=-(-len(X) // 250))
            seconds, _ = timed(lambda: dask_transform(ex, ddf).to_parquet(target))
            record(
                "dask_transform(...).to_parquet (plain dask)",
                w,
                seconds,
                pd.read_parquet(target).sort_index(),
            )
            seconds, store = timed(lambda: extract_to_store(ex, X, folder, chunk_size=250))
            assert store.last_run["computed"] == []
            record("rerun of the finished store (all chunks reused)", w, seconds)
        finally:
            client.close()
            lc.close()
    return rows


def search(workers, n_rows):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from mmsk.auto import strategy_grid
    from mmsk.datasets import load_mfeat
    from mmsk.fusion import EarlyFusionClassifier

    mfeat = load_mfeat(DATA, views=["fou", "kar", "zer", "mor"])
    X, _, y, _ = train_test_split(
        mfeat.data, mfeat.target, train_size=n_rows, stratify=mfeat.target, random_state=0
    )
    pipe = Pipeline(
        [("scale", StandardScaler().set_output(transform="pandas")), ("model", EarlyFusionClassifier())]
    )
    grid = [
        {"model": [est], **{f"model__{k}": v for k, v in params.items()}}
        for _, est, params, _ in strategy_grid(
            "classification", views=["fou", "kar", "zer", "mor"], max_epochs=30
        )
    ]
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    n_candidates = sum(int(np.prod([len(v) for v in g.values()])) for g in grid)
    rows = []

    def record(method, w, seconds, best):
        rows.append({"method": method, "workers": w, "seconds": seconds, "best": best})
        print(f"  {method:<48} {w:>2}  {seconds:7.2f} s  best {best}", flush=True)

    def run(n_jobs, rows=None):
        gs = GridSearchCV(pipe, grid, cv=cv, n_jobs=n_jobs).fit(X[:rows], y[:rows])
        model = gs.best_params_["model"]
        extra = {k: v for k, v in gs.best_params_.items() if k != "model"}
        return f"{type(model).__name__} {extra} ({gs.best_score_:.3f})"

    run(1, 150)  # warm-up: imports and first fits (torch, MKL) paid before timing
    seconds, reference = timed(lambda: run(1))
    record("GridSearchCV n_jobs=1", 1, seconds, reference)
    for w in workers:
        if w > 1:
            run(w, 150)  # loky's workers started and warmed up
            seconds, best = timed(lambda: run(w))
            assert best == reference, (best, reference)
            record("GridSearchCV n_jobs=W (loky)", w, seconds, best)
    for w in workers:
        lc, client = cluster(w)
        try:
            with joblib.parallel_backend("dask"):
                run(-1, 150)  # the workers' first fits paid before timing
                seconds, best = timed(lambda: run(-1))
            assert best == reference, (best, reference)
            record("GridSearchCV, joblib dask backend (LocalCluster)", w, seconds, best)
        finally:
            client.close()
            lc.close()
    return rows, n_candidates, len(X)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-audio", type=int, default=3000)
    parser.add_argument("--search-rows", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--section", default="scale")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    if not (DATA / "fsdd").is_dir() or not (DATA / "uci_mfeat").is_dir():
        sys.exit(f"needs FSDD and UCI mfeat under {DATA} (or MMSK_DATA)")
    scratch = Path(tempfile.mkdtemp(prefix="mmsk-scale-"))
    try:
        print(f"extraction of {args.n_audio} FSDD recordings")
        ext = extraction(args.n_audio, args.workers, scratch)
        print(f"search over fusion strategies on {args.search_rows} mfeat rows")
        srch, n_candidates, n_rows = search(args.workers, args.search_rows)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    base_ext = ext[0]["seconds"]
    for r in ext:
        r["speed-up"] = base_ext / r["seconds"]
    base_search = srch[0]["seconds"]
    for r in srch:
        r["speed-up"] = base_search / r["seconds"]
    body = "\n".join(
        [
            f"## Scaling out (`benchmarks/scale.py --section {args.section}`)",
            "",
            machine(),
            "",
            f"Extraction of {args.n_audio} FSDD recordings (speech AudioFeatures; chunks of 250 rows; "
            "every method's features checked equal):",
            "",
            table(ext, ["method", "workers", "seconds", "recordings/s", "speed-up"]),
            "",
            f"GridSearchCV over the fusion strategies of `strategy_grid` ({n_candidates} candidates "
            "x 3 folds, "
            f"{n_rows} mfeat rows, 4 views); every run found the same best parameters:",
            "",
            table(srch, ["method", "workers", "seconds", "speed-up", "best"]),
            "",
            EXPECT,
        ]
    )
    print("\n" + body)
    if not args.no_write:
        write_section(args.section, body)


if __name__ == "__main__":
    main()
