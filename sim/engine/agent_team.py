"""A team of human agents as an exact multi-server queue: shifts, one call per agent at a time,
first come first served, and callers who hang up when kept waiting too long.

This is the queue that answered agent calls meet; the dialer (:mod:`sim.engine.dialer`)
decides when calls are placed. It is the ``M/G/c+G`` model of a call centre, computed without
any simulation event of its own:

* Calls are offered in time order (:meth:`AgentTeam.offer`), which the dialer guarantees: it
  runs on the SimPy clock and offers the answers of one wave at one instant.
* Each agent serves one call at a time. A call takes the agent who is free first (FCFS): the
  earliest free time among the agents on shift, kept in a heap. Its wait is the time from the
  offer to that moment.
* A caller whose wait would exceed their patience hangs up: the call is abandoned and takes
  no agent time (the "offered wait" of queueing theory: the callers ahead of them who stayed
  are exactly those the heap has served).
* Agents work shifts: on a working day, agent ``k`` works ``[start, start + hours)`` if
  ``k`` is below that day's head-count (all agents on weekdays, ``weekend_share`` of them at
  weekends; day 0 is a Monday). A call may not start outside its agent's shift but may run
  over the end of it.

A progressive dialer instead takes a free agent first (:meth:`AgentTeam.take`) and keeps
them through the ringing (:meth:`AgentTeam.occupy`).

With Poisson offers, exponential handle times and one all-day shift it is ``M/M/c`` (Erlang C)
and with exponential patience ``M/M/c+M`` (Erlang A); ``tests/test_agent_team.py`` checks both
against :mod:`sim.engine.queueing`. Times are in days; handle time and patience in minutes.
"""

from __future__ import annotations

import heapq
import math
from array import array
from dataclasses import dataclass, field
from typing import Any

MINUTES_PER_DAY = 1440.0
_EPS = 1e-12  # days: shift boundaries computed two ways


def head_count(scenario: Any) -> int:
    """The team's head-count: ``agents.head_count``; else ``accounts_per_agent``, newly
    overdue accounts a month per agent (a cohort: the cohort's accounts per agent); else
    ``per_10k_borrowers`` scaled to the population. At least 1 when the figure is above
    zero; rounded half up (not to even: 2.5 agents are 3)."""
    a, p = scenario.agents, scenario.population
    if a.head_count:
        return a.head_count
    if a.accounts_per_agent > 0:
        monthly = (
            p.borrowers * min(1.0, 30.0 / p.inflow_days) if p.arrival == "inflow" else (p.borrowers)
        )
        return max(1, half_up(monthly / a.accounts_per_agent))
    if a.per_10k_borrowers <= 0:
        return 0
    return max(1, half_up(a.per_10k_borrowers * p.borrowers / 10_000))


def half_up(x: float) -> int:
    """``x`` rounded to the nearest whole number, halves up (Python's ``round`` takes halves
    to even: ``round(2.5) == 2``)."""
    return math.floor(x + 0.5)


@dataclass(frozen=True)
class Shift:
    """When the team works: clock hours of the shift and who works at weekends."""

    start_hour: float = 9.0
    hours: float = 9.0
    weekend_share: float = 1.0
    """Share of the head-count that works on Saturdays and Sundays (days 5 and 6 of a week
    that starts on day 0)."""

    def staff(self, head_count: int, day: int) -> int:
        """Agents on shift on ``day``: the weekend's share of the head-count rounded half up
        (5 agents at 0.5 are 3 at weekends, 3 are 2), and at least 1 while the share is
        above zero."""
        if day % 7 >= 5:
            if self.weekend_share <= 0 or head_count <= 0:
                return 0
            return max(1, half_up(head_count * self.weekend_share))
        return head_count


@dataclass
class Served:
    """The calls the team took: when each was offered, started and ended (days) and by whom,
    when each abandoned call was offered, and the ringing progressive agents waited through."""

    # Typed arrays, not lists: 8 bytes a figure instead of a boxed float and its pointer
    # (a few hundred bytes per borrower over a run).
    offered: array = field(default_factory=lambda: array("d"))
    started: array = field(default_factory=lambda: array("d"))
    ended: array = field(default_factory=lambda: array("d"))
    agent: array = field(default_factory=lambda: array("q"))
    abandoned_at: array = field(default_factory=lambda: array("d"))
    held_from: array = field(default_factory=lambda: array("d"))
    """Progressive dialing: when an agent was taken to wait through a ringing line ..."""
    held_to: array = field(default_factory=lambda: array("d"))
    """... and until when (the answer, or the dialer giving up on an unanswered line)."""

    def add(self, offered: float, started: float, ended: float, agent: int) -> None:
        """A call put through: offered, taken by ``agent`` at ``started``, done at ``ended``."""
        self.offered.append(offered)
        self.started.append(started)
        self.ended.append(ended)
        self.agent.append(agent)


class AgentTeam:
    """``head_count`` agents working ``shift``; see the module docstring."""

    def __init__(self, head_count: int, shift: Shift, record: bool = True) -> None:
        if head_count < 0:
            raise ValueError(f"head_count: must be >= 0, got {head_count}")
        if not 0 < shift.hours <= 24 or not 0 <= shift.start_hour < 24:
            raise ValueError(f"shift: hours in (0, 24] and a start in [0, 24), got {shift}")
        self.head_count = head_count
        self.shift = shift
        self._start = shift.start_hour / 24.0
        self._length = shift.hours / 24.0
        self._end = self._start + self._length
        self._weekend = shift.staff(head_count, 5)  # agents on shift at weekends
        # (time the agent is free, agent): agents not yet placed on a shift are free at 0.
        self._free: list[tuple[float, int]] = [(0.0, k) for k in range(head_count)]
        self.record = record
        self.calls = Served()

    def on_shift_from(self, agent: int, t: float) -> float:
        """The first moment at or after ``t`` when ``agent`` is on shift (inf if never)."""
        day = math.floor(t + _EPS)
        for d in range(day, day + 8):  # every agent works some day of any week, or none
            if agent >= self.shift.staff(self.head_count, d):
                continue
            opens, closes = d + self._start, d + self._start + self._length
            if t < closes - _EPS:
                return max(t, opens)
        return math.inf

    def _ready(self, now: float, limit: float) -> float | None:
        """When the agent free first (moved past any time off shift after ``now``) can take a
        call, if by ``limit`` (days); the heap's top is then that agent. None if nobody is
        ready by then."""
        free = self._free
        while free:
            at, agent = free[0]
            asked = at if at > now else now
            day = int(asked)  # fast path: on shift at ``asked`` (times are >= 0)
            if self._start <= asked - day < self._end - _EPS and (
                day % 7 < 5 or agent < self._weekend
            ):
                return asked if asked <= limit else None
            ready = self.on_shift_from(agent, asked)
            if ready == math.inf:  # never on shift again: out of the team
                heapq.heappop(free)
                continue
            if ready > asked:  # off shift then: move the agent to their next shift
                heapq.heapreplace(free, (ready, agent))
                continue
            return ready if ready <= limit else None
        return None

    def next_free(self, now: float) -> float:
        """When an agent is next free and on shift, at or after ``now`` (days; inf: never)."""
        ready = self._ready(now, math.inf)
        return math.inf if ready is None else ready

    def free_by(self, now: float, t: float) -> int:
        """Agents free and on shift by ``t`` (days), seen from ``now``, not yet given a call."""
        taken = []
        while self._ready(now, t) is not None:
            taken.append(heapq.heappop(self._free))
        for item in taken:
            heapq.heappush(self._free, item)
        return len(taken)

    def take(self, t: float) -> int | None:
        """Take an agent free and on shift at ``t`` for a progressive dial (None: nobody).

        The agent is out of the heap until :meth:`occupy` puts them back."""
        if self._ready(t, t) is None:
            return None
        return heapq.heappop(self._free)[1]

    def release(self, agent: int, t: float) -> None:
        """Give back an agent taken at ``t`` who got no call."""
        heapq.heappush(self._free, (t, agent))

    def occupy(self, agent: int, held_from: float, start: float, handle_minutes: float) -> float:
        """A taken agent waits through the ringing from ``held_from`` and, if the call is
        answered at ``start``, handles it for ``handle_minutes`` (0: unanswered, the agent is
        free at ``start``). Returns when the agent is free again (days)."""
        end = start + handle_minutes / MINUTES_PER_DAY
        heapq.heappush(self._free, (end, agent))
        if self.record:
            c = self.calls
            c.held_from.append(held_from)
            c.held_to.append(start)
            if handle_minutes > 0:
                c.add(start, start, end, agent)
        return end

    def offer(self, t: float, handle_minutes: float, patience_minutes: float = math.inf):
        """A call answered at ``t`` (days; offers come in time order) asks for an agent.

        Returns ``(start, agent)``: the call is taken at ``start`` by ``agent`` and keeps them
        ``handle_minutes``; or None when the wait would exceed ``patience_minutes`` (the caller
        hangs up: abandoned) or no agent ever works.
        """
        start = self._ready(t, math.inf)
        if start is None or (start - t) * MINUTES_PER_DAY > patience_minutes:
            if self.record:
                self.calls.abandoned_at.append(t)
            return None
        agent = self._free[0][1]
        end = start + handle_minutes / MINUTES_PER_DAY
        heapq.heapreplace(self._free, (end, agent))
        if self.record:
            self.calls.add(t, start, end, agent)
        return start, agent
