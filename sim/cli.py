"""Command line: ``overdue run SCENARIO ...`` and ``overdue reference``.

Exit codes: 0 success, 1 the run failed while writing, 2 a bad scenario or argument (nothing
is written), 130 interrupted (nothing partial is left behind).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.spec import ScenarioError

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
    run.add_argument("--borrowers", type=int, metavar="N", help="set population.borrowers")
    run.add_argument("--seed", type=int, metavar="S", help="root seed (default: the scenario's)")
    run.add_argument("--days", type=float, metavar="D", help="set days (the horizon)")
    run.add_argument("--out", type=Path, metavar="DIR", help="run directory (results/NAME)")
    run.add_argument("--trace", action="store_true", help="also write events.parquet")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a key by dotted path; VALUE is TOML (a bare word is taken as a string)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    ref = sub.add_parser("reference", help="print or write docs/scenario_reference.md")
    mode = ref.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the file instead of printing")
    mode.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    ref.add_argument("--path", type=Path, help="file to write or check (default: docs/...)")
    ref.set_defaults(func=cmd_reference)
    return parser


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


def cmd_run(args: argparse.Namespace) -> int:
    """Validate everything, simulate, then write the run directory atomically."""
    from sim.rundir import RunDirError, check_out_dir
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario, build_overrides(args))
    out_dir = args.out if args.out is not None else default_out_dir(scenario.name)
    try:
        check_out_dir(out_dir)
    except RunDirError as exc:
        raise UsageError(f"--out: {exc}") from None

    from sim import metrics, model
    from sim.rundir import write_run

    seed = scenario.seed
    with _progress_bar(scenario.population.borrowers, quiet=args.quiet) as progress:
        records = model.simulate(scenario, seed, trace=args.trace, progress=progress)
    summary = metrics.summarize(records, scenario)
    try:
        path = write_run(out_dir, records, summary, scenario, seed)
    except (OSError, RunDirError) as exc:
        _error(f"--out: cannot write {out_dir}: {exc}")
        return EXIT_FAILED
    print(metrics.format_summary(summary))
    print(f"run directory: {path}")
    return EXIT_OK


@contextmanager
def _progress_bar(accounts: int, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar over accounts finished, on stderr; silent for short runs and with --quiet."""
    from tqdm import tqdm

    bar = tqdm(
        total=accounts,
        unit="account",
        unit_scale=True,
        desc="simulating",
        file=sys.stderr,
        delay=2,
        disable=True if quiet else None,  # None: off when stderr is not a terminal
        leave=False,
    )

    def update(done: int, total: int) -> None:
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
    from sim import reference

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
