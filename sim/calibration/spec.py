"""The calibration file: observed figures to reproduce, and the scenario keys free to move.

A calibration file (TOML, ``scenarios/calibration/``; format in ``docs/calibration.md``) names
a base scenario, the **targets** — a lender's observed figures, each a registered metric
(:mod:`sim.results.metrics`) with its observed value, a tolerance and a weight — and the
**parameters**: dotted scenario keys with the bounds the search may move them within. It is
inert: :func:`load_calibration` validates everything (every key path, every bound built into
a scenario) before anything runs or is written, and raises :class:`ScenarioError` naming the
key path of the first thing wrong.

The search minimises the weighted mean of squared standardised misses,
``sum w_i ((simulated_i - observed_i) / tolerance_i)^2 / sum w_i``: a fit with every target
exactly at its tolerance scores 1.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.results import metrics as registry
from sim.spec import (
    Scenario,
    base_scenario,
    check_keys,
    read_toml,
    to_dict,
    whole_number,
    with_overrides,
)
from sim.spec.params import ScenarioError

_TOP_KEYS = {
    "name", "description", "base", "seed", "borrowers", "replications", "trials", "batch",
    "final_replications", "set", "targets", "parameters",
}  # fmt: skip
_TARGET_KEYS = {"value", "tolerance", "weight", "source"}
_PARAMETER_KEYS = {"lo", "hi", "log", "integer"}
DEFAULT_BATCH = 4
"""Trials proposed at a time. Fixed, whatever the number of workers, so that the search (and
so its result) does not depend on where it runs."""


@dataclass(frozen=True)
class Target:
    """One observed figure: the metric, its observed value, how far off is still a fit."""

    metric: str
    value: float
    tolerance: float
    weight: float = 1.0
    source: str = ""

    def miss(self, simulated: float) -> float:
        """Standardised miss: (simulated - observed) / tolerance."""
        return (simulated - self.value) / self.tolerance


@dataclass(frozen=True)
class FreeParameter:
    """A scenario key the search may move, within ``[lo, hi]`` (on a log scale if ``log``)."""

    key: str
    lo: float
    hi: float
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file; see the module docstring."""

    name: str
    description: str
    path: Path | None
    base: Scenario
    targets: tuple[Target, ...]
    parameters: tuple[FreeParameter, ...]
    seed: int
    replications: int
    trials: int
    batch: int
    final_replications: int

    def scenario(self, values: Mapping[str, Any]) -> Scenario:
        """The base scenario with the parameters at ``values`` (dotted key -> value)."""
        return with_overrides(self.base, values)

    def objective(self, simulated: Mapping[str, float]) -> float:
        """Weighted mean squared standardised miss (inf if a target's metric is undefined)."""
        total = weights = 0.0
        for t in self.targets:
            x = simulated.get(t.metric, math.nan)
            if x is None or math.isnan(x):
                return math.inf
            total += t.weight * t.miss(x) ** 2
            weights += t.weight
        return total / weights

    def fingerprint(self) -> str:
        """A hash of what decides the search: a resumed search must be the same search."""
        doc = {
            "base": to_dict(self.base),
            "targets": [t.__dict__ for t in self.targets],
            "parameters": [p.__dict__ for p in self.parameters],
            "seed": self.seed,
            "replications": self.replications,
            "batch": self.batch,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def load_calibration(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Calibration:
    """Read and validate a calibration file; ``overrides`` set its top-level values
    (``trials``, ``seed``...). Raises :class:`ScenarioError` naming the key path."""
    path = Path(path)
    raw = read_toml(path, "calibration")
    raw.update(overrides or {})
    return build_calibration(raw, path)


def build_calibration(raw: Mapping[str, Any], path: Path | None = None) -> Calibration:
    """Validate a calibration given as a dict (what :func:`load_calibration` reads)."""
    check_keys(raw, _TOP_KEYS, "")
    borrowers = whole_number(raw, "borrowers", "", 100, 10_000_000, 5_000)
    base, _, _ = base_scenario(raw, path, {"population.borrowers": borrowers}, "calibration")
    seed = whole_number(raw, "seed", "", 0, 2**63 - 1, base.seed)
    targets = _targets(raw.get("targets"), base)
    parameters = _parameters(raw.get("parameters"), base)
    return Calibration(
        name=str(raw.get("name", path.stem if path else "calibration")),
        description=str(raw.get("description", "")),
        path=path,
        base=base,
        targets=targets,
        parameters=parameters,
        seed=seed,
        replications=whole_number(raw, "replications", "", 1, 1000, 2),
        trials=whole_number(raw, "trials", "", 0, 100_000, 40),
        batch=whole_number(raw, "batch", "", 1, 256, DEFAULT_BATCH),
        final_replications=whole_number(raw, "final_replications", "", 2, 1000, 8),
    )


def _targets(raw: Any, base: Scenario) -> tuple[Target, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError("targets", "missing: a table of observed figures by metric name")
    known = registry.by_name()
    out = []
    for name, spec in _leaves(raw, "value").items():
        where = f"targets.{name}"
        if name not in known:
            raise ScenarioError(where, f"unknown metric; known: {', '.join(known)}")
        if not isinstance(spec, dict):
            raise ScenarioError(where, f"expected a table (value, tolerance), got {spec!r}")
        check_keys(spec, _TARGET_KEYS, where)
        value = _number(spec, "value", where)
        tolerance = _number(spec, "tolerance", where)
        weight = _number(spec, "weight", where, default=1.0)
        if tolerance <= 0:
            raise ScenarioError(f"{where}.tolerance", f"must be > 0, got {tolerance}")
        if weight <= 0:
            raise ScenarioError(f"{where}.weight", f"must be > 0, got {weight}")
        if known[name].unit == "share" and not 0 <= value <= 1:
            raise ScenarioError(
                f"{where}.value", f"{value} is out of range; allowed: 0 to 1 (a share, not %)"
            )
        out.append(Target(name, value, tolerance, weight, str(spec.get("source", ""))))
    return tuple(out)


def _parameters(raw: Any, base: Scenario) -> tuple[FreeParameter, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError("parameters", "missing: a table of scenario keys with lo and hi")
    data = to_dict(base)
    out = []
    for key, spec in _leaves(raw, "lo").items():
        where = f"parameters.{key}"
        current = _lookup(data, key)
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            raise ScenarioError(
                where, "not a numeric key of the base scenario (docs/scenario_reference.md)"
            )
        if not isinstance(spec, dict):
            raise ScenarioError(where, f"expected a table (lo, hi), got {spec!r}")
        check_keys(spec, _PARAMETER_KEYS, where)
        lo, hi = _number(spec, "lo", where), _number(spec, "hi", where)
        if not lo < hi:
            raise ScenarioError(where, f"lo ({lo}) must be below hi ({hi})")
        log = _bool(spec, "log", where)
        if log and lo <= 0:
            raise ScenarioError(f"{where}.lo", f"must be > 0 on a log scale, got {lo}")
        integer = _bool(spec, "integer", where, default=isinstance(current, int))
        p = FreeParameter(key, lo, hi, log, integer)
        for end, v in (("lo", lo), ("hi", hi)):
            try:
                with_overrides(base, {key: int(v) if integer else v})
            except ScenarioError as exc:
                raise ScenarioError(f"{where}.{end}", str(exc)) from None
        out.append(p)
    return tuple(out)


def _leaves(raw: Mapping[str, Any], marker: str, prefix: str = "") -> dict[str, Any]:
    """Entries by dotted name, written either quoted (``[targets."money.recovery_rate"]``)
    or as nested tables (``[targets.money.recovery_rate]``): a table holding ``marker`` (or
    anything that is not a table) is an entry."""
    out: dict[str, Any] = {}
    for k, v in raw.items():
        name = f"{prefix}{k}"
        if (
            isinstance(v, dict)
            and marker not in v
            and v
            and all(isinstance(x, dict) for x in v.values())
        ):
            out.update(_leaves(v, marker, f"{name}."))
        else:
            out[name] = v
    return out


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path of a plain-data scenario (None if there is none)."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _number(spec: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    v = spec.get(key, default)
    if v is None:
        raise ScenarioError(f"{where}.{key}", "missing: a number")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ScenarioError(f"{where}.{key}", f"expected a finite number, got {v!r}")
    return float(v)


def _bool(spec: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
    v = spec.get(key, default)
    if not isinstance(v, bool):
        raise ScenarioError(f"{where}.{key}", f"expected true or false, got {v!r}")
    return v
