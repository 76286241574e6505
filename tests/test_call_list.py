"""The call list's order (sim.engine.call_list): the smallest code first, exactly as one heap
would give them, whatever order the codes come in, checked against a plain sorted list."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.engine.call_list import CallList


def test_ascending_codes_go_to_the_run_and_the_rest_to_the_heap() -> None:
    calls = CallList()
    calls.add([3, 5, 9])
    calls.add([4, 12])  # 4 is below the run's last code (9): the heap takes it
    assert list(calls.run) == [3, 5, 9, 12] and calls.heap == [4]
    assert [calls.pop() for _ in range(5)] == [3, 4, 5, 9, 12]
    with pytest.raises(IndexError):
        calls.pop()


# Each step: add a batch of codes, or pop some. Codes are unique, as order codes are.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(st.integers(0, 10**6), max_size=20)),
        st.tuples(st.just("pop"), st.integers(1, 15)),
        st.tuples(st.just("replace"), st.integers(0, 3)),
    ),
    max_size=40,
)


@given(steps)
def test_pops_in_ascending_order_like_a_heap(script: list[tuple[str, object]]) -> None:
    calls, reference, used = CallList(), [], set()
    for op, arg in script:
        if op == "add":
            fresh = [c for c in dict.fromkeys(arg) if c not in used]
            used.update(fresh)
            calls.add(fresh)
            reference.extend(fresh)
        elif op == "pop":
            for _ in range(arg):
                if not reference:
                    with pytest.raises(IndexError):
                        calls.pop()
                    break
                reference.sort()
                assert calls.pop() == reference.pop(0)
        else:  # keep every code not divisible by arg + 2 (a compaction)
            kept = [c for c in calls if c % (arg + 2)]
            assert sorted(calls) == sorted(reference)
            calls.replace(kept)
            reference = kept
        assert len(calls) == len(reference)
    assert [calls.pop() for _ in range(len(reference))] == sorted(reference)
