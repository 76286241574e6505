"""Columnar recording of one replication, and the tables it produces.

The engine appends to plain Python lists and integer/float counters while it runs (cheap on
the hot path) and :meth:`Recorder.finish` builds DataFrames once at the end. Nothing here
computes a statistic: :mod:`sim.results.summary` does that from the finished :class:`Records`.

Tables (the run-directory contract; later code may add columns, never remove them):

``outcomes`` — one row per borrower:
    borrower_id, segment, principal (yuan), entered_day, final_state (one of
    :data:`FINAL_STATES`), resolved_day (NaN while open), amount_due (principal + all fees
    charged, yuan), amount_recovered, amount_written_off, balance_open, highest_stage (name from
    :data:`STAGES`, "" if none), one boolean ``reached_<stage>`` per stage,
    reached_emergency_contact, emergency_contact_day (DPD, NaN if never), n_sms, n_push (in-app
    push and the second reminder), n_robot_calls, n_agent_calls, n_agency_calls,
    n_calls_answered, n_third_party_contacts (calls to emergency contacts answered),
    n_third_party_disclosures, n_contact_calls (call attempts to emergency contacts),
    n_complaints, n_plans, cost (yuan spent on the account).

``monthly`` — one row per borrower and month of delinquency the account entered while open:
    borrower_id, month (0 = DPD 0-29, 1 = DPD 30-59, ...), balance_at_entry (yuan owed at
    DPD 30*month), paid_before (yuan repaid before then), observed_days (days the account was
    followed from that boundary until it resolved or the horizon).

``daily`` — one row per simulated day (engine counters; metrics adds open accounts by bucket):
    day, cures, amount_recovered, sms, push, robot_calls, agent_calls, agency_calls,
    contact_calls, agent_capacity_minutes, agent_busy_minutes, agent_utilisation,
    agent_calls_delayed (calls that waited for a later slot), agent_wait_minutes (mean wait of
    that day's agent calls), agent_backlog (calls requested by the end of the day and still
    waiting for an agent then).

``events`` (only with tracing) — one row per thing that happened:
    time (days), borrower_id, dpd, kind (see :data:`EVENT_KINDS`), channel, detail, amount,
    seq (the order of recording: an account's events in seq order are its steps in the order
    the engine took them, so their times never decrease).

Besides the tables: ``costs`` (yuan by cost channel, :data:`CHANNELS`) and
``recovered_by_channel`` (yuan repaid by the channel of the latest contact, :data:`TOUCHES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

STAGES: tuple[str, ...] = (
    "reminder",
    "robot",
    "agent",
    "second_reminder",
    "measures",
    "number_rotation",
    "emergency_contact",
    "identity_check",
    "field_visit",
    "agency",
    "litigation",
    "written_off",
)
"""Rungs of the ladder in escalation order; ``highest_stage`` is the last one reached."""
STAGE_INDEX = {name: i for i, name in enumerate(STAGES)}

FINAL_STATES: tuple[str, ...] = (
    "cured",
    "plan_completed",
    "written_off",
    "fraud_terminated",
    "open",
)

CHANNELS: tuple[str, ...] = (
    "sms",
    "push",
    "robot",
    "agent",
    "second_reminder",
    "emergency_contact",
    "identity_check",
    "field_visit",
    "litigation",
    "agency_commission",
    "complaints",
)
"""Cost channels (yuan)."""

TOUCHES: tuple[str, ...] = (
    "none",
    "sms",
    "push",
    "second_reminder",
    "robot",
    "agent",
    "service",
    "emergency_contact",
    "measures",
    "field_visit",
    "litigation",
    "agency",
)
"""Channels a repayment is credited to: the borrower's latest contact before it (last-touch
attribution). ``none``: no contact yet (a self-cure); ``service``: the borrower called
customer service; ``measures``: an account measure (freeze, credit-bureau report)."""

EVENT_KINDS: tuple[str, ...] = (
    "enter",
    "message",  # channel: sms | push | second_reminder; detail: read | unread
    "call",  # channel: robot | agent | agency; detail: answered | unanswered | unreachable
    "contact_call",  # an emergency contact was called; detail: answered | relayed | unanswered
    "payment",  # amount: yuan; detail: full | partial | instalment | enforcement
    "stage",  # channel: the stage entered
    "measure",  # detail: freeze | credit_report (an account measure applied)
    "plan",  # detail: granted | broken (instalments are payments; completion is "resolved")
    "complaint",  # channel: borrower | contact
    "reachability",  # detail: dark | back
    "resolved",  # detail: the final state
)


@dataclass
class Records:
    """Everything one replication produced. Built by :meth:`Recorder.finish`."""

    outcomes: pd.DataFrame
    monthly: pd.DataFrame
    daily: pd.DataFrame
    events: pd.DataFrame | None
    costs: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)
    recovered_by_channel: dict[str, float] = field(default_factory=dict)
    """Yuan repaid, by the channel of the borrower's latest contact before the repayment
    (:data:`TOUCHES`); sums to the amount recovered."""


class Recorder:
    """Append-only counters and lists filled by the engine during one replication.

    Lifecycle: created by the model with the horizon in days; the engine calls the
    ``count_*``/``event`` methods while running and ``finish`` once after ``env.run``.
    """

    def __init__(self, days: int, trace: bool) -> None:
        n = days + 1
        self.days = n
        self.trace = trace
        # Python lists, not arrays: the engine bumps one element at a time, which is several
        # times faster on a list than on a numpy array.
        self.daily: dict[str, list[float]] = {
            k: [0.0] * n
            for k in (
                "cures",
                "amount_recovered",
                "sms",
                "push",
                "robot_calls",
                "agent_calls",
                "agency_calls",
                "contact_calls",
            )
        }
        self.costs: dict[str, float] = dict.fromkeys(CHANNELS, 0.0)
        self.recovered_by: dict[str, float] = dict.fromkeys(TOUCHES, 0.0)
        self.events: list[tuple[float, int, float, str, str, str, float]] = []
        self.calls_outside_hours = 0

    def day_index(self, t: float) -> int:
        d = int(t)
        return d if d < self.days else self.days - 1

    def event(
        self, t: float, bid: int, dpd: float, kind: str, channel: str = "", detail: str = "",
        amount: float = 0.0,
    ) -> None:  # fmt: skip
        self.events.append((t, bid, dpd, kind, channel, detail, amount))

    def finish(
        self,
        outcomes: dict[str, Any],
        monthly: dict[str, np.ndarray],
        agent_daily: dict[str, np.ndarray],
        meta: dict[str, Any],
    ) -> Records:
        """Build the tables. ``outcomes`` and ``monthly`` map column name to an array, one
        entry per row."""
        out = pd.DataFrame(outcomes)
        monthly = pd.DataFrame(monthly)
        counters = {k: np.asarray(v) for k, v in self.daily.items()}
        daily = pd.DataFrame({"day": np.arange(self.days), **counters, **agent_daily})
        events = None
        if self.trace:
            # Accounts record their steps in their own time order (see model.account); the
            # table is in global time order, ties kept in the order they happened.
            events = pd.DataFrame(
                self.events,
                columns=["time", "borrower_id", "dpd", "kind", "channel", "detail", "amount"],
            )
            # seq: the order things were recorded in, so that an account's own sequence of
            # steps can be checked (its times must never go back) after the sort by time.
            events["seq"] = np.arange(len(events), dtype=np.int64)
            events = events.sort_values("time", kind="stable", ignore_index=True)
        meta = {**meta, "calls_outside_hours": self.calls_outside_hours}
        by = dict(self.recovered_by)
        return Records(out, monthly, daily, events, dict(self.costs), meta, by)
