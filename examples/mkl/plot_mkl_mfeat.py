"""
Multiple kernel learning on UCI multiple features
=================================================

One RBF kernel per view of the ``mfeat`` handwritten digits (six views), their
weights learned by each combination method, an SVC on the weighted sum. The
figure shows the learned weights and the cross-validated accuracy of each
method against every view alone.

Needs the data folder (``MMSK_DATA`` or ``~/mmsk_data``) with ``uci_mfeat``.
"""

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk.datasets import load_mfeat
from mmsk.mkl import MKLClassifier
from mmsk.plot import plot_kernel_weights

mfeat = load_mfeat()
X, y = mfeat.data, mfeat.target
cv = StratifiedKFold(5, shuffle=True, random_state=0)


def model(**params):
    return make_pipeline(StandardScaler().set_output(transform="pandas"), MKLClassifier(C=10, **params))


# %%
# Every view alone (an SVC on its kernel), then the combination methods.
scores = {}
for view in ("fou", "fac", "kar", "pix", "zer", "mor"):
    cols = [c for c in X.columns if c.startswith(f"{view}__")]
    scores[f"{view} alone"] = cross_val_score(model(), X[cols], y, cv=cv).mean()
for method in ("average", "alignf", "easymkl", "gradient"):
    scores[f"MKL {method}"] = cross_val_score(model(method=method), X, y, cv=cv).mean()
table = pd.Series(scores).sort_values()
print(table.round(4).to_string())

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
table.plot.barh(ax=axes[0], color=["C1" if k.startswith("MKL") else "C0" for k in table.index])
axes[0].set_xlim(0.7, 1.0)
axes[0].set_xlabel("accuracy (5-fold)")
plot_kernel_weights(model(method="easymkl").fit(X, y), ax=axes[1])
fig.tight_layout()
