"""TfidfFeatures: TF-IDF + truncated SVD for a text column, as scikit-learn computes them.

scikit-learn's checks skip text transformers by their tags (as they skip
TfidfVectorizer); the contract that applies is tested here.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from mmsk import make_modality_union
from mmsk.extract import ExtractionError, ExtractionWarning, TfidfFeatures

TEXTS = [
    "a dog runs in the park",
    "the dog barks at a cat",
    "a cat sleeps in the sun",
    "stock prices fell sharply",
    "prices of stock rose today",
    "the market fell today",
]


def test_matches_scikit_learn_tfidf_and_svd():
    lsa = TfidfFeatures(n_components=3, random_state=0).fit(TEXTS)
    tfidf = TfidfVectorizer(sublinear_tf=True).fit_transform(TEXTS)
    expected = TruncatedSVD(n_components=3, random_state=0).fit_transform(tfidf)
    np.testing.assert_allclose(lsa.transform(TEXTS), expected, atol=1e-10)
    assert lsa.get_feature_names_out().tolist() == ["lsa_0", "lsa_1", "lsa_2"]


def test_without_svd_gives_the_tfidf_columns():
    raw = TfidfFeatures(n_components=None).fit(TEXTS)
    vec = TfidfVectorizer(sublinear_tf=True).fit(TEXTS)
    np.testing.assert_allclose(raw.transform(TEXTS), vec.transform(TEXTS).toarray())
    assert raw.get_feature_names_out()[0] == f"tfidf_{vec.get_feature_names_out()[0]}"


def test_missing_and_blank_text_is_a_missing_modality():
    column = pd.Series(TEXTS[:4] + [None, "   ", np.nan], name="note")
    out = TfidfFeatures(n_components=2, random_state=0).fit(column).transform(column)
    assert np.isnan(out[4:]).all() and np.isfinite(out[:4]).all()


def test_components_capped_at_the_rank_of_the_tfidf_matrix():
    # Ten terms but only two distinct documents: rank 2, so only 2 directions carry
    # variance; more would be rounding noise that a scaler blows up.
    texts = ["alpha beta gamma delta epsilon"] * 5 + ["zeta eta theta iota kappa"] * 5
    lsa = TfidfFeatures(n_components=50, random_state=0).fit(texts)
    assert lsa.svd_.n_components == 2
    out = lsa.transform(["alpha beta", "lambda mu"])  # unseen words: the zero vector
    np.testing.assert_allclose(out[1], 0.0)


def test_in_a_modality_union_with_pandas_output_and_a_non_text_item_names_the_row():
    table = pd.DataFrame({"note": TEXTS, "x": np.arange(6.0)})
    union = make_modality_union(text=("note", TfidfFeatures(n_components=2, random_state=0)))
    out = union.fit_transform(table)
    assert list(out.columns) == ["text__lsa_0", "text__lsa_1"]
    bad = pd.Series(TEXTS[:2] + [3.5], name="note", index=[10, 11, 12])
    lsa = TfidfFeatures(n_components=2).fit(pd.Series(TEXTS, name="note"))
    with pytest.raises(ExtractionError, match=r"row 12 of column 'note'"):
        lsa.transform(bad)
    with pytest.warns(ExtractionWarning, match="1 of 3"):
        out = lsa.set_params(on_error="nan").transform(bad)
    assert np.isnan(out[2]).all()


def test_all_missing_at_fit_is_an_error_and_clone_pickle_work():
    with pytest.raises(ValueError, match="no text to fit"):
        TfidfFeatures().fit(pd.Series([None, ""], name="note"))
    lsa = TfidfFeatures(n_components=2, random_state=0).fit(TEXTS)
    again = pickle.loads(pickle.dumps(lsa))
    np.testing.assert_array_equal(again.transform(TEXTS), lsa.transform(TEXTS))
    assert clone(lsa).get_params() == lsa.get_params()
