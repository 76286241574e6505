"""The look of every chart: style, colours, and how metrics and units are written.

Every chart is drawn under :data:`STYLE` (white background, light grid, fonts legible at the
default 6.4 x 4.8 in) with colour-blind-safe colours: Okabe-Ito per policy
(:func:`policy_colours`), one colour per ladder stage (:func:`stage_colours`) and per 30-day
bucket (:data:`BUCKET_COLOURS`), both monotone in lightness so they survive greyscale print.
Metric names, labels and units come from the metric registry (:mod:`sim.results.metrics`).
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import matplotlib as mpl
import numpy as np
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.results import metrics as registry
from sim.results.summary import BUCKET_COLUMNS, N_BUCKETS

P = ParamSpec("P")


R = TypeVar("R")


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


def stage_colours(stages: Sequence[str]) -> dict[str, str]:
    """One colour per ladder stage (``stages`` in escalation order): viridis, dark to light,
    and the emergency-contact stage in vermillion."""
    colours = dict(zip(stages, _sample("viridis", 0.0, 0.8, len(stages)), strict=True))
    if "emergency_contact" in colours:
        colours["emergency_contact"] = EMPHASIS
    return colours


BUCKET_COLOURS: dict[str, str] = dict(
    zip(BUCKET_COLUMNS, _sample("magma", 0.85, 0.2, N_BUCKETS), strict=True)
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


_UNIT_TEXT = {
    "share": "%",
    "days": "days",
    "yuan": "yuan",
    "count": "count per replication",
    "per_1000": "per 1,000 borrowers",
    "seconds": "seconds",
}


def stage_label(stage: str) -> str:
    return stage.replace("_", " ")


def metric_label(metric: str) -> str:
    """A readable name for a headline metric (the registry's label)."""
    return registry.label(metric)


def metric_unit(metric: str) -> str:
    """The unit of a headline metric (``share``, ``yuan``, ``days``, ...; "" if unknown)."""
    return registry.unit(metric)


def axis_label(metric: str, diff: bool = False) -> str:
    """``"Recovery rate, recovered / owed (%)"``: a metric's name and unit for an axis."""
    return f"{metric_label(metric)} ({unit_text(metric_unit(metric), diff)})"


def unit_text(unit: str, diff: bool = False) -> str:
    """The unit of a metric as written in an axis label; a difference of shares is in
    percentage points."""
    if unit == "share" and diff:
        return "percentage points"
    return _UNIT_TEXT.get(unit, unit or "value")


def yuan_text(x: float) -> str:
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
        return yuan_text(value)
    return f"{value:,.1f}"


def unit_axis(axis: Axis, unit: str, diff: bool = False) -> None:
    """Tick labels in the unit: shares as % (differences as pp), yuan abbreviated."""
    if unit == "share":
        symbol = "" if diff else "%"  # a difference: the axis label says percentage points
        axis.set_major_formatter(FuncFormatter(lambda x, _: f"{round(100 * x, 6) + 0.0:g}{symbol}"))
    elif unit == "yuan":
        axis.set_major_formatter(FuncFormatter(lambda x, _: yuan_text(x)))


__all__ = [
    "BUCKET_COLOURS",
    "EMPHASIS",
    "OKABE_ITO",
    "STYLE",
    "apply_style",
    "axis_label",
    "format_value",
    "metric_label",
    "metric_unit",
    "policy_colours",
    "stage_colours",
    "stage_label",
    "style",
    "styled",
    "unit_axis",
    "unit_text",
    "yuan_text",
]
