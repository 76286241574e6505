"""The scenario: one policy against one population, as typed, frozen, validated settings.

A :class:`Scenario` is inert: it describes a population (:mod:`sim.spec.population`) and a
collections ladder (:mod:`sim.spec.ladder`) with the rules, agents, fees, costs and repayment
behaviour here; it runs nothing. Build one with :func:`~sim.spec.loading.load_scenario` (a
TOML file plus overrides) or :func:`~sim.spec.loading.build_scenario` (a plain dict). Every
key is declared with :func:`sim.spec.params.param`, which carries its default, unit, allowed
range and the published figure it comes from; the built-in defaults *are* the baseline
scenario (case A's ladder). Units: time in days (DPD, days past due; day 0 is the first
day past due, and a Monday), clock times in hours of the day (8.5 = 08:30), money in yuan,
rates per day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.spec.ladder import Ladder
from sim.spec.params import CAL, P01, RATE, param, section
from sim.spec.population import Population


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
    max_abandoned_share: float = param(
        0.0, **P01,
        doc="abandoned calls at most this share of a day's live-answered agent calls: once the "
        "day reaches it the dialer turns progressive until midnight (0 = no cap)",
        source=f"{CAL}: Ofcom and FCC: 3% of live-answered calls",
    )  # fmt: skip
    quiet_days_after_conversation: float = param(
        0.0, unit="days", lo=0, hi=365, doc="no call this long after an answered call",
        source=f"{CAL}: Regulation F: 7 days",
    )  # fmt: skip


@dataclass(frozen=True)
class Agents:
    """The collections floor: a team of agents with shifts, their handle times, and the dialer
    that works the call list (:mod:`sim.engine.dialer`; design and sources in
    ``docs/call_centre.md``)."""

    head_count: int = param(
        0, unit="agents", lo=0, hi=100_000,
        doc="agents on the team (absolute); 0 = derive it from accounts_per_agent or "
        "per_10k_borrowers",
    )  # fmt: skip
    accounts_per_agent: float = param(
        0, unit="accounts", lo=0, hi=10_000_000,
        doc="head-count as the floor counts it: newly overdue accounts a month (30 days) per "
        "agent; for a cohort, the cohort's accounts per agent (used when head_count is 0 and "
        "this is > 0; at least 1 agent)",
        source=f"{CAL}: accounts per collector",
    )  # fmt: skip
    per_10k_borrowers: float = param(
        3.0,
        unit="agents",
        lo=0,
        hi=100_000,
        doc="head-count per 10,000 borrowers in the population, used when head_count and "
        "accounts_per_agent are 0 (at least 1 when > 0)",
        source=f"{CAL}: 3,333 accounts per agent, inside the 1,000-3,000+ accounts per "
        "collector of the CFPB's 2016 survey, where the staffing sweep's net recovery peaks "
        "(docs/call_centre.md)",
    )
    shift_start: float = param(9.0, unit="hour", lo=0, hi=24, doc="shift start")
    shift_hours: float = param(
        9.0, unit="hours", lo=0.25, hi=24, doc="shift length (paid hours, breaks included)"
    )
    weekend_share: float = param(0.5, **P01, doc="share of agents working on Saturday and Sunday")
    handle_distribution: str = param(
        "lognormal",
        choices=("lognormal", "exponential", "fixed"),
        doc="distribution of talk and wrap-up times (each with its mean and, for lognormal, "
        "its coefficient of variation)",
        source=f"{CAL}: call-centre service times are close to lognormal (Brown et al. 2005)",
    )
    talk_minutes: float = param(
        5.0, unit="minutes", lo=0.05, hi=240, doc="mean talk time of an answered agent call",
        source=f"{CAL}: 45-55 talk minutes an agent-hour at 8-10 right-party contacts",
    )  # fmt: skip
    talk_cv: float = param(
        0.8, lo=0, hi=10, doc="coefficient of variation of talk time (lognormal)",
        source=f"{CAL}: Brown et al. 2005, service-time CV near 1",
    )  # fmt: skip
    wrap_minutes: float = param(
        0.75, unit="minutes", lo=0, hi=120, doc="mean after-call work (notes, promise entry)",
        source="modelling choice: notes and a promise to pay entered, within the 5-6 minutes "
        "an agent spends per contact",
    )  # fmt: skip
    wrap_cv: float = param(
        1.5, lo=0, hi=10, doc="coefficient of variation of after-call work (lognormal)",
        source="modelling choice: short, with a long tail (a plan set up)",
    )  # fmt: skip
    dialer: str = param(
        "predictive",
        choices=("predictive", "progressive"),
        doc="progressive: one line per free agent, who waits through the ringing (never "
        "abandons); predictive: pacing_ratio lines per agent about to be free, agents never "
        "hear a ring, and an answer that finds no agent in time is abandoned",
    )
    pacing_ratio: float = param(
        1.2, unit="lines per agent", lo=1, hi=20,
        doc="lines a predictive dialer rings for each agent about to be free",
        source="modelling choice: keeps abandoned calls near 3% of live answers on the "
        "baseline (docs/call_centre.md)",
    )  # fmt: skip
    answer_seconds: float = param(
        15.0, unit="seconds", lo=0, hi=120,
        doc="ringing before an answered call picks up (a predictive dialer dials this far "
        "ahead of the agent it is meant for)",
    )  # fmt: skip
    max_wait_seconds: float = param(
        2.0, unit="seconds", lo=0, hi=600,
        doc="an answered call not put through to an agent within this time is dropped by the "
        "dialer (a recorded message) and counts as abandoned",
        source=f"{CAL}: Ofcom and FCC 2-second rule",
    )  # fmt: skip
    patience_seconds: float = param(
        5.0, unit="seconds", lo=0.01, hi=3600,
        doc="mean time an answered borrower waits in silence before hanging up (exponential)",
    )  # fmt: skip
    priority: str = param(
        "oldest",
        choices=("oldest", "newest", "balance", "score", "fifo"),
        doc="order in which the call list is worked: oldest debt first, newest first, highest "
        "balance first, highest score (answer propensity x balance) first, or first listed",
    )
    service_level_seconds: float = param(
        2.0,
        unit="seconds",
        lo=0,
        hi=600,
        doc="service level counts answered calls put through to an agent within this time",
    )


@dataclass(frozen=True)
class Fees:
    """Late fees and penalty interest keep accruing (case C)."""

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

    agent_hour: float = param(
        60.0, unit="yuan", lo=0, hi=1e5,
        doc="loaded cost of a paid agent-hour: every staffed hour is paid, idle or not",
        source="modelling choice: about 10,000 yuan a month for a collector's 9-hour shifts",
    )  # fmt: skip
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
        "take no agent's time)",
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
        "commercial debt; consumer online loans decay much faster, case C)",
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


@dataclass(frozen=True)
class Complaints:
    """Complaints, by cause: every complaint probability is a base (the segment's or the
    contact's propensity) times the named factor of its cause, times ``scale``, the one key a
    calibration fits to a book's complaint rate (docs/conversations.md)."""

    scale: float = param(
        1.0,
        lo=0,
        hi=1000,
        doc="multiplier on every complaint probability below (fit it to your book's "
        "complaints per 1,000 accounts)",
        source=f"{CAL}: complaints; the defaults give about 5 per 1,000 accounts over 180 days",
    )
    robot_call: float = param(
        1.0, lo=0, hi=100, doc="factor on the segment's complaint_per_call for a robot call"
    )
    agent_call: float = param(
        1.0, lo=0, hi=100, doc="factor on the segment's complaint_per_call for an agent call"
    )
    agency_call: float = param(
        1.0, lo=0, hi=100, doc="factor on the segment's complaint_per_call for an agency call"
    )
    call_pressure: float = param(
        0.3,
        lo=0,
        hi=100,
        doc="a call's complaint probability grows by this factor per recent call (the "
        "complaints this adds are counted as 'call_pressure')",
        source=f"{CAL}: CFPB 2017 survey: frequent calls, the commonest grievance (P)",
    )
    abandoned_call: float = param(
        0.002,
        **P01,
        doc="probability an abandoned dialer call (the borrower answered to silence) draws a "
        "complaint",
        source=f"{CAL}: abandoned calls are capped as a harm (Ofcom, FTC) (S)",
    )
    emergency_contact: float = param(
        1.0,
        lo=0,
        hi=100,
        doc="factor on the segment's complaint_third_party (the borrower complains that a "
        "contact was called)",
    )
    contact: float = param(
        1.0,
        lo=0,
        hi=100,
        doc="factor on the relationship's complaint_prob (the contact complains)",
    )
    dispute: float = param(
        0.015,
        **P01,
        doc="probability a disputed debt becomes a complaint",
        source=f"{CAL}: debts not owed, the commonest collection complaint (CFPB) (P)",
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
    agents: Agents = section(Agents, "the call centre: agents, shifts, handle times, the dialer")
    fees: Fees = section(Fees, "fees and penalty interest")
    costs: Costs = section(Costs, "other costs")
    complaints: Complaints = section(Complaints, "complaints by cause, and their scale")

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved scenario as plain TOML-compatible data."""
        from sim.spec.loading import to_dict  # loading builds scenarios: it imports this

        return to_dict(self)
