"""dask.distributed: a LocalCluster (2 worker processes on loopback) runs mmsk's search and extraction."""

import joblib
import pandas as pd
import pytest

from mmsk.auto import fit_table
from mmsk.datasets import load_av_digits, load_mfeat
from mmsk.extract import AudioFeatures
from mmsk.scale import dask_transform, extract_to_store

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")


@pytest.fixture(scope="module")
def client():
    # no dashboard, and no statistical profiler sampling each worker's threads every 10 ms
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
        )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def recordings():
    """Real FSDD recordings (the subset bundled with mmsk): 60 paths."""
    av = load_av_digits(data_home=None)
    return av.data[["audio"]].iloc[::8].head(60).reset_index(drop=True)


def test_cluster_has_two_worker_processes(client):
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
    pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2


def test_feature_store_chunks_written_by_the_workers(client, recordings, tmp_path):
    extractor = AudioFeatures.for_speech(sr=8000).fit(recordings.iloc[:2])
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        store = extract_to_store(extractor, recordings, tmp_path / "remote", chunk_size=15, n_jobs=-1)
    assert store.last_run["computed"] == [0, 1, 2, 3]
    assert len({task["worker"] for task in stream.data}) == 2
    local = extract_to_store(extractor, recordings, tmp_path / "local", chunk_size=15)
    pd.testing.assert_frame_equal(store.read(), local.read())
    pd.testing.assert_frame_equal(
        store.to_dask().compute(), local.read(), check_index_type=False, check_names=False
    )


def test_dask_transform_on_the_cluster_equals_transform(client, recordings):
    extractor = AudioFeatures.for_speech(sr=8000).set_output(transform="pandas").fit(recordings.iloc[:2])
    table = recordings.set_axis(pd.RangeIndex(100, 160))
    lazy = dask_transform(extractor, dd.from_pandas(table, npartitions=4))
    assert list(lazy.columns) == list(extractor.get_feature_names_out())
    got = lazy.compute()
    expected = extractor.transform(table)
    pd.testing.assert_frame_equal(got, expected.set_axis(table.index), check_exact=False, rtol=1e-12)


def test_dask_transform_refuses_unfitted_and_non_dask_input(recordings):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="fit AudioFeatures first"):
        dask_transform(AudioFeatures(), dd.from_pandas(recordings, npartitions=2))
    with pytest.raises(TypeError, match="dask.dataframe.DataFrame"):
        dask_transform(AudioFeatures().fit(recordings.iloc[:2]), recordings)


def test_mmsk_fit_on_the_cluster_gives_the_local_leaderboard(client, shared_data, tmp_path):
    mfeat = load_mfeat(shared_data, views=["fou", "kar", "zer"])
    table = mfeat.data.assign(digit=mfeat.target).groupby("digit").head(20)
    table.to_csv(tmp_path / "t.csv", index=False)
    # linear, per view, aligned and torch: every kind of task travels to the workers
    settings = dict(
        cv=2, strategies=["early", "late", "cca", "deep"], max_epochs=3, progress=False, print_fn=None
    )
    local = fit_table(tmp_path / "t.csv", "digit", tmp_path / "local", **settings)
    with distributed.get_task_stream(client) as stream:
        remote = fit_table(
            tmp_path / "t.csv", "digit", tmp_path / "remote", dask=client.scheduler.address, **settings
        )
    kinds = {"early", "late", "late (kernel)", "cca", "deep"}
    assert kinds <= set(local["leaderboard"]["strategy"])

    def board(result):  # ties are ordered by fit time, which differs between runs
        columns = ["strategy", "params", "mean_score", "std_score", "status"]
        return result["leaderboard"][columns].sort_values(["strategy", "params"], ignore_index=True)

    # the deep nets agree to float rounding (BLAS threads differ on the workers), the others exactly
    pd.testing.assert_frame_equal(board(remote), board(local), check_exact=False, atol=1e-6)
    scores = board(local)["strategy"].isin(kinds - {"deep"})
    pd.testing.assert_frame_equal(board(remote)[scores], board(local)[scores], check_exact=True)
    predictions = [pd.read_csv(tmp_path / run / "cv_predictions.csv") for run in ("remote", "local")]
    pd.testing.assert_frame_equal(*predictions, check_exact=False, atol=1e-5)
    assert remote["summary"]["best"] == local["summary"]["best"]
    assert remote["summary"]["estimate"]["mean"] == local["summary"]["estimate"]["mean"]
    # the fits ran on both of the cluster's workers
    assert {task["worker"] for task in stream.data} == set(client.scheduler_info()["workers"])
    assert local["leaderboard"]["mean_score"].max() > 0.9  # they learned: chance is 0.1
