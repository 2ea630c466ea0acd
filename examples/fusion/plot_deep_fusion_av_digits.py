"""
Deep fusion on AV-digits: every fusion family in one GridSearchCV
=================================================================

Spoken digits (all 3000 FSDD recordings, 6 speakers) paired with handwritten
digit images. Two speakers are held out for testing, so no test voice is ever
heard in training. One ``GridSearchCV`` chooses among the seven fusion families
of :class:`~mmsk.fusion.FusionClassifier` by speaker-grouped cross-validation;
the winner is scored on the held-out speakers, then with a growing share of
test rows whose audio is missing (set to NaN), against a model that only ever
sees the images.

Needs the data folder (``MMSK_DATA`` or ``~/mmsk_data``) with ``fsdd``. About 3 minutes.
"""

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union
from mmsk.datasets import load_av_digits, train_test_split_by_speaker
from mmsk.extract import AudioFeatures, ImageFeatures
from mmsk.fusion import FusionClassifier
from mmsk.plot import plot_modality_weights

av = load_av_digits()
if av.source != "data_home":
    raise SystemExit("this example needs the full FSDD in the data folder (MMSK_DATA or ~/mmsk_data)")
X_train, X_test, y_train, y_test = train_test_split_by_speaker(av, n_test_speakers=2, random_state=0)
groups_train = av.groups.loc[X_train.index]
test_speakers = sorted(set(av.groups) - set(groups_train))
print(f"{len(X_train)} training rows, {len(X_test)} test rows of speakers {test_speakers}")

# %%
# Features once (the search then only trains networks): audio MFCCs, image HOG + pixels.
union = make_modality_union(
    audio=("audio", AudioFeatures.for_speech(sr=8000, n_jobs=2)),
    image=("image", ImageFeatures(features=("hog", "pixels"), size=(32, 32), hog_cell=8)),
)
F_train, F_test = union.fit_transform(X_train), union.transform(X_test)
audio_cols = [c for c in F_train.columns if c.startswith("audio__")]
image_cols = [c for c in F_train.columns if c.startswith("image__")]


def scaled(model):
    return make_pipeline(StandardScaler().set_output(transform="pandas"), model)


# %%
# One search over every fusion family, folds grouped by speaker.
fusions = ["concat", "late", "hybrid", "attention", "tensor", "low_rank_tensor", "gated"]
net = FusionClassifier(
    hidden=64, embed_dim=32, dropout=0.2, modality_dropout=0.3, max_epochs=80, batch_size=64, random_state=0
)
search = GridSearchCV(scaled(net), {"fusionclassifier__fusion": fusions}, cv=GroupKFold(3), n_jobs=2)
search.fit(F_train, y_train, groups=groups_train)
cv_table = pd.DataFrame(
    {
        "fusion": search.cv_results_["param_fusionclassifier__fusion"],
        "cv accuracy": search.cv_results_["mean_test_score"].round(4),
        "std": search.cv_results_["std_test_score"].round(4),
    }
).sort_values("cv accuracy", ascending=False)
print(cv_table.to_string(index=False))
best = search.best_estimator_
print(
    f"best fusion: {search.best_params_['fusionclassifier__fusion']}, "
    f"held-out speakers accuracy: {best.score(F_test, y_test):.3f}"
)

# %%
# Missing audio at test time: the fused model against image-only and audio-only models.
image_only = scaled(LogisticRegression(C=0.05, max_iter=3000)).fit(F_train[image_cols], y_train)
audio_only = scaled(LogisticRegression(C=0.05, max_iter=3000)).fit(F_train[audio_cols], y_train)
image_acc = image_only.score(F_test[image_cols], y_test)
print(f"image only: {image_acc:.3f}, audio only: {audio_only.score(F_test[audio_cols], y_test):.3f}")
rng = np.random.default_rng(1)
rates, fused_acc = [0.0, 0.25, 0.5, 0.75, 1.0], []
for rate in rates:
    F_missing = F_test.copy()
    F_missing.loc[rng.random(len(F_missing)) < rate, audio_cols] = np.nan
    fused_acc.append(best.score(F_missing, y_test))
    print(
        f"  audio missing on {rate:.0%} of test rows: fused {fused_acc[-1]:.3f} (image only {image_acc:.3f})"
    )

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
axes[0].barh(cv_table["fusion"], cv_table["cv accuracy"], xerr=cv_table["std"], color="tab:blue")
axes[0].invert_yaxis()
axes[0].set_xlim(0.9, 1.0)
axes[0].set_xlabel("speaker-grouped CV accuracy")
axes[0].set_title("fusion families")
axes[1].plot(rates, fused_acc, "o-", label=f"fused ({search.best_params_['fusionclassifier__fusion']})")
axes[1].axhline(image_acc, color="tab:orange", ls="--", label="image only")
axes[1].set_xlabel("share of test rows missing audio")
axes[1].set_ylabel("held-out speakers accuracy")
axes[1].legend()
axes[1].set_title("missing audio at test time")
attention = scaled(FusionClassifier(**{**net.get_params(), "fusion": "attention"})).fit(F_train, y_train)
plot_modality_weights(attention, F_test, y_test, ax=axes[2])
axes[2].set_title("attention: mean weight per modality")
fig.tight_layout()
