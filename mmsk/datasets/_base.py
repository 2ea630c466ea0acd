"""Finding the data folder and reading its files with errors that name the path."""

import os
from pathlib import Path

#: Environment variable naming the data folder (the one holding uci_mfeat/, fsdd/, ...).
DATA_ENV = "MMSK_DATA"

BUNDLED_DIR = Path(__file__).resolve().parent / "data"

_KNOWN = "uci_mfeat/, fsdd/, coco_mini/, cmu_pom/"


def get_data_home(data_home=None):
    """Return the folder that holds mmsk's data sets.

    The folder is, in order: ``data_home`` if given, the ``MMSK_DATA``
    environment variable if set, then ``~/mmsk_data``, as scikit-learn's
    :func:`~sklearn.datasets.get_data_home` does. Nothing is downloaded and no
    folder is created: the data sets (``uci_mfeat/``, ``fsdd/``,
    ``coco_mini/``, ``cmu_pom/``) are put there by the user.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder holding the data sets.

    Returns
    -------
    path : pathlib.Path
        The folder. The per-user default need not exist; the loaders say
        where to put a data set they do not find.

    Raises
    ------
    FileNotFoundError
        If ``data_home`` or ``MMSK_DATA`` names a folder that does not exist.

    Examples
    --------
    >>> import os
    >>> from mmsk.datasets import get_data_home
    >>> home = get_data_home(os.getcwd())
    >>> home.is_dir()
    True
    """
    if data_home is not None:
        path = Path(data_home).expanduser()
        origin = f"data_home={str(data_home)!r}"
    elif os.environ.get(DATA_ENV):
        path = Path(os.environ[DATA_ENV]).expanduser()
        origin = f"the {DATA_ENV} environment variable ({os.environ[DATA_ENV]!r})"
    else:
        return Path("~", "mmsk_data").expanduser()
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise FileNotFoundError(
            f"The data folder {str(path)!r} given by {origin} {what}. Expected a folder holding "
            f"the data sets ({_KNOWN})."
        )
    return path.resolve()


def bundled_data_home():
    """Return the folder of the data bundled with mmsk (a 480-recording FSDD subset).

    Pass it as ``data_home`` to read the bundled subset even when a full data
    folder is configured.

    Returns
    -------
    path : pathlib.Path
        A folder holding ``fsdd/`` (CC BY-SA 4.0, see ``fsdd/LICENSE.txt``).

    Examples
    --------
    >>> from mmsk.datasets import bundled_data_home, load_av_digits
    >>> len(load_av_digits(bundled_data_home()).data)
    480
    """
    return BUNDLED_DIR


def dataset_dir(name, data_home=None, *, required=()):
    """Return ``<data home>/<name>``, checking it and the files it must hold.

    Raises
    ------
    FileNotFoundError
        Naming the path, what was expected there and the two ways to say
        where the data is.
    """
    home = get_data_home(data_home)
    folder = home / name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"No {name}/ data set in {str(home)!r} (looked for {str(folder)!r}). mmsk downloads "
            f"nothing: put the {name}/ folder there, or pass data_home= (the folder holding "
            f"{name}/) or set the {DATA_ENV} environment variable to that folder."
        )
    for rel in required:
        path = folder / rel
        if not path.exists():
            raise FileNotFoundError(
                f"Missing file {str(path)!r}: the {name} data set is incomplete. Expected "
                f"{', '.join(required)} in {str(folder)!r}."
            )
    return folder
