"""``overdue sweep`` and ``overdue sweep-report``."""

from __future__ import annotations

import argparse
import sys

from sim.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    build_overrides,
    default_out_dir,
    error,
    progress_bar,
)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Validate the sweep file and every design point, then run the missing units."""
    from sim.experiments.sweep import load_sweep
    from sim.experiments.sweep_run import SweepDirError, run_sweep

    overrides = build_overrides(args)  # "seed" sets the sweep's root seed
    if args.reps is not None:
        overrides["replications"] = args.reps
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers: must be at least 1, got {args.workers}")
    sweep = load_sweep(args.sweep_file, overrides)
    out_dir = args.out if args.out is not None else default_out_dir(sweep.name)
    try:
        with progress_bar(0, args.quiet, unit="unit", desc="sweep") as progress:
            outcome = run_sweep(
                sweep,
                out_dir,
                workers=args.workers,
                scheduler=args.scheduler,
                resume=args.resume,
                progress=progress,
            )
    except SweepDirError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        error(f"interrupted; finished units are kept: add --resume to finish {out_dir}")
        return EXIT_INTERRUPTED
    print(
        f"sweep {sweep.name}: {len(outcome.points)} points x {sweep.replications} replications"
        f" = {outcome.total} units; ran {outcome.ran}, already done {outcome.skipped}, "
        f"failed {outcome.failed}"
    )
    print(f"sweep directory: {outcome.directory}")
    if outcome.failed:
        error(
            f"{outcome.failed} units failed (tracebacks in {outcome.directory / 'failures'}); "
            "rerun with --resume to retry them"
        )
        return EXIT_FAILED
    return EXIT_OK


def cmd_sweep_report(args: argparse.Namespace) -> int:
    """Write DIR/report: tables, charts, sensitivity indices and the EMA export."""
    from sim.experiments.sweep_report import report, write_report
    from sim.experiments.sweep_run import SweepDirError
    from sim.plots.sweep import draw_all

    formats = ("png", "svg") if args.svg else ("png",)
    try:
        rep = report(args.directory, reference=args.reference)
        path = write_report(args.directory, formats, reference=args.reference, draw=draw_all)
    except SweepDirError as exc:
        raise UsageError(f"DIR: {exc}") from None
    except ValueError as exc:  # a reference point without results
        raise UsageError(f"--{exc}") from None
    shown = [c for c in rep.points.columns if c in rep.metrics]
    table = rep.points[["point", *rep.parameters, *shown]]
    limit = 40
    print(table.head(limit).to_string(index=False, float_format=lambda x: f"{x:,.4g}"))
    if len(table) > limit:
        print(f"... {len(table) - limit} more points in {path / 'points.csv'}")
    print(f"Pareto front (recovery against harm): points {rep.pareto['point'].tolist()}")
    if rep.paired is not None:
        sig = rep.paired[rep.paired["significant"]]
        counts = sig.groupby("metric", sort=False).size().reindex(rep.metrics, fill_value=0)
        print(f"paired differences from point {rep.reference} (95% CI excludes 0), in paired.csv:")
        for metric, k in counts.items():
            print(f"  {metric}: {k} of {len(rep.points) - 1} points differ")
    if rep.sensitivity is not None:
        top = rep.sensitivity[rep.sensitivity["index"].isin(["ST", "mu_star"])]
        for metric, g in top.groupby("metric", sort=False):
            best = g.sort_values("value", ascending=False).head(3)
            ranked = ", ".join(
                f"{r.parameter} {r.value:.2f} ± {r.conf:.2f}" for r in best.itertuples()
            )
            print(f"most influential on {metric} ({best['index'].iloc[0]}): {ranked}")
    for note in rep.warnings:
        print(f"warning: {note}", file=sys.stderr)
    print(f"report: {path}")
    return EXIT_OK
