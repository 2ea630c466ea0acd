"""The views contract: inference from names, explicit mappings, missing masks, errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import missing_view_masks, resolve_views, view_feature_names
from mmsk.datasets import make_multimodal_classification
from mmsk.fusion import LateFusionClassifier


def test_infer_views_from_prefixed_names():
    names = ["audio__a", "audio__b", "image__px_0", "audio__c"]
    views = resolve_views(None, n_features=4, feature_names=names)
    assert list(views) == ["audio", "image"]
    np.testing.assert_array_equal(views["audio"], [0, 1, 3])
    np.testing.assert_array_equal(views["image"], [2])


def test_infer_splits_on_first_separator_only():
    views = resolve_views(None, n_features=2, feature_names=["text__tfidf__good", "num__age"])
    assert list(views) == ["text", "num"]


@pytest.mark.parametrize(
    "spec, expected",
    [
        (["b", "c"], [1, 2]),
        ([1, 2], [1, 2]),
        (slice(1, 3), [1, 2]),
        (slice("b", "c"), [1, 2]),
        (np.array([False, True, True, False]), [1, 2]),
        (range(1, 3), [1, 2]),
        ("d", [3]),
        (-1, [3]),
        (make_column_selector(pattern="^[bc]$"), [1, 2]),
    ],
)
def test_explicit_view_specs(spec, expected):
    X = pd.DataFrame(np.zeros((2, 4)), columns=list("abcd"))
    views = resolve_views({"v": spec}, n_features=4, feature_names=X.columns, X=X)
    np.testing.assert_array_equal(views["v"], expected)


def test_explicit_positions_work_on_ndarray():
    views = resolve_views({"left": [0, 1], "right": slice(2, None)}, n_features=5)
    np.testing.assert_array_equal(views["right"], [2, 3, 4])


def test_no_names_on_ndarray_says_how_to_pass_views():
    with pytest.raises(ValueError, match=r"no column names.*views="):
        resolve_views(None, n_features=3)


def test_unprefixed_names_are_listed():
    with pytest.raises(ValueError, match=r"1 column\(s\).*'age'.*Views found.*\['audio'\]"):
        resolve_views(None, n_features=2, feature_names=["audio__x", "age"])


@pytest.mark.parametrize(
    "views, match",
    [
        ({"v": ["nope"]}, r"names column\(s\) X does not have: 'nope'"),
        ({"v": [7]}, r"out of range for X with 4 columns"),
        ({"v": []}, r"selects no columns"),
        ({"v": [0, 0]}, r"same column more than once"),
        ({"a__b": [0]}, r"contains '__'"),
        ({}, r"empty mapping"),
        ({"v": np.array([True, False])}, r"boolean mask"),
    ],
)
def test_bad_explicit_views(views, match):
    with pytest.raises(ValueError, match=match):
        resolve_views(views, n_features=4, feature_names=list("abcd"))


def test_views_by_name_need_names():
    with pytest.raises(ValueError, match=r"given by column names, but X has no column names"):
        resolve_views({"v": ["a"]}, n_features=4)


def test_views_must_be_mapping_or_none():
    with pytest.raises(TypeError, match=r"mapping"):
        resolve_views([[0, 1]], n_features=4)


def test_min_views():
    with pytest.raises(ValueError, match=r"at least 2 views; found 1"):
        resolve_views(None, n_features=2, feature_names=["a__x", "a__y"], min_views=2)


def test_all_nan_view_rows_give_missing_mask():
    X = np.array([[1.0, 2.0, 3.0], [np.nan, np.nan, 4.0], [5.0, 6.0, np.nan]])
    masks = missing_view_masks(X, {"a": np.array([0, 1]), "b": np.array([2])})
    np.testing.assert_array_equal(masks["a"], [False, True, False])
    np.testing.assert_array_equal(masks["b"], [False, False, True])


def test_missing_mask_on_sparse_input():
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[1.0, 0.0, 3.0], [np.nan, np.nan, 4.0]]))
    masks = missing_view_masks(X, {"a": np.array([0, 1]), "b": np.array([2])})
    np.testing.assert_array_equal(masks["a"], [False, True])


def test_stray_nan_is_an_error_naming_row_view_and_column():
    X = np.array([[1.0, 2.0, 3.0], [np.nan, 1.0, 4.0]])
    with pytest.raises(ValueError, match=r"Row 'r2': view 'a' has NaN in 1 of its 2 columns \('a__x'\)"):
        missing_view_masks(
            X,
            {"a": np.array([0, 1]), "b": np.array([2])},
            row_labels=["r1", "r2"],
            feature_names=["a__x", "a__y", "b__z"],
        )


def test_view_feature_names():
    assert view_feature_names("text", ["cca0"]).tolist() == ["text__cca0"]
    with pytest.raises(ValueError, match="contains '__'"):
        view_feature_names("a__b", ["x"])


def _feature_stage_pipeline():
    """Raw two-view table -> ColumnTransformer (view-prefixed names) -> late fusion."""
    X, y = make_multimodal_classification(
        n_samples=240, n_features=[6, 4], view_names=["audio", "image"], random_state=0
    )
    raw = X.rename(columns=lambda c: c.replace("__", "_raw_"))
    union = ColumnTransformer(
        [
            ("audio", StandardScaler(), [c for c in raw.columns if c.startswith("audio")]),
            ("image", StandardScaler(), [c for c in raw.columns if c.startswith("image")]),
        ]
    ).set_output(transform="pandas")
    pipe = Pipeline([("features", union), ("clf", LateFusionClassifier())])
    return pipe, raw, y


def test_views_inferred_from_column_transformer_names_under_grid_search():
    pipe, raw, y = _feature_stage_pipeline()
    search = GridSearchCV(
        pipe, {"clf__weights": [None, {"audio": 3.0}], "clf__voting": ["soft", "hard"]}, cv=3
    )
    search.fit(raw, y)
    fitted = search.best_estimator_.named_steps["clf"]
    assert list(fitted.view_indices_) == ["audio", "image"]
    np.testing.assert_array_equal(fitted.view_indices_["image"], np.arange(6, 10))
    assert search.best_score_ > 0.6


def test_explicit_views_on_ndarray_pipeline():
    X, y = make_multimodal_classification(n_samples=150, n_features=[5, 5], random_state=1)
    clf = LateFusionClassifier(views={"left": slice(0, 5), "right": range(5, 10)})
    clf.fit(X.to_numpy(), y)
    assert list(clf.estimators_) == ["left", "right"]
    assert pickle.loads(pickle.dumps(clf)).score(X.to_numpy(), y) == clf.score(X.to_numpy(), y)
    assert clone(clf).get_params()["views"] == clf.views


def test_unresolvable_views_in_pipeline_error_is_clear():
    X, y = make_multimodal_classification(n_samples=60, random_state=0)
    with pytest.raises(ValueError, match="no column names"):
        LateFusionClassifier().fit(X.to_numpy(), y)
