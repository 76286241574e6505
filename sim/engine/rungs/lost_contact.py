"""The lost-contact procedure (``ladder.lost_contact``, case C).

After ``no_contact_days`` without reaching the borrower the platform checks the identity
(a fraudulent one ends the agreement), then sends field investigators, who find the borrower
with probability ``field_visit_success`` (an escalation). Reaching the borrower meanwhile stops
the procedure; it restarts if contact is lost again. Litigation, configured in the same
section, is :mod:`sim.engine.rungs.litigation`.
"""

from __future__ import annotations

from typing import Any

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Rung, Stage

WATCHING, IDENTITY_CHECK, FIELD_VISIT, DONE = 0, 1, 2, 3
"""``b.lost_state``: waiting for contact to be lost, identity check under way, field visit
under way, procedure over."""


class LostContact(Rung):
    """Identity check, then field visit, once the borrower has not been reached for long."""

    order = 90
    name = section = "lost_contact"
    agenda = ("lost",)
    stages = (Stage("identity_check", 80), Stage("field_visit", 90))
    channels = ("identity_check", "field_visit")
    touches = ("field_visit",)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.slot = self.entry["lost"]
        self.after = self.cfg.no_contact_days if self.cfg.enabled else None

    def connect(self) -> None:
        self.life = self.model.rung("life")

    def fixed_days(self) -> dict[str, float]:
        return {"lost": self.after} if self.after is not None else {}

    def on_reached(self, b: Borrower, t: float, due: list[float]) -> None:
        if b.lost_state == WATCHING and self.after is not None:
            due[self.slot] = t + self.after

    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        m, lc = self.model, self.cfg
        due[self.slot] = INF
        if b.lost_state == WATCHING:
            if b.last_contact + lc.no_contact_days > t:
                due[self.slot] = b.last_contact + lc.no_contact_days
                return
            b.lost_state = IDENTITY_CHECK
            m.stage(b, t, "identity_check")
            m.cost(b, "identity_check", lc.identity_check_cost)
            due[self.slot] = t + lc.identity_check_days
        elif b.last_contact + lc.no_contact_days > t:
            # Reached while the procedure ran: it stops, and restarts if contact is lost again.
            b.lost_state = WATCHING
            due[self.slot] = b.last_contact + lc.no_contact_days
        elif b.lost_state == IDENTITY_CHECK:
            if b.seg.fraudulent:  # case C: identity false -> terminate the agreement
                m.resolve(b, t, "fraud_terminated")
                return
            if not lc.field_visit:
                b.lost_state = DONE
                return
            b.lost_state = FIELD_VISIT
            due[self.slot] = t + lc.field_visit_days
        elif b.lost_state == FIELD_VISIT:
            b.lost_state = DONE
            m.stage(b, t, "field_visit")
            m.cost(b, "field_visit", lc.field_visit_cost)
            found = next(m.late(b, "platform")) < lc.field_visit_success
            if m.trace:
                m.event(b, t, "field_visit", "", "found" if found else "not_found")
            if found:
                if b.dark:
                    self.life.set_dark(b, t, due, False)
                m.reached(b, t, due)
                m.escalated(b, t, due, 1.0, "field_visit")
