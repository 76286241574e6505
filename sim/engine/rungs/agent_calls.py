"""Human-agent calls through the call list and the dialer (``ladder.agent``, ``agents``).

The rung says when an account is due an agent call (every ``every_days[month]`` from
``start_day``) and what a call does; the dialer (:mod:`sim.engine.dialer`) says when it is
placed and by which agent. Its one agenda entry serves three steps, told apart by the
account's state:

1. the call falls due: the account joins the call list (and parks until dialled);
2. the dialer dials it (``b.dialling``): one attempt through the contact rules, answered or
   not; an answer is put through to an agent or abandoned;
3. the agent takes the call (``b.pending``): the conversation, costed at the agent-hour for
   its talk and wrap-up time; an agent may grant an instalment plan the borrower asks for.
"""

from __future__ import annotations

import math
from typing import Any

from sim.engine.account import INF, MONTH, Borrower
from sim.engine.rungs.base import Count, Stage
from sim.engine.rungs.calls import Calls, next_after


def lognormal(mean: float, cv: float, u: float, v: float) -> float:
    """A lognormal draw with this mean and coefficient of variation from two uniforms
    (Box-Muller; ``cv = 0`` gives the mean)."""
    if cv <= 0 or mean <= 0:
        return mean
    s2 = math.log1p(cv * cv)
    z = math.sqrt(-2.0 * math.log(1.0 - u)) * math.cos(2.0 * math.pi * v)
    return mean * math.exp(math.sqrt(s2) * z - s2 / 2.0)


class AgentCalls(Calls):
    """Agent attempts every ``every_days[month]`` through the team's call list."""

    order = 50
    name = section = "agent"
    agenda = ("agent",)
    stages = (Stage("agent", 30),)
    channels = ("agent", "agent_idle")
    touches = ("agent",)
    counts = (Count("n_agent_calls", "n_agent"), Count("n_agent_abandoned", "n_abandoned"))
    daily = ("agent_calls",)
    waits_for_agent = True

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        a, ag, costs = self.cfg, model.sc.agents, model.sc.costs
        self.attempt_cost = a.ring_minutes * costs.line_minute  # the ringing of any attempt
        self.agent_minute, self.line_minute = costs.agent_hour / 60.0, costs.line_minute
        self.effect = a.effect
        self.on, self.start_day, self.end = a.enabled, a.start_day, a.end_day + 1
        self.gaps, self.dead_gap = a.every_days, a.dead_number_days
        self.handle = (ag.handle_distribution, ag.talk_minutes, ag.talk_cv, ag.wrap_minutes,
                       ag.wrap_cv)  # fmt: skip
        self.patience = ag.patience_seconds / 60.0  # minutes, mean
        self.max_wait = ag.max_wait_seconds / 60.0

    def connect(self) -> None:
        self.rotation = self.model.rung("number_rotation")
        self.on_unanswered = self.rotation.after_unanswered
        self.plans = self.model.rung("plans")
        self.dialer = self.model.dialer
        super().connect()

    def unanswered_threshold(self) -> float:
        return self.rotation.after if self.rotation.cfg.enabled else INF

    def start(self, b: Borrower, t: float, due: list[float]) -> None:
        due[self.slot] = self.next_attempt(b, t - 1e-9)

    def attempt(self, b: Borrower) -> float:
        b.n_agent += 1
        return b.p_new if b.rotated else b.p_agent

    def next_attempt(self, b: Borrower, after: float) -> float:
        """Cadence ``every_days[month]`` (the last value repeats) from ``start_day``;
        ``dead_number_days`` while the last attempt found the line dead."""
        if not self.on or b.agency:
            return INF
        first = b.entered + self.start_day
        if after < first:
            return first
        gaps = self.gaps
        month = int((after - b.entered) / MONTH)
        gap = gaps[month] if month < len(gaps) else gaps[-1]
        if b.dark and gap < self.dead_gap:  # the last attempt found the line dead
            gap = self.dead_gap
        t = next_after(first, gap, after)
        return t if t - b.entered <= self.end else INF

    def draw_handle(self, b: Borrower) -> tuple[float, float]:
        """Talk and wrap-up time of an answered call (minutes), from the account's stream."""
        rs = self.model.late(b, "agent")
        kind, talk, talk_cv, wrap, wrap_cv = self.handle
        if kind == "fixed":
            return talk, wrap
        if kind == "exponential":
            return -talk * math.log(1.0 - next(rs)), -wrap * math.log(1.0 - next(rs))
        return (
            lognormal(talk, talk_cv, next(rs), next(rs)),
            lognormal(wrap, wrap_cv, next(rs), next(rs)),
        )

    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        if b.pending is not None:
            self.talk(b, t, due)
        elif b.in_plan:  # calls pause while a plan is kept
            due[self.slot] = INF
        elif not b.dialling:  # the call falls due: on the list until the dialer reaches it
            self.relist(b, due)
        else:
            self.place(b, t, due)

    def place(self, b: Borrower, t: float, due: list[float]) -> None:
        """The dialer dials the account now: one attempt, and an agent if it is answered."""
        b.dialling = False
        b.hold = INF  # off the list: the account runs on its own again
        if b.last_call > t:  # a call ran past the hold: the account lived ahead of the dialer
            raise RuntimeError(
                f"account {b.bid}: dialled at t={t!r} after a call at t={b.last_call!r}: an "
                "account on the call list must not run past its hold"
            )
        attempts = b.n_agent
        self.dial(b, t, due)
        k = self.slot
        if b.n_agent == attempts:  # the contact rules hold the call back: re-listed then
            self.relist(b, due)
            return
        if b.pending is None:
            self.dialer.no_answer(t)
            self.relist(b, due)
            return
        talk, wrap = self.draw_handle(b)
        rs = self.model.late(b, "agent")
        patience = min(-self.patience * math.log(1.0 - next(rs)), self.max_wait)
        got = self.dialer.connect(t, talk + wrap, patience)
        if got is None:  # nobody free in time: the dialer drops the call
            b.pending = None
            b.n_abandoned += 1
            if self.model.trace:
                self.model.event(b, t, "abandoned", "agent")
            due[k] = self.next_attempt(b, t)
            self.relist(b, due)
            return
        start, agent = got
        b.pending = (start, agent, talk, wrap)
        due[k] = start

    def talk(self, b: Borrower, t: float, due: list[float]) -> None:
        """The agent is on the line: the conversation, and perhaps a plan."""
        _, agent, talk, wrap = b.pending
        b.pending = None
        m = self.model
        # The agent's time on the call (the rest of their paid time is ``agent_idle``, costed
        # at the end of the run) and the line while talking.
        m.cost(b, "agent", (talk + wrap) * self.agent_minute + talk * self.line_minute)
        if m.trace:
            m.event(b, t, "agent_call", "agent", str(agent), talk + wrap)
        m.conversation(b, t, due, self.effect, "agent")
        if b.state != "open":
            return
        due[self.slot] = self.next_attempt(b, t)
        if self.cfg.plan_offer and next(b.rs_call) < b.seg.plan_request_prob:
            self.plans.grant(b, t, due)
        if not b.in_plan:
            self.relist(b, due)

    def relist(self, b: Borrower, due: list[float]) -> None:
        """On the list from the time the call is due (``due``; none if inf). Called as soon
        as that time is known (after a call, or when the rules put one off), not when it
        comes: the same list, one step fewer on the hot path."""
        k = self.slot
        if due[k] < INF:
            self.dialer.enlist(b, due[k])
            due[k] = INF

    def delist(self, b: Borrower, due: list[float]) -> None:
        """No more calls for now: off the list (a call already put through still happens)."""
        b.listed = 0
        b.hold = INF
        if b.pending is None:
            due[self.slot] = INF

    def on_plan_granted(self, b: Borrower, t: float, due: list[float]) -> None:
        self.delist(b, due)

    def on_handed_off(self, b: Borrower, t: float, due: list[float]) -> None:
        self.delist(b, due)
        due[self.slot] = INF

    def on_close(self, b: Borrower, t: float) -> None:
        b.listed = 0
        b.pending = None
