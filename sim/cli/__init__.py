"""Command line: ``overdue run``, ``compare``, ``plot``, ``sweep``, ``sweep-report``,
``calibrate``, ``report`` and ``reference``.

The parser is here; the commands are in :mod:`sim.cli.commands` (run, compare, plot,
reference), :mod:`sim.cli.sweeps` and :mod:`sim.cli.calibrate`, what they share in
:mod:`sim.cli.common`.

Exit codes: 0 success, 1 the run failed while writing, 2 a bad scenario or argument (nothing
is written), 130 interrupted (nothing partial is left behind).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sim.cli import calibrate
from sim.cli.commands import (
    cmd_compare,
    cmd_plot,
    cmd_reference,
    cmd_report,
    cmd_run,
)
from sim.cli.common import (
    DEFAULT_BEST_ON,
    DEFAULT_MAX_REPS,
    DEFAULT_PRECISION,
    DEFAULT_REPS,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    build_overrides,
    error,
    parse_set,
)
from sim.cli.sweeps import (
    cmd_sweep,
    cmd_sweep_report,
)
from sim.experiments.execution import WorkerLost
from sim.spec.params import ScenarioError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``overdue`` console script and ``python -m sim``."""
    args = _parser().parse_args(argv)
    warnings.showwarning = _warning_line
    try:
        return args.func(args)
    except (ScenarioError, UsageError) as exc:
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except OSError as exc:  # a full disk, a read-only directory, ...: one line, exit 1
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        error(f"cannot write or read {where}{exc.strerror or exc}")
        return EXIT_FAILED
    except WorkerLost as exc:
        error(str(exc))
        return EXIT_FAILED


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one ``warning:`` line each on stderr (not Python's two-line form)."""
    print(f"warning: {message}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse with the promised error: one ``error:`` line naming the argument, exit 2
    (``--help`` still shows the usage)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("overdue").strip()
        where = f"{command}: " if command else ""
        error(f"{where}{message} (overdue {command + ' ' if command else ''}--help)")
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="overdue", description="Discrete-event simulator of loan collections.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate one scenario and write a run directory")
    run.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario TOML file")
    _scenario_options(run)
    run.add_argument("--out", type=Path, metavar="DIR", help="run directory (results/NAME)")
    run.add_argument("--trace", action="store_true", help="also write events.parquet")
    run.add_argument(
        "--shards",
        type=int,
        default=1,
        metavar="K",
        help="split the book into K shards by borrower, simulated in parallel (--workers, "
        "--scheduler) and merged; each shard has its share of the agents",
    )
    run.add_argument(
        "--scheduler", metavar="ADDRESS", help="with --shards: an existing Dask cluster"
    )
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

    calibrate.add_parser(sub)

    rep = sub.add_parser(
        "report", help="one self-contained HTML report of a run, compare, sweep or calibration"
    )
    rep.add_argument("directory", type=Path, metavar="DIR", help="an output directory")
    rep.add_argument("--out", type=Path, metavar="FILE", help="where to write (DIR/report.html)")
    rep.set_defaults(func=cmd_report)

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
    parser.add_argument(
        "--full",
        action="store_true",
        help="print every metric (default: the figures a decision needs first)",
    )


__all__ = ["UsageError", "build_overrides", "main", "parse_set"]
