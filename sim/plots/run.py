"""Charts of one run (a run directory loaded with :func:`sim.results.rundir.read_run`: a dict
of ``outcomes``, ``daily``, ``monthly`` and ``summary``), some of which also take the
estimates table of several policies. Nothing here simulates.

Chart functions take that data (and, for one-panel charts, an optional ``ax`` to draw into)
and return the :class:`~matplotlib.figure.Figure`. The estimators behind them (Wilson
interval, cumulative emergency-contact curve, Kaplan-Meier, recovery and roll-rate tables)
are in :mod:`sim.results.estimators`.

Figures are :class:`matplotlib.figure.Figure` objects, never pyplot ones: nothing here picks
a backend, opens a window or needs closing (a figure is freed with its last reference), and
in a notebook with the inline backend a returned Figure displays itself. The look is
:mod:`sim.plots.style`'s. Units: time in days, money in yuan, shares as fractions (axes show
them as %). Intervals are 95%.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.plots.draw import (
    Run,
    as_runs,
    bars,
    bucket_name,
    ci_note,
    curve,
    figure_axes,
    label_bars,
    no_data,
    run_horizon,
    run_name,
    run_summary,
    table_estimates,
)
from sim.plots.style import (
    BUCKET_COLOURS,
    EMPHASIS,
    OKABE_ITO,
    format_value,
    policy_colours,
    stage_colours,
    stage_label,
    styled,
    unit_axis,
)
from sim.results.estimators import (
    LEVEL,
    cure_times,
    emergency_contact_curve,
    kaplan_meier,
    recovery_table,
    roll_rate_matrix,
    wilson_interval,
)
from sim.results.summary import BUCKET_COLUMNS, bucket_label

TEN_PERCENT = 0.10
"""Seed fact: under 10% of the balance is recovered after 3 months past due."""
GRID_POINTS = 721
"""Points at which a Kaplan-Meier step curve is drawn (keeps SVG files small)."""


# --------------------------------------------------------------------------- charts


@styled
def funnel(data: Run | pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Share of borrowers reaching each ladder stage, in escalation order.

    ``data``: a run (or its summary): shares ``funnel_counts / borrowers`` with 95% Wilson
    intervals; or an estimates / comparison table: each policy's ``funnel.<stage>`` estimate
    with its CI across replications, bars grouped by stage.
    """
    if isinstance(data, pd.DataFrame):
        est, note = table_estimates(data, "funnel."), ci_note(data)
    else:
        s = run_summary(data)
        counts = np.array(list(s["funnel_counts"].values()), dtype=float)
        low, high = wilson_interval(counts, s["borrowers"])
        est = pd.DataFrame(
            {
                "policy": run_name(s),
                "key": list(s["funnel_counts"]),
                "estimate": counts / s["borrowers"],
                "low": low,
                "high": high,
            }
        )
        note = f"{LEVEL:.0%} Wilson intervals, {s['borrowers']:,} borrowers"
    several = est["policy"].nunique() > 1
    fig, ax = figure_axes(ax, (6.4, 6.4) if several else None)
    stages = list(dict.fromkeys(est["key"]))
    labels = [stage_label(k) for k in stages]
    bars(ax, est, stages, labels, "share", horizontal=True, key_colours=stage_colours(stages))
    ax.set_title(f"Borrowers reaching each stage of the ladder\n({note})")
    ax.set_xlabel("Borrowers who reached the stage (% of borrowers)")
    ax.set_ylabel("Stage (escalation order)")
    return fig


@styled
def emergency_contact_by_dpd(runs: Run | Sequence[Run], ax: Axes | None = None) -> Figure:
    """Cumulative share of borrowers who have reached the emergency-contact stage by day past
    due (:func:`emergency_contact_curve`), with a pointwise 95% Wilson band.

    ``runs``: one run, or a list of runs (one curve each, e.g. one per policy). The band is
    the within-run binomial uncertainty; it does not include replication-to-replication
    variation (for that, compare the ``funnel.emergency_contact`` estimates of
    :func:`policy_bars`).
    """
    items = as_runs(runs)
    colours = policy_colours([name for name, _ in items])
    fig, ax = figure_axes(ax)
    for name, run in items:
        horizon = run_horizon(run)
        c = emergency_contact_curve(run["outcomes"], horizon)
        colour = EMPHASIS if len(items) == 1 else colours[name]
        last = c["share"].iloc[-1]
        label = f"{name}: {last:.1%} by day {horizon:g}"
        curve(ax, c["dpd"].to_numpy(), c["share"].to_numpy(), c["low"].to_numpy(),
               c["high"].to_numpy(), colour, label)  # fmt: skip
    ax.set_xlim(0, max(run_horizon(r) for _, r in items))
    ax.set_ylim(bottom=0)
    unit_axis(ax.yaxis, "share")
    ax.legend(loc="lower right", title=f"{LEVEL:.0%} Wilson band")
    ax.set_title("Emergency-contact stage reached, by days past due")
    ax.set_xlabel("Days past due (days)")
    ax.set_ylabel("Reached emergency contact (% of borrowers)")
    return fig


@styled
def recovery_by_month(data: Run | pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Recovery rate by month past due: the share of the balance owed at DPD 30 x month that
    is repaid afterwards, with CIs, a dashed 10% line and the months after month 3 shaded
    (seed fact: under 10% is recovered after 3 months).

    ``data``: a run (CI across accounts, :func:`recovery_table`), or an estimates /
    comparison table (``recovery_by_month.<m>`` per policy, CI across replications).
    """
    if isinstance(data, pd.DataFrame):
        est, note = table_estimates(data, "recovery_by_month."), ci_note(data)
        est["key"] = est["key"].astype(int)
    else:
        rec = recovery_table(data["outcomes"], data["monthly"])
        est = pd.DataFrame(
            {
                "policy": run_name(run_summary(data)),
                "key": rec["month"],
                "estimate": rec["rate"],
                "low": rec["low"],
                "high": rec["high"],
            }
        )
        note = f"{LEVEL:.0%} CI across accounts"
    months = sorted(int(m) for m in est["key"].unique())
    fig, ax = figure_axes(ax)
    after = sum(m < 3 for m in months)
    if after < len(months):
        ax.axvspan(after - 0.5, len(months) - 0.5, color="#eeeeee", zorder=0, linewidth=0)
        ax.text(after - 0.4, 0.97, "after 3 months past due", transform=ax.get_xaxis_transform(),
                ha="left", va="top", fontsize=8, color="#444444")  # fmt: skip
    labels = [f"{m}\n{bucket_label(m)}" for m in months]
    bars(ax, est, months, labels, "share", horizontal=False)
    ax.axhline(TEN_PERCENT, linestyle="--", color="black", linewidth=1, zorder=3)
    ax.text(0.99, TEN_PERCENT, "10%", transform=ax.get_yaxis_transform(), ha="right",
            va="bottom", fontsize=8)  # fmt: skip
    if ax.get_legend() is not None:
        ax.legend(title="Policy", loc="center right")
    ax.set_title(f"Recovery rate by month past due\n({note})")
    ax.set_xlabel("Month past due (days past due at its start)")
    ax.set_ylabel("Repaid afterwards (% of the balance owed)")
    return fig


def _segment_order(run: Run) -> list[str]:
    """Segments in the summary's (scenario) order, then any others present, sorted."""
    present = set(run["outcomes"]["segment"].astype(str))
    listed = [s for s in run_summary(run).get("segments", {}) if s in present]
    return listed + sorted(present - set(listed))


def _step_grid(km: pd.DataFrame, end: float) -> tuple[np.ndarray, ...]:
    """A Kaplan-Meier table's survival, low and high on a grid of days 0 .. ``end``
    (value of the last time <= each grid day; 1 before the first)."""
    grid = np.linspace(0.0, end, GRID_POINTS)
    i = np.searchsorted(km["time"].to_numpy(), grid, side="right") - 1
    cols = [km[c].to_numpy()[np.maximum(i, 0)] for c in ("survival", "low", "high")]
    return (grid, *(np.where(i >= 0, c, 1.0) for c in cols))


@styled
def survival(runs: Run | Sequence[Run], by: str | None = None, ax: Axes | None = None) -> Figure:
    """Cure curve: Kaplan-Meier share still unpaid by day since entry, with a 95% band
    (Greenwood variance, log-log scale). See :func:`cure_times` for who is censored when.

    ``runs``: one run or a list of runs (one curve each); ``by="segment"`` draws one curve
    per borrower segment of a single run.
    """
    if by not in (None, "segment"):
        raise ValueError(f"by: must be None or 'segment', got {by!r}")
    items = as_runs(runs)
    if by == "segment":
        if len(items) != 1:
            raise ValueError(f"by: 'segment' needs a single run, got {len(items)}")
        run = items[0][1]
        out = run["outcomes"]
        groups = [
            (s, out[out["segment"].astype(str) == s], run_horizon(run)) for s in _segment_order(run)
        ]
    else:
        groups = [(name, run["outcomes"], run_horizon(run)) for name, run in items]
    colours = policy_colours([g[0] for g in groups])
    fig, ax = figure_axes(ax, (8.0, 4.8))
    for label, out, horizon in groups:
        km = kaplan_meier(*cure_times(out, horizon))
        x, s, low, high = _step_grid(km, horizon)
        text = f"{stage_label(label)}\n{len(out):,} borrowers, {s[-1]:.1%} at day {horizon:g}"
        curve(ax, x, s, low, high, colours[label], text)
    ax.set_xlim(0, max(g[2] for g in groups))
    ax.set_ylim(0, 1.02)
    unit_axis(ax.yaxis, "share")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), labelspacing=0.8,
              title=f"{LEVEL:.0%} band: Greenwood,\nlog-log")  # fmt: skip
    what = " by segment" if by else ""
    ax.set_title(f"Cure curve{what}: share still unpaid (Kaplan-Meier)")
    ax.set_xlabel("Days since entering collections (days)")
    ax.set_ylabel("Still unpaid (% of borrowers)")
    return fig


@styled
def book_by_bucket(run: Run, ax: Axes | None = None) -> Figure:
    """Open accounts by 30-day delinquency bucket over simulated days (stacked area), from the
    daily table's ``open_dpd_*`` columns."""
    daily = run["daily"]
    cols = [c for c in BUCKET_COLUMNS if c in daily]
    if not cols:
        raise ValueError("run: the daily table has no open_dpd_* columns (see sim.results.summary)")
    fig, ax = figure_axes(ax)
    ax.stackplot(daily["day"], *(daily[c] for c in cols), colors=[BUCKET_COLOURS[c] for c in cols],
                 labels=[bucket_name(c) for c in cols], linewidth=0)  # fmt: skip
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], title="Days past due", loc="upper left",
              bbox_to_anchor=(1.01, 1.0))  # fmt: skip
    ax.set_xlim(daily["day"].min(), daily["day"].max())
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.set_title("Delinquent book by 30-day bucket")
    ax.set_xlabel("Simulation day (days since the first arrival)")
    ax.set_ylabel("Open accounts (accounts)")
    return fig


@styled
def roll_rates(run: Run, ax: Axes | None = None) -> Figure:
    """Heatmap of :func:`roll_rate_matrix`: for each 30-day bucket, the share of its accounts
    that rolled into the next bucket or ended the month cured, written off, ..., each cell
    annotated."""
    mat = roll_rate_matrix(run["outcomes"], run["monthly"], run_horizon(run))
    states = [c for c in mat.columns if c != "accounts"]
    values = mat[states].to_numpy(dtype=float)
    fig, ax = figure_axes(ax)
    ax.grid(False)
    if values.size:
        ax.imshow(np.ma.masked_invalid(values), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        for (i, j), v in np.ndenumerate(values):
            colour = "white" if v > 0.6 else "black"
            ax.text(j, i, format_value(v, "share"), ha="center", va="center", fontsize=8,
                    color=colour)  # fmt: skip
    else:
        no_data(ax, "no account was followed through a whole month")
    ax.set_xticks(range(len(states)), [stage_label(s) for s in states], rotation=20, ha="right")
    rows = [f"{b} (n={n:,.0f})" for b, n in zip(mat.index, mat["accounts"], strict=True)]
    ax.set_yticks(range(len(mat)), rows)
    ax.set_title("Roll rates: where each bucket's accounts are a month later\n"
                 "(accounts followed to the end of the month; rows sum to 100%)")  # fmt: skip
    ax.set_xlabel("State one month later (% of the row)")
    ax.set_ylabel("Bucket at the start (days past due)")
    return fig


@styled
def cost_vs_recovery(run: Run) -> Figure:
    """Cost and recovery by channel (yuan), and below, money recovered against total cost and
    net recovery (yuan), from the summary's ``costs`` and ``money``.

    Recovery by channel is last-touch attribution (``money.recovered_by_channel``): each
    repayment is credited to the borrower's latest contact before it. It is a convention,
    not a causal split: it credits the early, cheap reminders that nearly everyone gets with
    repayments that other rungs may have caused too."""
    s = run_summary(run)
    money = s["money"]
    costs = {_COST_TOUCH.get(k, k): v for k, v in s["costs"].items() if k != "total"}
    recovered = dict(money.get("recovered_by_channel") or {})
    channels = [c for c in recovered if c in costs or recovered.get(c)]
    channels += [c for c in costs if c not in channels]
    fig = Figure(figsize=(8.0, 6.8), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=(3, 2))
    left = fig.add_subplot(grid[0, 0])
    right = fig.add_subplot(grid[0, 1], sharey=left)
    bottom = fig.add_subplot(grid[1, :])
    y = np.arange(len(channels))
    for ax, values, colour, label in (
        (left, [costs.get(c, 0.0) for c in channels], OKABE_ITO[1], "Cost (yuan)"),
        (right, [recovered.get(c, 0.0) for c in channels], OKABE_ITO[2],
         "Recovered, credited to the last contact (yuan)"),
    ):  # fmt: skip
        v = np.array(values, dtype=float)
        ax.barh(y, v, color=colour)
        label_bars(ax, y, v, v, "yuan", horizontal=True)
        ax.set_xlim(0, max(v.max(), 1.0) * 1.3)
        ax.grid(axis="y", visible=False)
        unit_axis(ax.xaxis, "yuan")
        ax.set_xlabel(label)
    left.set_yticks(y, [stage_label(c) for c in channels])
    left.invert_yaxis()
    left.set_ylabel("Channel")
    right.tick_params(labelleft=False)
    items = {
        "recovered": (money["recovered"], OKABE_ITO[2]),
        "total cost": (money["cost_total"], OKABE_ITO[1]),
        "net recovery": (money["net_recovery"], OKABE_ITO[0]),
    }
    amounts = np.array([v for v, _ in items.values()], dtype=float)
    bottom.bar(range(len(items)), amounts, 0.6, color=[c for _, c in items.values()])
    label_bars(bottom, np.arange(len(items)), amounts, np.fmax(amounts, 0), "yuan", False)
    bottom.set_xticks(range(len(items)), list(items))
    bottom.set_ylim(min(0.0, amounts.min() * 1.15), max(amounts.max(), 1.0) * 1.15)
    bottom.grid(axis="x", visible=False)
    unit_axis(bottom.yaxis, "yuan")
    per_yuan = money.get("cost_per_yuan_recovered")
    if per_yuan is not None:
        bottom.set_title(f"cost per yuan recovered: {per_yuan:.3f} yuan", fontsize=9, loc="left")
    bottom.set_ylabel("Amount (yuan)")
    bottom.set_xlabel("Whole run (all borrowers)")
    fig.suptitle("Collection cost and recovery by channel")
    return fig


_COST_TOUCH = {"agency_commission": "agency"}
"""Cost items named differently from the channel they pay for."""


__all__ = [
    "GRID_POINTS",
    "TEN_PERCENT",
    "book_by_bucket",
    "cost_vs_recovery",
    "emergency_contact_by_dpd",
    "funnel",
    "recovery_by_month",
    "roll_rates",
    "survival",
]
