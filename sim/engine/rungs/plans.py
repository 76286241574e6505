"""Instalment plans, extensions and grace periods granted on request (``ladder.plans``,
cases A and B).

A borrower who asks (in a conversation with an agent, or calling customer service) is granted
a plan if the policy allows one now: the balance in ``instalments`` equal parts, the first
``first_due_days`` later and then every ``interval_days``, fees frozen if ``freeze_fees``.
Collection actions pause while it is kept; each instalment is paid with the segment's
``plan_keep_prob`` (less in an income shock). A broken plan resumes collections at once.
"""

from __future__ import annotations

from typing import Any

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Count, Rung


class Plans(Rung):
    """Grants plans on request (:meth:`grant`) and collects their instalments."""

    order = 130
    name = section = "plans"
    agenda = ("plan",)
    counts = (Count("n_plans", "n_plans"),)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.slot = self.entry["plan"]

    def connect(self) -> None:
        self.granted = self.model.hooks["on_plan_granted"]
        self.broken = self.model.hooks["on_plan_broken"]

    def grant(self, b: Borrower, t: float, due: list[float]) -> bool:
        """Grant a plan if the policy allows one now; calls pause while it is kept."""
        pl = self.cfg
        if b.in_plan or not pl.enabled or t - b.entered < pl.from_day:
            return False
        if b.n_plans >= pl.max_per_account:
            return False
        b.accrue(t, self.model.sc)
        b.in_plan = True
        b.n_plans += 1
        b.fees_frozen = pl.freeze_fees
        b.plan_left = pl.instalments
        b.plan_amount = round(b.balance / pl.instalments, 2)
        for hook in self.granted:
            hook(b, t, due)
        due[self.slot] = t + pl.first_due_days
        if self.model.trace:
            self.model.event(b, t, "plan", "", "granted", b.balance)
        return True

    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        """An instalment falls due: kept (paid) or broken (back to collections)."""
        m, pl = self.model, self.cfg
        shock = b.seg.shock_ability_factor if b.in_shock else 1.0
        if next(m.late(b, "plan")) < b.seg.plan_keep_prob * shock**0.5:
            b.plan_left -= 1
            amount = b.balance if b.plan_left <= 0 else min(b.plan_amount, b.balance)
            m.receive_payment(b, t, amount, "instalment")
            m.reached(b, t, due)
            if b.balance <= 0:
                b.in_plan = False
                m.resolve(b, t, "plan_completed")
                return
            due[self.slot] = t + pl.interval_days
            return
        # Broken: collections resume from now.
        b.accrue(t, m.sc)
        b.in_plan = False
        b.fees_frozen = False
        due[self.slot] = INF
        if m.trace:
            m.event(b, t, "plan", "", "broken")
        for hook in self.broken:
            hook(b, t, due)
