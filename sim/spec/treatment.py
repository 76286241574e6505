"""The lender's treatment policy and promises to pay (``ladder.grace``, ``ladder.plans``,
``ladder.waiver``, ``ladder.promises``): which hardship help agents may offer, to whom, on
what terms, and how promises are followed up. The engine's side is
:mod:`sim.engine.rungs.plans` and :mod:`sim.engine.rungs.promises`; docs/conversations.md
describes both."""

from __future__ import annotations

from dataclasses import dataclass

from sim.spec.params import CAL, P01, param


@dataclass(frozen=True)
class Offer:
    """Who agents may offer one kind of hardship help (the lender's treatment policy): the
    platform sees days past due, the balance and the promises an account broke, never the
    borrower's segment. Help is offered only to a borrower who asks for it
    (``population.segments.NAME.plan_request_prob``); the first eligible of grace, plan and
    waiver is offered (docs/conversations.md)."""

    enabled: bool = param(True, doc="agents may offer this help")
    from_day: float = param(0.0, unit="DPD", lo=0, hi=3650, doc="offered from this day past due")
    to_day: float = param(3650.0, unit="DPD", lo=0, hi=3650, doc="offered up to this day")
    min_balance: float = param(
        0.0, unit="yuan", lo=0, hi=1e9, doc="offered only when at least this much is owed"
    )
    max_balance: float = param(
        1e9, unit="yuan", lo=0, hi=1e9, doc="offered only when at most this much is owed"
    )
    max_broken_promises: int = param(
        1000, lo=0, hi=1000, doc="not offered to an account that broke more promises than this"
    )
    max_per_account: int = param(1, lo=0, hi=20, doc="granted at most this often per account")


@dataclass(frozen=True)
class Plans(Offer):
    """Instalment plans (cases A, B): the balance in ``instalments`` equal parts."""

    from_day: float = param(
        30.0,
        unit="DPD",
        lo=0,
        hi=3650,
        doc="offered from this day past due",
        source=f"{CAL}: treatment policy (a plan once a grace period is past: month 2)",
    )
    to_day: float = param(89.0, unit="DPD", lo=0, hi=3650, doc="offered up to this day")
    min_balance: float = param(
        500.0,
        unit="yuan",
        lo=0,
        hi=1e9,
        doc="offered only when at least this much is owed (a plan on a small balance costs "
        "more to run than it saves)",
    )
    max_broken_promises: int = param(
        1, lo=0, hi=1000, doc="not offered to an account that broke more promises than this"
    )
    instalments: int = param(3, lo=1, hi=60, doc="number of instalments")
    interval_days: float = param(30.0, unit="days", lo=1, hi=365, doc="days between instalments")
    first_due_days: float = param(7.0, unit="days", lo=0, hi=365, doc="days to the first one")
    freeze_fees: bool = param(True, doc="penalty interest stops while a plan is kept")


@dataclass(frozen=True)
class Grace(Offer):
    """A grace period (deferral, case B): the whole balance due ``days`` later, collection
    calls paused and fees frozen meanwhile; kept like a plan's one instalment
    (``plan_keep_prob``)."""

    to_day: float = param(
        29.0,
        unit="DPD",
        lo=0,
        hi=3650,
        doc="offered up to this day",
        source=f"{CAL}: treatment policy (early-stage relief for a short cash gap)",
    )
    max_broken_promises: int = param(
        0, lo=0, hi=1000, doc="not offered to an account that broke more promises than this"
    )
    days: float = param(
        14.0,
        unit="days",
        lo=1,
        hi=365,
        doc="length of the grace period (the mean income shock of a short-of-cash borrower "
        "is 15 days)",
    )
    freeze_fees: bool = param(True, doc="penalty interest stops during the grace period")


@dataclass(frozen=True)
class Waiver(Offer):
    """A fee waiver (settlement, case C): the fees are waived if the rest of the balance is
    paid by a date within ``ladder.promises.max_days``; the waived yuan are money lost."""

    from_day: float = param(
        60.0,
        unit="DPD",
        lo=0,
        hi=3650,
        doc="offered from this day past due",
        source=f"{CAL}: treatment policy (settlements on aged debt, before hand-off)",
    )
    max_broken_promises: int = param(
        2, lo=0, hi=1000, doc="not offered to an account that broke more promises than this"
    )
    fee_share: float = param(1.0, **P01, doc="share of the unpaid fees waived")
    keep_factor: float = param(
        1.5,
        lo=0,
        hi=10,
        doc="multiplier on the borrower's promise_keep_prob for a settlement (capped at 1): a "
        "smaller sum and a discount make the promise likelier kept",
    )


@dataclass(frozen=True)
class Promises:
    """Promises to pay made in agent conversations, and how they are followed up."""

    max_days: int = param(
        3,
        unit="days",
        lo=1,
        hi=60,
        doc="a promise is for a day 1 to max_days days after the call (uniform), paid by its "
        "end; a settlement's too",
        source=f"{CAL}: promises to pay (a specific amount by a date within a few days) (V)",
    )
    broken_keep_factor: float = param(
        0.5,
        **P01,
        doc="each broken promise multiplies the borrower's keep probability by this",
        source=f"{CAL}: one broken promise is a data point, two a pattern (V)",
    )
    max_broken: int = param(
        2,
        lo=0,
        hi=1000,
        doc="after this many broken promises agents take no more promises from the account "
        "(such a conversation ends with no outcome)",
        source=f"{CAL}: two broken promises are a pattern that calls for escalation (V)",
    )
    follow_up_days: float = param(
        1.0,
        unit="days",
        lo=1,
        hi=30,
        doc="agent calls wait until this many days after the promised day (1: the next day); "
        "a broken promise is then called ahead of every other account on the list",
        source=f"{CAL}: broken-promise follow-up the same or the next day (V)",
    )
    dispute_days: float = param(
        14.0,
        unit="days",
        lo=0,
        hi=365,
        doc="agent calls pause this long after a dispute, while the debt is verified",
        source=f"{CAL}: Regulation F: collection pauses until a disputed debt is verified (P)",
    )
