"""The ``mmsk`` command: thin, it parses, calls the library and prints."""

import argparse
import sys


def main(argv=None):
    """Entry point of the ``mmsk`` command."""
    parser = argparse.ArgumentParser(prog="mmsk", description="Multimodal learning with scikit-learn.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="Image-only vs audio-only vs fused on AV-digits.")
    demo.add_argument("--data-home", default=None, help="Folder holding fsdd/ (default: bundled).")
    demo.add_argument("--splits", type=int, default=3, help="Speaker-grouped folds (default 3).")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from .._demo import run_demo

        results = run_demo(args.data_home, n_splits=args.splits)
        fused = results["accuracy"].iloc[-1]
        best_single = results["accuracy"].iloc[:-1].max()
        verdict = "beats or matches" if fused >= best_single else "is BELOW"
        print(f"Fused {verdict} the better single modality ({fused:.3f} vs {best_single:.3f}).")
        return 0 if fused >= best_single else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
