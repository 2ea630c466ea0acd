"""CCA fit time: mmsk against scikit-learn, cca-zoo, mvlearn and a plain numpy closed form.

Two views of d columns each sharing 10 latent factors, n rows, k = 10 components.
Every method fits the same data in the same run; the first canonical correlation
each finds is printed next to its time, so a fast wrong answer shows.

Goals: at n = 100k, d = 200, mmsk <= 1.1x the numpy closed form and
>= 2x faster than cca-zoo; KernelCCA (Nystroem) at n = 100k, d = 100 in < 60 s,
with held-out correlations within 2% of exact KernelCCA at n = 5k.

scikit-learn's CCA (NIPALS, iterative) is run where its time stays under a budget
(``--sklearn-budget`` seconds, extrapolated from the smaller n); mvlearn is tried
and its failure recorded. Run: ``python benchmarks/cca.py``; writes RESULTS.md.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import linalg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import best_of, machine, table, write_section  # noqa: E402

K = 10


def make_views(n, d, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, K))
    a = z @ rng.normal(size=(K, d)) + 2.0 * rng.normal(size=(n, d))
    b = z @ rng.normal(size=(K, d)) + 2.0 * rng.normal(size=(n, d))
    return a, b


def numpy_cca(a, b, k=K):
    """The textbook closed form a user would write: centre, covariances, Cholesky whitening, SVD."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    n = len(a) - 1
    caa, cbb, cab = a.T @ a / n, b.T @ b / n, a.T @ b / n
    wa = linalg.solve_triangular(linalg.cholesky(caa, lower=True), np.eye(len(caa)), lower=True).T
    wb = linalg.solve_triangular(linalg.cholesky(cbb, lower=True), np.eye(len(cbb)), lower=True).T
    u, s, vt = linalg.svd(wa.T @ cab @ wb)
    return s[:k]


def first_corr(za, zb):
    return float(np.corrcoef(za[:, 0], zb[:, 0])[0, 1])


def run_linear(sizes, dims, repeat, sklearn_budget):
    from sklearn.cross_decomposition import CCA as SkCCA

    from mmsk.align import CCA

    try:
        from cca_zoo.linear import CCA as ZooCCA

        zoo_error = None
    except Exception as exc:  # noqa: BLE001
        ZooCCA, zoo_error = None, f"{type(exc).__name__}: {exc}"
    rows, sk_times = [], {}
    for d in dims:
        for n in sizes:
            a, b = make_views(n, d)
            X = np.hstack([a, b])
            views = {"a": np.arange(d), "b": np.arange(d, 2 * d)}

            def mmsk_fit():
                return CCA(views, n_components=K, reg=0).fit(X)

            t_np, s = best_of(lambda: numpy_cca(a, b), repeat)
            t_mm, est = best_of(mmsk_fit, repeat)
            rows.append(dict(n=n, d=d, method="numpy closed form", seconds=t_np, rho1=float(s[0])))
            rows.append(
                dict(n=n, d=d, method="mmsk CCA", seconds=t_mm, rho1=float(est.canonical_correlations_[0]))
            )
            if ZooCCA is not None:
                t_zoo, zoo = best_of(lambda: ZooCCA(n_components=K).fit([a, b]), repeat)
                za, zb = zoo.transform([a, b])
                rows.append(dict(n=n, d=d, method="cca-zoo CCA", seconds=t_zoo, rho1=first_corr(za, zb)))
            else:
                rows.append(dict(n=n, d=d, method="cca-zoo CCA", seconds=float("nan"), note=zoo_error))
            smaller = sk_times.get(d)
            projected = smaller[1] * n / smaller[0] if smaller else 0.0
            if projected <= sklearn_budget:
                t_sk, sk = best_of(lambda: SkCCA(n_components=K, scale=False, max_iter=500).fit(a, b), 1)
                sk_times[d] = (n, t_sk)
                xa, xb = sk.transform(a, b)
                rows.append(dict(n=n, d=d, method="scikit-learn CCA", seconds=t_sk, rho1=first_corr(xa, xb)))
            else:
                rows.append(
                    dict(
                        n=n,
                        d=d,
                        method="scikit-learn CCA",
                        seconds=float("nan"),
                        note=f"skipped: about {projected:.0f} s projected (budget {sklearn_budget} s)",
                    )
                )
    return rows


def try_mvlearn():
    try:
        from mvlearn.embed import CCA as MvCCA

        a, b = make_views(500, 5)
        MvCCA(n_components=2).fit([a, b])
        return "mvlearn: imports and fits (not timed here)"
    except ModuleNotFoundError as exc:
        if exc.name == "mvlearn":
            return (
                "mvlearn: not run, not installable here: pip resolves mvlearn 0.5.0 (the latest) "
                "by downgrading matplotlib to 3.3.4 (beside scikit-learn 1.9), and with --no-deps it "
                "fails at import (No module named 'seaborn')."
            )
        return f"mvlearn: not run: {type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001
        return f"mvlearn: not run: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"


def make_nonlinear(n, d, seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-2, 2, size=(n, 2))
    pa = np.random.default_rng(100).normal(size=(4, d))
    pb = np.random.default_rng(101).normal(size=(4, d))
    fa = np.column_stack([np.sin(z[:, 0]), z[:, 1] ** 2, z[:, 0] * z[:, 1], np.cos(z[:, 1])])
    fb = np.column_stack([z[:, 0] ** 2, np.sin(z[:, 1]), np.abs(z[:, 0]), z[:, 1] ** 3 / 4])
    return np.hstack([fa @ pa + 0.5 * rng.normal(size=(n, d)), fb @ pb + 0.5 * rng.normal(size=(n, d))])


def run_kernel(n_exact, n_large, d=100, n_landmarks=500):
    from mmsk.align import KernelCCA

    views = {"a": np.arange(d), "b": np.arange(d, 2 * d)}
    test = make_nonlinear(2000, d, 1)
    rows = []
    held = {}
    for approx in ("exact", "nystroem"):
        train = make_nonlinear(n_exact, d, 0)
        start = time.perf_counter()
        est = KernelCCA(views, n_components=5, approx=approx, n_landmarks=n_landmarks, random_state=0)
        est.fit(train)
        seconds = time.perf_counter() - start
        held[approx] = est.score(test)
        rows.append(
            dict(n=n_exact, d=d, method=f"KernelCCA {approx}", seconds=seconds, held_out_corr=held[approx])
        )
    big = make_nonlinear(n_large, d, 2)
    start = time.perf_counter()
    est = KernelCCA(views, n_components=5, approx="nystroem", n_landmarks=n_landmarks, random_state=0).fit(
        big
    )
    rows.append(
        dict(
            n=n_large,
            d=d,
            method="KernelCCA nystroem",
            seconds=time.perf_counter() - start,
            held_out_corr=est.score(test),
        )
    )
    return rows, held


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sklearn-budget", type=float, default=120.0)
    parser.add_argument("--kernel-exact-n", type=int, default=5000)
    parser.add_argument("--kernel-large-n", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    linear = run_linear(args.sizes, args.dims, args.repeat, args.sklearn_budget)
    mv = try_mvlearn()
    kernel, held = run_kernel(args.kernel_exact_n, args.kernel_large_n)

    def t(method, n, d):
        return next(r["seconds"] for r in linear if r["method"] == method and r["n"] == n and r["d"] == d)

    goals = []
    n, d = max(args.sizes), 200
    if d in args.dims:
        ratio = t("mmsk CCA", n, d) / t("numpy closed form", n, d)
        zoo = t("cca-zoo CCA", n, d) / t("mmsk CCA", n, d)
        goals += [
            dict(
                goal=f"mmsk / numpy closed form, n={n}, d={d}",
                measured=f"{ratio:.2f}x",
                target="<= 1.1x",
                met="yes" if ratio <= 1.1 else "NO",
            ),
            dict(
                goal=f"cca-zoo / mmsk, n={n}, d={d}",
                measured=f"{zoo:.2f}x",
                target=">= 2x",
                met="yes" if zoo >= 2 else "NO",
            ),
        ]
    big = kernel[-1]
    gap = abs(held["nystroem"] - held["exact"]) / held["exact"]
    goals += [
        dict(
            goal=f"KernelCCA Nystroem fit, n={big['n']}, d={big['d']}",
            measured=f"{big['seconds']:.1f} s",
            target="< 60 s",
            met="yes" if big["seconds"] < 60 else "NO",
        ),
        dict(
            goal=f"held-out correlation, Nystroem vs exact, n={args.kernel_exact_n}",
            measured=f"{gap:.2%} apart",
            target="within 2%",
            met="yes" if gap <= 0.02 else "NO",
        ),
    ]
    body = "\n\n".join(
        [
            "## CCA (`benchmarks/cca.py`)",
            f"Machine: {machine()}. Two views of d columns sharing {K} latent factors; k = {K}; "
            f"best of {args.repeat} fits (scikit-learn: one fit). rho1 = first canonical correlation found "
            f"(training data); all methods should agree.",
            table(linear, ["n", "d", "method", "seconds", "rho1", "note"]),
            mv,
            "KernelCCA: non-linear views (d = 100 each), 5 components; "
            "held-out correlation on 2000 new rows.",
            table(kernel, ["n", "d", "method", "seconds", "held_out_corr"]),
            table(goals, ["goal", "measured", "target", "met"]),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("cca", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
