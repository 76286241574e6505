"""What every rung may do to an account: the services the model offers its rungs.

Stages, costs, the repayment intensity (contact and escalation jumps, the next repayment),
payments, complaints, resolution, trace events and the rarely used random streams. They are
methods of :class:`AccountServices`, which :class:`sim.engine.core.Model` inherits; the model
provides the state they use (set in ``Model.__init__``): ``sc``, ``streams``, ``rec``,
``trace``, ``kappa``, ``gamma``, ``pay`` (the repayment entry), ``stage_bit``, ``rules``, the
hooks ``_on_reached``, ``_on_payment``, ``_on_close``, the daily counters
``_cures_by_day``, ``_recovered_by_day``, and ``_finish``. Times are days, money yuan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import cython

from sim.engine.account import INF, Borrower

_LATE_STREAMS = {
    "contact": "rs_contact",
    "platform": "rs_platform",
    "plan": "rs_plan",
    "agent": "rs_agent",
    "talk": "rs_talk",
}
"""Random streams opened on first use (:meth:`AccountServices.late`), and the attribute of
each."""


class AccountServices:
    """The account services of the model (see the module docstring)."""

    sc: Any
    streams: Any
    rec: Any
    trace: bool
    kappa: float
    gamma: float
    pay: int
    stage_bit: dict[str, int]
    rules: Any
    _on_reached: list[Any]
    _on_payment: list[Any]
    _on_close: list[Any]
    _cures_by_day: list[float]
    _recovered_by_day: list[float]
    _finish: Callable[[Borrower], None]

    @cython.locals(b=Borrower)
    def late(self, b: Borrower, purpose: str) -> Iterator[float]:
        """The borrower's stream for a rarely used ``purpose`` (contact, platform, plan),
        opened on first use. The draws are the same as if it had been opened at entry."""
        attr = _LATE_STREAMS[purpose]
        rs = getattr(b, attr)
        if rs is None:
            rs = self.streams.stream(purpose, b.bid)
            setattr(b, attr, rs)
        return rs

    @staticmethod
    def exp(b: Borrower, rate: float) -> float:
        """Exponential waiting time (days) for a life event of the borrower."""
        if rate <= 0:
            return INF
        return -math.log(1.0 - next(b.rs_life)) / rate

    @cython.locals(b=Borrower)
    def event(self, b: Borrower, t: float, kind: str, channel: str = "", detail: str = "",
              amount: float = 0.0) -> None:  # fmt: skip
        """Record a trace event (call only when ``self.trace``)."""
        self.rec.event(t, b.bid, t - b.entered, kind, channel, detail, amount)

    @cython.locals(b=Borrower)
    def stage(self, b: Borrower, t: float, name: str) -> None:
        """The account reaches stage ``name`` (once)."""
        bit = self.stage_bit[name]
        if not b.stages & bit:
            b.stages |= bit
            if self.trace:
                self.event(b, t, "stage", name)

    @cython.locals(b=Borrower)
    def cost(self, b: Borrower, channel: str, amount: float) -> None:
        """Spend ``amount`` yuan on the account, on cost channel ``channel``."""
        self.rec.costs[channel] += amount
        b.cost += amount

    @cython.locals(b=Borrower)
    def repay_time(self, b: Borrower, t: float, due: list[float]) -> None:
        """Re-draw the next repayment after the intensity changed (not while on a plan)."""
        due[self.pay] = INF if b.in_plan else b.sample_payment(t, self.kappa, self.gamma)

    @cython.locals(b=Borrower)
    def reached(self, b: Borrower, t: float, due: list[float]) -> None:
        """The borrower was reached (answered, relayed, found, called in, or paid)."""
        b.last_contact = t
        b.consec_unanswered = 0
        for hook in self._on_reached:
            hook(b, t, due)

    def contacted(
        self, b: Borrower, t: float, due: list[float], effect: float, channel: str
    ) -> None:
        """A reminder was read or a call answered on ``channel``: the repayment intensity
        jumps, and later repayments are credited to ``channel`` (last touch)."""
        b.last_touch = channel
        self.excite(b, t, due, b.contact_jump(effect, t, self.gamma))

    def escalated(
        self, b: Borrower, t: float, due: list[float], effect: float, channel: str
    ) -> None:
        """Escalation (emergency contact relayed, field visit, court summons) raises the
        intensity; later repayments are credited to ``channel`` (last touch)."""
        b.last_touch = channel
        self.excite(b, t, due, b.escalation_jump(effect, t, self.gamma))

    @cython.locals(b=Borrower)
    def excite(self, b: Borrower, t: float, due: list[float], size: float) -> None:
        """Raise the excess repayment intensity by ``size`` (per day) at ``t``.

        The intensity is a sum of independent Poisson components, and the next repayment
        already drawn is still exact given that none came before ``t``; the jump adds one
        more component, decaying at ``kappa``, so the next repayment is the earlier of the
        two (:meth:`Borrower.excite`). One draw instead of re-drawing everything.
        """
        nxt = b.excite(size, t, self.kappa)
        if nxt < due[self.pay]:
            due[self.pay] = nxt

    def conversation(
        self, b: Borrower, t: float, due: list[float], effect: float, channel: str
    ) -> None:
        """The borrower is on the line: reached, and the repayment intensity jumps."""
        b.n_answered += 1
        self.reached(b, t, due)
        self.contacted(b, t, due, effect, channel)

    @cython.locals(b=Borrower)
    def receive_payment(self, b: Borrower, t: float, amount: float, detail: str) -> float:
        """Apply a repayment of ``amount`` yuan (fees first); returns the amount applied."""
        b.accrue(t, self.sc)
        amount = b.pay(amount)
        rec = self.rec
        self._recovered_by_day[rec.day_index(t)] += amount
        rec.recovered_by[b.last_touch] += amount
        if self.trace:  # before the hooks: a promise kept by it is recorded after it
            self.event(b, t, "payment", "", detail, amount)
        for hook in self._on_payment:
            hook(b, t, amount)
        return amount

    @cython.locals(b=Borrower)
    def complaint(self, b: Borrower, t: float, who: str, cause: str) -> None:
        """The borrower (``who="borrower"``) or a contact complains, for ``cause`` (one of
        :data:`sim.results.records.COMPLAINT_CAUSES`)."""
        b.n_complaints += 1
        by = self.rec.complaints_by
        by[cause] = by.get(cause, 0) + 1  # a rung from outside the package may add causes
        self.cost(b, "complaints", self.sc.costs.complaint)
        if self.trace:
            self.event(b, t, "complaint", who, cause)

    @cython.locals(b=Borrower)
    def repaid(
        self, b: Borrower, t: float, due: list[float], amount: float, detail: str, share: float
    ) -> None:
        """The borrower repays ``amount`` yuan at ``t`` (``share``: of the balance, 0 for all
        of it): reached, and cured if nothing is left; otherwise the repayment excites the
        next one (``behaviour.payment_jump``, not aged: the borrower's own momentum)."""
        self.receive_payment(b, t, amount, detail)
        self.reached(b, t, due)
        if b.balance <= 0:
            self.resolve(b, t, "cured")
            return
        bh = self.sc.behaviour
        b.jump(bh.payment_jump + bh.payment_jump_per_share * share, t, self.kappa)
        due[self.pay] = INF if b.in_plan else b.sample_payment(t, self.kappa, self.gamma)

    @cython.locals(b=Borrower)
    def payment_share(self, b: Borrower, rs: Iterator[float]) -> float:
        """Share of the balance a repayment pays, from ``rs``: 0 (all of it) with the
        segment's ``full_payment_prob`` (less in an income shock), else uniform between
        ``behaviour.partial_min`` and ``partial_max`` (0 too if that leaves under a fen)."""
        full = b.seg.full_payment_prob * (b.seg.shock_ability_factor if b.in_shock else 1.0)
        if next(rs) < full:
            return 0.0
        bh = self.sc.behaviour
        share = bh.partial_min + (bh.partial_max - bh.partial_min) * next(rs)
        amount = round(share * b.balance, 2)
        if amount < 0.01 or b.balance - amount < 0.01:  # nothing left worth a fen: clear it
            return 0.0
        return share

    def note_call_hours(self, t: float) -> None:
        """Independent check of the calling-hours rule: counts any call outside them."""
        if not self.rules.in_hours(t):
            self.rec.calls_outside_hours += 1

    @cython.locals(b=Borrower)
    def resolve(self, b: Borrower, t: float, state: str, stage: str | None = None) -> None:
        """Close the account in a final state (reaching ``stage``, if given); an unpaid
        balance is written off."""
        b.accrue(t, self.sc)
        b.state = state
        b.resolved = t
        if state in ("cured", "plan_completed"):
            self._cures_by_day[self.rec.day_index(t)] += 1
        if stage is not None:
            self.stage(b, t, stage)
        for hook in self._on_close:
            hook(b, t)
        if self.trace:
            self.event(b, t, "resolved", "", state)
        self._finish(b)
