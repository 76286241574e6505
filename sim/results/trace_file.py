"""A trace too large to hold in memory, streamed to Parquet while the run goes on.

``simulate(..., trace_dir=DIR)`` hands the engine's trace events to a :class:`TraceSpool`
instead of keeping them: every few hundred thousand events (at each flush of finished
accounts) the spool writes them out, and at the end it writes ``DIR/events.parquet``, the
same table as a trace kept in memory (global time order, ties in the order they happened,
``seq`` the order of recording), in row groups.

Why slices: accounts run ahead of the clock (``sim.engine.core``), so events are recorded
in no global time order, and sorting 21 million events (a traced million borrowers) in memory
is what streaming is meant to avoid. The spool splits events by time into :data:`BUCKETS`
slices of the horizon, appends each slice's events to a file of its own, and at the end sorts
one slice at a time: memory holds one slice, not the trace. The slices are narrow early and
wide late (equal steps of the square root of time), as most events come in the first days: at
a million borrowers the largest slice holds 2.5 million events (a twelfth of the trace, and
an instant's events cannot be split: a million accounts enter at time 0).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = ("time", "borrower_id", "dpd", "kind", "channel", "detail", "amount")
"""The fields of an event as the engine records it (``seq`` is added here)."""
SCHEMA = pa.schema(
    [
        ("time", pa.float64()),
        ("borrower_id", pa.int64()),
        ("dpd", pa.float64()),
        ("kind", pa.string()),
        ("channel", pa.string()),
        ("detail", pa.string()),
        ("amount", pa.float64()),
        ("seq", pa.int64()),
    ]
)
BUCKETS = 64
"""Slices of the horizon the spool sorts one at a time."""
SPILL_EVENTS = 250_000
"""Events the recorder keeps before handing them to the spool."""
ROW_GROUP = 1_000_000
"""Rows per row group of the final file."""


class TraceSpool:
    """Events of one run on their way to ``directory / "events.parquet"``.

    Lifecycle: :meth:`spill` any number of times with events in recording order, then
    :meth:`finish` once, which writes the file and removes the slices."""

    def __init__(self, directory: Path, horizon_days: float) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.horizon = max(float(horizon_days), 1e-9)
        self.recorded = 0  # events spilled so far: the next event's seq
        self._writers: dict[int, pq.ParquetWriter] = {}

    @property
    def path(self) -> Path:
        """The finished trace."""
        return self.directory / "events.parquet"

    def _slice_path(self, bucket: int) -> Path:
        return self.directory / f"slice-{bucket:02d}.parquet"

    def spill(self, events: Sequence[tuple]) -> None:
        """Write ``events`` (tuples of :data:`COLUMNS`, in recording order) to their slices."""
        if not events:
            return
        cols = list(zip(*events, strict=True))
        n = len(events)
        time = np.asarray(cols[0], dtype=np.float64)
        table = pa.table(
            {
                "time": time,
                "borrower_id": np.asarray(cols[1], dtype=np.int64),
                "dpd": np.asarray(cols[2], dtype=np.float64),
                "kind": pa.array(cols[3], pa.string()),
                "channel": pa.array(cols[4], pa.string()),
                "detail": pa.array(cols[5], pa.string()),
                "amount": np.asarray(cols[6], dtype=np.float64),
                "seq": np.arange(self.recorded, self.recorded + n, dtype=np.int64),
            },
            schema=SCHEMA,
        )
        self.recorded += n
        share = np.sqrt(np.clip(time / self.horizon, 0.0, 1.0))
        bucket = np.minimum((share * BUCKETS).astype(np.int64), BUCKETS - 1)
        order = np.argsort(bucket, kind="stable")  # each slice keeps recording order
        bounds = np.searchsorted(bucket[order], np.arange(BUCKETS + 1))
        for b in range(BUCKETS):
            lo, hi = bounds[b], bounds[b + 1]
            if hi > lo:
                writer = self._writers.get(b)
                if writer is None:
                    writer = self._writers[b] = pq.ParquetWriter(
                        self._slice_path(b), SCHEMA, compression="snappy"
                    )
                writer.write_table(table.take(order[lo:hi]))

    def finish(self) -> Path:
        """Sort each slice by (time, seq) and write them, in time order, as the trace."""
        for writer in self._writers.values():
            writer.close()
        with pq.ParquetWriter(self.path, SCHEMA, compression="snappy") as out:
            for b in range(BUCKETS):
                if b not in self._writers:
                    continue
                part = pq.read_table(self._slice_path(b))
                part = part.sort_by([("time", "ascending"), ("seq", "ascending")])
                out.write_table(part, row_group_size=ROW_GROUP)
                self._slice_path(b).unlink()
            if not self._writers:
                out.write_table(SCHEMA.empty_table())
        self._writers = {}
        return self.path

    def discard(self) -> None:
        """Remove everything (the run failed or was interrupted)."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
        shutil.rmtree(self.directory, ignore_errors=True)
