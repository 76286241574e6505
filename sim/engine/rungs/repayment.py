"""The borrower repays (agenda entry ``pay``): in full, which cures the account, or a share.

Repayment times come from the account's self-exciting intensity
(:meth:`~sim.engine.account.Borrower.sample_payment`); every rung that raises the intensity
goes through the engine's ``excite``/``repay_time``, which keep this entry's due time. A
partial repayment of share ``r`` of the balance raises the intensity by
``behaviour.payment_jump + behaviour.payment_jump_per_share * r``. That jump is the
borrower's own momentum, not the effect of a collection action, so unlike the contact and
escalation jumps it does not fade with the age of the debt (``docs/model.md``).
"""

from __future__ import annotations

from typing import Any

import cython

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Rung


class Repayment(Rung):
    """The borrower's repayments."""

    order = 0
    name = "repayment"
    agenda = ("pay",)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.slot = self.entry["pay"]

    def start(self, b: Borrower, t: float, due: list[float]) -> None:
        due[self.slot] = b.sample_payment(t, self.model.kappa, self.model.gamma)

    @cython.locals(b=Borrower)
    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        m = self.model
        b.accrue(t, m.sc)
        share = m.payment_share(b, b.rs_pay)
        if not share:
            m.repaid(b, t, due, b.balance, "full", 0.0)
        else:
            m.repaid(b, t, due, round(share * b.balance, 2), "partial", share)

    def on_plan_granted(self, b: Borrower, t: float, due: list[float]) -> None:
        due[self.slot] = INF  # instalments replace repayments while the plan is kept

    def on_plan_broken(self, b: Borrower, t: float, due: list[float]) -> None:
        self.model.repay_time(b, t, due)
