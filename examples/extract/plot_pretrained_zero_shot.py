"""
Bring your own pretrained encoder: CLIP zero-shot classification of a photo column
==================================================================================

:class:`~mmsk.extract.ClipEmbedder` puts photos (and texts) into the joint
space of a CLIP model, so photos can be classified from label names alone,
with no training: each label is written into a prompt, embedded by CLIP's text
tower, and each photo takes the label it is most similar to.

Here: COCO-mini's 80 photos, labelled with the ten most common object
categories. A prediction is a hit when the photo shows that category. The
baseline always answers the most common category.

**Weights.** mmsk never downloads at run time. The example uses
``openai/clip-vit-base-patch32`` when it is in the Hugging Face cache (or the
folder named by ``MMSK_CLIP_MODEL``). To get it, run once where there is a
network::

    huggingface-cli download openai/clip-vit-base-patch32

Without it, the example builds a tiny CLIP with random weights from a config,
so that every step still runs; its hit rate then means nothing, and the plot
says so. Needs the data folder (``MMSK_DATA`` or ``~/mmsk_data``) with
``coco_mini``.
"""

# %%
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from mmsk.datasets import load_coco_mini
from mmsk.extract import ClipEmbedder

MODEL = os.environ.get("MMSK_CLIP_MODEL", "openai/clip-vit-base-patch32")


def tiny_random_clip():
    """A CLIP with random weights, built from a config: the steps run, the answers are noise."""
    import torch
    from transformers import BertTokenizerFast, CLIPConfig, CLIPImageProcessor, CLIPModel

    folder = Path(tempfile.mkdtemp())
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "photo", "of"]
    (folder / "vocab.txt").write_text("\n".join(words))
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    tower = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    config = CLIPConfig(
        text_config=dict(tower, vocab_size=len(words), eos_token_id=3),
        vision_config=dict(tower, image_size=64, patch_size=16),
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    processor = CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    processor.save_pretrained(folder)
    return str(folder)


# %%
# The photo column and its categories.
coco = load_coco_mini()
photos = coco.frame["image"]
counts = coco.target.sum().sort_values(ascending=False)
labels = list(counts.index[:10])
print("labels:", labels)

# %%
# Embed the photos and classify them by label name.
try:
    clip = ClipEmbedder(MODEL, modality="image").fit(photos)
    real = True
except OSError as exc:
    print(f"{exc}\nUsing a tiny random CLIP instead: the steps run, the hit rate means nothing.")
    clip = ClipEmbedder(tiny_random_clip(), modality="image").fit(photos)
    real = False
predicted = clip.zero_shot_predict(photos, labels, template="a photo of a {}.")
hits = np.array([label in cats for label, cats in zip(predicted, coco.frame["categories"])])
baseline = np.array([labels[0] in cats for cats in coco.frame["categories"]])
print(f"zero-shot hit rate {hits.mean():.3f}; always {labels[0]!r}: {baseline.mean():.3f}")

# %%
# Hit rate with a 95% interval (normal approximation over the 80 photos).
fig, ax = plt.subplots(figsize=(7, 3))
names = [f"always '{labels[0]}' (baseline)", "CLIP zero-shot" + ("" if real else " (random tiny model)")]
rates = np.array([baseline.mean(), hits.mean()])
errors = 1.96 * np.sqrt(rates * (1 - rates) / len(hits))
ax.barh(names, rates, xerr=errors, color=["grey", "tab:blue"])
ax.set_xlim(0, 1)
ax.set_xlabel("share of photos showing the predicted category")
ax.set_title(f"Zero-shot on COCO-mini ({clip.model_ref_})", fontsize=9)
fig.tight_layout()
plt.show()
