"""The call centre's chart of one run: occupancy, the call list and abandoned calls by day.

Read from the run's daily table and summary (``docs/call_centre.md`` says what each figure
is); drawn with matplotlib, never importing the engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plots.draw import Run, run_summary
from sim.plots.style import OKABE_ITO, styled, unit_axis


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Elementwise ``num / den``, NaN where ``den`` is 0."""
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


@styled
def agents(run: Run) -> Figure:
    """The call centre day by day, in three panels: occupancy while staffed (talk and
    wrap-up over agent-minutes on shift: daily and 7-day, the whole run dashed); the call
    list (accounts dialled, and still due at the close: the backlog); and answered calls
    abandoned for want of an agent (% of the day's live answers, with the 3% line)."""
    daily, summary = run["daily"], run_summary(run)
    day = daily["day"].to_numpy()
    cap = daily["agent_capacity_minutes"].to_numpy(dtype=float)
    busy = daily["agent_busy_minutes"].to_numpy(dtype=float)
    week = _ratio(
        pd.Series(busy).rolling(7, min_periods=1).sum().to_numpy(),
        pd.Series(cap).rolling(7, min_periods=1).sum().to_numpy(),
    )
    a = summary.get("agents", {})
    fig = Figure(figsize=(6.4, 7.2), layout="constrained")
    top, middle, bottom = fig.subplots(3, 1, sharex=True)
    blue = OKABE_ITO[0]
    top.plot(day, _ratio(busy, cap), color=blue, linewidth=0.8, alpha=0.5, label="daily")
    top.plot(day, week, color=blue, linewidth=2, label="7-day")
    whole = a.get("occupancy")
    if whole is not None:
        top.axhline(whole, color="black", linestyle="--", linewidth=1,
                    label=f"whole run: {whole:.1%}")  # fmt: skip
    top.set_ylim(bottom=0)
    unit_axis(top.yaxis, "share")
    top.legend(loc="upper right", ncols=3)
    top.set_ylabel("Occupancy (%)")
    middle.plot(day, daily["list_dialled"], color=OKABE_ITO[2], linewidth=1, label="dialled")
    middle.plot(day, daily["list_backlog"], color=OKABE_ITO[1], label="still due at close")
    middle.set_ylim(bottom=0)
    middle.legend(loc="upper right")
    middle.set_ylabel("Call list (accounts)")
    answered = daily["agent_calls_answered"].to_numpy(dtype=float)
    abandoned = daily["agent_calls_abandoned"].to_numpy(dtype=float)
    bottom.plot(day, _ratio(abandoned, answered), color=OKABE_ITO[5], linewidth=1,
                label="abandoned / live-answered")  # fmt: skip
    cap_share = a.get("abandon_cap") or 0.03
    bottom.axhline(cap_share, color="black", linestyle=":", linewidth=1,
                   label=f"cap {cap_share:.0%}")  # fmt: skip
    bottom.set_ylim(bottom=0)
    unit_axis(bottom.yaxis, "share")
    bottom.legend(loc="upper right")
    bottom.set_ylabel("Abandoned (%)")
    bottom.set_xlabel("Simulation day (days since the first arrival)")
    bottom.set_xlim(day.min(), day.max())
    head = a.get("head_count")
    team = f" ({head} on the team)" if head is not None else ""
    fig.suptitle(f"Agents{team}: occupancy, call list and abandoned calls")
    return fig


__all__ = ["agents"]
