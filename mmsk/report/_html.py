"""One self-contained HTML page about a ``mmsk fit`` run: data, leaderboard, contributions, errors."""

import base64
import html
import io
import json
from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from ..utils._io import atomic_write
from .layout import (
    ABLATION_FILE,
    LEADERBOARD_FILE,
    PREDICTIONS_FILE,
    REPORT_FILE,
    SUMMARY_FILE,
    WEIGHTS_FILE,
    load_model,
)

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; }
th { background: #f4f4f4; } .note { color: #555; font-size: .9rem; }
figure { margin: .5rem 0; } img { max-width: 100%; }
.bad { color: #a00; }
"""


def _figure(fig, alt):
    """A matplotlib figure as an embedded PNG ``<figure>``, and the figure closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption class=note>{html.escape(alt)}</figcaption></figure>"
    )


def _table(frame, **kwargs):
    return frame.to_html(index=False, border=0, float_format=lambda v: f"{v:.4f}", **kwargs)


def _read_csv(path):
    return pd.read_csv(path) if path.exists() else None


def _model_plots(model, plt):
    """Figures for what the chosen model learned: kernel weights, canonical correlations."""
    from ..plot import plot_canonical_correlations, plot_kernel_weights

    final = model.steps[-1][1] if hasattr(model, "steps") else model
    parts = []
    if hasattr(final, "kernel_weights_"):
        fig, ax = plt.subplots(figsize=(6, 0.4 * len(final.kernel_weights_) + 1.5))
        plot_kernel_weights(final, ax=ax)
        parts.append(
            ("Kernel weights", _figure(fig, "Kernel weight of each view (multiple kernel learning)"))
        )
    steps = final.steps if hasattr(final, "steps") else []
    for _, step in steps:
        if hasattr(step, "canonical_correlations_"):
            fig, ax = plt.subplots(figsize=(6, 3.5))
            plot_canonical_correlations(step, ax=ax)
            parts.append(
                (
                    "Canonical correlations",
                    _figure(fig, "Canonical correlations of the views (training rows)"),
                )
            )
    return parts


def _step_name(step):
    """A step's class, and the pretrained model it embeds with, if any."""
    ref = getattr(step, "model_ref_", None)
    return type(step).__name__ + (f" ({ref})" if ref else "")


def _feature_stage(model):
    """What the saved feature stage runs per view, e.g. ``recording: AudioFeatures``."""
    from ..auto import feature_stages

    unions = feature_stages(model)
    parts = []
    for name, transformer, _ in getattr(unions[0], "transformers_", []) if unions else []:
        steps = transformer.steps if isinstance(transformer, Pipeline) else [(None, transformer)]
        parts.append(f"{name}: " + " + ".join(_step_name(step) for _, step in steps))
    return "; ".join(parts)


def _honesty(summary, metric, e):
    """The estimate of the choice, the ensemble, and the simpler candidates within one SE of the chosen."""
    parts = []
    estimate = summary.get("estimate")
    if estimate and estimate.get("method") == "nested":
        parts.append(
            f"<p>Nested estimate of the whole choice, on {len(estimate['scores'])} outer folds that "
            f"never chose it: {metric} <b>{estimate['mean']:.4f}</b>, 95% interval "
            f"<b>[{estimate['ci_low']:.4f}, {estimate['ci_high']:.4f}]</b> (outer scores "
            f"{', '.join(f'{v:.3f}' for v in estimate['scores'])}; chosen inside them: "
            f"{e(', '.join(estimate['chosen']))}). The leaderboard's best score is optimistic: the same "
            f"folds chose it.</p>"
        )
    elif estimate:
        parts.append(
            f"<p>Estimate of the whole choice (BBC-CV, {estimate['n_bootstrap']} bootstrap resamples of "
            f"the out-of-fold predictions: the choice made on the in-bag rows, scored on the others): "
            f"{metric} <b>{estimate['mean']:.4f}</b>, 95% interval <b>[{estimate['ci_low']:.4f}, "
            f"{estimate['ci_high']:.4f}]</b>. The leaderboard's best score is optimistic: the same folds "
            f"chose it.</p>"
        )
    ensemble = summary.get("ensemble")
    if ensemble:
        members = ", ".join(f"#{m} ({w:.2f})" for m, w in zip(ensemble["members"], ensemble["weights"]))
        est = ensemble.get("estimate")
        verdict = "chosen" if summary["best"]["strategy"] == "ensemble" else "not chosen"
        parts.append(
            f"<p>Ensemble of the candidates (greedy selection with replacement over their out-of-fold "
            f"probabilities): members and weights {e(members)}; {verdict}"
            + (
                f": its estimate {est['mean']:.4f} against the best candidate's "
                f"{ensemble['candidate_estimate']['mean']:.4f} on the same resamples"
                if est
                else ""
            )
            + ". Its leaderboard score is optimistic by construction (the selection saw those rows).</p>"
        )
    if summary.get("verdict"):
        parts.append(f"<p class=bad>{e(summary['verdict'])}</p>")
    parts.append(
        f"<p>Baseline {metric}: {summary['baseline_score']:.4f}"
        + (
            f"; best single modality ({e(summary['best_single']['strategy'])}): "
            f"{summary['best_single']['mean_score']:.4f}"
            if summary.get("best_single")
            else ""
        )
        + ".</p>"
    )
    skipped = summary.get("skipped") or []
    if skipped:
        parts.append(
            f"<p class=bad>Time limit ({summary.get('time_limit')} s) reached: not searched "
            f"{e(', '.join(skipped))}.</p>"
        )
    for failed in summary.get("failed_strategies") or []:
        parts.append(f"<p class=bad>Every fit of the {e(failed)} strategy failed (no score).</p>")
    dropped = summary.get("dropped") or []
    if dropped:
        parts.append(
            f"<p class=note>Dropped after their first folds, being worse than the best in 99% of bootstrap "
            f"resamples: {e(', '.join(dropped))} (status 'dropped' in the leaderboard).</p>"
        )
    left_out = summary.get("left_out") or []
    if left_out:
        parts.append(
            f"<p class=note>Left out by their cost on {summary['rows']} rows: {e(', '.join(left_out))} "
            f"(name them with <code>--strategies</code> to search them).</p>"
        )
    simpler = summary.get("simpler_within_one_se") or []
    if simpler:
        parts.append(
            f"<p class=note>Within one standard error of the chosen candidate, simpler ones score as "
            f"well: {e(', '.join(simpler))}. The difference is within the noise of the folds; "
            f"<code>--choose one-se</code> picks the simplest of them.</p>"
        )
    return parts


def _failures(failures, e):
    if not failures:
        return []
    rows = "".join(
        f"<li><b>{e(f['step'])}</b>: {e(f['error'])}<pre>{e(f.get('traceback', ''))}</pre></li>"
        for f in failures
    )
    return [
        f"<h2 class=bad>Partial run: {len(failures)} step(s) failed</h2>",
        "<p>The model was saved; these explanations are missing.</p>",
        f"<ul>{rows}</ul>",
    ]


def write_report(run_dir, *, path=None, model=None):
    """Write the HTML report of a ``mmsk fit`` output folder (what ``mmsk report`` runs).

    One self-contained page, plots embedded as PNG: the data summary (rows,
    each modality's missing values, every unreadable file), the
    leaderboard of fusion strategies with a plot, each modality's
    contribution (an ablation), the cross-validated confusion matrix (or,
    for regression, predicted against true values), and what the chosen
    model learned where it has it: kernel weights, canonical correlations,
    attention or gate weights per modality.

    Parameters
    ----------
    run_dir : str or path-like
        Folder written by :func:`mmsk.auto.fit_table`.
    path : str or path-like, default=None
        Where to write; default ``<run_dir>/report.html``.
    model : Pipeline, default=None
        The folder's fitted model, when the caller holds it already (as the
        run that saved it does); None reads it back from the folder.

    Returns
    -------
    path : Path
        The report, written atomically (a temporary file, then renamed).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay, PredictionErrorDisplay, classification_report

    from ..plot import plot_leaderboard, plot_modality_ablation

    run_dir = Path(run_dir)
    summary_path = run_dir / SUMMARY_FILE
    if not summary_path.exists():
        raise FileNotFoundError(f"{str(run_dir)!r} is not a mmsk fit output folder: no {SUMMARY_FILE}")
    summary = json.loads(summary_path.read_text())
    board = pd.read_csv(run_dir / LEADERBOARD_FILE).fillna({"params": ""})
    preds = _read_csv(run_dir / PREDICTIONS_FILE)
    ablation = _read_csv(run_dir / ABLATION_FILE)
    weights = _read_csv(run_dir / WEIGHTS_FILE)
    if model is None:
        model, _ = load_model(run_dir)
    classify = summary["task"] == "classification"
    metric = summary.get("metric") or ("accuracy" if classify else "r2")
    e = html.escape
    best = summary["best"]
    failures = [f for f in summary.get("failures", []) if f["step"] != "report"]

    parts = [
        f"<h1>mmsk: predicting <code>{e(summary['target'])}</code></h1>",
        f"<p>{e(summary['task'].capitalize())} on {summary['rows']} rows"
        + (f" of <code>{e(str(summary['table']))}</code>" if summary.get("table") else "")
        + f". Best strategy: <b>{e(best['strategy'])}</b> {e(str(best['params']))}, cross-validated "
        f"{metric} <b>{best['mean_score']:.4f}</b> ({e(summary['cv'])}"
        + (f", folds by <code>{e(summary['groups'])}</code>" if summary.get("groups") else "")
        + ").</p>",
        *_honesty(summary, metric, e),
        *_failures(failures, e),
        "<h2>Data</h2>",
        f"<p>{summary['rows']} rows used"
        + (
            f"; {summary['rows_without_target']} without a target left out"
            if summary["rows_without_target"]
            else ""
        )
        + f"; {summary['n_features']} features extracted.</p>",
        _table(pd.DataFrame(summary["detection"]).fillna("")),
        "<p class=note>Rows without a view: the view's values are missing or its file is unreadable; "
        "the fusion models use the other views for those rows.</p>",
        _table(pd.DataFrame(summary["views"])),
    ]
    sequences = [v["view"] for v in summary["views"] if v.get("sequence")]
    if sequences:
        parts.append(
            f"<p class=note>Sequence views ({e(', '.join(sequences))}): the <i>temporal</i> candidates read "
            "them step by step; every other candidate reads their statistics over time (mean, standard "
            "deviation, minimum, maximum, first, last and slope per feature: TemporalPooling).</p>"
        )
    unreadable = pd.DataFrame(summary["unreadable"], columns=["row", "column", "item", "error"])
    if len(unreadable):
        parts += [
            f"<h3 class=bad>{len(unreadable)} unreadable file(s)</h3>",
            f"<p class=note>Treated as missing (on_error={e(summary['on_error'])}).</p>",
            _table(unreadable),
        ]
    else:
        parts.append("<p>Every file was read.</p>")

    parts += [
        "<h2>Candidates</h2>",
        "<p class=note>The baseline predicts without looking at the data (the class prior, or the "
        "mean); each <i>only</i> row is a linear model on one modality alone. A fused model earns its "
        "place only by beating both.</p>",
        _table(board),
    ]
    fig, ax = plt.subplots(figsize=(9, 0.35 * board["strategy"].nunique() + 1.8))
    plot_leaderboard(board, ax=ax)
    ax.set_xlabel(f"cross-validated {metric} (mean +/- std over folds)")
    parts.append(_figure(fig, "Leaderboard: each strategy's best candidate; the dashed line is the baseline"))

    if ablation is not None and len(ablation):
        parts += ["<h2>What each modality contributes</h2>", _table(ablation)]
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(ablation) + 1.8))
        plot_modality_ablation(ablation, ax=ax)
        caption = (
            "Modality ablation: the chosen model's held-out score with each view made missing at predict time"
            if all(str(v).startswith(("all views", "without ")) for v in ablation["setting"])
            else "Modality ablation: the chosen model refit with each view alone and left out"
        )
        parts.append(_figure(fig, caption))

    parts.append("<h2>Errors (cross-validated predictions)</h2>")
    if preds is None:
        parts.append("<p class=bad>No cross-validated predictions: that step failed (see above).</p>")
    elif classify:
        labels = sorted(pd.unique(preds[["y_true", "y_pred"]].to_numpy().ravel()), key=str)
        size = min(12, 3 + 0.5 * len(labels))
        fig, ax = plt.subplots(figsize=(size, size * 0.85))
        ConfusionMatrixDisplay.from_predictions(
            preds["y_true"].astype(str),
            preds["y_pred"].astype(str),
            labels=[str(v) for v in labels],
            ax=ax,
            colorbar=False,
        )
        parts.append(_figure(fig, "Confusion matrix of the best strategy's cross-validated predictions"))
        text = classification_report(
            preds["y_true"].astype(str), preds["y_pred"].astype(str), zero_division=0
        )
        parts.append(f"<pre>{e(text)}</pre>")
    else:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        for ax, kind in zip(axes, ("actual_vs_predicted", "residual_vs_predicted")):
            PredictionErrorDisplay.from_predictions(
                preds["y_true"], preds["y_pred"], kind=kind, ax=ax, random_state=0
            )
        parts.append(_figure(fig, "Cross-validated predictions against true values, and residuals"))

    explained = _model_plots(model, plt)
    if weights is not None:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        weights.set_index("group").plot.bar(ax=ax)
        ax.set_ylabel("mean modality weight")
        ax.set_ylim(0, 1)
        ax.legend(title="view")
        explained.append(
            ("Modality weights", _figure(fig, "Mean attention/gate weight of each view, per class"))
        )
    if explained:
        parts.append("<h2>What the model learned</h2>")
        for title, figure in explained:
            parts += [f"<h3>{e(title)}</h3>", figure]

    versions = ", ".join(f"{k} {v}" for k, v in summary.get("versions", {}).items())
    seconds = pd.DataFrame(
        [{"step": k.replace("_", " "), "seconds": v} for k, v in summary.get("seconds", {}).items()]
    )
    parts += ["<h2>Time</h2>", _table(seconds)]
    parts.append(
        f"<p class=note>Scores are cross-validated with the feature stage ({e(_feature_stage(model))}) "
        f"refit inside every fold: what it learns never sees the held-out rows. {e(versions)}.</p>"
    )
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>mmsk report: {e(summary['target'])}</title><style>{_CSS}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )
    path = Path(path) if path is not None else run_dir / REPORT_FILE
    return atomic_write(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
