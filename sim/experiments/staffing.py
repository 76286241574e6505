"""The staffing answer of a sweep over head-count: what one more agent is worth.

A sweep that varies ``agents.head_count`` (or ``agents.per_10k_borrowers``) answers "how
many agents do we need?" through the *marginal* value of an agent: between two consecutive
head-counts, the paired difference of a metric (net recovery by default) divided by the
agents added. Replication r of every point uses the same random numbers, so the difference
is estimated pair by pair (:func:`sim.results.stats.paired_difference`) and its interval is
far narrower than either point's own. Where the marginal net recovery turns negative, one
more agent costs more than they bring in.

Analysis only: it reads a sweep's results (:func:`sim.experiments.sweep_run.load_sweep_results`)
and writes nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.results import stats

HEAD_COUNT_KEYS = ("agents.head_count", "agents.per_10k_borrowers")
"""Scenario keys that set the team's size."""


def head_count_parameter(manifest: dict[str, Any]) -> str | None:
    """The name of the sweep parameter that sets the head-count, if any."""
    for p in manifest["parameters"]:
        if p.get("key") in HEAD_COUNT_KEYS:
            return str(p["name"])
    return None


def marginal_values(
    points: pd.DataFrame,
    results: pd.DataFrame,
    parameter: str,
    metric: str = "money.net_recovery",
    level: float = stats.LEVEL,
) -> pd.DataFrame:
    """One row per step between consecutive levels of ``parameter`` within each combination
    of the other parameters: the other parameters, ``from``, ``to``, ``per_unit`` (the
    paired difference of ``metric`` divided by ``to - from``), ``low``, ``high`` (its CI),
    ``n`` (pairs) and ``metric``. Empty if the metric was not kept."""
    others = [c for c in points.columns if c not in ("point", parameter) and not c.startswith("u.")]
    res = results[results["metric"] == metric]
    rows: list[dict[str, Any]] = []
    if res.empty:
        return pd.DataFrame(rows)
    groups = points.groupby(others, sort=False) if others else [((), points)]
    for key, g in groups:
        g = g.sort_values(parameter)
        key = key if isinstance(key, tuple) else (key,)
        wide = res[res["point"].isin(g["point"])].pivot(
            index="replication", columns="point", values=["numerator", "denominator"]
        )
        levels = list(zip(g[parameter].tolist(), g["point"].tolist(), strict=True))
        for (lo, p_lo), (hi, p_hi) in zip(levels, levels[1:], strict=False):
            if p_lo not in wide["numerator"] or p_hi not in wide["numerator"] or hi == lo:
                continue
            est = stats.paired_difference(
                wide[("numerator", p_lo)], wide[("denominator", p_lo)],
                wide[("numerator", p_hi)], wide[("denominator", p_hi)], level=level,
            )  # fmt: skip
            step = float(hi) - float(lo)
            rows.append(
                {
                    **dict(zip(others, key, strict=True)),
                    "from": lo,
                    "to": hi,
                    "metric": metric,
                    "n": est.n,
                    "per_unit": est.value / step,
                    "low": est.low / step,
                    "high": est.high / step,
                }
            )
    return pd.DataFrame(rows)


def turning_points(marginal: pd.DataFrame) -> pd.DataFrame:
    """Per combination of the other parameters, the first head-count from which one more
    agent loses money: the ``from`` of the first step whose marginal value is below zero
    (``negative_from``; NaN if none), and whether that step's CI excludes zero."""
    if marginal.empty:
        return marginal
    others = [c for c in marginal.columns
              if c not in ("from", "to", "metric", "n", "per_unit", "low", "high")]  # fmt: skip
    rows = []
    groups = marginal.groupby(others, sort=False) if others else [((), marginal)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        neg = g[g["per_unit"] < 0]
        first = neg.iloc[0] if len(neg) else None
        rows.append(
            {
                **dict(zip(others, key, strict=True)),
                "negative_from": np.nan if first is None else first["from"],
                "significant": bool(first is not None and first["high"] < 0),
            }
        )
    return pd.DataFrame(rows)
