"""Finding the data folder and reading its files with errors that name the path."""

import os
from pathlib import Path

#: Environment variable naming the data folder (the one holding uci_mfeat/, fsdd/, ...).
DATA_ENV = "MMSK_DATA"

BUNDLED_DIR = Path(__file__).resolve().parent / "data"

_KNOWN = "uci_mfeat/, fsdd/, coco_mini/, cmu_pom/"


def _checkout_candidates():
    # <checkout>/mmsk/datasets/_base.py -> <checkout>/../shared/data
    root = Path(__file__).resolve().parents[2]
    yield root.parent / "shared" / "data"
    yield Path.cwd().parent / "shared" / "data"


def get_data_home(data_home=None):
    """Return the data folder, or None when none is configured or found.

    The folder is, in order: ``data_home`` if given, the ``MMSK_DATA``
    environment variable if set, then ``../shared/data`` beside a checkout of
    mmsk (or beside the working directory).

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder holding the data sets (``uci_mfeat/``, ``fsdd/``,
        ``coco_mini/``, ``cmu_pom/``).

    Returns
    -------
    path : pathlib.Path or None
        None only when ``data_home`` and ``MMSK_DATA`` are unset and no
        ``../shared/data`` exists.

    Raises
    ------
    FileNotFoundError
        If ``data_home`` or ``MMSK_DATA`` names a folder that does not exist.
    """
    if data_home is not None:
        path = Path(data_home).expanduser()
        origin = f"data_home={str(data_home)!r}"
    elif os.environ.get(DATA_ENV):
        path = Path(os.environ[DATA_ENV]).expanduser()
        origin = f"the {DATA_ENV} environment variable ({os.environ[DATA_ENV]!r})"
    else:
        for candidate in _checkout_candidates():
            if candidate.is_dir():
                return candidate.resolve()
        return None
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise FileNotFoundError(
            f"The data folder {str(path)!r} given by {origin} {what}. Expected a folder holding "
            f"the data sets ({_KNOWN}), such as the project's ../shared/data."
        )
    return path.resolve()


def dataset_dir(name, data_home=None, *, required=()):
    """Return ``<data home>/<name>``, checking it and the files it must hold.

    Raises
    ------
    FileNotFoundError
        Naming the path and what was expected there.
    """
    home = get_data_home(data_home)
    if home is None:
        raise FileNotFoundError(
            f"No data folder found for {name!r}: pass data_home= (the folder holding {name}/), "
            f"set the {DATA_ENV} environment variable, or run from a checkout with "
            f"../shared/data beside it."
        )
    folder = home / name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The data folder {str(home)!r} has no {name}/ subfolder (looked for "
            f"{str(folder)!r}). Expected a folder holding {_KNOWN}."
        )
    for rel in required:
        path = folder / rel
        if not path.exists():
            raise FileNotFoundError(
                f"Missing file {str(path)!r}: the {name} data set is incomplete. Expected "
                f"{', '.join(required)} in {str(folder)!r}."
            )
    return folder
