"""overdue: a discrete-event simulator of loan collections.

The package is layered (``docs/architecture.md``): :mod:`sim.spec` (what to simulate),
:mod:`sim.engine` (simulating it), :mod:`sim.results` (what a run produced and the figures
computed from it), :mod:`sim.experiments` (replications, comparisons, sweeps) and
:mod:`sim.plots` (charts of saved results). The everyday entry points are importable from
here, each on first use so that ``import sim`` stays cheap::

    from sim import load_scenario, simulate, summarize
"""

from __future__ import annotations

import importlib
from typing import Any

from sim import _accel, _moved

_accel.install()  # before any engine module is imported: see sim._accel

_moved.install()  # old module paths (sim.model, sim.metrics, ...) still import

__version__ = "0.1.0"
_LAZY = {
    "load_scenario": "sim.spec",
    "build_scenario": "sim.spec",
    "Scenario": "sim.spec",
    "simulate": "sim.engine",
    "summarize": "sim.results.summary",
    "read_run": "sim.results.rundir",
    "write_run": "sim.results.rundir",
    "METRICS": "sim.results.metrics",
    "run_replications": "sim.experiments.replications",
    "compare": "sim.experiments.replications",
}
"""Public name -> the module it comes from (imported when the name is first used)."""
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
