"""``overdue calibrate``: fit a scenario to a lender's observed figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    default_out_dir,
    error,
    progress_bar,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser(
        "calibrate", help="fit scenario keys to observed figures (resumable; local or Dask)"
    )
    cal.add_argument("file", type=Path, metavar="FILE", help="calibration TOML file")
    cal.add_argument("--out", type=Path, metavar="DIR", help="output directory (results/NAME)")
    cal.add_argument(
        "--trials",
        type=int,
        metavar="N",
        help="trials to finish (default: the file's); 0 checks the base scenario as it is",
    )
    cal.add_argument("--seed", type=int, metavar="S", help="root seed (default: the file's)")
    cal.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: all cores)"
    )
    cal.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)"
    )
    cal.add_argument("--resume", action="store_true", help="continue the search in --out")
    cal.add_argument("--no-plots", action="store_true", help="skip the charts")
    cal.add_argument("--quiet", action="store_true", help="no progress bar")
    cal.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Validate the file, then search, evaluate the best trial and write the results."""
    from sim.calibration.calibrate import calibrate
    from sim.calibration.report import format_fit
    from sim.calibration.search import CalibrationDirError
    from sim.calibration.spec import load_calibration
    from sim.experiments.execution import default_workers

    overrides = {}
    if args.trials is not None:
        overrides["trials"] = args.trials
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers: must be at least 1, got {args.workers}")
    cal = load_calibration(args.file, overrides)
    out_dir = args.out if args.out is not None else default_out_dir(cal.name)
    try:
        with progress_bar(cal.trials, args.quiet, unit="trial", desc="calibrating") as progress:
            result = calibrate(
                cal,
                out_dir,
                workers=args.workers or default_workers(),
                scheduler=args.scheduler,
                resume=args.resume,
                progress=progress,
                charts=not args.no_plots,
            )
    except CalibrationDirError as exc:
        raise UsageError(f"--out: {exc}") from None
    except KeyboardInterrupt:
        error(f"interrupted; finished trials are kept: add --resume to finish {out_dir}")
        return EXIT_INTERRUPTED
    except OSError as exc:
        error(f"--out: cannot write {out_dir}: {exc}")
        return EXIT_FAILED
    s = result.search
    if s is None:
        print(f"calibration {cal.name}: trials = 0, the base scenario checked as it is")
    else:
        print(f"calibration {cal.name}: {s.finished} trials finished ({s.ran} in this "
              f"session); best objective {s.best_objective:.3g}")  # fmt: skip
        for key, value in s.best_values.items():
            print(f"  {key} = {value:.6g}")
    print(format_fit(result.fit))
    for note in result.warnings:
        print(f"warning: {note}", file=sys.stderr)
    print(f"calibration directory: {out_dir}")
    return EXIT_OK
