"""Scale: finished accounts leave memory without changing a result, and a budget that CI
keeps on the work and memory each borrower costs (counted, not timed: a noisy machine cannot
make it flaky)."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from sim.engine import core, outcomes, simulate
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


def test_rows_spilled_to_disk_as_the_run_goes_change_no_result(monkeypatch) -> None:
    """Rows written to the spill file every few accounts and read back at the end give the
    same tables as rows held in memory."""
    sc = load_scenario(ROOT / "scenarios" / "inflow.toml", {"population.borrowers": 600,
                                                           "days": 150.0})  # fmt: skip
    whole = simulate(sc, 3)
    monkeypatch.setattr(core, "FLUSH_ACCOUNTS", 7)
    monkeypatch.setattr(outcomes, "SPILL_BYTES", 3000)
    spilled = simulate(sc, 3)
    pd.testing.assert_frame_equal(whole.outcomes, spilled.outcomes)
    pd.testing.assert_frame_equal(whole.monthly, spilled.monthly)


def test_row_buffers_put_rows_in_id_order_from_spill_file_and_memory() -> None:
    """A buffer of numeric, boolean and text columns, spilled after every chunk but the
    last, against the same rows concatenated and stably sorted by pandas."""
    rng = np.random.default_rng(4)
    chunks = []
    for size in (5, 0, 9, 1, 12):
        chunks.append({
            "borrower_id": rng.integers(0, 6, size),
            "amount": rng.random(size),
            "reached": rng.random(size) < 0.5,
            "state": rng.choice(np.array(["open", "paid", "written_off"], dtype=object), size),
        })  # fmt: skip
    buffers = outcomes.RowBuffers(spill_bytes=1)
    for chunk in chunks[:-1]:
        buffers.append(chunk)
    assert buffers._file is not None and len(buffers.columns["amount"][0]) == 0
    buffers.spill_bytes = 10**9  # the last chunk stays in memory
    buffers.append(chunks[-1])
    got = buffers.sorted_by_id()
    whole = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    order = np.argsort(whole["borrower_id"], kind="stable")
    assert list(got) == list(whole)
    for k, v in whole.items():
        assert got[k].dtype == v.dtype, k
        np.testing.assert_array_equal(got[k], v[order])


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
