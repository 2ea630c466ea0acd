"""
Missing modalities: accuracy against the share of rows that lack one
====================================================================

AV-digits, two held-out speakers. A share (0, 25, 50, 75%) of the training rows
and the same share of the test rows lose their audio (set to NaN), or,
separately, their image. Each fused model is compared with the model trained
on the modality that is always there:

- late fusion (soft voting), which predicts a row from the views it has;
- late fusion with a stacking meta-learner, which sees which views are there;
- early fusion after :class:`~mmsk.fusion.ViewImputer` fills the missing view
  from the other one (ridge);
- early fusion with the missing view at its mean plus a presence column.

Needs ``../shared/data`` (or ``MMSK_DATA``) with ``fsdd``. About 2 minutes.
"""

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union
from mmsk._demo import _audio_features, _image_features
from mmsk.datasets import load_av_digits, train_test_split_by_speaker
from mmsk.fusion import EarlyFusionClassifier, LateFusionClassifier, ViewImputer

av = load_av_digits()
X_train, X_test, y_train, y_test = train_test_split_by_speaker(av, n_test_speakers=2, random_state=0)
union = make_modality_union(audio=("audio", _audio_features()), image=("image", _image_features()))
F_train, F_test = union.fit_transform(X_train), union.transform(X_test)
columns = {m: [c for c in F_train.columns if c.startswith(f"{m}__")] for m in ("audio", "image")}


class _Wrapped(ClassifierMixin, BaseEstimator):
    """A model family with its C as a parameter, so that GridSearchCV can choose C."""

    def __init__(self, make=None, C=1.0):
        self.make = make
        self.C = C

    def fit(self, X, y):
        self.model_ = self.make(self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


def scaled(model):
    return make_pipeline(StandardScaler().set_output(transform="pandas"), model)


def logistic(C):
    return LogisticRegression(C=C, max_iter=3000)


families = {
    "late fusion (soft)": lambda C: scaled(LateFusionClassifier(logistic(C))),
    "late fusion (stacking)": lambda C: scaled(LateFusionClassifier(logistic(C), voting="stacking")),
    "ViewImputer + early fusion": lambda C: scaled(
        make_pipeline(
            ViewImputer(alpha=10.0).set_output(transform="pandas"), EarlyFusionClassifier(logistic(C))
        )
    ),
    "early fusion (mean + presence)": lambda C: scaled(EarlyFusionClassifier(logistic(C))),
    "audio only": lambda C: scaled(logistic(C)),
    "image only": lambda C: scaled(logistic(C)),
}
inputs = {"audio only": columns["audio"], "image only": columns["image"]}

# %%
# Each model's C is chosen once, by speaker-grouped cross-validation on the complete
# training rows (the held-out speakers are never looked at), then kept for every rate.
chosen = {}
for name, make in families.items():
    cols = inputs.get(name, list(F_train.columns))
    search = GridSearchCV(_Wrapped(make), {"C": [0.05, 0.3, 1.0, 3.0]}, cv=GroupKFold(3), n_jobs=2).fit(
        F_train[cols], y_train, groups=av.groups.loc[X_train.index]
    )
    chosen[name] = search.best_params_["C"]
print("C chosen by grouped CV:", chosen)


def drop(F, modality, rate, seed):
    """F with ``modality`` set to NaN on a ``rate`` share of its rows."""
    F = F.copy()
    lost = np.random.default_rng(seed).random(len(F)) < rate
    F.loc[lost, columns[modality]] = np.nan
    return F


# %%
rows = []
rates = [0.0, 0.25, 0.5, 0.75]
fused_models = [name for name in families if name not in inputs]
for lost_modality, kept in (("audio", "image"), ("image", "audio")):
    base = f"{kept} only"
    alone = families[base](chosen[base]).fit(F_train[columns[kept]], y_train)
    alone_acc = alone.score(F_test[columns[kept]], y_test)
    for rate in rates:
        train, test = drop(F_train, lost_modality, rate, 0), drop(F_test, lost_modality, rate, 1)
        for name in fused_models:
            acc = families[name](chosen[name]).fit(train, y_train).score(test, y_test)
            rows.append({"missing": lost_modality, "rate": rate, "model": name, "accuracy": acc})
        rows.append({"missing": lost_modality, "rate": rate, "model": base, "accuracy": alone_acc})
table = pd.DataFrame(rows)
print(table.pivot_table(index=["missing", "rate"], columns="model", values="accuracy").round(3).to_string())
fused = table[~table["model"].str.endswith("only")]
baseline = table[table["model"].str.endswith("only")].set_index(["missing", "rate"])["accuracy"]
margin = fused["accuracy"].to_numpy() - baseline.loc[list(zip(fused["missing"], fused["rate"]))].to_numpy()
print("smallest margin of each fused model over the model of the always-present modality:")
print(fused.assign(margin=margin).groupby("model", sort=False)["margin"].min().round(3).to_string())

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, lost_modality in zip(axes, ("audio", "image")):
    part = table[table["missing"] == lost_modality]
    for name, group in part.groupby("model", sort=False):
        style = "k--" if name.endswith("only") else "o-"
        ax.plot(group["rate"], group["accuracy"], style, label=name)
    ax.set_xlabel(f"share of training and test rows missing {lost_modality}")
    ax.set_title(f"{lost_modality} missing")
    ax.set_xticks(rates)
axes[0].set_ylabel("held-out speakers accuracy")
axes[1].legend(loc="lower left")
fig.tight_layout()
