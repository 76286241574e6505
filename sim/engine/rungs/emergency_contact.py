"""The emergency-contact stage (``ladder.emergency_contact``): calling the borrower's
pre-agreed contacts.

When the trigger fires (:mod:`sim.engine.rungs.triggers`) the contacts that may be called
(all, or only those who consented) are queued; each is called up to
``attempts_per_contact`` times, ``retry_days`` apart, within calling hours, and only while
the borrower is unreachable if ``only_when_unreachable``. A contact who answers may complain
(more if warned not, or if details are disclosed), the borrower may complain too, and the
contact may relay the message (case A: the mother persuaded the student, who repaid), which
escalates: the repayment intensity jumps whatever the borrower's willingness.
"""

from __future__ import annotations

from typing import Any

import cython

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Count, Rung, Stage
from sim.engine.rungs.triggers import TRIGGERS

NOT_STARTED, CALLING, DONE = 0, 1, 2
"""``b.ec_state``: the stage has not started, its contacts are being called, it is over."""
RELATIONSHIP, WARNED, CONSENT, ATTEMPTS_LEFT, NEXT_ATTEMPT = range(5)
"""Fields of an entry of ``b.ec_queue`` (a small list per contact, mutated in place)."""


class EmergencyContact(Rung):
    """The stage's trigger check on day X (agenda ``ec`` before the stage) and its calls."""

    order = 70
    name = section = "emergency_contact"
    agenda = ("ec",)
    stages = (Stage("emergency_contact", 70),)
    channels = touches = ("emergency_contact",)
    counts = (
        Count("n_third_party_contacts", "n_tp_contacts"),
        Count("n_third_party_disclosures", "n_tp_disclosures"),
        Count("n_contact_calls", "n_contact_calls"),
    )
    daily = ("contact_calls",)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.trigger = TRIGGERS[self.cfg.trigger](self.cfg)
        self.declines = self.cfg.declined_calls if self.trigger.uses_declines else INF
        """Unanswered calls in a row before the trigger is worth asking (inf: never)."""
        self.slot = self.entry["ec"]
        self.by_day = model.rec.daily["contact_calls"]
        self.relationships = model.sc.population.contacts.relationships
        self.relationship_names = model.traits.relationship_names

    def connect(self) -> None:
        self.life = self.model.rung("life")

    def fixed_days(self) -> dict[str, float]:
        return {"ec": self.cfg.day} if self.trigger.uses_day else {}

    @cython.locals(b=Borrower)
    def after_decline(self, b: Borrower, t: float, due: list[float]) -> None:
        """After an unanswered call (N in a row): start the stage if the trigger fires."""
        if not b.ec_state and self.trigger.fires(b, t):
            self.begin(b, t, due)

    @cython.locals(b=Borrower)
    def begin(self, b: Borrower, t: float, due: list[float]) -> None:
        """Enter the stage: queue the contacts that may be called."""
        ec = self.cfg
        # Read from the population's traits only now: most accounts never get here, and three
        # small lists on every account cost 300 bytes each.
        traits = self.model.traits
        i = b.bid - traits.first
        n = int(traits.n_contacts[i])
        rel, warned = traits.contact_rel[i].tolist(), traits.contact_warned[i].tolist()
        consent = traits.contact_consent[i].tolist()
        eligible = [
            (rel[k], warned[k], consent[k])
            for k in range(n)
            if consent[k] or not ec.require_consent
        ]
        b.ec_state = DONE
        if not eligible:
            return
        b.ec_state = CALLING
        b.ec_day = t - b.entered
        self.model.stage(b, t, "emergency_contact")
        b.ec_queue = [[*c, ec.attempts_per_contact, t] for c in eligible]
        due[self.slot] = t

    @cython.locals(b=Borrower)
    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        ec = self.cfg
        if b.ec_state == NOT_STARTED:  # the day-X check
            due[self.slot] = INF
            if self.trigger.fires(b, t):
                self.begin(b, t, due)
            return
        if b.ec_state != CALLING or b.in_plan:
            due[self.slot] = INF
            return
        if ec.only_when_unreachable and b.last_contact + ec.unreachable_days > t:
            due[self.slot] = b.last_contact + ec.unreachable_days  # reached meanwhile: wait
            return
        ok = self.model.rules.window(t)
        if ok > t:
            due[self.slot] = ok
            return
        entry = min(b.ec_queue, key=lambda e: e[NEXT_ATTEMPT])
        self.call(b, t, due, entry)
        if b.ec_state == CALLING and b.ec_queue:
            due[self.slot] = max(t + 1.0 / 24.0, min(e[NEXT_ATTEMPT] for e in b.ec_queue))
        else:
            b.ec_state = DONE
            due[self.slot] = INF

    @cython.locals(b=Borrower)
    def call(self, b: Borrower, t: float, due: list[float], entry: list) -> None:
        """Call one emergency contact; a contact who answers is done with."""
        m, ec = self.model, self.cfg
        pc = m.sc.population.contacts
        rel = self.relationships[self.relationship_names[entry[RELATIONSHIP]]]
        m.note_call_hours(t)
        b.n_contact_calls += 1
        self.by_day[m.rec.day_index(t)] += 1
        m.cost(b, "emergency_contact", m.sc.costs.contact_call)
        rs = m.late(b, "contact")
        answered = next(rs) < rel.answer_prob * b.seg.contact_answer_factor
        entry[ATTEMPTS_LEFT] -= 1
        entry[NEXT_ATTEMPT] = t + ec.retry_days
        who = self._who(entry)
        if not answered:
            if entry[ATTEMPTS_LEFT] <= 0:
                b.ec_queue.remove(entry)
            if m.trace:
                m.event(b, t, "contact_call", who, "unanswered")
            return
        b.ec_queue.remove(entry)
        b.n_tp_contacts += 1
        details = ec.disclosure == "details"
        factor = pc.details_complaint_factor if details else 1.0
        if details:
            b.n_tp_disclosures += 1
        warned = pc.warned_complaint_factor if entry[WARNED] else 1.0
        comp = m.sc.complaints
        if next(rs) < rel.complaint_prob * warned * factor * comp.contact * comp.scale:
            m.complaint(b, t, "contact", "disclosure" if details else "contact")
        if next(rs) < b.seg.complaint_third_party * factor * comp.emergency_contact * comp.scale:
            m.complaint(b, t, "borrower", "disclosure" if details else "emergency_contact")
        relay_p = rel.relay_prob * (pc.details_relay_factor if details else 1.0)
        relayed = next(rs) < relay_p
        if m.trace:
            m.event(b, t, "contact_call", who, "relayed" if relayed else "answered")
            m.event(b, t, "disclosure", who, ec.disclosure)
        if relayed:  # case A: the mother persuaded the student, who repaid
            b.ec_state = DONE
            b.ec_queue = []
            if b.dark:
                self.life.set_dark(b, t, due, False)
            m.reached(b, t, due)
            m.escalated(b, t, due, ec.effect, "emergency_contact")

    def _who(self, entry: list) -> str:
        """The trace's name of a contact: the relationship, and whether they consented."""
        name = self.relationship_names[entry[RELATIONSHIP]]
        return name if entry[CONSENT] else f"{name} (no consent)"

    def on_plan_broken(self, b: Borrower, t: float, due: list[float]) -> None:
        if b.ec_state == CALLING:
            due[self.slot] = t
