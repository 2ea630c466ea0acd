"""Loaders for the real data sets: UCI mfeat, AV-digits (FSDD + digits), COCO-mini, POM."""

import json
import os
import re

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.utils import Bunch, check_random_state

from .._views import sequence_column, view_feature_names
from ._base import BUNDLED_DIR, DATA_ENV, dataset_dir, get_data_home

# ----------------------------------------------------------------------------- mfeat

#: UCI mfeat views in their classical order, with their documented widths.
MFEAT_VIEWS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
_MFEAT_ROWS = 2000


def _read_mfeat_view(path, view, width):
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(
            f"Malformed mfeat file {str(path)!r}: {exc}. Expected a CSV with a header row and "
            f"{_MFEAT_ROWS} rows of {width} features then a label column."
        ) from exc
    expected = (_MFEAT_ROWS, width + 1)
    if table.shape != expected:
        raise ValueError(
            f"Malformed mfeat file {str(path)!r}: shape {table.shape}, expected {expected} "
            f"({_MFEAT_ROWS} rows, {width} features of view {view!r} and a label column)."
        )
    values = table.to_numpy()
    if not np.issubdtype(values.dtype, np.number) or not np.isfinite(values).all():
        raise ValueError(
            f"Malformed mfeat file {str(path)!r}: expected finite numbers only, found "
            f"non-numeric or non-finite values."
        )
    return values[:, :-1].astype(float), values[:, -1].astype(int)


def load_mfeat(data_home=None, *, views=None, return_X_y=False):
    """Load UCI Multiple Features: 2000 handwritten digits described by 6 views.

    =================  =======================================================
    Views (columns)    fou 76 (Fourier), fac 216 (profile correlations),
                       kar 64 (Karhunen-Loeve), pix 240 (pixel averages),
                       zer 47 (Zernike), mor 6 (morphological)
    Samples            2000 (200 per digit)
    Target             digit 0-9
    Licence            CC BY 4.0 (UCI; van Breukelen et al. 1998)
    =================  =======================================================

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``uci_mfeat/``; see :func:`get_data_home`.
    views : list of str, default=None
        Subset of views to load, in this order; None loads all six.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (DataFrame with columns ``fou__0``, ..., ``mor__5``),
        ``target`` (Series), ``frame`` (both), ``views`` (view name to column
        names), ``feature_names``, ``target_names``, ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True.

    Examples
    --------
    >>> from mmsk.datasets import load_mfeat
    >>> X, y = load_mfeat(return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (2000, 649)
    """
    names = list(MFEAT_VIEWS) if views is None else list(views)
    unknown = [v for v in names if v not in MFEAT_VIEWS]
    if unknown or not names:
        raise ValueError(f"Unknown mfeat view(s) {unknown}; choose among {list(MFEAT_VIEWS)}.")
    files = [f"mfeat-{v}.csv" for v in names]
    folder = dataset_dir("uci_mfeat", data_home, required=files)
    blocks, target, view_columns = [], None, {}
    for view, fname in zip(names, files):
        width = MFEAT_VIEWS[view]
        values, labels = _read_mfeat_view(folder / fname, view, width)
        if target is None:
            target = labels
        elif not np.array_equal(target, labels):
            raise ValueError(
                f"Malformed mfeat file {str(folder / fname)!r}: its labels disagree with "
                f"{str(folder / files[0])!r}; rows must be aligned across the view files."
            )
        columns = view_feature_names(view, range(width))
        view_columns[view] = list(columns)
        blocks.append(pd.DataFrame(values, columns=columns))
    data = pd.concat(blocks, axis=1)
    target = pd.Series(target, name="digit")
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=pd.concat([data, target], axis=1),
        views=view_columns,
        feature_names=list(data.columns),
        target_names=[str(d) for d in range(10)],
        DESCR=(load_mfeat.__doc__ or "").split("Parameters")[0],
    )


# ----------------------------------------------------------------------------- AV-digits

_FSDD_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<take>\d+)\.wav$")


def _fsdd_folder(data_home):
    """The FSDD folder to read and where it came from ("data_home" or "bundled")."""
    explicit = data_home is not None or bool(os.environ.get(DATA_ENV))
    home = get_data_home(data_home)
    if home is not None and (home / "fsdd" / "recordings").is_dir():
        return home / "fsdd", "data_home"
    if explicit:
        # The user pointed somewhere specific: say what is wrong rather than fall back.
        return dataset_dir("fsdd", data_home, required=("recordings",)), "data_home"
    return BUNDLED_DIR / "fsdd", "bundled"


def _pair_digit_images(records, random_state):
    """Pair each recording with an 8x8 digit image of its class.

    Within each class the images are shuffled once (``random_state``) and dealt
    into disjoint pools, one per speaker, so that a speaker-independent split
    is image-independent too. Take ``t`` of a speaker gets image
    ``pool[t % len(pool)]``: the pairing of a recording does not depend on
    which other recordings are loaded.
    """
    digits = load_digits()
    rng = check_random_state(random_state)
    speakers = sorted(set(records["speaker"]))
    images = np.empty(len(records), dtype=object)
    image_index = np.empty(len(records), dtype=int)
    for digit in range(10):
        pool_all = rng.permutation(np.flatnonzero(digits.target == digit))
        pools = dict(zip(speakers, np.array_split(pool_all, len(speakers))))
        rows = np.flatnonzero(records["digit"].to_numpy() == digit)
        for row in rows:
            pool = pools[records["speaker"].iat[row]]
            idx = int(pool[records["take"].iat[row] % len(pool)])
            image_index[row] = idx
            images[row] = digits.images[idx].copy()
    return images, image_index


_FSDD_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")


def load_av_digits(data_home=None, *, random_state=0, return_X_y=False):
    """Load AV-digits: spoken digits (FSDD audio) paired with handwritten digit images.

    Each row is one FSDD recording (``audio``: the WAV path) with an 8x8
    image of the same digit from :func:`sklearn.datasets.load_digits`
    (``image``: a float array, 0-16), paired at random within class with a
    fixed seed, in the spirit of the AV-MNIST benchmark. The images of each
    class are split into disjoint pools, one per speaker, so that a split by
    speaker keeps both the voices and the images of the test rows unseen.

    With no FSDD data found (no ``data_home``, no ``MMSK_DATA`` and no
    ``~/mmsk_data/fsdd/``) the bundled subset is used: 480 recordings (takes 0-7
    of each digit by each of the 6 speakers), CC BY-SA 4.0, see
    ``mmsk/datasets/data/fsdd/LICENSE.txt``. The full data set has 3000.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``fsdd/``; see :func:`get_data_home`. If given (or
        ``MMSK_DATA`` is set) and it has no FSDD data, that is an error.
    random_state : int, RandomState instance or None, default=0
        Seed of the image pairing.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (DataFrame with ``audio`` and ``image`` columns), ``target``
        (Series ``digit``), ``groups`` (Series ``speaker``, for
        :class:`~sklearn.model_selection.GroupKFold`), ``frame`` (all
        columns, plus ``take`` and ``image_index``), ``source``
        ("data_home" or "bundled"), ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True.

    See Also
    --------
    train_test_split_by_speaker : a speaker-independent hold-out split.

    Examples
    --------
    >>> from mmsk.datasets import load_av_digits
    >>> av = load_av_digits()
    >>> list(av.data.columns)
    ['audio', 'image']
    >>> av.data["image"].iloc[0].shape
    (8, 8)
    """
    folder, source = _fsdd_folder(data_home)
    recordings = folder / "recordings"
    rows, unexpected = [], []
    for path in sorted(recordings.iterdir()):
        match = _FSDD_NAME.match(path.name)
        if match is None:
            if path.suffix.lower() == ".wav":
                unexpected.append(path.name)
            continue
        rows.append(
            {
                "audio": str(path),
                "digit": int(match["digit"]),
                "speaker": match["speaker"],
                "take": int(match["take"]),
            }
        )
    if unexpected:
        raise ValueError(
            f"Unexpected file name(s) in {str(recordings)!r}: {unexpected[:5]}. FSDD recordings "
            f"are named '<digit>_<speaker>_<take>.wav', e.g. '3_theo_12.wav'."
        )
    if not rows:
        raise FileNotFoundError(
            f"No FSDD recordings ('<digit>_<speaker>_<take>.wav') in {str(recordings)!r}."
        )
    records = pd.DataFrame(rows).sort_values(["speaker", "digit", "take"], ignore_index=True)
    images, image_index = _pair_digit_images(records, random_state)
    frame = pd.DataFrame(
        {
            "audio": records["audio"],
            "image": pd.Series(images, dtype=object),
            "speaker": records["speaker"],
            "digit": records["digit"],
            "take": records["take"],
            "image_index": image_index,
        }
    )
    data, target = frame[["audio", "image"]], frame["digit"]
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        groups=frame["speaker"],
        frame=frame,
        source=source,
        target_names=[str(d) for d in range(10)],
        DESCR=(load_av_digits.__doc__ or "").split("Parameters")[0],
    )


def train_test_split_by_speaker(dataset, *, test_speakers=None, n_test_speakers=2, random_state=0):
    """Split AV-digits so that no test speaker (and no test image) is seen in training.

    Parameters
    ----------
    dataset : Bunch
        Output of :func:`load_av_digits`.
    test_speakers : list of str, default=None
        Speakers held out for testing; None draws ``n_test_speakers`` of them.
    n_test_speakers : int, default=2
        How many speakers to hold out when ``test_speakers`` is None.
    random_state : int, RandomState instance or None, default=0
        Seed for drawing the test speakers.

    Returns
    -------
    X_train, X_test, y_train, y_test : DataFrames and Series

    Examples
    --------
    >>> from mmsk.datasets import load_av_digits, train_test_split_by_speaker
    >>> av = load_av_digits()
    >>> X_tr, X_te, y_tr, y_te = train_test_split_by_speaker(av, test_speakers=["theo"])
    >>> bool(len(X_te) == (av.groups == "theo").sum())
    True
    """
    speakers = sorted(set(dataset.groups))
    if test_speakers is None:
        if not 1 <= n_test_speakers < len(speakers):
            raise ValueError(
                f"n_test_speakers must be between 1 and {len(speakers) - 1}; got {n_test_speakers}."
            )
        rng = check_random_state(random_state)
        test_speakers = rng.choice(speakers, size=n_test_speakers, replace=False).tolist()
    unknown = sorted(set(test_speakers) - set(speakers))
    if unknown:
        raise ValueError(f"Unknown speaker(s) {unknown}; the speakers are {speakers}.")
    if set(test_speakers) == set(speakers):
        raise ValueError("test_speakers holds every speaker; leave at least one for training.")
    test = dataset.groups.isin(test_speakers).to_numpy()
    X, y = dataset.data, dataset.target
    return X[~test], X[test], y[~test], y[test]


# ----------------------------------------------------------------------------- COCO-mini


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"Malformed JSON file {str(path)!r}: {exc}. Expected COCO annotations (images[], annotations[])."
        ) from exc


def _coco_section(doc, key, path):
    if not isinstance(doc, dict) or key not in doc or not isinstance(doc[key], list):
        raise ValueError(
            f"Malformed COCO file {str(path)!r}: no '{key}' list. Expected the standard COCO "
            f"layout with images[] and annotations[]."
        )
    return doc[key]


def load_coco_mini(data_home=None):
    """Load COCO-mini: 80 photographs, 5 human captions each, object categories.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``coco_mini/``; see :func:`get_data_home`.

    Returns
    -------
    data : Bunch
        ``frame``: one row per image (``image_id``, ``image`` path,
        ``captions`` list of str, ``categories`` list of category names,
        ``width``, ``height``, ``license``); ``captions``: one row per caption
        (``image_id``, ``image``, ``caption``); ``target``: a 0/1 DataFrame, one
        column per category present (multi-label); ``target_names``;
        ``licenses``; ``DESCR``.

    Notes
    -----
    Annotations are CC BY 4.0 (COCO Consortium); each photo keeps its own
    Flickr licence, given per row in ``license`` (see ``licenses``).
    """
    required = (
        "annotations/captions_train2017.json",
        "annotations/instances_train2017.json",
        "train2017",
    )
    folder = dataset_dir("coco_mini", data_home, required=required)
    cap_path = folder / required[0]
    inst_path = folder / required[1]
    captions_doc, instances_doc = _read_json(cap_path), _read_json(inst_path)
    images = _coco_section(captions_doc, "images", cap_path)
    annotations = _coco_section(captions_doc, "annotations", cap_path)
    categories = {c["id"]: c["name"] for c in _coco_section(instances_doc, "categories", inst_path)}
    image_rows = []
    for img in images:
        path = folder / "train2017" / img["file_name"]
        if not path.is_file():
            raise FileNotFoundError(
                f"COCO-mini image {str(path)!r} (image id {img['id']}) listed in "
                f"{str(cap_path)!r} is missing."
            )
        image_rows.append(
            {
                "image_id": img["id"],
                "image": str(path),
                "width": img.get("width"),
                "height": img.get("height"),
                "license": img.get("license"),
            }
        )
    frame = pd.DataFrame(image_rows).sort_values("image_id", ignore_index=True)
    path_of = dict(zip(frame["image_id"], frame["image"]))
    caps = pd.DataFrame(
        [
            {"image_id": a["image_id"], "caption": str(a["caption"]).strip()}
            for a in annotations
            if a["image_id"] in path_of
        ]
    ).sort_values(["image_id", "caption"], ignore_index=True)
    caps.insert(1, "image", caps["image_id"].map(path_of))
    frame["captions"] = frame["image_id"].map(caps.groupby("image_id")["caption"].apply(list))
    cats_per_image = {}
    for ann in _coco_section(instances_doc, "annotations", inst_path):
        if ann["image_id"] in path_of:
            cats_per_image.setdefault(ann["image_id"], set()).add(categories[ann["category_id"]])
    frame["categories"] = [sorted(cats_per_image.get(i, ())) for i in frame["image_id"]]
    names = sorted({c for cs in frame["categories"] for c in cs})
    target = pd.DataFrame([[int(n in cs) for n in names] for cs in frame["categories"]], columns=names)
    licenses = {lic["id"]: lic["name"] for lic in captions_doc.get("licenses", []) if "id" in lic}
    return Bunch(
        frame=frame,
        captions=caps,
        target=target,
        target_names=names,
        licenses=licenses,
        DESCR=(load_coco_mini.__doc__ or "").split("Parameters")[0],
    )


# ----------------------------------------------------------------------------- POM

_POM_VIEWS = {"audio": 43, "video": 41}
_POM_STEPS = 20
_POM_TARGETS = 17
_POM_POOLING = ("mean", "mean_std", "sequence")


def _read_h5(path, expected_shape):
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            if "d1" not in fh:
                raise ValueError(f"no dataset 'd1' (found {list(fh)})")
            values = fh["d1"][()]
    except OSError as exc:
        raise ValueError(f"Malformed POM file {str(path)!r}: not a readable HDF5 file ({exc}).") from exc
    except ValueError as exc:
        raise ValueError(f"Malformed POM file {str(path)!r}: {exc}.") from exc
    if values.ndim != len(expected_shape) or any(
        e is not None and s != e for s, e in zip(values.shape, expected_shape)
    ):
        raise ValueError(
            f"Malformed POM file {str(path)!r}: shape {values.shape}, expected "
            f"{tuple('n' if e is None else e for e in expected_shape)}."
        )
    if not np.isfinite(values).all():
        raise ValueError(f"Malformed POM file {str(path)!r}: it holds NaN or infinite values.")
    return values.astype(float)


def _pool_sequences(view, seq, pooling):
    n, steps, width = seq.shape
    if pooling == "sequence":
        names = [sequence_column(view, t, f"f{f}") for t in range(steps) for f in range(width)]
        return seq.reshape(n, -1), np.asarray(names, dtype=object)
    stats = {"mean": seq.mean(axis=1)}
    if pooling == "mean_std":
        stats["std"] = seq.std(axis=1)
    values = np.hstack(list(stats.values()))
    names = [f"f{f}_{s}" for s in stats for f in range(width)]
    return values, view_feature_names(view, names)


def load_pom(data_home=None, *, split="train", pooling="mean_std"):
    """Load POM: audio (COVAREP) and facial (FACET) feature sequences, 17 trait ratings.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``cmu_pom/``; see :func:`get_data_home`.
    split : {"train", "valid", "test"}, default="train"
        600 / 100 / 203 segments.
    pooling : {"mean", "mean_std", "sequence"}, default="mean_std"
        How the 20-step sequences become views: the mean over time, the
        mean and standard deviation (``audio__f3_mean``), or sequence views
        of every step (``audio__t00_f3``; see :func:`mmsk.sequence_frame`).

    Returns
    -------
    data : Bunch
        ``data`` (DataFrame, views ``audio`` and ``video``, columns such as
        ``audio__f3_mean``), ``target`` (DataFrame of the 17 ratings, 1-7,
        ``trait_0`` ... ``trait_16``; the source does not name them),
        ``sequences`` (dict view -> ndarray (n, 20, d)), ``views``, ``DESCR``.

    Examples
    --------
    >>> from mmsk.datasets import load_pom
    >>> pom = load_pom(split="test")  # doctest: +SKIP
    >>> pom.data.shape, pom.target.shape  # doctest: +SKIP
    ((203, 168), (203, 17))
    """
    if split not in ("train", "valid", "test"):
        raise ValueError(f"split must be 'train', 'valid' or 'test'; got {split!r}.")
    if pooling not in _POM_POOLING:
        raise ValueError(f"pooling must be one of {_POM_POOLING}; got {pooling!r}.")
    files = {v: f"{v}_{split}.h5" for v in _POM_VIEWS} | {"y": f"y_{split}.h5"}
    folder = dataset_dir("cmu_pom", data_home, required=tuple(files.values()))
    sequences = {v: _read_h5(folder / files[v], (None, _POM_STEPS, d)) for v, d in _POM_VIEWS.items()}
    y = _read_h5(folder / files["y"], (None, _POM_TARGETS))
    n = {v: s.shape[0] for v, s in sequences.items()} | {"y": y.shape[0]}
    if len(set(n.values())) != 1:
        raise ValueError(
            f"Malformed POM split {split!r} in {str(folder)!r}: row counts differ across files {n}."
        )
    blocks, views = [], {}
    for view, seq in sequences.items():
        values, names = _pool_sequences(view, seq, pooling)
        views[view] = list(names)
        blocks.append(pd.DataFrame(values, columns=names))
    data = pd.concat(blocks, axis=1)
    target = pd.DataFrame(y, columns=[f"trait_{i}" for i in range(_POM_TARGETS)])
    return Bunch(
        data=data,
        target=target,
        sequences=sequences,
        views=views,
        DESCR=(load_pom.__doc__ or "").split("Parameters")[0],
    )


__all__ = [
    "load_mfeat",
    "load_av_digits",
    "train_test_split_by_speaker",
    "load_coco_mini",
    "load_pom",
]
