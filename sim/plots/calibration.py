"""Charts of a calibration: the search's convergence, and the fitted figures against the
observed ones (the roll-rate matrix and the cure curve, when they are targets).

Read from a calibration's tables (``trials.csv``, ``fit.csv``); never imports the engine.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plots.style import OKABE_ITO, styled

_ROLL = re.compile(r"roll_rate(_balance)?\.(\d+)_(\d+)$")
_CURE = re.compile(r"cure_rate\.d(\d+)$")


@styled
def convergence(trials: pd.DataFrame) -> Figure:
    """Objective of every trial (log scale) and the best so far, by trial number; 1 is a
    fit with every target off by exactly its tolerance."""
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    t = trials.sort_values("trial")
    ax.scatter(t["trial"], t["objective"], s=10, color=OKABE_ITO[0], alpha=0.6, label="trial")
    ax.step(t["trial"], t["objective"].cummin(), where="post", color=OKABE_ITO[1],
            label="best so far")  # fmt: skip
    ax.axhline(
        1.0, color="grey", linestyle="--", linewidth=0.8, label="every target at its tolerance"
    )
    ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("objective (mean squared miss / tolerance)")
    ax.set_title("Calibration search")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def _fit_rows(fit: pd.DataFrame, pattern: re.Pattern[str]) -> pd.DataFrame:
    return fit[fit["target"].str.match(pattern)]


@styled
def roll_matrix(fit: pd.DataFrame) -> Figure | None:
    """Observed against fitted roll rates by 30-day bucket (accounts, and balance if given),
    fitted with 95% CIs and the tolerance band. None if no roll rate is a target."""
    rows = _fit_rows(fit, _ROLL)
    if rows.empty:
        return None
    balance = rows["target"].str.startswith("roll_rate_balance.")
    kinds = [k for k, has in (("accounts", (~balance).any()), ("balance", balance.any())) if has]
    fig = Figure(figsize=(6.4, 3.4 * len(kinds)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(kinds), 1))
    for ax, kind in zip(axes, kinds, strict=True):
        sel = rows[balance == (kind == "balance")]
        labels = [
            f"{m.group(2)}-{m.group(3)}"
            for m in (_ROLL.search(t) for t in sel["target"])
            if m is not None
        ]
        x = np.arange(len(sel))
        obs, sim = sel["observed"].to_numpy(), sel["simulated"].to_numpy()
        tol = sel["tolerance"].to_numpy()
        ax.bar(x - 0.2, obs, width=0.4, color=OKABE_ITO[2], label="observed")
        ax.errorbar(x - 0.2, obs, yerr=tol, fmt="none", ecolor="grey", capsize=3,
                    label="tolerance")  # fmt: skip
        err = np.vstack([sim - sel["ci_low"].to_numpy(), sel["ci_high"].to_numpy() - sim])
        ax.bar(x + 0.2, sim, width=0.4, color=OKABE_ITO[0], label="fitted")
        ax.errorbar(x + 0.2, sim, yerr=err, fmt="none", ecolor="black", capsize=3,
                    label="95% CI")  # fmt: skip
        ax.set_xticks(x, [f"DPD {lab} to next" for lab in labels])
        ax.set_ylabel(f"roll rate ({kind})")
        ax.set_ylim(0, 1)
        ax.legend(loc="upper left", fontsize="small", ncols=2)
    axes[0].set_title("Roll rates: observed and fitted")
    return fig


@styled
def cure_curve(fit: pd.DataFrame) -> Figure | None:
    """Observed points of the cure curve against the fitted ones (95% CIs, tolerance bars).
    None if no cure rate is a target."""
    rows = _fit_rows(fit, _CURE)
    if rows.empty:
        return None
    days = np.array([int(_CURE.search(t).group(1)) for t in rows["target"]])  # type: ignore[union-attr]
    order = np.argsort(days)
    rows, days = rows.iloc[order], days[order]
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    sim = rows["simulated"].to_numpy()
    err = np.vstack([sim - rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy() - sim])
    ax.errorbar(days, rows["observed"], yerr=rows["tolerance"], fmt="o", color=OKABE_ITO[2],
                capsize=3, label="observed ± tolerance")  # fmt: skip
    ax.errorbar(days, sim, yerr=err, fmt="s-", color=OKABE_ITO[0], capsize=3,
                label="fitted, 95% CI")  # fmt: skip
    ax.set_xlabel("days past due")
    ax.set_ylabel("share cured")
    ax.set_ylim(0, 1)
    ax.set_title("Cure curve: observed and fitted")
    ax.legend(loc="lower right", fontsize="small")
    return fig
