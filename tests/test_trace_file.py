"""A streamed trace (sim.results.trace_file): the same table as a trace held in memory, in
less memory, and moved into the run directory with nothing left behind."""

from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.engine import simulate
from sim.results import trace_file
from sim.results.rundir import read_run, trace_spool_dir
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _scenario(n: int = 500, days: float = 120.0):
    return load_scenario(ROOT / "scenarios" / "inflow.toml", {"population.borrowers": n,
                                                             "days": days})  # fmt: skip


def test_a_streamed_trace_is_the_trace_held_in_memory(tmp_path: Path, monkeypatch) -> None:
    """Spilled every 500 events into the slices of the horizon (so slices get many row
    groups, and the sort within each is exercised), the file holds the same rows in the same
    order as ``records.events``, and nothing else changes."""
    sc = _scenario()
    held = simulate(sc, 5, trace=True)
    monkeypatch.setattr(trace_file, "SPILL_EVENTS", 500)
    streamed = simulate(sc, 5, trace=True, trace_dir=tmp_path / "spool")
    assert streamed.events is None and streamed.events_file is not None
    assert held.events is not None and len(held.events) > 10 * 500
    events = pd.read_parquet(streamed.events_file)
    pd.testing.assert_frame_equal(events, held.events, check_dtype=True)
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == ["events.parquet"]
    pd.testing.assert_frame_equal(streamed.outcomes, held.outcomes)
    assert streamed.meta == held.meta


def test_streaming_holds_less_of_the_trace_in_memory(tmp_path: Path, monkeypatch) -> None:
    """Peak traced memory of the run (tracemalloc): the streamed trace holds at most a spill's
    worth of events, the held one all of them (about 150,000 here)."""
    sc = _scenario(2000, 150.0)
    monkeypatch.setattr(trace_file, "SPILL_EVENTS", 5000)

    def peak(**kw) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            simulate(sc, 1, trace=True, **kw)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    held = peak()
    streamed = peak(trace_dir=tmp_path / "spool")
    assert streamed < 0.75 * held, (streamed, held)


def test_overdue_run_trace_streams_into_the_run_directory(tmp_path: Path) -> None:
    """The CLI streams the trace and moves it into the run directory: the same table as a
    trace held in memory; no spool left; a spool left by a killed run is cleared."""
    out = tmp_path / "run"
    dead = out.parent / f".{out.name}.trace-{2**22 + 12345}"  # above pid_max: not running
    dead.mkdir()
    (dead / "slice-00.parquet").write_bytes(b"left by a killed run")
    args = ["--borrowers", "300", "--days", "60", "--seed", "2", "--trace", "--quiet"]
    code = main(["run", str(ROOT / "scenarios" / "inflow.toml"), *args, "--out", str(out)])
    assert code == 0
    sc = load_scenario(ROOT / "scenarios" / "inflow.toml",
                       {"population.borrowers": 300, "days": 60.0, "seed": 2})  # fmt: skip
    held = simulate(sc, 2, trace=True)
    pd.testing.assert_frame_equal(read_run(out)["events"], held.events)
    assert not trace_spool_dir(out).exists()
    assert not dead.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("bad", ["spill", "finish"])
def test_a_run_that_fails_leaves_no_spool(tmp_path: Path, monkeypatch, bad: str) -> None:
    """An error while the trace is written (disk full, say) leaves neither a run directory
    nor the spool: the CLI removes the spool whatever happened."""

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(trace_file.TraceSpool, bad, boom)
    out = tmp_path / "run"
    code = main(["run", str(ROOT / "scenarios" / "inflow.toml"), "--borrowers", "200",
                 "--days", "40", "--trace", "--quiet", "--out", str(out)])  # fmt: skip
    assert code != 0
    assert sorted(os.listdir(tmp_path)) == []
