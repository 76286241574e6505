"""Account measures (``ladder.measures``, case C): the account is frozen and its limit cut
on ``freeze_day``, and reported to the credit reference system on ``report_day``.

Each measure lastingly multiplies the borrower's willingness (so the baseline repayment
intensity) and escalates (a jump of ``effect``). While an instalment plan is kept a measure
waits, one plan interval at a time; a freeze so delayed past the report day is followed by
the report at once.
"""

from __future__ import annotations

from typing import Any

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Rung, Stage

FREEZE, CREDIT_REPORT = 0, 1
"""``b.measure_step``: the measure due next (2: both applied)."""


class Measures(Rung):
    """The freeze (with the limit cut) and the credit report, on their days past due."""

    order = 80
    name = section = "measures"
    agenda = ("measure",)
    stages = (Stage("measures", 50),)
    touches = ("measures",)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.slot = self.entry["measure"]

    def fixed_days(self) -> dict[str, float]:
        return {"measure": self.cfg.freeze_day} if self.cfg.enabled else {}

    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        m, cfg = self.model, self.cfg
        if b.in_plan:
            due[self.slot] = t + m.sc.ladder.plans.interval_days
            return
        m.stage(b, t, "measures")
        if b.measure_step == FREEZE:
            b.willingness_mult *= cfg.freeze_willingness
            # A kept plan may have pushed the freeze past the report day: the report then
            # follows at once, never before now (an account's time only moves forward).
            report = b.entered + cfg.report_day
            if cfg.report_day <= cfg.freeze_day:
                report = INF  # the freeze and the report at once: the freeze only
            due[self.slot] = report if report > t else t
        else:
            b.willingness_mult *= cfg.report_willingness
            due[self.slot] = INF
        b.measure_step += 1
        if m.trace:
            m.event(b, t, "measure", "", "freeze" if b.measure_step == 1 else "credit_report")
        # The baseline intensity changed too, so the next repayment is drawn afresh.
        b.last_touch = "measures"
        b.jump(b.escalation_jump(cfg.effect, t, m.gamma), t, m.kappa)
        m.repay_time(b, t, due)
