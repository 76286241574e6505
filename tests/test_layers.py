"""The package's layers: analysis does not load the simulation, and the old module paths
still import (with a warning) as the modules that hold their code now."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

READERS = (
    "sim.plots",
    "sim.plots.sweep",
    "sim.results.summary",
    "sim.results.report",
    "sim.results.comparison",
    "sim.results.metrics",
    "sim.experiments.sweep",
    "sim.experiments.sweep_report",
    "sim.experiments.sweep_run",
    "sim.experiments.replications",
    "sim.calibration.spec",
    "sim.calibration.search",
    "sim.calibration.report",
    "sim.calibration.calibrate",
    "sim.plots.calibration",
)


def test_charts_results_and_sweeps_do_not_import_the_engine() -> None:
    """Reading results, drawing charts, analysing sweeps and reading calibrations load neither
    the engine nor SimPy
    (run in a fresh interpreter, so nothing else has imported them)."""
    code = (
        "import json, sys\n"
        + "".join(f"import {m}\n" for m in READERS)
        + "print(json.dumps(sorted(m for m in sys.modules"
        " if m.startswith('sim.engine') or m == 'simpy')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == []


def test_the_metric_registry_reads_only_the_rungs_declarations() -> None:
    code = (
        "import json, sys\nfrom sim.results import metrics\nmetrics.names()\n"
        "print(json.dumps(['sim.engine.core' in sys.modules, 'simpy' in sys.modules]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == [False, False]


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("sim.model", "sim.engine", "simulate"),
        ("sim.scenario", "sim.spec", "load_scenario"),
        ("sim.metrics", "sim.results.summary", "summarize"),
        ("sim.rundir", "sim.results.rundir", "read_run"),
        ("sim.replications", "sim.experiments.replications", "compare"),
    ],
)
def test_old_module_paths_still_import(old: str, new: str, name: str) -> None:
    import importlib

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert callable(getattr(module, name))
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)


def test_the_everyday_api_is_importable_from_the_package() -> None:
    import sim

    for name in ("load_scenario", "simulate", "summarize", "read_run", "compare", "METRICS"):
        assert getattr(sim, name) is not None


def test_a_single_run_does_not_import_scipy(tmp_path: Path) -> None:
    """scipy (confidence intervals, designs) costs about a second to import; a single run
    needs none of it (measured: 1.16 s to 0.54 s for a tiny ``overdue run``)."""
    code = (
        "import json, sys\nfrom sim.cli import main\n"
        f"main(['run', 'scenarios/baseline.toml', '--borrowers', '10', '--days', '5', "
        f"'--out', {str(tmp_path / 'r')!r}, '--quiet'])\n"
        "print(json.dumps('scipy' in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1]) is False
