"""
Cross-modal retrieval: a CLIP-style dual encoder against linear CCA
===================================================================

:class:`~mmsk.fusion.ContrastiveDualEncoder` trains one tower per view with
InfoNCE, so that each row's two views land close together in a shared space;
linear :class:`~mmsk.align.CCA` is the classical baseline for the same job.
Both are scored with :func:`mmsk.metrics.make_retrieval_scorer` on held-out
rows.

1. AV-digits: a spoken digit retrieves images of the same digit (held-out
   speakers; rows of one digit are one pair group).
2. COCO-mini: a photo retrieves its captions (MiniLM caption embeddings,
   colour-histogram + HOG + visual-word image features; 5-fold by image).

Needs the data folder (``MMSK_DATA`` or ``~/mmsk_data``) with ``fsdd`` and ``coco_mini``, and
the ``text`` extra (sentence-transformers with the packaged MiniLM). About 3
minutes.
"""

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import comb
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union
from mmsk.align import CCA
from mmsk.datasets import load_av_digits, load_coco_mini, train_test_split_by_speaker
from mmsk.extract import AudioFeatures, ImageFeatures, SentenceEmbedder
from mmsk.fusion import ContrastiveDualEncoder
from mmsk.metrics import make_retrieval_scorer

KS = (1, 5, 10)
SCORERS = {f"recall@{k}": make_retrieval_scorer(f"recall@{k}") for k in KS} | {
    "mrr": make_retrieval_scorer("mrr")
}


def scaled(model):
    return make_pipeline(StandardScaler().set_output(transform="pandas"), model)


def evaluate(models, splits, X, groups):
    """Mean of each retrieval score over the splits, per model."""
    rows = []
    for name, make in models.items():
        scores = {k: [] for k in SCORERS}
        for train, test in splits:
            model = make().fit(X.iloc[train], groups[train])
            for k, scorer in SCORERS.items():
                scores[k].append(scorer(model, X.iloc[test], groups[test]))
        rows.append({"model": name} | {k: round(float(np.mean(v)), 3) for k, v in scores.items()})
    return pd.DataFrame(rows)


# %%
# 1. AV-digits: audio -> image, held-out speakers.
av = load_av_digits()
X_train, X_test, y_train, y_test = train_test_split_by_speaker(av, n_test_speakers=2, random_state=0)
union = make_modality_union(
    audio=("audio", AudioFeatures.for_speech(sr=8000, n_jobs=2)),
    image=("image", ImageFeatures(features=("hog", "pixels"), size=(32, 32), hog_cell=8)),
)
F = pd.concat([union.fit_transform(X_train), union.transform(X_test)])
digits = np.concatenate([y_train.to_numpy(), y_test.to_numpy()])
split = [(np.arange(len(X_train)), np.arange(len(X_train), len(F)))]
av_models = {
    "linear CCA (16 components)": lambda: scaled(CCA(n_components=16, reg=0.1)),
    "dual encoder": lambda: scaled(
        ContrastiveDualEncoder(embed_dim=32, hidden=(128,), dropout=0.2, max_epochs=40, random_state=0)
    ),
}
av_table = evaluate(av_models, split, F, digits)
print("AV-digits, spoken digit -> digit images of held-out speakers")
print(av_table.to_string(index=False))

# %%
# 2. COCO-mini: photo -> its five captions. 80 photos only, and no pretrained image
# encoder ships offline: hand-crafted image features carry little of what captions say.
coco = load_coco_mini()
captions = coco.captions
image_union = make_modality_union(
    image=("image", ImageFeatures(features=("color_hist", "hog", "bovw"), n_words=64, random_state=0))
)
per_image = image_union.fit_transform(coco.frame[["image"]]).set_axis(coco.frame["image_id"].to_numpy())
text = SentenceEmbedder().fit_transform(captions["caption"].tolist())
X_coco = pd.concat(
    [
        per_image.loc[captions["image_id"].to_numpy()].reset_index(drop=True),
        pd.DataFrame(text, columns=[f"text__e{j}" for j in range(text.shape[1])]),
    ],
    axis=1,
)
image_ids = captions["image_id"].to_numpy()
folds = list(GroupKFold(5).split(X_coco, groups=image_ids))
coco_models = {
    "linear CCA (8 components, reg 0.9)": lambda: scaled(CCA(n_components=8, reg=0.9)),
    "dual encoder": lambda: scaled(
        ContrastiveDualEncoder(
            embed_dim=64, hidden=(256,), dropout=0.5, weight_decay=1e-2, max_epochs=100, random_state=0
        )
    ),
}
coco_table = evaluate(coco_models, folds, X_coco, image_ids)
# chance: a random ranking of a fold's captions (5 of them match the photo)
n_caps = len(folds[0][1])
chance = {f"recall@{k}": round(1 - comb(n_caps - 5, k) / comb(n_caps, k), 3) for k in KS}
coco_table = pd.concat([coco_table, pd.DataFrame([{"model": "chance"} | chance])], ignore_index=True)
print("COCO-mini, photo -> its captions (5-fold by photo)")
print(coco_table.to_string(index=False))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, tab, title in (
    (axes[0], av_table, "AV-digits: audio -> image"),
    (axes[1], coco_table, "COCO-mini: photo -> caption"),
):
    for _, row in tab.iterrows():
        ax.plot(KS, [row[f"recall@{k}"] for k in KS], "o-", label=row["model"])
    ax.set_xlabel("K")
    ax.set_ylabel("recall@K (held out)")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend()
fig.tight_layout()
