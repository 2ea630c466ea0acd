"""dask.distributed: a LocalCluster (2 worker processes on loopback) runs mmsk's search and extraction."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mmsk.auto import strategy_grid
from mmsk.datasets import load_av_digits, load_mfeat
from mmsk.extract import AudioFeatures
from mmsk.fusion import EarlyFusionClassifier
from mmsk.scale import dask_transform, extract_to_store

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")


@pytest.fixture(scope="module")
def client():
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


def test_grid_search_over_fusion_strategies_same_best_params_as_local(client, shared_data):
    mfeat = load_mfeat(shared_data, views=["fou", "kar", "zer"])
    X, _, y, _ = train_test_split(
        mfeat.data, mfeat.target, train_size=400, stratify=mfeat.target, random_state=0
    )
    pipe = Pipeline(
        [("scale", StandardScaler().set_output(transform="pandas")), ("model", EarlyFusionClassifier())]
    )
    grid = list(
        strategy_grid("classification", views=["fou", "kar", "zer"], max_epochs=8, random_state=0).values()
    )
    assert {type(g["model"][0]).__name__ for g in grid} >= {
        "EarlyFusionClassifier",
        "LateFusionClassifier",
        "MKLClassifier",
        "Pipeline",
        "FusionClassifier",
    }
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    local = GridSearchCV(pipe, grid, cv=cv, n_jobs=1).fit(X, y)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        remote = GridSearchCV(pipe, grid, cv=cv, n_jobs=-1).fit(X, y)
    assert remote.best_params_.keys() == local.best_params_.keys()
    for key, value in local.best_params_.items():
        other = remote.best_params_[key]
        assert (repr(other) == repr(value)) if hasattr(value, "get_params") else other == value
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    # the fits ran on both of the cluster's workers
    assert len(stream.data) >= len(local.cv_results_["params"]) // 10
    assert {task["worker"] for task in stream.data} == set(client.scheduler_info()["workers"])
    assert local.best_score_ > 0.9


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
