"""
One GridSearchCV over fusion strategies, with a leaderboard and an ablation
===========================================================================

Six ways to fuse views compete in one ``GridSearchCV`` (the ``model`` step of a
Pipeline takes each strategy in turn, with its own parameters):

- early fusion (block-scaled views, one logistic regression),
- late fusion (one logistic regression per view, probabilities combined),
- multiple kernel learning (a kernel per view, learned weights, an SVC),
- generalised CCA's shared variates, then a logistic regression,
- a multimodal autoencoder's shared latent, then a logistic regression,
- a deep fusion network.

:func:`mmsk.model_selection.fusion_leaderboard` turns the search into a table,
and :func:`mmsk.model_selection.modality_ablation` scores every view alone.
Run on UCI mfeat (six views of handwritten digits) and on AV-digits (spoken
digits and digit images; folds by speaker).

Needs the data folder (``MMSK_DATA`` or ``~/mmsk_data``) with ``uci_mfeat`` and ``fsdd``.
About 5 minutes.
"""

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union
from mmsk.align import GCCA
from mmsk.datasets import load_av_digits, load_mfeat
from mmsk.extract import AudioFeatures, ImageFeatures
from mmsk.fusion import EarlyFusionClassifier, FusionClassifier, LateFusionClassifier, MultimodalAutoencoder
from mmsk.mkl import MKLClassifier
from mmsk.model_selection import fusion_leaderboard, modality_ablation
from mmsk.plot import plot_leaderboard, plot_modality_ablation


def logistic():
    return LogisticRegression(C=0.1, max_iter=3000)


def strategy_grid(n_views):
    """Six strategies, each with a parameter or two to tune."""
    return [
        {"model": [EarlyFusionClassifier(logistic())], "model__estimator__C": [0.01, 0.1]},
        {"model": [LateFusionClassifier(logistic())], "model__voting": ["soft", "hard"]},
        {"model": [MKLClassifier(method="alignf")], "model__C": [1.0, 10.0]},
        {
            "model": [make_pipeline(GCCA(output="shared"), logistic())],
            "model__gcca__n_components": [10, 20],
            "model__gcca__reg": [0.1],
        },
        {
            "model": [
                make_pipeline(
                    MultimodalAutoencoder(latent_dim=32, max_epochs=60, lr=3e-3, random_state=0), logistic()
                )
            ],
        },
        {
            "model": [FusionClassifier(max_epochs=60, dropout=0.2, modality_dropout=0.2, random_state=0)],
            "model__fusion": ["concat", "hybrid"],
        },
    ]


def compare(name, X, y, cv, groups=None):
    """Search, leaderboard, ablation; returns the leaderboard, the ablation and the figure."""
    pipe = Pipeline(
        [("scale", StandardScaler().set_output(transform="pandas")), ("model", LateFusionClassifier())]
    )
    search = GridSearchCV(pipe, strategy_grid(len(X.columns)), cv=cv, n_jobs=2)
    search.fit(X, y, groups=groups)
    board = fusion_leaderboard(search)
    ablation = modality_ablation(
        make_pipeline(StandardScaler().set_output(transform="pandas"), LateFusionClassifier(logistic())),
        X,
        y,
        cv=cv,
        groups=groups,
    )
    best_single = ablation[ablation["setting"].str.startswith("only")].sort_values("mean_score").iloc[-1]
    print(f"\n{name}: leaderboard")
    print(board.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(
        f"best fused: {board['strategy'].iloc[0]} {board['mean_score'].iloc[0]:.4f}; "
        f"best single view ({best_single['setting']}): {best_single['mean_score']:.4f}"
    )
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4))
    plot_leaderboard(board, ax=ax1)
    ax1.set_title(f"{name}: fusion strategies")
    plot_modality_ablation(ablation, ax=ax2)
    ax2.set_title(f"{name}: views alone (late fusion)")
    fig.tight_layout()
    return board, ablation


# %%
# UCI mfeat: six views of 2000 handwritten digits.
mfeat = load_mfeat()
mfeat_board, mfeat_ablation = compare(
    "mfeat", mfeat.data, mfeat.target, StratifiedKFold(3, shuffle=True, random_state=0)
)

# %%
# AV-digits: spoken digits (FSDD) and digit images, folds by speaker.
av = load_av_digits()
union = make_modality_union(
    audio=("audio", AudioFeatures.for_speech(sr=8000, n_jobs=2)),
    image=("image", ImageFeatures(features=("hog", "pixels"), size=(32, 32), hog_cell=8)),
)
features = union.fit_transform(av.data)
av_board, av_ablation = compare("AV-digits", features, av.target, GroupKFold(3), groups=av.groups)
