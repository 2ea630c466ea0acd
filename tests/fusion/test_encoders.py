"""A view's own encoder in FusionClassifier: a conv net over AV-digits' mel spectrograms beside an MLP."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union, persist
from mmsk.datasets import bundled_data_home, load_av_digits
from mmsk.extract import AudioFeatures, ImageFeatures
from mmsk.fusion import FusionClassifier, SpectrogramEncoder

N_MELS, N_FRAMES = 20, 24


@pytest.fixture(scope="module")
def av_digits():
    """The bundled AV-digits subset (480 rows): mel frames of each clip and the image's pixels."""
    av = load_av_digits(bundled_data_home())
    union = make_modality_union(
        audio=(
            "audio",
            AudioFeatures(
                sr=8000, n_fft=512, hop_length=128, output="mel_frames", n_mels=N_MELS, n_frames=N_FRAMES
            ),
        ),
        image=("image", ImageFeatures(features=("pixels",), size=(8, 8))),
    )
    F = StandardScaler().set_output(transform="pandas").fit_transform(union.fit_transform(av.data))
    return F, av.target.to_numpy(), av.groups.to_numpy()


def conv_net(**params):
    defaults = {"module__encoders__audio__n_mels": N_MELS, "module__encoders__audio__channels": 4}
    return FusionClassifier(
        encoders={"audio": SpectrogramEncoder},
        max_epochs=4,
        lr=3e-3,
        random_state=0,
        **{**defaults, **params},
    )


def test_conv_encoder_searched_by_grid_search_and_saved(av_digits, tmp_path):
    F, y, groups = av_digits
    search = GridSearchCV(
        conv_net(), {"module__encoders__audio__channels": [2, 4]}, cv=GroupKFold(n_splits=2)
    ).fit(F, y, groups=groups)
    assert len(search.cv_results_["params"]) == 2
    best = search.best_estimator_
    channels = best.get_params()["module__encoders__audio__channels"]
    audio_encoder, image_encoder = best.net_.module_.encoders
    assert isinstance(audio_encoder, SpectrogramEncoder)
    assert audio_encoder.conv[0].out_channels == channels  # the searched value reached the module
    assert type(image_encoder[0]).__name__ == "Linear"  # the image view keeps the built-in MLP
    proba = best.predict_proba(F)
    assert best.score(F, y) > 0.3  # 10 classes: learning, not chance
    copy = clone(best)
    assert copy.get_params()["module__encoders__audio__channels"] == channels
    assert copy.encoders == {"audio": SpectrogramEncoder}
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(best)).predict_proba(F), proba)
    path = persist.save(best, tmp_path / "conv.skops")
    np.testing.assert_array_equal(persist.load(path).predict_proba(F), proba)
    X_missing = F.copy()
    X_missing.loc[X_missing.index[:50], X_missing.columns.str.startswith("audio__")] = np.nan
    assert np.isfinite(best.predict_proba(X_missing)).all()


def test_encoder_mistakes_are_named(av_digits):
    F, y, _ = av_digits
    F, y = F.iloc[:60], y[:60]
    with pytest.raises(ValueError, match=r"encoders names view\(s\) \['sound'\]"):
        FusionClassifier(encoders={"sound": SpectrogramEncoder}, max_epochs=1).fit(F, y)
    with pytest.raises(TypeError, match=r"encoders\['audio'\] must be a torch.nn.Module class"):
        FusionClassifier(encoders={"audio": "conv"}, max_epochs=1).fit(F, y)
    with pytest.raises(ValueError, match="module__encoders__image__depth sets an argument of view 'image'"):
        conv_net(module__encoders__image__depth=2).fit(F, y)
    with pytest.raises(ValueError, match="not a multiple of n_mels=7"):
        conv_net(module__encoders__audio__n_mels=7).fit(F, y)
    with pytest.raises(
        ValueError, match=r"encoder of view 'image' maps 2 rows of 64 columns to shape \(2, 3\)"
    ):
        FusionClassifier(encoders={"image": lambda n, embed: _Linear(n, 3)}, max_epochs=1).fit(F, y)


def _Linear(n, out):
    import torch

    return torch.nn.Linear(n, out)
