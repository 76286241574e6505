"""Scale: finished accounts leave memory without changing a result, and a budget that CI
keeps on the work and memory each borrower costs (counted, not timed: a noisy machine cannot
make it flaky)."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import pandas as pd

from sim.engine import core, simulate
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BUDGET = json.loads((ROOT / "tests" / "data" / "perf_budget.json").read_text())


def test_recording_accounts_in_chunks_as_they_finish_changes_no_result(monkeypatch) -> None:
    """Outcomes and monthly rows recorded 7 accounts at a time, the accounts let go, give the
    same tables as recording them all at the end."""
    sc = load_scenario(ROOT / "scenarios" / "inflow.toml", {"population.borrowers": 600,
                                                           "days": 150.0})  # fmt: skip
    whole = simulate(sc, 3)
    monkeypatch.setattr(core, "FLUSH_ACCOUNTS", 7)
    chunked = simulate(sc, 3)
    pd.testing.assert_frame_equal(whole.outcomes, chunked.outcomes)
    pd.testing.assert_frame_equal(whole.monthly, chunked.monthly)
    assert whole.meta == chunked.meta


def test_the_performance_budget_per_borrower() -> None:
    """Events per borrower and peak traced memory per borrower (tracemalloc, the simulation
    alone) at the recorded size stay within 20% of the recorded figures
    (tests/data/perf_budget.json)."""
    n = BUDGET["borrowers"]
    sc = load_scenario(ROOT / BUDGET["scenario"], {"population.borrowers": n})
    gc.collect()
    tracemalloc.start()
    try:
        rec = simulate(sc)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    events = rec.meta["events"] / n
    memory = peak / n
    growth = BUDGET["allowed_growth"]
    assert events <= BUDGET["events_per_borrower"] * growth, (events, BUDGET)
    assert memory <= BUDGET["peak_bytes_per_borrower"] * growth, (memory, BUDGET)
