"""LateFusionClassifier: the contract's first real multimodal estimator, after a feature stage."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from mmsk import make_modality_union
from mmsk.datasets import make_multimodal_classification
from mmsk.fusion import LateFusionClassifier


@pytest.fixture(scope="module")
def raw_table():
    """A raw two-modality table whose columns are not yet view-prefixed."""
    X, y = make_multimodal_classification(
        n_samples=300,
        n_classes=4,
        n_features=[8, 6],
        view_names=["audio", "image"],
        noise=2.0,
        class_sep=1.2,
        random_state=3,
    )
    raw = pd.DataFrame(
        {f"a{i}": X[f"audio__{i}"] for i in range(8)} | {f"p{i}": X[f"image__{i}"] for i in range(6)}
    )
    return raw, y


def _pipeline():
    union = make_modality_union(
        audio=([f"a{i}" for i in range(8)], StandardScaler()),
        image=([f"p{i}" for i in range(6)], StandardScaler()),
    )
    return Pipeline([("features", union), ("clf", LateFusionClassifier())])


def test_pipeline_cross_val_and_fusion_helps(raw_table):
    raw, y = raw_table
    fused = cross_val_score(_pipeline(), raw, y, cv=5).mean()
    singles = [
        cross_val_score(LogisticRegression(), raw.filter(regex=f"^{p}"), y, cv=5).mean() for p in ("a", "p")
    ]
    assert fused > max(singles)


def test_grid_search_over_per_view_weights_and_final_step(raw_table):
    raw, y = raw_table
    grid = [
        {"clf": [LateFusionClassifier()], "clf__weights": [{"audio": 1.0}, {"audio": 0.0}]},
        {"clf": [LinearSVC()]},
    ]
    search = GridSearchCV(_pipeline(), grid, cv=3).fit(raw, y)
    results = pd.DataFrame(search.cv_results_)
    assert len(results) == 3
    weights = search.cv_results_["param_clf__weights"]
    # weight 0 on audio = image only, which must score below the fused model
    scores = dict(zip([str(w) for w in weights], search.cv_results_["mean_test_score"]))
    assert scores[str({"audio": 1.0})] > scores[str({"audio": 0.0})]


def test_clone_pickle_and_pandas_output(raw_table):
    raw, y = raw_table
    pipe = _pipeline().fit(raw, y)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(raw), pipe.predict(raw))
    np.testing.assert_allclose(restored.predict_proba(raw), pipe.predict_proba(raw))
    cloned = clone(pipe)
    assert not hasattr(cloned.named_steps["clf"], "estimators_")
    features = pipe[:-1].set_output(transform="pandas").transform(raw)
    assert list(features.columns[:2]) == ["audio__a0", "audio__a1"]
    assert features.columns[-1] == "image__p5"


def test_missing_views_use_the_views_present():
    X, y = make_multimodal_classification(n_samples=300, random_state=0)
    clf = LateFusionClassifier().fit(X, y)
    X_missing = X.copy()
    view0 = [c for c in X.columns if c.startswith("view0__")]
    X_missing.loc[X.index[:50], view0] = np.nan
    proba = clf.predict_proba(X_missing)
    only_view1 = clf.estimators_["view1"].predict_proba(X.iloc[:50][[c for c in X if c.startswith("view1")]])
    np.testing.assert_allclose(proba[:50], only_view1)
    np.testing.assert_allclose(proba[50:], clf.predict_proba(X.iloc[50:]))


def test_fit_with_missing_views_trains_each_view_on_its_rows():
    X, y = make_multimodal_classification(n_samples=400, missing_rate=[0.3, 0.3], random_state=2)
    clf = LateFusionClassifier().fit(X, y)
    n_view0 = int((~X.filter(like="view0__").isna().all(axis=1)).sum())
    assert clf.estimators_["view0"].n_features_in_ == 20
    assert n_view0 < 400
    assert clf.score(X, y) > 0.7


def test_product_rule_is_the_weighted_geometric_mean_of_the_views_present():
    X, y = make_multimodal_classification(n_samples=300, n_classes=3, random_state=0)
    clf = LateFusionClassifier(voting="product", weights={"view0": 2.0, "view1": 1.0}).fit(X, y)
    # a probability below 1e-6 counts as 1e-6 (the documented floor)
    p0 = np.clip(clf.estimators_["view0"].predict_proba(X.filter(like="view0__")), 1e-6, None)
    p1 = np.clip(clf.estimators_["view1"].predict_proba(X.filter(like="view1__")), 1e-6, None)
    expected = (p0**2 * p1) ** (1 / 3)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[expected.argmax(axis=1)])
    # a row without view0 gets view1's probabilities alone
    X_missing = X.copy()
    X_missing.loc[X.index[:20], X.columns.str.startswith("view0__")] = np.nan
    np.testing.assert_allclose(
        clf.predict_proba(X_missing)[:20], p1[:20] / p1[:20].sum(axis=1, keepdims=True), rtol=1e-10
    )


def test_product_rule_lets_a_view_blind_to_a_class_lower_it_without_vetoing_it():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 40)
    X = pd.DataFrame(rng.normal(size=(120, 4)), columns=["a__0", "a__1", "b__0", "b__1"])
    X.loc[:, "a__0"] += 4 * y  # view a separates the classes
    X.loc[y == 2, ["b__0", "b__1"]] = np.nan  # view b never sees class 2
    clf = LateFusionClassifier(voting="product").fit(X, y)
    proba = clf.predict_proba(X.iloc[:2].assign(a__0=8.0))  # view a is sure of class 2
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # view b's floor of 1e-6 for class 2 leaves it about sqrt(1e-6) before renormalising, not 0
    assert (proba[:, 2] > 1e-4).all()


def test_hard_voting_has_no_predict_proba_and_uses_weights():
    X, y = make_multimodal_classification(n_samples=200, random_state=0)
    clf = LateFusionClassifier(LinearSVC(), voting="hard", weights=[1.0, 0.0]).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    only_view0 = clf.estimators_["view0"].predict(X.filter(like="view0__"))
    np.testing.assert_array_equal(clf.predict(X), only_view0)


def test_per_view_classifier_missing_a_class_is_mapped_to_global_classes():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(90, 4)), columns=["a__0", "a__1", "b__0", "b__1"])
    y = np.repeat([0, 1, 2], 30)
    X.loc[y == 2, ["b__0", "b__1"]] = np.nan  # view b never sees class 2
    clf = LateFusionClassifier().fit(X, y)
    assert clf.estimators_["b"].classes_.tolist() == [0, 1]
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, y: (X, np.zeros(len(y))), "1 class"),
        (lambda X, y: (X.assign(**{"view0__0": np.nan}), y), r"view 'view0' has NaN in 1 of its 20"),
        (lambda X, y: (X * np.nan, y), r"every view missing"),
    ],
)
def test_bad_input_errors(make, match):
    X, y = make_multimodal_classification(n_samples=60, random_state=0)
    with pytest.raises(ValueError, match=match):
        LateFusionClassifier().fit(*make(X, y))


def test_view_missing_everywhere_and_bad_weights():
    X, y = make_multimodal_classification(n_samples=60, random_state=0)
    X.loc[:, X.columns.str.startswith("view1")] = np.nan
    with pytest.raises(ValueError, match="missing .* in every row"):
        LateFusionClassifier().fit(X, y)
    X, y = make_multimodal_classification(n_samples=60, random_state=0)
    with pytest.raises(ValueError, match="unknown view"):
        LateFusionClassifier(weights={"nope": 1}).fit(X, y)
    with pytest.raises(ValueError, match="one weight per view"):
        LateFusionClassifier(weights=[1.0]).fit(X, y)
    with pytest.raises(ValueError, match="no predict_proba"):
        LateFusionClassifier(LinearSVC()).fit(X, y)


def test_predict_wrong_number_of_columns():
    X, y = make_multimodal_classification(n_samples=60, random_state=0)
    clf = LateFusionClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X.iloc[:, :-1].to_numpy())


def test_dummy_views_give_prior():
    X, y = make_multimodal_classification(n_samples=60, random_state=0)
    clf = LateFusionClassifier(DummyClassifier(strategy="prior")).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X)[0], np.bincount(y) / len(y))


def _signal_and_noise_views(n=600, n_noise=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    blocks = {"signal": rng.normal(size=(n, 4)) + np.eye(3)[y] @ rng.normal(size=(3, 4)) * 1.5}
    blocks |= {f"noise{j}": rng.normal(size=(n, 4)) for j in range(n_noise)}
    cols = [f"{v}__{i}" for v in blocks for i in range(4)]
    return pd.DataFrame(np.hstack(list(blocks.values())), columns=cols), y


def test_stacking_learns_to_trust_the_informative_view():
    X, y = _signal_and_noise_views()
    soft = LateFusionClassifier(voting="soft").fit(X.iloc[:400], y[:400]).score(X.iloc[400:], y[400:])
    stacked = LateFusionClassifier(voting="stacking", cv=5).fit(X.iloc[:400], y[:400])
    assert stacked.score(X.iloc[400:], y[400:]) >= soft - 0.02  # measured 0.895 vs 0.905
    coef = np.abs(stacked.final_estimator_.coef_)
    # meta features: 3 probabilities + 1 flag per view; the signal view's probabilities dominate
    assert coef[:, :3].sum() > 2 * coef[:, 4:7].sum()


def test_stacking_with_views_missing_at_fit_and_predict():
    X, y = _signal_and_noise_views(n_noise=1)
    X_missing = X.copy()
    X_missing.iloc[::4, :4] = np.nan  # the signal view is missing on a quarter of the rows
    clf = LateFusionClassifier(voting="stacking", cv=3).fit(X_missing.iloc[:400], y[:400])
    proba = clf.predict_proba(X_missing.iloc[400:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    has_signal = ~np.isnan(X_missing.iloc[400:, 0].to_numpy())
    pred = clf.predict(X_missing.iloc[400:])
    assert (pred[has_signal] == y[400:][has_signal]).mean() > 0.85
    assert set(pred) <= set(clf.classes_)


def test_per_view_estimators_mapping():
    X, y = make_multimodal_classification(n_samples=200, random_state=0)
    dummy_view0 = {"view0": DummyClassifier(strategy="prior")}
    clf = LateFusionClassifier(dummy_view0).fit(X, y)
    assert isinstance(clf.estimators_["view0"], DummyClassifier)
    assert isinstance(clf.estimators_["view1"], LogisticRegression)  # a view left out gets the default
    assert dummy_view0["view0"] is not clf.estimators_["view0"]  # cloned, the parameter is untouched
    # each view's classifier is exactly the one it would be on its own columns
    alone = LogisticRegression(C=0.01, max_iter=1000).fit(X.filter(like="view1__"), y)
    clf = LateFusionClassifier({"view1": LogisticRegression(C=0.01, max_iter=1000)}).fit(X, y)
    np.testing.assert_allclose(clf.estimators_["view1"].coef_, alone.coef_)
    X_no_view0 = X.copy()
    X_no_view0.loc[:, X.columns.str.startswith("view0")] = np.nan
    np.testing.assert_array_equal(clf.predict(X_no_view0), alone.predict(X.filter(like="view1__")))
    # stacking's out-of-fold probabilities come from each view's own classifier
    stacked = LateFusionClassifier(dummy_view0, voting="stacking", cv=3).fit(X, y)
    assert isinstance(stacked.estimators_["view0"], DummyClassifier)
    # clone and GridSearchCV over whole mappings
    search = GridSearchCV(
        LateFusionClassifier(),
        {"estimator": [dummy_view0, {"view0": LogisticRegression(max_iter=1000)}]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_["estimator"]["view0"].__class__ is LogisticRegression
    assert clone(clf).estimator["view1"].C == 0.01


def test_per_view_estimators_mapping_errors():
    X, y = make_multimodal_classification(n_samples=60, random_state=0)
    with pytest.raises(ValueError, match=r"unknown view\(s\) \['nope'\]"):
        LateFusionClassifier({"nope": LogisticRegression()}).fit(X, y)
    with pytest.raises(TypeError, match=r"estimator\['view0'\] must be a classifier"):
        LateFusionClassifier({"view0": "svm"}).fit(X, y)
    with pytest.raises(ValueError, match="view 'view1', LinearSVC, has no predict_proba"):
        LateFusionClassifier({"view1": LinearSVC()}).fit(X, y)
    assert LateFusionClassifier({"view1": LinearSVC()}, voting="hard").fit(X, y).score(X, y) > 0.8


@pytest.mark.parametrize("voting", ["soft", "product", "stacking"])
def test_probabilities_without_each_view_equal_predicting_with_it_masked(voting):
    X, y = make_multimodal_classification(n_samples=150, n_views=3, n_classes=3, random_state=0)
    X.iloc[:20, X.columns.str.startswith("view1__")] = np.nan  # rows already missing a view
    late = LateFusionClassifier(voting=voting, weights={"view2": 0.5}).fit(X, y)
    without = late.predict_proba_without(X)
    assert list(without) == ["view0", "view1", "view2"]
    for view, proba in without.items():
        masked = X.copy()
        masked.loc[:, masked.columns.str.startswith(f"{view}__")] = np.nan
        np.testing.assert_allclose(proba, late.predict_proba(masked), rtol=1e-12)
    assert list(late.predict_proba_without(X, views=["view2"])) == ["view2"]


def test_probabilities_without_a_view_refuse_unknown_views_and_rows_left_with_none():
    X, y = make_multimodal_classification(n_samples=80, random_state=0)
    late = LateFusionClassifier().fit(X, y)
    with pytest.raises(ValueError, match=r"Unknown views \['audio'\]"):
        late.predict_proba_without(X, views=["audio"])
    X.iloc[:3, X.columns.str.startswith("view1__")] = np.nan
    with pytest.raises(ValueError, match="Row 0 has no view left to predict from"):
        late.predict_proba_without(X, views=["view0"])
    assert not hasattr(LateFusionClassifier(voting="hard").fit(X, y), "predict_proba_without")
