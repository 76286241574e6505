"""The agent pool (sim.engine.agent_pool.AgentPool): capacity per slot, booking, rolling, backlog.

Day 0 is a Monday, so days 5 and 6 are the weekend. Times are days; 10/24 is 10:00.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import scenario

from sim.engine.agent_pool import AgentPool, head_count
from sim.engine.core import simulate

MIN = 1.0 / 1440.0  # one minute, in days


def _pool(
    agents: float = 10,
    shift: tuple[float, float] = (9.0, 8.0),
    hours: tuple[float, float] = (8.0, 22.0),
    weekend_share: float = 0.5,
    slot: float = 30.0,
    days: int = 14,
) -> AgentPool:
    """A pool of exactly ``agents`` agents (10,000 borrowers at ``agents`` per 10k)."""
    sc = scenario(
        {
            "population.borrowers": 10_000,
            "agents.per_10k_borrowers": agents,
            "agents.shift_start": shift[0],
            "agents.shift_hours": shift[1],
            "agents.weekend_share": weekend_share,
            "agents.slot_minutes": slot,
            "rules.call_start": hours[0],
            "rules.call_end": hours[1],
        }
    )
    return AgentPool(sc, days)


def _slot(pool: AgentPool, t: float) -> int:
    return int(t / pool.slot)


def test_capacity_is_staff_times_staffed_minutes_of_each_slot() -> None:
    # shift 09:15-16:45, calling hours 08:00-16:30: staffed 09:15-16:30 = 435 minutes
    pool = _pool(agents=10, shift=(9.25, 7.5), hours=(8.0, 16.5), weekend_share=0.5)
    assert pool.head_count == 10
    cap = pool.capacity
    for day, staff in ((0, 10), (4, 10), (5, 5), (6, 5), (7, 10)):
        at = lambda h, d=day: cap[_slot(pool, d + h / 24)]  # noqa: E731
        assert at(8.5) == 0  # before the shift
        assert at(9.0) == pytest.approx(staff * 15)  # 09:15-09:30 staffed
        assert at(9.5) == pytest.approx(staff * 30)
        assert at(16.0) == pytest.approx(staff * 30)  # 16:00-16:30
        assert at(16.5) == 0  # shift still on, calling hours over
        assert at(20.0) == 0
        assert pool.capacity_by_day[day] == pytest.approx(staff * 435)
    daily = pool.daily()
    np.testing.assert_allclose(daily["agent_capacity_minutes"], pool.capacity_by_day)
    assert daily["agent_capacity_minutes"].sum() == pytest.approx(
        sum(cap[: len(pool.capacity)]), rel=1e-12
    )


@pytest.mark.parametrize(("share", "weekend_staff"), [(0.0, 0), (0.3, 3), (1.0, 10)])
def test_weekend_staffing_share(share: float, weekend_staff: int) -> None:
    pool = _pool(agents=10, shift=(9.0, 8.0), hours=(8.0, 22.0), weekend_share=share)
    assert pool.capacity_by_day[5] == pytest.approx(weekend_staff * 480)
    assert pool.capacity_by_day[6] == pytest.approx(weekend_staff * 480)
    assert pool.capacity_by_day[4] == pytest.approx(10 * 480)


def test_a_booking_in_a_free_slot_starts_when_requested() -> None:
    pool = _pool(agents=3)
    t = 2 + 10 / 24 + 7 * MIN  # Wednesday 10:07
    start, slot = pool.book(t, 5.0)
    assert start == pytest.approx(t, abs=1e-12)
    assert slot == _slot(pool, t)


def test_a_full_slot_rolls_the_next_call_to_the_next_slot_with_capacity() -> None:
    pool = _pool(agents=1, slot=30.0)
    t = 10 / 24  # Monday 10:00
    starts = []
    for _ in range(30):  # 30 one-minute calls fill the 10:00-10:30 slot of one agent
        start, slot = pool.book(t, 1.0)
        starts.append(start)
        assert slot == _slot(pool, t)
    # one agent works through them one after another
    np.testing.assert_allclose(np.diff(starts), MIN, atol=1e-9)
    start, slot = pool.book(t, 1.0)
    assert slot == _slot(pool, t) + 1
    assert start == pytest.approx(10.5 / 24, abs=1e-9)


def test_a_call_after_the_last_staffed_slot_rolls_to_the_next_working_day() -> None:
    pool = _pool(agents=2, shift=(9.0, 8.0), weekend_share=0.0)
    start, _ = pool.book(4 + 20 / 24, 3.0)  # Friday 20:00, after the shift
    assert start == pytest.approx(7 + 9 / 24, abs=1e-9)  # Monday 09:00
    start, _ = pool.book(5 + 3 / 24, 3.0)  # Saturday 03:00
    assert start >= 7 + 9 / 24 - 1e-9


@pytest.mark.parametrize(
    ("shift", "hours"),
    [
        ((7.0, 12.0), (9.0, 18.0)),  # calling hours inside the shift
        ((9.0, 8.0), (8.0, 22.0)),  # shift inside the calling hours
        ((8.0, 14.0), (8.0, 17.0)),
        ((0.0, 24.0), (0.0, 24.0)),
    ],
)
def test_no_booking_starts_outside_the_shift_or_calling_hours(
    shift: tuple[float, float], hours: tuple[float, float]
) -> None:
    lo, hi = max(shift[0], hours[0]), min(shift[0] + shift[1], hours[1])
    pool = _pool(agents=2, shift=shift, hours=hours, weekend_share=0.0, days=21)
    rng = np.random.default_rng(3)
    starts = []
    for t in np.sort(rng.uniform(0, 14, 3000)):
        booking = pool.book(float(t), float(rng.uniform(1, 15)))
        if booking is None:
            continue
        start, slot = booking
        assert start >= t - 1e-12
        assert pool.open[slot] - 1e-9 <= start < pool.close[slot]
        starts.append(start)
    starts = np.array(starts)
    assert len(starts) > 1000
    tod = (starts - np.floor(starts)) * 24
    assert (tod >= lo - 1e-6).all() and (tod < hi - 1e-9).all()
    assert (np.floor(starts).astype(int) % 7 < 5).all()


def test_release_gives_minutes_back() -> None:
    pool = _pool(agents=1)
    t = 10 / 24
    s1, slot1 = pool.book(t, 20.0)
    s2, slot2 = pool.book(t, 9.0)
    assert slot1 == slot2
    assert s2 == pytest.approx(t + 20 * MIN, abs=1e-9)
    assert pool.daily()["agent_busy_minutes"][0] == pytest.approx(29.0)
    pool.release(slot1, 20.0)
    assert pool.daily()["agent_busy_minutes"][0] == pytest.approx(9.0)
    s3, slot3 = pool.book(t, 1.0)
    assert slot3 == slot1
    assert s3 == pytest.approx(t + 9 * MIN, abs=1e-9)  # only the 9 minutes are ahead of it


def test_extend_adds_talk_time_to_a_booked_call() -> None:
    pool = _pool(agents=1)
    t = 10 / 24
    _, slot = pool.book(t, 1.0)
    pool.extend(slot, 5.0)
    assert pool.daily()["agent_busy_minutes"][0] == pytest.approx(6.0)
    start, _ = pool.book(t, 1.0)
    assert start == pytest.approx(t + 6 * MIN, abs=1e-9)


def test_daily_utilisation_is_busy_over_capacity() -> None:
    pool = _pool(agents=4, shift=(9.0, 8.0), weekend_share=0.5)
    minutes = {0: 300.0, 1: 1000.0, 5: 120.0}
    for day, total in minutes.items():
        for k in range(10):
            pool.book(day + 9.5 / 24 + k * 10 * MIN, total / 10)
    d = pool.daily()
    for day, total in minutes.items():
        assert d["agent_busy_minutes"][day] == pytest.approx(total)
        assert d["agent_utilisation"][day] == pytest.approx(total / pool.capacity_by_day[day])
    assert d["agent_busy_minutes"][2] == 0 and d["agent_utilisation"][2] == 0
    assert d["agent_utilisation"][5] == pytest.approx(120.0 / (2 * 480))
    assert ((d["agent_utilisation"] >= 0) & (d["agent_utilisation"] <= 1)).all()


def test_backlog_counts_calls_rolled_past_the_end_of_a_day() -> None:
    pool = _pool(agents=1, shift=(9.0, 9.0), weekend_share=0.0, slot=30.0)
    # Monday: fill the last slot (17:30-18:00), then ask at 17:45: rolls to Tuesday 09:00
    t_fill = 17.5 / 24
    start, _ = pool.book(t_fill, 30.0)
    pool.served(t_fill, start)
    t_late = 17.75 / 24
    start, _ = pool.book(t_late, 5.0)
    assert start == pytest.approx(1 + 9 / 24, abs=1e-9)
    pool.served(t_late, start)
    # Friday 20:00: rolls over the weekend to Monday (day 7)
    t_fri = 4 + 20 / 24
    start_fri, _ = pool.book(t_fri, 5.0)
    assert start_fri == pytest.approx(7 + 9 / 24, abs=1e-9)
    pool.served(t_fri, start_fri)
    # a call served in its own slot is no backlog
    t_ok = 2 + 10 / 24
    start_ok, _ = pool.book(t_ok, 5.0)
    pool.served(t_ok, start_ok)
    d = pool.daily()
    backlog = d["agent_backlog"]
    assert backlog.tolist()[:9] == [1, 0, 0, 0, 1, 1, 1, 0, 0]
    delayed = d["agent_calls_delayed"]
    assert delayed[0] == 1 and delayed[4] == 1 and delayed[2] == 0
    # mean wait of Monday's two calls: 0 and (Tuesday 09:00 - Monday 17:45) = 915 minutes
    assert d["agent_wait_minutes"][0] == pytest.approx(915.0 / 2)


@pytest.mark.parametrize(
    ("shift", "hours"), [((9.0, 8.0), (8.0, 22.0)), ((8.0, 14.0), (8.0, 17.0))]
)
def test_a_full_last_slot_rolls_to_the_next_morning(
    shift: tuple[float, float], hours: tuple[float, float]
) -> None:
    """Regression: slot starts built as arange(n) * slot could fall 1 ulp short of the
    closing time, leaving a 'sliver' slot with ~1e-13 minutes of capacity that opened at the
    closing time; a call that found the day's last slot full was booked there and started at
    e.g. 17:00 when the shift and calling hours end at 17:00."""
    pool = _pool(agents=1, shift=shift, hours=hours, weekend_share=1.0, slot=30.0)
    end = min(shift[0] + shift[1], hours[1])
    opening = max(shift[0], hours[0])
    for day in range(5):
        last = day + (end - 0.5) / 24
        pool.book(last, 30.0)  # fills the last slot of the day
        start, _ = pool.book(last + 15 * MIN, 5.0)
        assert (start - np.floor(start)) * 24 < end - 1e-6 or np.floor(start) > day
        assert start == pytest.approx(day + 1 + opening / 24, abs=1e-9)


@pytest.mark.parametrize(
    ("per_10k", "borrowers", "expected"),
    [(20.0, 10_000, 20), (20.0, 25_000, 50), (20.0, 500, 1), (20.0, 100, 1), (0.4, 10_000, 1),
     (35.0, 1_000, 4), (0.0, 10_000, 0)],
)  # fmt: skip
def test_head_count_scales_with_the_population(
    per_10k: float, borrowers: int, expected: int
) -> None:
    sc = scenario({"agents.per_10k_borrowers": per_10k, "population.borrowers": borrowers})
    assert head_count(sc) == expected
    pool = AgentPool(sc, 7)
    assert pool.head_count == expected
    if expected == 0:
        assert pool.book(10 / 24, 1.0) is None
        assert pool.capacity_by_day.sum() == 0


def test_simulation_reports_the_head_count() -> None:
    sc = scenario({"agents.per_10k_borrowers": 500.0, "population.borrowers": 60}, days=3)
    rec = simulate(sc, 1)
    assert rec.meta["agents"] == head_count(sc) == 3
    daily = rec.daily
    assert daily["agent_capacity_minutes"].iloc[0] == pytest.approx(3 * 14 * 60)


def test_the_runs_mean_wait_is_the_mean_over_the_calls_served() -> None:
    """Regression: the summary weighted each day's mean wait by the day's dial attempts; the
    mean over served calls (from the pool's own record of each call) is what it must be."""
    from pathlib import Path

    from sim.engine.core import Model
    from sim.results.summary import summarize
    from sim.spec import load_scenario

    root = Path(__file__).resolve().parents[1]
    sc = load_scenario(
        root / "scenarios" / "baseline.toml",
        {"population.borrowers": 3000, "agents.per_10k_borrowers": 4.0, "days": 60.0},
    )
    m = Model(sc, 3)
    rec = m.run()
    waits = (np.asarray(m.pool._started) - np.asarray(m.pool._requested)) * 1440.0
    assert len(waits) > 500 and waits.mean() > 1.0  # calls did wait
    assert summarize(rec, sc)["agents"]["mean_wait_minutes"] == pytest.approx(waits.mean())
    assert rec.daily["agent_calls_served"].sum() == len(waits)
