"""Human-agent calls through the call list and the dialer (``ladder.agent``, ``agents``).

The rung says when an account is due an agent call (every ``every_days[month]`` from
``start_day``) and what a call does; the dialer (:mod:`sim.engine.dialer`) says when it is
placed and by which agent. Its one agenda entry serves three steps, told apart by the
account's state:

1. the call falls due: the account joins the call list (and parks until dialled);
2. the dialer dials it (``b.dialling``): one attempt through the contact rules, answered or
   not; an answer is put through to an agent or abandoned;
3. the agent takes the call (``b.pending``): the conversation, costed at the agent-hour for
   its talk and wrap-up time, and its outcome (:mod:`sim.engine.rungs.conversations`: paid,
   a promise to pay, hardship help, a refusal, a dispute, or none).

Agent calls wait while a promise is open or a dispute is verified (``b.paused_to``); an
abandoned call (the borrower answered to silence) may draw a complaint.
"""

from __future__ import annotations

import math
from typing import Any

import cython

from sim.engine.account import INF, MONTH, Borrower
from sim.engine.rungs.base import Count, Stage
from sim.engine.rungs.calls import Calls, next_after
from sim.engine.rungs.conversations import Conversation


class HandleTime:
    """Talk and wrap-up minutes of an answered call, from two uniforms (``agents``).

    ``lognormal`` (the default) takes both from one Box-Muller step: its two normals are
    independent, so talk and wrap-up are too, for two uniforms instead of four. Each part has
    its mean and coefficient of variation; a CV or mean of 0 gives the mean itself.
    ``exponential`` ignores the CVs; ``fixed`` is the means.
    """

    def __init__(self, kind: str, talk: float, talk_cv: float, wrap: float, wrap_cv: float):
        self.kind, self.talk, self.wrap = kind, talk, wrap
        self.talk_log = self._log_params(talk, talk_cv)
        self.wrap_log = self._log_params(wrap, wrap_cv)

    @staticmethod
    def _log_params(mean: float, cv: float) -> tuple[float, float] | None:
        """(mu, sigma) of the log of a lognormal with this mean and CV (None: constant)."""
        if cv <= 0 or mean <= 0:
            return None
        s2 = math.log1p(cv * cv)
        return math.log(mean) - s2 / 2.0, math.sqrt(s2)

    def draw(self, u: float, v: float) -> tuple[float, float]:
        """(talk, wrap-up) minutes from uniforms ``u`` and ``v`` in [0, 1)."""
        kind = self.kind
        if kind == "lognormal":
            r, angle = math.sqrt(-2.0 * math.log(1.0 - u)), 2.0 * math.pi * v
            t, w = self.talk_log, self.wrap_log
            talk = self.talk if t is None else math.exp(t[0] + t[1] * r * math.cos(angle))
            wrap = self.wrap if w is None else math.exp(w[0] + w[1] * r * math.sin(angle))
            return talk, wrap
        if kind == "exponential":
            return -self.talk * math.log(1.0 - u), -self.wrap * math.log(1.0 - v)
        return self.talk, self.wrap


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
        self.handle = HandleTime(
            ag.handle_distribution, ag.talk_minutes, ag.talk_cv, ag.wrap_minutes, ag.wrap_cv
        )
        self.patience = ag.patience_seconds / 60.0  # minutes, mean
        self.max_wait = ag.max_wait_seconds / 60.0
        comp = model.sc.complaints
        self.abandoned_complaint = comp.abandoned_call * comp.scale

    def connect(self) -> None:
        self.rotation = self.model.rung("number_rotation")
        self.on_unanswered = self.rotation.after_unanswered
        self.talks = Conversation(self.model)
        self.dialer = self.model.dialer
        super().connect()

    def unanswered_threshold(self) -> float:
        return self.rotation.after if self.rotation.cfg.enabled else INF

    def start(self, b: Borrower, t: float, due: list[float]) -> None:
        due[self.slot] = self.next_attempt(b, t - 1e-9)

    @cython.locals(b=Borrower)
    def attempt(self, b: Borrower) -> float:
        b.n_agent += 1
        return b.p_new if b.rotated else b.p_agent

    @cython.locals(b=Borrower)
    def next_attempt(self, b: Borrower, after: float) -> float:
        """Cadence ``every_days[month]`` (the last value repeats) from ``start_day``;
        ``dead_number_days`` while the last attempt found the line dead; not before
        ``b.paused_to`` (a promise's follow-up day, the end of a dispute's verification)."""
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
        if t < b.paused_to:
            t = b.paused_to
        return t if t - b.entered <= self.end else INF

    @cython.locals(b=Borrower)
    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        if b.pending is not None:
            self.talk(b, t, due)
        elif b.in_plan:  # calls pause while a plan is kept
            due[self.slot] = INF
        elif not b.dialling:  # the call falls due: on the list until the dialer reaches it
            self.relist(b, due)
        else:
            self.place(b, t, due)

    @cython.locals(b=Borrower)
    def place(self, b: Borrower, t: float, due: list[float]) -> None:
        """The dialer dials the account now: one attempt, and an agent if it is answered."""
        b.dialling = False
        b.follow_up = False  # a broken promise's follow-up is this dial
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
        # Three draws per answered call, whatever the dialer: talk and wrap-up, patience.
        rs = self.model.late(b, "agent")
        talk, wrap = self.handle.draw(next(rs), next(rs))
        patience = min(-self.patience * math.log(1.0 - next(rs)), self.max_wait)
        got = self.dialer.connect(t, talk + wrap, patience)
        if got is None:  # nobody free in time: the dialer drops the call
            b.pending = None
            b.n_abandoned += 1
            if self.model.trace:
                self.model.event(b, t, "abandoned", "agent")
            if next(rs) < self.abandoned_complaint:
                self.model.complaint(b, t, "borrower", "abandoned_call")
            due[k] = self.next_attempt(b, t)
            self.relist(b, due)
            return
        start, agent = got
        b.pending = (start, agent, talk, wrap, t + self.dialer.answer)
        due[k] = start

    @cython.locals(b=Borrower)
    def talk(self, b: Borrower, t: float, due: list[float]) -> None:
        """The agent is on the line: the conversation and its outcome."""
        _, agent, talk, wrap, _ = b.pending
        b.pending = None
        m = self.model
        # The agent's time on the call (the rest of their paid time is ``agent_idle``, costed
        # at the end of the run) and the line while talking.
        m.cost(b, "agent", (talk + wrap) * self.agent_minute + talk * self.line_minute)
        outcome = self.talks.decide(b, t)
        if m.trace:
            m.event(b, t, "agent_call", str(agent), outcome, talk + wrap)
        self.talks.apply(b, t, due, outcome)
        if b.state != "open":
            return
        due[self.slot] = self.next_attempt(b, t)
        if not b.in_plan:
            self.relist(b, due)

    @cython.locals(b=Borrower)
    def relist(self, b: Borrower, due: list[float]) -> None:
        """On the list from the time the call is due (``due``; none if inf). Called as soon
        as that time is known (after a call, or when the rules put one off), not when it
        comes: the same list, one step fewer on the hot path."""
        k = self.slot
        if due[k] < INF:
            self.dialer.enlist(b, due[k])
            due[k] = INF

    @cython.locals(b=Borrower)
    def delist(self, b: Borrower, due: list[float]) -> None:
        """No more calls for now: off the list (a call already put through still happens)."""
        b.listed = 0
        b.hold = INF
        # A dial under way ends here too: the account delisted itself while catching up to
        # the dial time (a plan agreed by then), so no later step of its own is that dial.
        b.dialling = False
        if b.pending is None:
            due[self.slot] = INF

    def on_plan_granted(self, b: Borrower, t: float, due: list[float]) -> None:
        self.delist(b, due)

    def on_handed_off(self, b: Borrower, t: float, due: list[float]) -> None:
        self.delist(b, due)
        due[self.slot] = INF

    def on_close(self, b: Borrower, t: float) -> None:
        if b.pending is not None and len(b.pending) == 5:
            # Put through, but the account closed before the agent came on the line (a
            # payment or write-off in those seconds, or the horizon): the agent's time stays
            # booked, and the call is counted as cut, with no conversation.
            self.dialer.cut(b.pending[4])
        b.listed = 0
        b.pending = None
