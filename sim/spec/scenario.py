"""The scenario specification: typed, frozen, validated settings for one simulated policy.

A :class:`Scenario` is inert: it describes a population and a collections ladder, it runs
nothing. Build one with :func:`load_scenario` (a TOML file plus overrides) or
:func:`build_scenario` (a plain dict). Every key is declared with
:func:`sim.spec.params.param`, which carries its default, unit, allowed range and the published
figure it comes from; the built-in defaults *are* the baseline scenario (seed 000's ladder). Units:
time in days (DPD, days past due; day 0 is the first day past due, and a Monday), clock times in
hours of the day (8.5 = 08:30), money in yuan, rates per day.

Sources are keyed to ``shared/calibration.md`` and the seed articles (``seed 000`` etc.).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.spec.params import Meta, ScenarioError, extensions, mapping, param, section

CAL = "calibration.md"
P01 = dict(lo=0.0, hi=1.0)
RATE = dict(unit="per day", lo=0.0, hi=50.0)


# --------------------------------------------------------------------------- population


@dataclass(frozen=True)
class Segment:
    """One kind of borrower. Probability traits are individual: each borrower draws a value
    around the segment's median (logit-normal, spread ``population.trait_spread``)."""

    weight: float = param(0.0, lo=0, hi=1, doc="mixture weight (weights are normalised)")
    fraudulent: bool = param(
        False,
        doc="identity is fake or borrowed: never pays, found out by the identity check",
        source="seed 002: verify identity authenticity, forged identities",
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
        source="seed 001: strategic borrowers respond to escalation",
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
    plan_request_prob: float = param(
        0.1,
        **P01,
        doc="probability of asking for an instalment plan in a conversation",
        source="seeds 000, 001: ask for an instalment plan, extension or grace period",
    )
    plan_keep_prob: float = param(0.85, **P01, doc="probability each plan instalment is paid")
    complaint_per_call: float = param(
        0.002, **P01, doc="probability a call attempt triggers a complaint, before call pressure"
    )
    complaint_third_party: float = param(
        0.1,
        **P01,
        doc="probability the borrower complains after their emergency contact is called",
        source="seed 001: complaints about contact with third parties",
    )
    contact_answer_factor: float = param(
        1.0, lo=0, hi=2, doc="multiplier on the emergency contacts' answer probability"
    )


SEGMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    # Weights and levels are tuned together so that the baseline reproduces the calibration
    # targets (docs/scenario_reference.md, "Calibration"): ~86% of principal repaid within
    # 30 days (Qifu Q2 2024), 40-60% self-cure with no intervention (McKinsey), under 10% of
    # the balance outstanding at DPD 90 recovered afterwards (seed 002).
    "forgetful": dict(
        weight=0.58, willingness=0.95, ability=0.95, base_intensity=0.04, contact_jump=3.0,
        escalation_jump=1.0, full_payment_prob=0.92, sms_read=0.85, robot_answer=0.6,
        agent_answer=0.7, new_number_answer=0.5, fatigue=0.05, unreachable_at_entry=0.01,
        reappear_rate=0.2, service_contact_rate=0.02, plan_request_prob=0.05,
        plan_keep_prob=0.95, complaint_per_call=0.0005, complaint_third_party=0.05,
    ),
    "short_of_cash": dict(
        weight=0.2, willingness=0.85, ability=0.7, base_intensity=0.04, contact_jump=2.0,
        escalation_jump=1.0, full_payment_prob=0.5, shock_prob=0.8, shock_recovery_days=15.0,
        shock_ability_factor=0.15, sms_read=0.8, robot_answer=0.5, agent_answer=0.6,
        new_number_answer=0.4, fatigue=0.08, unreachable_at_entry=0.01, go_dark_rate=0.002,
        reappear_rate=0.1, service_contact_rate=0.02, plan_request_prob=0.5,
        plan_keep_prob=0.8, complaint_per_call=0.001, complaint_third_party=0.1,
    ),
    "avoider": dict(
        weight=0.09, willingness=0.3, ability=0.1, base_intensity=0.003, contact_jump=0.15,
        escalation_jump=0.2, full_payment_prob=0.2, shock_prob=0.5, shock_recovery_days=45.0,
        shock_ability_factor=0.3, sms_read=0.5, robot_answer=0.15, agent_answer=0.2,
        new_number_answer=0.35, fatigue=0.15, unreachable_at_entry=0.1, go_dark_rate=0.01,
        reappear_rate=0.02, service_contact_rate=0.005, plan_request_prob=0.1,
        plan_keep_prob=0.25, complaint_per_call=0.0025, complaint_third_party=0.25,
    ),
    "strategic": dict(
        weight=0.10, willingness=0.2, ability=0.9, base_intensity=0.003, contact_jump=0.3,
        escalation_jump=0.8, full_payment_prob=0.7, sms_read=0.7, robot_answer=0.3,
        agent_answer=0.4, new_number_answer=0.3, fatigue=0.1, unreachable_at_entry=0.02,
        go_dark_rate=0.003, reappear_rate=0.05, service_contact_rate=0.005,
        plan_request_prob=0.2, plan_keep_prob=0.7, complaint_per_call=0.002,
        complaint_third_party=0.2,
    ),
    "fraudulent": dict(
        weight=0.03, fraudulent=True, willingness=0.0, ability=0.0, base_intensity=0.0,
        contact_jump=0.0, escalation_jump=0.0, full_payment_prob=0.0, sms_read=0.05,
        robot_answer=0.02, agent_answer=0.03, new_number_answer=0.03, fatigue=0.2,
        unreachable_at_entry=0.7, go_dark_rate=0.05, reappear_rate=0.0,
        service_contact_rate=0.0, plan_request_prob=0.0, complaint_per_call=0.0,
        complaint_third_party=0.02, contact_answer_factor=0.2,
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
        source="seed 000: the mother persuaded the student, who repaid",
    )
    complaint_prob: float = param(0.1, **P01, doc="probability the contact complains when called")


RELATIONSHIP_DEFAULTS: dict[str, dict[str, Any]] = {
    "parent": dict(weight=0.45, answer_prob=0.7, relay_prob=0.6, complaint_prob=0.05),
    "spouse": dict(weight=0.15, answer_prob=0.8, relay_prob=0.7, complaint_prob=0.05),
    "sibling": dict(weight=0.15, answer_prob=0.6, relay_prob=0.5, complaint_prob=0.08),
    "friend": dict(weight=0.15, answer_prob=0.5, relay_prob=0.35, complaint_prob=0.12),
    "colleague": dict(weight=0.1, answer_prob=0.5, relay_prob=0.25, complaint_prob=0.2),
}


@dataclass(frozen=True)
class Contacts:
    """Emergency contacts given at application time (seed 000: usually a relative or friend)."""

    count_weights: tuple[float, ...] = param(
        (0.3, 0.4, 0.3),
        lo=0,
        hi=1,
        length=(3, 3),
        doc="probabilities of having 1, 2 or 3 emergency contacts",
        source="domain.md: 1-3 emergency contacts",
    )
    warned_prob: float = param(
        0.3, **P01, doc="probability the borrower warned a contact in advance", source="seed 001"
    )
    warned_complaint_factor: float = param(
        0.5, lo=0, hi=1, doc="complaint multiplier for a contact who was warned in advance"
    )
    consent_prob: float = param(
        0.6,
        **P01,
        doc="probability a contact consented to be contacted (used when consent is required)",
        source="seed 002: the platform should have the contact's consent",
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
        doc="kinds of emergency contact by name",
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
        doc="borrower segments by name; a known name starts from its defaults",
        item_doc="population.segments.NAME",
    )
    contacts: Contacts = section(Contacts, "emergency contacts")


# --------------------------------------------------------------------------- the ladder


@dataclass(frozen=True)
class Reminder:
    """A one-way message: SMS, in-app push, e-mail."""

    enabled: bool = param(True, doc="switch the rung on or off")
    days: tuple[float, ...] = param(
        (0.0, 1.0, 3.0),
        unit="DPD",
        lo=0,
        hi=3650,
        length=(0, 100),
        doc="days past due on which the message is sent",
        source="seed 000 §1: SMS shortly after the due date, with a grace period",
    )
    hour: float = param(10.0, unit="hour", lo=0, hi=24, doc="clock time of sending")
    read_factor: float = param(
        1.0, lo=0, hi=2, doc="multiplier on the borrower's SMS read probability"
    )
    effect: float = param(1.0, lo=0, hi=20, doc="multiplier on the contact jump when read")
    cost: float = param(0.05, unit="yuan", lo=0, hi=1e4, doc="cost per message")


@dataclass(frozen=True)
class RobotCalls:
    """Automated voice calls (seed 000 §2: usually an automatic voice system)."""

    enabled: bool = param(True, doc="switch the rung on or off")
    start_day: float = param(1.0, unit="DPD", lo=0, hi=3650, doc="first day of robot calls")
    end_day: float = param(7.0, unit="DPD", lo=0, hi=3650, doc="robot calls stop after this day")
    calls_per_day: int = param(1, lo=0, hi=24, doc="attempts per day")
    hour: float = param(9.5, unit="hour", lo=0, hi=24, doc="clock time of the first attempt")
    effect: float = param(0.5, lo=0, hi=20, doc="multiplier on the contact jump when answered")
    cost: float = param(0.2, unit="yuan", lo=0, hi=1e4, doc="cost per attempt (dialer minutes)")


@dataclass(frozen=True)
class AgentCalls:
    """Human-agent calls (seed 000 §3); capacity comes from the ``agents`` pool."""

    enabled: bool = param(True, doc="switch the rung on or off")
    start_day: float = param(3.0, unit="DPD", lo=0, hi=3650, doc="first day of agent calls")
    end_day: float = param(
        89.0, unit="DPD", lo=0, hi=3650, doc="agent calls stop after this day (agency takes over)"
    )
    every_days: tuple[float, ...] = param(
        (1.0, 2.0, 3.0),
        unit="days",
        lo=0.1,
        hi=365,
        length=(1, 24),
        doc="days between attempts in month 1, 2, 3, ... past due (the last value repeats)",
        source=f"{CAL}: practitioners call from early DPD and ease off as debt ages (V)",
    )
    dead_number_days: float = param(
        7.0,
        unit="days",
        lo=0.1,
        hi=365,
        doc="days between attempts while the last attempt found the number out of service "
        "(a dialer recognises a dead line)",
    )
    talk_minutes: float = param(
        6.0,
        unit="minutes",
        lo=0.1,
        hi=240,
        doc="agent time for an answered call",
        source=f"{CAL}: 8-10 right-party contacts per agent-hour with a dialer (V)",
    )
    ring_minutes: float = param(
        1.0,
        unit="minutes",
        lo=0.0,
        hi=60,
        doc="line time of an attempt, charged at costs.line_minute (a predictive dialer "
        "rings; an agent joins only when the borrower answers)",
    )
    effect: float = param(1.0, lo=0, hi=20, doc="multiplier on the contact jump when answered")
    plan_offer: bool = param(
        True, doc="agents offer an instalment plan when a borrower asks in a conversation"
    )


@dataclass(frozen=True)
class SecondReminder:
    """A second, non-intrusive reminder around day 7 (seed 002: e-mail, official-account push)."""

    enabled: bool = param(True, doc="switch the rung on or off")
    day: float = param(7.0, unit="DPD", lo=0, hi=3650, doc="day it is sent", source="seed 002")
    hour: float = param(11.0, unit="hour", lo=0, hi=24, doc="clock time of sending")
    read_factor: float = param(0.7, lo=0, hi=2, doc="multiplier on the SMS read probability")
    effect: float = param(1.0, lo=0, hi=20, doc="multiplier on the contact jump when read")
    cost: float = param(0.02, unit="yuan", lo=0, hi=1e4, doc="cost per message")


@dataclass(frozen=True)
class EmergencyContact:
    """The emergency-contact stage: calling the borrower's pre-agreed contacts."""

    trigger: str = param(
        "declines",
        choices=("declines", "day", "either", "both", "never"),
        doc="declines: N consecutive unanswered calls and no contact for D days; day: on day X "
        "past due; either: whichever comes first; both: both conditions; never: off",
        source="seed 000 (declines, N = 5); seed 002 (day, ~14)",
    )
    declined_calls: int = param(
        5, lo=1, hi=1000, doc="N: consecutive declined/unanswered calls", source="seed 000: 5"
    )
    unreachable_days: float = param(
        7.0,
        unit="days",
        lo=0,
        hi=3650,
        doc="D: days without an answered contact (seed 000: 'unreachable for a long time')",
    )
    day: float = param(
        14.0,
        unit="DPD",
        lo=0,
        hi=3650,
        doc="X: day past due for the 'day' trigger",
        source="seed 002",
    )
    only_when_unreachable: bool = param(
        False,
        doc="contacts are called only while the borrower has not been reached for D days "
        "(NIFA 2018 convention, CBA 2026 guideline)",
        source=f"{CAL}: rules that bound contact",
    )
    disclosure: str = param(
        "relay_only",
        choices=("relay_only", "details"),
        doc="relay_only: only say the borrower is overdue and ask to pass it on (PIPL); "
        "details: disclose amount and details (counts as a third-party disclosure)",
        source="seed 000: PIPL allows relay only",
    )
    require_consent: bool = param(False, doc="call only contacts who consented", source="seed 002")
    attempts_per_contact: int = param(2, lo=1, hi=100, doc="call attempts per contact")
    retry_days: float = param(2.0, unit="days", lo=0.01, hi=365, doc="days between attempts")
    effect: float = param(1.0, lo=0, hi=20, doc="multiplier on the escalation jump when relayed")


@dataclass(frozen=True)
class NumberRotation:
    """Calling from other numbers when the borrower never answers (seed 002)."""

    enabled: bool = param(True, doc="switch the rung on or off", source="seed 002")
    after_unanswered: int = param(
        8, lo=1, hi=1000, doc="consecutive unanswered agent calls before rotating numbers"
    )


@dataclass(frozen=True)
class Measures:
    """Account measures (seed 002): freeze, limit cut, credit-bureau report."""

    enabled: bool = param(True, doc="switch the rung on or off", source="seed 002")
    freeze_day: float = param(10.0, unit="DPD", lo=0, hi=3650, doc="account frozen, limit cut")
    report_day: float = param(
        30.0, unit="DPD", lo=0, hi=3650, doc="reported to the central-bank credit reference system"
    )
    freeze_willingness: float = param(
        1.2, lo=0, hi=10, doc="willingness multiplier from the freeze (lasting)"
    )
    report_willingness: float = param(
        1.5, lo=0, hi=10, doc="willingness multiplier from the credit report (lasting)"
    )
    effect: float = param(0.5, lo=0, hi=20, doc="multiplier on the escalation jump when applied")


@dataclass(frozen=True)
class LostContact:
    """Lost-contact procedure (seed 002): identity check, field investigation, litigation."""

    enabled: bool = param(True, doc="switch the rung on or off", source="seed 002")
    no_contact_days: float = param(
        30.0, unit="days", lo=1, hi=3650, doc="days without an answered contact that start it"
    )
    identity_check_cost: float = param(20.0, unit="yuan", lo=0, hi=1e6, doc="cost per check")
    identity_check_days: float = param(2.0, unit="days", lo=0, hi=365, doc="time a check takes")
    field_visit: bool = param(True, doc="send field investigators to locate the borrower")
    field_visit_days: float = param(14.0, unit="days", lo=0, hi=365, doc="time to a visit")
    field_visit_cost: float = param(300.0, unit="yuan", lo=0, hi=1e6, doc="cost per visit")
    field_visit_success: float = param(0.25, **P01, doc="probability the visit finds the borrower")
    litigation: bool = param(True, doc="sue when the borrower cannot be collected otherwise")
    litigation_day: float = param(
        120.0, unit="DPD", lo=0, hi=3650, doc="earliest day to file", source=f"{CAL}: ~6 months (V)"
    )
    litigation_min_balance: float = param(
        5000.0, unit="yuan", lo=0, hi=1e8, doc="sue only when at least this much is owed"
    )
    litigation_cost: float = param(1500.0, unit="yuan", lo=0, hi=1e7, doc="legal fees per case")
    litigation_days: float = param(
        45.0, unit="days", lo=0, hi=3650, doc="time from filing to judgment and enforcement"
    )
    litigation_success: float = param(0.15, **P01, doc="probability enforcement recovers money")
    litigation_recovery: float = param(
        0.5, **P01, doc="share of the balance enforcement recovers when it succeeds"
    )


@dataclass(frozen=True)
class Agency:
    """Hand-off to a third-party collection agency (seed 001)."""

    enabled: bool = param(True, doc="switch the rung on or off", source="seed 001")
    day: float = param(
        90.0, unit="DPD", lo=0, hi=3650, doc="day of hand-off", source="domain.md §5: day 60 vs 90"
    )
    commission: float = param(0.3, **P01, doc="share of amounts recovered after hand-off")
    calls_per_week: float = param(2.0, lo=0, hi=100, doc="agency call attempts per week")
    effect: float = param(
        0.1,
        lo=0,
        hi=20,
        doc="multiplier on the contact jump when an agency call is answered (aged debt "
        "responds little: seed 002, under 10% recovered after three months)",
    )


@dataclass(frozen=True)
class Plans:
    """Instalment plans, extensions and grace periods granted on request (seeds 000, 001)."""

    enabled: bool = param(True, doc="grant plans when asked")
    from_day: float = param(0.0, unit="DPD", lo=0, hi=3650, doc="earliest day a plan is granted")
    instalments: int = param(3, lo=1, hi=60, doc="number of instalments (1 = an extension)")
    interval_days: float = param(30.0, unit="days", lo=1, hi=365, doc="days between instalments")
    first_due_days: float = param(7.0, unit="days", lo=0, hi=365, doc="days to the first one")
    max_per_account: int = param(1, lo=0, hi=20, doc="plans granted per account at most")
    freeze_fees: bool = param(True, doc="penalty interest stops while a plan is kept")


LADDER_EXTENSIONS: dict[str, type] = {}
"""Sections of rungs registered from outside the package (``sim.engine.rungs.register``):
section name -> spec dataclass. Empty unless such a rung is registered."""


@dataclass(frozen=True)
class Ladder:
    """The platform's escalation ladder (domain.md §2); every rung can be switched off."""

    sms: Reminder = section(Reminder, "SMS reminders")
    push: Reminder = section(
        lambda: Reminder(days=(2.0, 5.0), hour=12.0, read_factor=0.6, cost=0.0),
        "in-app push reminders (seed 002)",
    )
    robot: RobotCalls = section(RobotCalls, "robot calls")
    agent: AgentCalls = section(AgentCalls, "human-agent calls")
    second_reminder: SecondReminder = section(SecondReminder, "second reminder")
    emergency_contact: EmergencyContact = section(EmergencyContact, "emergency-contact stage")
    number_rotation: NumberRotation = section(NumberRotation, "number rotation")
    measures: Measures = section(Measures, "account measures")
    lost_contact: LostContact = section(LostContact, "lost-contact procedure")
    agency: Agency = section(Agency, "collection agency")
    plans: Plans = section(Plans, "instalment plans")
    write_off_day: float = param(
        180.0,
        unit="DPD",
        lo=1,
        hi=3650,
        doc="open accounts are written off on this day past due",
        source=f"{CAL}: FFIEC charge-off at 180 DPD (revolving), 120 (instalment)",
    )
    extra: dict[str, Any] = extensions(LADDER_EXTENSIONS, "sections of registered rungs")

    def section(self, name: str) -> Any:
        """The settings of rung section ``name`` (``sms``, or a registered rung's)."""
        if name in self.extra:
            return self.extra[name]
        return getattr(self, name)


# --------------------------------------------------------------------------- rules, agents, money


@dataclass(frozen=True)
class Rules:
    """Contact rules that bound every call to the borrower (robot, agent, agency)."""

    call_start: float = param(
        8.0, unit="hour", lo=0, hi=24, doc="no call before this clock time",
        source=f"{CAL}: NIFA 2024 / CBA 2026 no calls 22:00-08:00",
    )  # fmt: skip
    call_end: float = param(22.0, unit="hour", lo=0, hi=24, doc="no call at or after this time")
    max_attempts_per_day: int = param(0, lo=0, hi=1000, doc="call attempts per day (0 = no cap)")
    max_unanswered_per_day: int = param(
        0,
        lo=0,
        hi=1000,
        doc="unanswered attempts per day (0 = no cap)",
        source=f"{CAL}: CBA 2026: 6",
    )
    max_connected_per_day: int = param(
        0, lo=0, hi=1000, doc="answered calls per day (0 = no cap)", source=f"{CAL}: NIFA 2024: 3"
    )
    max_attempts_per_week: int = param(
        0, lo=0, hi=10000, doc="attempts in any rolling 7 days (0 = no cap)",
        source=f"{CAL}: Regulation F: 7 in 7 days",
    )  # fmt: skip
    min_gap_minutes: float = param(
        60.0, unit="minutes", lo=0, hi=10080, doc="minimum time between two calls"
    )
    quiet_days_after_conversation: float = param(
        0.0, unit="days", lo=0, hi=365, doc="no call this long after an answered call",
        source=f"{CAL}: Regulation F: 7 days",
    )  # fmt: skip


@dataclass(frozen=True)
class Agents:
    """The human-agent pool: a limited resource with shifts."""

    per_10k_borrowers: float = param(
        12.0,
        unit="agents",
        lo=0,
        hi=100_000,
        doc="head-count per 10,000 borrowers in the population (at least 1 when > 0)",
    )
    shift_start: float = param(9.0, unit="hour", lo=0, hi=24, doc="shift start")
    shift_hours: float = param(9.0, unit="hours", lo=0, hi=24, doc="shift length")
    weekend_share: float = param(0.5, **P01, doc="share of agents working on Saturday and Sunday")
    slot_minutes: float = param(
        30.0, unit="minutes", lo=1, hi=240, doc="capacity is booked in slots of this length"
    )


@dataclass(frozen=True)
class Fees:
    """Late fees and penalty interest keep accruing (seed 002)."""

    late_fee_rate: float = param(0.01, **P01, doc="one-off late fee as a share of principal")
    penalty_daily_rate: float = param(
        0.0005, unit="per day", lo=0, hi=0.1, doc="penalty interest on outstanding principal"
    )
    cap: float = param(
        0.24, lo=0, hi=10, doc="total fees at most this share of principal (24% APR-style cap)"
    )


@dataclass(frozen=True)
class Costs:
    """Costs not tied to a rung's own section."""

    agent_hour: float = param(60.0, unit="yuan", lo=0, hi=1e5, doc="loaded cost of an agent-hour")
    line_minute: float = param(
        0.1, unit="yuan", lo=0, hi=100, doc="telephone line cost per minute of dialling"
    )
    complaint: float = param(200.0, unit="yuan", lo=0, hi=1e7, doc="handling cost per complaint")
    contact_call: float = param(
        0.5,
        unit="yuan",
        lo=0,
        hi=1e4,
        doc="cost per call to an emergency contact, agent time included (these calls "
        "take no capacity from the agent pool)",
    )


@dataclass(frozen=True)
class Behaviour:
    """Repayment dynamics shared by all segments (Chehrazi & Weber 2015 structure)."""

    decay: float = param(
        0.7, unit="per day", lo=0.001, hi=100, doc="kappa: decay of excess repayment intensity",
        source=f"{CAL}: kappa = 0.7 (time unit taken as days)",
    )  # fmt: skip
    aging_half_life_days: float = param(
        45.0,
        unit="days",
        lo=0,
        hi=36500,
        doc="collectability halves every this many days past due: the baseline intensity "
        "and the jumps after contact and escalation are scaled by 2^(-DPD / half-life); the "
        "jump after a repayment is not (the borrower's own momentum); 0 = no aging",
        source=f"{CAL}: shrinking dollar, roughly exponential (half-life ~6 months for "
        "commercial debt; consumer online loans decay much faster, seed 002)",
    )
    payment_jump: float = param(
        0.02,
        **RATE,
        doc="intensity jump after any repayment (not aged with the debt)",
        source=f"{CAL}: 0.02 + 0.5 r",
    )
    payment_jump_per_share: float = param(
        0.5, **RATE, doc="extra jump per share r of balance repaid", source=f"{CAL}: 0.02 + 0.5 r"
    )
    partial_min: float = param(
        0.1, lo=0.01, hi=1, doc="smallest partial repayment (share of balance)",
        source=f"{CAL}: r uniform 0.1-1",
    )  # fmt: skip
    partial_max: float = param(0.9, lo=0.01, hi=1, doc="largest partial repayment")
    fatigue_memory_days: float = param(
        7.0, unit="days", lo=0.1, hi=365, doc="time constant of the recent-calls count"
    )
    complaint_call_pressure: float = param(
        0.3, lo=0, hi=100, doc="complaint probability grows by this factor per recent call"
    )


@dataclass(frozen=True)
class Scenario:
    """One policy against one population. Inert: running it is :mod:`sim.engine.core`'s job."""

    name: str = param("baseline", doc="scenario name, used in output")
    description: str = param("", doc="free text")
    days: float = param(
        180.0, unit="days", lo=1, hi=3650, doc="simulation horizon (days since the first arrival)"
    )
    seed: int = param(1, lo=0, hi=2**63 - 1, doc="root seed (overridden by --seed)")
    population: Population = section(Population, "who is simulated")
    behaviour: Behaviour = section(Behaviour, "repayment dynamics")
    ladder: Ladder = section(Ladder, "the collections ladder")
    rules: Rules = section(Rules, "contact rules")
    agents: Agents = section(Agents, "agent pool")
    fees: Fees = section(Fees, "fees and penalty interest")
    costs: Costs = section(Costs, "other costs")

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved scenario as plain TOML-compatible data."""
        return to_dict(self)


# --------------------------------------------------------------------------- loading

_NAMED_DEFAULTS: dict[type, dict[str, dict[str, Any]]] = {
    Segment: SEGMENT_DEFAULTS,
    Relationship: RELATIONSHIP_DEFAULTS,
}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_scalar(value: Any, hint: Any, meta: Meta, path: str) -> Any:
    """Convert and range-check one scalar against its declared type and :class:`Meta`."""
    allowed = meta.allowed()
    if hint is bool:
        if not isinstance(value, bool):
            raise ScenarioError(path, f"expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ScenarioError(path, f"expected a string, got {value!r}")
        if meta.choices and value not in meta.choices:
            raise ScenarioError(path, f"{value!r} is not allowed; allowed: {allowed}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(path, f"expected a whole number ({allowed}), got {value!r}")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(path, f"expected a number ({allowed}), got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ScenarioError(path, f"expected a finite number ({allowed}), got {value!r}")
    if (meta.lo is not None and value < meta.lo) or (meta.hi is not None and value > meta.hi):
        raise ScenarioError(path, f"{value!r} is out of range; allowed: {allowed}")
    return value


def _check_value(value: Any, hint: Any, meta: Meta, path: str) -> Any:
    if typing.get_origin(hint) is tuple:
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        if not isinstance(value, list | tuple):
            raise ScenarioError(path, f"expected a list of numbers, got {value!r}")
        if meta.length and not meta.length[0] <= len(value) <= meta.length[1]:
            lo, hi = meta.length
            size = f"exactly {lo}" if lo == hi else f"{lo} to {hi}"
            raise ScenarioError(path, f"expected {size} values, got {len(value)}")
        return tuple(_check_scalar(v, item, meta, f"{path}[{i}]") for i, v in enumerate(value))
    return _check_scalar(value, hint, meta, path)


def _build(cls: type, data: Any, path: str, base: Any = None) -> Any:
    """Build spec dataclass ``cls`` from ``data`` layered over ``base`` (an instance or None)."""
    if not isinstance(data, dict):
        raise ScenarioError(path, f"expected a table of keys, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    keys = {n for n, f in fields.items() if "extensions" not in f.metadata}
    for f in fields.values():
        keys |= set(f.metadata.get("extensions", ()))
    unknown = sorted(set(data) - keys)
    if unknown:
        where = _join(path, unknown[0])
        raise ScenarioError(where, f"unknown key; allowed keys here: {', '.join(sorted(keys))}")
    hints = _hints(cls)
    base = base if base is not None else cls()
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        current = getattr(base, name)
        sub = _join(path, name)
        if "extensions" in f.metadata:
            kwargs[name] = _build_extensions(f.metadata["extensions"], data, path, current)
        elif name not in data:
            kwargs[name] = current
        elif f.metadata.get("section"):
            kwargs[name] = _build(hints[name], data[name], sub, current)
        elif f.metadata.get("mapping"):
            kwargs[name] = _build_mapping(hints[name], data[name], sub, current)
        else:
            kwargs[name] = _check_value(data[name], hints[name], f.metadata["spec"], sub)
    return cls(**kwargs)


def _build_extensions(
    registry: dict[str, type], data: dict[str, Any], path: str, current: dict[str, Any]
) -> dict[str, Any]:
    """The registered sections (each built from its own keys in ``data``, over ``current``)."""
    out = {}
    for name, cls in registry.items():
        base = current.get(name, cls())
        out[name] = _build(cls, data[name], _join(path, name), base) if name in data else base
    return out


def _build_mapping(hint: Any, data: Any, path: str, current: dict[str, Any]) -> dict[str, Any]:
    item_cls = typing.get_args(hint)[1]
    if not isinstance(data, dict):
        raise ScenarioError(path, f"expected a table of named entries, got {data!r}")
    out = dict(current)
    for name, sub in data.items():
        if name in out:
            base = out[name]
        else:
            base = item_cls(**_NAMED_DEFAULTS.get(item_cls, {}).get(name, {}))
        out[name] = _build(item_cls, sub, _join(path, name), base)
    return out


def _check_consistency(s: Scenario) -> None:
    """Rules that tie several keys together."""
    seg = s.population.segments
    if sum(v.weight for v in seg.values()) <= 0:
        raise ScenarioError("population.segments", "at least one segment needs a weight > 0")
    rel = s.population.contacts.relationships
    if sum(v.weight for v in rel.values()) <= 0:
        raise ScenarioError(
            "population.contacts.relationships", "at least one relationship needs a weight > 0"
        )
    if sum(s.population.contacts.count_weights) <= 0:
        raise ScenarioError("population.contacts.count_weights", "needs a weight > 0")
    if not s.rules.call_start < s.rules.call_end:
        raise ScenarioError(
            "rules.call_end", f"must be later than rules.call_start ({s.rules.call_start:g})"
        )
    if s.behaviour.partial_min > s.behaviour.partial_max:
        raise ScenarioError("behaviour.partial_max", "must be >= behaviour.partial_min")
    if s.agents.shift_start + s.agents.shift_hours > 24:
        raise ScenarioError(
            "agents.shift_hours", "the shift must end by 24:00 (start + hours <= 24)"
        )


def build_scenario(data: dict[str, Any] | None = None, base: Scenario | None = None) -> Scenario:
    """Validate ``data`` (nested dict, as parsed from TOML) over ``base`` (default: baseline)."""
    scenario = _build(Scenario, data or {}, "", base)
    _check_consistency(scenario)
    return scenario


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read a scenario TOML file, apply dotted-path ``overrides`` and validate.

    Raises :class:`ScenarioError` (naming the key path) for any bad key or value, and for a
    file that is missing or not valid TOML.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("", f"scenario file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("", f"{path} is not valid TOML: {exc}") from None
    for dotted, value in (overrides or {}).items():
        set_path(data, dotted, value)
    data.setdefault("name", path.stem)
    return build_scenario(data)


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """``scenario`` with dotted-path ``overrides`` applied, validated again (a bad key or value
    raises :class:`ScenarioError` naming it)."""
    if not overrides:
        return scenario
    data = to_dict(scenario)
    for dotted, value in overrides.items():
        set_path(data, dotted, value)
    return build_scenario(data)


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data['a']['b']['c'] = value`` for ``dotted = 'a.b.c'``, creating tables."""
    *heads, last = dotted.split(".")
    node = data
    for h in heads:
        node = node.setdefault(h, {})
        if not isinstance(node, dict):
            raise ScenarioError(dotted, f"{h} is not a table")
    node[last] = value


def to_dict(obj: Any) -> Any:
    """Plain-data view of a spec object (tuples become lists, as TOML and JSON want)."""
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            value = to_dict(getattr(obj, f.name))
            if "extensions" in f.metadata:  # registered sections are ordinary keys in a file
                out.update(value)
            else:
                out[f.name] = value
        return out
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [to_dict(v) for v in obj]
    return obj
