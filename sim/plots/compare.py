"""Charts of a comparison of policies (replications with common random numbers): each
policy's estimate of a metric with its CI, and the forest plot of paired differences from
the champion."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.plots.draw import (
    bars,
    ci_note,
    error_bars,
    figure_axes,
    table_estimates,
)
from sim.plots.style import (
    metric_label,
    policy_colours,
    styled,
    unit_axis,
    unit_text,
)

FOREST_METRICS: tuple[str, ...] = (
    "funnel.emergency_contact",
    "harm.third_party_contacts",
    "cure_rate.d30",
    "recovery_by_month.3",
    "money.recovery_rate",
    "money.net_recovery",
    "money.cost_total",
    "harm.complaints_per_1000",
)
"""Metrics of :func:`forest` by default."""


@styled
def policy_bars(table: pd.DataFrame, metric: str, ax: Axes | None = None) -> Figure:
    """Each policy's estimate of ``metric`` with its CI across replications, side by side;
    a challenger whose paired difference from the champion is significant is starred."""
    sub = table[table["metric"] == metric] if "metric" in table else table.iloc[:0]
    if sub.empty:
        raise ValueError(f"metric: {metric!r} is not in the table")
    est = table_estimates(sub, metric)
    policies = list(est["policy"])
    est["key"], est["policy"] = policies, "all"
    sig = sub["significant"].fillna(False).astype(bool) if "significant" in sub else None
    labels = policies if sig is None else [
        f"{p} *" if s else p for p, s in zip(policies, sig, strict=True)
    ]  # fmt: skip
    unit = str(sub["unit"].iloc[0]) if "unit" in sub else ""
    fig, ax = figure_axes(ax)
    bars(ax, est, policies, labels, unit, horizontal=False, key_colours=policy_colours(policies))
    star = "; * differs from the champion" if sig is not None else ""
    ax.set_title(f"{metric_label(metric)}\n({ci_note(sub)}{star})")
    ax.set_xlabel("Policy (scenario)")
    ax.set_ylabel(f"{metric_label(metric)} ({unit_text(unit)})")
    return fig


def _forest_panel(
    ax: Axes, rows: pd.DataFrame, metric: str, relative: bool, colours: Mapping[str, str]
) -> None:
    """One metric's challengers: point and CI of the paired difference, filled and starred
    when the CI excludes 0."""
    pre = "rel_diff" if relative else "diff"
    value, low, high = (rows[c].to_numpy(dtype=float) for c in (pre, f"{pre}_low", f"{pre}_high"))
    labels = []
    for i, name in enumerate(rows["scenario"]):
        significant = bool(low[i] > 0 or high[i] < 0)
        colour = colours[name]
        err = error_bars(value[i : i + 1], low[i : i + 1], high[i : i + 1])
        ax.errorbar(value[i], i, xerr=err, fmt="o", color=colour, markersize=6, capsize=3,
                    markerfacecolor=colour if significant else "white",
                    markeredgecolor=colour)  # fmt: skip
        labels.append(f"{name} *" if significant else name)
    ax.axvline(0.0, color="black", linestyle="--", linewidth=0.8)
    lo = np.nanmin([0.0, *low]) if low.size else 0.0
    hi = np.nanmax([0.0, *high]) if high.size else 0.0
    pad = 0.1 * (hi - lo) or 1e-9
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    unit = "share" if relative else str(rows["unit"].iloc[0])
    unit_axis(ax.xaxis, unit, diff=not relative)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.set_title(metric_label(metric), loc="left", fontsize=9.5)
    what = "Relative difference (%)" if relative else f"Difference ({unit_text(unit, diff=True)})"
    ax.set_xlabel(what)


@styled
def forest(
    table: pd.DataFrame, metrics: Sequence[str] | None = None, relative: bool = False
) -> Figure:
    """Forest plot of the paired differences challenger - champion with their CIs, one panel
    per metric (its own unit); a difference whose CI excludes 0 has a filled marker and a
    ``*`` after the policy name.

    ``table``: :func:`sim.experiments.replications.comparison_table`. ``metrics``: default
    :data:`FOREST_METRICS` (those in the table). ``relative``: challenger / champion - 1 (%)
    instead of the difference in the metric's unit.
    """
    if "diff" not in table:
        raise ValueError("table: has no paired differences; pass a comparison table")
    names = list(dict.fromkeys(table["metric"]))
    if metrics is None:
        chosen = [m for m in FOREST_METRICS if m in names]
    else:
        unknown = [m for m in metrics if m not in names]
        if unknown:
            raise ValueError(f"metrics: not in the table: {', '.join(map(str, unknown))}")
        chosen = list(metrics)
    if not chosen:
        raise ValueError("metrics: none of the metrics to draw is in the table")
    challengers = table[table["role"] == "challenger"]
    colours = policy_colours(list(dict.fromkeys(table["scenario"])))
    k = challengers["scenario"].nunique()
    ncols = 1 if len(chosen) <= 3 else 2
    nrows = math.ceil(len(chosen) / ncols)
    size = (6.4 if ncols == 1 else 8.0, 0.8 + nrows * (0.35 * k + 1.1))
    fig = Figure(figsize=size, layout="constrained")
    panels = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for i, (ax, metric) in enumerate(zip(panels, chosen, strict=False)):
        rows = challengers[challengers["metric"] == metric]
        _forest_panel(ax, rows, metric, relative, colours)
        if i % ncols == 0:
            ax.set_ylabel("Challenger (policy)")
    for ax in panels[len(chosen) :]:
        ax.set_visible(False)
    champion = table.loc[table["role"] == "champion", "scenario"]
    versus = champion.iloc[0] if len(champion) else "the champion"
    kind = "Relative differences" if relative else "Paired differences"
    fig.suptitle(f"{kind} vs {versus} ({ci_note(table)}; * CI excludes 0)")
    return fig


__all__ = [
    "FOREST_METRICS",
    "forest",
    "policy_bars",
]
