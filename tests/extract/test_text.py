"""SentenceEmbedder with the packaged all-MiniLM-L6-v2 model, and its estimator contract.

scikit-learn's checks need numeric arrays, so they skip a text transformer (as
they skip TfidfVectorizer); the parts of the contract that apply are tested here.
"""

import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from mmsk.extract import ExtractionError, ExtractionWarning, SentenceEmbedder

# Skipped without sentence-transformers, which is imported only by the tests that run (not at collection).
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None, reason="sentence-transformers is not installed"
)

TEXTS = [
    "A dog runs across the park.",
    "A puppy is running on the grass.",
    "Stock markets fell sharply today.",
]


@pytest.fixture(scope="module")
def embedder():
    return SentenceEmbedder().fit(TEXTS)


def test_default_model_loads_offline_and_embeds_meaningfully(embedder):
    X = embedder.transform(TEXTS)
    assert X.shape == (3, 384) and embedder.embedding_dim_ == 384
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    assert X[0] @ X[1] > X[0] @ X[2] + 0.3  # paraphrases closer than unrelated text


def test_matches_sentence_transformers_directly(embedder):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(embedder.model_path_, device="cpu")
    direct = model.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(embedder.transform(TEXTS), direct, atol=1e-5)


def test_missing_and_blank_texts_are_missing_rows(embedder):
    X = [TEXTS[0], None, "", "   ", np.nan]
    out = embedder.transform(X)
    assert np.isfinite(out[0]).all()
    assert np.isnan(out[1:]).all()


def test_non_text_values_follow_on_error():
    X = pd.DataFrame({"caption": [TEXTS[0], 42]}, index=["a", "b"])
    with pytest.raises(ExtractionError, match=r"row 'b' of column 'caption'.*expected text"):
        SentenceEmbedder().fit_transform(X)
    with pytest.warns(ExtractionWarning, match="1 of 2 text"):
        out = SentenceEmbedder(on_error="nan").fit_transform(X)
    assert np.isnan(out[1]).all() and np.isfinite(out[0]).all()


def test_batches_and_threads_do_not_change_the_result(embedder):
    many = TEXTS * 5
    small = SentenceEmbedder(batch_size=2, n_jobs=2).fit(many)
    np.testing.assert_allclose(small.transform(many), embedder.transform(many), atol=1e-5)


def test_model_path_that_is_not_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="is not a folder.*never downloads"):
        SentenceEmbedder(model="all-MiniLM-L6-v2").fit(TEXTS)


def test_no_work_in_init_params_clone_and_not_fitted():
    emb = SentenceEmbedder(batch_size=8, device="cpu")
    assert emb.get_params()["batch_size"] == 8
    assert not hasattr(emb, "model_path_")
    assert clone(emb).get_params() == emb.get_params()
    with pytest.raises(NotFittedError):
        emb.transform(TEXTS)


def test_pickle_drops_the_model_and_reloads_it(embedder):
    blob = pickle.dumps(embedder)
    assert len(blob) < 100_000  # the weights are not in the pickle
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.transform(TEXTS), embedder.transform(TEXTS), atol=1e-6)


def test_pandas_output_names_and_input_names(embedder):
    emb = SentenceEmbedder().set_output(transform="pandas")
    out = emb.fit_transform(pd.DataFrame({"caption": TEXTS}))
    assert list(out.columns[:2]) == ["emb_0", "emb_1"]
    assert emb.feature_names_in_.tolist() == ["caption"] and emb.n_features_in_ == 1


def test_device_auto_resolves_and_cuda_without_gpu_is_clear():
    import torch

    emb = SentenceEmbedder(device="auto").fit(TEXTS[:1])
    assert emb.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA device"):
            SentenceEmbedder(device="cuda").fit(TEXTS[:1])


def test_cache_keys_texts_by_content(tmp_path, embedder):
    emb = SentenceEmbedder(cache=tmp_path / "cache")
    first = emb.fit_transform(TEXTS)
    again = SentenceEmbedder(cache=tmp_path / "cache").fit_transform(TEXTS)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, embedder.transform(TEXTS), atol=1e-6)
