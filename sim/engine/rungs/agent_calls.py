"""Human-agent calls, placed the way a predictive dialer places them (``ladder.agent``).

The dialer rings (no agent is on the line yet); only when the borrower answers does the call
need an agent from the shared :class:`~sim.engine.agent_pool.AgentPool`. So an unanswered
attempt is the account's own business, while an answered one must meet the pool in time
order: the account first waits for the clock to reach the answer (``pending = ("connect",
t)``), then books talk time and, if every agent is busy, waits for the start the pool gives
(``pending = ("talk", start, slot, requested)``), when the conversation happens. An agent
may grant an instalment plan the borrower asks for.
"""

from __future__ import annotations

from typing import Any

from sim.engine.account import INF, MONTH, Borrower
from sim.engine.rungs.base import Count, Stage
from sim.engine.rungs.calls import Calls, next_after


class AgentCalls(Calls):
    """Agent attempts every ``every_days[month]`` at the account's preferred clock time."""

    order = 50
    name = section = "agent"
    agenda = ("agent",)
    stages = (Stage("agent", 30),)
    channels = touches = ("agent",)
    counts = (Count("n_agent_calls", "n_agent"),)
    daily = ("agent_calls",)
    waits_for_agent = True

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        a, costs = self.cfg, model.sc.costs
        # An attempt costs the ringing; talk time is costed when served.
        self.attempt_cost = a.ring_minutes * costs.line_minute
        self.talk_cost = a.talk_minutes / 60.0 * costs.agent_hour
        self.effect = a.effect
        self.on, self.start_day, self.end = a.enabled, a.start_day, a.end_day + 1
        self.gaps, self.dead_gap = a.every_days, a.dead_number_days
        self.pool = model.pool

    def connect(self) -> None:
        self.rotation = self.model.rung("number_rotation")
        self.on_unanswered = self.rotation.after_unanswered
        self.plans = self.model.rung("plans")
        super().connect()

    def unanswered_threshold(self) -> float:
        return self.rotation.after if self.rotation.cfg.enabled else INF

    def start(self, b: Borrower, t: float, due: list[float]) -> None:
        due[self.slot] = self.next_attempt(b, t - 1e-9)

    def attempt(self, b: Borrower) -> float:
        b.n_agent += 1
        return b.p_new if b.rotated else b.p_agent

    def next_attempt(self, b: Borrower, after: float) -> float:
        """Cadence ``every_days[month]`` (the last value repeats) at the account's preferred
        clock time; ``dead_number_days`` while the last attempt found the line dead."""
        if not self.on or b.agency:
            return INF
        first = b.entered + self.start_day + b.call_tod
        if after < first:
            return first
        gaps = self.gaps
        month = int((after - b.entered) / MONTH)
        gap = gaps[month] if month < len(gaps) else gaps[-1]
        if b.dark and gap < self.dead_gap:  # the last attempt found the line dead
            gap = self.dead_gap
        t = next_after(first, gap, after)
        return t if t - b.entered <= self.end else INF

    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        if b.in_plan:
            self.cancel(b)
            due[self.slot] = INF
            return
        if b.pending is None:  # the dialer rings
            self.dial(b, t, due)
            return
        if b.pending[0] == "connect":  # answered: ask the pool for an agent
            booking = self.pool.book(t, self.cfg.talk_minutes)
            if booking is None:  # no agent left before the horizon: the call is abandoned
                b.pending = None
                due[self.slot] = INF
                return
            b.pending = ("talk", booking[0], booking[1], t)
            due[self.slot] = booking[0]
            if booking[0] > t:
                return
        _, start, slot, requested = b.pending  # the conversation
        b.pending = None
        m = self.model
        self.pool.served(requested, t)
        m.cost(b, "agent", self.talk_cost)
        m.conversation(b, t, due, self.effect, "agent")
        if b.state != "open":
            return
        due[self.slot] = self.next_attempt(b, t)
        if self.cfg.plan_offer and next(b.rs_call) < b.seg.plan_request_prob:
            self.plans.grant(b, t, due)

    def cancel(self, b: Borrower) -> None:
        """Drop a call in progress; talk time booked with the pool is given back."""
        if b.pending is not None:
            if b.pending[0] == "talk":
                self.pool.release(b.pending[2], self.cfg.talk_minutes)
            b.pending = None

    def on_plan_granted(self, b: Borrower, t: float, due: list[float]) -> None:
        self.cancel(b)

    def on_handed_off(self, b: Borrower, t: float, due: list[float]) -> None:
        self.cancel(b)
        due[self.slot] = INF

    def on_close(self, b: Borrower, t: float) -> None:
        self.cancel(b)
