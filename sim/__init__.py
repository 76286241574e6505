"""overdue: a discrete-event simulator of loan collections.

``sim.run_replications`` and ``sim.compare`` (from :mod:`sim.replications`) are imported on
first use, so ``import sim`` stays cheap.
"""

from __future__ import annotations

from typing import Any

from sim import _accel

_accel.install()  # before any engine module is imported: see sim._accel

__version__ = "0.1.0"
__all__ = ["__version__", "compare", "run_replications"]

_LAZY = {"compare", "run_replications"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from sim import replications

        return getattr(replications, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
