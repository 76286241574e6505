"""``overdue run``, ``compare``, ``plot``, ``report`` and ``reference``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.common import (
    DEFAULT_MAX_REPS,
    DEFAULT_PRECISION,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    build_overrides,
    checked_out_dir,
    error,
    progress_bar,
    write_or_fail,
)

if TYPE_CHECKING:
    from sim.spec import Scenario


def cmd_run(args: argparse.Namespace) -> int:
    """Validate everything, simulate, then write the run directory atomically.

    With ``--reps`` other than 1, run replications instead (:func:`_run_replications`).
    """
    from sim.spec import load_scenario

    plan = _replication_plan(args)
    if plan["reps"] != 1 and args.trace:
        raise UsageError("--trace: only with --reps 1 (a single run directory)")
    if args.shards < 1:
        raise UsageError(f"--shards: must be at least 1, got {args.shards}")
    if args.shards > 1 and plan["reps"] != 1:
        raise UsageError("--shards: only with --reps 1 (one run split into shards)")
    if args.scheduler and args.shards == 1:
        raise UsageError("--scheduler: only with --shards K (or use compare/sweep)")
    scenario = load_scenario(args.scenario, build_overrides(args))
    out_dir = checked_out_dir(args.out, scenario.name)
    if plan["reps"] != 1:
        return _run_replications(args, scenario, out_dir, plan)

    from sim.engine import simulate
    from sim.results.report import format_summary
    from sim.results.rundir import trace_spool_dir, write_run
    from sim.results.summary import summarize

    seed = scenario.seed
    _echo_overrides(args, [scenario])
    if args.shards > 1:
        from sim.experiments.shards import run_sharded

        with progress_bar(args.shards, args.quiet, unit="shard", desc="shards") as progress:
            records = run_sharded(scenario, args.shards, seed=seed, workers=plan["workers"],
                                  scheduler=args.scheduler, trace=args.trace,
                                  progress=progress)  # fmt: skip
        summary = summarize(records, scenario)
        path = write_or_fail(out_dir, lambda: write_run(out_dir, records, summary, scenario, seed))
    else:
        # A traced run streams its trace to disk as it goes (memory holds a slice of it, not
        # all of it); the file is moved into the run directory when that is written.
        spool = trace_spool_dir(out_dir) if args.trace else None
        try:
            with progress_bar(scenario.population.borrowers, quiet=args.quiet) as progress:
                records = simulate(
                    scenario, seed, trace=args.trace, progress=progress, trace_dir=spool
                )
            summary = summarize(records, scenario)
            path = write_or_fail(
                out_dir, lambda: write_run(out_dir, records, summary, scenario, seed)
            )
        finally:
            if spool is not None:
                shutil.rmtree(spool, ignore_errors=True)
    if path is None:
        return EXIT_FAILED
    print(format_summary(summary))
    print(f"run directory: {path}")
    return _plots(args, path)


def _replication_plan(args: argparse.Namespace) -> dict[str, Any]:
    """--reps, --precision, --max-reps and --workers, checked (UsageError names the option)."""
    from sim.experiments import replications as rp
    from sim.experiments.execution import check_workers

    try:
        reps = rp.check_reps(args.reps, "--reps")
        for option, value in (("--precision", args.precision), ("--max-reps", args.max_reps)):
            if value is not None and reps != "auto":
                raise ValueError(f"{option}: only with --reps auto")
        precision = DEFAULT_PRECISION if args.precision is None else args.precision
        max_reps = DEFAULT_MAX_REPS if args.max_reps is None else args.max_reps
        return {
            "reps": reps,
            "precision": rp.check_precision(precision, "--precision"),
            "max_reps": rp.check_max_reps(max_reps, "--max-reps"),
            "workers": check_workers(args.workers, "--workers"),
        }
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _replicate(
    args: argparse.Namespace, plan: dict[str, Any], run: Callable[..., Any], total: int
) -> Any:
    """``run(reps=..., progress=...)`` under a progress bar; warnings printed as one line."""
    with (
        warnings.catch_warnings(record=True) as caught,
        progress_bar(total, args.quiet, unit="replication", desc="replications") as progress,
    ):
        warnings.simplefilter("always")
        result = run(
            reps=plan["reps"],
            precision=plan["precision"],
            max_reps=plan["max_reps"],
            workers=plan["workers"],
            progress=progress,
        )
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return result


def _echo_overrides(args: argparse.Namespace, scenarios: list[Scenario]) -> None:
    """Say which settings the command line changed, and in which scenarios: a re-weighted
    book is not the file's book, whatever its name."""
    overrides = build_overrides(args)
    if overrides:
        names = ", ".join(s.name for s in scenarios)
        shown = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
        print(textwrap.fill(f"command-line settings, applied to {names}: {shown}", 100))


def _print_auto_note(plan: dict[str, Any], reps: int) -> None:
    """With --reps auto, how many replications were run and to what target."""
    if plan["reps"] == "auto":
        note = (
            f"--reps auto: {reps} replications (target: every headline metric's 95% CI "
            f"half-width within {100 * plan['precision']:g}% of its estimate or its floor; "
            f"cap {plan['max_reps']})"
        )
        print(textwrap.fill(note, 100))


def _run_replications(
    args: argparse.Namespace, scenario: Scenario, out_dir: Path, plan: dict[str, Any]
) -> int:
    """``run --reps N``: replications of one scenario, written as a replication directory
    (replications.parquet, estimates.parquet/.csv, manifest.json)."""
    from sim.experiments import replications as rp

    total = plan["reps"] if plan["reps"] != "auto" else rp.AUTO_START
    df = _replicate(args, plan, partial(rp.run_replications, scenario), total)
    table = rp.estimates_table(df)
    doc = rp.manifest(
        "replications", [scenario], [args.scenario], df,
        overrides=build_overrides(args), **plan,
    )  # fmt: skip
    path = write_or_fail(out_dir, lambda: rp.write_results(out_dir, df, {"estimates": table}, doc))
    if path is None:
        return EXIT_FAILED
    reps = int(df["replication"].nunique())
    title = f"{scenario.name}: {reps} replications, root seed {scenario.seed}"
    _echo_overrides(args, [scenario])
    print(rp.format_table(table, title, full=args.full))
    _print_auto_note(plan, reps)
    print(f"output directory: {path}")
    return _plots(args, path)


def cmd_compare(args: argparse.Namespace) -> int:
    """Validate everything, replicate every scenario with common random numbers, compare them
    with the first, then write the output directory atomically."""
    from sim.experiments import replications as rp
    from sim.spec import load_scenario

    plan = _replication_plan(args)
    if len(args.scenarios) < 2:
        raise UsageError("SCENARIO: compare needs at least two scenarios (champion first)")
    try:
        rp.check_metric(args.best_on, args.direction, "--best-on")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    overrides = build_overrides(args)
    scenarios = [load_scenario(path, overrides) for path in args.scenarios]
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names):
        raise UsageError(f"SCENARIO: scenario names must differ, got {', '.join(names)}")
    out_dir = checked_out_dir(args.out, "compare-" + "-".join(names))

    total = len(scenarios) * (plan["reps"] if plan["reps"] != "auto" else rp.AUTO_START)
    run = partial(rp.compare, scenarios, best_on=args.best_on, direction=args.direction)
    result = _replicate(args, plan, run, total)
    path = write_or_fail(
        out_dir, lambda: result.write(out_dir, args.scenarios, overrides=overrides, **plan)
    )
    if path is None:
        return EXIT_FAILED
    _echo_overrides(args, scenarios)
    print(result.format(full=args.full))
    _print_auto_note(plan, result.reps)
    print(f"output directory: {path}")
    return _plots(args, path)


def _plots(args: argparse.Namespace, out_dir: Path) -> int:
    """With ``--plots``, draw the charts of the directory just written."""
    return _draw(out_dir) if getattr(args, "plots", False) else EXIT_OK


def _draw(out_dir: Path, formats: tuple[str, ...] = ("png", "svg")) -> int:
    """Draw a run's or a comparison's charts into ``out_dir/plots``; print where."""
    from sim import plots
    from sim.results.rundir import RunDirError

    single = (out_dir / "outcomes.parquet").is_file()
    try:
        written = (plots.plot_run if single else plots.plot_comparison)(out_dir, formats)
    except (OSError, RunDirError) as exc:
        error(f"plots: cannot draw into {out_dir / plots.PLOTS_DIR}: {exc}")
        return EXIT_FAILED
    print(f"charts: {len(written)} files in {out_dir / plots.PLOTS_DIR}")
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    """``overdue plot DIR``: redraw the charts from the saved results only."""
    from sim.results import rundir

    directory = args.directory
    formats = ("png",) if args.no_svg else ("png", "svg")
    if not any((directory / m).is_file() for m in rundir.MARKERS):
        raise UsageError(f"DIR: {directory} is not a run, compare or sweep directory")
    manifest = directory / rundir.MANIFEST
    if manifest.is_file() and json.loads(manifest.read_text()).get("kind") == "sweep":
        from sim.experiments.sweep_report import write_report
        from sim.plots.sweep import draw_all

        print(f"report: {write_report(directory, formats, draw=draw_all)}")
        return EXIT_OK
    return _draw(directory, formats)


def cmd_report(args: argparse.Namespace) -> int:
    """``overdue report DIR``: one self-contained HTML file of any output directory."""
    from sim.report.build import ReportError, write

    try:
        path = write(args.directory, args.out)
    except ReportError as exc:
        raise UsageError(f"DIR: {exc}") from None
    print(f"report: {path}")
    return EXIT_OK


def cmd_reference(args: argparse.Namespace) -> int:
    """Print, write or check the generated scenario reference."""
    from sim.spec import reference

    path = args.path if args.path is not None else reference.DOC_PATH
    text = reference.generate()
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    elif args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            error(f"{path} is out of date; run: python -m sim reference --write")
            return EXIT_FAILED
    else:
        sys.stdout.write(text)
    return EXIT_OK
