"""The borrower's own life: an income shock ends, the phone goes dark and comes back, the
borrower calls customer service (cases A, B).

Each is a Poisson event of the borrower's segment (``population.segments.NAME``:
``shock_recovery_days``, ``go_dark_rate``, ``reappear_rate``, ``service_contact_rate``). While
dark the borrower reads and answers nothing and does not call in. A service call reaches the
borrower, who may ask for an instalment plan; otherwise it raises the repayment intensity.
"""

from __future__ import annotations

from typing import Any

import cython

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Rung


class Life(Rung):
    """Income shocks ending, the phone going dark and back, calls to customer service."""

    order = 120
    name = "life"
    agenda = ("shock", "dark", "back", "service")
    touches = ("service",)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        e = self.entry
        self.shock, self.dark, self.back, self.service = (
            e["shock"], e["dark"], e["back"], e["service"]
        )  # fmt: skip

    def connect(self) -> None:
        self.plans = self.model.rung("plans")

    @cython.locals(b=Borrower)
    def start(self, b: Borrower, t: float, due: list[float]) -> None:
        seg, exp = b.seg, self.model.exp
        due[self.shock] = b.shock_end
        if b.dark:  # unreachable from entry: no calls to customer service until back
            due[self.back] = t + exp(b, seg.reappear_rate)
        else:
            due[self.dark] = t + exp(b, seg.go_dark_rate)
            due[self.service] = t + exp(b, seg.service_contact_rate)

    @cython.locals(b=Borrower)
    def on_shock(self, b: Borrower, t: float, due: list[float]) -> None:
        """The income shock ends: ability recovers, so the baseline intensity rises."""
        m = self.model
        due[self.shock] = INF
        b.decay_to(t, m.kappa)
        b.in_shock = False
        m.repay_time(b, t, due)

    @cython.locals(b=Borrower)
    def set_dark(self, b: Borrower, t: float, due: list[float], dark: bool) -> None:
        """The phone goes dead (``dark``) or works again; the next change is drawn."""
        exp = self.model.exp
        b.dark = dark
        if dark:
            due[self.dark] = INF
            due[self.service] = INF
            due[self.back] = t + exp(b, b.seg.reappear_rate)
        else:
            due[self.back] = INF
            due[self.dark] = t + exp(b, b.seg.go_dark_rate)
            due[self.service] = t + exp(b, b.seg.service_contact_rate)
        if self.model.trace:
            self.model.event(b, t, "reachability", "", "dark" if dark else "back")

    @cython.locals(b=Borrower)
    def on_dark(self, b: Borrower, t: float, due: list[float]) -> None:
        self.set_dark(b, t, due, True)

    @cython.locals(b=Borrower)
    def on_back(self, b: Borrower, t: float, due: list[float]) -> None:
        self.set_dark(b, t, due, False)

    @cython.locals(b=Borrower)
    def on_service(self, b: Borrower, t: float, due: list[float]) -> None:
        """The borrower calls customer service on their own (cases A, B)."""
        m = self.model
        due[self.service] = t + m.exp(b, b.seg.service_contact_rate)
        if m.trace:
            m.event(b, t, "service_call")
        m.reached(b, t, due)
        if next(b.rs_life) < b.seg.plan_request_prob and self.plans.help(b, t, due):
            return
        m.contacted(b, t, due, 1.0, "service")
