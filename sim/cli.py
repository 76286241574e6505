"""Command line: ``overdue run``, ``compare``, ``plot``, ``sweep``, ``sweep-report`` and
``reference``.

Exit codes: 0 success, 1 the run failed while writing, 2 a bad scenario or argument (nothing
is written), 130 interrupted (nothing partial is left behind).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import tomllib
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.spec.params import ScenarioError

if TYPE_CHECKING:
    from sim.spec import Scenario

# Mirrors of sim.replications' defaults (importing it here would load the engine for every
# command, including `reference`); a test checks they agree.
DEFAULT_REPS = 30
DEFAULT_PRECISION = 0.05
DEFAULT_MAX_REPS = 200
DEFAULT_BEST_ON = "money.net_recovery"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class UsageError(Exception):
    """A bad command-line argument; the message names it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``overdue`` console script and ``python -m sim``."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, UsageError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="overdue", description="Discrete-event simulator of loan collections."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate one scenario and write a run directory")
    run.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario TOML file")
    _scenario_options(run)
    run.add_argument("--out", type=Path, metavar="DIR", help="run directory (results/NAME)")
    run.add_argument("--trace", action="store_true", help="also write events.parquet")
    _replication_options(run, default_reps="1")
    _plot_options(run)
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    cmp = sub.add_parser(
        "compare", help="replicate scenarios with common random numbers and compare them"
    )
    cmp.add_argument(
        "scenarios",
        type=Path,
        nargs="+",
        metavar="SCENARIO",
        help="scenario TOML files; the first is the champion",
    )
    _scenario_options(cmp)
    cmp.add_argument(
        "--out", type=Path, metavar="DIR", help="output directory (results/compare-NAMES)"
    )
    _replication_options(cmp, default_reps=str(DEFAULT_REPS))
    cmp.add_argument(
        "--best-on",
        default=DEFAULT_BEST_ON,
        metavar="METRIC",
        help=f"metric on which to select the best policy (default {DEFAULT_BEST_ON})",
    )
    cmp.add_argument(
        "--direction",
        choices=("max", "min"),
        help="whether higher or lower is better on --best-on (default: the metric's)",
    )
    _plot_options(cmp)
    cmp.add_argument("--quiet", action="store_true", help="no progress bar")
    cmp.set_defaults(func=cmd_compare)

    plot = sub.add_parser("plot", help="(re)draw the charts of a run, compare or sweep directory")
    plot.add_argument("directory", type=Path, metavar="DIR", help="run, compare or sweep directory")
    plot.add_argument("--no-svg", action="store_true", help="PNG only")
    plot.set_defaults(func=cmd_plot)

    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable; local or Dask)")
    sweep.add_argument("sweep_file", type=Path, metavar="SWEEP", help="sweep TOML file")
    sweep.add_argument("--out", type=Path, metavar="DIR", help="sweep directory (results/NAME)")
    _scenario_options(sweep)
    sweep.add_argument("--reps", type=int, metavar="R", help="replications per design point")
    sweep.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: all cores)"
    )
    sweep.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)"
    )
    sweep.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(func=cmd_sweep)

    report = sub.add_parser("sweep-report", help="tables and charts of a sweep directory")
    report.add_argument("directory", type=Path, metavar="DIR", help="sweep directory")
    report.add_argument("--svg", action="store_true", help="also write SVG charts")
    report.add_argument(
        "--reference",
        type=int,
        metavar="POINT",
        help="also compare every point with this one on paired replications",
    )
    report.set_defaults(func=cmd_sweep_report)

    ref = sub.add_parser("reference", help="print or write docs/scenario_reference.md")
    mode = ref.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the file instead of printing")
    mode.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    ref.add_argument("--path", type=Path, help="file to write or check (default: docs/...)")
    ref.set_defaults(func=cmd_reference)
    return parser


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    """--borrowers, --seed, --days and --set: overrides of the scenario(s)."""
    parser.add_argument("--borrowers", type=int, metavar="N", help="set population.borrowers")
    parser.add_argument(
        "--seed", type=int, metavar="S", help="root seed (default: the (first) scenario's)"
    )
    parser.add_argument("--days", type=float, metavar="D", help="set days (the horizon)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a key by dotted path; VALUE is TOML (a bare word is taken as a string)",
    )


def _plot_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plots", action="store_true", help="also draw the charts (PNG and SVG) into DIR/plots"
    )


def _replication_options(parser: argparse.ArgumentParser, default_reps: str) -> None:
    """--reps, --precision, --max-reps and --workers."""
    parser.add_argument(
        "--reps",
        default=default_reps,
        metavar="N|auto",
        help=f"replications (default {default_reps}); 'auto': until --precision is reached",
    )
    parser.add_argument(
        "--precision",
        type=float,
        metavar="P",
        help=f"with --reps auto: CI half-width within P x estimate (default {DEFAULT_PRECISION})",
    )
    parser.add_argument(
        "--max-reps",
        type=int,
        metavar="M",
        help=f"with --reps auto: at most M replications (default {DEFAULT_MAX_REPS})",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="worker processes (default: all cores)"
    )


# --------------------------------------------------------------------------- run


def parse_set(item: str) -> tuple[str, Any]:
    """``'a.b=30'`` -> ``('a.b', 30)``: the value is parsed as TOML, else kept as a string."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--set: expected KEY=VALUE, got {item!r}")
    raw = raw.strip()
    try:
        return key, tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return key, raw


def build_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Dotted-path overrides from ``--set``, ``--borrowers``, ``--days`` and ``--seed``."""
    overrides = dict(parse_set(item) for item in args.overrides)
    if args.borrowers is not None:
        overrides["population.borrowers"] = args.borrowers
    if args.days is not None:
        overrides["days"] = args.days
    if args.seed is not None:
        overrides["seed"] = args.seed
    return overrides


def default_out_dir(name: str) -> Path:
    """``results/<name>``, provided the scenario name is a plain file name."""
    if not _SAFE_NAME.fullmatch(name) or name in {".", ".."}:
        raise UsageError(f"name: {name!r} cannot be used as a directory name; pass --out DIR")
    return Path("results") / name


def _checked_out_dir(out: Path | None, default_name: str) -> Path:
    """``--out`` (or ``results/<default_name>``), refused if it holds anything but output."""
    from sim.results.rundir import RunDirError, check_out_dir

    out_dir = out if out is not None else default_out_dir(default_name)
    try:
        check_out_dir(out_dir)
    except RunDirError as exc:
        raise UsageError(f"--out: {exc}") from None
    return out_dir


def cmd_run(args: argparse.Namespace) -> int:
    """Validate everything, simulate, then write the run directory atomically.

    With ``--reps`` other than 1, run replications instead (:func:`_run_replications`).
    """
    from sim.spec import load_scenario

    plan = _replication_plan(args)
    if plan["reps"] != 1 and args.trace:
        raise UsageError("--trace: only with --reps 1 (a single run directory)")
    scenario = load_scenario(args.scenario, build_overrides(args))
    out_dir = _checked_out_dir(args.out, scenario.name)
    if plan["reps"] != 1:
        return _run_replications(args, scenario, out_dir, plan)

    from sim.engine import simulate
    from sim.results.report import format_summary
    from sim.results.rundir import write_run
    from sim.results.summary import summarize

    seed = scenario.seed
    with _progress_bar(scenario.population.borrowers, quiet=args.quiet) as progress:
        records = simulate(scenario, seed, trace=args.trace, progress=progress)
    summary = summarize(records, scenario)
    path = _write(out_dir, lambda: write_run(out_dir, records, summary, scenario, seed))
    if path is None:
        return EXIT_FAILED
    print(format_summary(summary))
    print(f"run directory: {path}")
    return _plots(args, path)


# --------------------------------------------------------------------------- replications


def _replication_plan(args: argparse.Namespace) -> dict[str, Any]:
    """--reps, --precision, --max-reps and --workers, checked (UsageError names the option)."""
    from sim.experiments import replications as rp

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
            "workers": rp.check_workers(args.workers, "--workers"),
        }
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _replicate(
    args: argparse.Namespace, plan: dict[str, Any], run: Callable[..., Any], total: int
) -> Any:
    """``run(reps=..., progress=...)`` under a progress bar; warnings printed as one line."""
    with (
        warnings.catch_warnings(record=True) as caught,
        _progress_bar(total, args.quiet, unit="replication", desc="replications") as progress,
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


def _print_auto_note(plan: dict[str, Any], reps: int) -> None:
    """With --reps auto, how many replications were run and to what target."""
    if plan["reps"] == "auto":
        note = (
            f"--reps auto: {reps} replications (target: every headline metric's 95% CI "
            f"half-width within {100 * plan['precision']:g}% of its estimate or its floor; "
            f"cap {plan['max_reps']})"
        )
        print(textwrap.fill(note, 100))


def _write(out_dir: Path, write: Callable[[], Path]) -> Path | None:
    """``write()``; on failure print the error and return None."""
    from sim.results.rundir import RunDirError

    try:
        return write()
    except (OSError, RunDirError) as exc:
        _error(f"--out: cannot write {out_dir}: {exc}")
        return None


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
    path = _write(out_dir, lambda: rp.write_results(out_dir, df, {"estimates": table}, doc))
    if path is None:
        return EXIT_FAILED
    reps = int(df["replication"].nunique())
    title = f"{scenario.name}: {reps} replications, root seed {scenario.seed}"
    print(rp.format_table(table, title))
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
    out_dir = _checked_out_dir(args.out, "compare-" + "-".join(names))

    total = len(scenarios) * (plan["reps"] if plan["reps"] != "auto" else rp.AUTO_START)
    run = partial(rp.compare, scenarios, best_on=args.best_on, direction=args.direction)
    result = _replicate(args, plan, run, total)
    path = _write(
        out_dir, lambda: result.write(out_dir, args.scenarios, overrides=overrides, **plan)
    )
    if path is None:
        return EXIT_FAILED
    print(result.format())
    _print_auto_note(plan, result.reps)
    print(f"output directory: {path}")
    return _plots(args, path)


# --------------------------------------------------------------------------- charts


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
        _error(f"plots: cannot draw into {out_dir / plots.PLOTS_DIR}: {exc}")
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


# --------------------------------------------------------------------------- sweeps


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
        with _progress_bar(0, args.quiet, unit="unit", desc="sweep") as progress:
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
        _error(f"interrupted; finished units are kept: add --resume to finish {out_dir}")
        return EXIT_INTERRUPTED
    print(
        f"sweep {sweep.name}: {len(outcome.points)} points x {sweep.replications} replications"
        f" = {outcome.total} units; ran {outcome.ran}, already done {outcome.skipped}, "
        f"failed {outcome.failed}"
    )
    print(f"sweep directory: {outcome.directory}")
    if outcome.failed:
        _error(
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


# --------------------------------------------------------------------------- progress


@contextmanager
def _progress_bar(
    total: int, quiet: bool, unit: str = "account", desc: str = "simulating"
) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar over ``total`` units done (accounts finished, or replications), on stderr;
    silent for short runs and with --quiet. The total may grow while running."""
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        unit=unit,
        unit_scale=unit == "account",
        desc=desc,
        file=sys.stderr,
        delay=2,
        disable=True if quiet else None,  # None: off when stderr is not a terminal
        leave=False,
    )

    def update(done: int, total: int) -> None:
        if total != bar.total:
            bar.total = total
            bar.refresh()
        step = min(done, total) - bar.n
        if step > 0:
            bar.update(step)

    try:
        yield update
    finally:
        bar.close()


# --------------------------------------------------------------------------- reference


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
            _error(f"{path} is out of date; run: python -m sim reference --write")
            return EXIT_FAILED
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
