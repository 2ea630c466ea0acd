"""Pretrained models loaded once per process while their folder is unchanged.

``mmsk fit`` fits its feature stage once per fold, and every fit of a
pretrained embedder loads its model, which for a ViT or CLIP tower means reading
hundreds of megabytes again. The few models loaded last are kept, keyed by what
the caller says decides the loaded object (class, device, precision) and by the
folder's files: their names, sizes and modification times. A model saved again
into the same folder is therefore read again.
"""

import os
import threading
from collections import OrderedDict

#: How many loaded models a process keeps.
KEEP = 2

_lock = threading.Lock()
_models = OrderedDict()


def folder_signature(folder):
    """``(relative path, size, modification time)`` of every file under ``folder``, sorted."""
    entries = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            stat = os.stat(path)
            entries.append((os.path.relpath(path, folder), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def load_once(folder, key, load):
    """``load()``, or what it returned before for the same ``key`` and the same, unchanged ``folder``.

    Parameters
    ----------
    folder : str or path-like
        The model's folder.
    key : hashable
        Whatever else decides the loaded object (its class, device, dtype).
    load : callable
        Loads the model; called when nothing is kept for this key and folder.

    Returns
    -------
    loaded : object
        What ``load`` returned: the same object for every caller while the
        folder is unchanged, so callers must not modify it.

    Examples
    --------
    >>> import tempfile
    >>> from mmsk.extract._loaded import load_once
    >>> folder = tempfile.mkdtemp()
    >>> first = load_once(folder, "demo", lambda: object())
    >>> load_once(folder, "demo", lambda: object()) is first
    True
    >>> with open(f"{folder}/weights.bin", "w") as f:
    ...     _ = f.write("new weights")
    >>> load_once(folder, "demo", lambda: object()) is first
    False
    """
    folder = os.path.abspath(os.fspath(folder))
    full = (key, folder, folder_signature(folder))
    with _lock:
        if full in _models:
            _models.move_to_end(full)
            return _models[full]
    loaded = load()
    with _lock:
        _models[full] = loaded
        while len(_models) > KEEP:
            _models.popitem(last=False)
    return loaded
