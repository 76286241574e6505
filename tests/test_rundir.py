"""The atomic directory write: at every instant ``--out`` is the previous output or the new
one, whatever interrupts it, and debris of earlier interrupted writes is cleared."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sim.results import rundir


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _output(path: Path, text: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / rundir.SUMMARY).write_text(text)


def _write(text: str):
    return lambda tmp: (tmp / rundir.SUMMARY).write_text(text)


def _debris(out: Path) -> list[Path]:
    return [*out.parent.glob(f".{out.name}.tmp-*"), *out.parent.glob(f".{out.name}.old-*")]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two renames"])
def test_a_new_output_replaces_the_old_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if not exchange:
        monkeypatch.setattr(rundir, "_exchange", lambda a, b: False)
    out = tmp_path / "run"
    _output(out, "old")
    (out / "stale.parquet").write_text("x")
    rundir.write_atomically(out, _write("new"))
    assert (out / rundir.SUMMARY).read_text() == "new"
    assert not (out / "stale.parquet").exists()
    assert _debris(out) == []


def test_debris_of_dead_writers_is_cleared(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _output(out, "old")
    pid = _dead_pid()
    _output(tmp_path / f".run.tmp-{pid}", "half")
    _output(tmp_path / f".run.old-{pid}", "older")
    rundir.write_atomically(out, _write("new"))
    assert _debris(out) == []
    assert (out / rundir.SUMMARY).read_text() == "new"


def test_debris_of_a_live_writer_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "run"
    live = tmp_path / f".run.tmp-{os.getppid()}"  # the test runner's parent: alive
    _output(live, "busy")
    rundir.clean_debris(out)
    assert live.exists()


def test_a_previous_output_moved_aside_by_a_killed_writer_is_put_back(tmp_path: Path) -> None:
    """kill -9 between the two renames (systems without an atomic exchange): the next write
    finds no ``--out`` and the previous output aside, and puts it back first."""
    out = tmp_path / "run"
    _output(tmp_path / f".run.old-{_dead_pid()}", "previous")
    assert rundir.clean_debris(out)
    assert (out / rundir.SUMMARY).read_text() == "previous"


def test_an_interrupted_write_keeps_the_previous_output_and_leaves_no_debris(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    _output(out, "old")

    def interrupted(tmp: Path) -> None:
        (tmp / rundir.SUMMARY).write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rundir.write_atomically(out, interrupted)
    assert (out / rundir.SUMMARY).read_text() == "old"
    assert _debris(out) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two renames"])
def test_ctrl_c_during_the_swap_is_held_until_the_new_output_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    """SIGINT arriving between the renames (or inside the removal of the old output) is
    delivered only after the swap: the new output is in place, nothing is left aside."""
    out = tmp_path / "run"
    _output(out, "old")
    real_replace = os.replace

    def replace_with_a_signal(a, b):
        os.kill(os.getpid(), signal.SIGINT)
        return real_replace(a, b)

    if not exchange:
        monkeypatch.setattr(rundir, "_exchange", lambda a, b: False)
    monkeypatch.setattr(rundir.os, "replace", replace_with_a_signal)
    real_exchange = rundir._exchange

    def exchange_with_a_signal(a, b):
        os.kill(os.getpid(), signal.SIGINT)
        return real_exchange(a, b)

    if exchange:
        monkeypatch.setattr(rundir, "_exchange", exchange_with_a_signal)
    # Python's own Ctrl-C handler, whatever an earlier test in this process left installed
    # (a full run once failed here with SIGINT not raising at all)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            rundir.write_atomically(out, _write("new"))
    finally:
        signal.signal(signal.SIGINT, before)
    assert (out / rundir.SUMMARY).read_text() == "new"
    assert _debris(out) == []


def test_the_exchange_is_atomic_where_linux_has_it(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _output(a, "A")
    _output(b, "B")
    if not rundir._exchange(a, b):
        pytest.skip("no renameat2 on this system")
    assert (a / rundir.SUMMARY).read_text() == "B"
    assert (b / rundir.SUMMARY).read_text() == "A"
