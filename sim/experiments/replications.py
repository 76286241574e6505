"""Replications of scenarios with common random numbers, and champion/challenger comparison.

:func:`run_replications` runs one scenario ``reps`` times; :func:`compare` runs several
(the first is the champion) on the same replications and compares them. Both return tidy
DataFrames; the ``overdue run --reps`` and ``overdue compare`` commands are thin layers over
them. The statistics are in :mod:`sim.results.stats`; ``docs/simulation_practice.md`` explains them.

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
import math
import subprocess
import textwrap
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim
from sim.engine.core import simulate
from sim.experiments.execution import Runner, Task, default_workers
from sim.results import rundir, stats
from sim.results.records import STAGES, Records
from sim.results.rundir import MANIFEST
from sim.results.summary import jsonable, summarize
from sim.spec.scenario import Scenario, load_scenario, with_overrides

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
DEFAULT_BEST_ON = "money.net_recovery"
RECOVERY_MONTHS = 6
"""Recovery rate is reported for months 0-5 past due (DPD 0-29 ... 150-179)."""

COLUMNS = ("scenario", "replication", "metric", "value", "numerator", "denominator")
"""Columns of the tidy replications table."""
REPLICATIONS_FILE = "replications.parquet"


# --------------------------------------------------------------------------- headline metrics


@dataclass(frozen=True)
class Metric:
    """A headline metric: its name, unit and which direction is better.

    Ratios (shares, rates, per 1,000, utilisation) carry a numerator and denominator per
    replication and are pooled across replications; the others have denominator 1.
    """

    name: str
    unit: str  # share (fraction), days, yuan, count (per replication), per_1000 (borrowers)
    better: str | None = None  # "max", "min", or None when neither is better


_FUNNEL_BETTER = {"emergency_contact": "min", "written_off": "min"}

METRICS: tuple[Metric, ...] = (
    *(Metric(f"funnel.{s}", "share", _FUNNEL_BETTER.get(s)) for s in STAGES),
    Metric("emergency_contact.median_day", "days"),
    Metric("cure_rate.d30", "share", "max"),
    Metric("cure_rate.d90", "share", "max"),
    *(Metric(f"recovery_by_month.{m}", "share", "max") for m in range(RECOVERY_MONTHS)),
    Metric("money.recovery_rate", "share", "max"),
    Metric("money.recovered", "yuan", "max"),
    Metric("money.cost_total", "yuan", "min"),
    Metric("money.net_recovery", "yuan", "max"),
    Metric("harm.complaints_per_1000", "per_1000", "min"),
    Metric("harm.third_party_contacts", "count", "min"),
    Metric("harm.third_party_disclosures", "count", "min"),
    Metric("agents.utilisation", "share"),
)
"""The headline metrics, in report order. ``funnel.emergency_contact`` is the
emergency-contact share; ``recovery_by_month.m`` is the share of the balance owed at DPD 30m
that is repaid afterwards."""
METRIC_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}

_FLOORS = {"share": 0.002, "days": 0.5, "per_1000": 0.2}
_FLOORS_PER_BORROWER = {"yuan": 1.0, "count": 0.001}


def precision_floor(metric: str, borrowers: int) -> float:
    """Absolute half-width that satisfies ``reps="auto"`` for a metric near zero.

    Shares 0.002 (0.2 points), days 0.5, complaints per 1,000 borrowers 0.2; for totals that
    grow with the population, 1 yuan per borrower and 1 per 1,000 borrowers for counts.
    """
    unit = METRIC_BY_NAME[metric].unit if metric in METRIC_BY_NAME else ""
    if unit in _FLOORS_PER_BORROWER:
        return _FLOORS_PER_BORROWER[unit] * borrowers
    return _FLOORS.get(unit, 0.0)


def _num(x: Any) -> float:
    """A summary figure as float; None (no denominator) becomes NaN."""
    return math.nan if x is None else float(x)


def _num_den(records: Records, summary: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """(numerator, denominator) of every headline metric; plain metrics have denominator 1."""
    n = float(len(records.outcomes))
    pairs = {f"funnel.{s}": (float(summary["funnel_counts"][s]), n) for s in STAGES}
    pairs["emergency_contact.median_day"] = (_num(summary["emergency_contact"]["median_day"]), 1.0)
    cure = summary["cure_rate"]
    for k in (30, 90):
        observed, rate = float(cure[f"observed_d{k}"]), cure[f"d{k}"]
        # rate = cured / observed, both integers: rate x observed rounds back to the count
        pairs[f"cure_rate.d{k}"] = (
            0.0 if rate is None else float(round(rate * observed)),
            observed,
        )
    months = {r["month"]: r for r in summary["recovery_by_month_past_due"]}
    for m in range(RECOVERY_MONTHS):
        row = months.get(m, {"recovered": 0.0, "balance_at_entry": 0.0})
        pairs[f"recovery_by_month.{m}"] = (float(row["recovered"]), float(row["balance_at_entry"]))
    money, harm = summary["money"], summary["harm"]
    pairs["money.recovery_rate"] = (float(money["recovered"]), float(money["amount_due"]))
    for key in ("recovered", "cost_total", "net_recovery"):
        pairs[f"money.{key}"] = (float(money[key]), 1.0)
    pairs["harm.complaints_per_1000"] = (1000.0 * harm["complaints"], n)
    for key in ("third_party_contacts", "third_party_disclosures"):
        pairs[f"harm.{key}"] = (float(harm[key]), 1.0)
    daily = records.daily
    pairs["agents.utilisation"] = (
        float(daily["agent_busy_minutes"].sum()),
        float(daily["agent_capacity_minutes"].sum()),
    )
    return pairs


def headline_rows(records: Records, summary: Mapping[str, Any]) -> list[Row]:
    """One replication's headline figures as (metric, value, numerator, denominator) rows, in
    :data:`METRICS` order.

    ``summary`` is :func:`sim.results.summary.summarize` of ``records``. ``value`` is
    numerator / denominator (NaN when the denominator is 0, or a plain metric is undefined,
    e.g. the median emergency-contact day when nobody reached the stage).
    """
    pairs = _num_den(records, summary)
    rows = []
    for metric in METRICS:
        num, den = pairs[metric.name]
        rows.append((metric.name, num / den if den else math.nan, num, den))
    return rows


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


def check_workers(workers: int | None, name: str = "workers") -> int:
    """Worker processes: None means every core this process may use."""
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"{name}: must be a positive integer, got {workers!r}")
    return workers


def check_metric(metric: str, direction: str | None = None, name: str = "best_on") -> str:
    """The direction ("max" or "min") in which ``metric`` is better; raises for an unknown
    metric, a bad direction, or a metric with no natural direction and none given."""
    if metric not in METRIC_BY_NAME:
        choices = ", ".join(m.name for m in METRICS if m.better)
        raise ValueError(f"{name}: unknown metric {metric!r}; choose from {choices}")
    if direction is None:
        direction = METRIC_BY_NAME[metric].better
        if direction is None:
            raise ValueError(
                f"{name}: {metric} has no natural direction; give the direction, max or min"
            )
    if direction not in ("max", "min"):
        raise ValueError(f"direction: must be 'max' or 'min', got {direction!r}")
    return direction


# --------------------------------------------------------------------------- running


def _replicate(scenario: Scenario, seed: int, replication: int) -> list[Row]:
    """The headline rows of one replication (the unit of work of a worker process)."""
    records = simulate(scenario, seed, replication=replication)
    return headline_rows(records, summarize(records, scenario))


def _tasks(
    scenarios: Sequence[Scenario], seed: int, units: Iterable[tuple[int, int]]
) -> list[Task]:
    """(scenario index, replication) units as :mod:`sim.experiments.execution` tasks."""
    return [((i, r), _replicate, (scenarios[i], seed, r)) for i, r in units]


def _tidy(
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
            table = _tidy(scenarios, results)
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


# --------------------------------------------------------------------------- estimates


def _unit(metric: str) -> str:
    return METRIC_BY_NAME[metric].unit if metric in METRIC_BY_NAME else ""


def _wide(replications: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's numerators and denominators, one row per replication, paired by index."""
    sub = replications[replications["metric"] == metric]
    return sub.pivot(index="replication", columns="scenario", values=["numerator", "denominator"])


def _scenario_names(replications: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(replications["scenario"]))


def _metric_names(replications: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(replications["metric"]))


def estimates_table(replications: pd.DataFrame, level: float = stats.LEVEL) -> pd.DataFrame:
    """Estimate and confidence interval of every metric of every scenario.

    One row per scenario and metric: scenario, metric, unit, n (replications used),
    estimate (the pooled ratio sum(num) / sum(den); for plain metrics the mean), half_width,
    ci_low, ci_high (delta method / t-interval, see :mod:`sim.results.stats`).
    """
    rows = []
    for (scenario, metric), g in replications.groupby(["scenario", "metric"], sort=False):
        est = stats.ratio_interval(g["numerator"], g["denominator"], level)
        rows.append(_estimate_row(str(scenario), str(metric), est))
    return pd.DataFrame(rows)


def _estimate_row(scenario: str, metric: str, est: stats.Estimate) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "metric": metric,
        "unit": _unit(metric),
        "n": est.n,
        "estimate": est.value,
        "half_width": est.half_width,
        "ci_low": est.low,
        "ci_high": est.high,
    }


def _difference_row(
    wide: pd.DataFrame, champion: str, challenger: str, level: float
) -> dict[str, Any]:
    """Paired difference (and relative difference) of ``challenger`` minus ``champion``."""
    cols = [
        wide[(part, name)]
        for name in (champion, challenger)
        for part in ("numerator", "denominator")
    ]
    diff = stats.paired_difference(*cols, level=level)
    rel = stats.paired_difference(*cols, level=level, relative=True)
    return {
        "diff": diff.value,
        "diff_half_width": diff.half_width,
        "diff_low": diff.low,
        "diff_high": diff.high,
        "rel_diff": rel.value,
        "rel_diff_half_width": rel.half_width,
        "rel_diff_low": rel.low,
        "rel_diff_high": rel.high,
        "p_value": diff.p_value,
        "significant": diff.significant,
    }


def comparison_table(
    replications: pd.DataFrame, champion: str | None = None, level: float = stats.LEVEL
) -> pd.DataFrame:
    """Every metric of every scenario with its CI, and each challenger's paired difference
    from the champion (default: the first scenario) with its CI.

    One row per metric and scenario (metric-major, in table order): metric, unit, scenario,
    role (champion / challenger), the estimate columns of :func:`estimates_table`, then
    diff (challenger - champion, in the metric's unit), diff_half_width, diff_low, diff_high,
    rel_diff (challenger / champion - 1), rel_diff_half_width, rel_diff_low, rel_diff_high,
    p_value (paired t-test) and significant (the diff's CI excludes 0; NA for the champion).
    Differences are paired by replication (common random numbers) and each CI is at
    ``level`` on its own, not adjusted for the number of comparisons.
    """
    names = _scenario_names(replications)
    champion = names[0] if champion is None else champion
    if champion not in names:
        raise ValueError(f"champion: {champion!r} is not one of {names}")
    estimates = estimates_table(replications, level).set_index(["metric", "scenario"])
    rows = []
    for metric in _metric_names(replications):
        wide = _wide(replications, metric)
        for name in names:
            row: dict[str, Any] = {"metric": metric, "scenario": name}
            row.update(estimates.loc[(metric, name)].to_dict())
            row["role"] = "champion" if name == champion else "challenger"
            if name != champion:
                row.update(_difference_row(wide, champion, name, level))
            rows.append(row)
    table = pd.DataFrame(rows)
    order = ["metric", "unit", "scenario", "role", "n", "estimate", "half_width", "ci_low"]
    order += [c for c in table.columns if c not in order]
    table = table[order]
    if "significant" not in table:
        table["significant"] = pd.NA
    table["significant"] = table["significant"].astype("boolean")
    return table


def select_best(
    replications: pd.DataFrame,
    metric: str = DEFAULT_BEST_ON,
    direction: str | None = None,
    level: float = stats.LEVEL,
) -> stats.Selection:
    """Which scenario is best on ``metric`` and with what confidence (:func:`stats.select_best`:
    Hsu's MCB, Bonferroni version for common random numbers). ``direction`` defaults to the
    metric's (:data:`METRICS`)."""
    direction = check_metric(metric, direction)
    wide = _wide(replications, metric)
    data = {
        name: (wide[("numerator", name)], wide[("denominator", name)])
        for name in _scenario_names(replications)
    }
    return stats.select_best(data, metric, direction, level)


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

    def format(self) -> str:
        """The comparison as text for a terminal (see :func:`format_table`)."""
        head = (
            f"{len(self.scenarios)} policies x {self.reps} replications, root seed {self.seed}, "
            f"champion {self.champion}"
        )
        return format_table(self.table, head, self.selection)


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
    return Comparison(tuple(resolved), df, comparison_table(df, level=level), selection)


# --------------------------------------------------------------------------- text


WIDTH = 100
"""Width of the text report's notes (the table is as wide as its content)."""
_FORMATS: dict[str, tuple[str, float]] = {
    "share": ("{:.2f}", 100.0),
    "days": ("{:.2f}", 1.0),
    "yuan": ("{:,.0f}", 1.0),
    "count": ("{:,.1f}", 1.0),
    "per_1000": ("{:.3f}", 1.0),
}


def _plus_minus(value: float, half_width: float, unit: str, diff: bool = False) -> str:
    """``17.83% ± 0.21%``; a difference is signed and shares are in points (``pp``)."""
    if math.isnan(value):
        return "n/a"
    spec, scale = _FORMATS.get(unit, ("{:.4g}", 1.0))
    suffix = ("%" if not diff else " pp") if unit == "share" else ""
    signed = spec.replace("{:", "{:+") if diff else spec
    text = signed.format(value * scale) + suffix
    if math.isnan(half_width):
        return text
    return f"{text} ± {spec.format(half_width * scale)}{suffix}"


def _relative(value: float, half_width: float) -> str:
    if math.isnan(value):
        return ""
    hw = "" if math.isnan(half_width) else f" ± {100 * half_width:.2f}%"
    return f"{100 * value:+.2f}%{hw}"


def _columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned first two columns, right-aligned others, two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return [line(header), *map(line, rows)]


def format_table(table: pd.DataFrame, title: str, selection: stats.Selection | None = None) -> str:
    """A comparison or estimates table as text: one line per metric and policy with the
    estimate ± CI half-width and, for challengers, the paired difference ± half-width, a
    ``*`` when significant, and the relative difference. Metrics not defined for any policy
    are left out."""
    compared = "diff" in table
    champion = table.loc[table["role"] == "champion", "scenario"].iloc[0] if compared else ""
    header = ["metric", "policy", "estimate ± 95% CI"]
    if compared:
        header += [f"diff vs {champion} ± 95% CI", "", "relative"]
    rows: list[list[str]] = []
    for metric, g in table.groupby("metric", sort=False):
        if g["estimate"].isna().all():
            continue
        for i, r in enumerate(g.itertuples(index=False)):
            row = [
                str(metric) if i == 0 else "",
                r.scenario,
                _plus_minus(r.estimate, r.half_width, r.unit),
            ]
            if compared and r.role == "challenger":
                row += [
                    _plus_minus(r.diff, r.diff_half_width, r.unit, diff=True),
                    "*" if pd.notna(r.significant) and bool(r.significant) else "",
                    _relative(r.rel_diff, r.rel_diff_half_width),
                ]
            elif compared:
                row += ["", "", ""]
            rows.append(row)
    lines = [title, "", *_columns(header, rows)]
    if compared:
        note = (
            "* the paired difference's 95% CI excludes 0 (each comparison on its own: among "
            "many metrics a few stars are expected by chance)"
        )
        lines += ["", textwrap.fill(note, WIDTH)]
    if selection is not None:
        lines += ["", textwrap.fill(selection.statement(), WIDTH)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- output directory


def git_commit() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the working tree the package runs from; (None, None) outside git."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", *args], cwd=here, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status)


def manifest(
    kind: str,
    scenarios: Sequence[Scenario],
    paths: Sequence[str | Path | None],
    replications: pd.DataFrame,
    *,
    reps: int | str,
    precision: float = DEFAULT_PRECISION,
    max_reps: int = DEFAULT_MAX_REPS,
    workers: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    selection: stats.Selection | None = None,
) -> dict[str, Any]:
    """The provenance written as ``manifest.json``: what was run and how to rerun it.

    ``kind`` is "compare" or "replications"; ``paths`` are the scenario files (or None), one
    per scenario; the root seed is the scenarios' (they share it).

    No timestamps or host names, so the same inputs give the same manifest (but for
    ``workers`` and ``git``, which are recorded without affecting results).
    """
    n = int(replications["replication"].nunique())
    commit, dirty = git_commit()
    doc: dict[str, Any] = {
        "kind": kind,
        "package": "overdue",
        "package_version": sim.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "root_seed": scenarios[0].seed,
        "replications": n,
        "reps_requested": reps,
        "precision": precision if reps == "auto" else None,
        "max_reps": max_reps if reps == "auto" else None,
        "workers": workers,
        "confidence_level": stats.LEVEL,
        "spawn_keys": [[r] for r in range(n)],
        "spawn_key_note": (
            "replication r of every scenario uses SeedSequence(root_seed, spawn_key=(r,)); "
            "inside it: population traits (r, 0, crc32(trait)), model-level streams "
            "(r, 1, crc32(name)), borrower blocks (r, 2, purpose, block), per-borrower "
            "overflow (r, 3, purpose, borrower)"
        ),
        "overrides": dict(overrides or {}),
        "scenarios": [
            {
                "name": s.name,
                "role": "champion" if i == 0 else "challenger",
                "path": None if p is None else str(p),
                "scenario": s.to_dict(),
            }
            for i, (s, p) in enumerate(zip(scenarios, paths, strict=True))
        ],
        "metrics": [m.name for m in METRICS],
    }
    if selection is not None:
        doc["selection"] = {
            "metric": selection.metric,
            "direction": selection.direction,
            "procedure": stats.PROCEDURE,
            "level": selection.level,
            "best": selection.best,
            "candidates": selection.candidates,
            "mcb_intervals": {k: list(v) for k, v in selection.intervals.items()},
            "statement": selection.statement(),
        }
    return jsonable(doc)


def write_results(
    out_dir: Path,
    replications: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    manifest_doc: Mapping[str, Any],
) -> Path:
    """Write ``replications.parquet``, each of ``tables`` as NAME.parquet and NAME.csv, and
    ``manifest.json`` into ``out_dir`` atomically (see :mod:`sim.results.rundir`)."""

    def contents(tmp: Path) -> None:
        rundir.write_parquet(replications, tmp / REPLICATIONS_FILE)
        for name, table in tables.items():
            rundir.write_parquet(table, tmp / f"{name}.parquet")
            table.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        rundir.write_json(dict(manifest_doc), tmp / MANIFEST)

    return rundir.write_atomically(out_dir, contents)


def read_results(out_dir: Path) -> dict[str, Any]:
    """Load a directory written by ``overdue compare`` or ``overdue run --reps``: every
    ``*.parquet`` as a DataFrame by file stem, and ``manifest`` (dict)."""
    import json

    out_dir = Path(out_dir)
    path = out_dir / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{out_dir} has no {MANIFEST}")
    result: dict[str, Any] = {p.stem: pd.read_parquet(p) for p in sorted(out_dir.glob("*.parquet"))}
    result["manifest"] = json.loads(path.read_text(encoding="utf-8"))
    return result
