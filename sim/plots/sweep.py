"""Charts of a sweep report (matplotlib only): metric against a parameter with confidence
bands, two-parameter heatmaps, the Pareto front of recovery against harm, sensitivity
indices with their confidence intervals, and the staffing answer of a head-count sweep.

Every function takes a :class:`sim.experiments.sweep_report.SweepReport` (or its tables)
and an optional ``ax``, and returns the figure. :func:`draw_all` writes the standard set to a
directory. Figures are built with :class:`matplotlib.figure.Figure`, not pyplot, so nothing here
touches a notebook's current figure or needs a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.experiments.staffing import head_count_parameter, turning_points
from sim.experiments.sweep_report import HARM, RECOVERY, SweepReport
from sim.plots.draw import figure_axes
from sim.plots.style import (
    EMPHASIS,
    axis_label,
    format_value,
    metric_label,
    metric_unit,
    policy_colours,
    styled,
    unit_axis,
    unit_text,
)


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    return figure_axes(ax, (7.0, 4.5))


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series)


@styled
def metric_vs_parameter(
    rep: SweepReport, metric: str, parameter: str, ax: Axes | None = None
) -> Figure:
    """``metric`` against ``parameter``: the estimate of each point with its 95% CI.

    On a grid the points that share the other parameters' levels are joined by a line with
    a CI band, one line per combination (at most eight, else points only); other designs
    show one marker with an error bar per point.
    """
    fig, ax = _axes(ax)
    pts = rep.points
    others = [p for p in rep.parameters if p != parameter]
    grid = rep.manifest["design"]["kind"] == "grid"
    x_num = _numeric(pts[parameter])
    groups = list(pts.groupby(others, sort=False)) if others else [((), pts)]
    if grid and len(groups) <= 8:
        colours = policy_colours([_key(k) for k, _ in groups])
        for key, g in groups:
            name = _key(key)
            x = g[parameter] if x_num else np.arange(len(g))
            colour = colours[name]
            ax.plot(x, g[metric], marker="o", color=colour, label=name or None)
            ax.fill_between(x, g[f"{metric}.ci_low"], g[f"{metric}.ci_high"], color=colour,
                            alpha=0.18, linewidth=0)  # fmt: skip
        if not x_num:
            ax.set_xticks(np.arange(len(groups[0][1])), groups[0][1][parameter].astype(str))
        if others:
            ax.legend(title=", ".join(others), fontsize="small")
    else:
        x = pts[parameter].to_numpy(dtype=float) if x_num else _jittered(ax, pts[parameter])
        ax.errorbar(x, pts[metric], yerr=_span(pts, metric), fmt="o", markersize=3, alpha=0.6,
                    elinewidth=0.8)  # fmt: skip
    ax.set_xlabel(parameter)
    ax.set_ylabel(axis_label(metric))
    unit_axis(ax.yaxis, metric_unit(metric))
    reps = int(pts[f"{metric}.n"].max()) if len(pts) else 0
    ax.set_title(
        f"{metric_label(metric)} by {parameter}\nmean and 95% CI over {reps} replications per point"
    )
    return fig


def _jittered(ax: Axes, levels: pd.Series) -> np.ndarray:
    """x positions for a categorical parameter: one slot per level (ticks labelled), the
    points of a level spread evenly across its slot so their error bars do not overlap."""
    names = list(dict.fromkeys(levels.astype(str)))
    slot = levels.astype(str).map({n: i for i, n in enumerate(names)}).to_numpy(dtype=float)
    rank = levels.astype(str).groupby(levels.astype(str)).cumcount().to_numpy(dtype=float)
    size = levels.astype(str).map(levels.astype(str).value_counts()).to_numpy(dtype=float)
    ax.set_xticks(np.arange(len(names)), names)
    return slot + 0.6 * ((rank + 0.5) / size - 0.5)


def _span(table: pd.DataFrame, metric: str) -> np.ndarray:
    """Error-bar lengths below and above each estimate, from its CI columns."""
    value = table[metric].to_numpy(dtype=float)
    low = table[f"{metric}.ci_low"].to_numpy(dtype=float)
    high = table[f"{metric}.ci_high"].to_numpy(dtype=float)
    return np.nan_to_num(np.vstack([value - low, high - value]))


def _key(key: object) -> str:
    if isinstance(key, tuple):
        return ", ".join(str(k) for k in key)
    return str(key)


@styled
def heatmap(rep: SweepReport, metric: str, x: str, y: str, ax: Axes | None = None) -> Figure:
    """Mean of ``metric`` over the grid of two parameters, each cell annotated."""
    fig, ax = _axes(ax)
    table = rep.points.pivot_table(index=y, columns=x, values=metric, aggfunc="mean", sort=False)
    data = table.to_numpy(dtype=float)
    im = ax.imshow(data, aspect="auto", cmap="viridis", origin="lower")
    ax.grid(False)
    ax.set_xticks(np.arange(data.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(np.arange(data.shape[0]), [str(i) for i in table.index])
    lo, hi = np.nanmin(data), np.nanmax(data)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            v = data[i, j]
            light = hi > lo and (v - lo) / (hi - lo) < 0.5
            ax.text(j, i, format_value(v, metric_unit(metric)), ha="center", va="center",
                    fontsize="small",
                    color="white" if light else "black")  # fmt: skip
    bar = fig.colorbar(im, ax=ax, label=axis_label(metric))
    unit_axis(bar.ax.yaxis, metric_unit(metric))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{metric_label(metric)}: {y} x {x} (mean)")
    return fig


@styled
def pareto(rep: SweepReport, recovery: str, harm: str, ax: Axes | None = None) -> Figure:
    """Every point's recovery against harm with 95% CI bars; the Pareto front (points no other
    beats on both, counting every harm metric of the sweep) is highlighted and labelled."""
    fig, ax = _axes(ax)
    pts = rep.points
    front = set(rep.pareto["point"])
    on = pts["point"].isin(front).to_numpy()
    for mask, colour, label in ((~on, "0.6", "dominated"), (on, EMPHASIS, "Pareto front")):
        sub = pts[mask]
        ax.errorbar(
            sub[recovery],
            sub[harm],
            xerr=_span(sub, recovery),
            yerr=_span(sub, harm),
            fmt="o",
            markersize=4,
            elinewidth=0.8,
            color=colour,
            label=label,
        )
    if on.any():
        for _, row in pts[on].iterrows():
            # Parameter values when they are few; else the point number (see points.csv).
            few = len(rep.parameters) <= 2
            text = ", ".join(str(row[p]) for p in rep.parameters) if few else f"point {row.point}"
            ax.annotate(text, (row[recovery], row[harm]), fontsize="x-small",
                        xytext=(4, 4), textcoords="offset points")  # fmt: skip
    ax.set_xlabel(axis_label(recovery))
    ax.set_ylabel(axis_label(harm))
    unit_axis(ax.xaxis, metric_unit(recovery))
    unit_axis(ax.yaxis, metric_unit(harm))
    ax.set_title("Recovery against harm across the sweep (95% CIs)")
    ax.legend(fontsize="small")
    return fig


@styled
def sensitivity_bars(rep: SweepReport, metric: str, ax: Axes | None = None) -> Figure:
    """Sensitivity indices of ``metric`` per parameter with 95% bootstrap CIs (Sobol': first
    order S1 and total ST; Morris: mu*), hatched when replication noise makes them unreliable."""
    fig, ax = _axes(ax)
    sens = rep.sensitivity
    assert sens is not None
    sub = sens[sens["metric"] == metric]
    indices = [i for i in ("S1", "ST", "mu_star") if i in set(sub["index"])]
    params = list(dict.fromkeys(sub["parameter"]))
    width = 0.8 / max(1, len(indices))
    colours = policy_colours(indices)
    reliable = bool(sub["reliable"].all()) if len(sub) else True
    for k, index in enumerate(indices):
        rows = sub[sub["index"] == index].set_index("parameter").reindex(params)
        x = np.arange(len(params)) + (k - (len(indices) - 1) / 2) * width
        ax.bar(x, rows["value"], width, yerr=rows["conf"], capsize=3, label=index,
               color=colours[index], hatch=None if reliable else "//")  # fmt: skip
    ax.set_xticks(np.arange(len(params)), params, rotation=20, ha="right")
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_ylabel(
        "Sobol' index (share of variance)"
        if "S1" in indices
        else f"mu* ({unit_text(metric_unit(metric))})"
    )
    note = "" if reliable else " — unreliable: replication noise"
    ax.set_title(f"Sensitivity of {metric_label(metric)}{note}\nerror bars: 95% bootstrap CI")
    ax.legend(fontsize="small")
    return fig


STAFFING_PANELS = (
    "money.recovery_rate",
    "money.net_recovery",
    "money.cost_total",
    "harm.complaints_per_1000",
    "agents.abandonment_rate",
)
"""What the staffing chart shows against head-count (those the sweep kept), then the
marginal net recovery of one more agent."""


@styled
def staffing(rep: SweepReport) -> Figure:
    """The staffing answer of a sweep over head-count: each kept metric of
    :data:`STAFFING_PANELS` against head-count (one line per combination of the other
    parameters, 95% CI bands), and the marginal net recovery of one more agent between
    consecutive head-counts (paired over replications, 95% CI), with the head-count where it
    first turns negative marked."""
    head = head_count_parameter(rep.manifest)
    if head is None:
        raise ValueError("staffing: the sweep has no head-count parameter")
    panels = [m for m in STAFFING_PANELS if m in rep.metrics]
    fig = Figure(figsize=(11.0, 6.8), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    pts = rep.points
    others = [p for p in rep.parameters if p != head]
    groups = list(pts.groupby(others, sort=False)) if others else [((), pts)]
    colours = policy_colours([_key(k) for k, _ in groups])
    for ax, metric in zip(axes, panels, strict=False):
        for key, g in groups:
            g = g.sort_values(head)
            colour = colours[_key(key)]
            ax.plot(g[head], g[metric], marker="o", markersize=3, color=colour,
                    label=_key(key) or None)  # fmt: skip
            ax.fill_between(g[head], g[f"{metric}.ci_low"], g[f"{metric}.ci_high"],
                            color=colour, alpha=0.18, linewidth=0)  # fmt: skip
        ax.set_title(metric_label(metric), fontsize="medium")
        ax.set_ylabel(unit_text(metric_unit(metric)))
        unit_axis(ax.yaxis, metric_unit(metric))
    for ax in axes[len(panels) : -1]:
        ax.set_visible(False)
    ax = axes[-1]
    marginal = rep.marginal if rep.marginal is not None else pd.DataFrame()
    turning = turning_points(marginal)
    for key, g in marginal.groupby(others, sort=False) if others else [((), marginal)]:
        if g.empty:
            continue
        colour = colours[_key(key)]
        mid = (g["from"].astype(float) + g["to"].astype(float)) / 2
        err = [g["per_unit"] - g["low"], g["high"] - g["per_unit"]]
        ax.errorbar(mid, g["per_unit"], yerr=err, fmt="o-", color=colour, markersize=3,
                    capsize=2, label=_key(key) or None)  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.8)
    for _, row in turning.iterrows():
        if np.isfinite(row["negative_from"]):
            key = tuple(row[o] for o in others)
            ax.axvline(row["negative_from"], color=colours[_key(key)], linestyle=":", linewidth=1)
    ax.set_title("Net recovery of one more agent", fontsize="medium")
    ax.set_ylabel("yuan per added agent")
    unit_axis(ax.yaxis, "yuan")
    for a in axes:
        if a.get_visible():
            a.set_xlabel(head)
    if others:
        axes[0].legend(title=", ".join(others), fontsize="small")
    reps = int(pts[f"{panels[0]}.n"].max()) if panels and len(pts) else 0
    fig.suptitle(
        f"Staffing: results against {head}\nmean and 95% CI over {reps} replications; "
        "dotted line: where one more agent first loses money"
    )
    return fig


def draw_all(rep: SweepReport, out_dir: Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Draw the standard charts of a report into ``out_dir``; return the files written."""
    written: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        for fmt in formats:
            path = out_dir / f"{name}.{fmt}"
            fig.savefig(path, dpi=120, metadata={"Date": None} if fmt == "svg" else None)
            written.append(path)

    if rep.points.empty:
        return written
    params = rep.parameters
    for metric in rep.metrics:
        for param in params:
            save(metric_vs_parameter(rep, metric, param), f"{_slug(metric)}_by_{_slug(param)}")
        if rep.manifest["design"]["kind"] == "grid" and len(params) == 2:
            save(heatmap(rep, metric, params[1], params[0]), f"heatmap_{_slug(metric)}")
        if rep.sensitivity is not None and (rep.sensitivity["metric"] == metric).any():
            save(sensitivity_bars(rep, metric), f"sensitivity_{_slug(metric)}")
    if head_count_parameter(rep.manifest) is not None and "money.net_recovery" in rep.metrics:
        save(staffing(rep), "staffing")
    recovery = [m for m in RECOVERY if m in rep.metrics][:1]
    for harm in (m for m in HARM if m in rep.metrics):
        if recovery:
            save(pareto(rep, recovery[0], harm), f"pareto_{_slug(harm)}")
    return written


def _slug(name: str) -> str:
    return name.replace(".", "_")
