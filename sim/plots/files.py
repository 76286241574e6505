"""Writing charts: :func:`plot_run` and :func:`plot_comparison` draw every chart of a run
directory or a comparison directory and write them as PNG and SVG into ``<dir>/plots``,
atomically (the previous set of charts or the new one, never a mix)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.plots.call_centre import agents
from sim.plots.compare import forest, policy_bars
from sim.plots.conversations import promises
from sim.plots.draw import Run
from sim.plots.run import (
    book_by_bucket,
    cost_vs_recovery,
    emergency_contact_by_dpd,
    funnel,
    recovery_by_month,
    roll_rates,
    survival,
)
from sim.plots.style import style
from sim.results import rundir
from sim.results.comparison import read_results

PLOTS_DIR = "plots"


FORMATS: tuple[str, ...] = ("png", "svg")


_METADATA: dict[str, dict[str, Any]] = {
    "png": {},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}
"""Formats :func:`plot_run` can write, with metadata that keeps the files byte-reproducible."""


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
        "promises": lambda: promises(run),
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
    for name, metric in (  # money, harm and the call centre, one bar per policy with its CI
        ("net_recovery", "money.net_recovery"),
        ("cost", "money.cost_total"),
        ("complaints", "harm.complaints_per_1000"),
        ("agent_occupancy", "agents.occupancy"),
        ("abandoned_calls", "agents.abandonment_rate"),
    ):
        if (
            metric in set(table["metric"])
            and table.loc[table["metric"] == metric, "estimate"].notna().any()
        ):
            charts[name] = lambda metric=metric: policy_bars(table, metric)
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
    results = read_results(out_dir)
    table = results.get("comparison", results.get("estimates"))
    if table is None:
        raise FileNotFoundError(f"{out_dir} has no comparison.parquet or estimates.parquet")
    return _write_charts(out_dir / PLOTS_DIR, comparison_charts(table), formats, "comparison")


__all__ = [
    "FORMATS",
    "PLOTS_DIR",
    "comparison_charts",
    "plot_comparison",
    "plot_run",
    "run_charts",
    "save",
]
