"""Pretrained encoders: ImageEmbedder / AudioEmbedder against the bare ``model(**processor(batch))`` loop.

Random-weight models built from configs of real sizes (a ViT-Small-like image
model, a 4-layer wav2vec 2.0 base), since no weights can be downloaded here:
throughput does not depend on the weights. Both sides read the same files:
COCO-mini's 80 photos and 240 FSDD recordings. The bare image loop decodes with
PIL and runs the processor and the model on batches of 32; the bare audio
loop reads with soundfile, resamples with librosa and runs one clip at a time
(what AudioEmbedder does for recordings of different lengths: no padding, so a
clip's embedding does not depend on its batch), and also, for reference, on
zero-padded batches of 32. Goal: the embedders within 10% of the bare loop on
the CPU. On CUDA, also in half precision.

Run: ``python benchmarks/encoders.py`` (``--repeats``). Writes benchmarks/RESULTS.md.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import best_of, machine, table, write_section  # noqa: E402

BATCH = 32


def build_models(root):
    import torch
    import transformers as tf

    torch.manual_seed(0)
    vit = root / "vit"
    tf.ViTModel(
        tf.ViTConfig(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536)
    ).save_pretrained(vit)
    tf.ViTImageProcessor().save_pretrained(vit)
    w2v = root / "wav2vec2"
    tf.Wav2Vec2Model(tf.Wav2Vec2Config(num_hidden_layers=4)).save_pretrained(w2v)
    tf.Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(w2v)
    return str(vit), str(w2v)


def bare_images(paths, folder, device):
    import torch
    import transformers as tf
    from PIL import Image

    model = tf.AutoModel.from_pretrained(folder).to(device).eval()
    processor = tf.AutoImageProcessor.from_pretrained(folder)
    out = []
    with torch.inference_mode():
        for i in range(0, len(paths), BATCH):
            batch = [Image.open(p).convert("RGB") for p in paths[i : i + BATCH]]
            inputs = processor(images=batch, return_tensors="pt").to(device)
            out.append(model(**inputs).pooler_output.cpu().numpy())
    return np.concatenate(out)


def bare_audio(paths, folder, device, padded):
    import librosa
    import soundfile as sf
    import torch
    import transformers as tf

    model = tf.AutoModel.from_pretrained(folder).to(device).eval()
    extractor = tf.AutoFeatureExtractor.from_pretrained(folder)
    waves = []
    for p in paths:
        y, sr = sf.read(p, dtype="float32")
        waves.append(librosa.resample(y, orig_sr=sr, target_sr=16000))
    out = []
    size = BATCH if padded else 1
    with torch.inference_mode():
        for i in range(0, len(waves), size):
            inputs = extractor(waves[i : i + size], sampling_rate=16000, return_tensors="pt", padding=True)
            out.append(model(**inputs.to(device)).last_hidden_state.mean(dim=1).cpu().numpy())
    return np.concatenate(out)


def _goal(goal, t_mmsk, t_bare):
    return {
        "goal": goal,
        "measured": f"{t_mmsk / t_bare - 1:+.1%}",
        "met": "yes" if t_mmsk <= 1.1 * t_bare else "NO",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clips", type=int, default=240)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    import torch

    from mmsk.datasets import load_av_digits, load_coco_mini
    from mmsk.extract import AudioEmbedder, ImageEmbedder

    vit, w2v = build_models(Path(tempfile.mkdtemp()))
    photos = load_coco_mini().frame["image"].tolist()
    recordings = load_av_digits().data["audio"].tolist()[: args.clips]
    rows, goals = [], []
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        precisions = ["float32"] + (["float16"] if device == "cuda" else [])
        for precision in precisions:
            emb = ImageEmbedder(vit, pooling="pooler", batch_size=BATCH, device=device, precision=precision)
            emb.fit(photos[:1])
            t_mmsk, _ = best_of(lambda e=emb: e.transform(photos), args.repeats)
            t_bare, _ = (None, None) if precision != "float32" else best_of(
                lambda: bare_images(photos, vit, device), args.repeats
            )  # fmt: skip
            rows.append(
                {"data": "COCO-mini photos", "device": device, "precision": precision,
                 "mmsk items/s": len(photos) / t_mmsk,
                 "bare loop items/s": "" if t_bare is None else len(photos) / t_bare}
            )  # fmt: skip
            if t_bare is not None:
                goals.append(
                    _goal(f"ImageEmbedder overhead over the bare loop <= 10% ({device})", t_mmsk, t_bare)
                )
            emb = AudioEmbedder(w2v, batch_size=BATCH, device=device, precision=precision).fit(recordings[:1])
            t_mmsk, _ = best_of(lambda e=emb: e.transform(recordings), args.repeats)
            row = {"data": f"FSDD recordings ({len(recordings)})", "device": device, "precision": precision,
                   "mmsk items/s": len(recordings) / t_mmsk}  # fmt: skip
            if precision == "float32":
                t_one, _ = best_of(lambda: bare_audio(recordings, w2v, device, padded=False), args.repeats)
                t_pad, _ = best_of(lambda: bare_audio(recordings, w2v, device, padded=True), args.repeats)
                row["bare loop items/s"] = len(recordings) / t_one
                row["bare loop, padded batches, items/s"] = len(recordings) / t_pad
                goals.append(
                    _goal(
                        f"AudioEmbedder overhead over the bare one-clip loop <= 10% ({device})", t_mmsk, t_one
                    )
                )
            rows.append(row)
    columns = [
        "data",
        "device",
        "precision",
        "mmsk items/s",
        "bare loop items/s",
        "bare loop, padded batches, items/s",
    ]
    body = "\n\n".join(
        [
            "## Pretrained encoders (`benchmarks/encoders.py`)",
            f"Machine: {machine()}. Random-weight models of real sizes built from configs (ViT-Small: 12 "
            "layers, width 384, 224x224 input; wav2vec 2.0 base with 4 layers); best of "
            f"{args.repeats} runs; batches of {BATCH}. Both sides read the files. The bare audio loop "
            "runs one clip at a time, as AudioEmbedder does for clips of different lengths (padding a "
            "batch changes each clip's embedding); the padded-batch loop is shown for reference.",
            table(rows, columns),
            table(goals, ["goal", "measured", "met"]),
            ""
            if "cuda" in devices
            else "No GPU on this machine: the GPU speed-up and half precision were not measured.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("encoders", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
