"""The call centre's daily table: what the team was paid and did, and the call list's
progress, day by day (:func:`daily_staffing`), from the team's log of calls
(:class:`~sim.engine.agent_team.Served`) and the dialer's per-day counts. The run's
``daily`` table gets these columns; :mod:`sim.results.call_centre` reads them."""

from __future__ import annotations

import numpy as np

from sim.engine.agent_team import MINUTES_PER_DAY
from sim.engine.dialer import SECONDS_PER_DAY, Dialer


def daily_staffing(dialer: Dialer, days: int, paid_hours: float) -> dict[str, np.ndarray]:
    """Per-day staffing figures: what was paid and staffed, the calls put through,
    abandoned, their waits, and the list's progress. ``paid_hours``: each agent's shift."""
    team, n = dialer.team, days
    staff = np.array(
        [team.shift.staff(team.head_count, d) if d < dialer.horizon else 0 for d in range(n)],
        dtype=float,
    )
    c = team.calls
    offered = np.asarray(c.offered, dtype=float)
    started = np.asarray(c.started, dtype=float)
    ended = np.asarray(c.ended, dtype=float)
    day = np.minimum(offered.astype(int), n - 1)
    wait_s = (started - offered) * SECONDS_PER_DAY
    gone = np.minimum(np.asarray(c.abandoned_at, dtype=float).astype(int), n - 1)
    held = (np.asarray(c.held_to) - np.asarray(c.held_from)) * MINUTES_PER_DAY
    held_day = np.minimum(np.asarray(c.held_from, dtype=float).astype(int), n - 1)
    sl = dialer.model.sc.agents.service_level_seconds

    def by_day(where: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(where, weights=weights, minlength=n)[:n].astype(float)

    busy = by_day(day, (ended - started) * MINUTES_PER_DAY)
    paid = np.maximum(staff * paid_hours * 60.0, busy)  # overtime is paid
    served, abandoned = by_day(day), by_day(gone)
    dialled = np.array(dialer.dialled_by_day[:n], dtype=float)
    backlog = np.array(dialer.backlog_by_day[:n], dtype=float)
    cut = np.array(dialer.cut_by_day[:n], dtype=float)
    return {
        "agents_on_shift": staff,
        "agent_paid_minutes": paid,
        "agent_capacity_minutes": staff * (dialer.close - dialer.open) * MINUTES_PER_DAY,
        "agent_busy_minutes": busy,
        "agent_ringing_minutes": by_day(held_day, held),
        "agent_calls_answered": served + abandoned,
        "agent_calls_served": served,
        "agent_calls_cut": cut,
        "agent_calls_abandoned": abandoned,
        "agent_served_in_time": by_day(day, (wait_s <= sl + 1e-6).astype(float)),
        "agent_wait_seconds": by_day(day, wait_s),
        "list_dialled": dialled,
        "list_backlog": backlog,
        "list_due": dialled + backlog,
    }
