"""The daily table of a run: the engine's daily counters, plus the open accounts in each
30-day delinquency bucket at the end of every day (the book by bucket)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.results.records import Records
from sim.results.summary import BUCKET_COLUMNS, BUCKET_DAYS, N_BUCKETS


def open_by_bucket(
    entered_day: np.ndarray, resolved_day: np.ndarray, days: np.ndarray
) -> dict[str, np.ndarray]:
    """Open accounts on each day of ``days`` by 30-day DPD bucket (one array per column of
    :data:`BUCKET_COLUMNS`).

    An account is open on day ``d`` when ``entered_day <= d`` and ``d < resolved_day`` (NaN =
    never resolved); its DPD that day is ``d - entered_day``. Built with difference arrays: for
    each bucket, +1 on the first day the account is open in it and -1 on the first day it no
    longer is, then a cumulative sum.
    """
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return {c: np.zeros(0, dtype=np.int64) for c in BUCKET_COLUMNS}
    d0, d1 = int(days.min()), int(days.max())
    n = d1 - d0 + 1
    e = np.asarray(entered_day, dtype=float)
    r = np.asarray(resolved_day, dtype=float)
    r = np.where(np.isnan(r), np.inf, r)
    out: dict[str, np.ndarray] = {}
    for k, col in enumerate(BUCKET_COLUMNS):
        lo = e + BUCKET_DAYS * k
        hi = r if k == N_BUCKETS - 1 else np.minimum(e + BUCKET_DAYS * (k + 1), r)
        # integer days d with lo <= d < hi, as positions in [0, n]
        start = np.clip(np.ceil(lo) - d0, 0, n)
        stop = np.clip(np.ceil(hi) - d0, 0, n)
        keep = start < stop
        diff = np.zeros(n + 1, dtype=np.int64)
        np.add.at(diff, start[keep].astype(np.int64), 1)
        np.add.at(diff, stop[keep].astype(np.int64), -1)
        out[col] = np.cumsum(diff[:n])[days - d0]
    return out


def daily_table(records: Records) -> pd.DataFrame:
    """``records.daily`` plus ``open_total`` and open accounts per 30-day bucket
    (``open_dpd_0_29`` ... ``open_dpd_180_plus``), counted on each day of ``daily.day``."""
    daily = records.daily.copy()
    out = records.outcomes
    buckets = open_by_bucket(
        out["entered_day"].to_numpy(), out["resolved_day"].to_numpy(), daily["day"].to_numpy()
    )
    daily["open_total"] = np.sum(list(buckets.values()), axis=0, dtype=np.int64)
    for col, values in buckets.items():
        daily[col] = values
    return daily
