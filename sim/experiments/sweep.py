"""Parameter sweeps: the sweep file and its validation.

A sweep file (TOML, ``scenarios/sweeps/``) names a base scenario, the parameters to vary by
their dotted key path (the paths of the scenario file, see ``docs/scenario_reference.md``),
their values or ranges, a design, replications per point and the metrics of interest. It is
inert: :func:`load_sweep` validates it into a :class:`Sweep` (every design point is built into
a scenario, so a bad value fails here, naming its key path, before anything runs);
:func:`~sim.experiments.designs.design_points` lays out the points,
:mod:`sim.experiments.sweep_run` runs them and :mod:`sim.experiments.sweep_report` analyses
the results. The format is documented in
``docs/sweeps.md``.

The designs (``grid``, ``lhs``, ``grid_x_lhs``, ``sobol``, ``morris``) are laid out by
:mod:`sim.experiments.designs`, which describes each.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.results import metrics as registry
from sim.spec import (
    Scenario,
    base_scenario,
    check_keys,
    plain_copy,
    read_toml,
    to_dict,
    whole_number,
    with_overrides,
)
from sim.spec.params import ScenarioError

DESIGNS = ("grid", "lhs", "grid_x_lhs", "sobol", "morris")
MAX_UNITS = 1_000_000
"""Units (points x replications) a sweep may have: a larger design is refused when the file is
read, before it is laid out in memory."""
ROLES = ("policy", "uncertainty")
DEFAULT_METRICS = (
    "money.recovery_rate",
    "money.net_recovery",
    "funnel.emergency_contact",
    "harm.complaints_per_1000",
    "harm.third_party_disclosures",
)

_TOP_KEYS = {
    "name", "description", "base", "seed", "replications", "metrics", "set", "design",
    "parameters", "save_summaries",
}  # fmt: skip
_PARAM_KEYS = {"name", "key", "role", "values", "low", "high", "num", "integer", "log", "cases"}
_DESIGN_KEYS = {
    "grid": {"kind"},
    "lhs": {"kind", "n", "seed"},
    "grid_x_lhs": {"kind", "n", "seed"},
    "sobol": {"kind", "n", "seed", "second_order"},
    "morris": {"kind", "trajectories", "levels", "seed"},
}


@dataclass(frozen=True)
class Parameter:
    """One swept parameter: a dotted key with values or a range, or named ``cases``.

    ``cases`` maps a case name to a set of dotted-key assignments made together (e.g. the
    emergency-contact trigger "after 3 declines" sets the trigger mode and the count).
    ``role`` is ``policy`` (a lever the lender controls) or ``uncertainty`` (how borrowers
    behave); it matters for ``grid_x_lhs`` and the EMA export.
    """

    name: str
    key: str | None = None
    role: str = "policy"
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = None
    integer: bool = False
    log: bool = False
    cases: dict[str, dict[str, Any]] | None = None

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def levels(self) -> list[Any]:
        """Grid levels: the values, the case names, or ``num`` evenly spaced range values."""
        if self.cases is not None:
            return list(self.cases)
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None and self.num is not None
        if self.log:
            grid = np.geomspace(self.low, self.high, self.num)
        else:
            grid = np.linspace(self.low, self.high, self.num)
        return [self.from_unit_value(float(v)) for v in grid]

    def from_unit(self, u: float) -> Any:
        """The level at quantile ``u`` in [0, 1): a range is scaled (log-scaled with ``log``),
        values and cases are picked by stratum (``floor(u k)``)."""
        if self.is_range:
            assert self.low is not None and self.high is not None
            if self.log:
                v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
            else:
                v = self.low + u * (self.high - self.low)
            return self.from_unit_value(v)
        levels = self.levels()
        return levels[min(int(u * len(levels)), len(levels) - 1)]

    def from_unit_value(self, v: float) -> Any:
        return int(round(v)) if self.integer else v

    def assignments(self, level: Any) -> dict[str, Any]:
        """Dotted-key overrides that set this parameter to ``level``."""
        if self.cases is not None:
            return dict(self.cases[level])
        assert self.key is not None
        return {self.key: level}


@dataclass(frozen=True)
class Design:
    """How design points are laid out (see the module docstring)."""

    kind: str = "grid"
    n: int | None = None
    seed: int = 0
    second_order: bool = False
    trajectories: int = 10
    levels: int = 4


@dataclass(frozen=True)
class Sweep:
    """A validated sweep file. ``base`` is the base scenario with ``set`` applied."""

    name: str
    description: str
    path: Path | None
    base: Scenario
    base_path: Path | None
    seed: int
    replications: int
    metrics: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    design: Design
    overrides: dict[str, Any] = field(default_factory=dict)
    save_summaries: bool = False
    source: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self, points: pd.DataFrame) -> str:
        """Hash of everything that decides the results: the sweep as written (with command
        line overrides), the resolved base scenario and the design points."""
        doc = {
            "sweep": self.source,
            "base": to_dict(self.base),
            "seed": self.seed,
            "replications": self.replications,
            "metrics": list(self.metrics),
            "points": json.loads(points.to_json(orient="records")),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- loading


def _type_error(path: str, expected: str, value: Any) -> ScenarioError:
    return ScenarioError(path, f"expected {expected}, got {value!r}")


def _parameter(i: int, raw: Any) -> Parameter:
    path = f"parameters[{i}]"
    if not isinstance(raw, dict):
        raise _type_error(path, "a table", raw)
    check_keys(raw, _PARAM_KEYS, path)
    role = raw.get("role", "policy")
    if not isinstance(role, str) or role not in ROLES:
        raise ScenarioError(f"{path}.role", f"{role!r}; allowed: {', '.join(ROLES)}")
    forms = [k for k in ("values", "low", "cases") if k in raw]
    if len(forms) != 1:
        raise ScenarioError(path, "give exactly one of: values, low/high (a range), cases")
    key = raw.get("key")
    if "cases" in raw:
        if key is not None:
            raise ScenarioError(f"{path}.key", "a parameter with cases sets its keys per case")
        cases = raw["cases"]
        if not isinstance(cases, dict) or not cases:
            raise _type_error(f"{path}.cases", "a table of named cases", cases)
        for name, assign in cases.items():
            if not isinstance(assign, dict) or not assign:
                raise _type_error(f"{path}.cases.{name}", "a table of dotted keys", assign)
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise ScenarioError(f"{path}.name", "a parameter with cases needs a name")
        return Parameter(name=name, role=role, cases={k: dict(v) for k, v in cases.items()})
    if not isinstance(key, str) or not key:
        raise ScenarioError(f"{path}.key", "missing: the dotted key path to vary")
    name = raw.get("name", key)
    if not isinstance(name, str) or not name:
        raise _type_error(f"{path}.name", "a name (a string)", name)
    for flag in ("log", "integer"):
        if not isinstance(raw.get(flag, False), bool):
            raise _type_error(f"{path}.{flag}", "true or false", raw[flag])
    if "values" in raw:
        values = raw["values"]
        if not isinstance(values, list) or not values:
            raise _type_error(f"{path}.values", "a non-empty list", values)
        return Parameter(name=name, key=key, role=role, values=tuple(values))
    low, high = raw.get("low"), raw.get("high")
    for k, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise _type_error(f"{path}.{k}", "a number", v)
    if not low < high:
        raise ScenarioError(f"{path}.high", f"must be greater than low ({low}), got {high}")
    log = bool(raw.get("log", False))
    if log and low <= 0:
        raise ScenarioError(f"{path}.low", f"a log-scaled range needs low > 0, got {low}")
    num = raw.get("num")
    if num is not None:
        num = whole_number(raw, "num", f"{path}.", 2, 1000, 2)
    return Parameter(
        name=name,
        key=key,
        role=role,
        low=float(low),
        high=float(high),
        num=num,
        integer=bool(raw.get("integer", False)),
        log=log,
    )


def _design(raw: Any, params: tuple[Parameter, ...]) -> Design:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _type_error("design", "a table", raw)
    kind = raw.get("kind", "grid")
    if kind not in DESIGNS:
        raise ScenarioError("design.kind", f"{kind!r}; allowed: {', '.join(DESIGNS)}")
    check_keys(raw, _DESIGN_KEYS[kind], "design")
    seed = whole_number(raw, "seed", "design.", 0, 2**32 - 1, 0)
    if kind == "grid":
        for i, p in enumerate(params):
            if p.is_range and p.num is None:
                raise ScenarioError(f"parameters[{i}].num", "a grid needs num levels of a range")
        return Design(kind)
    if kind in ("lhs", "grid_x_lhs"):
        n = whole_number(raw, "n", "design.", 1, 100_000, 10)
        if kind == "grid_x_lhs":
            roles = {p.role for p in params}
            if roles != set(ROLES):
                raise ScenarioError(
                    "parameters", "grid_x_lhs needs policy and uncertainty parameters"
                )
            for i, p in enumerate(params):
                if p.role == "policy" and p.is_range and p.num is None:
                    raise ScenarioError(f"parameters[{i}].num", "a policy range needs num levels")
        return Design(kind, n=n, seed=seed)
    for i, p in enumerate(params):
        if not p.is_range:
            raise ScenarioError(
                f"parameters[{i}]", f"a {kind} design needs ranges (low, high), not values/cases"
            )
    if kind == "sobol":
        n = whole_number(raw, "n", "design.", 2, 2**16, 64)
        if n & (n - 1):
            raise ScenarioError("design.n", f"Sobol' sampling needs a power of two, got {n}")
        return Design(kind, n=n, seed=seed, second_order=bool(raw.get("second_order", False)))
    trajectories = whole_number(raw, "trajectories", "design.", 2, 10_000, 10)
    levels = whole_number(raw, "levels", "design.", 2, 64, 4)
    if levels % 2:
        raise ScenarioError("design.levels", f"Morris levels must be even, got {levels}")
    return Design(kind, seed=seed, trajectories=trajectories, levels=levels)


def _metrics(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_METRICS
    if not isinstance(raw, list) or not raw:
        raise _type_error("metrics", "a non-empty list of metric names", raw)
    for i, m in enumerate(raw):
        if registry.get(m) is None:
            known = ", ".join(registry.names())
            raise ScenarioError(f"metrics[{i}]", f"unknown metric {m!r}; known: {known}")
    return tuple(dict.fromkeys(raw))


def load_sweep(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Sweep:
    """Read and validate a sweep file.

    ``overrides`` change top-level values (``seed``, ``replications``) or, by dotted key,
    the base scenario (``population.borrowers``, ``days``...), as on the command line.
    Raises :class:`ScenarioError` naming the key path of anything wrong, including a design
    point whose value is out of its allowed range.
    """
    path = Path(path)
    return build_sweep(read_toml(path, "sweep"), path, overrides)


def build_sweep(
    raw: dict[str, Any], path: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> Sweep:
    """Validate a sweep given as a dict (what :func:`load_sweep` reads from TOML)."""
    raw = plain_copy(raw, "")  # a private copy, plain types only
    overrides = dict(overrides or {})
    for key in ("seed", "replications"):
        if key in overrides:
            raw[key] = overrides.pop(key)
    check_keys(raw, _TOP_KEYS, "")
    base, base_path, scenario_overrides = base_scenario(raw, path, overrides, "sweep")
    raw_params = raw.get("parameters")
    if not isinstance(raw_params, list) or not raw_params:
        raise ScenarioError("parameters", "missing: a list of [[parameters]]")
    params = tuple(_parameter(i, p) for i, p in enumerate(raw_params))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ScenarioError("parameters", f"parameter names must differ: {names}")
    sweep = Sweep(
        name=str(raw.get("name", path.stem if path else "sweep")),
        description=str(raw.get("description", "")),
        path=path,
        base=base,
        base_path=base_path,
        seed=whole_number(raw, "seed", "", 0, 2**63 - 1, base.seed),
        replications=whole_number(raw, "replications", "", 1, 10_000, 1),
        metrics=_metrics(raw.get("metrics")),
        parameters=params,
        design=_design(raw.get("design"), params),
        overrides=scenario_overrides,
        save_summaries=bool(raw.get("save_summaries", False)),
        source=raw,
    )
    units = design_size(sweep) * sweep.replications
    if units > MAX_UNITS:
        raise ScenarioError(
            "design",
            f"{units:,} units (points x replications) is too large; at most {MAX_UNITS:,} "
            "(use fewer levels, a smaller n, or a Latin hypercube)",
        )
    for i, p in enumerate(params):
        _check_levels(sweep, i, p)
    return sweep


def design_size(sweep: Sweep) -> int:
    """The number of design points, computed without laying them out."""
    params, d = sweep.parameters, sweep.design

    def levels(p: Parameter) -> int:
        return p.num if p.num is not None else len(p.levels())

    if d.kind == "grid":
        return math.prod(levels(p) for p in params)
    if d.kind == "lhs":
        return int(d.n or 0)
    if d.kind == "grid_x_lhs":
        return math.prod(levels(p) for p in params if p.role == "policy") * int(d.n or 0)
    if d.kind == "sobol":  # Saltelli: n (d + 2), or n (2d + 2) with second-order indices
        return int(d.n or 0) * ((2 if d.second_order else 1) * len(params) + 2)
    return int(d.trajectories or 0) * (len(params) + 1)


def _check_levels(sweep: Sweep, i: int, p: Parameter) -> None:
    """Build the base with each level (each end of a range) so a bad value fails now."""
    if p.cases is not None:
        probes = [(f"parameters[{i}].cases.{c}", p.assignments(c)) for c in p.cases]
    elif p.values is not None:
        probes = [(f"parameters[{i}].values[{j}]", {p.key: v}) for j, v in enumerate(p.values)]
    else:
        probes = [
            (f"parameters[{i}].{end}", {p.key: p.from_unit_value(v)})
            for end, v in (("low", p.low), ("high", p.high))
        ]
    for where, assign in probes:
        try:
            scenario_for(sweep, assign)
        except ScenarioError as exc:
            raise ScenarioError(where, str(exc)) from None


def scenario_for(sweep: Sweep, assignments: Mapping[str, Any]) -> Scenario:
    """The base scenario with a design point's dotted-key assignments."""
    return with_overrides(sweep.base, assignments)
