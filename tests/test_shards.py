"""Sharded runs: the book split by borrower, simulated in parts, merged exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine import simulate
from sim.engine.core import shard_range, shard_share
from sim.experiments.shards import run_sharded, simulate_shard
from sim.results.merge import merge_records
from sim.results.summary import summarize
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _scenario(**over):
    return load_scenario(ROOT / "scenarios" / "baseline.toml",
                         {"population.borrowers": 900, "days": 60.0, **over})  # fmt: skip


def _same(a, b, exact: bool = True) -> None:
    """Identical tables; the money by channel identical, or (summed over shards in another
    order) equal to the last bits."""
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    pd.testing.assert_frame_equal(a.monthly, b.monthly)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    for x, y in ((a.costs, b.costs), (a.recovered_by_channel, b.recovered_by_channel)):
        assert x == (y if exact else pytest.approx(y, rel=1e-12))


@pytest.mark.parametrize("arrival", ["cohort", "inflow"])
def test_a_range_of_borrowers_draws_the_traits_they_have_in_the_whole_book(
    arrival: str, monkeypatch
) -> None:
    """A shard draws only its own borrowers' traits: every array equals the same rows of the
    whole population's draw (uniforms skipped by advancing the generator, normals and
    exponentials by drawing and discarding, here in chunks of 7 to cross their edges)."""
    from sim.engine import population
    from sim.engine.streams import Streams

    sc = _scenario(**{"population.arrival": arrival, "population.inflow_days": 30})
    whole = population.sample_traits(sc, Streams(5, 2))
    monkeypatch.setattr(population, "_DISCARD_CHUNK", 7)
    for lo, hi in ((0, 900), (0, 1), (13, 14), (100, 450), (899, 900)):
        part = population.sample_traits(sc, Streams(5, 2), lo, hi)
        assert part.first == lo and len(part) == hi - lo
        for name, value in vars(whole).items():
            got = getattr(part, name)
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(got, value[lo:hi], err_msg=name)
            elif isinstance(value, dict):
                for key, arr in value.items():
                    np.testing.assert_array_equal(got[key], arr[lo:hi], err_msg=key)
            elif name != "first":
                assert got == value, name


def test_ranges_partition_the_ids_and_the_team_is_split_whole() -> None:
    for n, k in ((10, 3), (1000, 8), (5, 7)):
        ranges = [shard_range(n, i, k) for i in range(k)]
        assert ranges[0][0] == 0 and ranges[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert [shard_share(10, i, 4) for i in range(4)] == [3, 3, 2, 2]
    assert sum(shard_share(7, i, 3) for i in range(3)) == 7


def test_one_shard_is_the_plain_run() -> None:
    sc = _scenario()
    _same(run_sharded(sc, 1), simulate(sc))


def test_the_result_for_k_shards_does_not_depend_on_the_workers() -> None:
    sc = _scenario()
    _same(run_sharded(sc, 3, workers=1), run_sharded(sc, 3, workers=2))


def test_without_a_shared_call_centre_every_k_gives_the_same_borrowers() -> None:
    """Common random numbers: borrower i has the same traits and draws whatever K; with no
    agent team (the only thing borrowers share) their histories are identical."""
    sc = _scenario(**{"ladder.agent.enabled": False})
    one, four = simulate(sc), run_sharded(sc, 4)
    _same(one, four, exact=False)
    s1, s4 = summarize(one, sc), summarize(four, sc)
    assert s1["funnel_counts"] == s4["funnel_counts"]
    assert s1["money"]["recovered"] == s4["money"]["recovered"]


def test_the_merge_sums_counters_and_orders_rows_by_borrower() -> None:
    sc = _scenario()
    parts = [simulate_shard(sc, sc.seed, k, 3, False) for k in range(3)]
    merged = merge_records(parts)
    assert list(merged.outcomes["borrower_id"]) == list(range(900))
    assert merged.meta["borrowers"] == 900 and merged.meta["shards"] == 3
    for col in ("sms", "agent_calls", "agent_calls_answered"):
        if col in merged.daily:
            np.testing.assert_array_equal(merged.daily[col], sum(p.daily[col] for p in parts))
    assert merged.meta["agents"] == simulate(sc).meta["agents"]
    # shards merged out of order come out in borrower-id order all the same
    backwards = merge_records(parts[::-1])
    pd.testing.assert_frame_equal(backwards.outcomes, merged.outcomes)
    pd.testing.assert_frame_equal(backwards.monthly, merged.monthly)
    assert merged.monthly["borrower_id"].is_monotonic_increasing


def test_a_traced_sharded_run_keeps_each_account_in_order() -> None:
    rec = run_sharded(_scenario(), 3, trace=True)
    ev = rec.events
    assert ev["time"].is_monotonic_increasing
    for _, g in ev.groupby("borrower_id"):
        assert g.sort_values("seq")["time"].is_monotonic_increasing


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_shard_counts_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="shards"):
        run_sharded(_scenario(), bad)
