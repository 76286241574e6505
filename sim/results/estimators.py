"""Estimators behind the charts, computed from a run's tables: Wilson intervals, the
cumulative emergency-contact curve, Kaplan-Meier time to cure, recovery by month past due
with ratio intervals, and the roll-rate matrix.

Pure functions of DataFrames (no drawing): the charts in :mod:`sim.plots` draw what these
return, and a notebook can use them directly. Intervals are 95% unless ``level`` says
otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from sim.results import stats, summary
from sim.results.records import FINAL_STATES

LEVEL = 0.95
"""Confidence level of every interval computed from a single run."""


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
    cured = outcomes["final_state"].isin(summary.CURED_STATES).to_numpy()
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
    m = summary.recovery_by_month(outcomes, monthly)
    rows = []
    for month, g in m.groupby("month", sort=True):
        est = stats.ratio_interval(g["recovered"], g["balance_at_entry"], level)
        rows.append(
            {
                "month": int(month),
                "dpd": summary.bucket_label(int(month)),
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
    followed = (m["entered_day"] + summary.BUCKET_DAYS * (month + 1) <= horizon).to_numpy()
    keep = followed & (month < month.max()).to_numpy()
    state = pd.Series(np.where(rolled, NEXT_BUCKET, m["final_state"].astype(str)))
    counts = pd.crosstab(month[keep].to_numpy(), state[keep].to_numpy())
    states += [s for s in counts.columns if s not in states]
    months = range(int(month.min()), int(month.max()))
    counts = counts.reindex(index=months, columns=states, fill_value=0)
    accounts = counts.sum(axis=1)
    table = counts.div(accounts.where(accounts > 0), axis=0)
    table["accounts"] = accounts
    table.index = pd.Index([summary.bucket_label(k) for k in months], name="bucket")
    table.columns.name = None
    return table


__all__ = [
    "LEVEL",
    "NEXT_BUCKET",
    "cure_times",
    "emergency_contact_curve",
    "kaplan_meier",
    "recovery_table",
    "roll_rate_matrix",
    "wilson_interval",
]
