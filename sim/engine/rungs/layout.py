"""The ladder's layout: what its rungs declare, collected in ladder order.

The lists that name the columns of a run's results (stages, cost channels, touches, count
columns, daily counters) and the agenda come from here, for any list of rung classes: the
engine builds a replication from it, and :func:`layout` of the default ladder tells the
results and the reports what to expect without running anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sim.engine.rungs.base import Count, Rung

CORE_CHANNELS = ("complaints",)
"""Cost channel of the engine core: handling complaints (after the rungs' channels)."""
CORE_TOUCHES = ("none",)
"""Last touch of a repayment before any contact (a self-cure); first of the touches."""
CORE_COUNTS = (Count("n_calls_answered", "n_answered"), Count("n_complaints", "n_complaints"))
"""Count columns of the core: answered calls (every call rung), complaints."""
CORE_DAILY = ("cures", "amount_recovered")
"""Daily counters of the core (before the rungs')."""


@dataclass(frozen=True)
class Layout:
    """Everything a ladder declares, each list in its order."""

    agenda: tuple[str, ...]
    """Agenda entries in tie-break order: an account's ``due`` list is indexed by them."""
    stages: tuple[str, ...]
    """Stages in escalation (rank) order: bit i of ``b.stages`` is stage i."""
    counts: tuple[Count, ...]
    channels: tuple[str, ...]
    touches: tuple[str, ...]
    daily: tuple[str, ...]


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(items))


def layout(rungs: Sequence[type[Rung]] | None = None) -> Layout:
    """The layout of ``rungs`` (default: the ladder, :data:`sim.engine.rungs.LADDER`)."""
    if rungs is None:
        from sim.engine.rungs import LADDER

        rungs = LADDER
    names = [r.name for r in rungs]
    if len(set(names)) != len(names):
        raise ValueError(f"two rungs share a name: {names}")
    agenda = _unique(e for r in rungs for e in r.agenda)
    if len(agenda) != sum(len(r.agenda) for r in rungs):
        raise ValueError("two rungs declare the same agenda entry")
    stages = sorted({s.name: s for r in rungs for s in r.stages}.values(), key=lambda s: s.rank)
    return Layout(
        agenda=agenda,
        stages=tuple(s.name for s in stages),
        counts=_unique((*(c for r in rungs for c in r.counts), *CORE_COUNTS)),
        channels=_unique((*(c for r in rungs for c in r.channels), *CORE_CHANNELS)),
        touches=_unique((*CORE_TOUCHES, *(c for r in rungs for c in r.touches))),
        daily=_unique((*CORE_DAILY, *(d for r in rungs for d in r.daily))),
    )
