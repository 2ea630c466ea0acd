"""Fast mini-batches for skorch on tabular data (imported on first use: it imports torch).

torch's default DataLoader indexes a dataset once per row and collates the
rows, and skorch's Dataset indexes numpy data with Python lists through
scikit-learn's ``_safe_indexing``; for tabular data that per-row work costs more
than a small network. Here the data become tensors once, and each batch is one
tensor index per array.
"""

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

#: Share of the device's free memory the training data may take to be moved there once.
DEVICE_SHARE = 0.5


def placement(nbytes, device, free_bytes=None):
    """Where training data of ``nbytes`` live while a net trains on ``device``.

    ``"host"`` on the CPU; on CUDA ``"device"`` when they take at most
    ``DEVICE_SHARE`` of the free device memory (then batches are drawn there
    with no host-to-device copy), else ``"pinned"`` (each batch gathered into
    page-locked host memory and copied without blocking).

    Examples
    --------
    >>> from mmsk.utils._torch_data import placement
    >>> placement(10**9, "cpu"), placement(10**9, "cuda", free_bytes=8 * 10**9)
    ('host', 'device')
    >>> placement(10**9, "cuda:0", free_bytes=10**9)
    'pinned'
    """
    if not str(device).startswith("cuda"):
        return "host"
    if free_bytes is None:
        free_bytes, _ = torch.cuda.mem_get_info(torch.device(device))
    return "device" if nbytes <= DEVICE_SHARE * free_bytes else "pinned"


def _writable(array):
    return array if array.flags.writeable else array.copy()


class TensorRows(Dataset):
    """X (an array or a dict of arrays) and y as tensors; ``rows[idx]`` takes an index array.

    Floating arrays become tensors of ``dtype`` (a torch dtype's name; None
    keeps theirs), integer ones (class labels) stay as they are. With a CUDA
    ``device`` the tensors are placed by :func:`placement`: on the device
    once, or kept on the host with each batch gathered into pinned memory and
    sent without blocking.
    """

    def __init__(self, X, y=None, device="cpu", dtype=None):
        dtype = None if dtype is None else getattr(torch, dtype)

        def tensor(a):
            # a copy when read-only (a search's worker gets y memory-mapped), which torch cannot wrap
            a = _writable(np.asarray(a))
            return torch.as_tensor(a, dtype=dtype if a.dtype.kind == "f" else None)

        if isinstance(X, dict):
            self.X = {k: tensor(v) for k, v in X.items()}
            self.n = len(next(iter(self.X.values())))
        else:
            self.X = tensor(X)
            self.n = len(self.X)
        self.y = None if y is None else tensor(y)
        tensors = [*self._x_tensors(), *([] if self.y is None else [self.y])]
        self.device = str(device)
        self.placement = placement(sum(t.numel() * t.element_size() for t in tensors), self.device)
        if self.placement == "device":
            self._apply(lambda t: t.to(self.device))

    def _x_tensors(self):
        return list(self.X.values()) if isinstance(self.X, dict) else [self.X]

    def _apply(self, fn):
        self.X = {k: fn(v) for k, v in self.X.items()} if isinstance(self.X, dict) else fn(self.X)
        self.y = None if self.y is None else fn(self.y)

    def _take(self, t, i):
        if self.placement == "device":
            return t[i.to(self.device, non_blocking=True)]
        if self.placement == "pinned":
            return t[i].pin_memory().to(self.device, non_blocking=True)
        return t[i]

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        i = torch.as_tensor(i)
        X = self.X
        Xi = {k: self._take(v, i) for k, v in X.items()} if isinstance(X, dict) else self._take(X, i)
        yi = torch.zeros(i.shape) if self.y is None else self._take(self.y, i)  # skorch's placeholder
        return Xi, yi


class _Batches:
    """Row-index arrays of one pass: shuffled (torch's generator, so seeded) or in order."""

    def __init__(self, n, batch_size, shuffle, drop_last):
        self.n, self.batch_size, self.shuffle, self.drop_last = n, batch_size, shuffle, drop_last

    def __len__(self):
        full, rest = divmod(self.n, self.batch_size)
        return full + int(rest > 0 and not self.drop_last)

    def __iter__(self):
        order = torch.randperm(self.n).numpy() if self.shuffle else np.arange(self.n)
        for j in range(len(self)):
            yield order[j * self.batch_size : (j + 1) * self.batch_size]


class _Indexed:
    """A dataset seen through its (possibly nested) Subsets' indices, indexed by whole arrays."""

    def __init__(self, dataset):
        self.base, self.rows = dataset, None
        while isinstance(self.base, Subset):
            idx = np.asarray(self.base.indices)
            self.rows = idx if self.rows is None else idx[self.rows]
            self.base = self.base.dataset

    def __getitem__(self, batch):
        return self.base[batch if self.rows is None else self.rows[batch]]


class BatchIndexLoader(DataLoader):
    """A DataLoader that draws each batch's row indices and indexes the dataset once.

    Takes skorch's arguments (``batch_size``, ``shuffle``, ``drop_last``); works
    with :class:`TensorRows`, skorch's Dataset, and Subsets of them (skorch's
    validation split).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, **kwargs):
        sampler = _Batches(len(dataset), batch_size, shuffle, drop_last)
        super().__init__(_Indexed(dataset), batch_size=None, sampler=sampler, **kwargs)
