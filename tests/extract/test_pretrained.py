"""Pretrained Hugging Face encoders as extractors, on tiny models built from configs and loaded by path."""

import pickle
import shutil
import sys

import _tiny_hf
import numpy as np
import pytest
import torch
import transformers as tf
from sklearn.base import clone

from mmsk import persist
from mmsk.extract import AudioEmbedder, ClipEmbedder, ImageEmbedder, TextEmbedder

TOL = dict(rtol=1e-5, atol=1e-5)


def images(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(24 + 4 * i, 30, 3), dtype=np.uint8) for i in range(n)]


def clips(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=8000 + 1000 * i).astype(np.float32) for i in range(n)]


TEXTS = ["a dog on the street", "a cat", "the man sitting with a woman in a room", "photo of a car"]


def _model(kind, cls):
    return getattr(tf, cls).from_pretrained(_tiny_hf.folder(kind)).eval()


# ------------------------------------------------------------------ against a hand-written forward pass
@pytest.mark.parametrize("pooling", ["cls", "mean", "pooler"])
def test_image_embeddings_equal_the_model_run_by_hand(pooling):
    path = _tiny_hf.folder("vit")
    model, processor = _model("vit", "ViTModel"), tf.ViTImageProcessor.from_pretrained(path)
    with torch.no_grad():
        out = model(**processor(images=images(), return_tensors="pt"))
    expected = {
        "cls": out.last_hidden_state[:, 0],
        "mean": out.last_hidden_state.mean(dim=1),
        "pooler": out.pooler_output,
    }[pooling].numpy()
    np.testing.assert_allclose(ImageEmbedder(path, pooling=pooling).fit_transform(images()), expected, **TOL)


def test_image_embedder_pools_the_layer_asked_for():
    path = _tiny_hf.folder("vit")
    model, processor = _model("vit", "ViTModel"), tf.ViTImageProcessor.from_pretrained(path)
    with torch.no_grad():
        hidden = model(
            **processor(images=images(), return_tensors="pt"), output_hidden_states=True
        ).hidden_states
    got = ImageEmbedder(path, pooling="mean", layer=1).fit_transform(images())
    np.testing.assert_allclose(got, hidden[1].mean(dim=1).numpy(), **TOL)


def test_text_embeddings_equal_the_masked_mean_by_hand():
    path = _tiny_hf.folder("bert")
    model, tokenizer = _model("bert", "BertModel"), tf.AutoTokenizer.from_pretrained(path)
    expected = []
    with torch.no_grad():
        for text in TEXTS:  # one at a time: no padding at all
            expected.append(model(**tokenizer([text], return_tensors="pt")).last_hidden_state[0].mean(dim=0))
    got = TextEmbedder(path).fit_transform(TEXTS + [None, "  "])
    np.testing.assert_allclose(got[:4], torch.stack(expected).numpy(), **TOL)
    assert np.isnan(got[4:]).all()  # a missing or blank text is a missing modality


def test_audio_embeddings_equal_the_model_run_by_hand_with_windows():
    path = _tiny_hf.folder("wav2vec2")
    model, extractor = _model("wav2vec2", "Wav2Vec2Model"), tf.AutoFeatureExtractor.from_pretrained(path)
    long_clip = np.random.default_rng(1).normal(size=40000).astype(np.float32)  # 2.5 s at 16 kHz
    frames = []
    with torch.no_grad():
        for part in np.array_split(long_clip, 3):  # window=1.0 s: three equal windows
            inputs = extractor([part], sampling_rate=16000, return_tensors="pt")
            frames.append(model(**inputs).last_hidden_state[0])
    expected = torch.cat(frames).mean(dim=0).numpy()
    got = AudioEmbedder(path, window=1.0).fit_transform([long_clip])
    np.testing.assert_allclose(got[0], expected, **TOL)


def test_clip_embeddings_are_the_models_normalised_features():
    path = _tiny_hf.folder("clip")
    model = _model("clip", "CLIPModel")
    processor, tokenizer = tf.CLIPImageProcessor.from_pretrained(path), tf.AutoTokenizer.from_pretrained(path)
    with torch.no_grad():
        image = model.get_image_features(**processor(images=images(), return_tensors="pt"))
        text = model.get_text_features(**tokenizer(TEXTS, padding=True, return_tensors="pt"))
    image, text = (getattr(t, "pooler_output", t) for t in (image, text))
    E_image = ClipEmbedder(path).fit_transform(images())
    E_text = ClipEmbedder(path, modality="text").fit_transform(TEXTS)
    np.testing.assert_allclose(E_image, torch.nn.functional.normalize(image, dim=-1).numpy(), **TOL)
    np.testing.assert_allclose(E_text, torch.nn.functional.normalize(text, dim=-1).numpy(), **TOL)


# ------------------------------------------------------------------ contract
EMBEDDERS = {
    "image": (lambda: ImageEmbedder(_tiny_hf.folder("vit")), images),
    "audio": (lambda: AudioEmbedder(_tiny_hf.folder("wav2vec2")), clips),
    "text": (lambda: TextEmbedder(_tiny_hf.folder("bert")), lambda: TEXTS),
    "clip-image": (lambda: ClipEmbedder(_tiny_hf.folder("clip")), images),
    "clip-text": (lambda: ClipEmbedder(_tiny_hf.folder("clip"), modality="text"), lambda: TEXTS),
}


@pytest.mark.parametrize("name", sorted(EMBEDDERS))
def test_output_does_not_depend_on_batch_size(name):
    make, data = EMBEDDERS[name]
    one = make().set_params(batch_size=1).fit_transform(data())
    many = make().set_params(batch_size=3).fit_transform(data())
    np.testing.assert_allclose(many, one, **TOL)


@pytest.mark.parametrize("name", sorted(EMBEDDERS))
def test_clone_pickle_and_skops_round_trips(name, tmp_path):
    make, data = EMBEDDERS[name]
    emb = make().fit(data())
    expected = emb.transform(data())
    assert emb.get_feature_names_out()[:2].tolist() == ["e0", "e1"]
    assert clone(emb).get_params() == emb.get_params()
    blob = pickle.dumps(emb)
    assert len(blob) < 20_000  # the reference and a digest, not the weights
    np.testing.assert_allclose(pickle.loads(blob).transform(data()), expected, **TOL)
    restored = persist.load(persist.save(emb, tmp_path / "emb.skops"))
    np.testing.assert_allclose(restored.transform(data()), expected, **TOL)
    frame = clone(emb).set_output(transform="pandas").fit(data()).transform(data())
    assert list(frame.columns[:2]) == ["e0", "e1"]


def test_a_moved_or_changed_model_is_refused_after_unpickling(tmp_path):
    folder = tmp_path / "vit"
    shutil.copytree(_tiny_hf.folder("vit"), folder)
    blob = pickle.dumps(ImageEmbedder(folder).fit(images(2)))
    model = tf.ViTModel.from_pretrained(folder)
    with torch.no_grad():
        model.pooler.dense.bias += 1.0
    model.save_pretrained(folder)
    with pytest.raises(ValueError, match="is not the one this estimator was fitted with"):
        pickle.loads(blob).transform(images(2))
    shutil.rmtree(folder)
    with pytest.raises(FileNotFoundError, match="which is gone"):
        pickle.loads(blob).transform(images(2))


def test_a_model_folder_is_read_once_per_process_until_it_is_saved_again(tmp_path):
    """Each fold's feature stage fits the embedder again: the model is not read again each time."""
    folder = tmp_path / "vit"
    shutil.copytree(_tiny_hf.folder("vit"), folder)
    first = ImageEmbedder(folder).fit(images(2))
    again = ImageEmbedder(folder, pooling="mean").fit(images(2))
    assert again._get()[0] is first._get()[0]
    model = tf.ViTModel.from_pretrained(folder)
    with torch.no_grad():
        model.pooler.dense.bias += 1.0
    model.save_pretrained(folder)
    changed = ImageEmbedder(folder).fit(images(2))
    assert changed._get()[0] is not first._get()[0]
    assert changed.model_digest_ != first.model_digest_
    assert not np.allclose(changed.transform(images(2)), first.transform(images(2)))


def test_missing_folder_and_unavailable_hub_name_say_how_to_get_the_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        ImageEmbedder(str(tmp_path / "nowhere")).fit(images(1))
    with pytest.raises(
        OSError, match=r"'someone/not-a-cached-model' is not available.*huggingface-cli download"
    ):
        TextEmbedder("someone/not-a-cached-model").fit(TEXTS)
    with pytest.raises(ValueError, match="not a joint image-text model"):
        ClipEmbedder(_tiny_hf.folder("vit")).fit(images(1))


def test_unreadable_images_follow_on_error(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    column = [images(1)[0], str(bad), None]
    with pytest.raises(ValueError, match=r"row 1.*broken.png"):
        ImageEmbedder(_tiny_hf.folder("vit")).fit_transform(column)
    with pytest.warns(UserWarning, match="could not"):
        out = ImageEmbedder(_tiny_hf.folder("vit"), on_error="nan").fit_transform(column)
    assert np.isfinite(out[0]).all() and np.isnan(out[1:]).all()


def test_zero_shot_classification_from_label_names():
    clip = ClipEmbedder(_tiny_hf.folder("clip")).fit(images())
    proba = clip.zero_shot_proba(images(), ["dog", "cat", "car"], template="a photo of a {}")
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clip.zero_shot_predict(images(), ["dog", "cat"])) <= {"dog", "cat"}
    with pytest.raises(ValueError, match="modality='image'"):
        ClipEmbedder(_tiny_hf.folder("clip"), modality="text").fit(TEXTS).zero_shot_proba(TEXTS, ["a", "b"])


def test_the_transformers_path_needs_no_torchvision():
    ImageEmbedder(_tiny_hf.folder("vit")).fit_transform(images(2))
    ClipEmbedder(_tiny_hf.folder("clip")).fit_transform(images(2))
    assert "torchvision" not in sys.modules
