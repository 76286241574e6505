"""Merging the records of shards of one run into the records of the whole run.

A sharded run (:mod:`sim.experiments.shards`) simulates the book in K parts by borrower id.
Merged exactly, never averaged: outcomes and monthly rows are concatenated and put in
borrower-id order, daily counters summed day by day, costs and money by channel summed, the
trace concatenated in time order; the summary is then computed from the merged tables as
for any run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.results.records import Records

_SUMMED_META = ("agents", "borrowers", "events", "calls_outside_hours")
"""Meta figures that add up across shards (the rest are the same in every shard)."""


def _by_borrower(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The rows of every shard in borrower-id order (stable: a borrower's rows keep theirs)."""
    table = pd.concat(frames, ignore_index=True)
    ids = table["borrower_id"].to_numpy()
    if (ids[1:] < ids[:-1]).any():  # shards in shard order are (no reordered copy then)
        table = table.iloc[np.argsort(ids, kind="stable")].reset_index(drop=True)
    return table


def _summed(dicts: Sequence[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0.0) + v
    return out


def merge_records(parts: Sequence[Records]) -> Records:
    """The records of the whole run from those of its shards (in shard order)."""
    if len(parts) == 1:
        return parts[0]
    daily = parts[0].daily.copy()
    for p in parts[1:]:
        if len(p.daily) != len(daily):
            raise ValueError("shards: daily tables of different lengths (different horizons?)")
        for col in daily.columns:
            if col != "day":
                daily[col] = daily[col] + p.daily[col]
    events = None
    if all(p.events is not None for p in parts):
        offset, frames = 0, []
        for p in parts:  # seq: each shard's recording order, kept apart
            assert p.events is not None
            frames.append(p.events.assign(seq=p.events["seq"] + offset))
            offset += len(p.events)
        events = pd.concat(frames, ignore_index=True).sort_values(
            "time", kind="stable", ignore_index=True
        )
    meta: dict[str, Any] = dict(parts[0].meta)
    for key in _SUMMED_META:
        if key in meta:
            meta[key] = sum(p.meta[key] for p in parts)
    meta["shards"] = len(parts)
    meta.pop("shard", None)
    return Records(
        outcomes=_by_borrower([p.outcomes for p in parts]),
        monthly=_by_borrower([p.monthly for p in parts]),
        daily=daily,
        events=events,
        costs=_summed([p.costs for p in parts]),
        meta=meta,
        recovered_by_channel=_summed([p.recovered_by_channel for p in parts]),
        complaints_by_cause=_summed([p.complaints_by_cause for p in parts]),
        promises_by_dpd={
            k: np.sum([p.promises_by_dpd[k] for p in parts], axis=0).tolist()
            for k in parts[0].promises_by_dpd
        },
    )
