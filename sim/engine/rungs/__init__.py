"""The rungs of the ladder, and the borrower's own behaviour, as strategy objects.

Every :class:`~sim.engine.rungs.base.Rung` subclass with a ``name`` defined in a module of
this package is a rung of the ladder: :data:`LADDER` lists them by ``order``. That order
breaks ties between agenda entries due at the same instant (a repayment first) and orders the
outcome and cost columns; the escalation order of the stages is their ``rank``. The engine
builds one of each per replication and collects from them the agenda, stages, cost channels,
touches, counts and daily counters (:mod:`sim.engine.rungs.layout`; the contract is in
:mod:`sim.engine.rungs.base`).

A rung defined outside the package joins with :func:`register` (or, for a while,
:func:`registered`): its section becomes a key of the scenario's ladder and its declarations
columns of the results. See ``docs/architecture.md``.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from collections.abc import Iterator

from sim.engine.rungs.base import Count, Rung, Stage
from sim.spec import LADDER_EXTENSIONS


def _discover() -> list[type[Rung]]:
    """The rungs defined in this package's modules, by order."""
    found: list[type[Rung]] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, Rung)
            and obj.__module__ == module.__name__
            and obj.name
        ]
    return _ordered(found)


def _ordered(rungs: list[type[Rung]]) -> list[type[Rung]]:
    orders = [r.order for r in rungs]
    clash = sorted({f"{r.name} ({r.order:g})" for r in rungs if orders.count(r.order) > 1})
    if clash:
        raise ValueError(f"rungs share an order (their place in the ladder): {', '.join(clash)}")
    return sorted(rungs, key=lambda r: r.order)


LADDER: list[type[Rung]] = _discover()
"""Every rung, in ladder order (any registered ones included)."""


def register(rung: type[Rung]) -> None:
    """Add a rung defined outside the package, at its ``order``. Its ``section`` becomes
    ``ladder.<section>`` in scenarios, validated against its ``spec`` dataclass.
    Registration is process-wide: worker processes started with ``fork`` inherit it; others
    must register the rung themselves."""
    names = [r.name for r in LADDER]
    if not rung.name or rung.name in names:
        raise ValueError(f"rung name {rung.name!r} is empty or taken; taken: {', '.join(names)}")
    if rung.section is None or rung.spec is None:
        raise ValueError(f"rung {rung.name!r}: a registered rung needs a section and a spec")
    LADDER[:] = _ordered([*LADDER, rung])
    LADDER_EXTENSIONS[rung.section] = rung.spec


def unregister(rung: type[Rung]) -> None:
    """Remove a rung added with :func:`register`."""
    LADDER.remove(rung)
    LADDER_EXTENSIONS.pop(rung.section or "", None)


@contextlib.contextmanager
def registered(rung: type[Rung]) -> Iterator[None]:
    """``with registered(MyRung): ...``: the rung is part of the ladder inside the block."""
    register(rung)
    try:
        yield
    finally:
        unregister(rung)


__all__ = ["LADDER", "Count", "Rung", "Stage", "register", "registered", "unregister"]
