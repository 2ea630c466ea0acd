"""
From a raw table to features: audio, image and text columns
===========================================================

A table whose columns hold an audio file path, an image and a line of text goes
through :func:`mmsk.make_modality_union` (one extractor per column) into a
classifier, and :class:`~sklearn.model_selection.GridSearchCV` tunes the
extractors' own parameters. The on-disk cache means each recording is read once
per setting, however many folds and candidates the search runs.

Runs on AV-digits: FSDD recordings of 6 speakers, each paired with an 8x8 digit
image; the full 3000 from the data folder (``MMSK_DATA``) when it is there, else the 480
bundled with mmsk. No download.
"""

# %%
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union
from mmsk.datasets import load_av_digits
from mmsk.extract import AudioFeatures, ImageFeatures, SentenceEmbedder

av = load_av_digits()
table = av.data.copy()
table["note"] = [f"take {t} recorded by {s}" for t, s in zip(av.frame["take"], av.groups)]
print(table.head(3))

# %%
# One extractor per column; the text goes through scikit-learn's own TF-IDF.
cache = tempfile.mkdtemp(prefix="mmsk-cache-")
# FSDD is 8 kHz speech: the speech preset (32 ms windows, 10 ms hop, 13 MFCC and their
# deltas, silence trimmed); the search below chooses its number of time segments.
speech = AudioFeatures.for_speech(sr=8000, n_jobs=2, cache=cache)
union = make_modality_union(
    audio=("audio", speech),
    image=("image", ImageFeatures(features=("hog",), size=(16, 16), hog_cell=4, cache=cache)),
    note=("note", TfidfVectorizer()),
)
model = make_pipeline(union, StandardScaler(), LogisticRegression(C=0.05, max_iter=3000))
grid = GridSearchCV(
    model,
    {"modalityunion__audio__segments": [1, 3, 5], "modalityunion__image__hog_cell": [4, 8]},
    cv=GroupKFold(3),  # folds by speaker: test voices are never heard in training
)
grid.fit(table, av.target, groups=av.groups)
print("best:", grid.best_params_, f"speaker-independent accuracy {grid.best_score_:.3f}")
names = grid.best_estimator_[0].get_feature_names_out()
print(len(names), "features, e.g.", list(names[:2]), "...", list(names[-2:]))

# %%
# Pooling over time segments keeps the order of the sounds, which tells words apart.
scores = grid.cv_results_
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for cell in (4, 8):
    rows = [i for i, p in enumerate(scores["params"]) if p["modalityunion__image__hog_cell"] == cell]
    axes[0].plot(
        [scores["params"][i]["modalityunion__audio__segments"] for i in rows],
        [scores["mean_test_score"][i] for i in rows],
        marker="o",
        label=f"HOG cell {cell} px",
    )
axes[0].set_xlabel("audio time segments")
axes[0].set_ylabel("accuracy (GroupKFold by speaker)")
axes[0].legend()

# %%
# The fixed-size log-mel output, for deep models: the mean spectrogram of each digit.
frames = AudioFeatures.for_speech(sr=8000, output="mel_frames", n_frames=60, n_jobs=2, cache=cache)
mel = frames.fit_transform(table["audio"]).reshape(len(table), 40, 60)
axes[1].imshow(
    np.hstack([mel[av.target == d].mean(axis=0) for d in range(10)]),
    origin="lower",
    aspect="auto",
    cmap="magma",
)
axes[1].set_xticks(np.arange(10) * 60 + 30, [str(d) for d in range(10)])
axes[1].set_xlabel("digit (mean trimmed log-mel spectrogram)")
axes[1].set_ylabel("mel band")
fig.tight_layout()

# %%
# Sentence embeddings from the offline all-MiniLM-L6-v2: similar sentences, near vectors.
texts = ["a dog catches a frisbee", "a puppy plays with a disc in the park", "the stock market fell"]
emb = SentenceEmbedder().fit_transform(texts)
print(np.round(emb @ emb.T, 2))
