"""The outcome and monthly tables, built column-wise from the finished accounts.

The engine records accounts in chunks as they finish (:class:`OutcomeTables`, each chunk's
rows by :func:`outcome_columns`) and puts the rows in borrower-id order at the end: the same
tables as one call over every account sorted by id, without keeping the accounts to the end.

Which columns there are comes from the rungs: one ``reached_<stage>`` per stage (in rank
order) and the count columns they declare, after the columns every account has.
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Sequence
from itertools import chain
from operator import attrgetter
from typing import IO, Any

import numpy as np
import pandas as pd

from sim.engine.account import MONTH, Borrower
from sim.engine.rungs.base import Count

_FIELDS: dict[str, Any] = {
    "bid": np.int64, "seg_name": object, "principal0": float, "entered": float,
    "state": object, "resolved": float, "fees_charged": float, "paid": float,
    "principal": float, "fees": float, "stages": np.int64, "ec_day": float, "cost": float,
    "waived": float,
}  # fmt: skip
"""Account attributes every outcome row is built from, with their dtypes."""
CLOSED_STATES = ("written_off", "fraud_terminated")
"""Final states whose unpaid balance is written off."""


def _bit_length(x: np.ndarray) -> np.ndarray:
    """Vectorised ``int.bit_length`` for non-negative int64 values below 2**52."""
    out = np.zeros(len(x), dtype=np.int64)
    nz = x > 0
    out[nz] = np.floor(np.log2(x[nz].astype(float))).astype(np.int64) + 1
    return out


def _extra(bs: list[Borrower], count: Count) -> np.ndarray:
    """Count ``count`` of every account, from a rung's ``extra`` dict (0 where not set)."""
    dtype = float if count.money else np.int64
    return np.fromiter(((b.extra or {}).get(count.attr, 0) for b in bs), dtype, len(bs))


def outcome_columns(
    bs: list[Borrower], stages: Sequence[str], counts: Sequence[Count], horizon: float
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The outcomes table (one row per account of ``bs``, in that order) and the monthly
    table, as columns; ``stages`` in rank order (bit i of ``b.stages`` is stage i)."""
    # One attrgetter call per borrower (the counts kept in slots included), then columns by
    # zip: several times faster than a pass per column over a million borrowers.
    slotted = [c.attr for c in counts if c.attr in Borrower.__slots__]
    fields = (*_FIELDS, *slotted)
    rows = list(map(attrgetter(*fields), bs))
    raw = dict(zip(fields, zip(*rows, strict=True), strict=True)) if rows else {}
    money = {c.attr for c in counts if c.money}
    get = {
        f: np.asarray(raw.get(f, ()), dtype=_FIELDS.get(f, float if f in money else np.int64))
        for f in fields
    }
    state = get["state"]
    balance = get["principal"] + get["fees"]
    closed = np.isin(state, CLOSED_STATES)
    names = np.array(("", *stages), dtype=object)
    bits = get["stages"]
    col: dict[str, Any] = {
        "borrower_id": get["bid"],
        "segment": get["seg_name"],
        "principal": get["principal0"],
        "entered_day": get["entered"],
        "final_state": state,
        "resolved_day": get["resolved"],
        "amount_due": get["principal0"] + get["fees_charged"],
        "amount_recovered": get["paid"],
        "amount_written_off": np.where(closed, balance, 0.0),
        "amount_waived": get["waived"],
        "balance_open": np.where(state == "open", balance, 0.0),
        "highest_stage": names[_bit_length(bits)],
    }
    for i, name in enumerate(stages):
        col[f"reached_{name}"] = (bits >> i) & 1 == 1
    col["emergency_contact_day"] = get["ec_day"]
    for count in counts:
        col[count.column] = get[count.attr] if count.attr in get else _extra(bs, count)
    col["cost"] = get["cost"]
    end = np.where(state == "open", horizon, get["resolved"])
    return col, monthly_columns(bs, get["bid"], get["entered"], end)


def monthly_columns(
    bs: list[Borrower], bid: np.ndarray, entered: np.ndarray, end: np.ndarray
) -> dict[str, np.ndarray]:
    """The monthly table's columns: a row per account and month it entered while open, in
    the order of ``bs``; ``bid``, ``entered`` and ``end`` (the account's last day: resolved,
    or the horizon) are per account, in the same order.

    Month 0 is the principal, nothing paid (no snapshot is kept for it); the later months
    are the account's snapshots, flattened into one float array in a single pass."""
    n = len(bs)
    snapshots = [b.months for b in bs]
    later = np.fromiter((len(m) if m else 0 for m in snapshots), np.int64, n)
    counts = later + 1
    flat = np.fromiter(
        chain.from_iterable(chain.from_iterable(m for m in snapshots if m)), float, 3 * later.sum()
    ).reshape(-1, 3)  # (month, balance, paid) rows: months are small integers, exact
    first = np.zeros(int(counts.sum()), dtype=bool)
    first[np.cumsum(counts) - counts] = True
    month = np.zeros(len(first), dtype=np.int64)
    month[~first] = flat[:, 0]
    balance = np.empty(len(first))
    balance[first] = np.fromiter(map(attrgetter("principal0"), bs), float, n)
    balance[~first] = flat[:, 1]
    paid = np.zeros(len(first))
    paid[~first] = flat[:, 2]
    return {
        "borrower_id": np.repeat(bid, counts),
        "month": month,
        "balance_at_entry": balance,
        "paid_before": paid,
        "observed_days": np.repeat(end, counts) - (np.repeat(entered, counts) + MONTH * month),
    }


class OutcomeTables:
    """The outcome and monthly tables of one run, filled as accounts finish.

    Rows are appended to one growing buffer per column (:class:`RowBuffers`) and put in
    borrower-id order once, at the end, a column at a time, so memory holds the rows of the
    accounts finished so far, once. Nothing per chunk of accounts is kept: small objects
    made during the run and kept to its end would each pin the allocator's arena they sit
    in, so the memory of the accounts freed around them could never be reused for the
    tables (at 100,000 borrowers: 179 arenas of 1 MiB held, 42 MB of them in use).
    """

    def __init__(self, stages: Sequence[str], counts: Sequence[Count], horizon: float) -> None:
        self.stages, self.counts, self.horizon = stages, counts, horizon
        self.outcomes, self.monthly = RowBuffers(), RowBuffers()

    def add(self, bs: list[Borrower]) -> None:
        """Record the rows of finished accounts ``bs`` (any order)."""
        out, monthly = outcome_columns(bs, self.stages, self.counts, self.horizon)
        self.outcomes.append(out)
        self.monthly.append(monthly)

    def finish(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The outcome and monthly columns, in borrower-id order (an account's months keep
        their order: the sort is stable)."""
        if not self.outcomes.columns:
            return outcome_columns([], self.stages, self.counts, 0.0)
        return self.outcomes.sorted_by_id(), self.monthly.sorted_by_id()


_TYPECODES = {"i": "q", "f": "d", "b": "b"}  # numpy kind -> array typecode (bool as 0/1)
SPILL_BYTES = 32 << 20
"""Rows a :class:`RowBuffers` holds in memory before it writes them to its spill file (bytes).
Below about 100,000 accounts nothing is written; a million accounts' rows (about 400 MB)
would otherwise be the largest part of what a late-finishing run holds."""


class RowBuffers:
    """Columns that grow by chunks of rows: a typed array per column, each one object for the
    whole run. A text column is held as codes (int32) into the values it has met.

    Past :data:`SPILL_BYTES` held, the buffers are appended to a spill file and emptied, so
    memory holds at most that much of the rows until :meth:`sorted_by_id` reads them back.
    The spill file is anonymous (``tempfile.TemporaryFile``, in ``TMPDIR``): nothing has a
    name on disk, and the system frees it however the process ends, killed included.
    """

    def __init__(self, spill_bytes: int | None = None) -> None:
        self.columns: dict[str, tuple[array, np.dtype]] = {}
        self.values: dict[str, dict[Any, int]] = {}
        """Per text column: each value met, and its code."""
        self.spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
        self._held = 0  # bytes in the buffers
        self._file: IO[bytes] | None = None
        self._spilled: dict[str, list[tuple[int, int]]] = {}
        """Per column: (offset, bytes) of each piece written to the spill file, in order."""

    def append(self, chunk: dict[str, np.ndarray]) -> None:
        """Append a chunk of rows, given as columns (the same columns every time)."""
        if not self.columns:
            for k, v in chunk.items():
                code = _TYPECODES.get(v.dtype.kind, "i")  # anything else: a text column
                self.columns[k] = (array(code), v.dtype)
                self._spilled[k] = []
                if code == "i":
                    self.values[k] = {}
        for k, v in chunk.items():
            buf, dtype = self.columns[k]
            if k in self.values:
                codes, uniques = pd.factorize(v, use_na_sentinel=False)
                seen = self.values[k]
                known = np.array([seen.setdefault(u, len(seen)) for u in uniques], np.int32)
                buf.frombytes(known[codes].tobytes())
            else:
                buf.frombytes(np.ascontiguousarray(v, dtype).tobytes())
            self._held += len(v) * buf.itemsize
        if self._held > self.spill_bytes:
            self._spill()

    def _spill(self) -> None:
        """Write every buffer to the end of the spill file and empty it."""
        if self._file is None:
            # Open across calls, closed by sorted_by_id (or by the system when the process
            # ends): a context manager cannot span them.
            self._file = tempfile.TemporaryFile(prefix="overdue-rows-")  # noqa: SIM115
        f = self._file
        for k, (buf, dtype) in self.columns.items():
            if len(buf):
                self._spilled[k].append((f.seek(0, 2), f.write(buf)))
                self.columns[k] = (array(buf.typecode), dtype)
        self._held = 0

    def sorted_by_id(self) -> dict[str, np.ndarray]:
        """The columns as arrays, rows stably sorted by ``borrower_id``; the buffers are
        emptied column by column as they are read, and the spill file is closed."""
        order = np.argsort(self._array("borrower_id"), kind="stable")
        out = {}
        for k in list(self.columns):
            out[k] = self._array(k)[order]
            del self.columns[k]
        if self._file is not None:
            self._file.close()
            self._file = None
        return out

    def _array(self, name: str) -> np.ndarray:
        """Column ``name`` in the order appended: its spilled pieces, then its buffer."""
        buf, dtype = self.columns[name]
        stored = np.dtype(np.int32) if name in self.values else dtype
        pieces = self._spilled[name]
        n = (sum(size for _, size in pieces) + len(buf) * buf.itemsize) // stored.itemsize
        col = np.empty(n, stored)
        view, at = memoryview(col).cast("B"), 0
        for offset, size in pieces:
            self._file.seek(offset)
            if self._file.readinto(view[at : at + size]) != size:
                raise OSError(f"the spill file of the {name!r} rows was cut short")
            at += size
        view[at:] = memoryview(buf).cast("B")
        if name in self.values:
            return np.array(list(self.values[name]), dtype=object)[col]
        return col
