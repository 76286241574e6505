"""The rungs of the ladder, and the borrower's own behaviour, as strategy objects.

:data:`LADDER` lists the rung classes in ladder order. That order breaks ties between agenda
entries due at the same instant (a repayment first) and orders the outcome and cost columns;
the escalation order of the stages is their ``rank``. The engine builds one of each per
replication and collects from them the agenda, stages, cost channels, touches, counts and
daily counters (:mod:`sim.engine.rungs.base` describes the contract).

A rung defined outside the package joins with :func:`register` (or, for a while,
:func:`registered`): its section becomes a key of the scenario's ladder and its declarations
columns of the results. See ``docs/architecture.md``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sim.engine.rungs.agency import Agency
from sim.engine.rungs.agent_calls import AgentCalls
from sim.engine.rungs.base import Count, Rung, Stage
from sim.engine.rungs.calls import RobotCalls
from sim.engine.rungs.emergency_contact import EmergencyContact
from sim.engine.rungs.life import Life
from sim.engine.rungs.litigation import Litigation
from sim.engine.rungs.lost_contact import LostContact
from sim.engine.rungs.measures import Measures
from sim.engine.rungs.number_rotation import NumberRotation
from sim.engine.rungs.plans import Plans
from sim.engine.rungs.reminders import Push, Reminder, SecondReminder
from sim.engine.rungs.repayment import Repayment
from sim.engine.rungs.write_off import WriteOff
from sim.spec.scenario import LADDER_EXTENSIONS

LADDER: list[type[Rung]] = [
    Repayment,
    Reminder,
    Push,
    SecondReminder,
    RobotCalls,
    AgentCalls,
    NumberRotation,
    Agency,
    EmergencyContact,
    Measures,
    LostContact,
    Litigation,
    WriteOff,
    Life,
    Plans,
]
"""Every rung, in ladder order (including any registered ones)."""


def register(rung: type[Rung], after: str | None = None) -> None:
    """Add a rung defined outside the package, after the rung named ``after`` (default: at
    the end). Its ``section`` becomes ``ladder.<section>`` in scenarios, validated against
    its ``spec`` dataclass. Registration is process-wide: worker processes started with
    ``fork`` inherit it; others must register the rung themselves."""
    names = [r.name for r in LADDER]
    if not rung.name or rung.name in names:
        raise ValueError(f"rung name {rung.name!r} is empty or taken; taken: {', '.join(names)}")
    if rung.section is None or rung.spec is None:
        raise ValueError(f"rung {rung.name!r}: a registered rung needs a section and a spec")
    if after is not None and after not in names:
        raise ValueError(f"after: no rung named {after!r}; rungs: {', '.join(names)}")
    LADDER.insert(names.index(after) + 1 if after is not None else len(LADDER), rung)
    LADDER_EXTENSIONS[rung.section] = rung.spec


def unregister(rung: type[Rung]) -> None:
    """Remove a rung added with :func:`register`."""
    LADDER.remove(rung)
    LADDER_EXTENSIONS.pop(rung.section or "", None)


@contextlib.contextmanager
def registered(rung: type[Rung], after: str | None = None) -> Iterator[None]:
    """``with registered(MyRung): ...``: the rung is part of the ladder inside the block."""
    register(rung, after)
    try:
        yield
    finally:
        unregister(rung)


__all__ = [
    "LADDER",
    "Count",
    "Rung",
    "Stage",
    "register",
    "registered",
    "unregister",
]
