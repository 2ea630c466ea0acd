"""Pretrained encoders on real files (COCO-mini photos and captions, FSDD) beside classical features.

The models are tiny and random (built from configs, nothing downloaded), so
these tests check the plumbing on real files under GridSearchCV, not accuracy.
"""

import _tiny_hf
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mmsk import make_modality_union
from mmsk.datasets import bundled_data_home, load_av_digits, load_coco_mini
from mmsk.extract import AudioEmbedder, AudioFeatures, ClipEmbedder, ImageEmbedder, ImageFeatures
from mmsk.metrics import make_retrieval_scorer


def test_coco_photos_through_a_clip_image_tower_beside_colour_histograms(shared_data, tmp_path):
    coco = load_coco_mini(data_home=shared_data)
    has_person = coco.frame["categories"].map(lambda c: "person" in c).to_numpy()
    union = make_modality_union(
        clip=("image", ImageEmbedder(_tiny_hf.folder("clip"), cache=tmp_path)),
        colour=("image", ImageFeatures(features=("color_hist",), cache=tmp_path)),
    )
    pipe = make_pipeline(union, StandardScaler(), LogisticRegression(max_iter=2000))
    grid = {
        "modalityunion__clip__pooling": ["cls", "mean"],
        "logisticregression__C": [0.1, 1.0],
    }
    search = GridSearchCV(pipe, grid, cv=3).fit(coco.frame[["image"]], has_person)
    assert len(search.cv_results_["params"]) == 4 and np.isfinite(search.cv_results_["mean_test_score"]).all()
    features = search.best_estimator_[0].transform(coco.frame[["image"]])
    assert features.shape == (80, 16 + 128) and np.isfinite(features.to_numpy()).all()
    assert features.columns[0] == "clip__e0" and features.columns[16] == "colour__hsv_0_0_0"


def test_coco_photos_and_captions_in_one_clip_space_are_scored_as_retrieval(shared_data):
    coco = load_coco_mini(data_home=shared_data)
    table = coco.captions.groupby("image_id").first().reset_index()  # one caption per photo
    clip = _tiny_hf.folder("clip")
    union = make_modality_union(
        image=("image", ClipEmbedder(clip, modality="image")),
        text=("caption", ClipEmbedder(clip, modality="text")),
    ).fit(table)
    Z = union.transform(table)
    assert Z.shape == (80, 16)
    np.testing.assert_allclose(np.linalg.norm(Z.filter(like="image__"), axis=1), 1.0, rtol=1e-6)
    recall = make_retrieval_scorer("recall@5")(union, table)
    assert 0.0 <= recall <= 1.0


def test_fsdd_recordings_through_wav2vec2_beside_mfcc_statistics(tmp_path):
    av = load_av_digits(bundled_data_home())
    rows = av.frame.groupby("speaker").head(20).index  # 20 clips of each of the 6 speakers
    X, y, groups = av.data.loc[rows, ["audio"]], av.target[rows], av.groups[rows]
    union = make_modality_union(
        speech=("audio", AudioEmbedder(_tiny_hf.folder("wav2vec2"), cache=tmp_path)),
        mfcc=("audio", AudioFeatures.for_speech(sr=8000, cache=tmp_path)),
    )
    pipe = make_pipeline(union, StandardScaler(), LogisticRegression(max_iter=2000))
    grid = {"modalityunion__speech__pooling": ["mean", "max"], "logisticregression__C": [0.1]}
    search = GridSearchCV(pipe, grid, cv=GroupKFold(n_splits=3)).fit(X, y, groups=groups)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    features = search.best_estimator_[0].transform(X)
    assert features.columns[0] == "speech__e0" and np.isfinite(features.to_numpy()).all()
    assert search.best_estimator_[0].named_transformers_["speech"].sampling_rate_ == 16000
