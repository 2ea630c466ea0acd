"""Extraction throughput: mmsk's extractors against the plain librosa / OpenCV loop.

For audio (FSDD recordings) and images (COCO-mini photos) it times, in one run:

* the plain loop a user would write (soundfile + librosa, or cv2.imread + OpenCV),
  computing the very same features (checked equal), serially and with
  ``joblib.Parallel(n_jobs=2)``;
* mmsk's extractor serially, with ``n_jobs=2``, and re-run from its on-disk cache.

Goals: per-item overhead against the plain loop <= 10%; n_jobs=2 >= 1.6x
serial; a cached re-run >= 20x faster than extracting. Every timing is the best
of three runs after a warm-up run (librosa's numba code compiled, joblib's worker
processes started), so it measures steady-state throughput.

Run: ``python benchmarks/extract.py [--n-audio 1000] [--n-images 400]``; the
table is printed and written into benchmarks/RESULTS.md.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import best_of, machine, table, write_section  # noqa: E402

SR, N_FFT, HOP, N_MELS, N_MFCC, SEGMENTS, TOP_DB = 8000, 256, 80, 40, 13, 5, 20
IMG = (64, 64)


# ----------------------------------------------------------------------------- plain loops
def plain_audio(path):
    """What a user writes with soundfile and librosa: the same features as the mmsk set-up."""
    import librosa
    import soundfile as sf

    y, sr = sf.read(path, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR)
    trimmed, _ = librosa.effects.trim(y, top_db=TOP_DB, frame_length=N_FFT, hop_length=HOP)
    y = trimmed if trimmed.size else y
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    logmel = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=SR, n_mels=N_MELS))
    mfcc = librosa.feature.mfcc(S=logmel, n_mfcc=N_MFCC)
    width = min(9, mfcc.shape[1] if mfcc.shape[1] % 2 else mfcc.shape[1] - 1)
    delta = librosa.feature.delta(mfcc, width=width, mode="nearest") if width >= 3 else 0 * mfcc
    frames = np.vstack([mfcc, delta])
    n = frames.shape[1]
    out = []
    for k in range(SEGMENTS):
        lo = min(k * n // SEGMENTS, n - 1)
        part = frames[:, lo : max((k + 1) * n // SEGMENTS, lo + 1)]
        out.append(np.column_stack([part.mean(axis=1), part.std(axis=1)]).ravel())
    return np.concatenate(out)


def plain_image(path):
    """What a user writes with OpenCV: HSV histogram and HOG of the resized image."""
    import cv2

    img = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    interp = cv2.INTER_AREA if img.shape[0] > IMG[0] or img.shape[1] > IMG[1] else cv2.INTER_LINEAR
    img = cv2.resize(img, (IMG[1], IMG[0]), interpolation=interp)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    hog = cv2.HOGDescriptor((IMG[1], IMG[0]), (16, 16), (8, 8), (8, 8), 9).compute(gray).ravel()
    return np.concatenate([hist / max(hist.sum(), 1.0), hog])


def plain_loop(fn, paths, n_jobs):
    if n_jobs == 1:
        return np.vstack([fn(p) for p in paths])
    from joblib import Parallel, delayed

    return np.vstack(Parallel(n_jobs=n_jobs)(delayed(fn)(p) for p in paths))


# ----------------------------------------------------------------------------- mmsk
def mmsk_audio(**kw):
    from mmsk.extract import AudioFeatures

    return AudioFeatures(
        sr=SR,
        n_fft=N_FFT,
        hop_length=HOP,
        n_mels=N_MELS,
        n_mfcc=N_MFCC,
        features=("mfcc", "delta"),
        segments=SEGMENTS,
        trim_db=TOP_DB,
        **kw,
    )


def mmsk_image(**kw):
    from mmsk.extract import ImageFeatures

    return ImageFeatures(features=("color_hist", "hog"), size=IMG, **kw)


def bench(kind, paths, plain_fn, make, unit, repeat):
    rows = []
    # warm-up: numba compiles, worker processes start, files enter the OS cache
    reference = plain_loop(plain_fn, paths[:20], 1)
    np.testing.assert_allclose(make().fit_transform(paths[:20]), reference, rtol=1e-4, atol=1e-4)
    plain_loop(plain_fn, paths[:40], 2)
    make(n_jobs=2).fit_transform(paths[:40])
    times, outputs = {}, {}
    for label, fn in [
        ("plain loop, serial", lambda: plain_loop(plain_fn, paths, 1)),
        ("plain loop, joblib n_jobs=2", lambda: plain_loop(plain_fn, paths, 2)),
        ("mmsk, serial", lambda: make().fit_transform(paths)),
        ("mmsk, n_jobs=2", lambda: make(n_jobs=2).fit_transform(paths)),
    ]:
        times[label], outputs[label] = best_of(fn, repeat)
    for out in outputs.values():  # every run gives the same features
        np.testing.assert_allclose(out, outputs["plain loop, serial"], rtol=1e-4, atol=1e-4)
    with tempfile.TemporaryDirectory() as cache:
        make(cache=cache).fit_transform(paths)  # fills the cache
        times["mmsk, cached re-run"], _ = best_of(lambda: make(cache=cache).fit_transform(paths), repeat)
    for label, seconds in times.items():
        rows.append(
            {
                "data": kind,
                "run": label,
                "items": len(paths),
                "seconds": seconds,
                f"{unit}/s": len(paths) / seconds,
            }
        )
    overhead = times["mmsk, serial"] / times["plain loop, serial"] - 1
    speedup = times["mmsk, serial"] / times["mmsk, n_jobs=2"]
    cached = times["mmsk, serial"] / times["mmsk, cached re-run"]
    goals = [
        ("overhead vs plain loop (serial)", f"{overhead:+.1%}", "<= +10%", overhead <= 0.10),
        ("n_jobs=2 speed-up over serial", f"{speedup:.2f}x", ">= 1.6x", speedup >= 1.6),
        ("cached re-run speed-up", f"{cached:.0f}x", ">= 20x", cached >= 20),
    ]
    return rows, goals


_COLD = """
import sys, time
sys.path.insert(0, {here!r})
from extract import mmsk_audio
clips = {clips!r}
start = time.perf_counter()
mmsk_audio(n_jobs={n_jobs}).fit_transform(clips)
print(time.perf_counter() - start)
"""


def cold_start(clips):
    """Seconds for a fresh process to extract 20 clips: first with an empty numba cache
    (librosa's JIT compiles), then again in another fresh process reading that cache."""
    import os
    import subprocess

    rows = []
    with tempfile.TemporaryDirectory() as numba_cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=numba_cache)
        here = str(Path(__file__).resolve().parent)
        for label, n_jobs in [
            ("empty numba cache, n_jobs=2", 2),
            ("numba cache filled, n_jobs=2", 2),
            ("numba cache filled, serial", 1),
        ]:
            code = _COLD.format(here=here, clips=clips[:20], n_jobs=n_jobs)
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            rows.append({"fresh process": label, "seconds for 20 clips": float(out.stdout.split()[-1])})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-audio", type=int, default=1000)
    parser.add_argument("--n-images", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)

    from mmsk.datasets import load_av_digits, load_coco_mini

    av = load_av_digits(args.data_home)
    clips = [str(p) for p in av.data["audio"].iloc[: args.n_audio]]
    photos = [str(p) for p in load_coco_mini(args.data_home).frame["image"]]
    photos = (photos * (args.n_images // len(photos) + 1))[: args.n_images]

    audio_rows, audio_goals = bench("FSDD clips", clips, plain_audio, mmsk_audio, "clips", args.repeat)
    image_rows, image_goals = bench("COCO photos", photos, plain_image, mmsk_image, "images", args.repeat)
    cold = cold_start(clips)
    rows = audio_rows + image_rows
    goal_rows = [
        {"data": d, "goal": g, "measured": m, "target": t, "met": "yes" if ok else "NO"}
        for d, goals in [("FSDD clips", audio_goals), ("COCO photos", image_goals)]
        for g, m, t, ok in goals
    ]
    body = "\n\n".join(
        [
            "## Extraction throughput (`benchmarks/extract.py`)",
            f"Machine: {machine()}. Best of {args.repeat} runs after a warm-up. Audio: "
            f"{len(clips)} FSDD clips ({av.source} data), 13 MFCC + deltas, trimmed, 5 segments. "
            f"Images: {len(photos)} COCO-mini photos (the 80 files repeated), HSV histogram + HOG "
            f"at 64x64. The plain loops compute the same features (checked equal).",
            table(rows, ["data", "run", "items", "seconds", "clips/s", "images/s"]),
            table(goal_rows, ["data", "goal", "measured", "target", "met"]),
            "Cold start: librosa compiles its numba code on first use in a process and "
            "writes it to numba's on-disk cache (`NUMBA_CACHE_DIR`, else `__pycache__`); "
            "mmsk compiles once in the parent before starting workers, and later processes "
            "and workers load the cache.",
            table(cold, ["fresh process", "seconds for 20 clips"]),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("extract", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
