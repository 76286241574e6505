"""Tables and text of replications and comparisons, and their directories on disk.

Reads only what replications produced (the tidy table, :data:`COLUMNS`): estimates with
confidence intervals per scenario and metric, paired differences from the champion, the
selection of the best policy, the text report, and the directories ``overdue compare`` and
``overdue run --reps`` write. Nothing here simulates (:mod:`sim.experiments.replications`
runs them).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results import metrics, rundir, stats
from sim.results.metrics import check as check_metric
from sim.results.rundir import MANIFEST

DEFAULT_BEST_ON = "money.net_recovery"
"""The metric on which the best policy is selected unless told otherwise."""

COLUMNS = ("scenario", "replication", "metric", "value", "numerator", "denominator")
"""Columns of the tidy replications table."""


REPLICATIONS_FILE = "replications.parquet"


def _unit(metric: str) -> str:
    return metrics.unit(metric)


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
    metric's (:mod:`sim.results.metrics`)."""
    direction = check_metric(metric, direction)
    wide = _wide(replications, metric)
    data = {
        name: (wide[("numerator", name)], wide[("denominator", name)])
        for name in _scenario_names(replications)
    }
    return stats.select_best(data, metric, direction, level)


WIDTH = 100
"""Width of the text report's notes (the table is as wide as its content)."""


_FORMATS: dict[str, tuple[str, float]] = {
    "share": ("{:.2f}", 100.0),
    "days": ("{:.2f}", 1.0),
    "yuan": ("{:,.0f}", 1.0),
    "count": ("{:,.1f}", 1.0),
    "per_1000": ("{:.1f}", 1.0),
    "seconds": ("{:.2f}", 1.0),
}


_UNIT_SUFFIX = {"yuan": " yuan", "days": " d", "seconds": " s", "per_1000": " /1,000"}


def _plus_minus(value: float, half_width: float, unit: str, diff: bool = False) -> str:
    """``17.83% ± 0.21%``, ``2,322,659 ± 90,643 yuan``; a difference is signed and shares
    are in points (``pp``)."""
    if math.isnan(value):
        return "n/a"
    spec, scale = _FORMATS.get(unit, ("{:.4g}", 1.0))
    signed = spec.replace("{:", "{:+") if diff else spec
    number = signed.format(value * scale)
    if unit == "share":
        suffix = "%" if not diff else " pp"
        if math.isnan(half_width):
            return number + suffix
        return f"{number}{suffix} ± {spec.format(half_width * scale)}{suffix}"
    suffix = _UNIT_SUFFIX.get(unit, "")  # once, after the interval
    if math.isnan(half_width):
        return number + suffix
    return f"{number} ± {spec.format(half_width * scale)}{suffix}"


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


def format_table(
    table: pd.DataFrame,
    title: str,
    selection: stats.Selection | None = None,
    full: bool = True,
    first: str | None = None,
) -> str:
    """A comparison or estimates table as text: one line per metric and policy with the
    estimate ± CI half-width (with its unit) and, for challengers, the paired difference ±
    half-width, a ``*`` when significant, and the relative difference. Metrics not defined
    for any policy are left out. ``full=False`` shows only the figures a decision needs
    (:data:`sim.results.metrics.DECISION`, and ``first``, the metric the best policy is
    chosen on), by label, and says how many more there are; the full table names every
    metric as the CSV files do.

    With one replication there is no CI: the table says so rather than leave the column
    blank."""
    shown = list(dict.fromkeys(table["metric"]))
    hidden = 0
    if not full:
        wanted = list(dict.fromkeys([*([first] if first else []), *metrics.DECISION]))
        kept = [m for m in wanted if m in shown]
        hidden = len(shown) - len(kept)
        table = table[table["metric"].isin(kept)]
        table = table.assign(_o=table["metric"].map({m: i for i, m in enumerate(kept)}))
        table = table.sort_values("_o", kind="stable").drop(columns="_o")
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
                (str(metric) if full else metrics.label(str(metric))) if i == 0 else "",
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
    if hidden:
        lines += ["", f"{hidden} more metrics: add --full, or read the CSV in the output directory"]
    if table["n"].max() < 2:
        lines += [
            "",
            textwrap.fill(
                "One replication: no confidence intervals or significance can be computed "
                "(use --reps 2 or more; 30 is the default for compare).",
                WIDTH,
            ),
        ]
    if compared:
        note = (
            "* the paired difference's 95% CI excludes 0 (each comparison on its own: among "
            "many metrics a few stars are expected by chance)"
        )
        lines += ["", textwrap.fill(note, WIDTH)]
    if selection is not None:
        lines += ["", textwrap.fill(selection.statement(), WIDTH)]
    return "\n".join(lines) + "\n"


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
