"""make_modality_union: view-prefixed names, pandas output, errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union, resolve_views
from mmsk.compose import ModalityUnion


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "review": ["good tea", "bad tea", "good cake", "fine cake"],
            "age": [31.0, 45.0, 27.0, 50.0],
            "price": [3.0, 2.5, 4.0, 1.0],
        }
    )


def test_union_names_are_view_prefixed_and_views_resolve(table):
    union = make_modality_union(
        text=("review", TfidfVectorizer()), numeric=(["age", "price"], StandardScaler())
    )
    out = union.fit_transform(table)
    assert isinstance(out, pd.DataFrame)  # TfidfVectorizer has no set_output; the union wraps it
    assert out.columns[-2:].tolist() == ["numeric__age", "numeric__price"]
    assert all(c.startswith(("text__", "numeric__")) for c in out.columns)
    views = resolve_views(None, n_features=out.shape[1], feature_names=out.columns)
    assert list(views) == ["text", "numeric"]
    assert views["text"].size == len(union.named_transformers_["text"].vocabulary_)
    np.testing.assert_allclose(out[["numeric__age", "numeric__price"]].mean(), 0, atol=1e-12)


def test_union_default_output_and_clone(table):
    union = make_modality_union(numeric=(["age"], "passthrough"), output="default")
    assert isinstance(union.fit_transform(table), np.ndarray)
    cloned = clone(make_modality_union(numeric=(["age"], StandardScaler())))
    assert isinstance(cloned.fit_transform(table), pd.DataFrame)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({}, ValueError, "at least one view"),
        ({"text": TfidfVectorizer()}, TypeError, r"\(columns, transformer\) tuple"),
        ({"text": (TfidfVectorizer(), "review")}, ValueError, "swap columns and transformer"),
        ({"text": ("review", "tfidf")}, ValueError, "swap columns and transformer"),
        ({"a__b": ("review", TfidfVectorizer())}, ValueError, "contains '__'"),
    ],
)
def test_union_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_modality_union(**kwargs)


def test_union_refuses_one_dimensional_and_empty_input():
    union = ModalityUnion([("a", StandardScaler(), [0])])
    with pytest.raises(ValueError, match="2-D table"):
        union.fit_transform(np.arange(3.0))
    with pytest.raises(ValueError, match="0 sample"):
        union.fit_transform(np.empty((0, 2)))
