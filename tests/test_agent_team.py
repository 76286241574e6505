"""The agent team (sim.engine.agent_team) against queueing theory, and its shifts.

References are computed in sim.engine.queueing (Erlang C in closed form, Erlang A from its
birth-death chain). The simulated figures come from Poisson offers and exponential handle
times (and patience) fed straight to the team, seeded. Tolerance: 4 standard errors of the
batch means (20 batches, after a warm-up of 5% of the offers), so a correct queue fails about
once in 15,000 comparisons; an error that matters (a wait off by 10%) is many SEs away.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.agent_team import MINUTES_PER_DAY, AgentTeam, Shift
from sim.engine.queueing import erlang_a, erlang_b, erlang_c

ALL_DAY = Shift(start_hour=0.0, hours=24.0, weekend_share=1.0)
AGENTS = 20
HANDLE = 6.0  # minutes, mean
BATCHES = 20


def test_erlang_c_reproduces_the_worked_example() -> None:
    """360 calls per half hour, 4-minute calls, 55 agents: P(wait) 23.87%, mean wait 8.2 s."""
    r = erlang_c(55, 360 / 30, 1 / 4)
    assert r.p_wait == pytest.approx(0.2387, abs=5e-5)
    assert r.mean_wait * 60 == pytest.approx(8.18, abs=0.01)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_erlang_a_without_abandonment_is_erlang_c() -> None:
    c, mu = 20, 1 / 6
    for rho in (0.7, 0.85, 0.95):
        lam = rho * c * mu
        a, e = erlang_a(c, lam, mu, 1e-12), erlang_c(c, lam, mu)
        assert a.p_wait == pytest.approx(e.p_wait, rel=1e-6)
        assert a.mean_wait == pytest.approx(e.mean_wait, rel=1e-6)


def _simulate(rho: float, patience_mean: float, offers: int, seed: int):
    """Offer Poisson calls to the team; return per-call waits (minutes; NaN if abandoned)."""
    rng = np.random.default_rng(seed)
    lam = rho * AGENTS / HANDLE  # per minute
    times = np.cumsum(rng.exponential(1 / lam, offers)) / MINUTES_PER_DAY
    handles = rng.exponential(HANDLE, offers)
    patience = rng.exponential(patience_mean, offers) if patience_mean else np.full(offers, np.inf)
    team = AgentTeam(AGENTS, ALL_DAY, record=False)
    waits = np.empty(offers)
    for i, (t, h, p) in enumerate(
        zip(times.tolist(), handles.tolist(), patience.tolist(), strict=True)
    ):
        got = team.offer(t, h, p)
        waits[i] = np.nan if got is None else (got[0] - t) * MINUTES_PER_DAY
    return waits[offers // 20 :], patience[offers // 20 :]


def _batch_check(values: np.ndarray, expected: float, what: str) -> None:
    means = np.array([b.mean() for b in np.array_split(values, BATCHES)])
    se = means.std(ddof=1) / math.sqrt(BATCHES)
    assert abs(means.mean() - expected) <= 4 * se, (
        f"{what}: simulated {means.mean():.5f}, theory {expected:.5f}, 4 SE = {4 * se:.5f}"
    )


@pytest.mark.parametrize(("rho", "offers"), [(0.70, 100_000), (0.85, 150_000), (0.95, 300_000)])
def test_waits_match_erlang_c(rho: float, offers: int) -> None:
    waits, _ = _simulate(rho, 0.0, offers, seed=int(rho * 100))
    ref = erlang_c(AGENTS, rho * AGENTS / HANDLE, 1 / HANDLE)
    _batch_check((waits > 1e-9).astype(float), ref.p_wait, "P(wait)")
    _batch_check(waits, ref.mean_wait, "mean wait")


@pytest.mark.parametrize(("rho", "patience"), [(0.85, 2.0), (0.95, 2.0), (1.10, 5.0)])
def test_waits_and_abandonment_match_erlang_a(rho: float, patience: float) -> None:
    """Exponential patience (mean 2 or 5 minutes); offered loads up to 110% of the team."""
    waits, pat = _simulate(rho, patience, 150_000, seed=int(rho * 1000))
    ref = erlang_a(AGENTS, rho * AGENTS / HANDLE, 1 / HANDLE, 1 / patience)
    abandoned = np.isnan(waits)
    _batch_check(abandoned.astype(float), ref.p_abandon, "P(abandon)")
    # an arrival waits if it finds every agent busy, whether it then stays or hangs up
    waited = abandoned | (np.nan_to_num(waits) > 1e-9)
    _batch_check(waited.astype(float), ref.p_wait, "P(wait)")
    time_waited = np.where(abandoned, pat, waits)  # an abandoning caller waited its patience
    _batch_check(time_waited, ref.mean_wait, "mean wait")


def test_an_agent_serves_one_call_at_a_time_within_the_shift_and_calls_go_in_order() -> None:
    shift = Shift(start_hour=9.0, hours=9.0, weekend_share=0.5)
    team = AgentTeam(6, shift)
    rng = np.random.default_rng(3)
    t = 0.0
    while t < 14.0:  # two weeks of calls around the clock, far more than six agents handle
        t += rng.exponential(1 / 2.0) / MINUTES_PER_DAY
        team.offer(t, float(rng.gamma(2.0, 3.0)), patience_minutes=math.inf)
    c = team.calls
    offered, started, ended, agent = map(np.asarray, (c.offered, c.started, c.ended, c.agent))
    assert len(started) > 1000 and not c.abandoned_at
    assert (np.diff(started) >= -1e-12).all()  # first come, first served
    assert (started >= offered - 1e-12).all()
    for k in np.unique(agent):
        mine = np.argsort(started[agent == k])
        s, e = started[agent == k][mine], ended[agent == k][mine]
        assert (s[1:] >= e[:-1] - 1e-12).all(), f"agent {k} served two calls at once"
    day = np.floor(started).astype(int)
    tod = (started - day) * 24.0
    assert ((tod >= 9.0 - 1e-6) & (tod < 18.0)).all()  # starts only inside the shift
    weekend = day % 7 >= 5
    assert (agent[weekend] < shift.staff(6, 5)).all()  # 3 of 6 agents work at weekends
    assert set(agent[~weekend]) == set(range(6))


def test_a_team_with_nobody_abandons_every_call_and_bad_shifts_are_refused() -> None:
    team = AgentTeam(0, ALL_DAY)
    assert team.offer(0.5, 5.0) is None and len(team.calls.abandoned_at) == 1
    with pytest.raises(ValueError, match="head_count"):
        AgentTeam(-1, ALL_DAY)
    with pytest.raises(ValueError, match="shift"):
        AgentTeam(1, Shift(start_hour=9.0, hours=0.0))
    with pytest.raises(ValueError, match="utilisation"):
        erlang_c(5, 6.0, 1.0)
