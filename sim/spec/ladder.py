"""The collections ladder (``ladder``): one section per rung, every rung can be switched off.

The engine's rung for each section is in :mod:`sim.engine.rungs`; a rung added from outside
the package brings its own section (:data:`LADDER_EXTENSIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.spec.params import CAL, P01, extensions, param, section
from sim.spec.treatment import Grace, Plans, Promises, Waiver


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
        source="case A §1: SMS shortly after the due date, with a grace period",
    )
    hour: float = param(10.0, unit="hour", lo=0, hi=24, doc="clock time of sending")
    read_factor: float = param(
        1.0, lo=0, hi=2, doc="multiplier on the borrower's SMS read probability"
    )
    effect: float = param(
        0.5,
        lo=0,
        hi=20,
        doc="multiplier on the contact jump when read",
        source=f"{CAL}: channel effects; with 0.5 the baseline's 30-day collection rate is "
        "86.1%, Qifu's published 86.3%",
    )
    cost: float = param(0.05, unit="yuan", lo=0, hi=1e4, doc="cost per message")


@dataclass(frozen=True)
class RobotCalls:
    """Automated voice calls (case A §2: usually an automatic voice system)."""

    enabled: bool = param(True, doc="switch the rung on or off")
    start_day: float = param(1.0, unit="DPD", lo=0, hi=3650, doc="first day of robot calls")
    end_day: float = param(7.0, unit="DPD", lo=0, hi=3650, doc="robot calls stop after this day")
    calls_per_day: int = param(1, lo=0, hi=24, doc="attempts per day")
    hour: float = param(9.5, unit="hour", lo=0, hi=24, doc="clock time of the first attempt")
    effect: float = param(0.5, lo=0, hi=20, doc="multiplier on the contact jump when answered")
    cost: float = param(0.2, unit="yuan", lo=0, hi=1e4, doc="cost per attempt (dialer minutes)")


@dataclass(frozen=True)
class AgentCalls:
    """Human-agent calls (case A §3): when an account is due one, and what a call does;
    the team and its dialer are the ``agents`` section."""

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
    ring_minutes: float = param(
        0.5,
        unit="minutes",
        lo=0.0,
        hi=60,
        doc="ringing of an unanswered attempt before the dialer gives up, charged at "
        "costs.line_minute (and, with a progressive dialer, agent time the agent waits)",
    )
    effect: float = param(
        0.5,
        lo=0,
        hi=20,
        doc="multiplier on the contact jump after a conversation that ends with no outcome "
        "(the borrower was reminded, as by an answered robot call); what else a "
        "conversation does comes from its outcome (population.segments.NAME.promise_prob, "
        "...), not from this multiplier",
        source=f"{CAL}: channel effects (a reminder: the robot call's 0.5); calibratable",
    )


@dataclass(frozen=True)
class SecondReminder:
    """A second, non-intrusive reminder around day 7 (case C: e-mail, official-account push)."""

    enabled: bool = param(True, doc="switch the rung on or off")
    day: float = param(7.0, unit="DPD", lo=0, hi=3650, doc="day it is sent", source="case C")
    hour: float = param(11.0, unit="hour", lo=0, hi=24, doc="clock time of sending")
    read_factor: float = param(0.7, lo=0, hi=2, doc="multiplier on the SMS read probability")
    effect: float = param(
        0.5, lo=0, hi=20, doc="multiplier on the contact jump when read (as the SMS's)"
    )
    cost: float = param(0.02, unit="yuan", lo=0, hi=1e4, doc="cost per message")


@dataclass(frozen=True)
class EmergencyContact:
    """The emergency-contact stage: calling the borrower's pre-agreed contacts."""

    trigger: str = param(
        "declines",
        choices=("declines", "day", "either", "both", "never"),
        doc="declines: N consecutive unanswered calls and no contact for D days; day: on day X "
        "past due; either: whichever comes first; both: both conditions; never: off",
        source="case A (declines, N = 5); case C (day, ~14)",
    )
    declined_calls: int = param(
        5, lo=1, hi=1000, doc="N: consecutive declined/unanswered calls", source="case A: 5"
    )
    unreachable_days: float = param(
        7.0,
        unit="days",
        lo=0,
        hi=3650,
        doc="D: days without an answered contact (case A: 'unreachable for a long time')",
    )
    day: float = param(
        14.0,
        unit="DPD",
        lo=0,
        hi=3650,
        doc="X: day past due for the 'day' trigger",
        source="case C",
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
        source="case A: PIPL allows relay only",
    )
    require_consent: bool = param(False, doc="call only contacts who consented", source="case C")
    attempts_per_contact: int = param(2, lo=1, hi=100, doc="call attempts per contact")
    retry_days: float = param(2.0, unit="days", lo=0.01, hi=365, doc="days between attempts")
    effect: float = param(1.0, lo=0, hi=20, doc="multiplier on the escalation jump when relayed")


@dataclass(frozen=True)
class NumberRotation:
    """Calling from other numbers when the borrower never answers (case C)."""

    enabled: bool = param(True, doc="switch the rung on or off", source="case C")
    after_unanswered: int = param(
        8, lo=1, hi=1000, doc="consecutive unanswered agent calls before rotating numbers"
    )


@dataclass(frozen=True)
class Measures:
    """Account measures (case C): freeze, limit cut, credit-bureau report."""

    enabled: bool = param(True, doc="switch the rung on or off", source="case C")
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
    """Lost-contact procedure (case C): identity check, field investigation, litigation."""

    enabled: bool = param(True, doc="switch the rung on or off", source="case C")
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
    """Hand-off to a third-party collection agency (case B)."""

    enabled: bool = param(True, doc="switch the rung on or off", source="case B")
    day: float = param(
        90.0,
        unit="DPD",
        lo=0,
        hi=3650,
        doc="day of hand-off",
        source="domain.md: a policy worth comparing, day 60 vs 90",
    )
    commission: float = param(0.3, **P01, doc="share of amounts recovered after hand-off")
    calls_per_week: float = param(2.0, lo=0, hi=100, doc="agency call attempts per week")
    effect: float = param(
        0.1,
        lo=0,
        hi=20,
        doc="multiplier on the contact jump when an agency call is answered (aged debt "
        "responds little: case C, under 10% recovered after three months)",
    )


LADDER_EXTENSIONS: dict[str, type] = {}
"""Sections of rungs registered from outside the package (``sim.engine.rungs.register``):
section name -> spec dataclass. Empty unless such a rung is registered."""


@dataclass(frozen=True)
class Ladder:
    """The platform's escalation ladder (docs/domain.md); every rung can be switched off."""

    sms: Reminder = section(Reminder, "SMS reminders")
    push: Reminder = section(
        lambda: Reminder(days=(2.0, 5.0), hour=12.0, read_factor=0.6, cost=0.0),
        "in-app push reminders (case C)",
    )
    robot: RobotCalls = section(RobotCalls, "robot calls")
    agent: AgentCalls = section(AgentCalls, "human-agent calls")
    second_reminder: SecondReminder = section(SecondReminder, "second reminder")
    emergency_contact: EmergencyContact = section(EmergencyContact, "emergency-contact stage")
    number_rotation: NumberRotation = section(NumberRotation, "number rotation")
    measures: Measures = section(Measures, "account measures")
    lost_contact: LostContact = section(LostContact, "lost-contact procedure")
    agency: Agency = section(Agency, "collection agency")
    promises: Promises = section(Promises, "promises to pay and their follow-up")
    grace: Grace = section(Grace, "treatment policy: grace periods")
    plans: Plans = section(Plans, "treatment policy: instalment plans")
    waiver: Waiver = section(Waiver, "treatment policy: fee waivers (settlements)")
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
