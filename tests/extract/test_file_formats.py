"""File formats: what the extractors read from paths is what table detection calls a media column.

Real files: COCO-mini photos saved as GIFs (one still, one animated), FSDD recordings.
"""

import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mmsk.auto import detect_modalities
from mmsk.datasets import bundled_data_home
from mmsk.extract import AudioFeatures, ImageFeatures, VideoFeatures

WAV = sorted((bundled_data_home() / "fsdd" / "recordings").glob("*.wav"))[0]


@pytest.fixture(scope="module")
def photos(shared_data):
    return sorted((shared_data / "coco_mini" / "train2017").glob("*.jpg"))[:2]


def test_a_gif_is_read_through_pil_as_its_first_frame(photos, tmp_path):
    first, second = (Image.open(p).convert("RGB").resize((64, 48)) for p in photos)
    still, animated = tmp_path / "still.gif", tmp_path / "animated.gif"
    first.save(still)
    first.save(animated, save_all=True, append_images=[second], duration=100)
    expected = np.asarray(Image.open(still).convert("RGB"))
    assert Image.open(animated).n_frames == 2

    extractor = ImageFeatures(features=("pixels", "color_hist"), size=(48, 64)).fit([str(still)])
    from_files = extractor.transform([str(still), str(animated)])
    from_array = extractor.transform([expected])
    np.testing.assert_allclose(from_files[0], from_array[0])
    np.testing.assert_allclose(from_files[1], from_array[0])  # the animation's first frame
    second_frame = np.asarray(second.quantize().convert("RGB"))
    assert not np.allclose(from_files[1], extractor.transform([second_frame])[0])


def test_a_truncated_gif_is_an_error_naming_the_file(photos, tmp_path):
    path = tmp_path / "cut.gif"
    Image.open(photos[0]).convert("RGB").save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.gif.*GIF"):
        ImageFeatures(features=("pixels",)).fit_transform([str(path)])


def test_detection_calls_media_only_what_an_extractor_reads(tmp_path):
    for extractor, modality in [(AudioFeatures, "audio"), (ImageFeatures, "image"), (VideoFeatures, "video")]:
        for suffix in extractor.file_suffixes:
            column = pd.Series([f"clip_{i}{suffix.upper() if i % 2 else suffix}" for i in range(20)])
            found = detect_modalities(pd.DataFrame({"c": column}))
            assert found["modality"].iloc[0] == modality, (suffix, found["why"].iloc[0])


def test_m4a_is_refused_alike_by_detection_and_the_audio_extractor(tmp_path):
    paths = []
    for i in range(12):  # real recordings under a name whose format libsndfile cannot decode
        path = tmp_path / f"take_{i}.m4a"
        shutil.copyfile(WAV, path)
        paths.append(str(path))
    found = detect_modalities(pd.DataFrame({"clip": paths, "y": range(12)}), exclude=["y"])
    row = found.set_index("column").loc["clip"]
    assert row["modality"] is None
    assert "cannot read (.m4a)" in row["why"] and ".wav" in row["why"]
    with pytest.raises(ValueError, match=r"take_0\.m4a.*unsupported extension '\.m4a'"):
        AudioFeatures(sr=8000).fit_transform(paths[:1])
