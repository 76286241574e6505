"""Drawing helpers shared by the charts: figures and axes, bars with error bars and value
labels, curves, and reading a run's summary and an estimates table."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.plots.style import format_value, policy_colours, unit_axis
from sim.results.estimators import LEVEL

Run = Mapping[str, Any]
"""A run directory loaded by :func:`sim.results.rundir.read_run`."""


def figure_axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def run_summary(data: Run) -> Mapping[str, Any]:
    """The summary of a run, or ``data`` itself when it is a summary."""
    return data.get("summary", data)


def run_name(summary: Mapping[str, Any]) -> str:
    return str(summary.get("scenario", {}).get("name", "run"))


def run_horizon(run: Run) -> float:
    return float(run_summary(run)["horizon_days"])


def as_runs(runs: Run | Sequence[Run]) -> list[tuple[str, Run]]:
    """(label, run) for one run or a list of runs; repeated scenario names get a number."""
    items = [runs] if isinstance(runs, Mapping) else list(runs)
    if not items:
        raise ValueError("runs: need at least one run")
    names = [run_name(run_summary(r)) for r in items]
    if len(set(names)) < len(names):
        names = [f"{n} #{i + 1}" for i, n in enumerate(names)]
    return list(zip(names, items, strict=True))


def table_estimates(table: pd.DataFrame, prefix: str) -> pd.DataFrame:
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


def ci_note(table: pd.DataFrame) -> str:
    n = int(table["n"].max()) if "n" in table and len(table) else 0
    return f"{LEVEL:.0%} CI over {n} replications"


def error_bars(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Error-bar lengths (2, n) below and above ``value``; 0 where undefined or where rounding
    puts a bound a hair past the value."""
    err = np.vstack([value - low, high - value])
    return np.clip(np.nan_to_num(err), 0.0, None)


def bars(
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
        err = error_bars(value, low, high)
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
            label_bars(ax, at, value, np.nan_to_num(end), unit, horizontal)
    (ax.set_yticks if horizontal else ax.set_xticks)(pos, labels)
    (ax.set_xlim if horizontal else ax.set_ylim)(min(0.0, min(ends)), max(ends) * 1.15 or 1.0)
    ax.grid(axis="y" if horizontal else "x", visible=False)
    unit_axis(ax.xaxis if horizontal else ax.yaxis, unit)
    if horizontal:
        ax.invert_yaxis()
    if len(policies) > 1:
        ax.legend(title="Policy")


LABEL_KW: dict[str, Any] = {
    "fontsize": 8,
    "zorder": 4,
    "bbox": {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5},
}
"""Bar value labels: small, on a white patch so a reference line does not cross them."""


def label_bars(
    ax: Axes, at: np.ndarray, value: np.ndarray, end: np.ndarray, unit: str, horizontal: bool
) -> None:
    for a, v, e in zip(at, value, end, strict=True):
        text = format_value(v, unit)
        if horizontal:
            ax.text(e, a, f" {text}", va="center", ha="left", **LABEL_KW)
        else:
            ax.text(a, e, text, va="bottom", ha="center", **LABEL_KW)


def curve(
    ax: Axes, x: np.ndarray, y: np.ndarray, low: np.ndarray, high: np.ndarray, colour: str,
    label: str,
) -> None:  # fmt: skip
    """A step curve with its CI band."""
    ax.step(x, y, where="post", color=colour, label=label)
    ax.fill_between(x, low, high, step="post", color=colour, alpha=0.2, linewidth=0)


def no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555555")


def bucket_name(column: str) -> str:
    """``open_dpd_30_59`` -> ``30-59``; ``open_dpd_180_plus`` -> ``180+``."""
    return column.removeprefix("open_dpd_").replace("_plus", "+").replace("_", "-")


__all__ = [
    "LABEL_KW",
    "Run",
    "as_runs",
    "bars",
    "bucket_name",
    "ci_note",
    "curve",
    "error_bars",
    "figure_axes",
    "label_bars",
    "no_data",
    "run_horizon",
    "run_name",
    "run_summary",
    "table_estimates",
]
