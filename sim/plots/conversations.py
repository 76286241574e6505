"""The conversations' chart of one run: promises to pay made, kept and broken by day past due.

Read from the run's summary (``conversations.promises_by_dpd``; docs/conversations.md says
what each figure is); drawn with matplotlib, never importing the engine.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.plots.draw import Run, run_summary
from sim.plots.style import OKABE_ITO, styled


@styled
def promises(run: Run) -> Figure:
    """Promises to pay made, kept and broken on each day past due (weekly bars), with the
    kept rate of the run in the title. A promise is kept on the day its money arrives and
    broken on the day after its promised day."""
    c = run_summary(run).get("conversations") or {}
    by = c.get("promises_by_dpd") or {}
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    made = np.asarray(by.get("made", []), dtype=float)
    if not made.size:
        ax.text(0.5, 0.5, "no promises recorded", ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        return fig
    weeks = np.arange(0, len(made) + 6, 7)

    def weekly(values: list[float]) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return np.add.reduceat(v, weeks[weeks < len(v)])

    x = weeks[weeks < len(made)]
    width = 2.2
    for k, (name, colour) in enumerate(
        (("made", OKABE_ITO[0]), ("kept", OKABE_ITO[2]), ("broken", OKABE_ITO[5]))
    ):
        ax.bar(x + (k - 1) * width, weekly(by.get(name, [])), width=width, color=colour,
               label=name, align="center")  # fmt: skip
    ax.set_xlabel("Days past due (weeks from DPD 0)")
    ax.set_ylabel("Promises a week (count)")
    ax.legend(loc="upper right")
    kept = c.get("kept_rate")
    rate = f", {kept:.0%} kept" if kept is not None else ""
    fig.suptitle(f"Promises to pay by day past due{rate}")
    return fig


__all__ = ["promises"]
