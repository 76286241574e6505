"""The random-number tree: root seed -> replication -> purpose -> borrower.

Every random draw in a replication comes from here; nothing uses global random state.

* Population traits are drawn vectorised, one numpy ``Generator`` per trait, so borrower i's
  traits are the i-th values of each trait's stream: they do not depend on the policy, and a
  larger population only appends borrowers (draws are prefix-stable).
* Behaviour during the run (repayment timing, answering, life events, contacts, ...) uses a
  per-borrower, per-purpose :class:`Stream`. Borrower i's k-th draw for a purpose is fixed
  whatever the policy does, so two policies run with the same seed use common random
  numbers: a policy change shifts no unrelated draw.

Why blocks: a numpy ``Generator`` costs ~23 us to create, far too slow to make one per
borrower and purpose. So every borrower's first ``K`` draws for a purpose come from a block
of 1,024 borrowers x ``K`` drawn in one numpy call; the few borrowers that need more continue
from a counter-based generator (Philox) keyed by (replication, purpose, borrower), 32 draws
at a time. ``K`` is sized so that about nine borrowers in ten never need their own generator.
The purposes whose streams open late and in no order (:data:`BY_ROW`) draw a borrower's row
alone, from the block's generator advanced to it: the same numbers, without the block.
Borrower i's k-th draw for a purpose is a fixed function of (seed, replication, purpose, i, k).

Memory: an account's stream holds a copy of its own row (of its head, :data:`HEAD`), not the
block, and goes with the account; a block lives only while it is the one in use for its
purpose. A run of a million borrowers holds the rows of the accounts still open.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterator
from itertools import chain

import numpy as np

BLOCK = 1024
PURPOSES: dict[str, int] = {
    # purpose: uniforms per borrower in one level of a block (sized to what most use)
    "payment": 16,  # repayment timing and size
    "call": 48,  # answering and complaints, per call to the borrower
    "message": 8,  # reading reminders
    "life": 8,  # income shock, phone going dark / coming back, service calls
    "contact": 16,  # emergency contacts: answering, relaying, complaining
    "platform": 4,  # platform-side chance: call-time offsets, field visit, litigation
    "plan": 4,  # keeping plan instalments
    "agent": 12,  # agent calls: talk and wrap-up times, patience (3 per answered call)
    "talk": 8,  # what conversations achieve: outcomes, promised amounts, dates, keeping
}
BY_ROW = frozenset({"contact", "platform", "plan", "agent", "talk"})
"""Purposes whose streams open late (at a first contact call, answered agent call, plan...),
at random moments and in no order of borrower: a whole block drawn again for nearly every
opening cost 60 us (19,000 times at 100,000 borrowers). Their row is drawn alone instead: the
block's generator, its state kept per block, advanced to the row (the same numbers)."""
HEAD: dict[str, int] = {"call": 8}
"""Purposes whose streams hold only the first draws of their row (the rest of the row is
drawn when reached, from the block's generator advanced to it: the same numbers). Half the
accounts make one call draw and three in four at most eight, but one in ten needs more than
thirty, so the row stays 48 long while an open account holds 64 bytes of it, not 384 (a
quarter of a gigabyte at a million borrowers)."""
OVERFLOW_CHUNK = 32
"""Draws taken at a time past the block's ``K`` (see :meth:`Streams.overflow`). Any multiple
of four gives the same numbers (the chunks are consecutive pieces of one Philox stream); 32
keeps what an account that overflows holds small (a chunk of 128 was 1 KB, and the accounts
still open late in a run mostly hold one)."""
_PHILOX_STEPS = OVERFLOW_CHUNK // 4  # Philox4x64 gives four 64-bit words per counter step
_PURPOSE_ID = {name: i for i, name in enumerate(PURPOSES)}
_SIZES = list(PURPOSES.values())
_PURPOSE_NAMES = list(PURPOSES)
_HEADS = [HEAD.get(name, k) for name, k in PURPOSES.items()]

Stream = Iterator[float]
"""One borrower's uniforms for one purpose: ``next(stream)`` is the next draw in [0, 1)."""


class Streams:
    """The random-number tree of one replication.

    ``Streams(seed, replication)`` is the replication-th child of
    ``SeedSequence(seed)``: identical to ``SeedSequence(seed).spawn(r + 1)[r]``.
    """

    def __init__(self, seed: int, replication: int = 0) -> None:
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self.replication = int(replication)
        # The block used last for each purpose, as bytes: borrowers mostly start in id order.
        self._last: dict[int, tuple[int, memoryview]] = {}
        self._overflow_keys: list[int] | None = None
        self._philox = np.random.Philox(key=0)
        self._philox_gen = np.random.Generator(self._philox)
        # The state dicts given to the two generators at each seek, made once and updated in
        # place: a dict and three arrays per seek cost more than the draws.
        self._philox_state = {
            "bit_generator": "Philox",
            "state": {"counter": [0, 0, 0, 0], "key": [0, 0]},  # lists: read faster
            "buffer": [0, 0, 0, 0],
            "buffer_pos": 4,
            "has_uint32": 0,
            "uinteger": 0,
        }
        self._chunk = np.empty(OVERFLOW_CHUNK)  # an overflow chunk's draws, before the copy
        self._chunk_bytes = memoryview(self._chunk).cast("B")
        self._pcg_state = {
            "bit_generator": "PCG64",
            "state": {"state": 0, "inc": 1},
            "has_uint32": 0,
            "uinteger": 0,
        }
        # Each block's PCG64 start (state and increment, as 64-bit halves; increment 0: not
        # known yet), for seeks: in one array, not a dict per block made during the run,
        # whose small objects would pin memory the run frees (see OutcomeTables).
        self._starts = np.zeros((len(PURPOSES), 0, 4), dtype=np.uint64)
        self._pcg = np.random.PCG64(0)
        self._pcg_gen = np.random.Generator(self._pcg)

    def _seq(self, *key: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(self.replication, *key))

    def trait(self, name: str) -> np.random.Generator:
        """Generator for one population trait (vectorised draws over all borrowers)."""
        return np.random.default_rng(self._seq(0, zlib.crc32(name.encode())))

    def generator(self, name: str) -> np.random.Generator:
        """Generator for a model-level purpose that is not tied to one borrower."""
        return np.random.default_rng(self._seq(1, zlib.crc32(name.encode())))

    def stream(self, purpose: str, borrower: int) -> Stream:
        """Borrower ``borrower``'s stream of uniforms for ``purpose``: ``next(stream)`` is the
        next draw, in a fixed order, for ever.

        A ``chain`` over :class:`_Rows`: the first ``K`` draws (a typed array), then the
        overflow chunks, drawn only if the row runs out. Each draw is a C-level step, and an
        open account's stream costs about 200 bytes plus its row.
        """
        pid = _PURPOSE_ID[purpose]
        return chain.from_iterable(_Rows(self.first_row(pid, borrower), self, pid, borrower))

    def row_rest(self, pid: int, borrower: int) -> array:
        """Draws ``HEAD`` to ``K`` of (purpose ``pid``, ``borrower``): the rest of a row
        whose stream holds only its head (:data:`HEAD`)."""
        head = _HEADS[pid]
        return self._seek(pid, borrower, head, _SIZES[pid] - head)

    def block_row(self, pid: int, borrower: int) -> array:
        """The first ``K`` draws of (purpose ``pid``, ``borrower``), from its block (only the
        head of them for a :data:`HEAD` purpose).

        A copy of the row (iterating it gives Python floats), not a view: a view would keep
        the whole block of 1,024 borrowers alive for as long as any of them has an open
        account, which in a long run is every block. This object keeps a weak reference to
        each block and the block it used last for the purpose, so a block is freed once the
        next one is in use; a row asked for after that gets the block drawn again,
        identically.
        """
        b, row = divmod(borrower, BLOCK)
        k = _SIZES[pid]
        last = self._last.get(pid)
        if last is None or last[0] != b:
            block = np.random.default_rng(self._seq(2, pid, b)).random((BLOCK, k))
            # The block's bytes, flat (the view holds the block): slicing it is cheaper than
            # taking a numpy row.
            last = self._last[pid] = (b, memoryview(block.reshape(-1)).cast("B"))
        out = array("d")
        at = row * k * 8
        out.frombytes(last[1][at : at + _HEADS[pid] * 8])
        return out

    def first_row(self, pid: int, borrower: int) -> array:
        """The first ``K`` draws of (purpose ``pid``, ``borrower``): its block row, drawn
        with its block, or alone for a :data:`BY_ROW` purpose."""
        if _PURPOSE_NAMES[pid] in BY_ROW:
            return self.lone_row(pid, borrower)
        return self.block_row(pid, borrower)

    def lone_row(self, pid: int, borrower: int) -> array:
        """Row ``borrower`` of its block (its head, for a :data:`HEAD` purpose), without
        drawing the block. Identical to :meth:`block_row`; about 5 us instead of 60."""
        return self._seek(pid, borrower, 0, _HEADS[pid])

    def _seek(self, pid: int, borrower: int, start: int, n: int) -> array:
        """Draws ``start`` to ``start + n`` of the row of ``borrower`` in its block: the
        block's generator (PCG64, one 64-bit output per uniform) from the block's start,
        advanced past the draws before them."""
        b, row = divmod(borrower, BLOCK)
        self._pcg.state = self._block_start(pid, b)
        self._pcg.advance(row * _SIZES[pid] + start)
        out = array("d")
        out.frombytes(self._pcg_gen.random(n).tobytes())
        return out

    def _block_start(self, pid: int, b: int) -> dict:
        """The PCG64 state of block ``b`` of purpose ``pid`` before its first draw (in the
        one state dict this object reuses)."""
        starts = self._starts
        if b >= starts.shape[1]:
            grown = np.zeros((len(PURPOSES), max(2 * b, 64), 4), dtype=np.uint64)
            grown[:, : starts.shape[1]] = starts
            self._starts = starts = grown
        s_hi, s_lo, i_hi, i_lo = starts[pid, b].tolist()
        if not i_lo | i_hi:  # the increment is odd: 0 means not known yet
            st = np.random.PCG64(self._seq(2, pid, b)).state["state"]
            s_hi, s_lo = divmod(st["state"], 1 << 64)
            i_hi, i_lo = divmod(st["inc"], 1 << 64)
            starts[pid, b] = (s_hi, s_lo, i_hi, i_lo)
        state = self._pcg_state
        inner = state["state"]
        inner["state"] = s_hi << 64 | s_lo
        inner["inc"] = i_hi << 64 | i_lo
        return state

    def overflow(self, pid: int, borrower: int, chunk: int) -> array:
        """Draws ``K + OVERFLOW_CHUNK * chunk`` onwards of (purpose ``pid``, ``borrower``).

        Counter-based: Philox keyed by (this replication's key for the purpose, borrower) at
        counter ``chunk``, so a chunk is a pure function of its coordinates, and costs one
        state change on a shared bit generator instead of a new ``Generator`` per borrower
        (about 3x cheaper).
        """
        keys = self._overflow_keys
        if keys is None:
            keys = self._seq(3).generate_state(len(PURPOSES), np.uint64).tolist()
            self._overflow_keys = keys
        state = self._philox_state
        inner = state["state"]
        inner["counter"][0] = chunk * _PHILOX_STEPS
        key = inner["key"]
        key[0] = keys[pid]
        key[1] = borrower
        self._philox.state = state
        self._philox_gen.random(out=self._chunk)
        out = array("d")
        out.frombytes(self._chunk_bytes)
        return out


class _Rows:
    """The arrays of draws of one stream, in order: its first row, the rest of the row (for
    a :data:`HEAD` purpose), then the overflow chunks, each drawn when the ``chain`` over
    this reaches it (most streams never need more than the first).

    One small object per stream, instead of a ``chain`` over a tuple of the row and a lazy
    overflow iterable (a tuple and its iterator: about 100 bytes a stream, with a million
    accounts open holding four to eight streams each).
    """

    __slots__ = ("row", "owner", "pid", "borrower", "chunk")

    def __init__(self, row: array, owner: Streams, pid: int, borrower: int) -> None:
        self.row, self.owner, self.pid, self.borrower = row, owner, pid, borrower
        self.chunk = -1 if _HEADS[pid] < _SIZES[pid] else 0
        """The next overflow chunk to draw; -1: the rest of the row comes first."""

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> array:
        row = self.row
        if row is not None:
            self.row = None  # the chain holds it while it is read; then it goes
            return row
        chunk = self.chunk
        self.chunk = chunk + 1
        if chunk < 0:
            return self.owner.row_rest(self.pid, self.borrower)
        return self.owner.overflow(self.pid, self.borrower, chunk)
