"""The ``mmsk`` command: thin, it parses, calls the library and prints."""

import argparse
import os
import sys
from dataclasses import fields

from ..auto import MODALITIES, FitSettings, UnreadableFilesError


def main(argv=None):
    """Entry point of the ``mmsk`` command."""
    parser = argparse.ArgumentParser(prog="mmsk", description="Multimodal learning with scikit-learn.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="Image-only vs audio-only vs fused on AV-digits.")
    demo.add_argument("--data-home", default=None, help="Folder holding fsdd/ (default: bundled).")
    demo.add_argument("--splits", type=int, default=3, help="Speaker-grouped folds (default 3).")
    fit = sub.add_parser(
        "fit",
        help="Extract features, search fusion strategies, save the best model and a report.",
        description="TABLE is a CSV or Parquet file; file paths in it are relative to its folder. "
        "Columns named with --text/--image/--audio/--video/--numeric/--categorical take that "
        "modality; every other column is detected (by extension and dtype) unless --only-named.",
        epilog="Exit status: 0 when every step succeeded; 3 when the model was saved but an "
        "explanation step (cross-validated predictions, importance, weights, nested estimate, report) "
        "failed, which summary.json and the report record ('partial'); 1 for bad input.",
    )
    fit.add_argument("table")
    fit.add_argument("--target", required=True, help="Column to predict.")
    for kind in MODALITIES:
        fit.add_argument(f"--{kind}", nargs="+", default=[], metavar="COL", help=f"{kind} column(s).")
    fit.add_argument(
        "--view",
        nargs="+",
        default=[],
        metavar="NAME=PATTERN",
        help="Group numeric columns into a named view by a glob or prefix (e.g. covarep=covarep_*); "
        "columns named <view>__<feature> form their view without it.",
    )
    for kind in ("image", "audio", "text"):
        fit.add_argument(
            f"--{kind}-encoder",
            default=None,
            metavar="NAME_OR_PATH",
            help=f"A pretrained Hugging Face model (local folder or hub name) for the {kind} columns, in "
            f"place of the classical features.",
        )
    for f in fields(FitSettings):  # every other setting, listed once in FitSettings
        if "cli" in f.metadata:
            flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
            fit.add_argument(
                flag, dest=f.name, default=f.default, help=f.metadata["help"], **f.metadata["cli"]
            )
    fit.add_argument("--no-nested", action="store_true", help="Kept for old scripts: no nested estimate.")
    fit.add_argument("--out", required=True, help="Output folder.")
    predict = sub.add_parser("predict", help="Predict the rows of a table with a model saved by mmsk fit.")
    predict.add_argument("model", help="The model file, or the output folder of mmsk fit.")
    predict.add_argument("table")
    predict.add_argument("--out", required=True, help="CSV of predictions to write.")
    predict.add_argument("--no-proba", action="store_true", help="Leave out class probabilities.")
    predict.add_argument(
        "--on-error",
        choices=("raise", "nan"),
        default="raise",
        help="Unreadable files: stop with their list (raise) or predict those rows from the "
        "modalities they have (nan).",
    )
    report = sub.add_parser("report", help="Rebuild report.html of a mmsk fit output folder.")
    report.add_argument("dir")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except UnreadableFilesError as exc:
        print(f"mmsk {args.command}: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"mmsk {args.command}: error: {message}", file=sys.stderr)
        return 1


def _run(args):

    if args.command == "demo":
        from .._demo import run_demo

        results = run_demo(args.data_home, n_splits=args.splits)
        fused = results["accuracy"].iloc[-1]
        best_single = results["accuracy"].iloc[:-1].max()
        verdict = "beats or matches" if fused >= best_single else "is BELOW"
        print(f"Fused {verdict} the better single modality ({fused:.3f} vs {best_single:.3f}).")
        return 0 if fused >= best_single else 1
    if args.command == "fit":
        from ..auto import fit_table

        named = {col: kind for kind in MODALITIES for col in getattr(args, kind)}
        views = dict(v.split("=", 1) for v in args.view if "=" in v)
        if len(views) != len(args.view):
            raise ValueError(f"--view takes NAME=PATTERN; got {args.view}")
        given = {f.name: getattr(args, f.name) for f in fields(FitSettings) if "cli" in f.metadata}
        if args.no_nested and given["estimate"] == "nested":
            given["estimate"] = "bbc"
        settings = FitSettings(
            target=args.target,
            modalities=named,
            views=views,
            encoders={
                kind: ref
                for kind in ("image", "audio", "text")
                if (ref := getattr(args, f"{kind}_encoder")) is not None
            },
            **given,
        )
        result = fit_table(args.table, out=args.out, settings=settings)
        return 0 if result["status"] == "complete" else 3
    if args.command == "predict":
        from ..auto import predict_table

        predictions = predict_table(args.model, args.table, proba=not args.no_proba, on_error=args.on_error)
        tmp = f"{args.out}.tmp"
        predictions.to_csv(tmp, index_label="row")
        os.replace(tmp, args.out)
        print(f"{len(predictions)} predictions written to {args.out}")
        return 0
    if args.command == "report":
        from ..report import write_report

        print(f"Report written to {write_report(args.dir)}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
