"""TorchEncoder with small modules on real images and recordings."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from mmsk.datasets._base import BUNDLED_DIR
from mmsk.extract import ExtractionError, ImageToTensor, PadCrop, TorchEncoder

WAVS = sorted((BUNDLED_DIR / "fsdd" / "recordings").glob("*.wav"))


def _conv(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(),
    )


def test_image_encoder_equals_calling_the_module_by_hand():
    images = list(load_digits().images[:20])
    module = _conv()
    pre = ImageToTensor((16, 16), grayscale=True)
    enc = TorchEncoder(module, preprocess=pre, batch_size=7).fit(images)
    out = enc.transform(images)
    with torch.no_grad():
        batch = torch.as_tensor(np.stack([pre(_u8(i)) for i in images]))
        expected = module.eval()(batch).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert enc.get_feature_names_out()[:2].tolist() == ["enc_0", "enc_1"] and out.shape == (20, 32)


def _u8(img):
    """What the image reader makes of a digits array (0-16 values are kept as they are)."""
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def test_module_parameter_is_not_changed_and_weights_file_is_loaded(tmp_path):
    images = list(load_digits().images[:5])
    module = _conv(0)
    other = _conv(1)
    path = tmp_path / "weights.pt"
    torch.save(other.state_dict(), path)
    pre = ImageToTensor((8, 8), grayscale=True)
    enc = TorchEncoder(module, weights=path, preprocess=pre).fit(images)
    expected = TorchEncoder(other, preprocess=pre).fit_transform(images)
    np.testing.assert_allclose(enc.transform(images), expected, rtol=1e-6)
    assert torch.equal(module[0].weight, _conv(0)[0].weight)  # the parameter is untouched


def test_pickled_code_is_refused_as_weights(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(_conv(), path)  # a whole pickled module, not a state_dict
    with pytest.raises(ValueError, match="weights_only=True"):
        TorchEncoder(_conv(), weights=path, preprocess=ImageToTensor((8, 8), grayscale=True)).fit(
            list(load_digits().images[:2])
        )


def test_audio_encoder_on_real_recordings_separates_digits():
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, -1)),
        torch.nn.Conv1d(1, 16, 64, stride=32),
        torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool1d(4),
        torch.nn.Flatten(),
    )
    paths = pd.Series([str(p) for p in WAVS[:160]], name="clip")
    digits = [int(p.name[0]) for p in WAVS[:160]]
    enc = TorchEncoder(module, reader="audio", sr=8000, preprocess=PadCrop(6000), n_jobs=2)
    pipe = make_pipeline(enc, LogisticRegression(max_iter=2000))
    # random conv features are weak but real: far above the 10% chance level
    assert cross_val_score(pipe, paths, digits, cv=4).mean() > 0.3


def test_unequal_shapes_are_encoded_one_by_one_and_bad_files_are_clear(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    images = [np.zeros((8, 8)), np.full((12, 12), 9.0), np.full((8, 8), 3.0)]
    enc = TorchEncoder(_conv(), batch_size=4).fit(images[:1])
    together = enc.transform(images)  # the batch cannot be stacked: items go one at a time
    alone = np.vstack([enc.transform([img]) for img in images])
    np.testing.assert_allclose(together, alone, rtol=1e-6)
    # a module that needs one input size fails on the odd item, and the error names it
    fixed = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2))
    enc = TorchEncoder(fixed).fit(images[:1])
    with pytest.raises(ExtractionError, match=r"row 1 of the input, array of shape \(12, 12\)"):
        enc.transform(images)
    with pytest.raises(ExtractionError, match=r"row 1 of column 'img', file .*bad.png"):
        enc.transform(pd.DataFrame({"img": [np.zeros((8, 8)), str(bad)]}))


def test_missing_items_and_device():
    enc = TorchEncoder(_conv(), preprocess=ImageToTensor((8, 8), grayscale=True), device="auto")
    out = enc.fit_transform([np.zeros((8, 8)), None])
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()
    assert enc.device_ in ("cpu", "cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    images = list(load_digits().images[:16])
    pre = ImageToTensor((16, 16), grayscale=True)
    cpu = TorchEncoder(_conv(), preprocess=pre).fit_transform(images)
    gpu = TorchEncoder(_conv(), preprocess=pre, device="cuda").fit_transform(images)
    np.testing.assert_allclose(cpu, gpu, rtol=1e-4, atol=1e-5)
