"""Replications of scenarios with common random numbers, and champion/challenger comparison.

:func:`run_replications` runs one scenario ``reps`` times; :func:`compare` runs several
(the first is the champion) on the same replications and compares them. Both return tidy
DataFrames; the ``overdue run --reps`` and ``overdue compare`` commands are thin layers over
them. The tables and their text are in :mod:`sim.results.comparison`, the statistics in
:mod:`sim.results.stats`; ``docs/simulation_practice.md`` explains them.

Seeding: replication r of every scenario uses ``SeedSequence(seed, spawn_key=(r,))`` (see
:mod:`sim.engine.streams`), so under any two policies borrower i of replication r has the same
traits and the same behavioural random numbers (common random numbers), and the paired
difference of a metric is far less noisy than the difference of independent runs.

Execution: each (scenario, replication) is one unit of work, run in a worker process that
sends back only the headline rows (never the per-borrower tables). Results are put in
(scenario, replication, metric) order, so the output is identical, bit for bit, for any
number of workers. ``workers=1`` runs everything in this process.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.execution import Runner, Task, check_workers
from sim.experiments.provenance import git_commit, manifest
from sim.results import metrics, stats
from sim.results.comparison import (
    COLUMNS,
    DEFAULT_BEST_ON,
    REPLICATIONS_FILE,
    comparison_table,
    estimates_table,
    format_table,
    read_results,
    select_best,
    write_results,
)
from sim.results.metrics import check as check_metric
from sim.results.records import Records
from sim.results.summary import summarize
from sim.spec import Scenario, load_scenario, with_overrides

Row = tuple[str, float, float, float]
"""One headline figure of one replication: (metric, value, numerator, denominator)."""
Progress = Callable[[int, int], None]
"""``progress(done, total)``: replications (scenario x replication units) finished so far."""

DEFAULT_REPS = 30
AUTO_START = 10
"""``reps="auto"``: replications run before the precision rule is first checked."""
AUTO_BATCH = 10
"""``reps="auto"``: replications added per step (fixed, so the stopping point does not
depend on the number of workers)."""
DEFAULT_PRECISION = 0.05
DEFAULT_MAX_REPS = 200


# --------------------------------------------------------------------------- headline metrics
# The metrics themselves (names, units, better direction, numerator and denominator) are the
# registry's: sim.results.metrics.

_FLOORS = {"share": 0.002, "days": 0.5, "per_1000": 0.2, "seconds": 0.1}
_FLOORS_PER_BORROWER = {"yuan": 1.0, "count": 0.001}


def precision_floor(metric: str, borrowers: int) -> float:
    """Absolute half-width that satisfies ``reps="auto"`` for a metric near zero.

    Shares 0.002 (0.2 points), days 0.5, complaints per 1,000 borrowers 0.2; for totals that
    grow with the population, 1 yuan per borrower and 1 per 1,000 borrowers for counts.
    """
    unit = metrics.unit(metric)
    if unit in _FLOORS_PER_BORROWER:
        return _FLOORS_PER_BORROWER[unit] * borrowers
    return _FLOORS.get(unit, 0.0)


def headline_rows(records: Records, summary: Mapping[str, Any]) -> list[Row]:
    """One replication's headline figures as (metric, value, numerator, denominator) rows,
    in the registry's order (:func:`sim.results.metrics.rows`). ``summary`` is
    :func:`sim.results.summary.summarize` of ``records``."""
    return metrics.rows(summary, records)


# --------------------------------------------------------------------------- validation


def check_reps(reps: int | str, name: str = "reps") -> int | str:
    """``reps`` as a positive int, or ``"auto"``; ``name`` is used in the error message."""
    value: Any = reps
    if isinstance(reps, str):
        text = reps.strip().lower()
        if text == "auto":
            return "auto"
        value = int(text) if text.isdigit() else None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name}: must be a positive integer or 'auto', got {reps!r}")
    return int(value)


def check_precision(precision: float, name: str = "precision") -> float:
    """Relative half-width target of ``reps="auto"``: a number in (0, 1)."""
    if not isinstance(precision, int | float) or not 0 < precision < 1:
        raise ValueError(f"{name}: must be a fraction in (0, 1), e.g. 0.05, got {precision!r}")
    return float(precision)


def check_max_reps(max_reps: int, name: str = "max_reps") -> int:
    """Cap of ``reps="auto"``: an integer >= 2."""
    if isinstance(max_reps, bool) or not isinstance(max_reps, int) or max_reps < 2:
        raise ValueError(f"{name}: must be an integer >= 2, got {max_reps!r}")
    return max_reps


# --------------------------------------------------------------------------- running


def replicate(scenario: Scenario, seed: int, replication: int) -> list[Row]:
    """The headline rows of one replication (the unit of work of a worker process)."""
    from sim.engine import simulate  # here, not at the top: reading results needs no engine

    records = simulate(scenario, seed, replication=replication)
    return headline_rows(records, summarize(records, scenario))


def _tasks(
    scenarios: Sequence[Scenario], seed: int, units: Iterable[tuple[int, int]]
) -> list[Task]:
    """(scenario index, replication) units as :mod:`sim.experiments.execution` tasks."""
    return [((i, r), replicate, (scenarios[i], seed, r)) for i, r in units]


def tidy(
    scenarios: Sequence[Scenario], results: Mapping[tuple[int, int], list[Row]]
) -> pd.DataFrame:
    """The replications table, in (scenario, replication, metric) order whatever the order in
    which the units finished."""
    records = [
        (scenarios[i].name, r, *row) for (i, r) in sorted(results) for row in results[(i, r)]
    ]
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    df["replication"] = df["replication"].astype(np.int64)
    for col in ("value", "numerator", "denominator"):
        df[col] = df[col].astype(np.float64)
    return df


def unmet_precision(
    replications: pd.DataFrame,
    scenarios: Sequence[Scenario],
    precision: float,
    level: float = stats.LEVEL,
) -> list[str]:
    """``"scenario: metric"`` for every headline metric whose CI half-width is above
    ``precision`` x |estimate| and above its :func:`precision_floor` (empty: all met)."""
    borrowers = {s.name: s.population.borrowers for s in scenarios}
    table = estimates_table(replications, level)
    unmet = []
    for row in table.itertuples(index=False):
        floor = precision_floor(row.metric, borrowers[row.scenario])
        if not stats.precise_enough(row.estimate, row.half_width, precision, floor):
            unmet.append(f"{row.scenario}: {row.metric}")
    return unmet


def _simulate_all(
    scenarios: Sequence[Scenario],
    reps: int | str,
    precision: float,
    max_reps: int,
    workers: int,
    progress: Progress | None,
) -> pd.DataFrame:
    """Run every scenario on replications 0..n-1 of the root seed they share (common random
    numbers) and return the tidy table; with ``reps="auto"`` add :data:`AUTO_BATCH`
    replications at a time until :func:`_auto_done`."""
    k, seed = len(scenarios), scenarios[0].seed
    auto = reps == "auto"
    target = min(AUTO_START, max_reps) if auto else int(reps)
    results: dict[tuple[int, int], list[Row]] = {}
    with Runner(min(workers, k * (max_reps if auto else target))) as runner:
        while True:
            done = len(results) // k
            units = [(i, r) for r in range(done, target) for i in range(k)]
            for unit, rows in runner.run(_tasks(scenarios, seed, units)):
                results[unit] = rows
                if progress is not None:
                    progress(len(results), k * target)
            table = tidy(scenarios, results)
            if not auto or _auto_done(table, scenarios, precision, max_reps):
                return table
            target = min(target + AUTO_BATCH, max_reps)


def _auto_done(
    table: pd.DataFrame, scenarios: Sequence[Scenario], precision: float, max_reps: int
) -> bool:
    """The ``reps="auto"`` rule: every metric within precision, or ``max_reps`` reached (then
    a RuntimeWarning names the metrics still short of it)."""
    unmet = unmet_precision(table, scenarios, precision)
    n = int(table["replication"].nunique())
    if unmet and n >= max_reps:
        shown = ", ".join(unmet[:5]) + (", ..." if len(unmet) > 5 else "")
        warnings.warn(
            f"max_reps: stopped at {n} replications before every headline metric was within "
            f"{100 * precision:g}% of its estimate; not yet: {shown}",
            RuntimeWarning,
            stacklevel=4,
        )
    return not unmet or n >= max_reps


def _resolve(
    scenario: Scenario | str | Path,
    overrides: Mapping[str, Any] | None,
    borrowers: int | None,
    seed: int | None,
) -> Scenario:
    """A Scenario from a TOML path or a Scenario, with dotted-path overrides, ``borrowers``
    and ``seed`` applied (and validated: a bad value raises ScenarioError naming the key)."""
    dotted = dict(overrides or {})
    if borrowers is not None:
        dotted["population.borrowers"] = borrowers
    if seed is not None:
        dotted["seed"] = seed
    if isinstance(scenario, Scenario):
        return with_overrides(scenario, dotted)
    return load_scenario(scenario, dotted)


def run_replications(
    scenario: Scenario | str | Path,
    reps: int | str = DEFAULT_REPS,
    *,
    seed: int | None = None,
    workers: int | None = None,
    borrowers: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    precision: float = DEFAULT_PRECISION,
    max_reps: int = DEFAULT_MAX_REPS,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Run ``reps`` replications of one scenario; return the tidy replications table.

    ``scenario`` is a Scenario or a TOML path; ``borrowers`` and ``overrides`` (dotted paths,
    as ``--set``) are applied to it. ``seed`` is the root seed (default: the scenario's).
    ``reps="auto"`` adds replications until every headline metric's 95% CI half-width is
    within ``precision`` x |estimate| (or its :func:`precision_floor`), at most ``max_reps``.
    ``workers`` processes (default: all cores) run the replications; the result does not
    depend on it. Columns: :data:`COLUMNS`, one row per replication and metric.
    """
    sc = _resolve(scenario, overrides, borrowers, seed)
    return _replicate_checked([sc], reps, precision, max_reps, workers, progress)


def _replicate_checked(
    scenarios: Sequence[Scenario],
    reps: int | str,
    precision: float,
    max_reps: int,
    workers: int | None,
    progress: Progress | None,
) -> pd.DataFrame:
    """Validate the arguments, then :func:`_simulate_all`."""
    reps = check_reps(reps)
    precision = check_precision(precision)
    max_reps = check_max_reps(max_reps)
    n_workers = check_workers(workers)
    return _simulate_all(scenarios, reps, precision, max_reps, n_workers, progress)


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`.

    ``replications``: the tidy table (:data:`COLUMNS`); ``table``: :func:`comparison_table`;
    ``selection``: :func:`select_best` on the chosen metric (None if it is not defined for
    every policy).
    """

    scenarios: tuple[Scenario, ...]
    replications: pd.DataFrame
    table: pd.DataFrame
    selection: stats.Selection | None
    best_on: str = DEFAULT_BEST_ON

    @property
    def champion(self) -> str:
        return self.scenarios[0].name

    @property
    def seed(self) -> int:
        """The root seed every scenario ran with."""
        return self.scenarios[0].seed

    @property
    def reps(self) -> int:
        """Replications run per scenario."""
        return int(self.replications["replication"].nunique())

    def write(
        self,
        out_dir: str | Path,
        paths: Sequence[str | Path | None] | None = None,
        **provenance: Any,
    ) -> Path:
        """Write the comparison as ``overdue compare`` does (replications.parquet,
        comparison.parquet/.csv, manifest.json), atomically; return the directory.

        ``paths`` are the scenario files (for the manifest); ``provenance`` goes to
        :func:`manifest` (``reps``, ``precision``, ``max_reps``, ``workers``, ``overrides``;
        ``reps`` defaults to the replications run)."""
        provenance.setdefault("reps", self.reps)
        doc = manifest(
            "compare",
            self.scenarios,
            list(paths) if paths is not None else [None] * len(self.scenarios),
            self.replications,
            selection=self.selection,
            **provenance,
        )
        tables = {"comparison": self.table}
        return write_results(Path(out_dir), self.replications, tables, doc)

    def format(self, full: bool = True) -> str:
        """The comparison as text for a terminal (see :func:`format_table`); ``full=False``
        leads with the figures a decision needs and the metric the best is chosen on."""
        head = (
            f"{len(self.scenarios)} policies x {self.reps} replications, root seed {self.seed}, "
            f"champion {self.champion}"
        )
        return format_table(self.table, head, self.selection, full, self.best_on)


def compare(
    scenarios: Sequence[Scenario | str | Path],
    reps: int | str = DEFAULT_REPS,
    *,
    seed: int | None = None,
    workers: int | None = None,
    borrowers: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    precision: float = DEFAULT_PRECISION,
    max_reps: int = DEFAULT_MAX_REPS,
    best_on: str = DEFAULT_BEST_ON,
    direction: str | None = None,
    level: float = stats.LEVEL,
    progress: Progress | None = None,
) -> Comparison:
    """Run every scenario on the same replications and compare them with the first.

    Arguments as :func:`run_replications` (``borrowers`` and ``overrides`` apply to every
    scenario). All scenarios share one root seed, ``seed`` or else the champion's (a
    challenger's own ``seed`` key is replaced), so replication r of every policy uses the
    same random numbers. ``best_on`` (with
    ``direction``, default the metric's) names the metric on which the best policy is
    selected. Scenario names must differ.
    """
    resolved = [_resolve(s, overrides, borrowers, seed) for s in scenarios]
    if len(resolved) < 2:
        raise ValueError(f"scenarios: compare needs at least two, got {len(resolved)}")
    names = [s.name for s in resolved]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"scenarios: names must differ; repeated: {', '.join(duplicates)}")
    check_metric(best_on, direction)
    # one root seed for all (common random numbers): the champion's, unless given
    resolved = [dataclasses.replace(s, seed=resolved[0].seed) for s in resolved]
    df = _replicate_checked(resolved, reps, precision, max_reps, workers, progress)
    try:
        selection = select_best(df, best_on, direction, level)
    except ValueError:  # not defined for some policy, or too few replications
        selection = None
    return Comparison(tuple(resolved), df, comparison_table(df, level=level), selection, best_on)


__all__ = [
    "git_commit",
    "manifest",
    "COLUMNS",
    "REPLICATIONS_FILE",
    "Comparison",
    "compare",
    "comparison_table",
    "estimates_table",
    "format_table",
    "read_results",
    "run_replications",
    "select_best",
    "write_results",
]
