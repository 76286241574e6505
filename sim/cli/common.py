"""What every command shares: exit codes and defaults, ``--set`` parsing, output
directories, writing with a clear error, the progress bar, and error messages."""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def checked_out_dir(out: Path | None, default_name: str) -> Path:
    """``--out`` (or ``results/<default_name>``), refused if it holds anything but output."""
    from sim.results.rundir import RunDirError, check_out_dir

    out_dir = out if out is not None else default_out_dir(default_name)
    try:
        check_out_dir(out_dir)
    except RunDirError as exc:
        raise UsageError(f"--out: {exc}") from None
    return out_dir


def write_or_fail(out_dir: Path, write: Callable[[], Path]) -> Path | None:
    """``write()``; on failure print the error and return None."""
    from sim.results.rundir import RunDirError

    try:
        return write()
    except (OSError, RunDirError) as exc:
        error(f"--out: cannot write {out_dir}: {exc}")
        return None


@contextmanager
def progress_bar(
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


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
