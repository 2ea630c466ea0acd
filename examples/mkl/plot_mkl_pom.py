"""
Multiple kernel learning on POM: audio and facial features, 17 trait ratings
============================================================================

POM (persuasion opinion multimodal) segments have an audio view (COVAREP) and
a facial-expression view (FACET); the target is 17 trait ratings. Each model's
kernels and ridge ``alpha`` are chosen by 5-fold cross-validation on the train
and validation splits (never by looking at the test split), then scored on the
test split by the mean Pearson correlation over the 17 traits. The figure
shows the test score of each modality alone and of each MKL method, and the
kernel weights ALIGNF learned.

Needs the data folder (``MMSK_DATA`` or ``~/mmsk_data``) with ``cmu_pom``. About 2 minutes.
"""

# %%
import matplotlib

matplotlib.use("Agg")
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mmsk.datasets import load_pom
from mmsk.mkl import MKLRegressor
from mmsk.plot import plot_kernel_weights


def mean_correlation(y_true, y_pred):
    """Mean Pearson correlation over the targets (a constant prediction counts 0)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(
        np.mean(
            [
                np.corrcoef(y_true[:, j], y_pred[:, j])[0, 1] if y_pred[:, j].std() > 0 else 0.0
                for j in range(y_true.shape[1])
            ]
        )
    )


train, valid, test = (load_pom(split=s) for s in ("train", "valid", "test"))
X_train = pd.concat([train.data, valid.data])
Y_train = pd.concat([train.target, valid.target]).to_numpy()
X_test, Y_test = test.data, test.target.to_numpy()
cv = KFold(5, shuffle=True, random_state=0)
alphas = [0.1, 0.3, 1, 3, 10, 30]


def search(columns, grid):
    pipe = Pipeline([("scale", StandardScaler().set_output(transform="pandas")), ("mkl", MKLRegressor())])
    gs = GridSearchCV(pipe, grid, scoring=make_scorer(mean_correlation), cv=cv, n_jobs=2)
    return gs.fit(X_train[columns], Y_train)


# %%
# Each modality alone (kernel ridge on its kernel), then the MKL methods on both.
rows, models = [], {}
for view in ("audio", "video"):
    cols = [c for c in X_train.columns if c.startswith(f"{view}__")]
    models[view] = search(cols, {"mkl__kernels": ["rbf", "linear"], "mkl__alpha": alphas}), cols
pairs = [{"audio": a, "video": v} for a, v in itertools.product(["rbf", "linear"], repeat=2)]
for method in ("average", "alignf", "gradient"):
    grid = {"mkl__kernels": pairs, "mkl__alpha": alphas, "mkl__method": [method]}
    models[f"MKL {method}"] = search(list(X_train.columns), grid), list(X_train.columns)
for name, (gs, cols) in models.items():
    rows.append(
        {
            "model": name,
            "cv mean correlation": round(gs.best_score_, 3),
            "test mean correlation": round(mean_correlation(Y_test, gs.predict(X_test[cols])), 3),
            "chosen": gs.best_params_,
        }
    )
table = pd.DataFrame(rows)
print(table.to_string(index=False))

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.barh(table["model"], table["test mean correlation"], color="tab:blue")
ax1.invert_yaxis()
ax1.set_xlabel("test mean correlation over 17 traits")
ax1.set_title("POM: modalities alone vs MKL")
plot_kernel_weights(models["MKL alignf"][0].best_estimator_, ax=ax2)
ax2.set_title("ALIGNF kernel weights")
fig.tight_layout()
