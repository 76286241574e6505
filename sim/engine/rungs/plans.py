"""The treatment policy's hardship help: grace periods, instalment plans, fee waivers
(``ladder.grace``, ``ladder.plans``, ``ladder.waiver``; cases A, B, C).

A borrower who asks for help (in a conversation with an agent, or calling customer service)
is offered the first kind the lender's policy allows for the account now (:meth:`Plans.offer`:
days past due, balance and promises broken; the platform does not see segments):

* a **grace period**: the whole balance due ``grace.days`` later, fees frozen;
* an **instalment plan**: the balance in ``instalments`` equal parts, the first
  ``first_due_days`` later and then every ``interval_days``, fees frozen if ``freeze_fees``;
* a **fee waiver** (settlement): the fees waived if the rest is paid by a date, a promise
  that :mod:`sim.engine.rungs.promises` tracks.

A grace period is a plan of one instalment: collection actions pause while it is kept and each
instalment is paid with the segment's ``plan_keep_prob`` (less in an income shock). A broken
one resumes collections at once.
"""

from __future__ import annotations

from typing import Any

import cython

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Count, Rung

HELP = ("grace", "plans", "waiver")
"""The treatment policy's kinds of help, in the order they are considered."""


class Plans(Rung):
    """Offers help on request (:meth:`offer`, :meth:`give`) and collects plan instalments."""

    order = 130
    name = section = "plans"
    agenda = ("plan",)
    counts = (Count("n_plans", "n_plans"), Count("n_grace_periods", "n_grace"))

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.slot = self.entry["plan"]
        lad = model.sc.ladder
        self.offers = tuple((kind, getattr(lad, kind)) for kind in HELP)
        self.taken = {"grace": "n_grace", "plans": "n_plans", "waiver": "n_waivers"}

    def connect(self) -> None:
        self.granted = self.model.hooks["on_plan_granted"]
        self.broken = self.model.hooks["on_plan_broken"]
        self.promises = self.model.rung("promises")

    @cython.locals(b=Borrower)
    def offer(self, b: Borrower, t: float) -> str:
        """The help the policy gives the account now: ``grace``, ``plan``, ``waiver``, or
        ``""`` if none (the account may already have it, or be past its limits)."""
        if b.in_plan or b.promise is not None:
            return ""
        dpd = t - b.entered
        b.accrue(t, self.model.sc)
        balance = b.balance
        for kind, o in self.offers:
            if (
                o.enabled
                and o.from_day <= dpd <= o.to_day
                and o.min_balance <= balance <= o.max_balance
                and b.n_broken <= o.max_broken_promises
                and getattr(b, self.taken[kind]) < o.max_per_account
                and (kind != "waiver" or b.fees > 0)
            ):
                return "plan" if kind == "plans" else kind
        return ""

    @cython.locals(b=Borrower)
    def give(self, b: Borrower, t: float, due: list[float], kind: str) -> None:
        """Grant help ``kind`` (from :meth:`offer`) now."""
        if kind == "waiver":
            self.promises.settle(b, t, due)
            return
        pl = self.cfg
        grace = kind == "grace"
        g = self.model.sc.ladder.grace
        b.in_plan = True
        b.plan_kind = kind
        if grace:
            b.n_grace += 1
            b.fees_frozen = g.freeze_fees
            b.plan_left = 1
        else:
            b.n_plans += 1
            b.fees_frozen = pl.freeze_fees
            b.plan_left = pl.instalments
        b.plan_amount = round(b.balance / b.plan_left, 2)
        for hook in self.granted:
            hook(b, t, due)
        due[self.slot] = t + (g.days if grace else pl.first_due_days)
        if self.model.trace:
            self.model.event(b, t, "plan", kind, "granted", b.balance)

    @cython.locals(b=Borrower)
    def help(self, b: Borrower, t: float, due: list[float]) -> str:
        """The borrower asks for help: what the policy offers (``""``: nothing), granted."""
        kind = self.offer(b, t)
        if kind:
            self.give(b, t, due, kind)
        return kind

    @cython.locals(b=Borrower)
    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        """An instalment falls due: kept (paid) or broken (back to collections)."""
        m = self.model
        shock = b.seg.shock_ability_factor if b.in_shock else 1.0
        if next(m.late(b, "plan")) < b.seg.plan_keep_prob * shock**0.5:
            b.plan_left -= 1
            amount = b.balance if b.plan_left <= 0 else min(b.plan_amount, b.balance)
            m.receive_payment(b, t, amount, "instalment")
            m.reached(b, t, due)
            if b.balance <= 0:
                b.in_plan = False
                m.resolve(b, t, "cured" if b.plan_kind == "grace" else "plan_completed")
                return
            due[self.slot] = t + self.cfg.interval_days
            return
        # Broken: collections resume from now.
        b.accrue(t, m.sc)
        b.in_plan = False
        b.fees_frozen = False
        due[self.slot] = INF
        if m.trace:
            m.event(b, t, "plan", b.plan_kind, "broken")
        for hook in self.broken:
            hook(b, t, due)
