"""Tiny Hugging Face models built from configs (random weights), saved like real ones, for offline tests.

``folder(kind)`` builds the model once in a temporary folder and returns it:
``"vit"``, ``"clip"``, ``"wav2vec2"`` or ``"bert"``. Each holds the model and
its processor or tokenizer, as ``save_pretrained`` writes them.
"""

import hashlib
import inspect
import os
import shutil
import tempfile
from pathlib import Path

import torch

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (
    "a the of photo dog cat person man woman on in with sitting standing street car table room ##s".split()
)
TOWER = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)

_BUILT = {}


def _tokenizer(path):
    from transformers import BertTokenizerFast

    (path / "vocab.txt").write_text("\n".join(WORDS))
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)


def _build(kind, path):
    import transformers as tf

    torch.manual_seed(0)
    if kind == "vit":
        tf.ViTModel(tf.ViTConfig(**TOWER, image_size=32, patch_size=8)).save_pretrained(path)
        tf.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    elif kind == "clip":
        config = tf.CLIPConfig(
            text_config=dict(TOWER, vocab_size=len(WORDS), max_position_embeddings=64, eos_token_id=3),
            vision_config=dict(TOWER, image_size=32, patch_size=8),
            projection_dim=8,
        )
        tf.CLIPModel(config).save_pretrained(path)
        tf.CLIPImageProcessor(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ).save_pretrained(path)
        _tokenizer(path)
    elif kind == "wav2vec2":
        config = tf.Wav2Vec2Config(
            **TOWER, conv_dim=(16, 16), conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=2,
        )  # fmt: skip
        tf.Wav2Vec2Model(config).save_pretrained(path)
        tf.Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(path)
    elif kind == "bert":
        tf.BertModel(
            tf.BertConfig(**TOWER, vocab_size=len(WORDS), max_position_embeddings=64)
        ).save_pretrained(path)
        _tokenizer(path)
    else:
        raise ValueError(kind)


def folder(kind):
    """The folder of the tiny ``kind`` model, built once per machine and shared by test processes.

    Its name is fixed (test ids that show it must agree between pytest-xdist
    workers); each process builds into a private folder and renames it into
    place, so concurrent builders never see a half-written model.
    """
    if kind not in _BUILT:
        import transformers
        from transformers.utils import logging

        recipe = hashlib.sha1(inspect.getsource(_build).encode()).hexdigest()[
            :8
        ]  # a new recipe, a new folder
        root = (
            Path(tempfile.gettempdir()) / f"mmsk-tiny-hf-{os.getuid()}-tf{transformers.__version__}-{recipe}"
        )
        final = root / kind
        if not final.is_dir():
            root.mkdir(parents=True, exist_ok=True)
            logging.disable_progress_bar()
            work = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=root))
            _build(kind, work)
            try:
                os.rename(work, final)
            except OSError:  # another process renamed its copy first
                shutil.rmtree(work, ignore_errors=True)
        _BUILT[kind] = final
    return str(_BUILT[kind])
