"""Analysis of a finished (or partly finished) sweep: tables, charts, sensitivity, EMA export.

Reads only the sweep directory (experiments write, analysis reads). :func:`report` returns
the tables as DataFrames; :func:`write_report` also draws the charts and writes everything to
``<sweep>/report/``. ``overdue sweep-report DIR`` is a thin layer over it.

* ``points`` — one row per design point: its parameters and, per metric, the estimate over
  the replications with its 95% confidence interval (:func:`sim.results.stats.ratio_interval`: a
  pooled ratio with a delta-method interval for shares and rates, a t-interval otherwise).
* ``pareto`` — the points no other point beats on recovery and harm at once.
* ``paired`` (with a reference point) — each point minus the reference on paired
  replications (common random numbers), with 95% CIs far narrower than each point's own.
* ``sensitivity`` (Sobol' and Morris designs) — SALib's indices per metric and parameter
  with their bootstrap confidence intervals, plus the share of the variance across points
  that is only replication noise; above :data:`NOISE_WARNING` the indices are flagged as
  unreliable and a warning names the metric.
* ``ema_results.tar.gz`` — experiments x outcomes in the EMA workbench's format
  (:mod:`sim.experiments.ema`), one experiment per unit, for scenario discovery.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.ema import ema_experiments, write_ema
from sim.experiments.staffing import head_count_parameter, marginal_values, turning_points
from sim.experiments.sweep_run import load_sweep_results
from sim.results import metrics as registry
from sim.results import stats
from sim.results.rundir import write_atomically

NOISE_WARNING = 0.1
"""Replication noise share of the across-point variance above which sensitivity indices are
flagged: they would largely measure noise."""
BOOTSTRAP_SEED = 20_260_101
"""Seed of SALib's bootstrap for the index CIs, so a report is reproducible. Not 0: SALib's
Sobol' analysis ignores a falsy seed and then draws from global random state."""
RECOVERY = ("money.recovery_rate", "money.net_recovery", "cure_rate.d30")
HARM = ("harm.complaints_per_1000", "harm.third_party_disclosures", "funnel.emergency_contact")
REPORT_DIR = "report"


@dataclass(frozen=True)
class SweepReport:
    """The tables of a sweep report (see the module docstring)."""

    manifest: dict[str, Any]
    points: pd.DataFrame
    estimates: pd.DataFrame
    pareto: pd.DataFrame
    sensitivity: pd.DataFrame | None
    warnings: tuple[str, ...]
    paired: pd.DataFrame | None = None
    reference: int | None = None
    marginal: pd.DataFrame | None = None
    """Sweeps over head-count: net recovery of one more agent (:mod:`.staffing`)."""

    @property
    def parameters(self) -> list[str]:
        return [p["name"] for p in self.manifest["parameters"]]

    @property
    def metrics(self) -> list[str]:
        return list(self.manifest["metrics"])


# --------------------------------------------------------------------------- tables


def point_estimates(
    points: pd.DataFrame, results: pd.DataFrame, level: float = stats.LEVEL
) -> pd.DataFrame:
    """Tidy estimates: one row per point and metric with n, estimate, half_width, ci_low,
    ci_high, and the point's parameters."""
    rows = []
    for (point, metric), g in results.groupby(["point", "metric"], sort=True):
        est = stats.ratio_interval(g["numerator"], g["denominator"], level)
        rows.append(
            {
                "point": int(point),
                "metric": metric,
                "n": est.n,
                "estimate": est.value,
                "half_width": est.half_width,
                "ci_low": est.low,
                "ci_high": est.high,
            }
        )
    cols = ["point", "metric", "n", "estimate", "half_width", "ci_low", "ci_high"]
    return points.merge(pd.DataFrame(rows, columns=cols), on="point", how="inner")


def wide_points(points: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """One row per point: parameters, then ``<metric>``, ``<metric>.ci_low``,
    ``<metric>.ci_high`` and ``<metric>.n`` for each metric."""
    out = points.copy()
    for metric, g in estimates.groupby("metric", sort=False):
        g = g.set_index("point")
        for col, suffix in (("estimate", ""), ("ci_low", ".ci_low"), ("ci_high", ".ci_high")):
            out[f"{metric}{suffix}"] = out["point"].map(g[col])
        out[f"{metric}.n"] = out["point"].map(g["n"]).astype("Int64")
    return out


def paired_differences(
    results: pd.DataFrame, reference: int, level: float = stats.LEVEL
) -> pd.DataFrame:
    """Every point's paired difference from the ``reference`` point, per metric.

    Replication r of every point uses the same random numbers, so point minus reference is
    estimated on paired replications (:func:`sim.results.stats.paired_difference`: the paired
    t-interval, by the delta method for ratios); the interval is much narrower than either
    point's own. Columns: point, metric, n (pairs), diff, diff_low, diff_high, significant
    (the CI excludes 0). Not adjusted for the number of points compared.
    """
    if reference not in set(results["point"]):
        raise ValueError(f"reference: point {reference} has no results")
    rows = []
    for metric, g in results.groupby("metric", sort=False):
        wide = g.pivot(index="replication", columns="point", values=["numerator", "denominator"])
        ref = (wide[("numerator", reference)], wide[("denominator", reference)])
        for point in wide["numerator"].columns:
            if point == reference:
                continue
            est = stats.paired_difference(
                *ref, wide[("numerator", point)], wide[("denominator", point)], level=level
            )
            rows.append(
                {
                    "point": int(point),
                    "metric": metric,
                    "n": est.n,
                    "diff": est.value,
                    "diff_low": est.low,
                    "diff_high": est.high,
                    "significant": est.significant,
                }
            )
    return pd.DataFrame(rows)


def _with_differences(wide: pd.DataFrame, paired: pd.DataFrame) -> pd.DataFrame:
    """``wide`` plus ``<metric>.diff``, ``.diff_low`` and ``.diff_high`` per metric (NaN on the
    reference row)."""
    out = wide.copy()
    for metric, g in paired.groupby("metric", sort=False):
        g = g.set_index("point")
        for col in ("diff", "diff_low", "diff_high"):
            out[f"{metric}.{col}"] = out["point"].map(g[col])
    return out


def _better(metric: str) -> str:
    better = registry.better(metric)
    return better or "max"


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Which rows of ``values`` (points x objectives) are Pareto-optimal.

    ``directions`` gives ``"max"`` or ``"min"`` per objective. A row is dominated if another
    row is at least as good on every objective and strictly better on one. Rows with NaN are
    never optimal.
    """
    v = np.asarray(values, dtype=float).copy()
    for j, d in enumerate(directions):
        if d == "min":
            v[:, j] = -v[:, j]
    ok = ~np.isnan(v).any(axis=1)
    mask = np.zeros(len(v), dtype=bool)
    for i in np.flatnonzero(ok):
        others = v[ok]
        dominated = ((others >= v[i]).all(axis=1) & (others > v[i]).any(axis=1)).any()
        mask[i] = not dominated
    return mask


def pareto_table(wide: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Pareto front of recovery against harm over the points (the metrics the sweep has)."""
    recovery = [m for m in RECOVERY if m in metrics][:1]
    harm = [m for m in HARM if m in metrics]
    objectives = recovery + harm
    if not recovery or not harm:
        return wide.iloc[0:0]
    mask = pareto_mask(wide[objectives].to_numpy(), [_better(m) for m in objectives])
    front = wide[mask].copy()
    return front.sort_values(recovery[0], ascending=False).reset_index(drop=True)


def noise_share(results: pd.DataFrame, metric: str) -> float:
    """Share of the variance of the point means across points that is replication noise.

    Replication r of every point uses the same random numbers (common random numbers), so
    a replication's noise has a part common to all points, which shifts every point mean
    alike and does not blur their differences, and a part of its own. A two-way fit,
    value = point effect + replication effect + residual, isolates the latter: its variance
    (residual mean square) over the number of replications, divided by the variance of the
    point means. Without common random numbers the replication effect is about zero and
    this is the plain within-point variance over replications.
    """
    sub = results[results["metric"] == metric]
    wide = sub.pivot(index="point", columns="replication", values="value").astype(float)
    wide = wide.dropna()
    n_points, reps = wide.shape
    if n_points < 2 or reps < 2:
        return float("nan")
    y = wide.to_numpy()
    resid = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + y.mean()
    noise = float((resid**2).sum() / ((n_points - 1) * (reps - 1))) / reps
    total = float(y.mean(axis=1).var(ddof=1))
    return noise / total if total > 0 else float("inf")


def sensitivity(
    manifest: dict[str, Any], points: pd.DataFrame, estimates: pd.DataFrame, results: pd.DataFrame
) -> tuple[pd.DataFrame | None, list[str]]:
    """SALib indices with confidence intervals for a Sobol' or Morris sweep (else None).

    Columns: metric, parameter, index (S1, ST or mu_star, sigma), value, conf (half-width of
    the 95% bootstrap interval), noise_share (of the metric) and reliable.
    """
    design = manifest["design"]
    kind = design["kind"]
    if kind not in ("sobol", "morris"):
        return None, []
    names = [p["name"] for p in manifest["parameters"]]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    u = points[[f"u.{n}" for n in names]].to_numpy()
    rows, notes = [], []
    for metric in manifest["metrics"]:
        y = estimates[estimates["metric"] == metric].set_index("point")["estimate"]
        y = y.reindex(points["point"]).to_numpy(dtype=float)
        if np.isnan(y).any():
            notes.append(f"{metric}: some points have no result; no indices")
            continue
        share = noise_share(results, metric)
        reliable = bool(share <= NOISE_WARNING)
        if not reliable:
            notes.append(
                f"{metric}: replication noise is {share:.0%} of the variance across points "
                f"(above {NOISE_WARNING:.0%}), so its sensitivity indices are unreliable: add "
                "replications or borrowers"
            )
        for param, index, value, conf in _indices(kind, design, problem, u, y):
            rows.append(
                {
                    "metric": metric,
                    "parameter": param,
                    "index": index,
                    "value": value,
                    "conf": conf,
                    "noise_share": share,
                    "reliable": reliable,
                }
            )
    return pd.DataFrame(rows), notes


def _indices(
    kind: str, design: dict[str, Any], problem: dict[str, Any], u: np.ndarray, y: np.ndarray
) -> list[tuple[str, str, float, float]]:
    names = problem["names"]
    out = []
    if kind == "sobol":
        from SALib.analyze import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = sobol.analyze(
                problem, y, calc_second_order=design.get("second_order", False), seed=BOOTSTRAP_SEED
            )
        for index in ("S1", "ST"):
            out += [(n, index, si[index][i], si[f"{index}_conf"][i]) for i, n in enumerate(names)]
        return out
    from SALib.analyze import morris

    si = morris.analyze(problem, u, y, num_levels=design.get("levels", 4), seed=BOOTSTRAP_SEED)
    out += [(n, "mu_star", si["mu_star"][i], si["mu_star_conf"][i]) for i, n in enumerate(names)]
    out += [(n, "sigma", si["sigma"][i], float("nan")) for i, n in enumerate(names)]
    return out


def report(
    sweep_dir: str | Path, level: float = stats.LEVEL, reference: int | None = None
) -> SweepReport:
    """The tables of a sweep report, from the sweep directory.

    With ``reference`` (a point id), every point is also compared with that point on paired
    replications (:func:`paired_differences`), and the points table gains the differences.
    """
    manifest, points, results = load_sweep_results(sweep_dir)
    estimates = point_estimates(points, results, level)
    wide = wide_points(points, estimates)
    metrics = list(manifest["metrics"])
    pareto = pareto_table(wide, metrics)
    sens, notes = sensitivity(manifest, points, estimates, results)
    paired = None
    if reference is not None:
        paired = paired_differences(results, reference, level)
        wide = _with_differences(wide, paired)
    marginal = None
    head = head_count_parameter(manifest)
    if head is not None and len(results):
        marginal = marginal_values(points, results, head, level=level)
    done = results["unit"].nunique() if len(results) else 0
    if done < manifest["units"]:
        notes.insert(0, f"{manifest['units'] - done} of {manifest['units']} units have no result")
    return SweepReport(
        manifest, wide, estimates, pareto, sens, tuple(notes), paired, reference, marginal
    )


# --------------------------------------------------------------------------- writing


Draw = Callable[[SweepReport, Path, Sequence[str]], list[Path]]
"""Draws the charts of a report into a directory in the given formats (the standard set is
:func:`sim.plots.sweep.draw_all`), returning the files written."""


def write_report(
    sweep_dir: str | Path,
    formats: Sequence[str] = ("png",),
    reference: int | None = None,
    draw: Draw | None = None,
) -> Path:
    """Write ``<sweep_dir>/report/``: points.csv/.parquet, estimates.parquet, pareto.csv,
    sensitivity.csv, paired.csv (with ``reference``), marginal.csv and turning_points.csv
    (a sweep over head-count), the charts drawn by ``draw`` (none
    without it; ``overdue sweep-report`` passes :func:`sim.plots.sweep.draw_all`),
    ema_results.tar.gz and manifest.json (with the warnings). Written atomically; an earlier
    report is replaced."""
    sweep_dir = Path(sweep_dir)
    rep = report(sweep_dir, reference=reference)
    _, points, results = load_sweep_results(sweep_dir)

    def contents(tmp: Path) -> None:
        rep.points.to_csv(tmp / "points.csv", index=False)
        rep.points.to_parquet(tmp / "points.parquet", index=False)
        rep.estimates.to_parquet(tmp / "estimates.parquet", index=False)
        rep.pareto.to_csv(tmp / "pareto.csv", index=False)
        if rep.sensitivity is not None:
            rep.sensitivity.to_csv(tmp / "sensitivity.csv", index=False)
        if rep.paired is not None:
            rep.paired.to_csv(tmp / "paired.csv", index=False)
        if rep.marginal is not None and len(rep.marginal):
            rep.marginal.to_csv(tmp / "marginal.csv", index=False)
            turning_points(rep.marginal).to_csv(tmp / "turning_points.csv", index=False)
        if len(results):
            write_ema(tmp / "ema_results.tar.gz", *ema_experiments(rep.manifest, points, results))
        charts = draw(rep, tmp, formats) if draw is not None else []
        doc = {
            "kind": "sweep_report",
            "sweep": rep.manifest["name"],
            "fingerprint": rep.manifest["fingerprint"],
            "reference_point": rep.reference,
            "warnings": list(rep.warnings),
            "charts": [p.name for p in charts],
        }
        (tmp / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    return write_atomically(sweep_dir / REPORT_DIR, contents)
