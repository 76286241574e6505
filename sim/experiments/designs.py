"""Experiment designs of a sweep: the design points (grid, Latin hypercube, grid x LHS,
Sobol', Morris) in the unit cube and on the parameters' scales, and the scenario overrides of
a point.

Designs:

* ``grid`` — every combination of every parameter's levels (``values``, ``cases``, or
  ``num`` evenly spaced levels from ``low`` to ``high``), the first parameter varying slowest.
* ``lhs`` — ``n`` points of a Latin hypercube (``scipy.stats.qmc``, seeded): each range is cut
  into ``n`` equal strata and every stratum is sampled exactly once.
* ``grid_x_lhs`` — the ``policy`` parameters on a grid, crossed with ``n`` Latin-hypercube
  samples of the ``uncertainty`` parameters; every policy meets the same ``n`` futures, as in
  exploratory modelling (policy x scenario).
* ``sobol`` — Saltelli's sampling for Sobol' indices (SALib, ``n`` base samples, a power of
  two): ``n (d + 2)`` points for ``d`` parameters.
* ``morris`` — Morris elementary-effects trajectories (SALib): ``trajectories (d + 1)`` points.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.sweep import Parameter, Sweep


def _latin_hypercube(d: int, n: int, seed: int) -> np.ndarray:
    """``n`` points of a seeded Latin hypercube on the unit cube of dimension ``d``."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=d, seed=seed).random(n) if d else np.zeros((n, 0))


def _salib_problem(params: tuple[Parameter, ...]) -> dict[str, Any]:
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[0.0, 1.0]] * len(params),  # sampled on the unit cube, scaled by from_unit
    }


def unit_samples(sweep: Sweep) -> np.ndarray:
    """Sobol'/Morris samples on the unit cube (one row per point), as SALib analyses them."""
    d, problem = sweep.design, _salib_problem(sweep.parameters)
    if d.kind == "sobol":
        from SALib.sample import sobol

        assert d.n is not None
        return sobol.sample(problem, d.n, calc_second_order=d.second_order, seed=d.seed)
    if d.kind == "morris":
        from SALib.sample import morris

        return morris.sample(problem, d.trajectories, num_levels=d.levels, seed=d.seed)
    raise ValueError(f"design.kind: {d.kind!r} has no unit samples")


def design_points(sweep: Sweep) -> pd.DataFrame:
    """The design: one row per point (``point`` = 0, 1, ...), one column per parameter.

    A column holds the parameter's level (a case name for ``cases``). :func:`assignments`
    turns a row into dotted-key overrides.
    """
    params, d = sweep.parameters, sweep.design
    if d.kind == "grid":
        rows = list(itertools.product(*(p.levels() for p in params)))
    elif d.kind == "lhs":
        assert d.n is not None
        u = _latin_hypercube(len(params), d.n, d.seed)
        rows = [tuple(p.from_unit(x) for p, x in zip(params, r, strict=True)) for r in u]
    elif d.kind == "grid_x_lhs":
        assert d.n is not None
        pol = [i for i, p in enumerate(params) if p.role == "policy"]
        unc = [i for i, p in enumerate(params) if p.role == "uncertainty"]
        u = _latin_hypercube(len(unc), d.n, d.seed)
        futures = [[params[i].from_unit(x) for i, x in zip(unc, r, strict=True)] for r in u]
        rows = []
        for levels in itertools.product(*(params[i].levels() for i in pol)):
            for future in futures:
                row: list[Any] = [None] * len(params)
                for i, v in zip(pol, levels, strict=True):
                    row[i] = v
                for i, v in zip(unc, future, strict=True):
                    row[i] = v
                rows.append(tuple(row))
    else:
        u = unit_samples(sweep)
        rows = [tuple(p.from_unit(x) for p, x in zip(params, r, strict=True)) for r in u]
    table = pd.DataFrame(rows, columns=[p.name for p in params])
    table.insert(0, "point", np.arange(len(table), dtype=np.int64))
    if d.kind in ("sobol", "morris"):  # the unit-cube sample SALib analyses, kept with the points
        for j, p in enumerate(params):
            table[f"u.{p.name}"] = u[:, j]
    return table


def assignments(sweep: Sweep, point: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-key overrides of one design point (a row of :func:`design_points`)."""
    out: dict[str, Any] = {}
    for p in sweep.parameters:
        value = point[p.name]
        if isinstance(value, np.generic):
            value = value.item()
        out.update(p.assignments(value))
    return out
