"""Calls to the borrower: the dial loop shared by robot, agent and agency calls, and robot calls.

Every call rung places attempts on its own cadence (:meth:`Calls.next_attempt`) within the
contact rules (:class:`~sim.engine.contact_rules.ContactRules`: calling hours, caps, minimum
gaps). An attempt is costed, counted, answered with the rung's answer probability damped by
call fatigue (recent calls, decayed over ``behaviour.fatigue_memory_days``) unless the phone
is dark, and may draw a complaint, more likely when calls pile up. An answered call raises the
repayment intensity; a run of unanswered ones may trigger the emergency-contact stage.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cython

from sim.engine.account import INF, Borrower, first_due
from sim.engine.contact_rules import EPS
from sim.engine.rungs.base import Count, Rung, Stage


def next_after(first: float, gap: float, after: float) -> float:
    """The first time ``first + k * gap`` strictly after ``after`` (``after >= first``).

    Float rounding can make ``first + k * gap`` land on ``after`` itself (or one ulp past
    it), which would repeat the attempt just made; so a slot within EPS of ``after`` counts
    as that attempt.
    """
    t = first + (int((after - first) / gap) + 1) * gap
    return t if t > after + EPS else t + gap


class Calls(Rung):
    """Base of the call rungs: subclasses say how often they call (:meth:`next_attempt`) and
    count an attempt and give its answer probability (:meth:`attempt`).

    The rung's ``name`` is its channel in the trace, its touch and the stage its first
    attempt reaches; ``channels[0]`` is where the attempt cost goes."""

    attempt_cost = 0.0
    """Yuan per attempt (set by the subclass from its settings)."""
    effect = 1.0
    """Multiplier on the contact jump when answered."""
    waits_for_agent = False
    """The dialer places the calls one at a time (agent calls): :meth:`dial` makes one
    attempt and returns; an answered one is left in ``b.pending`` for the rung to put through
    to an agent."""
    on_unanswered: Callable[[Borrower, float], None] | None = None
    """Called after an unanswered attempt once :meth:`unanswered_threshold` of them run in a
    row, while the account is not rotated (number rotation, for agent calls)."""

    def connect(self) -> None:
        m = self.model
        self.slot = self.entry[self.agenda[0]]  # the calls' own entry
        ec = m.rung("emergency_contact")
        rules = m.rules
        # What every dial loop reads, in one tuple: unpacking it is cheaper than a dozen
        # attribute loads on each of the ~6 calls to dial per account.
        self.setup = (
            m, self.slot, self.name, self.attempt_cost, self.attempt, self.next_attempt,
            self.on_unanswered, self.unanswered_threshold(), self.waits_for_agent,
            rules.earliest, rules.record, rules.simple, rules.gap, rules.start, rules.end,
            ec.declines, ec.after_decline, m.horizon, m.days,
            m.sc.behaviour.fatigue_memory_days, rules.start - EPS, rules.end, m.rec.costs,
            m.trace, m.sc.complaints.call_pressure, self.stage_bit(),
            m.rec.daily[self.daily[0]], self.channels[0], self.complaint_factor(),
            f"{self.name}_call",
        )  # fmt: skip

    def complaint_factor(self) -> float:
        """Factor on the segment's complaint propensity for this rung's call attempts:
        ``complaints.<name>_call`` (1 for a rung without one) times ``complaints.scale``."""
        c = self.model.sc.complaints
        return c.scale * getattr(c, f"{self.name}_call", 1.0)

    def unanswered_threshold(self) -> float:
        """Unanswered calls in a row before :attr:`on_unanswered` is worth calling (inf:
        never); it is called only while the account is not rotated yet."""
        return INF

    def stage_bit(self) -> int:
        """The bit of the stage its first attempt reaches (named like the rung)."""
        return self.model.stage_bit[self.name]

    def attempt(self, b: Borrower) -> float:
        """Count one attempt on the account; return its answer probability (before fatigue)."""
        raise NotImplementedError

    def next_attempt(self, b: Borrower, after: float) -> float:
        """Time of the next attempt strictly after ``after`` (days; inf: no more)."""
        raise NotImplementedError

    @cython.locals(b=Borrower)
    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        if b.in_plan:  # calls pause while a plan is kept
            due[self.slot] = INF
            return
        self.dial(b, t, due)

    def on_plan_broken(self, b: Borrower, t: float, due: list[float]) -> None:
        due[self.slot] = self.next_attempt(b, t)

    @cython.locals(b=Borrower)
    def dial(self, b: Borrower, t: float, due: list[float]) -> None:
        """Call attempts on this channel, starting with the one due now.

        An attempt is allowed by the contact rules (else it moves to the first moment they
        allow), counted against the caps and in the daily series, and answered or not; an
        answered call takes effect at once, or waits for an agent (``waits_for_agent``).

        Unanswered attempts are most of an unpaid account's life, so they run here in a row,
        without going back to the account loop, for as long as the next attempt on this
        channel is also the account's next step (the tests the loop makes: ties included,
        and no step past ``b.hold``);
        each attempt still counts as one step. This is the engine's hot path, so it is
        written flat.
        """
        # ``simple``: only calling hours and the minimum gap apply (no caps); that check and
        # the bookkeeping of a call (just its time) are inlined below.
        (m, k, channel, cost, attempt, next_attempt, on_unanswered, unanswered_after,
         waits_for_agent, earliest, record, simple, gap, start, end, ec_declines,
         ec_after_decline, horizon, last_day, memory, lo, hi, costs, trace, cp_pressure,
         stage_bit, by_day, cost_channel, cp_factor, cause) = self.setup  # fmt: skip
        seg = b.seg
        fatigue, cp = seg.fatigue, seg.complaint_per_call * cp_factor
        rs, exp = b.rs_call, math.exp
        steps = 0
        while True:
            if simple:
                ok = b.last_call + gap
                if ok < t:
                    ok = t
                if not start <= ok - int(ok) < end:
                    ok = earliest(b, t)
            else:
                ok = earliest(b, t)
            if ok > t:
                due[k] = ok
            else:
                if not b.stages & stage_bit:
                    m.stage(b, t, channel)
                p = attempt(b)
                if cost:
                    costs[cost_channel] += cost
                    b.cost += cost
                day = int(t)
                if not lo <= t - day < hi:  # independent check of the calling hours
                    m.rec.calls_outside_hours += 1
                by_day[day if day < last_day else last_day] += 1
                pressure = b.recent * exp((b.recent_t - t) / memory)
                b.recent = pressure + 1.0
                b.recent_t = t
                answered = False
                if not b.dark:
                    # One uniform decides both the answer and the complaint: given u < pa,
                    # u / pa is again uniform on [0, 1) and independent of the answer (and
                    # likewise (u - pa) / (1 - pa) given u >= pa). Half the draws per call.
                    u = next(rs)
                    pa = p * exp(-fatigue * pressure)
                    answered = u < pa
                    if cp > 0:
                        v = u / pa if answered else (u - pa) / (1.0 - pa)
                        if v < cp * (1.0 + cp_pressure * pressure):
                            # The base rate's share is the call's; the rest the pressure's.
                            m.complaint(b, t, "borrower", cause if v < cp else "call_pressure")
                if simple:
                    b.last_call = t
                else:
                    record(b, t, answered)
                if trace:
                    detail = "answered" if answered else "unreachable" if b.dark else "unanswered"
                    m.event(b, t, "call", channel, detail)
                if answered:
                    if waits_for_agent:
                        b.pending = ("connect", t)  # the rung puts it through
                    else:
                        due[k] = next_attempt(b, t)
                        m.conversation(b, t, due, self.effect, channel)
                    m.events_processed += steps
                    return
                b.consec_unanswered += 1
                # Cheap pre-check: without N consecutive declines no trigger mode can fire
                # here (the day-X part of "either" fires from the agenda on day X itself).
                if b.consec_unanswered >= ec_declines and not b.ec_state:
                    ec_after_decline(b, t, due)
                due[k] = next_attempt(b, t)
                if b.consec_unanswered >= unanswered_after and not b.rotated:
                    on_unanswered(b, t)
            nxt = due[k]
            # The next attempt runs here only if it is the account's next step, and not past
            # ``b.hold`` (the account is on the call list: the dialer may call it first).
            if waits_for_agent or not t < nxt < horizon or nxt > b.hold or first_due(due) != k:
                m.events_processed += steps
                return
            t = nxt
            steps += 1


class RobotCalls(Calls):
    """Automated voice calls: ``calls_per_day`` attempts a day from ``hour``, between
    ``start_day`` and ``end_day`` past due (``ladder.robot``)."""

    order = 40
    name = section = "robot"
    agenda = ("robot",)
    stages = (Stage("robot", 20),)
    channels = touches = ("robot",)
    counts = (Count("n_robot_calls", "n_robot"),)
    daily = ("robot_calls",)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        rb = self.cfg
        self.attempt_cost, self.effect = rb.cost, rb.effect
        self.gap = 1.0 / rb.calls_per_day if rb.calls_per_day else INF
        self.on = rb.enabled and bool(rb.calls_per_day)
        self.start_day, self.hour, self.end = rb.start_day, rb.hour / 24.0, rb.end_day + 1

    def start(self, b: Borrower, t: float, due: list[float]) -> None:
        due[self.slot] = self.next_attempt(b, t - 1e-9)

    def attempt(self, b: Borrower) -> float:
        b.n_robot += 1
        return b.p_robot

    def next_attempt(self, b: Borrower, after: float) -> float:
        if not self.on or b.agency:
            return INF
        first = b.entered + self.start_day + self.hour
        if after < first:
            return first
        t = next_after(first, self.gap, after)
        return t if t - b.entered <= self.end else INF

    def on_handed_off(self, b: Borrower, t: float, due: list[float]) -> None:
        due[self.slot] = INF
