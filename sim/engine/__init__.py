"""The engine: one replication of a scenario as SimPy processes (:func:`simulate`).

:mod:`sim.engine.core` runs the accounts; :mod:`sim.engine.rungs` holds the rungs of the
ladder. ``simulate`` and ``Model`` are imported on first use, so reading the rungs'
declarations does not load the simulation core.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Model", "simulate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim.engine import core

        return getattr(core, name)
    raise AttributeError(f"module 'sim.engine' has no attribute {name!r}")
