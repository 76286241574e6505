"""Who is simulated: borrower segments with their traits, emergency contacts, arrivals
(``population``). Sources are given with each default (``param(..., source=...)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.spec.params import CAL, P01, RATE, mapping, param, section


@dataclass(frozen=True)
class Segment:
    """One kind of borrower. Probability traits are individual: each borrower draws a value
    around the segment's median (logit-normal, spread ``population.trait_spread``)."""

    weight: float = param(0.0, lo=0, hi=1, doc="mixture weight (weights are normalised)")
    fraudulent: bool = param(
        False,
        doc="identity is fake or borrowed: never pays, found out by the identity check",
        source="case C: verify identity authenticity, forged identities",
    )
    principal_median: float = param(
        2000.0, unit="yuan", lo=1, hi=1e7, doc="median principal outstanding at DPD 0"
    )
    principal_sigma: float = param(0.8, lo=0, hi=3, doc="log-sd of the lognormal principal")
    willingness: float = param(0.8, **P01, doc="median willingness to pay")
    ability: float = param(0.9, **P01, doc="median ability to pay (outside an income shock)")
    base_intensity: float = param(
        0.03,
        **RATE,
        doc="baseline repayment intensity lambda_inf at full ability and willingness",
        source=f"{CAL}: Chehrazi & Weber structure; level tuned to 40-60% self-cure (McKinsey)",
    )
    contact_jump: float = param(
        1.0,
        **RATE,
        doc="jump in repayment intensity after a reminder read or a call answered "
        "(times the channel's effect, the borrower's ability and willingness)",
        source=f"{CAL}: Chehrazi & Weber, jump per unit of action 1",
    )
    escalation_jump: float = param(
        0.5,
        **RATE,
        doc="jump after escalation: a contact relayed the message, an account measure, "
        "a field visit, a court summons (times ability, not willingness)",
        source="case B: strategic borrowers respond to escalation",
    )
    full_payment_prob: float = param(0.8, **P01, doc="share of repayments that clear the balance")
    shock_prob: float = param(0.0, **P01, doc="probability of being in an income shock at DPD 0")
    shock_recovery_days: float = param(
        30.0, unit="days", lo=0.1, hi=3650, doc="mean length of an income shock (exponential)"
    )
    shock_ability_factor: float = param(
        0.15, **P01, doc="ability multiplier while in an income shock"
    )
    sms_read: float = param(0.8, **P01, doc="median probability an SMS reminder is read")
    robot_answer: float = param(0.5, **P01, doc="median probability a robot call is answered")
    agent_answer: float = param(0.6, **P01, doc="median probability an agent call is answered")
    new_number_answer: float = param(
        0.4, **P01, doc="median answer probability for a call from a rotated (unknown) number"
    )
    fatigue: float = param(
        0.08,
        lo=0,
        hi=5,
        doc="answer probability falls by exp(-fatigue * recent calls) "
        "(recent calls decay with a 7-day memory)",
    )
    unreachable_at_entry: float = param(
        0.01, **P01, doc="probability the phone is already dead at DPD 0 (lost contact)"
    )
    go_dark_rate: float = param(0.0, **RATE, doc="hazard of the phone going dead while delinquent")
    reappear_rate: float = param(0.05, **RATE, doc="hazard of a dead phone coming back by itself")
    service_contact_rate: float = param(
        0.01, **RATE, doc="rate of calling customer service on one's own initiative"
    )
    pay_on_call_prob: float = param(
        0.1,
        **P01,
        doc="conversation outcome: share of right-party contacts with an agent in which the "
        "borrower pays on the spot (in full with full_payment_prob, else a part)",
        source=f"{CAL}: conversation outcomes (forgetful borrowers pay when reminded, case A)",
    )
    promise_prob: float = param(
        0.4,
        **P01,
        doc="conversation outcome: share of right-party contacts that end in a promise to pay "
        "(in full with full_payment_prob, else a part) by a date within "
        "ladder.promises.max_days",
        source=f"{CAL}: promise to pay on 58.6% of contacts (V)",
    )
    promise_keep_prob: float = param(
        0.5,
        **P01,
        doc="probability a first promise is kept (the promised amount paid by its date); "
        "each broken promise multiplies it by ladder.promises.broken_keep_factor",
        source=f"{CAL}: half of promises kept (V)",
    )
    plan_request_prob: float = param(
        0.1,
        **P01,
        doc="conversation outcome: share of right-party contacts (and of the borrower's own "
        "calls to customer service) in which the borrower asks for hardship help, answered by "
        "the treatment policy (ladder.grace, ladder.plans, ladder.waiver)",
        source="cases A, B: ask for an instalment plan, extension or grace period",
    )
    refusal_prob: float = param(
        0.1,
        **P01,
        doc="conversation outcome: share of right-party contacts in which the borrower "
        "refuses to pay (no reminder effect)",
    )
    dispute_prob: float = param(
        0.02,
        **P01,
        doc="conversation outcome: share of right-party contacts in which the borrower "
        "disputes the debt: agent calls pause for ladder.promises.dispute_days while it is "
        "verified; the rest of the shares (1 - the five) is no outcome",
        source=f"{CAL}: debts not owed, the commonest collection complaint (CFPB) (P)",
    )
    plan_keep_prob: float = param(0.85, **P01, doc="probability each plan instalment is paid")
    complaint_per_call: float = param(
        0.0001,
        **P01,
        doc="the segment's complaint propensity: probability a call attempt draws a "
        "complaint, before call pressure and the complaints.* factors",
    )
    complaint_third_party: float = param(
        0.005,
        **P01,
        doc="probability the borrower complains after their emergency contact is called",
        source="case B: complaints about contact with third parties",
    )
    contact_answer_factor: float = param(
        1.0, lo=0, hi=2, doc="multiplier on the emergency contacts' answer probability"
    )


SEGMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    # Weights and levels are tuned together so that the baseline reproduces the calibration
    # targets (docs/scenario_reference.md, "Calibration"): ~86% of principal repaid within
    # 30 days (Qifu Q2 2024), 40-60% self-cure with no intervention (McKinsey), under 10% of
    # the balance outstanding at DPD 90 recovered afterwards (case C).
    "forgetful": dict(
        weight=0.58, willingness=0.95, ability=0.95, base_intensity=0.04, contact_jump=3.0,
        escalation_jump=1.0, full_payment_prob=0.92, sms_read=0.85, robot_answer=0.6,
        agent_answer=0.7, new_number_answer=0.5, fatigue=0.05, unreachable_at_entry=0.01,
        reappear_rate=0.2, service_contact_rate=0.02, pay_on_call_prob=0.4, promise_prob=0.45,
        promise_keep_prob=0.9, plan_request_prob=0.03, refusal_prob=0.02, dispute_prob=0.005,
        plan_keep_prob=0.95, complaint_per_call=2.5e-05, complaint_third_party=0.0025,
    ),
    "short_of_cash": dict(
        weight=0.2, willingness=0.85, ability=0.7, base_intensity=0.04, contact_jump=2.0,
        escalation_jump=1.0, full_payment_prob=0.5, shock_prob=0.8, shock_recovery_days=15.0,
        shock_ability_factor=0.15, sms_read=0.8, robot_answer=0.5, agent_answer=0.6,
        new_number_answer=0.4, fatigue=0.08, unreachable_at_entry=0.01, go_dark_rate=0.002,
        reappear_rate=0.1, service_contact_rate=0.02, pay_on_call_prob=0.05, promise_prob=0.3,
        promise_keep_prob=0.75, plan_request_prob=0.45, refusal_prob=0.1, dispute_prob=0.01,
        plan_keep_prob=0.8, complaint_per_call=5e-05, complaint_third_party=0.005,
    ),
    "avoider": dict(
        weight=0.09, willingness=0.3, ability=0.1, base_intensity=0.003, contact_jump=0.15,
        escalation_jump=0.2, full_payment_prob=0.2, shock_prob=0.5, shock_recovery_days=45.0,
        shock_ability_factor=0.3, sms_read=0.5, robot_answer=0.15, agent_answer=0.2,
        new_number_answer=0.35, fatigue=0.15, unreachable_at_entry=0.1, go_dark_rate=0.01,
        reappear_rate=0.02, service_contact_rate=0.005, pay_on_call_prob=0.02, promise_prob=0.5,
        promise_keep_prob=0.35, plan_request_prob=0.1, refusal_prob=0.25, dispute_prob=0.05,
        plan_keep_prob=0.25, complaint_per_call=0.000125, complaint_third_party=0.0125,
    ),
    "strategic": dict(
        weight=0.10, willingness=0.2, ability=0.9, base_intensity=0.003, contact_jump=0.3,
        escalation_jump=0.8, full_payment_prob=0.7, sms_read=0.7, robot_answer=0.3,
        agent_answer=0.4, new_number_answer=0.3, fatigue=0.1, unreachable_at_entry=0.02,
        go_dark_rate=0.003, reappear_rate=0.05, service_contact_rate=0.005,
        pay_on_call_prob=0.05, promise_prob=0.65, promise_keep_prob=0.5, plan_request_prob=0.05,
        refusal_prob=0.15, dispute_prob=0.05, plan_keep_prob=0.7, complaint_per_call=0.0001,
        complaint_third_party=0.01,
    ),
    "fraudulent": dict(
        weight=0.03, fraudulent=True, willingness=0.0, ability=0.0, base_intensity=0.0,
        contact_jump=0.0, escalation_jump=0.0, full_payment_prob=0.0, sms_read=0.05,
        robot_answer=0.02, agent_answer=0.03, new_number_answer=0.03, fatigue=0.2,
        unreachable_at_entry=0.7, go_dark_rate=0.05, reappear_rate=0.0,
        service_contact_rate=0.0, pay_on_call_prob=0.0, promise_prob=0.1, promise_keep_prob=0.0,
        plan_request_prob=0.0, refusal_prob=0.2, dispute_prob=0.5, complaint_per_call=0,
        complaint_third_party=0.001, contact_answer_factor=0.2,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Relationship:
    """One kind of emergency contact (parent, spouse, friend, ...)."""

    weight: float = param(0.0, lo=0, hi=1, doc="share of contacts of this kind (normalised)")
    answer_prob: float = param(0.6, **P01, doc="probability the contact answers a call")
    relay_prob: float = param(
        0.5,
        **P01,
        doc="probability the contact relays the message so the borrower re-engages",
        source="case A: the mother persuaded the student, who repaid",
    )
    complaint_prob: float = param(0.005, **P01, doc="probability the contact complains when called")


RELATIONSHIP_DEFAULTS: dict[str, dict[str, Any]] = {
    "parent": dict(weight=0.45, answer_prob=0.7, relay_prob=0.6, complaint_prob=0.0025),
    "spouse": dict(weight=0.15, answer_prob=0.8, relay_prob=0.7, complaint_prob=0.0025),
    "sibling": dict(weight=0.15, answer_prob=0.6, relay_prob=0.5, complaint_prob=0.004),
    "friend": dict(weight=0.15, answer_prob=0.5, relay_prob=0.35, complaint_prob=0.006),
    "colleague": dict(weight=0.1, answer_prob=0.5, relay_prob=0.25, complaint_prob=0.01),
}


@dataclass(frozen=True)
class Contacts:
    """Emergency contacts given at application time (case A: usually a relative or friend)."""

    count_weights: tuple[float, ...] = param(
        (0.3, 0.4, 0.3),
        lo=0,
        hi=1,
        length=(3, 3),
        doc="probabilities of having 1, 2 or 3 emergency contacts",
        source="domain.md: 1-3 emergency contacts",
    )
    warned_prob: float = param(
        0.3, **P01, doc="probability the borrower warned a contact in advance", source="case B"
    )
    warned_complaint_factor: float = param(
        0.5, lo=0, hi=1, doc="complaint multiplier for a contact who was warned in advance"
    )
    consent_prob: float = param(
        0.6,
        **P01,
        doc="probability a contact consented to be contacted (used when consent is required)",
        source="case C: the platform should have the contact's consent",
    )
    details_relay_factor: float = param(
        1.3,
        lo=0,
        hi=5,
        doc="relay probability multiplier when the debt details are disclosed",
    )
    details_complaint_factor: float = param(
        2.0,
        lo=0,
        hi=20,
        doc="complaint multiplier (contact and borrower) when details are disclosed",
    )
    relationships: dict[str, Relationship] = mapping(
        lambda: {k: Relationship(**v) for k, v in RELATIONSHIP_DEFAULTS.items()},
        doc="kinds of emergency contact by name; a new name needs new = true in its table",
        item_doc="population.contacts.relationships.NAME",
    )


@dataclass(frozen=True)
class Population:
    """Who is simulated and how they arrive."""

    borrowers: int = param(10_000, unit="borrowers", lo=1, hi=50_000_000, doc="population size")
    arrival: str = param(
        "cohort",
        choices=("cohort", "inflow"),
        doc="cohort: everyone enters at day 0; inflow: a daily stream of newly overdue accounts",
    )
    inflow_days: int = param(
        90,
        unit="days",
        lo=1,
        hi=3650,
        doc="inflow only: arrivals are spread evenly over these days",
    )
    trait_spread: float = param(
        0.6, lo=0, hi=5, doc="logit-scale sd of individual probability traits around the median"
    )
    segments: dict[str, Segment] = mapping(
        lambda: {k: Segment(**v) for k, v in SEGMENT_DEFAULTS.items()},
        doc="borrower segments by name; a built-in name starts from its defaults, a new one "
        "needs new = true in its table (so a typo cannot add a segment)",
        item_doc="population.segments.NAME",
    )
    contacts: Contacts = section(Contacts, "emergency contacts")
