"""Old module paths, before the package was split into spec, engine, results, experiments
and plots: ``import sim.model`` still works (with a DeprecationWarning) and gives the module
that now holds that code, so notebooks written against the old layout keep running."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

MOVED = {
    "sim.scenario": "sim.spec",
    "sim.reference": "sim.spec.reference",
    "sim.model": "sim.engine",
    "sim.borrower": "sim.engine.account",
    "sim.agents": "sim.engine.agent_team",
    "sim.streams": "sim.engine.streams",
    "sim.population": "sim.engine.population",
    "sim.records": "sim.results.records",
    "sim.metrics": "sim.results.summary",
    "sim.rundir": "sim.results.rundir",
    "sim.stats": "sim.results.stats",
    "sim.replications": "sim.experiments.replications",
    "sim.execution": "sim.experiments.execution",
    "sim.sweep": "sim.experiments.sweep",
    "sim.sweep_run": "sim.experiments.sweep_run",
    "sim.sweep_report": "sim.experiments.sweep_report",
    "sim.sweep_plots": "sim.plots.sweep",
}
"""Old module path -> the module that holds its public names now."""


class _Aliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old module path as the new module (the same object, not a copy)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; import it from there", DeprecationWarning, stacklevel=2
        )
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the new module is already imported."""


def install() -> None:
    """Make the old paths importable (idempotent)."""
    if not any(isinstance(f, _Aliases) for f in sys.meta_path):
        sys.meta_path.append(_Aliases())
