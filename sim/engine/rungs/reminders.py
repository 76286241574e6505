"""One-way reminders: SMS, in-app push, the second reminder (e-mail, official-account push).

A reminder rung sends its messages on fixed days past due at a fixed clock time
(``days`` and ``hour``, or one ``day`` for the second reminder). The borrower reads it with
their SMS read probability times the rung's ``read_factor``, unless the phone is dark; a read
reminder raises the repayment intensity (``effect``) and is credited with later repayments
(last touch). Every message is costed and counted, read or not.

A new message channel is a subclass with its own section, channel, stage and counters (see
``docs/architecture.md``); the engine needs nothing else.
"""

from __future__ import annotations

from typing import Any

import cython

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Count, Rung, Stage


class Reminder(Rung):
    """Base of the message rungs: messages on fixed days past due (``ladder.<section>.days``
    at ``hour``). A subclass declares one agenda entry, one stage, one channel (its cost
    channel, its touch and the channel in the trace), one count and one daily counter."""

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = self.cfg
        self.send_days = self.days() if cfg.enabled else ()
        """Days past due of the sends (DPD + clock time as a fraction of a day), in order."""
        (self.slot,) = self.entry.values()
        (self.channel,) = self.channels
        self.by_day = model.rec.daily[self.daily[0]]
        self.stage_name = self.stages[0].name
        self.stage_bit = model.stage_bit[self.stage_name]

    @cython.locals(b=Borrower)
    def count(self, b: Borrower) -> None:
        """Count a message sent on the account (its one count; the built-in rungs do it
        directly, as it happens on every message)."""
        self.bump(b, self.counts[0].attr)

    def days(self) -> tuple[float, ...]:
        """DPD of each send, as days + clock time (a reminder rung with other settings, like
        the second reminder's single ``day``, overrides this)."""
        return tuple(sorted(d + self.cfg.hour / 24.0 for d in self.cfg.days))

    def fixed_days(self) -> dict[str, float]:
        return {self.agenda[0]: self.send_days[0]} if self.send_days else {}

    @cython.locals(b=Borrower)
    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        """Send the message due now (as many as are listed for this instant), and schedule
        the next one."""
        nxt, now = INF, 0
        for d in self.send_days:  # a handful at most; t is exactly one of entered + d
            at = b.entered + d
            if at > t:
                nxt = at
                break
            if at == t:
                now += 1
        due[self.slot] = nxt
        for _ in range(now or 1):
            self.send(b, t, due)

    @cython.locals(b=Borrower)
    def send(self, b: Borrower, t: float, due: list[float]) -> None:
        """One message: costed, counted, staged, and read or not."""
        m, cfg = self.model, self.cfg
        m.cost(b, self.channel, cfg.cost)
        self.count(b)
        self.by_day[m.rec.day_index(t)] += 1
        if not b.stages & self.stage_bit:
            m.stage(b, t, self.stage_name)
        read = not b.dark and next(b.rs_msg) < b.p_sms * cfg.read_factor
        if m.trace:
            m.event(b, t, "message", self.channel, "read" if read else "unread")
        if read:
            m.contacted(b, t, due, cfg.effect, self.channel)


class Sms(Reminder):
    """SMS reminders (``ladder.sms``)."""

    order = 10
    name = section = "sms"
    agenda = ("sms",)
    stages = (Stage("reminder", 10),)
    channels = touches = ("sms",)
    counts = (Count("n_sms", "n_sms"),)
    daily = ("sms",)

    @cython.locals(b=Borrower)
    def count(self, b: Borrower) -> None:
        b.n_sms += 1


class Push(Reminder):
    """In-app push reminders (``ladder.push``)."""

    order = 20
    name = section = "push"
    agenda = ("push",)
    stages = (Stage("reminder", 10),)
    channels = touches = ("push",)
    counts = (Count("n_push", "n_push"),)
    daily = ("push",)

    @cython.locals(b=Borrower)
    def count(self, b: Borrower) -> None:
        b.n_push += 1


class SecondReminder(Reminder):
    """A second, non-intrusive reminder on one day (``ladder.second_reminder``): counted
    with the push messages, but a stage of its own."""

    order = 30
    name = section = "second_reminder"
    agenda = ("second_reminder",)
    stages = (Stage("second_reminder", 40),)
    channels = touches = ("second_reminder",)
    counts = (Count("n_push", "n_push"),)
    daily = ("push",)

    @cython.locals(b=Borrower)
    def count(self, b: Borrower) -> None:
        b.n_push += 1

    def days(self) -> tuple[float, ...]:
        return (self.cfg.day + self.cfg.hour / 24.0,)
