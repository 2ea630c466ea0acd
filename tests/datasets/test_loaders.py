"""Loaders on the real data in ../shared/data, the bundled subset, and bad data folders."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from mmsk import sequence_arrays
from mmsk.datasets import (
    get_data_home,
    load_av_digits,
    load_coco_mini,
    load_mfeat,
    load_pom,
    make_multimodal_classification,
    train_test_split_by_speaker,
)
from mmsk.datasets._base import BUNDLED_DIR


def test_load_mfeat(shared_data):
    mfeat = load_mfeat(shared_data)
    assert mfeat.data.shape == (2000, 649)
    assert list(mfeat.views) == ["fou", "fac", "kar", "pix", "zer", "mor"]
    assert mfeat.data.columns[0] == "fou__0" and mfeat.data.columns[-1] == "mor__5"
    assert np.bincount(mfeat.target).tolist() == [200] * 10
    X, y = load_mfeat(shared_data, views=["kar", "mor"], return_X_y=True)
    assert X.shape == (2000, 70)


def test_load_av_digits_pairs_images_of_the_same_digit(shared_data):
    av = load_av_digits(shared_data)
    assert av.source == "data_home" and len(av.data) == 3000
    digits = load_digits()
    np.testing.assert_array_equal(digits.target[av.frame["image_index"]], av.target)
    first = av.frame.iloc[0]
    np.testing.assert_array_equal(first["image"], digits.images[first["image_index"]])
    # disjoint image pools per speaker: a speaker split is image-independent too
    pools = av.frame.groupby("speaker")["image_index"].apply(set)
    assert all(not (pools[a] & pools[b]) for a in pools.index for b in pools.index if a < b)
    again = load_av_digits(shared_data)
    np.testing.assert_array_equal(again.frame["image_index"], av.frame["image_index"])


def test_bundled_subset_matches_full_pairing(shared_data, no_data_folder):
    full = load_av_digits(shared_data)
    bundled = load_av_digits()
    assert bundled.source == "bundled" and len(bundled.data) == 480
    assert set(bundled.groups) == set(full.groups)
    assert str(BUNDLED_DIR) in bundled.data["audio"].iloc[0]
    merged = bundled.frame.merge(full.frame, on=["speaker", "digit", "take"])
    np.testing.assert_array_equal(merged["image_index_x"], merged["image_index_y"])


def test_bundled_subset_works_with_no_data_folder(no_data_folder):
    assert get_data_home() == no_data_folder / "mmsk_data"
    av = load_av_digits()
    assert av.source == "bundled"
    assert av.frame.groupby("speaker").size().tolist() == [80] * 6
    assert (BUNDLED_DIR / "fsdd" / "LICENSE.txt").is_file()


def test_speaker_split_is_speaker_independent():
    av = load_av_digits(BUNDLED_DIR)
    X_tr, X_te, y_tr, y_te = train_test_split_by_speaker(av, n_test_speakers=2, random_state=1)
    train_speakers = set(av.groups[X_tr.index])
    test_speakers = set(av.groups[X_te.index])
    assert len(test_speakers) == 2 and not train_speakers & test_speakers
    assert len(X_tr) + len(X_te) == len(av.data)
    with pytest.raises(ValueError, match="Unknown speaker"):
        train_test_split_by_speaker(av, test_speakers=["nobody"])
    with pytest.raises(ValueError, match="every speaker"):
        train_test_split_by_speaker(av, test_speakers=sorted(set(av.groups)))


def test_load_coco_mini(shared_data):
    coco = load_coco_mini(shared_data)
    assert len(coco.frame) == 80 and len(coco.captions) == 400
    assert coco.frame["captions"].map(len).eq(5).all()
    assert coco.target.shape[0] == 80 and set(coco.target.columns) == set(coco.target_names)
    row = coco.frame.iloc[0]
    assert all(coco.target.loc[0, c] == 1 for c in row["categories"])


@pytest.mark.parametrize("pooling, width", [("mean", 84), ("mean_std", 168), ("sequence", 1680)])
def test_load_pom(shared_data, pooling, width):
    pom = load_pom(shared_data, split="test", pooling=pooling)
    assert pom.data.shape == (203, width) and pom.target.shape == (203, 17)
    assert pom.sequences["audio"].shape == (203, 20, 43)
    if pooling == "mean":
        np.testing.assert_allclose(pom.data["video__f3_mean"], pom.sequences["video"][:, :, 3].mean(1))
    if pooling == "sequence":  # sequence views: the arrays come back whole
        assert pom.data.columns[43] == "audio__t01_f0"
        back = sequence_arrays(pom.data)
        np.testing.assert_array_equal(back["audio"], pom.sequences["audio"])
        np.testing.assert_array_equal(back["video"], pom.sequences["video"])


def test_make_multimodal_classification():
    X, y, views, latent = make_multimodal_classification(
        n_samples=120,
        n_views=3,
        n_features=[4, 5, 6],
        n_classes=3,
        missing_rate=0.5,
        as_frame=False,
        return_latent=True,
        random_state=0,
    )
    assert X.shape == (120, 15) and set(y) == {0, 1, 2}
    missing = np.column_stack([np.isnan(X[:, idx]).all(axis=1) for idx in views.values()])
    assert missing.any() and not missing.all(axis=1).any()
    partial = np.column_stack([np.isnan(X[:, idx]).any(axis=1) for idx in views.values()])
    np.testing.assert_array_equal(missing, partial)
    assert latent["shared"].shape == (120, 2)
    with pytest.raises(ValueError, match="one entry per view"):
        make_multimodal_classification(n_views=2, n_features=[3])


# ----------------------------------------------------------------------------- bad input


def test_wrong_data_home_names_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=f"{missing}.*does not exist.*uci_mfeat/"):
        load_mfeat(missing)
    with pytest.raises(FileNotFoundError, match=r"No uci_mfeat/ data set in"):
        load_mfeat(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_av_digits(missing)  # an explicit folder never falls back to the bundled data


def test_no_data_folder_says_both_ways_to_provide_the_data(no_data_folder):
    with pytest.raises(FileNotFoundError) as error:
        load_mfeat()
    message = str(error.value)
    assert str(no_data_folder / "mmsk_data" / "uci_mfeat") in message
    assert "data_home=" in message and "MMSK_DATA" in message


def test_per_user_folder_is_read_when_nothing_else_is_set(shared_data, no_data_folder):
    (no_data_folder / "mmsk_data").mkdir()
    (no_data_folder / "mmsk_data" / "fsdd").symlink_to(shared_data / "fsdd")
    av = load_av_digits()
    assert av.source == "data_home" and len(av.data) == 3000


def test_library_never_looks_for_the_developers_data_layout():
    import mmsk

    root = Path(mmsk.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"""shared["']?\s*/\s*["']?data|\.\./shared""", path.read_text())
    ]
    assert offenders == []


def test_env_variable_is_used_and_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("MMSK_DATA", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match="MMSK_DATA"):
        load_coco_mini()


def test_missing_file_names_the_path(shared_data, tmp_path):
    shutil.copytree(shared_data / "uci_mfeat", tmp_path / "uci_mfeat")
    (tmp_path / "uci_mfeat" / "mfeat-zer.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"mfeat-zer.csv.*incomplete"):
        load_mfeat(tmp_path)


def test_malformed_csv_names_the_path(shared_data, tmp_path):
    shutil.copytree(shared_data / "uci_mfeat", tmp_path / "uci_mfeat")
    bad = tmp_path / "uci_mfeat" / "mfeat-mor.csv"
    lines = bad.read_text().splitlines()
    bad.write_text("\n".join(lines[:100]) + "\n")
    with pytest.raises(ValueError, match=r"Malformed mfeat file .*mfeat-mor.csv.*expected \(2000, 7\)"):
        load_mfeat(tmp_path)
    bad.write_text("\n".join(lines[:1] + ["x,y,z,1,2,3,4"] + lines[2:]) + "\n")
    with pytest.raises(ValueError, match=r"mfeat-mor.csv.*finite numbers"):
        load_mfeat(tmp_path)


def test_malformed_json_and_h5_name_the_path(shared_data, tmp_path):
    shutil.copytree(shared_data / "coco_mini" / "annotations", tmp_path / "coco_mini" / "annotations")
    (tmp_path / "coco_mini" / "train2017").mkdir()
    cap = tmp_path / "coco_mini" / "annotations" / "captions_train2017.json"
    cap.write_text('{"images": [')
    with pytest.raises(ValueError, match=r"Malformed JSON file .*captions_train2017.json"):
        load_coco_mini(tmp_path)
    cap.write_text('{"licenses": []}')
    with pytest.raises(ValueError, match=r"captions_train2017.json.*no 'images' list"):
        load_coco_mini(tmp_path)
    pom = tmp_path / "cmu_pom"
    shutil.copytree(shared_data / "cmu_pom", pom)
    (pom / "audio_test.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match=r"Malformed POM file .*audio_test.h5.*HDF5"):
        load_pom(tmp_path, split="test")


def test_unexpected_fsdd_file_name(tmp_path):
    rec = tmp_path / "fsdd" / "recordings"
    rec.mkdir(parents=True)
    shutil.copy(BUNDLED_DIR / "fsdd" / "recordings" / "0_theo_0.wav", rec / "zero-theo.wav")
    with pytest.raises(ValueError, match=r"Unexpected file name.*zero-theo.wav"):
        load_av_digits(tmp_path)
