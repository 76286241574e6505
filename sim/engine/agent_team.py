"""A team of human agents as an exact multi-server queue: shifts, one call per agent at a time,
first come first served, and callers who hang up when kept waiting too long.

This is the queue that answered agent calls meet (issue 11 wires it into the dialer; until
then the engine books agent time with :class:`~sim.engine.agent_pool.AgentPool`). It is the
``M/G/c+G`` model of a call centre, computed without any simulation event of its own:

* Calls are offered in time order (:meth:`AgentTeam.offer`), which the engine guarantees: an
  answered call waits for the SimPy clock before it asks for an agent.
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

With Poisson offers, exponential handle times and one all-day shift it is ``M/M/c`` (Erlang C)
and with exponential patience ``M/M/c+M`` (Erlang A); ``tests/test_agent_team.py`` checks both
against :mod:`sim.engine.queueing`. Times are in days; handle time and patience in minutes.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

MINUTES_PER_DAY = 1440.0
_EPS = 1e-12  # days: shift boundaries computed two ways


@dataclass(frozen=True)
class Shift:
    """When the team works: clock hours of the shift and who works at weekends."""

    start_hour: float = 9.0
    hours: float = 9.0
    weekend_share: float = 1.0
    """Share of the head-count that works on Saturdays and Sundays (days 5 and 6 of a week
    that starts on day 0)."""

    def staff(self, head_count: int, day: int) -> int:
        """Agents on shift on ``day``."""
        if day % 7 >= 5:
            return round(head_count * self.weekend_share)
        return head_count


@dataclass
class Served:
    """The calls the team took: when each was offered, started and ended (days) and by whom,
    and the abandoned ones (offered, and how long the caller waited before hanging up)."""

    offered: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)
    agent: list[int] = field(default_factory=list)
    abandoned_at: list[float] = field(default_factory=list)
    abandoned_after: list[float] = field(default_factory=list)


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
        # (time the agent is free, agent): agents not yet placed on a shift are free at 0.
        self._free: list[tuple[float, int]] = [(0.0, k) for k in range(head_count)]
        self.record = record
        self.calls = Served()
        self.offers = 0

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

    def offer(self, t: float, handle_minutes: float, patience_minutes: float = math.inf):
        """A call answered at ``t`` (days; offers come in time order) asks for an agent.

        Returns ``(start, agent)``: the call is taken at ``start`` by ``agent`` and keeps them
        ``handle_minutes``; or None when the wait would exceed ``patience_minutes`` (the caller
        hangs up: abandoned) or no agent ever works.
        """
        self.offers += 1
        free = self._free
        while free:
            at, agent = free[0]
            ready = self.on_shift_from(agent, max(at, t))
            if ready == math.inf:  # never on shift again: out of the team
                heapq.heappop(free)
                continue
            if ready > max(at, t):  # off shift then: move the agent to their next shift
                heapq.heapreplace(free, (ready, agent))
                continue
            start = ready
            wait = (start - t) * MINUTES_PER_DAY
            if wait > patience_minutes:
                if self.record:
                    self.calls.abandoned_at.append(t)
                    self.calls.abandoned_after.append(patience_minutes)
                return None
            end = start + handle_minutes / MINUTES_PER_DAY
            heapq.heapreplace(free, (end, agent))
            if self.record:
                c = self.calls
                c.offered.append(t)
                c.started.append(start)
                c.ended.append(end)
                c.agent.append(agent)
            return start, agent
        if self.record:
            self.calls.abandoned_at.append(t)
            self.calls.abandoned_after.append(patience_minutes)
        return None
