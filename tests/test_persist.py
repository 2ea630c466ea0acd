"""mmsk.persist: skops round trips, refused types, joblib only when unsafe, atomic writes."""

import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from mmsk.datasets import make_multimodal_classification
from mmsk.fusion import ContrastiveDualEncoder, FusionClassifier, LateFusionClassifier
from mmsk.mkl import MKLClassifier
from mmsk.persist import UntrustedTypesError, load, save
from mmsk.utils._compat import estimator_walk_without_skipped_packages


def double(X):
    return 2 * X


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(n_samples=120, random_state=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_pipeline(StandardScaler().set_output(transform="pandas"), LateFusionClassifier()),
        lambda: MKLClassifier(method="easymkl"),
        lambda: FusionClassifier(fusion="attention", max_epochs=3, early_stopping=True, random_state=0),
    ],
    ids=["pipeline", "mkl", "deep"],
)
def test_round_trip_without_naming_any_type(make, data, tmp_path):
    X, y = data
    model = make().fit(X, y)
    restored = load(save(model, tmp_path / "model.skops"))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    method = "predict_proba" if hasattr(model, "predict_proba") else "decision_function"
    np.testing.assert_allclose(getattr(restored, method)(X), getattr(model, method)(X))


def test_the_schema_is_written_compact_and_skops_reads_the_file(data, tmp_path):
    import skops.io

    X, y = data
    model = make_pipeline(StandardScaler().set_output(transform="pandas"), LateFusionClassifier()).fit(X, y)
    path = save(model, tmp_path / "model.skops")
    skops.io.dump(model, tmp_path / "indented.skops")
    # the feature names of every pandas-fed step are nodes of the schema: indented, they were most of it
    assert path.stat().st_size < 0.5 * (tmp_path / "indented.skops").stat().st_size
    restored = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    np.testing.assert_allclose(restored.predict_proba(X), model.predict_proba(X))


def test_skops_io_is_imported_without_torch_or_dask():
    code = (
        "import sys\n"
        "from mmsk.utils._compat import skops_io\n"
        "skops_io()\n"
        "print(sorted(m for m in ('torch', 'dask', 'skops.io') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["['skops.io']"]


def test_the_shorter_walk_finds_every_estimator_that_scikit_learn_finds():
    """skops trusts the estimators all_estimators() finds as skops is imported, within the shorter walk."""
    from sklearn.utils import all_estimators

    everything = all_estimators()
    with estimator_walk_without_skipped_packages():
        walked = all_estimators()
    assert len(everything) > 150 and walked == everything


def test_unsupervised_deep_model_round_trip(data, tmp_path):
    X, _ = data
    enc = ContrastiveDualEncoder(max_epochs=2, random_state=0).fit(X)
    np.testing.assert_allclose(load(save(enc, tmp_path / "enc.skops")).transform(X), enc.transform(X))


def test_foreign_types_are_refused_until_named(data, tmp_path):
    X, y = data
    model = make_pipeline(FunctionTransformer(double), LateFusionClassifier()).fit(X, y)
    path = save(model, tmp_path / "model.skops")
    name = f"{double.__module__}.double"  # "tests.test_persist" or "test_persist", by import mode
    with pytest.raises(UntrustedTypesError, match=re.escape(f"not trusted: ['{name}']")):
        load(path)
    np.testing.assert_array_equal(load(path, trusted=[name]).predict(X), model.predict(X))


def test_joblib_is_written_and_read_only_when_unsafe(data, tmp_path):
    X, y = data
    model = LateFusionClassifier().fit(X, y)
    path = save(model, tmp_path / "model.joblib", unsafe=True)
    with pytest.raises(UntrustedTypesError, match="pass unsafe=True"):
        load(path)
    np.testing.assert_array_equal(load(path, unsafe=True).predict(X), model.predict(X))
    with pytest.raises(FileNotFoundError, match="no model file"):
        load(tmp_path / "missing.skops")


def test_a_failed_save_leaves_the_previous_file_whole(data, tmp_path):
    X, y = data
    path = save(LateFusionClassifier().fit(X, y), tmp_path / "model.skops")
    before = path.read_bytes()

    class Unsaveable(LateFusionClassifier):
        def __reduce__(self):
            raise RuntimeError("cannot be saved")

        def __getstate__(self):
            raise RuntimeError("cannot be saved")

    with pytest.raises(Exception, match="cannot be saved"):
        save(Unsaveable().fit(X, y), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.skops"]  # no temporary file left
