"""Time as an axis: a task only time solves, pooled statistics against temporal fusion nets.

Part one, the event-timing task (``mmsk.datasets.make_event_timing``: two
sequence views, T = 20 steps of d = 8 features, 2000 rows; the label is
whether the two views' events coincide, and every statistic over time is
independent of the label by construction):

- pooled: ``TemporalPooling()`` (its defaults) then each classical strategy
  (early, late, stacking, CCA, MKL, and scikit-learn's
  HistGradientBoostingClassifier), 5-fold CV, 3 seeds. Goal: each <= 0.60.
- temporal: FusionClassifier with a temporal family, on a 70/30 split per
  seed. Goal: >= 0.90 on complete test rows. Then 30% of the test rows lose
  one view (a or b at random): no error, and those rows score at least the
  best single-view model on them - 0.02 (one view alone carries nothing
  here, so that model is at chance).

Part two, overhead: the temporal net's seconds per epoch inside
FusionClassifier (skorch's own epoch timing) against a hand-written torch
loop of the same network with the same batch size. Goal <= 1.10 on CPU.

Part three, precision: FusionClassifier's seconds per epoch in float32
(the default) against float64, hidden 256 and batch 512 on 20,000 rows of two
64-feature views. Goal >= 1.5x.

Run: ``python benchmarks/temporal.py [--rows 2000] [--seeds 0 1 2] [--epochs 60]``.
Writes the ``temporal`` section of benchmarks/RESULTS.md.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import machine, table, write_section  # noqa: E402


def pooled_candidates(seed):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from mmsk.align import GCCA
    from mmsk.compose import TemporalPooling
    from mmsk.fusion import EarlyFusionClassifier, LateFusionClassifier
    from mmsk.mkl import MKLClassifier

    def pooled(model):
        return make_pipeline(TemporalPooling(), model).set_output(transform="pandas")

    return {
        "early": pooled(EarlyFusionClassifier(LogisticRegression(max_iter=3000))),
        "late": pooled(LateFusionClassifier(LogisticRegression(max_iter=3000))),
        "stacking": pooled(LateFusionClassifier(LogisticRegression(max_iter=3000), voting="stacking", cv=3)),
        "cca": pooled(make_pipeline(GCCA(n_components=10, reg=0.1, output="shared"), LogisticRegression())),
        "mkl": pooled(MKLClassifier(method="alignf", random_state=seed)),
        "gbm": pooled(HistGradientBoostingClassifier(random_state=seed)),
    }


def temporal_net(family, seed, epochs, view=None):
    from mmsk.fusion import FusionClassifier, GRUEncoder

    encoders = {"a": GRUEncoder, "b": GRUEncoder} if view is None else {view: GRUEncoder}
    return FusionClassifier(
        fusion=family,
        encoders=encoders if family != "temporal_concat" else None,
        hidden=64,
        embed_dim=32,
        max_epochs=epochs,
        early_stopping=True,
        patience=8,
        lr=3e-3,
        modality_dropout=0.3,
        random_state=seed,
    )


def part_one(args):
    from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

    from mmsk import sequence_arrays, sequence_frame
    from mmsk.datasets import make_event_timing

    pooled_rows, temporal_rows = [], []
    for seed in args.seeds:
        X, y = make_event_timing(args.rows, random_state=seed)
        cv = StratifiedKFold(5, shuffle=True, random_state=seed)
        for name, model in pooled_candidates(seed).items():
            start = time.perf_counter()
            score = cross_val_score(model, X, y, cv=cv).mean()
            pooled_rows.append({"strategy": name, "seed": seed, "accuracy": score,
                                "seconds": time.perf_counter() - start})  # fmt: skip
            print(pooled_rows[-1], flush=True)
        train, test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
        rng = np.random.default_rng(seed)
        hit = rng.random(len(test)) < 0.3
        lost = np.where(rng.random(len(test)) < 0.5, "a", "b")
        views = sequence_arrays(test)
        for v in ("a", "b"):
            views[v][hit & (lost == v)] = np.nan
        masked = sequence_frame(views, index=test.index)
        # one view alone: the best of a GRU on it and boosting on its pooled statistics
        singles = {}
        for v in ("a", "b"):
            columns = [c for c in X.columns if c.startswith(f"{v}__")]
            single = temporal_net("concat", seed, args.epochs, view=v).fit(train[columns], y_train)
            singles[v] = (single, columns)
        for family in args.families:
            net = temporal_net(family, seed, args.epochs)
            start = time.perf_counter()
            net.fit(train, y_train)
            seconds = time.perf_counter() - start
            complete = float((net.predict(test) == y_test).mean())
            on_missing = float((net.predict(masked)[hit] == y_test[hit]).mean())
            single = []
            for v, (model, columns) in singles.items():  # rows that kept view v
                kept = hit & (lost != v)
                single.append(model.predict(test.loc[kept, columns]) == y_test[kept])
            single = np.concatenate(single)
            temporal_rows.append({
                "family": family, "encoder": "GRUEncoder" if family != "temporal_concat" else "StepMLP + GRU",
                "seed": seed, "complete test rows": complete, "rows missing a view": on_missing,
                "single view on them": float(single.mean()), "epochs": len(net.net_.history),
                "seconds": seconds, "s / epoch": seconds / len(net.net_.history),
            })  # fmt: skip
            print(temporal_rows[-1], flush=True)
    return pd.DataFrame(pooled_rows), pd.DataFrame(temporal_rows)


def _hand_inputs(X):
    """The net's input built by hand, as a user of plain torch would: each view's steps side by side."""
    import torch

    from mmsk import sequence_arrays

    arrays = sequence_arrays(X)
    n = len(X)
    x = np.hstack([np.nan_to_num(a.reshape(n, -1)) for a in arrays.values()])
    steps = np.hstack([~np.isnan(a[..., 0]) for a in arrays.values()])
    mask = np.column_stack([~np.isnan(a).all(axis=(1, 2)) for a in arrays.values()])
    return {k: torch.as_tensor(v, dtype=torch.float32) for k, v in
            {"x": x, "mask": mask, "step_mask": steps}.items()}  # fmt: skip


def part_two(args):
    """FusionClassifier's epoch (skorch history) against a hand loop of its network on the same batches."""
    import copy

    import torch

    from mmsk.datasets import make_event_timing

    X, y = make_event_timing(args.rows, random_state=0)
    inputs, target = _hand_inputs(X), torch.as_tensor(np.asarray(y))
    rows = []
    for family in args.families:
        est_t, hand_t = [], []
        for _ in range(3):
            net = temporal_net(family, 0, 5)
            net.set_params(early_stopping=False)
            net.fit(X, y)
            est_t.append(float(np.mean(net.net_.history[:, "dur"])))
            module = copy.deepcopy(net.net_.module_)  # the same network (its weights do not change the time)
            opt = torch.optim.Adam(module.parameters(), lr=net.lr)
            loss_fn = torch.nn.CrossEntropyLoss()
            batch = net.net_.batch_size
            module.train()
            start = time.perf_counter()
            for _ in range(5):
                order = torch.randperm(len(target))
                for i in range(0, len(order), batch):
                    idx = order[i : i + batch]
                    opt.zero_grad()
                    loss_fn(module(**{k: v[idx] for k, v in inputs.items()}), target[idx]).backward()
                    opt.step()
            hand_t.append((time.perf_counter() - start) / 5)
        rows.append({"family": family, "FusionClassifier s / epoch": min(est_t),
                     "hand loop s / epoch": min(hand_t), "ratio": min(est_t) / min(hand_t)})  # fmt: skip
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def part_three(rows=20000, width=64, repeats=3):
    """FusionClassifier's seconds per epoch in float32 and float64 (hidden 256, batch 512), best of three."""
    from mmsk.fusion import FusionClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.normal(size=(rows, 2 * width)),
        columns=[f"a__{j}" for j in range(width)] + [f"b__{j}" for j in range(width)],
    )
    y = (X["a__0"] + X["b__0"] > 0).astype(int).to_numpy()
    out = []
    for fusion in ("concat", "attention"):
        seconds = {}
        for dtype in ("float32", "float64"):
            runs = []
            for _ in range(repeats):
                net = FusionClassifier(fusion=fusion, hidden=256, embed_dim=64, batch_size=512, max_epochs=3,
                                       dtype=dtype, random_state=0).fit(X, y)  # fmt: skip
                runs.append(float(np.mean(net.net_.history[:, "dur"])))
            seconds[dtype] = min(runs)
        out.append({"fusion": fusion, "rows": rows, "float32 s / epoch": seconds["float32"],
                    "float64 s / epoch": seconds["float64"],
                    "speed-up": seconds["float64"] / seconds["float32"]})  # fmt: skip
        print(out[-1], flush=True)
    return pd.DataFrame(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--families", nargs="+", default=["cross_attention", "temporal_concat"])
    args = parser.parse_args(argv)
    pooled, temporal = part_one(args)
    overhead = part_two(args)
    precision = part_three()
    by_strategy = pooled.groupby("strategy")["accuracy"].agg(["mean", "min", "max"]).reset_index()
    by_strategy["goal <= 0.60"] = np.where(by_strategy["max"] <= 0.60, "yes", "NO")
    by_family = (
        temporal.groupby(["family", "encoder"]).mean(numeric_only=True).reset_index().drop(columns="seed")
    )
    by_family[">= 0.90"] = np.where(by_family["complete test rows"] >= 0.90, "yes", "NO")
    by_family["missing >= single - 0.02"] = np.where(
        by_family["rows missing a view"] >= by_family["single view on them"] - 0.02, "yes", "NO"
    )
    overhead["<= 1.10"] = np.where(overhead["ratio"] <= 1.10, "yes", "NO")
    precision[">= 1.5x"] = np.where(precision["speed-up"] >= 1.5, "yes", "NO")
    body = "\n\n".join([
        "## Time as an axis (`benchmarks/temporal.py`)",
        f"Machine: {machine()}. Event timing: {args.rows} rows, two views of 20 steps x 8 features, the "
        f"label is whether the views' events coincide; seeds {args.seeds}.",
        "### Pooled statistics (TemporalPooling defaults), 5-fold CV accuracy, min/mean/max over seeds",
        table(by_strategy.to_dict("records"), list(by_strategy.columns)),
        "### Temporal fusion nets, 70/30 split per seed (means over seeds)",
        "GRU encoders (hidden 64, embed 32), Adam lr 3e-3, early stopping (patience 8, up to "
        f"{args.epochs} epochs), modality dropout 0.3. 'rows missing a view': 30% of the test rows lose view "
        "a or b; 'single view on them': a GRU net trained on the view those rows kept.",
        table(by_family.to_dict("records"), list(by_family.columns)),
        "### Per-epoch overhead against a hand-written torch loop (same network, same batch size, float32)",
        "The hand loop: the inputs built once as tensors, a permutation per epoch, one index per batch.",
        table(overhead.to_dict("records"), list(overhead.columns)),
        "### float32 against float64 (FusionClassifier, two views of 64 features, hidden 256, batch 512)",
        table(precision.to_dict("records"), list(precision.columns)),
    ])  # fmt: skip
    print(body)
    write_section("temporal", body)


if __name__ == "__main__":
    main()
