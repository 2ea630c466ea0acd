"""CoTrainingClassifier: unlabelled rows help when each view suffices; missing views; errors."""

import numpy as np
import pandas as pd
import pytest

from mmsk.fusion import CoTrainingClassifier, LateFusionClassifier


def two_sufficient_views(n=1500, seed=0):
    """Each view predicts the class alone (with noise); the views are independent given the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = rng.normal(size=(2, 3, 5)) * 1.2
    a = centres[0][y] + rng.normal(size=(n, 5))
    b = centres[1][y] + rng.normal(size=(n, 5))
    X = pd.DataFrame(np.hstack([a, b]), columns=[f"a__{i}" for i in range(5)] + [f"b__{i}" for i in range(5)])
    return X, y


def test_unlabelled_rows_improve_on_the_few_labelled_ones():
    X, y = two_sufficient_views()
    train, test = np.arange(1000), np.arange(1000, 1500)
    labelled = np.zeros(1000, dtype=bool)
    labelled[np.random.default_rng(1).choice(1000, 9, replace=False)] = True
    y_partial = np.where(labelled, y[train], -1)
    supervised = LateFusionClassifier().fit(X.iloc[train][labelled], y[train][labelled])
    co = CoTrainingClassifier(max_iter=60, pool_size=100, n_per_class=2, random_state=0)
    co.fit(X.iloc[train], y_partial)
    gained = (co.labeled_iter_ > 0).sum()
    assert 300 < gained <= 60 * 2 * 3 * 2  # at most 2 views x 3 classes x n_per_class per round
    assigned = co.labeled_iter_ > 0
    assert (co.transduction_[assigned] == y[train][assigned]).mean() > 0.9
    assert co.score(X.iloc[test], y[test]) > supervised.score(X.iloc[test], y[test]) + 0.03


def test_labels_are_kept_and_rows_missing_a_view_are_used_by_the_other():
    X, y = two_sufficient_views(600)
    y_partial = np.where(np.arange(600) % 10 == 0, y, -1)
    X_missing = X.copy()
    X_missing.iloc[:30, 5:] = np.nan  # labelled rows 0, 10, 20 lack view b; unlabelled ones leave the pool
    co = CoTrainingClassifier(max_iter=10, random_state=0).fit(X_missing, y_partial)
    np.testing.assert_array_equal(co.transduction_[y_partial != -1], y_partial[y_partial != -1])
    assert (co.labeled_iter_[:30][y_partial[:30] == -1] == -1).all()
    proba = co.predict_proba(X_missing.iloc[:30])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, co.estimators_["a"].predict_proba(X_missing.iloc[:30, :5].to_numpy()))
    assert co.n_iter_ == 10


def test_errors():
    X, y = two_sufficient_views(100)
    with pytest.raises(ValueError, match="exactly 2 views; got 3"):
        CoTrainingClassifier().fit(X.assign(c__0=1.0), y)
    with pytest.raises(ValueError, match="labelled rows have 1 class"):
        CoTrainingClassifier().fit(X, np.where(np.arange(100) < 5, 1, -1))
