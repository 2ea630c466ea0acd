"""Is the estimate right? BBC-CV beside nested CV and the plain best score, on real and permuted labels.

For each table, ``mmsk fit``'s own search (``mmsk.auto.prepare_run``: its
candidates with the ones left out by their cost, its feature stages reading the
extraction cache, its folds and its parallelism; dropping on) is run

- on the real labels, with several CV seeds: its BBC estimate (1000 resamples),
  its best cross-validated score, and the nested estimate (the whole search
  repeated in 3 outer folds);
- on permuted labels (10 permutations): the true score of any choice is then
  about the baseline's, so the BBC estimate's mean should be within 0.03 of the
  baseline candidate's score under the same estimate (its mean out-of-bag
  score), while the plain best score shows its optimism. Exactly, a model
  that knows nothing of the labels scores what its predictions' class shares
  give against the labels' (below the majority baseline on unbalanced
  classes): the row also compares the BBC estimate with that true score of
  the candidates it chose.

Also: the ensemble (its BBC estimate against the best candidate's on the same
resamples), and dropping on against off (seconds, choice, estimate): both after
the worker processes are started, on first on even seeds and off first on odd ones.

Run: ``python benchmarks/estimate.py [--tables av coco mfeat pom] [--permutations 10] [--seeds 0 1 2]``;
writes the ``estimate`` section of RESULTS.md (the rows of tables not run stay as they were).
"""

import argparse
import copy
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import machine, section_tables, table, write_section  # noqa: E402
from auto import NAMES, TABLES  # noqa: E402

from mmsk.auto import prepare_run  # noqa: E402
from mmsk.extract import ExtractionWarning  # noqa: E402
from mmsk.model_selection import nested_estimate  # noqa: E402


def mmsk_fit_search(frame, args, root, seed):
    """``mmsk fit``'s search of the table with CV seed ``seed`` (its candidates, feature stages, folds).

    Returns the unfitted search and what it reads: the prepared table, the
    target and the groups. The features come from the run's cache, extracted
    by the first call.
    """
    run = prepare_run(frame, out=root / "run", base_dir=root, random_state=seed, progress=False,
                      print_fn=None, **args)  # fmt: skip
    rows = run.extract()
    strategies, _ = run.strategies(rows)
    return run.make_search(rows, strategies), rows.data, rows.y.to_numpy(), run.group_values(rows)


def _import_fit_libraries():
    import mmsk.fusion  # noqa: F401  (torch and skorch with it)
    import mmsk.mkl  # noqa: F401


def warm_workers(n_jobs):
    """Start the worker processes the search will reuse, with the fit's libraries imported, so that
    the first timed search of a process does not pay for them."""
    from joblib import Parallel, delayed, effective_n_jobs

    if n_jobs not in (None, 1):
        Parallel(n_jobs=n_jobs)(delayed(_import_fit_libraries)() for _ in range(effective_n_jobs(n_jobs)))


def outer_splitter(inner, groups, seed):
    """3 outer folds of the inner splitter's kind, or, with few groups, enough that each outer
    training set keeps as many groups as the inner search has folds."""
    n_folds = 3
    if groups is not None:
        n = len(np.unique(groups))
        n_folds = min(n, max(3, int(np.ceil(n / max(n - inner.get_n_splits(), 1)))))
    outer = copy.deepcopy(inner)  # splitters have no get_params
    outer.n_splits = n_folds
    if getattr(outer, "shuffle", False):
        outer.random_state = seed
    return outer


def label_free_score(P, y, classes):
    """The true score of out-of-fold predictions ``P`` that know nothing of the labels ``y`` (permuted).

    Accuracy: the share of rows predicted as each class times that class's
    share of the labels, summed (a noise model on unbalanced classes scores
    below the majority baseline); R²: ``-(var(f) + (mean(y) - mean(f))²) / var(y)``.
    """
    if classes is not None:
        predicted = np.bincount(P.argmax(axis=1), minlength=len(classes)) / len(P)
        return float(predicted @ np.array([(y == c).mean() for c in classes]))
    f = P[:, 0]
    return float(-(f.var() + (y.mean() - f.mean()) ** 2) / y.var())


def chosen_name(fitted):
    """The search's choice: the ensemble, or its chosen candidate's strategy."""
    if fitted.choice_ == "ensemble":
        return "ensemble"
    return str(fitted.cv_results_["strategy"][fitted.best_index_])


def rule_choice(fitted, baseline):
    """The candidate ``refit="best"`` with the baseline's fallback chooses from ``cv_results_``."""
    r = fitted.cv_results_
    mean = np.asarray(r["mean_test_score"], dtype=float)
    best = int(np.nanargmax(mean))
    sem = r["std_test_score"][best] / np.sqrt(fitted.n_splits_)
    return baseline if mean[baseline] >= mean[best] - sem else best


def best_single_floor(fitted):
    """The best single-modality candidate's mean CV score less one standard error."""
    r = fitted.cv_results_
    single = np.flatnonzero([str(s).startswith("only ") for s in r["strategy"]])
    mean = np.asarray(r["mean_test_score"], dtype=float)[single]
    best = single[int(np.nanargmax(mean))]
    return float(r["mean_test_score"][best] - r["std_test_score"][best] / np.sqrt(fitted.n_splits_))


#: The chosen model's BBC mean, averaged over the CV seeds, that the ensemble should reach.
THRESHOLDS = {"mfeat": 0.990, "av": 0.995}


def thresholds(real):
    """Per table with a threshold: the chosen model's BBC mean over the seeds (at least 3) against it."""
    rows = []
    for key, goal in THRESHOLDS.items():
        values = [float(r["chosen BBC"]) for r in real if r["table"] == NAMES[key] and r.get("chosen BBC")]
        if values:
            rows.append({"table": NAMES[key], "seeds": len(values), "chosen BBC (mean of seeds)":
                         round(float(np.mean(values)), 4), "goal": goal,
                         "met": ("yes" if np.mean(values) >= goal else "NO") if len(values) >= 3
                         else f"not judged: {len(values)} seed(s), the goal asks for 3"})  # fmt: skip
    return rows


def run(name, work, seeds, permutations, n_jobs=None, done=print):
    """The rows of one table; ``done(real, perm, drop)`` after each seed, so a long run keeps them."""
    root = work / name
    root.mkdir()
    frame, args = TABLES[name](root)
    real, perm, drop = [], [], []
    parallel = {} if n_jobs is None else {"n_jobs": n_jobs}  # else as mmsk fit chooses
    for seed in seeds:
        base, X, y, groups = mmsk_fit_search(frame, args, root, seed)
        base.set_params(**parallel)
        warm_workers(base.n_jobs)
        # timed on then off on even seeds, off then on on odd ones: neither order is favoured
        fits, seconds = {}, {}
        for dropping in (True, False) if seed % 2 == 0 else (False, True):
            start = time.perf_counter()
            fits[dropping] = clone(base).set_params(drop=dropping).fit(X, y, groups=groups)
            seconds[dropping] = time.perf_counter() - start
        fitted, full = fits[True], fits[False]
        nested = clone(base).set_params(refit="best", ensemble=True)
        outer = nested_estimate(nested, X, y, groups=groups, cv=outer_splitter(base.cv, groups, seed + 1))
        bbc = fitted.estimate_
        ens = fitted.ensemble_ or {}
        real.append({
            "table": NAMES[name], "seed": seed, "candidates": len(fitted.cv_results_["params"]),
            "best CV score": round(fitted.best_score_, 4),
            "BBC [95%]": f"{bbc['mean']:.4f} [{bbc['ci_low']:.4f}, {bbc['ci_high']:.4f}]",
            "nested [95%]": f"{outer['mean']:.4f} [{outer['ci_low']:.4f}, {outer['ci_high']:.4f}]",
            "BBC in nested CI": "yes" if outer["ci_low"] <= bbc["mean"] <= outer["ci_high"] else "NO",
            "nested in BBC CI": "yes" if bbc["ci_low"] <= outer["mean"] <= bbc["ci_high"] else "NO",
            "ensemble BBC": round(ens["estimate"]["mean"], 4) if ens.get("estimate") else "",
            "best candidate BBC (same resamples)": round(ens["candidate_estimate"]["mean"], 4)
            if ens.get("estimate") else "",
            "chosen": chosen_name(fitted),
        })  # fmt: skip
        chosen = fitted.chosen_estimate_["mean"]
        floor = best_single_floor(fitted)
        real[-1].update({"chosen BBC": round(chosen, 4), "best single - 1 SE": round(floor, 4),
                         "chosen >= best single - 1 SE": "yes" if chosen >= floor else "NO"})  # fmt: skip
        dropped = sorted(set(fitted.cv_results_["strategy"][fitted.cv_results_["status"] == "dropped"]))
        drop.append({
            "table": NAMES[name], "seed": seed, "processes": base.n_jobs or 1,
            "timed first": "on" if seed % 2 == 0 else "off",
            "seconds, dropping on": round(seconds[True], 1),
            "seconds, off": round(seconds[False], 1), "saved": f"{1 - seconds[True] / seconds[False]:.0%}",
            "chosen, on": real[-1]["chosen"], "chosen, off": chosen_name(full),
            "best candidate BBC, on": round(bbc["mean"], 4),
            "best candidate BBC, off": round(full.estimate_["mean"], 4),
            "dropped": ", ".join(dropped) or "-",
        })  # fmt: skip
        print(real[-1], drop[-1], flush=True)
        done(real, perm, drop)
    rng = np.random.default_rng(0)
    gaps, optimism, truths, fallback, plain, shares = [], [], [], [], [], []
    final, final_truths, by_estimate = [], [], []
    for p in range(permutations):
        base, X, y, groups = mmsk_fit_search(frame, args, root, p)
        order = rng.permutation(len(y))
        fitted = base.set_params(ensemble=False, **parallel).fit(X, y[order], groups=groups)
        baseline = int(np.flatnonzero(fitted.cv_results_["strategy"] == "baseline")[0])
        base = fitted.estimate_["candidate_oob"][baseline]
        gaps.append(fitted.estimate_["mean"] - base)
        mean = fitted.cv_results_["mean_test_score"]
        optimism.append(np.nanmax(mean) - mean[baseline])  # the plain best's, whatever the rule chose
        share = fitted.estimate_["chosen_share"]
        fallback.append(fitted.best_index_ == baseline)
        rule = rule_choice(fitted, baseline)
        by_estimate.append(fitted.best_index_ == baseline and rule != baseline)
        final.append(fitted.chosen_estimate_["mean"] - base)
        final_truths.append(
            label_free_score(fitted.oof_predictions_[fitted.best_index_], y[order], fitted.classes_) - base
        )
        plain.append(int(np.nanargmax(mean)) == baseline)
        shares.append(share[baseline])
        truths.append(sum(share[j] * label_free_score(fitted.oof_predictions_[j], y[order], fitted.classes_)
                          for j in np.flatnonzero(share)) - base)  # fmt: skip
    if permutations:
        gaps, truths, final = np.asarray(gaps), np.asarray(truths), np.asarray(final)
        perm.append({
            "table": NAMES[name], "permutations": permutations,
            "chosen model's estimate - baseline (mean)": round(float(final.mean()), 4),
            "its SE": round(float(final.std(ddof=1) / np.sqrt(len(final))), 4),
            "within 0.03": "yes" if abs(final.mean()) <= 0.03 else "NO",
            "chosen model's true score - baseline (mean)": round(float(np.mean(final_truths)), 4),
            "the rule's BBC - baseline (mean)": round(float(gaps.mean()), 4),
            "its SE over permutations": round(float(gaps.std(ddof=1) / np.sqrt(len(gaps))), 4),
            "true score of the rule's choices - baseline (mean)": round(float(truths.mean()), 4),
            "the rule's BBC - true score of its choices (mean)": round(float((gaps - truths).mean()), 4),
            "best CV - baseline CV (mean)": round(float(np.mean(optimism)), 4),
            "baseline chosen on all rows": f"{int(np.sum(fallback))} of {permutations}",
            "of which by the estimate": int(np.sum(by_estimate)),
            "best CV is the baseline": f"{int(np.sum(plain))} of {permutations}",
            "baseline's share of the bootstrap's choices (mean)": round(float(np.mean(shares)), 2),
        })  # fmt: skip
        print(perm[-1], flush=True)
    return real, perm, drop


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", choices=["av", "coco", "mfeat", "pom"],
                        default=["av", "coco", "mfeat", "pom"])  # fmt: skip
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="*",
        default=[0, 1, 2],
        help="CV seeds of the real-label rows (none: keep the table's rows as they are)",
    )
    parser.add_argument("--permutations", type=int, default=10)
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="parallel fits of each search (default: as mmsk fit)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mmsk_estimate_bench_"))
    # the rows of tables not run this time stay, from the section as it is, and so do a table's
    # real-label rows of seeds not run and its permutation row when none are run
    previous = section_tables("estimate")
    real, perm, drop = (previous + [[], [], []])[:3]
    for name in args.tables:
        table_name = NAMES[name]

        def kept(rows, replaced):
            return [r for r in rows if r["table"] != table_name or not replaced(r)]

        def reran(r):
            return str(r.get("seed")) in {str(s) for s in args.seeds}

        real, drop = kept(real, reran), kept(drop, reran)
        perm = kept(perm, lambda r: args.permutations > 0)

        def done(r, p, d, base=(real, perm, drop)):  # rewritten after every seed: a long run keeps them
            write(base[0] + r, base[1] + p, base[2] + d)

        # as mmsk fit runs its search: one BLAS thread, unreadable files listed once, libsvm's probabilities
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore", ExtractionWarning)
            warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn.svm")
            r, p, d = run(name, work, args.seeds, args.permutations, args.n_jobs, done=done)
        real, perm, drop = real + r, perm + p, drop + d
        write(real, perm, drop)


def write(real, perm, drop):
    body = [
        "## Is the estimate right? (`benchmarks/estimate.py`)",
        "",
        f"Machine: {machine()}. `mmsk fit`'s own search with default settings (its candidates, those "
        "left out by their cost included, its feature stages, its folds and its parallelism); 5-fold CV "
        "(by speaker for AV-digits). Nested: the whole search in 3 outer folds (AV-digits: 6, one speaker "
        "each, so that each inner search has 5 speakers for its 5 folds). 'candidates': how many the "
        "search compared.",
        "",
        "Real labels:",
        "",
        table(real, list(dict.fromkeys(k for row in real for k in row))),
        "",
        "Permuted labels (the true score of any choice is about the baseline's). The rule: the best "
        "candidate, falling back to the baseline when it beats it by no more than one standard error, "
        "on all rows and in-bag; its BBC is the bootstrap estimate of that rule. Then the estimate has "
        "the last word: the baseline is chosen when its out-of-bag mean is at least the rule's BBC "
        "('of which by the estimate'), and the chosen model's estimate is then the baseline's. 'True "
        "score': what predictions that know nothing of the labels score in expectation (the rule's "
        "choices weighted by how often the bootstrap made each); 'best CV is the baseline': how often "
        "the plain best would have been it:",
        "",
        table(perm, list(dict.fromkeys(k for row in perm for k in row))) if perm else "(not run)",
        "",
        "Dropping hopeless candidates, on and off:",
        "",
        table(drop, list(dict.fromkeys(k for row in drop for k in row))),
    ]
    goals = thresholds(real)
    if goals:
        body += ["", "The chosen model against its goal (BBC mean over the CV seeds):", "",
                 table(goals, list(goals[0]))]  # fmt: skip
    write_section("estimate", "\n".join(body))


if __name__ == "__main__":
    main()
