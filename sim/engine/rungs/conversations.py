"""What an agent's conversation with the borrower achieves: its outcome, as floors record it.

An agent call that reaches the borrower (a right-party contact) ends in one outcome
(:data:`sim.results.records.OUTCOMES`), drawn with the segment's shares
(``population.segments.NAME``, in :data:`sim.spec.loading.CONVERSATION_SHARES` order; the
rest is no outcome) from one uniform of the borrower's ``talk`` stream:

* ``paid``: the borrower pays on the spot, in full or a part (as a repayment would);
* ``promise``: a promise to pay by a date (:mod:`sim.engine.rungs.promises`), unless the
  account broke more than ``ladder.promises.max_broken`` (then none);
* a request for hardship help, answered by the treatment policy
  (:meth:`Plans.offer <sim.engine.rungs.plans.Plans.offer>`): ``grace``, ``plan``,
  ``waiver``, or ``no_offer`` when the policy gives nothing now;
* ``refusal``: nothing changes;
* ``dispute``: agent calls pause ``ladder.promises.dispute_days`` while the debt is
  verified, and the borrower may complain (``complaints.dispute``);
* ``none`` (and ``no_offer``): the borrower was reminded: the contact jump of the repayment
  intensity, times ``ladder.agent.effect``.

Whatever the outcome, the borrower was reached and later repayments are credited to the
agent (last touch). This is not a rung of its own: the agent-call rung holds one.
"""

from __future__ import annotations

from typing import Any

import cython

from sim.engine.account import Borrower

HELP_GIVEN = frozenset({"grace", "plan", "waiver"})


class Conversation:
    """Decides (:meth:`decide`) and applies (:meth:`apply`) a conversation's outcome."""

    def __init__(self, model: Any) -> None:
        self.model = model
        sc = model.sc
        self.effect = sc.ladder.agent.effect
        self.dispute_days = sc.ladder.promises.dispute_days
        self.max_broken = sc.ladder.promises.max_broken
        self.dispute_complaint = sc.complaints.dispute * sc.complaints.scale
        self.plans = model.rung("plans")
        self.promises = model.rung("promises")

    @cython.locals(b=Borrower)
    def decide(self, b: Borrower, t: float) -> str:
        """The outcome of the conversation at ``t`` (one uniform; nothing else changes)."""
        seg = b.seg
        u = next(self.model.late(b, "talk"))
        if u < seg.pay_on_call_prob:
            return "paid"
        u -= seg.pay_on_call_prob
        if u < seg.promise_prob:
            return "promise" if b.promise is None and b.n_broken <= self.max_broken else "none"
        u -= seg.promise_prob
        if u < seg.plan_request_prob:
            return self.plans.offer(b, t) or "no_offer"
        u -= seg.plan_request_prob
        if u < seg.refusal_prob:
            return "refusal"
        u -= seg.refusal_prob
        return "dispute" if u < seg.dispute_prob else "none"

    @cython.locals(b=Borrower)
    def apply(self, b: Borrower, t: float, due: list[float], outcome: str) -> None:
        """What the outcome does to the account at ``t``."""
        m = self.model
        b.n_answered += 1
        b.last_touch = "agent"
        m.reached(b, t, due)
        if outcome == "paid":
            b.accrue(t, m.sc)
            share = m.payment_share(b, m.late(b, "talk"))
            amount = b.balance if not share else round(share * b.balance, 2)
            m.repaid(b, t, due, amount, "on_call", share)
        elif outcome == "promise":
            self.promises.promise(b, t, due)
        elif outcome in HELP_GIVEN:
            self.plans.give(b, t, due, outcome)
        elif outcome == "dispute":
            b.paused_to = max(b.paused_to, t + self.dispute_days)
            if next(m.late(b, "talk")) < self.dispute_complaint:
                m.complaint(b, t, "borrower", "dispute")
        elif outcome != "refusal":  # none, no_offer: a reminder
            m.excite(b, t, due, b.contact_jump(self.effect, t, m.gamma))
