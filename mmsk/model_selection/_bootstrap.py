"""Scores of stored out-of-fold predictions under row weights: the bootstrap estimate and the greedy ensemble.

A bootstrap resample is a vector of row weights (how many times each row was
drawn), so in-bag and out-of-bag scores of every candidate are weighted scores
of the same stored predictions. Metrics that are sums over rows (accuracy,
balanced accuracy, R², squared, absolute and log loss) are computed for many
resamples and candidates at once by matrix products; any other scorer is called
once per resample and candidate with ``sample_weight``.

The estimate is BBC-CV (Tsamardinos, Greasidou & Borboudakis, *Bootstrapping the
out-of-sample predictions for efficient and accurate cross-validation*, Machine
Learning 107, 2018): resample rows, choose the best candidate on the in-bag
rows, score that choice on the out-of-bag rows. The ensemble is greedy forward
selection with replacement (Caruana, Niculescu-Mizil, Crew & Ksikes, ICML 2004).
"""

import numpy as np

#: Scorers computed from per-row sums (names as scikit-learn's ``get_scorer`` knows them).
FAST_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "r2",
    "neg_mean_squared_error",
    "neg_root_mean_squared_error",
    "neg_mean_absolute_error",
    "neg_log_loss",
)
_CHUNK = 64


def bootstrap_weights(n_samples, n_bootstrap, *, groups=None, random_state=None):
    """Row weights of bootstrap resamples: the in-bag counts and the out-of-bag indicator.

    With ``groups``, whole groups are drawn (a row's count is its group's).

    Parameters
    ----------
    n_samples : int
    n_bootstrap : int
    groups : array-like of shape (n_samples,), default=None
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    in_bag : ndarray of shape (n_bootstrap, n_samples)
        How many times each row was drawn.
    out_of_bag : ndarray of shape (n_bootstrap, n_samples)
        1.0 for the rows never drawn, else 0.0.

    Examples
    --------
    >>> from mmsk.model_selection import bootstrap_weights
    >>> w_in, w_out = bootstrap_weights(5, 3, random_state=0)
    >>> w_in.sum(axis=1)
    array([5., 5., 5.])
    >>> bool(((w_in > 0) != (w_out > 0)).all())
    True
    """
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    if groups is None:
        codes, n_units = np.arange(n_samples), n_samples
    else:
        _, codes = np.unique(np.asarray(groups), return_inverse=True)
        n_units = int(codes.max()) + 1
    draws = rng.randint(0, n_units, size=(n_bootstrap, n_units))
    # one bincount over every resample at once (each resample's draws offset into its own row)
    offsets = (np.arange(n_bootstrap) * n_units)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_bootstrap * n_units)
    in_bag = counts.reshape(n_bootstrap, n_units).astype(float)[:, codes]
    return in_bag, (in_bag == 0).astype(float)


class RowScores:
    """One metric on stored predictions, for many row weightings at once.

    Parameters
    ----------
    scorer : scikit-learn scorer
        The search's scorer (``scorer._score_func`` and its sign are used for
        the metrics of :data:`FAST_METRICS`; any other scorer is called).
    metric : str or None
        The scorer's name when it is one of :data:`FAST_METRICS`.
    y : array-like of shape (n_samples,)
    classes : ndarray or None
        The classes, the columns of the stored probabilities; None: regression.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import get_scorer
    >>> from mmsk.model_selection import RowScores
    >>> y = np.array([0, 1, 1, 0])
    >>> P = np.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]])  # one candidate
    >>> RowScores(get_scorer("accuracy"), "accuracy", y, np.array([0, 1])).scores(P, np.ones((1, 4)))
    array([[0.75]])
    """

    def __init__(self, scorer, metric, y, classes):
        self.scorer = scorer
        self.metric = metric if metric in FAST_METRICS else None
        self.classes = classes
        self.y = np.asarray(y)
        if classes is not None:
            self.codes = np.searchsorted(classes, self.y)
            self.onehot = np.eye(len(classes))[self.codes]
        else:
            self.yf = self.y.astype(float).reshape(len(self.y), -1)

    def scores(self, P, W):
        """Score of each candidate under each weighting.

        Parameters
        ----------
        P : ndarray of shape (n_candidates, n_samples, n_outputs)
            Stored predictions (class probabilities, or values).
        W : ndarray of shape (n_weightings, n_samples)

        Returns
        -------
        scores : ndarray of shape (n_weightings, n_candidates)
            NaN for a candidate with a missing prediction on a weighted row.
        """
        if self.metric is None:
            return self._called(P, W, paired=False)
        out = np.empty((W.shape[0], P.shape[0]))
        for start in range(0, P.shape[0], _CHUNK):
            stats = self._row_stats(P[start : start + _CHUNK])
            out[:, start : start + _CHUNK] = self._combine(stats, W, paired=False)
        return out

    def paired_scores(self, P, W, *, finite=False):
        """Score of predictions ``P[b]`` under weighting ``W[b]``, for every b.

        Parameters
        ----------
        P : ndarray of shape (n_weightings, n_samples, n_outputs)
        W : ndarray of shape (n_weightings, n_samples)
        finite : bool, default=False
            The caller knows ``P`` has no NaN: its checks are skipped.

        Returns
        -------
        scores : ndarray of shape (n_weightings,)
        """
        if self.metric is None:
            return self._called(P, W, paired=True)
        return self._combine(self._row_stats(P, finite=finite), W, paired=True)

    def _row_stats(self, P, finite=False):
        """Per-row statistics of predictions (C, n, k) that the metric sums: each of shape (C, n)."""
        bad = None if finite else np.isnan(P).any(axis=2).astype(float)
        if self.classes is not None and self.metric in ("accuracy", "balanced_accuracy"):
            chosen = (P if finite else np.nan_to_num(P, nan=-1.0)).argmax(axis=2)
            return self._label_stats((chosen == self.codes).astype(float), bad)
        if self.metric == "neg_log_loss":
            eps = np.finfo(float).eps
            p = np.clip(np.nan_to_num(P, nan=0.5), eps, 1 - eps)
            p = p / p.sum(axis=2, keepdims=True)
            return {"bad": bad, "value": -np.log((p * self.onehot[None]).sum(axis=2))}
        err = np.nan_to_num(P, nan=0.0) - self.yf[None]
        if self.metric == "neg_mean_absolute_error":
            return {"bad": bad, "value": np.abs(err).mean(axis=2)}
        return {"bad": bad, "value": (err**2).mean(axis=2)}

    def _label_stats(self, correct, bad=None):
        """What accuracy and balanced accuracy sum, from whether each row's label is right."""
        if self.metric == "accuracy":
            return {"bad": bad, "value": correct}
        return {"bad": bad, **{j: correct * self.onehot[:, j] for j in range(len(self.classes))}}

    def paired_label_scores(self, correct, W):
        """Accuracy or balanced accuracy of right (1) and wrong (0) rows ``correct[b]`` under ``W[b]``."""
        return self._combine(self._label_stats(correct), W, paired=True)

    def _combine(self, stats, W, paired):
        """The metric from weighted sums of the per-row statistics (cross: every weighting x candidate)."""

        def total(stat):
            return np.einsum("bn,bn->b", W, stat) if paired else W @ stat.T

        shape = (-1,) if paired else (-1, 1)
        sw = W.sum(axis=1).reshape(shape)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.metric == "balanced_accuracy":
                per_class = W @ self.onehot  # (B, k): weight of each class
                present = per_class > 0
                result = sum(
                    np.where(
                        present[:, j].reshape(shape), total(stats[j]) / per_class[:, j].reshape(shape), 0.0
                    )
                    for j in range(len(self.classes))
                ) / present.sum(axis=1).reshape(shape)
            else:
                mean = total(stats["value"]) / sw
                if self.metric == "accuracy":
                    result = mean
                elif self.metric == "neg_root_mean_squared_error":
                    result = -np.sqrt(mean)
                elif self.metric == "r2":  # several outputs: uniform average of the outputs' R² denominators
                    y_mean = (W @ self.yf) / sw.reshape(-1, 1)
                    sst = (W @ self.yf**2) / sw.reshape(-1, 1) - y_mean**2
                    result = 1 - mean / sst.mean(axis=1).reshape(shape)
                else:  # losses, reported negated as scikit-learn's scorers do
                    result = -mean
        result = np.array(result, dtype=float)
        if stats["bad"] is not None:
            result[total(stats["bad"]) > 0] = np.nan
        return result

    def _called(self, P, W, paired):
        rows = np.arange(len(self.y)).reshape(-1, 1)
        out = np.full(len(W) if paired else (len(W), len(P)), np.nan)
        for b in range(len(W)):
            keep = W[b] > 0
            for c in [b] if paired else range(len(P)):
                if np.isnan(P[c][keep]).any():
                    continue
                value = self.scorer(
                    _Replay(P[c], self.classes), rows[keep], self.y[keep], sample_weight=W[b][keep]
                )
                out[(b,) if paired else (b, c)] = value
        return out


class _Replay:
    """Stored predictions in an estimator's clothes, so that any scorer (or calibrator) can read them.

    X is row numbers. ``predictions`` are class probabilities or values, or a
    classifier's decision values ((n, 1) for two classes) for calibration.
    """

    def __init__(self, predictions, classes):
        self.predictions = predictions
        self.classes_ = classes
        self._estimator_type = "regressor" if classes is None else "classifier"

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        if self.classes_ is None:
            return Tags(estimator_type="regressor", target_tags=TargetTags(required=True),
                        regressor_tags=RegressorTags())  # fmt: skip
        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())  # fmt: skip

    def _rows(self, X):
        return self.predictions[np.asarray(X).ravel().astype(int)]

    def predict(self, X):
        p = self._rows(X)
        if self.classes_ is None:
            return p[:, 0] if p.shape[1] == 1 else p
        return self.classes_[p.argmax(axis=1)]

    def predict_proba(self, X):
        return self._rows(X)

    def decision_function(self, X):
        p = self._rows(X)
        if p.shape[1] == 1:  # stored decision values of two classes
            return p[:, 0]
        return p[:, 1] if p.shape[1] == 2 else p


def one_se_choice(scores, sem, order):
    """Per weighting: the simplest candidate within one standard error of the best (ties: higher score).

    Parameters
    ----------
    scores : ndarray of shape (n_weightings, n_candidates)
    sem : ndarray of shape (n_candidates,)
        Each candidate's standard error (of its fold scores).
    order : ndarray of shape (n_candidates,)
        Simplicity rank of each candidate (lower is simpler).

    Returns
    -------
    choice : ndarray of int of shape (n_weightings,)

    Examples
    --------
    >>> import numpy as np
    >>> from mmsk.model_selection import one_se_choice
    >>> one_se_choice(np.array([[0.80, 0.82, 0.90]]), np.array([0.05, 0.05, 0.05]), np.array([0, 1, 2]))
    array([2])
    >>> one_se_choice(np.array([[0.80, 0.88, 0.90]]), np.array([0.05, 0.05, 0.05]), np.array([0, 1, 2]))
    array([1])
    """
    s = np.where(np.isnan(scores), -np.inf, scores)
    best = s.argmax(axis=1)
    threshold = s[np.arange(len(s)), best] - np.nan_to_num(sem[best], nan=0.0)
    near = s >= threshold[:, None]
    # simplest first, then the higher score: a lexicographic key per candidate
    key = np.where(near, -order[None, :] * 1e6 + np.clip(s, -1e5, 1e5), -np.inf)
    return key.argmax(axis=1)


def greedy_ensemble(P, y_scores, W, *, pool, n_iter=25):
    """Greedy forward selection with replacement over stored predictions, under each weighting.

    Each step adds (again, if it is best) the candidate whose addition gives
    the averaged predictions the best weighted score; the ensemble kept is the
    step with the best score (the earliest of equals: fewer members).

    Parameters
    ----------
    P : ndarray of shape (n_candidates, n_samples, n_outputs)
    y_scores : RowScores
    W : ndarray of shape (n_weightings, n_samples)
        Row weights the selection is judged by.
    pool : ndarray of int of shape (n_weightings, n_pool)
        The candidates each weighting may choose among.
    n_iter : int, default=25

    Returns
    -------
    counts : ndarray of shape (n_weightings, n_candidates)
        How many times each candidate was chosen (weights: counts over their sum).
    """
    n_w, n_pool = pool.shape
    counts = np.zeros((n_w, P.shape[0]))
    best_score = np.full(n_w, -np.inf)
    best_counts = counts.copy()
    rows = np.arange(n_w)
    finite = bool(np.isfinite(P[np.unique(pool)]).all())
    # the argmax of a sum is that of its mean: label metrics skip the division; with two classes
    # the label is the sign of the margin p1 - p0 (class 0 on a tie, as argmax), half the work
    labels = finite and y_scores.classes is not None and y_scores.metric in ("accuracy", "balanced_accuracy")
    binary = labels and P.shape[2] == 2
    if labels:  # a label only needs which sum is largest: single precision halves what each trial reads
        P = P.astype(np.float32)
    total = np.zeros((n_w,) + P.shape[1:], dtype=P.dtype)
    if binary:
        margins = P[..., 1] - P[..., 0]
        positive = y_scores.codes == 1
        sum_margin = np.zeros((n_w, P.shape[1]), dtype=P.dtype)
    average = np.empty((n_w,) + P.shape[1:-1] if binary else total.shape, dtype=P.dtype)
    for step in range(1, n_iter + 1):
        trial = np.empty((n_w, n_pool))
        for j in range(n_pool):
            if binary:
                np.add(sum_margin, margins[pool[:, j]], out=average)
                trial[:, j] = y_scores.paired_label_scores(((average > 0) == positive).astype(float), W)
                continue
            np.add(total, P[pool[:, j]], out=average)
            if not labels:
                average /= step
            trial[:, j] = y_scores.paired_scores(average, W, finite=finite)
        trial = np.where(np.isnan(trial), -np.inf, trial)
        pick = pool[rows, trial.argmax(axis=1)]
        if binary:
            sum_margin += margins[pick]
        else:
            total += P[pick]
        counts[rows, pick] += 1
        score = trial.max(axis=1)
        better = score > best_score + 1e-12
        best_score[better] = score[better]
        best_counts[better] = counts[better]
    return best_counts
