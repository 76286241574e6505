"""Litigation (``ladder.lost_contact.litigation*``): from ``litigation_day`` past due, an
account owing at least ``litigation_min_balance`` is sued; the summons escalates, and after
``litigation_days`` enforcement recovers ``litigation_recovery`` of the balance with
probability ``litigation_success``. An account keeping a plan is not sued while it keeps it.
"""

from __future__ import annotations

from typing import Any

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Rung, Stage

NOT_FILED, FILED, DONE = 0, 1, 2
"""``b.lit_state``: not sued (yet), case filed, judgment enforced (or not)."""


class Litigation(Rung):
    """Filing a suit against a large enough debt, then enforcing the judgment."""

    order = 100
    name = "litigation"
    section = "lost_contact"
    agenda = ("litigation",)
    stages = (Stage("litigation", 110),)
    channels = touches = ("litigation",)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.slot = self.entry["litigation"]

    def fixed_days(self) -> dict[str, float]:
        lc = self.cfg
        return {"litigation": lc.litigation_day} if lc.enabled and lc.litigation else {}

    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        m, lc = self.model, self.cfg
        due[self.slot] = INF
        if b.lit_state == NOT_FILED:
            b.accrue(t, m.sc)
            if b.in_plan:
                due[self.slot] = t + m.sc.ladder.plans.interval_days
                return
            if b.balance < lc.litigation_min_balance:
                return
            b.lit_state = FILED
            m.stage(b, t, "litigation")
            m.cost(b, "litigation", lc.litigation_cost)
            m.escalated(b, t, due, 1.0, "litigation")  # the court summons
            due[self.slot] = t + lc.litigation_days
        elif b.lit_state == FILED:
            b.lit_state = DONE
            if next(m.late(b, "platform")) < lc.litigation_success:
                b.accrue(t, m.sc)
                amount = round(lc.litigation_recovery * b.balance, 2)
                b.last_touch = "litigation"
                m.receive_payment(b, t, amount, "enforcement")
                if b.balance <= 0:
                    m.resolve(b, t, "cured")
