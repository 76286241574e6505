"""Columnar recording of one replication, and the tables it produces.

The engine appends to plain Python lists and integer/float counters while it runs (cheap on
the hot path) and :meth:`Recorder.finish` builds DataFrames once at the end. Nothing here
computes a statistic: :mod:`sim.results.summary` does that from the finished :class:`Records`.

Tables (the run-directory contract; later code may add columns, never remove them):

``outcomes`` — one row per borrower:
    borrower_id, segment, principal (yuan), entered_day, final_state (one of
    :data:`FINAL_STATES`), resolved_day (NaN while open), amount_due (principal + all fees
    charged, yuan), amount_recovered, amount_written_off, balance_open, highest_stage (the
    reached stage of highest rank, "" if none), one boolean ``reached_<stage>`` per stage of
    the ladder in escalation order (:func:`stages`), emergency_contact_day (DPD, NaN if never),
    the count columns of the rungs (n_sms, n_push: in-app push and the second reminder,
    n_robot_calls, n_agent_calls, n_agency_calls, n_third_party_contacts: calls to emergency
    contacts answered, n_third_party_disclosures, n_contact_calls: call attempts to emergency
    contacts, n_plans), then n_calls_answered, n_complaints and cost (yuan spent on the
    account). Which stages and counts there are comes from the rungs of the ladder
    (:mod:`sim.engine.rungs`); ``meta["stages"]`` lists the stages.

``monthly`` — one row per borrower and month of delinquency the account entered while open:
    borrower_id, month (0 = DPD 0-29, 1 = DPD 30-59, ...), balance_at_entry (yuan owed at
    DPD 30*month), paid_before (yuan repaid before then), observed_days (days the account was
    followed from that boundary until it resolved or the horizon).

``daily`` — one row per simulated day (engine counters; metrics adds open accounts by bucket):
    day, cures, amount_recovered, sms, push, robot_calls, agent_calls (dial attempts),
    agency_calls, contact_calls, and the call centre's (sim.engine.daily_staffing):
    agents_on_shift, agent_paid_minutes, agent_capacity_minutes (on shift in calling hours),
    agent_busy_minutes (talk and wrap-up), agent_ringing_minutes (progressive dialing: agents
    waiting through rings), agent_calls_answered, agent_calls_served, agent_calls_cut
    (served, but the account closed before the agent came on the line: no conversation),
    agent_calls_abandoned, agent_served_in_time, agent_wait_seconds (summed over calls put
    through; calls by the day they were answered), list_dialled, list_backlog (still due at
    the day's close), list_due.

``events`` (only with tracing) — one row per thing that happened:
    time (days), borrower_id, dpd, kind (see :data:`EVENT_KINDS`), channel, detail, amount,
    seq (the order of recording: an account's events in seq order are its steps in the order
    the engine took them, so their times never decrease).

Besides the tables: ``costs`` (yuan by cost channel: the rungs' channels, then complaints)
and ``recovered_by_channel`` (yuan repaid by the channel of the latest contact: ``none``
before any, then the rungs' touches).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FINAL_STATES: tuple[str, ...] = (
    "cured",
    "plan_completed",
    "written_off",
    "fraud_terminated",
    "open",
)

EVENT_KINDS: tuple[str, ...] = (
    "enter",
    "message",  # channel: sms | push | second_reminder; detail: read | unread
    "call",  # channel: robot | agent | agency; detail: answered | unanswered | unreachable
    "agent_call",  # an agent took an answered call; channel: the agent (its number);
    # detail: the outcome (OUTCOMES); amount: handle minutes
    "promise",  # channel: promise | settlement; detail: made | kept | broken; amount: yuan
    "abandoned",  # an answered agent call found no agent in time (at the dial time)
    "contact_call",  # an emergency contact was called; channel: the relationship, with
    # " (no consent)" for a contact who did not consent; detail: answered | relayed | unanswered
    "disclosure",  # what an answering contact was told; channel as above; detail: the
    # ladder.emergency_contact.disclosure setting (relay_only | details)
    "service_call",  # the borrower called customer service
    "field_visit",  # detail: found | not_found
    "payment",  # amount: yuan; detail: full | partial | instalment | enforcement
    "stage",  # channel: the stage entered
    "measure",  # detail: freeze | credit_report (an account measure applied)
    "plan",  # channel: plan | grace; detail: granted | broken (instalments are payments;
    # completion is "resolved"); amount: the balance the plan covers, yuan
    "waiver",  # amount: yuan waived (a settlement kept)
    "complaint",  # channel: borrower | contact; detail: the cause (COMPLAINT_CAUSES)
    "reachability",  # detail: dark | back
    "resolved",  # detail: the final state
)


OUTCOMES: tuple[str, ...] = (
    "paid",  # paid on the spot
    "promise",  # promised to pay by a date
    "grace",  # asked for help: a grace period granted
    "plan",  # asked for help: an instalment plan granted
    "waiver",  # asked for help: fees waived if the rest is paid by a date (settlement)
    "no_offer",  # asked for help the treatment policy does not give now
    "refusal",
    "dispute",
    "none",  # no outcome
)
"""Outcome codes of an agent's conversation with the borrower (a right-party contact)."""

COMPLAINT_CAUSES: tuple[str, ...] = (
    "robot_call", "agent_call", "agency_call", "call_pressure", "abandoned_call",
    "emergency_contact", "contact", "disclosure", "dispute",
)  # fmt: skip
"""What a complaint is about: a call attempt of each kind (its base rate), the share of a
call's complaint risk that comes from recent calls piling up, a dialer call that hung up on
the borrower, the borrower's emergency contact being called (by the borrower) or the contact
(by the contact), a disclosure of the debt to a contact, a disputed debt."""


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
    (``none`` before any contact, then the rungs' touches); sums to the amount recovered."""
    events_file: Path | None = None
    """A streamed trace (``simulate(..., trace_dir=...)``): the Parquet file holding what
    ``events`` would (``events`` is then None)."""
    complaints_by_cause: dict[str, float] = field(default_factory=dict)
    """Complaints by cause (:data:`COMPLAINT_CAUSES`); sums to the complaints."""
    promises_by_dpd: dict[str, list[float]] = field(default_factory=dict)
    """Promises ``made``, ``kept`` and ``broken`` by whole day past due of the event (index
    = DPD, 0 to the horizon)."""


class Recorder:
    """Append-only counters and lists filled by the engine during one replication.

    Lifecycle: created by the model with the horizon in days; the engine calls the
    ``count_*``/``event`` methods while running and ``finish`` once after ``env.run``.
    """

    def __init__(
        self,
        days: int,
        trace: bool,
        daily: Sequence[str],
        channels: Sequence[str],
        touches: Sequence[str],
        trace_dir: Path | None = None,
    ) -> None:
        n = days + 1
        self.days = n
        self.trace = trace
        # Typed arrays: the engine bumps one element at a time, as fast as on a list (several
        # times faster than on a numpy array), and a list would keep each day's last float
        # object alive to the end, scattered over the allocator's arenas (see OutcomeTables).
        self.daily: dict[str, array] = {k: array("d", bytes(8 * n)) for k in daily}
        self.costs: dict[str, float] = dict.fromkeys(channels, 0.0)
        self.recovered_by: dict[str, float] = dict.fromkeys(touches, 0.0)
        self.events: list[tuple[float, int, float, str, str, str, float]] = []
        self.spool: Any = None
        if trace and trace_dir is not None:  # pyarrow's writer imported only to stream
            from sim.results.trace_file import SPILL_EVENTS, TraceSpool

            self.spool, self.spill_at = TraceSpool(trace_dir, days), SPILL_EVENTS
            self.event = self._event_spilled  # type: ignore[method-assign]
        self.calls_outside_hours = 0
        self.complaints_by: dict[str, float] = dict.fromkeys(COMPLAINT_CAUSES, 0)
        self.promises_by_dpd: dict[str, array] = {
            k: array("d", bytes(8 * n)) for k in ("made", "kept", "broken")
        }

    def day_index(self, t: float) -> int:
        d = int(t)
        return d if d < self.days else self.days - 1

    def event(
        self, t: float, bid: int, dpd: float, kind: str, channel: str = "", detail: str = "",
        amount: float = 0.0,
    ) -> None:  # fmt: skip
        self.events.append((t, bid, dpd, kind, channel, detail, amount))

    def _event_spilled(
        self, t: float, bid: int, dpd: float, kind: str, channel: str = "", detail: str = "",
        amount: float = 0.0,
    ) -> None:  # fmt: skip
        """:meth:`event` of a streamed trace: the events go to the spool as they pile up."""
        events = self.events
        events.append((t, bid, dpd, kind, channel, detail, amount))
        if len(events) >= self.spill_at:
            self.spool.spill(events)
            self.events = []

    def finish(
        self,
        outcomes: dict[str, Any],
        monthly: dict[str, np.ndarray],
        agent_daily: dict[str, np.ndarray],
        meta: dict[str, Any],
    ) -> Records:
        """Build the tables. ``outcomes`` and ``monthly`` map column name to an array, one
        entry per row."""
        # copy=False: the columns become the tables as they are (a copy would hold both at
        # the end of a large run).
        out = pd.DataFrame(outcomes, copy=False)
        monthly = pd.DataFrame(monthly, copy=False)
        counters = {k: np.array(v, dtype=float) for k, v in self.daily.items()}
        daily = pd.DataFrame({"day": np.arange(self.days), **counters, **agent_daily})
        events, events_file = None, None
        if self.spool is not None:
            self.spool.spill(self.events)
            self.events = []
            events_file = self.spool.finish()
        elif self.trace:
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
        return Records(
            out, monthly, daily, events, dict(self.costs), meta, by, events_file,
            dict(self.complaints_by), {k: v.tolist() for k, v in self.promises_by_dpd.items()},
        )  # fmt: skip


def stages(outcomes: pd.DataFrame) -> list[str]:
    """The ladder's stages in escalation order, read from the ``reached_<stage>`` columns."""
    return [c.removeprefix("reached_") for c in outcomes.columns if c.startswith("reached_")]
