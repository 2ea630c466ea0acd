"""
Late fusion on AV-digits
========================

Spoken digits (FSDD recordings) paired with handwritten digit images: one classifier
per modality, their probabilities averaged. Speaker-independent cross-validation,
on the data bundled with mmsk (no download).
"""

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from mmsk._demo import run_demo
from mmsk.datasets._base import BUNDLED_DIR

results = run_demo(BUNDLED_DIR, n_splits=3)

# %%
# Accuracy of each modality alone and fused.
fig, ax = plt.subplots(figsize=(5, 3))
ax.barh(results["model"], results["accuracy"], xerr=results["std"], color=["C0", "C1", "C2"])
ax.set_xlim(0.5, 1.0)
ax.set_xlabel("speaker-independent accuracy")
fig.tight_layout()
fig.savefig("late_fusion_av_digits.png")
