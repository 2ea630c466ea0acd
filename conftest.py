"""Test-session settings for every collected item (doctests in ``mmsk/`` and ``tests/``).

Each pytest-xdist worker computes with one thread. ``make test`` runs two workers on
two cores; with torch's and OpenBLAS's default of one thread per core each, the small
training loops of the deep estimators spend most of their time waiting on each other's
threads (measured: a 14 s test file took 7 minutes). scikit-learn's own joblib workers
are capped the same way by loky; xdist workers are not, so the cap is set here, before
anything imports torch or numpy's BLAS.
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")


def pytest_configure(config):
    """Compile librosa's numba code once, in the controller, before xdist starts workers.

    librosa JIT-compiles on first use and caches the machine code beside its sources
    (``cache=True``). Two workers compiling at once both write that cache, and a worker
    that reads a half-written entry crashes with a segmentation fault (seen on a fresh
    virtual environment). Compiled here first, the workers only read it.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(config.option, "numprocesses", None):
        return
    import numpy as np

    from mmsk.extract import AudioFeatures

    families = ("mfcc", "delta", "mel", "chroma", "spectral", "zcr", "rms", "onset")
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(4000) / 8000)
    AudioFeatures(sr=8000, features=families, trim_db=60).fit_transform([tone.astype(np.float32)])
