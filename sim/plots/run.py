"""Charts of saved results (matplotlib only).

Every chart is drawn from what an experiment saved: a run directory loaded with
:func:`sim.results.rundir.read_run` (a *run*: dict of ``outcomes``, ``daily``, ``monthly`` and
``summary``), or the estimates / comparison table of several replications and policies
(:func:`sim.experiments.replications.read_results`). Nothing here simulates.

Chart functions take that data (and, for one-panel charts, an optional ``ax`` to draw into)
and return the :class:`~matplotlib.figure.Figure`. The computations behind them (Wilson
interval, cumulative emergency-contact curve, Kaplan-Meier, recovery and roll-rate tables)
are public functions of their own. :func:`plot_run` and :func:`plot_comparison` write every
chart as PNG and SVG into ``<dir>/plots``, atomically.

Figures are :class:`matplotlib.figure.Figure` objects, never pyplot ones: nothing here picks
a backend, opens a window or needs closing (a figure is freed with its last reference), and
in a notebook with the inline backend a returned Figure displays itself. Every chart is
drawn under :data:`STYLE` (white background, light grid, fonts legible at the default 6.4 x
4.8 in) with colour-blind-safe colours: Okabe-Ito per policy (:func:`policy_colours`), one
fixed colour per ladder stage (:data:`STAGE_COLOURS`) and per 30-day bucket
(:data:`BUCKET_COLOURS`), both monotone in lightness so they survive greyscale print.

Units: time in days, money in yuan, shares as fractions (axes show them as %), differences of
shares in percentage points (pp). Intervals are 95%.

Charts of a parameter sweep (metric against a parameter with CI bands, heatmaps, the Pareto
front, sensitivity indices) are in :mod:`sim.plots.sweep`, in the same style.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any, ParamSpec, TypeVar

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.experiments import replications as rp
from sim.results import rundir, stats
from sim.results import summary as metrics
from sim.results.records import FINAL_STATES, STAGES, TOUCHES

Run = Mapping[str, Any]
"""A run directory loaded by :func:`sim.results.rundir.read_run`."""
P = ParamSpec("P")
R = TypeVar("R")

LEVEL = 0.95
"""Confidence level of every interval drawn from a single run."""
TEN_PERCENT = 0.10
"""Seed fact: under 10% of the balance is recovered after 3 months past due."""
PLOTS_DIR = "plots"
FORMATS: tuple[str, ...] = ("png", "svg")
_METADATA: dict[str, dict[str, Any]] = {
    "png": {},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}
"""Formats :func:`plot_run` can write, with metadata that keeps the files byte-reproducible."""
GRID_POINTS = 721
"""Points at which a Kaplan-Meier step curve is drawn (keeps SVG files small)."""

# --------------------------------------------------------------------------- style

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#000000",  # black
    "#F0E442",  # yellow (last: weak on a white page)
)
"""Okabe & Ito's colour-blind-safe palette, in the order policies get it."""
EMPHASIS = "#D55E00"
"""Vermillion: the emergency-contact stage, the focus of the study."""


def _sample(cmap: str, lo: float, hi: float, n: int) -> list[str]:
    """``n`` hex colours evenly spaced from ``lo`` to ``hi`` along a matplotlib colormap."""
    cm = mpl.colormaps[cmap]
    return [mpl.colors.to_hex(cm(x)) for x in np.linspace(lo, hi, n)]


STAGE_COLOURS: dict[str, str] = {
    **dict(zip(STAGES, _sample("viridis", 0.0, 0.8, len(STAGES)), strict=True)),
    "emergency_contact": EMPHASIS,
}
"""One colour per ladder stage: viridis (dark to light) in escalation order, the
emergency-contact stage in vermillion."""
BUCKET_COLOURS: dict[str, str] = dict(
    zip(metrics.BUCKET_COLUMNS, _sample("magma", 0.85, 0.2, metrics.N_BUCKETS), strict=True)
)
"""One colour per 30-day bucket column of the daily table, darker as accounts age."""

STYLE: dict[str, Any] = {
    "figure.figsize": (6.4, 4.8),
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "figure.titlesize": 12,
    "savefig.dpi": 150,
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "font.size": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "svg.fonttype": "path",
    "svg.hashsalt": "overdue",  # fixed ids: the same chart gives the same SVG bytes
}
"""rc settings every chart is drawn (and saved) under."""


def style() -> contextlib.AbstractContextManager[None]:
    """``with style(): ...`` draws under :data:`STYLE` (every chart function does this)."""
    return mpl.rc_context(STYLE)


def apply_style(fig: Figure) -> Figure:
    """Give a figure drawn outside :func:`style` the look of :data:`STYLE`: white background
    and, on each axes it has now, no top/right spines, STYLE's font sizes and (except on
    images) the light grid. Axes added later are not affected: to style them too, draw
    inside ``with style():``. Returns ``fig``."""
    fig.set_facecolor(STYLE["figure.facecolor"])
    for ax in fig.axes:
        ax.set_facecolor(STYLE["axes.facecolor"])
        ax.spines[["top", "right"]].set_visible(False)
        ax.title.set_fontsize(STYLE["axes.titlesize"])
        for axis in (ax.xaxis, ax.yaxis):
            axis.label.set_fontsize(STYLE["axes.labelsize"])
        ax.tick_params(labelsize=STYLE["xtick.labelsize"])
        if not ax.images:
            ax.set_axisbelow(True)
            ax.grid(True, color=STYLE["grid.color"], linewidth=STYLE["grid.linewidth"])
    return fig


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """Run a chart function under :func:`style`."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with style():
            return func(*args, **kwargs)

    return wrapper


def policy_colours(names: Sequence[str]) -> dict[str, str]:
    """A stable colour per name from :data:`OKABE_ITO` by position (the champion, listed
    first, is always blue); also used for segments."""
    return {name: OKABE_ITO[i % len(OKABE_ITO)] for i, name in enumerate(names)}


# --------------------------------------------------------------------------- labels and units

_UNIT_TEXT = {
    "share": "%",
    "days": "days",
    "yuan": "yuan",
    "count": "count per replication",
    "per_1000": "per 1,000 borrowers",
}
_METRIC_TITLES = {
    "emergency_contact.median_day": "Median day the emergency-contact stage is reached",
    "cure_rate.d30": "Cured within 30 days",
    "cure_rate.d90": "Cured within 90 days",
    "money.recovery_rate": "Recovery rate, recovered / owed",
    "money.recovered": "Amount recovered",
    "money.cost_total": "Collection cost",
    "money.net_recovery": "Net recovery, recovered - cost",
    "harm.complaints_per_1000": "Complaints per 1,000 borrowers",
    "harm.third_party_contacts": "Third-party contacts",
    "harm.third_party_disclosures": "Third-party disclosures",
    "agents.utilisation": "Agent utilisation",
}
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


def _stage_label(stage: str) -> str:
    return stage.replace("_", " ")


def metric_label(metric: str) -> str:
    """A readable name for a headline metric of :data:`sim.experiments.replications.METRICS`."""
    if metric in _METRIC_TITLES:
        return _METRIC_TITLES[metric]
    group, _, key = metric.partition(".")
    if group == "funnel":
        return f"Reached {_stage_label(key)}"
    if group == "recovery_by_month" and key.isdigit():
        return f"Recovery rate from DPD {metrics.BUCKET_DAYS * int(key)}"
    return metric


def metric_unit(metric: str) -> str:
    """The unit of a headline metric (``share``, ``yuan``, ``days``, ...; "" if unknown)."""
    m = rp.METRIC_BY_NAME.get(metric)
    return m.unit if m is not None else ""


def axis_label(metric: str, diff: bool = False) -> str:
    """``"Recovery rate, recovered / owed (%)"``: a metric's name and unit for an axis."""
    return f"{metric_label(metric)} ({unit_text(metric_unit(metric), diff)})"


def unit_text(unit: str, diff: bool = False) -> str:
    """The unit of a metric as written in an axis label; a difference of shares is in
    percentage points."""
    if unit == "share" and diff:
        return "percentage points"
    return _UNIT_TEXT.get(unit, unit or "value")


def _yuan(x: float) -> str:
    """``12.2M``, ``387k``, ``492`` (three significant figures)."""
    for scale, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def format_value(value: float, unit: str) -> str:
    """A bar's value label."""
    if not math.isfinite(value):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "yuan":
        return _yuan(value)
    return f"{value:,.1f}"


def unit_axis(axis: Axis, unit: str, diff: bool = False) -> None:
    """Tick labels in the unit: shares as % (differences as pp), yuan abbreviated."""
    if unit == "share":
        symbol = "" if diff else "%"  # a difference: the axis label says percentage points
        axis.set_major_formatter(FuncFormatter(lambda x, _: f"{round(100 * x, 6) + 0.0:g}{symbol}"))
    elif unit == "yuan":
        axis.set_major_formatter(FuncFormatter(lambda x, _: _yuan(x)))


# --------------------------------------------------------------------------- computations


def _z(level: float) -> float:
    """Two-sided standard-normal quantile for confidence ``level``."""
    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level!r}")
    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson_interval(
    successes: float | np.ndarray, trials: float | np.ndarray, level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (low, high) of a binomial share ``successes / trials``,
    elementwise; NaN where ``trials`` is 0."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if np.any(n < 0):
        raise ValueError(f"trials: must be >= 0, got {trials!r}")
    if np.any((k < 0) | (k > n)):
        raise ValueError(f"successes: must be between 0 and trials, got {successes!r}")
    z2 = _z(level) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        scale = 1.0 + z2 / n
        centre = (p + z2 / (2.0 * n)) / scale
        half = np.sqrt(z2 * p * (1.0 - p) / n + z2 * z2 / (4.0 * n * n)) / scale
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))  # exact at the edges
    high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def _check_horizon(horizon: float) -> float:
    if not (isinstance(horizon, int | float) and math.isfinite(horizon) and horizon > 0):
        raise ValueError(f"horizon: must be a positive number of days, got {horizon!r}")
    return float(horizon)


def _covering(first: np.ndarray, last: np.ndarray, n_days: int) -> np.ndarray:
    """For each integer day 0 .. n_days - 1, how many intervals ``[first, last]`` contain it
    (NaN bounds: the interval is empty). Difference arrays, so linear in the rows."""
    ok = ~(np.isnan(first) | np.isnan(last))
    lo = np.clip(np.ceil(first[ok]), 0, n_days).astype(np.int64)
    hi = np.clip(np.floor(last[ok]) + 1, 0, n_days).astype(np.int64)
    keep = lo < hi
    diff = np.bincount(lo[keep], minlength=n_days + 1) - np.bincount(hi[keep], minlength=n_days + 1)
    return np.cumsum(diff)[:n_days]


def emergency_contact_curve(
    outcomes: pd.DataFrame, horizon: float, level: float = LEVEL
) -> pd.DataFrame:
    """Cumulative share of borrowers who have reached the emergency-contact stage by each day
    past due 0 .. floor(``horizon``), with a pointwise Wilson interval.

    Columns: dpd (days), followed (borrowers followed at least that many days before the
    horizon: ``entered_day + dpd <= horizon``), reached (of those, how many reached the stage
    by then: ``emergency_contact_day <= dpd``), share, low, high. Counting only borrowers
    followed long enough keeps late arrivals from pulling the curve down; for a cohort that
    enters on day 0 ``followed`` is everyone and the last share is the summary's
    ``emergency_contact.share``.
    """
    horizon = _check_horizon(horizon)
    n_days = math.floor(horizon) + 1
    follow = horizon - outcomes["entered_day"].to_numpy(dtype=float)
    ec_day = outcomes["emergency_contact_day"].to_numpy(dtype=float)
    followed = _covering(np.zeros_like(follow), follow, n_days)
    reached = _covering(ec_day, follow, n_days)
    low, high = wilson_interval(reached, followed, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = reached / followed
    return pd.DataFrame(
        {
            "dpd": np.arange(n_days),
            "followed": followed,
            "reached": reached,
            "share": share,
            "low": low,
            "high": high,
        }
    )


def cure_times(outcomes: pd.DataFrame, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """(days, cured) per borrower for :func:`kaplan_meier`.

    A cure (final state ``cured`` or ``plan_completed``) is an event at ``resolved_day -
    entered_day``. Everyone else is censored at the horizon (``horizon - entered_day``),
    including the written-off and fraud-terminated: they never cure, so they stay "still
    unpaid" for as long as they are followed. (Censoring them at their resolution instead
    would treat them as if they might still cure, and overstate the cure curve.)
    """
    horizon = _check_horizon(horizon)
    cured = outcomes["final_state"].isin(metrics.CURED_STATES).to_numpy()
    entered = outcomes["entered_day"].to_numpy(dtype=float)
    resolved = outcomes["resolved_day"].to_numpy(dtype=float)
    return np.where(cured, resolved, horizon) - entered, cured


def _loglog_band(
    survival: np.ndarray, greenwood: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of S(t) on the log(-log) scale (Kalbfleisch & Prentice), from Greenwood's
    sum ``sum d / (n (n - d))``: ``S ** exp(+-z * sqrt(sum) / |log S|)``; stays in [0, 1]."""
    z = _z(level)
    inside = (survival > 0) & (survival < 1)
    log_s = np.log(np.where(inside, survival, 0.5))
    se = np.sqrt(greenwood) / np.abs(log_s)
    low = np.where(inside, survival ** np.exp(z * se), survival)
    high = np.where(inside, survival ** np.exp(-z * se), survival)
    return low, high


def kaplan_meier(
    durations: Sequence[float] | np.ndarray,
    events: Sequence[bool] | np.ndarray,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Kaplan-Meier estimate of the share with no event by each observed time.

    ``durations`` (days) are event or censoring times, ``events`` True for an event. One row
    per distinct time: time, at_risk (durations >= time; a censoring at an event time counts
    as at risk), events, censored, survival = prod(1 - events / at_risk), variance
    (Greenwood: S^2 * sum events / (at_risk (at_risk - events))), low, high (log-log CI at
    ``level``).
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if t.ndim != 1 or t.shape != e.shape:
        raise ValueError(f"events: must have one entry per duration, got {e.shape} for {t.shape}")
    if np.isnan(t).any() or (t < 0).any():
        raise ValueError("durations: must be >= 0 and not NaN")
    times, index = np.unique(t, return_inverse=True)
    exits = np.bincount(index, minlength=times.size)
    n_events = np.bincount(index, weights=e, minlength=times.size)
    at_risk = t.size - np.concatenate([[0], np.cumsum(exits)[:-1]])
    survival = np.cumprod(1.0 - n_events / at_risk)
    left = at_risk - n_events
    terms = np.divide(n_events, at_risk * left, out=np.zeros_like(n_events), where=left > 0)
    greenwood = np.cumsum(terms)
    low, high = _loglog_band(survival, greenwood, level)
    return pd.DataFrame(
        {
            "time": times,
            "at_risk": at_risk,
            "events": n_events.astype(np.int64),
            "censored": exits - n_events.astype(np.int64),
            "survival": survival,
            "variance": survival**2 * greenwood,
            "low": low,
            "high": high,
        }
    )


def recovery_table(
    outcomes: pd.DataFrame, monthly: pd.DataFrame, level: float = LEVEL
) -> pd.DataFrame:
    """Recovery rate by month past due with a CI across accounts.

    One row per month: month, dpd (bucket label), accounts, balance_at_entry (yuan owed at
    DPD 30 x month), recovered (yuan repaid afterwards), rate (their ratio, as the summary's
    ``recovery_by_month_past_due``), low, high: the delta-method t-interval of the ratio with
    accounts as the sampling units (:func:`sim.results.stats.ratio_interval`).
    """
    m = metrics._recovery_by_month(outcomes, monthly)
    rows = []
    for month, g in m.groupby("month", sort=True):
        est = stats.ratio_interval(g["recovered"], g["balance_at_entry"], level)
        rows.append(
            {
                "month": int(month),
                "dpd": metrics._bucket_label(int(month)),
                "accounts": len(g),
                "balance_at_entry": float(g["balance_at_entry"].sum()),
                "recovered": float(g["recovered"].sum()),
                "rate": est.value,
                "low": est.low,
                "high": est.high,
            }
        )
    columns = ["month", "dpd", "accounts", "balance_at_entry", "recovered", "rate", "low"]
    return pd.DataFrame(rows, columns=[*columns, "high"])


NEXT_BUCKET = "next bucket"


def roll_rate_matrix(outcomes: pd.DataFrame, monthly: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """Where accounts in each 30-day bucket are a month later.

    Rows: the buckets of the summary's ``roll_rates`` (accounts open at the start of month m
    and followed to its end, ``entered_day + 30 (m + 1) <= horizon``), labelled "0-29", ...
    Columns: the share of the row that rolled into the :data:`NEXT_BUCKET` (the summary's
    roll rate) or ended the month in each final state (cured, plan_completed, written_off,
    fraud_terminated; "open" only if it occurs), then ``accounts``. Rows sum to 1.
    """
    horizon = _check_horizon(horizon)
    states = [NEXT_BUCKET, *(s for s in FINAL_STATES if s != "open")]
    if monthly.empty:
        return pd.DataFrame(columns=[*states, "accounts"], dtype=float)
    m = monthly[["borrower_id", "month"]].merge(
        outcomes[["borrower_id", "entered_day", "final_state"]], on="borrower_id", how="left"
    )
    month = m["month"].astype(np.int64)
    have = pd.MultiIndex.from_arrays([m["borrower_id"], month])
    rolled = pd.MultiIndex.from_arrays([m["borrower_id"], month + 1]).isin(have)
    followed = (m["entered_day"] + metrics.BUCKET_DAYS * (month + 1) <= horizon).to_numpy()
    keep = followed & (month < month.max()).to_numpy()
    state = pd.Series(np.where(rolled, NEXT_BUCKET, m["final_state"].astype(str)))
    counts = pd.crosstab(month[keep].to_numpy(), state[keep].to_numpy())
    states += [s for s in counts.columns if s not in states]
    months = range(int(month.min()), int(month.max()))
    counts = counts.reindex(index=months, columns=states, fill_value=0)
    accounts = counts.sum(axis=1)
    table = counts.div(accounts.where(accounts > 0), axis=0)
    table["accounts"] = accounts
    table.index = pd.Index([metrics._bucket_label(k) for k in months], name="bucket")
    table.columns.name = None
    return table


# --------------------------------------------------------------------------- drawing helpers


def figure_axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _summary(data: Run) -> Mapping[str, Any]:
    """The summary of a run, or ``data`` itself when it is a summary."""
    return data.get("summary", data)


def _run_name(summary: Mapping[str, Any]) -> str:
    return str(summary.get("scenario", {}).get("name", "run"))


def _horizon(run: Run) -> float:
    return float(_summary(run)["horizon_days"])


def _runs(runs: Run | Sequence[Run]) -> list[tuple[str, Run]]:
    """(label, run) for one run or a list of runs; repeated scenario names get a number."""
    items = [runs] if isinstance(runs, Mapping) else list(runs)
    if not items:
        raise ValueError("runs: need at least one run")
    names = [_run_name(_summary(r)) for r in items]
    if len(set(names)) < len(names):
        names = [f"{n} #{i + 1}" for i, n in enumerate(names)]
    return list(zip(names, items, strict=True))


def _table_estimates(table: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Rows of an estimates or comparison table whose metric starts with ``prefix``, as
    policy, key (the rest of the metric name), estimate, low, high."""
    missing = {"metric", "scenario", "estimate", "ci_low", "ci_high"} - set(table.columns)
    if missing:
        raise ValueError(f"table: not an estimates or comparison table (no {sorted(missing)})")
    sub = table[table["metric"].str.startswith(prefix)]
    if sub.empty:
        raise ValueError(f"table: has no {prefix}* metrics")
    return pd.DataFrame(
        {
            "policy": sub["scenario"].to_numpy(),
            "key": sub["metric"].str.slice(len(prefix)).to_numpy(),
            "estimate": sub["estimate"].to_numpy(dtype=float),
            "low": sub["ci_low"].to_numpy(dtype=float),
            "high": sub["ci_high"].to_numpy(dtype=float),
        }
    )


def _ci_note(table: pd.DataFrame) -> str:
    n = int(table["n"].max()) if "n" in table and len(table) else 0
    return f"{LEVEL:.0%} CI over {n} replications"


def _errors(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Error-bar lengths (2, n) below and above ``value``; 0 where undefined or where rounding
    puts a bound a hair past the value."""
    err = np.vstack([value - low, high - value])
    return np.clip(np.nan_to_num(err), 0.0, None)


def _bars(
    ax: Axes,
    est: pd.DataFrame,
    keys: Sequence[Any],
    labels: Sequence[str],
    unit: str,
    *,
    horizontal: bool,
    key_colours: Mapping[Any, str] | None = None,
) -> None:
    """Bars of ``est`` (policy, key, estimate, low, high) with CI error bars, grouped by key
    in ``keys`` order. One policy: coloured by key (``key_colours``) and labelled with its
    value; several: one colour per policy and a legend."""
    policies = list(dict.fromkeys(est["policy"]))
    colours = policy_colours(policies)
    width = 0.8 / len(policies)
    pos = np.arange(len(keys), dtype=float)
    ends = [0.0]
    for j, policy in enumerate(policies):
        sub = est[est["policy"] == policy].set_index("key").reindex(list(keys))
        value = sub["estimate"].to_numpy(dtype=float)
        low, high = sub["low"].to_numpy(dtype=float), sub["high"].to_numpy(dtype=float)
        err = _errors(value, low, high)
        at = pos + (j - (len(policies) - 1) / 2) * width
        single = len(policies) == 1 and key_colours is not None
        colour = [key_colours[k] for k in keys] if single else colours[policy]
        draw = ax.barh if horizontal else ax.bar
        err_key = "xerr" if horizontal else "yerr"
        draw(at, np.nan_to_num(value), width * 0.9, color=colour, label=policy,
             error_kw={"ecolor": "#222222", "capsize": 2, "elinewidth": 1},
             **{err_key: err})  # fmt: skip
        end = np.fmax(value, high)
        ends += [float(x) for x in end if math.isfinite(x)]
        if len(policies) == 1:
            _label_bars(ax, at, value, np.nan_to_num(end), unit, horizontal)
    (ax.set_yticks if horizontal else ax.set_xticks)(pos, labels)
    (ax.set_xlim if horizontal else ax.set_ylim)(min(0.0, min(ends)), max(ends) * 1.15 or 1.0)
    ax.grid(axis="y" if horizontal else "x", visible=False)
    unit_axis(ax.xaxis if horizontal else ax.yaxis, unit)
    if horizontal:
        ax.invert_yaxis()
    if len(policies) > 1:
        ax.legend(title="Policy")


_LABEL_KW: dict[str, Any] = {
    "fontsize": 8,
    "zorder": 4,
    "bbox": {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5},
}
"""Bar value labels: small, on a white patch so a reference line does not cross them."""


def _label_bars(
    ax: Axes, at: np.ndarray, value: np.ndarray, end: np.ndarray, unit: str, horizontal: bool
) -> None:
    for a, v, e in zip(at, value, end, strict=True):
        text = format_value(v, unit)
        if horizontal:
            ax.text(e, a, f" {text}", va="center", ha="left", **_LABEL_KW)
        else:
            ax.text(a, e, text, va="bottom", ha="center", **_LABEL_KW)


def _curve(
    ax: Axes, x: np.ndarray, y: np.ndarray, low: np.ndarray, high: np.ndarray, colour: str,
    label: str,
) -> None:  # fmt: skip
    """A step curve with its CI band."""
    ax.step(x, y, where="post", color=colour, label=label)
    ax.fill_between(x, low, high, step="post", color=colour, alpha=0.2, linewidth=0)


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555555")


def _bucket_name(column: str) -> str:
    """``open_dpd_30_59`` -> ``30-59``; ``open_dpd_180_plus`` -> ``180+``."""
    return column.removeprefix("open_dpd_").replace("_plus", "+").replace("_", "-")


# --------------------------------------------------------------------------- charts


@styled
def funnel(data: Run | pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Share of borrowers reaching each ladder stage, in :data:`STAGES` order.

    ``data``: a run (or its summary): shares ``funnel_counts / borrowers`` with 95% Wilson
    intervals; or an estimates / comparison table: each policy's ``funnel.<stage>`` estimate
    with its CI across replications, bars grouped by stage.
    """
    if isinstance(data, pd.DataFrame):
        est, note = _table_estimates(data, "funnel."), _ci_note(data)
    else:
        s = _summary(data)
        counts = np.array([s["funnel_counts"][k] for k in STAGES], dtype=float)
        low, high = wilson_interval(counts, s["borrowers"])
        est = pd.DataFrame(
            {
                "policy": _run_name(s),
                "key": STAGES,
                "estimate": counts / s["borrowers"],
                "low": low,
                "high": high,
            }
        )
        note = f"{LEVEL:.0%} Wilson intervals, {s['borrowers']:,} borrowers"
    several = est["policy"].nunique() > 1
    fig, ax = figure_axes(ax, (6.4, 6.4) if several else None)
    labels = [_stage_label(k) for k in STAGES]
    _bars(ax, est, STAGES, labels, "share", horizontal=True, key_colours=STAGE_COLOURS)
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
    items = _runs(runs)
    colours = policy_colours([name for name, _ in items])
    fig, ax = figure_axes(ax)
    for name, run in items:
        horizon = _horizon(run)
        c = emergency_contact_curve(run["outcomes"], horizon)
        colour = EMPHASIS if len(items) == 1 else colours[name]
        last = c["share"].iloc[-1]
        label = f"{name}: {last:.1%} by day {horizon:g}"
        _curve(ax, c["dpd"].to_numpy(), c["share"].to_numpy(), c["low"].to_numpy(),
               c["high"].to_numpy(), colour, label)  # fmt: skip
    ax.set_xlim(0, max(_horizon(r) for _, r in items))
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
        est, note = _table_estimates(data, "recovery_by_month."), _ci_note(data)
        est["key"] = est["key"].astype(int)
    else:
        rec = recovery_table(data["outcomes"], data["monthly"])
        est = pd.DataFrame(
            {
                "policy": _run_name(_summary(data)),
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
    labels = [f"{m}\n{metrics._bucket_label(m)}" for m in months]
    _bars(ax, est, months, labels, "share", horizontal=False)
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
    listed = [s for s in _summary(run).get("segments", {}) if s in present]
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
    items = _runs(runs)
    if by == "segment":
        if len(items) != 1:
            raise ValueError(f"by: 'segment' needs a single run, got {len(items)}")
        run = items[0][1]
        out = run["outcomes"]
        groups = [
            (s, out[out["segment"].astype(str) == s], _horizon(run)) for s in _segment_order(run)
        ]
    else:
        groups = [(name, run["outcomes"], _horizon(run)) for name, run in items]
    colours = policy_colours([g[0] for g in groups])
    fig, ax = figure_axes(ax, (8.0, 4.8))
    for label, out, horizon in groups:
        km = kaplan_meier(*cure_times(out, horizon))
        x, s, low, high = _step_grid(km, horizon)
        text = f"{_stage_label(label)}\n{len(out):,} borrowers, {s[-1]:.1%} at day {horizon:g}"
        _curve(ax, x, s, low, high, colours[label], text)
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
    cols = [c for c in metrics.BUCKET_COLUMNS if c in daily]
    if not cols:
        raise ValueError("run: the daily table has no open_dpd_* columns (see sim.results.summary)")
    fig, ax = figure_axes(ax)
    ax.stackplot(daily["day"], *(daily[c] for c in cols), colors=[BUCKET_COLOURS[c] for c in cols],
                 labels=[_bucket_name(c) for c in cols], linewidth=0)  # fmt: skip
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
    mat = roll_rate_matrix(run["outcomes"], run["monthly"], _horizon(run))
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
        _no_data(ax, "no account was followed through a whole month")
    ax.set_xticks(range(len(states)), [_stage_label(s) for s in states], rotation=20, ha="right")
    rows = [f"{b} (n={n:,.0f})" for b, n in zip(mat.index, mat["accounts"], strict=True)]
    ax.set_yticks(range(len(mat)), rows)
    ax.set_title("Roll rates: where each bucket's accounts are a month later\n"
                 "(accounts followed to the end of the month; rows sum to 100%)")  # fmt: skip
    ax.set_xlabel("State one month later (% of the row)")
    ax.set_ylabel("Bucket at the start (days past due)")
    return fig


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Elementwise ``num / den``, NaN where ``den`` is 0."""
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


@styled
def agents(run: Run) -> Figure:
    """Agent utilisation (busy / capacity minutes: daily and 7-day, with the whole-run figure
    dashed) and the queue (calls still waiting at the end of each day, calls delayed that day)
    over simulated days, in two panels."""
    daily, summary = run["daily"], _summary(run)
    day = daily["day"].to_numpy()
    cap = daily["agent_capacity_minutes"].to_numpy(dtype=float)
    busy = daily["agent_busy_minutes"].to_numpy(dtype=float)
    week = _ratio(
        pd.Series(busy).rolling(7, min_periods=1).sum().to_numpy(),
        pd.Series(cap).rolling(7, min_periods=1).sum().to_numpy(),
    )
    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    blue = OKABE_ITO[0]
    top.plot(day, _ratio(busy, cap), color=blue, linewidth=0.8, alpha=0.5, label="daily")
    top.plot(day, week, color=blue, linewidth=2, label="7-day")
    whole = summary.get("agents", {}).get("utilisation")
    if whole is not None:
        top.axhline(whole, color="black", linestyle="--", linewidth=1,
                    label=f"whole run: {whole:.1%}")  # fmt: skip
    top.set_ylim(bottom=0)
    unit_axis(top.yaxis, "share")
    top.legend(loc="upper right", ncols=3)
    top.set_ylabel("Utilisation (% of agent time)")
    bottom.plot(day, daily["agent_backlog"], color=OKABE_ITO[1], label="waiting at end of day")
    bottom.plot(day, daily["agent_calls_delayed"], color=OKABE_ITO[3], linewidth=1,
                label="delayed that day")  # fmt: skip
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper right")
    bottom.set_ylabel("Agent calls (calls)")
    bottom.set_xlabel("Simulation day (days since the first arrival)")
    bottom.set_xlim(day.min(), day.max())
    head = summary.get("agents", {}).get("head_count")
    team = f" ({head} on the team)" if head is not None else ""
    fig.suptitle(f"Agents{team}: utilisation and queue")
    return fig


@styled
def cost_vs_recovery(run: Run) -> Figure:
    """Cost and recovery by channel (yuan), and below, money recovered against total cost and
    net recovery (yuan), from the summary's ``costs`` and ``money``.

    Recovery by channel is last-touch attribution (``money.recovered_by_channel``): each
    repayment is credited to the borrower's latest contact before it. It is a convention,
    not a causal split: it credits the early, cheap reminders that nearly everyone gets with
    repayments that other rungs may have caused too."""
    s = _summary(run)
    money = s["money"]
    costs = {_COST_TOUCH.get(k, k): v for k, v in s["costs"].items() if k != "total"}
    recovered = dict(money.get("recovered_by_channel") or {})
    channels = [c for c in TOUCHES if c in costs or recovered.get(c)]
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
        _label_bars(ax, y, v, v, "yuan", horizontal=True)
        ax.set_xlim(0, max(v.max(), 1.0) * 1.3)
        ax.grid(axis="y", visible=False)
        unit_axis(ax.xaxis, "yuan")
        ax.set_xlabel(label)
    left.set_yticks(y, [_stage_label(c) for c in channels])
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
    _label_bars(bottom, np.arange(len(items)), amounts, np.fmax(amounts, 0), "yuan", False)
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


@styled
def policy_bars(table: pd.DataFrame, metric: str, ax: Axes | None = None) -> Figure:
    """Each policy's estimate of ``metric`` with its CI across replications, side by side;
    a challenger whose paired difference from the champion is significant is starred."""
    sub = table[table["metric"] == metric] if "metric" in table else table.iloc[:0]
    if sub.empty:
        raise ValueError(f"metric: {metric!r} is not in the table")
    est = _table_estimates(sub, metric)
    policies = list(est["policy"])
    est["key"], est["policy"] = policies, "all"
    sig = sub["significant"].fillna(False).astype(bool) if "significant" in sub else None
    labels = policies if sig is None else [
        f"{p} *" if s else p for p, s in zip(policies, sig, strict=True)
    ]  # fmt: skip
    unit = str(sub["unit"].iloc[0]) if "unit" in sub else ""
    fig, ax = figure_axes(ax)
    _bars(ax, est, policies, labels, unit, horizontal=False, key_colours=policy_colours(policies))
    star = "; * differs from the champion" if sig is not None else ""
    ax.set_title(f"{metric_label(metric)}\n({_ci_note(sub)}{star})")
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
        err = _errors(value[i : i + 1], low[i : i + 1], high[i : i + 1])
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
    fig.suptitle(f"{kind} vs {versus} ({_ci_note(table)}; * CI excludes 0)")
    return fig


# --------------------------------------------------------------------------- writing


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` as a tuple of supported file formats (a single string is one format)."""
    fmts = (formats,) if isinstance(formats, str) else tuple(formats)
    bad = [f for f in fmts if f not in _METADATA]
    if bad or not fmts:
        raise ValueError(
            f"formats: choose from {', '.join(_METADATA)}, got {list(fmts) if fmts else 'none'}"
        )
    return tuple(dict.fromkeys(fmts))


def save(fig: Figure, path: Path, fmt: str | None = None) -> Path:
    """Save ``fig`` to ``path`` under :data:`STYLE`, without timestamps (the same chart gives
    the same bytes); ``fmt`` defaults to the path's suffix."""
    path = Path(path)
    fmt = _check_formats(fmt or path.suffix.lstrip("."))[0]
    with style():
        fig.savefig(path, format=fmt, metadata=_METADATA[fmt])
    return path


def _write_charts(
    plots_dir: Path, charts: Mapping[str, Callable[[], Figure]], formats: Sequence[str],
    source: str,
) -> list[Path]:  # fmt: skip
    """Draw each chart and write it in every format into ``plots_dir`` atomically (a temporary
    sibling renamed into place, :func:`sim.results.rundir.write_atomically`), with a
    ``manifest.json`` listing the files; return the chart paths."""
    fmts = _check_formats(formats)
    files = [f"{name}.{fmt}" for name in charts for fmt in fmts]

    def contents(tmp: Path) -> None:
        for name, draw in charts.items():
            fig = draw()
            for fmt in fmts:
                save(fig, tmp / f"{name}.{fmt}", fmt)
        doc = {"kind": "plots", "source": source, "files": files}
        rundir.write_json(doc, tmp / rundir.MANIFEST)

    out = rundir.write_atomically(Path(plots_dir), contents)
    return [out / f for f in files]


def run_charts(run: Run) -> dict[str, Callable[[], Figure]]:
    """Every single-run chart of ``run``, by file stem, drawn when called."""
    return {
        "funnel": lambda: funnel(run),
        "emergency_contact": lambda: emergency_contact_by_dpd(run),
        "recovery_by_month": lambda: recovery_by_month(run),
        "survival": lambda: survival(run),
        "survival_by_segment": lambda: survival(run, by="segment"),
        "book_by_bucket": lambda: book_by_bucket(run),
        "roll_rates": lambda: roll_rates(run),
        "agents": lambda: agents(run),
        "cost_vs_recovery": lambda: cost_vs_recovery(run),
    }


def comparison_charts(table: pd.DataFrame) -> dict[str, Callable[[], Figure]]:
    """Every chart of an estimates or comparison table, by file stem, drawn when called (the
    forest plot only for a comparison)."""
    charts: dict[str, Callable[[], Figure]] = {
        "funnel": lambda: funnel(table),
        "emergency_contact": lambda: policy_bars(table, "funnel.emergency_contact"),
        "recovery_by_month": lambda: recovery_by_month(table),
    }
    if "diff" in table:
        charts["forest"] = lambda: forest(table)
    return charts


def plot_run(run_dir: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Draw every chart of a run directory (:func:`run_charts`) into ``run_dir / "plots"``, in
    each of ``formats`` (png, svg, pdf); return the paths written.

    Reads only the saved files (:func:`sim.results.rundir.read_run`). The plots directory is
    replaced as a whole and atomically: it is either the previous set of charts or the new one.
    Raises :class:`sim.results.rundir.RunDirError` if ``run_dir`` is not a run directory.
    """
    run_dir = Path(run_dir)
    run = rundir.read_run(run_dir)
    return _write_charts(run_dir / PLOTS_DIR, run_charts(run), formats, "run")


def plot_comparison(out_dir: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Draw the charts of an ``overdue compare`` (or ``overdue run --reps``) directory
    (:func:`comparison_charts`: funnel, emergency-contact share and recovery by month per
    policy with CIs, and the forest plot of paired differences) into
    ``out_dir / "plots"``, atomically; return the paths written.

    Reads ``comparison.parquet`` (else ``estimates.parquet``) via
    :func:`sim.experiments.replications.read_results`.
    """
    out_dir = Path(out_dir)
    results = rp.read_results(out_dir)
    table = results.get("comparison", results.get("estimates"))
    if table is None:
        raise FileNotFoundError(f"{out_dir} has no comparison.parquet or estimates.parquet")
    return _write_charts(out_dir / PLOTS_DIR, comparison_charts(table), formats, "comparison")
