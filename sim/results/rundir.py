"""The run directory: one replication's tables and headline figures, written atomically.

Layout (see README "Run directory"): ``outcomes.parquet``, ``daily.parquet``,
``monthly.parquet``, ``events.parquet`` (only with tracing) and ``summary.json``.

Runs are byte-reproducible: the same scenario and seed give identical files. Nothing written
here depends on the clock, the host or the output path.

Atomicity: everything is written into a hidden sibling directory ``.{name}.tmp-<pid>`` and
renamed into place only when complete. An existing run directory is renamed aside first and
deleted after the new one is in place, so an interruption never leaves a half-written
``out_dir``. :func:`write_atomically` does this for any directory of outputs (the
replication and comparison directories of :mod:`sim.experiments.replications` use it too).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import sim
from sim.results import summary as metrics
from sim.results.daily import daily_table
from sim.results.records import Records
from sim.spec import Scenario

SUMMARY = "summary.json"
MANIFEST = "manifest.json"
MARKERS = (SUMMARY, MANIFEST)
"""Files that mark a directory as overdue's output, which may be replaced by a new run."""
TABLES = ("outcomes", "daily", "monthly", "events")


class RunDirError(ValueError):
    """``out_dir`` cannot be used for a run directory (names the directory)."""


def check_out_dir(out_dir: Path) -> None:
    """Refuse to replace anything but an empty directory or an earlier output of overdue
    (a run, replication or comparison directory: one holding a file of :data:`MARKERS`).

    Guards against ``--out .`` or ``--out ~`` deleting unrelated files.
    """
    out_dir = Path(out_dir)
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise RunDirError(f"{out_dir} exists and is not a directory")
    if any((out_dir / m).is_file() for m in MARKERS) or not any(out_dir.iterdir()):
        return
    raise RunDirError(
        f"{out_dir} exists and is not a run directory (no {' or '.join(MARKERS)}); "
        "refusing to replace it"
    )


def write_atomically(out_dir: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` to fill a fresh temporary sibling of ``out_dir``, then put it in
    place of ``out_dir``; return ``out_dir`` (absolute).

    ``out_dir`` is checked with :func:`check_out_dir` first, and debris of earlier
    interrupted writes is cleared (:func:`clean_debris`). The swap is one atomic exchange of
    the two directories where the system has it (Linux ``renameat2``), so at every instant
    ``out_dir`` is the previous output or the new one, a kill -9 included; elsewhere two
    renames, with the previous output restored by the next write if a kill falls between
    them. Ctrl-C and SIGTERM are held while the swap and the removal of the previous output
    run, and acted on after: an interruption then never separates them. On any error or
    interruption before the swap the temporary directory is removed and ``out_dir`` is left
    as it was.
    """
    out_dir = Path(out_dir).absolute()
    check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_debris(out_dir)
    tmp = _sibling(out_dir, "tmp", os.getpid())
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        write(tmp)
        _fsync_tree(tmp)
        with _signals_held():
            previous = _swap_into_place(tmp, out_dir)
            if previous is not None:
                shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def trace_spool_dir(out_dir: Path) -> Path:
    """Where a run streams its trace before the run directory is written
    (``simulate(..., trace_dir=...)``): a sibling of ``out_dir`` on the same file system, so
    the finished file moves into the new run directory with a rename. Left behind by a
    killed run, :func:`clean_debris` removes it."""
    return _sibling(Path(out_dir).absolute(), "trace", os.getpid())


def _sibling(out_dir: Path, kind: str, pid: int) -> Path:
    return out_dir.parent / f".{out_dir.name}.{kind}-{pid}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clean_debris(out_dir: Path) -> list[Path]:
    """Clear what interrupted writes of ``out_dir`` left behind, by processes no longer
    running: a ``.NAME.tmp-PID`` (never in place) and a ``.NAME.trace-PID`` (a streamed trace,
    :func:`trace_spool_dir`) are deleted; a ``.NAME.old-PID`` (a previous output moved aside)
    is put back if ``out_dir`` is missing, else deleted. Returns the paths removed or
    restored."""
    out_dir = Path(out_dir).absolute()
    done = []
    for kind in ("old", "tmp", "trace"):
        for path in sorted(out_dir.parent.glob(f".{out_dir.name}.{kind}-*")):
            pid = path.name.rpartition("-")[2]
            if not pid.isdigit() or _alive(int(pid)) and int(pid) != os.getpid():
                continue
            if kind == "trace" and int(pid) == os.getpid():
                continue  # this run's own trace, on its way into the run directory
            if kind == "old" and not out_dir.exists():
                os.replace(path, out_dir)
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            done.append(path)
    return done


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then act on them as usual.

    Python-level handlers that only note the signal, rather than a signal mask: the C-level
    handler may run in any thread (a progress bar's, Arrow's), and a mask set in the main
    thread would not stop it from interrupting the main thread's next step."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in dict.fromkeys(caught):
            os.kill(os.getpid(), signum)  # as if it came now, to the usual handler


def write_run(
    out_dir: Path, records: Records, summary: dict[str, Any], scenario: Scenario, seed: int
) -> Path:
    """Write one replication to ``out_dir`` atomically and return ``out_dir``."""
    return write_atomically(
        out_dir, lambda tmp: _write_contents(tmp, records, summary, scenario, seed)
    )


def read_run(out_dir: Path) -> dict[str, Any]:
    """Load a run directory: ``outcomes``, ``daily``, ``monthly``, ``events`` (DataFrame, or
    None when the run was not traced) and ``summary`` (dict)."""
    out_dir = Path(out_dir)
    summary_path = out_dir / SUMMARY
    if not summary_path.is_file():
        raise RunDirError(f"{out_dir} is not a run directory (no {SUMMARY})")
    run: dict[str, Any] = {}
    for name in TABLES:
        path = out_dir / f"{name}.parquet"
        run[name] = pd.read_parquet(path) if path.is_file() else None
    run["summary"] = json.loads(summary_path.read_text(encoding="utf-8"))
    return run


def summary_document(
    records: Records, summary: dict[str, Any], scenario: Scenario, seed: int
) -> dict[str, Any]:
    """The content of ``summary.json``: the headline metrics plus provenance."""
    doc = {
        **summary,
        "scenario": scenario.to_dict(),
        "seed": seed,
        "package_version": sim.__version__,
        "meta": records.meta,
    }
    return metrics.jsonable(doc)


# --------------------------------------------------------------------------- internals


def _write_contents(
    tmp: Path, records: Records, summary: dict[str, Any], scenario: Scenario, seed: int
) -> None:
    write_parquet(records.outcomes, tmp / "outcomes.parquet")
    write_parquet(daily_table(records), tmp / "daily.parquet")
    write_parquet(records.monthly, tmp / "monthly.parquet")
    if records.events is not None:
        write_parquet(records.events, tmp / "events.parquet")
    elif records.events_file is not None:  # a streamed trace: moved in, not copied
        os.replace(records.events_file, tmp / "events.parquet")
    write_json(summary_document(records, summary, scenario, seed), tmp / SUMMARY)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Deterministic parquet: no timestamps, fixed compression, a RangeIndex is not stored."""
    table = pa.Table.from_pandas(df, preserve_index=None)
    pq.write_table(table, path, compression="snappy")


def write_json(doc: dict[str, Any], path: Path) -> None:
    """Indented UTF-8 JSON with a final newline; NaN is refused (use None)."""
    text = json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def _fsync_tree(directory: Path) -> None:
    """Flush the files and the directory entry so a rename never exposes unwritten data."""
    for path in directory.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    system or the file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_into_place(tmp: Path, out_dir: Path) -> Path | None:
    """Put ``tmp`` in place of ``out_dir``; returns where the previous output now is (to be
    removed), or None if there was none."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return None
    if _exchange(tmp, out_dir):
        return tmp  # now holds the previous output
    old = _sibling(out_dir, "old", os.getpid())
    if old.exists():
        shutil.rmtree(old)
    os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        os.replace(old, out_dir)  # put the previous output back
        raise
    return old


def write_file_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write one file through a temporary sibling, fsync it, then rename it into place: a
    reader (or a kill at any instant) sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
