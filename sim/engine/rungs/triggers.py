"""When the family is phoned: the triggers of the emergency-contact stage.

A trigger is a strategy object named by ``ladder.emergency_contact.trigger``. It says whether
the stage starts now (:meth:`Trigger.fires`), asked after every unanswered call (only when
the trigger uses a run of declines) and at DPD ``day`` (only when it uses the day).

* ``declines`` - case A: N consecutive unanswered calls and no contact for D days;
* ``day`` - case C: on day X past due;
* ``either`` - whichever comes first; ``both`` - once both hold; ``never`` - off.

A new trigger is a subclass here plus its name in the ``choices`` of
``ladder.emergency_contact.trigger`` (``sim/spec/ladder.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sim.engine.account import Borrower


class Trigger:
    """Base class: never fires."""

    name: ClassVar[str] = "never"
    uses_declines: ClassVar[bool] = False
    """Ask after every unanswered call (once N of them run in a row)."""
    uses_day: ClassVar[bool] = False
    """Ask on day X past due."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg  # ladder.emergency_contact

    def fires(self, b: Borrower, t: float) -> bool:
        """Should the stage start at ``t`` (the account has not entered it yet)?"""
        return False

    def declined(self, b: Borrower, t: float) -> bool:
        """N consecutive unanswered calls, and no contact for D days."""
        ec = self.cfg
        return (
            b.consec_unanswered >= ec.declined_calls and t - b.last_contact >= ec.unreachable_days
        )

    def day_reached(self, b: Borrower, t: float) -> bool:
        return t - b.entered >= self.cfg.day


class Never(Trigger):
    """The stage is off."""


class Declines(Trigger):
    """Case A: N consecutive unanswered calls and no contact for D days."""

    name = "declines"
    uses_declines = True

    def fires(self, b: Borrower, t: float) -> bool:
        return self.declined(b, t)


class Day(Trigger):
    """Case C: on day X past due."""

    name = "day"
    uses_day = True

    def fires(self, b: Borrower, t: float) -> bool:
        return self.day_reached(b, t)


class Either(Trigger):
    """Whichever of the declines and the day comes first."""

    name = "either"
    uses_declines = uses_day = True

    def fires(self, b: Borrower, t: float) -> bool:
        return self.declined(b, t) or self.day_reached(b, t)


class Both(Trigger):
    """Once both the declines and the day hold."""

    name = "both"
    uses_declines = uses_day = True

    def fires(self, b: Borrower, t: float) -> bool:
        return self.declined(b, t) and self.day_reached(b, t)


TRIGGERS: dict[str, type[Trigger]] = {t.name: t for t in (Declines, Day, Either, Both, Never)}
"""Trigger strategies by the name the scenario uses."""
