"""
Aligning views with the CCA family on UCI multiple features
===========================================================

The handwritten digits of UCI ``mfeat`` are described by six views (Fourier
coefficients, profile correlations, Karhunen-Loeve coefficients, pixel averages,
Zernike moments, morphology). CCA finds the directions in which two views agree;
GCCA does the same for all six, and its shared representation feeds a linear
classifier. ``score`` (the held-out canonical correlation) lets GridSearchCV tune
the regularisation with no labels.

Needs the data folder (``MMSK_DATA`` or ``~/mmsk_data``) with ``uci_mfeat``.
"""

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk.align import CCA, GCCA, DeepCCA, KernelCCA
from mmsk.datasets import load_mfeat
from mmsk.plot import plot_canonical_correlations, plot_canonical_variates

mfeat = load_mfeat()
X, y = mfeat.data, mfeat.target
fou_kar = X[[c for c in X.columns if c.startswith(("fou__", "kar__"))]]
shuffle = KFold(5, shuffle=True, random_state=0)  # the rows are sorted by digit

# %%
# Tune the shrinkage of CCA by the held-out canonical correlation: no labels needed.
search = GridSearchCV(
    make_pipeline(StandardScaler().set_output(transform="pandas"), CCA(n_components=5)),
    {"cca__reg": [0.0, 1e-3, 1e-2, 0.1, 0.5]},
    cv=shuffle,
)
search.fit(fou_kar)
print("best reg:", search.best_params_, f"held-out mean correlation {search.best_score_:.3f}")
cca = search.best_estimator_

# %%
# Linear and kernel CCA, Fourier vs Karhunen-Loeve views.
train, test = fou_kar.iloc[::2], fou_kar.iloc[1::2]
scaler = StandardScaler().set_output(transform="pandas").fit(train)
kcca = KernelCCA(n_components=5, reg=0.05, random_state=0).fit(scaler.transform(train))
dcca = DeepCCA(n_components=5, hidden=(128,), max_epochs=100, batch_size=500, lr=1e-3, random_state=0)
dcca.fit(scaler.transform(train))
print(
    f"held-out correlation: CCA {cca.score(test):.3f}, KernelCCA {kcca.score(scaler.transform(test)):.3f}, "
    f"DeepCCA {dcca.score(scaler.transform(test)):.3f}"
)

fig, axes = plt.subplots(1, 4, figsize=(18, 4))
plot_canonical_correlations(cca, X=test, ax=axes[0], label="CCA: fou vs kar")
plot_canonical_correlations(kcca, X=scaler.transform(test), ax=axes[1], label="KernelCCA (rbf): fou vs kar")
plot_canonical_correlations(dcca, X=scaler.transform(test), ax=axes[2], label="DeepCCA: fou vs kar")
plot_canonical_variates(cca, fou_kar, y, ax=axes[3])
fig.tight_layout()

# %%
# GCCA on all six views, then a linear classifier, against the best single view.
clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
cv = StratifiedKFold(5, shuffle=True, random_state=0)
single = {}
for view in ("fou", "fac", "kar", "pix", "zer", "mor"):
    cols = [c for c in X.columns if c.startswith(f"{view}__")]
    single[view] = cross_val_score(clf, X[cols], y, cv=cv).mean()
gcca = make_pipeline(
    StandardScaler().set_output(transform="pandas"),
    GCCA(n_components=40, reg=0.1, output="shared"),
    StandardScaler(),
    LogisticRegression(max_iter=3000),
)
fused = cross_val_score(gcca, X, y, cv=cv).mean()
for view, score in sorted(single.items(), key=lambda kv: -kv[1]):
    print(f"  {view} alone: {score:.3f}")
print(f"  GCCA of all six views + logistic regression: {fused:.3f}")
