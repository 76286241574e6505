"""The human-agent pool: limited capacity, shifts, and a queue measured but not simulated.

Capacity is a ledger of time slots (``agents.slot_minutes`` long). Agents take answered
calls (the dialer rings; see :class:`sim.engine.rungs.agent_calls.AgentCalls`). A call books
its talk time in the first slot, at or after the moment it is answered, that still has
agent-minutes left; inside a slot the agents on shift work through the booked minutes in
parallel, so a call starts when the work booked ahead of it is done (a fluid first-come-
first-served queue). A call that finds its slot full rolls to the next slot with capacity;
calls that roll past the end of a day are the backlog.

Why a ledger and not a SimPy ``Resource``: a resource costs a request, a grant and a release
event per call, and agent calls are the bulk of all events. The issue's prototypes measured
0.68 of a bare daily tick with a work queue against 0.18 with capacity accounted inline, so
here a call costs no event beyond the borrower's own wake-up when it is answered (and at
its start, if it had to wait).

Lifecycle: built once per replication from the scenario; :meth:`book` reserves minutes and
returns the start time; :meth:`release` gives them back if the call is cancelled before it
starts (the account paid); :meth:`served` records the wait of a call that happened;
:meth:`daily` summarises per day at the end.
"""

from __future__ import annotations

import math

import numpy as np

from sim.spec import Scenario

MINUTES_PER_DAY = 1440.0
_EPS = 1e-9  # days: clock times computed two ways may differ in the last bits
_FULL = 1e-6  # agent-minutes: a slot with less left than this is full


def head_count(scenario: Scenario) -> int:
    """Agents for this population: ``per_10k_borrowers`` scaled, at least 1 unless zero."""
    per = scenario.agents.per_10k_borrowers
    if per <= 0:
        return 0
    return max(1, round(per * scenario.population.borrowers / 10_000))


class AgentPool:
    """Agent capacity over the horizon, booked in slots."""

    def __init__(self, scenario: Scenario, days: int) -> None:
        a, r = scenario.agents, scenario.rules
        self.head_count = head_count(scenario)
        self.slot = a.slot_minutes / MINUTES_PER_DAY  # slot length, days
        self.days = days
        n = math.ceil((days + 1) / self.slot)
        self.n_slots = n
        # The staffed part of every slot: shift and calling hours both hold there.
        lo = max(a.shift_start, r.call_start) / 24.0
        hi = min(a.shift_start + a.shift_hours, r.call_end) / 24.0
        starts = np.arange(n) * self.slot
        day = np.floor(starts + 1e-12)
        tod0 = starts - day
        open_ = np.clip(tod0, lo, hi)
        close = np.clip(tod0 + self.slot, lo, hi)
        weekend = (day.astype(int) % 7) >= 5
        staff = np.where(weekend, round(self.head_count * a.weekend_share), self.head_count)
        # A slot staffed for less than a millisecond is a rounding sliver at the end of the
        # window (its start lands 1 ulp short of the closing time): it has no capacity.
        staffed = (close - open_ > 1e-8) & (staff > 0)
        self.open = (day + open_).tolist()
        self.close = (day + close).tolist()
        self.staff = np.where(staffed, staff, 0).astype(float).tolist()
        cap = np.where(staffed, staff * (close - open_) * MINUTES_PER_DAY, 0.0)
        self.capacity = cap.tolist()
        self.used = [0.0] * n
        # Union-find "next slot that may have room": full or empty slots point past themselves.
        self._next = [i if c > 0 else i + 1 for i, c in enumerate(self.capacity)] + [n]
        self.capacity_by_day = np.bincount(day.astype(int), weights=cap, minlength=days + 1)[
            : days + 1
        ]
        self._busy_by_day = [0.0] * (days + 1)  # a list: bumped one element at a time
        # Served calls: when each was requested and when it started (days), as two flat
        # lists (several times faster to turn into arrays than a list of pairs).
        self._requested: list[float] = []
        self._started: list[float] = []

    def _find(self, i: int) -> int:
        nxt = self._next
        root = i
        while nxt[root] != root:
            root = nxt[root]
        while nxt[i] != root:  # path compression
            nxt[i], i = root, nxt[i]
        return root

    def book(self, t: float, minutes: float) -> tuple[float, int] | None:
        """Reserve ``minutes`` of agent time from time ``t`` (days).

        Returns ``(start, slot)``: the call starts at ``start`` (days, inside the shift and the
        calling hours), or None when no capacity is left before the horizon.
        """
        k = min(int(t / self.slot), self.n_slots)
        j = self._find(k)
        while j < self.n_slots:
            if t < self.close[j] - _EPS:
                start = self.open[j] + self.used[j] / self.staff[j] / MINUTES_PER_DAY
                start = max(t, start)
                if start < self.close[j] - _EPS:
                    break
            j = self._find(j + 1)
        else:
            return None
        self.used[j] += minutes
        if self.used[j] >= self.capacity[j] - _FULL:
            self._next[j] = j + 1
        self._busy_by_day[int(self.open[j])] += minutes
        return start, j

    def extend(self, slot: int, minutes: float) -> None:
        """Add minutes to a call already booked in ``slot`` (an answered call's talk time).

        The slot may run over its capacity by this much; later calls then roll on.
        """
        self.used[slot] += minutes
        if self.used[slot] >= self.capacity[slot] - _FULL:
            self._next[slot] = slot + 1
        self._busy_by_day[int(self.open[slot])] += minutes

    def release(self, slot: int, minutes: float) -> None:
        """Give back minutes of a call cancelled before it started.

        A slot once marked full stays skipped (a rare, small loss of capacity) because the
        union-find cannot be un-merged cheaply.
        """
        self.used[slot] -= minutes
        self._busy_by_day[int(self.open[slot])] -= minutes

    def served(self, requested: float, started: float) -> None:
        """Record a call that took place, for the wait and backlog statistics."""
        self._requested.append(requested)
        self._started.append(started)

    def daily(self) -> dict[str, np.ndarray]:
        """Per-day capacity, busy minutes, utilisation, delayed calls, mean wait, backlog and
        calls served (each by the day the call was answered)."""
        n = self.days + 1
        cap = self.capacity_by_day
        busy = np.minimum(np.asarray(self._busy_by_day), cap)
        util = np.divide(busy, cap, out=np.zeros(n), where=cap > 0)
        requested = np.asarray(self._requested, dtype=float)
        started = np.asarray(self._started, dtype=float)
        req_day = np.minimum(requested.astype(int), n - 1)
        start_day = np.minimum(started.astype(int), n - 1)
        wait_min = (started - requested) * MINUTES_PER_DAY
        n_calls = np.bincount(req_day, minlength=n)
        delayed = np.bincount(req_day, weights=wait_min > self.slot * MINUTES_PER_DAY, minlength=n)
        wait_sum = np.bincount(req_day, weights=wait_min, minlength=n)
        wait = np.divide(wait_sum, n_calls, out=np.zeros(n), where=n_calls > 0)
        # A call requested on day a and started on day b > a is waiting at the end of days a..b-1.
        rolled = start_day > req_day
        diff = np.bincount(req_day[rolled], minlength=n + 1) - np.bincount(
            start_day[rolled], minlength=n + 1
        )
        backlog = np.cumsum(diff)[:n].astype(float)
        return {
            "agent_capacity_minutes": cap,
            "agent_busy_minutes": busy,
            "agent_utilisation": util,
            "agent_calls_delayed": delayed,
            "agent_wait_minutes": wait,
            "agent_backlog": backlog,
            "agent_calls_served": n_calls.astype(float),
        }
