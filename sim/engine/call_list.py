"""The call list's order: the order codes of the accounts waiting for a dial, smallest first.

:mod:`sim.engine.dialer` keeps the accounts on its list as integer order codes (the priority
key, then the entry number: :func:`order_code`) and takes the smallest
each time it dials. A heap does that in O(log n) per account; but codes mostly arrive in
ascending order (a cohort worked oldest first, or first listed, is in entry order: nine in ten
joins measured on the baseline), and a list of ascending codes gives its smallest in O(1). So
the codes are kept in two parts: an ascending **run** (a deque) that takes every code not
below its last, and a **heap** for the others. The smallest is the smaller of the two heads.
Codes are unique (the entry number is in them), so the order is exactly the one heap's.
"""

from __future__ import annotations

import heapq
import struct
from collections import deque
from collections.abc import Iterable, Iterator

SEQ_BITS = 40  # entry numbers below 2**40: a trillion listings per run
SEQ_MASK = (1 << SEQ_BITS) - 1
MAX_RANKED_DAYS = 1 << (62 - SEQ_BITS)
"""Entry days a population may have for their ranks to lead the order codes
(``Dialer._day_code`` in :mod:`sim.engine.dialer`)."""
_TOP = 1 << 63
_ALL = (1 << 64) - 1
_double, _uint64 = struct.Struct("<d"), struct.Struct("<Q")


def order_code(key: float, seq: int) -> int:
    """One integer that sorts like ``(key, seq)``: the call list holds these.

    A heap of ints compares each pair in one step; a heap of ``(key, seq, account)`` tuples
    compares keys, finds them equal (a cohort's accounts all entered together) and compares
    again: popping the list was a tenth of the engine's time. The key's IEEE-754 bits are
    mapped to an unsigned integer in the same order (negatives flipped, positives above
    them), and the entry number fills the low bits."""
    bits = _uint64.unpack(_double.pack(key + 0.0))[0]  # + 0.0: -0.0 sorts as 0.0
    bits = bits ^ _ALL if bits & _TOP else bits | _TOP
    return bits << SEQ_BITS | seq


class CallList:
    """Order codes, popped smallest first (see the module docstring)."""

    __slots__ = ("heap", "run")

    def __init__(self) -> None:
        self.heap: list[int] = []
        self.run: deque[int] = deque()

    def __len__(self) -> int:
        return len(self.heap) + len(self.run)

    def __iter__(self) -> Iterator[int]:
        """The codes, in no particular order."""
        yield from self.run
        yield from self.heap

    def add(self, codes: Iterable[int]) -> None:
        """Put ``codes`` on the list."""
        run, heap = self.run, self.heap
        last = run[-1] if run else -1
        others = []
        for code in codes:
            if code > last:
                run.append(code)
                last = code
            else:
                others.append(code)
        if len(others) > len(heap):  # one heapify beats many pushes
            heap.extend(others)
            heapq.heapify(heap)
        else:
            for code in others:
                heapq.heappush(heap, code)

    def pop(self) -> int:
        """Remove and return the smallest code (``IndexError`` if the list is empty)."""
        heap, run = self.heap, self.run
        if heap and (not run or heap[0] < run[0]):
            return heapq.heappop(heap)
        return run.popleft()

    def replace(self, codes: Iterable[int]) -> None:
        """The list becomes ``codes`` (re-keyed or compacted), kept as one ascending run."""
        self.heap = []
        self.run = deque(sorted(codes))

    def clear(self) -> None:
        self.heap = []
        self.run = deque()
