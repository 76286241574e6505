"""Hand-off to a third-party collection agency (``ladder.agency``, case B).

On ``day`` past due the account goes to the agency: the platform's own robot and agent calls
stop, the agency calls ``calls_per_week`` times, and it is paid ``commission`` of everything
repaid after the hand-off. An account keeping an instalment plan is not handed off; the
hand-off waits for the next instalment and happens only if the plan is broken.
"""

from __future__ import annotations

from typing import Any

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Count, Stage
from sim.engine.rungs.calls import Calls, next_after


class Agency(Calls):
    """The hand-off (agenda entry ``handoff``) and the agency's calls (``agency``)."""

    order = 60
    name = section = "agency"
    agenda = ("agency", "handoff")
    stages = (Stage("agency", 100),)
    channels = ("agency_commission",)
    touches = ("agency",)
    counts = (Count("n_agency_calls", "n_agency"),)
    daily = ("agency_calls",)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        ac = self.cfg
        self.effect = ac.effect  # agency calls cost nothing per attempt: paid by commission
        self.gap = 7.0 / ac.calls_per_week if ac.calls_per_week > 0 else INF
        self.dead_gap = model.sc.ladder.agent.dead_number_days

    def connect(self) -> None:
        super().connect()
        self.slot, self.handoff_slot = self.entry["agency"], self.entry["handoff"]
        self.handing_off = self.model.hooks["on_handed_off"]

    def fixed_days(self) -> dict[str, float]:
        return {"handoff": self.cfg.day} if self.cfg.enabled else {}

    def attempt(self, b: Borrower) -> float:
        b.n_agency += 1
        return b.p_agent

    def next_attempt(self, b: Borrower, after: float) -> float:
        if not b.agency or self.cfg.calls_per_week <= 0:
            return INF
        gap = self.gap
        if b.dark:
            gap = max(gap, self.dead_gap)
        first = b.entered + self.cfg.day + b.call_tod
        if after < first:
            return first
        return next_after(first, gap, after)

    def on_agency(self, b: Borrower, t: float, due: list[float]) -> None:
        self.on_due(b, t, due)

    def on_handoff(self, b: Borrower, t: float, due: list[float]) -> None:
        """Hand the account over (its agenda entry ``handoff``): the platform's calls stop."""
        if b.in_plan:
            due[self.handoff_slot] = t + self.model.sc.ladder.plans.interval_days
            return
        due[self.handoff_slot] = INF
        b.agency = True
        self.model.stage(b, t, "agency")
        for hook in self.handing_off:
            hook(b, t, due)
        due[self.slot] = self.next_attempt(b, t - 1e-9)

    def on_payment(self, b: Borrower, t: float, amount: float) -> None:
        if b.agency:
            self.model.cost(b, "agency_commission", amount * self.cfg.commission)
