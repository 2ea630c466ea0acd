"""Writing files atomically: to a temporary name beside the target, then renamed."""

import os
import tempfile
from pathlib import Path


def atomic_write(path, write):
    """Call ``write(tmp_path)`` then rename the temporary file to ``path``.

    The temporary file is ``.<name>.<random>.tmp`` in the target's folder (the
    same file system, so the rename is atomic). On any error, or an
    interruption, it is removed and ``path`` is left as it was: no reader ever
    sees a half-written file. The file gets the permissions a plain ``open``
    would give it (``0o666`` less the umask), not the owner-only mode of a
    temporary file.

    Parameters
    ----------
    path : str or path-like
        The target; its folder is made if needed.
    write : callable
        Writes the content to the path (a ``str``) it is given.

    Returns
    -------
    path : pathlib.Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask():
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
