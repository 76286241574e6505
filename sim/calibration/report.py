"""What a calibration writes: the fitted scenario, the fit table, the trials, and a warning
for every parameter the targets do not pin down.

* ``calibrated.toml`` — only the fitted keys, each with a comment saying it was fitted, to
  which targets, within which bounds, and whether the targets determine it.
* ``fit.csv`` — each target against the fitted scenario's figure and its 95% CI over
  ``final_replications`` replications (common random numbers with the search), the
  standardised miss, and whether it is within tolerance.
* ``trials.csv`` — every scored trial: objective, parameter values, figures.
* ``identifiability.csv`` — per parameter, the range of the *good* trials (objective within
  :data:`GOOD_MARGIN` of the best) as a share of its search range: a parameter whose good
  trials spread over half its range or more is **not determined** by the targets, and the
  fitted value is one of many that fit as well. (A CI says nothing about this: it covers the
  simulation noise of the fitted scenario, not the choice among equally good fits, nor the
  model's own assumptions.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sim.calibration.spec import Calibration, FreeParameter

GOOD_MARGIN = 1.0
"""A trial is *good* when its objective is at most the best + this: about one more target
off by its whole tolerance, on the objective's scale (a mean of squared standardised misses)."""
UNDETERMINED_SPREAD = 0.5
"""Good trials spread over this share of a parameter's range or more: not determined."""
MIN_GOOD = 3


def fit_table(cal: Calibration, estimates: pd.DataFrame) -> pd.DataFrame:
    """Each target against the fitted scenario's estimate (``estimates``: one row per metric,
    from :func:`sim.results.comparison.estimates_table`)."""
    by_metric = estimates.set_index("metric")
    rows = []
    for t in cal.targets:
        e = by_metric.loc[t.metric] if t.metric in by_metric.index else None
        sim = float(e["estimate"]) if e is not None else math.nan
        low = float(e["ci_low"]) if e is not None else math.nan
        high = float(e["ci_high"]) if e is not None else math.nan
        rows.append(
            {
                "target": t.metric,
                "observed": t.value,
                "tolerance": t.tolerance,
                "weight": t.weight,
                "simulated": sim,
                "ci_low": low,
                "ci_high": high,
                "miss": t.miss(sim),
                "within_tolerance": bool(abs(sim - t.value) <= t.tolerance),
                "ci_covers_observed": bool(low <= t.value <= high),
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


def identifiability(cal: Calibration, trials: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: the best value, and the spread of the good trials over its range."""
    best = trials.loc[trials["objective"].idxmin()]
    good = trials[trials["objective"] <= best["objective"] + GOOD_MARGIN]
    rows = []
    for p in cal.parameters:
        values = good[p.key].astype(float)
        spread = (_scaled(p, values.max()) - _scaled(p, values.min())) / (
            _scaled(p, p.hi) - _scaled(p, p.lo)
        )
        enough = len(good) >= MIN_GOOD
        rows.append(
            {
                "parameter": p.key,
                "best": float(best[p.key]),
                "lo": p.lo,
                "hi": p.hi,
                "good_trials": len(good),
                "good_low": float(values.min()),
                "good_high": float(values.max()),
                "spread_share": float(spread),
                "determined": bool(enough and spread < UNDETERMINED_SPREAD),
                "judged": enough,
            }
        )
    return pd.DataFrame(rows)


def _scaled(p: FreeParameter, x: float) -> float:
    return math.log(x) if p.log else x


def warnings(ident: pd.DataFrame) -> list[str]:
    """A sentence for every parameter the targets do not determine."""
    out = []
    for r in ident.itertuples(index=False):
        if not r.judged:
            out.append(
                f"{r.parameter}: only {r.good_trials} good trials; too few to tell whether "
                "the targets determine it (run more trials)"
            )
        elif not r.determined:
            out.append(
                f"{r.parameter} is not determined by the targets: trials that fit about as "
                f"well as the best range from {r.good_low:.4g} to {r.good_high:.4g} "
                f"({100 * r.spread_share:.0f}% of its search range); the fitted "
                f"{r.best:.4g} is one of many equally good values"
            )
    return out


def calibrated_toml(
    cal: Calibration, best: Mapping[str, Any], fit: pd.DataFrame, ident: pd.DataFrame
) -> str:
    """The fitted keys as a scenario overlay, with a comment per key."""
    within = int(fit["within_tolerance"].sum())
    determined = dict(zip(ident["parameter"], ident["determined"], strict=True))
    lines = [
        f"# Calibrated by `overdue calibrate` ({cal.name}): the fitted keys only.",
        f"# Base scenario: {cal.base.name}; apply these keys on top of it (--set KEY=VALUE,",
        "# or copy them into a copy of the base file).",
        f"# Targets within tolerance: {within} of {len(fit)} "
        f"({cal.final_replications} replications of {cal.base.population.borrowers:,} "
        f"borrowers, seed {cal.seed}).",
        "# Fitted to (observed value +- tolerance):",
        *(f"#   {t.metric} = {t.value:g} +- {t.tolerance:g}" for t in cal.targets),
        "",
        f'name = "{cal.name}"',
    ]
    for p in cal.parameters:
        value = best[p.key]
        shown = str(int(value)) if p.integer else repr(float(value))
        note = "determined by the targets" if determined[p.key] else "NOT determined by them"
        lines.append(
            f"{p.key} = {shown}  # fitted to the targets above within [{p.lo:g}, {p.hi:g}]; {note}"
        )
    return "\n".join(lines) + "\n"


def format_fit(fit: pd.DataFrame) -> str:
    """The fit table as text for the terminal."""
    out = [f"{'target':38s} {'observed':>9s} {'simulated':>9s} {'95% CI':>19s} {'tol':>7s}  fit"]
    for r in fit.itertuples(index=False):
        ci = f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
        ok = "ok" if r.within_tolerance else "OUT"
        out.append(
            f"{r.target:38s} {r.observed:9.4g} {r.simulated:9.4g} {ci:>19s} {r.tolerance:7.3g}"
            f"  {ok}"
        )
    return "\n".join(out)


def trials_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).sort_values("trial").reset_index(drop=True)
