"""The random-number tree (sim.engine.streams): reproducible, separated, common random numbers."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from conftest import scenario, seg

from sim.engine.core import simulate
from sim.engine.streams import BLOCK, HEAD, PURPOSES, Streams


def _draws(streams: Streams, purpose: str, borrower: int, n: int) -> list[float]:
    s = streams.stream(purpose, borrower)
    return [next(s) for _ in range(n)]


def _n(purpose: str) -> int:
    """More draws than one block row holds: 3 rows and a bit (crosses into the overflow)."""
    return 3 * PURPOSES[purpose] + 5


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_same_key_same_sequence_past_the_block(purpose: str) -> None:
    n = _n(purpose)
    a = _draws(Streams(42, 1), purpose, 7, n)
    b = _draws(Streams(42, 1), purpose, 7, n)
    assert a == b
    assert all(0.0 <= u < 1.0 for u in a)
    assert len(set(a)) == n  # the continuation is not a replay of the first K draws
    # the first K draws do not depend on how far the stream is read afterwards
    k = PURPOSES[purpose]
    assert _draws(Streams(42, 1), purpose, 7, k) == a[:k]


@pytest.mark.parametrize(
    "other",
    [
        dict(seed=42, replication=1, purpose="call", borrower=8),  # another borrower
        dict(seed=42, replication=1, purpose="payment", borrower=7),  # another purpose
        dict(seed=42, replication=2, purpose="call", borrower=7),  # another replication
        dict(seed=43, replication=1, purpose="call", borrower=7),  # another seed
        dict(seed=42, replication=1, purpose="call", borrower=7 + BLOCK),  # same row, next block
    ],
)
def test_different_keys_give_different_sequences(other: dict) -> None:
    n = _n("call")
    base = _draws(Streams(42, 1), "call", 7, n)
    streams = Streams(other["seed"], other["replication"])
    got = _draws(streams, other["purpose"], other["borrower"], n)
    k = PURPOSES["call"]
    assert got[:k] != base[:k]  # in the block
    assert got[k:] != base[k:]  # and past it
    assert not set(got) & set(base)  # no shared values at all


def test_different_borrowers_are_uncorrelated() -> None:
    st = Streams(5)
    x = np.array([_draws(st, "message", b, 40) for b in range(300)])
    # each borrower's first draw, across borrowers, looks uniform (mean 1/2, sd 1/sqrt(12n))
    assert abs(x[:, 0].mean() - 0.5) < 4 * (12 * 300) ** -0.5
    corr = np.corrcoef(x[:150].ravel(), x[150:].ravel())[0, 1]
    assert abs(corr) < 4 / np.sqrt(150 * 40)


@pytest.mark.parametrize("r", [0, 1, 3])
def test_streams_r_is_the_rth_child_of_the_root_seed(r: int) -> None:
    seed = 2024
    child = np.random.SeedSequence(seed).spawn(r + 1)[r]
    assert child.spawn_key == (r,)
    for name in ("segment", "principal", "willingness"):
        key = child.spawn_key + (0, zlib.crc32(name.encode()))
        expected = np.random.default_rng(np.random.SeedSequence(child.entropy, spawn_key=key))
        got = Streams(seed, r).trait(name)
        np.testing.assert_array_equal(got.random(50), expected.random(50))
    # and not the child of another replication
    other = Streams(seed, r + 1).trait("segment").random(50)
    assert not np.array_equal(Streams(seed, r).trait("segment").random(50), other)


def test_trait_and_generator_streams_are_reproducible_and_distinct() -> None:
    st = Streams(9, 0)
    a = st.trait("principal").standard_normal(20)
    np.testing.assert_array_equal(a, Streams(9, 0).trait("principal").standard_normal(20))
    assert not np.array_equal(a, st.trait("ability").standard_normal(20))
    g = st.generator("principal").standard_normal(20)
    assert not np.array_equal(a, g)
    np.testing.assert_array_equal(g, Streams(9, 0).generator("principal").standard_normal(20))


def test_a_borrowers_stream_ignores_other_borrowers_draws() -> None:
    """Common random numbers: borrower i's k-th draw is fixed, whatever others consume."""
    n = _n("payment")
    alone = {b: _draws(Streams(11, 0), "payment", b, n) for b in (3, 4, BLOCK + 3)}

    st = Streams(11, 0)
    busy = st.stream("payment", 4)
    for _ in range(10 * PURPOSES["payment"]):  # a neighbour in the block reads many rows ahead
        next(busy)
    s3 = st.stream("payment", 3)
    s_far = st.stream("payment", BLOCK + 3)
    got3, got_far = [], []
    for _ in range(n):  # interleaved with each other and with the neighbour
        got3.append(next(s3))
        next(busy)
        got_far.append(next(s_far))
    assert got3 == alone[3]
    assert got_far == alone[BLOCK + 3]
    # and the neighbour's own sequence is unchanged by the interleaving
    again = Streams(11, 0).stream("payment", 4)
    assert [next(again) for _ in range(n)] == alone[4]


def test_creation_order_does_not_matter() -> None:
    forward, backward = Streams(1), Streams(1)
    fwd = {b: forward.stream("life", b) for b in range(0, 2 * BLOCK, 97)}
    bwd = {b: backward.stream("life", b) for b in reversed(range(0, 2 * BLOCK, 97))}
    for b in fwd:
        assert [next(fwd[b]) for _ in range(30)] == [next(bwd[b]) for _ in range(30)]


def test_negative_seed_is_rejected() -> None:
    with pytest.raises(ValueError):
        Streams(-1)


# --------------------------------------------------------------------------- in the engine


def test_population_is_prefix_stable_and_policy_independent() -> None:
    """Borrower i's traits do not depend on the population size or on the policy."""
    mix = {
        "population.trait_spread": 0.7,
        **seg(principal_sigma=1.0, sms_read=0.5, base_intensity=0.05),
        "population.segments.other.new": True,
        "population.segments.other.weight": 1.0,
        "population.segments.other.principal_median": 5000.0,
    }
    small = simulate(scenario(mix, {"population.borrowers": 40}, days=5), 3).outcomes
    large = simulate(scenario(mix, {"population.borrowers": 90}, days=5), 3).outcomes
    other_policy = simulate(
        scenario(mix, {"population.borrowers": 40, "ladder.sms.enabled": True}, days=5), 3
    ).outcomes
    for col in ("segment", "principal", "entered_day"):
        np.testing.assert_array_equal(small[col], large[col].iloc[:40])
        np.testing.assert_array_equal(small[col], other_policy[col])
    assert small["segment"].nunique() == 2


def test_a_policy_change_leaves_unrelated_borrowers_alone() -> None:
    """Switching a rung on changes nothing for borrowers it never touches: SMS sent on day 3
    cannot change a repayment that happens before day 3."""
    base = {
        "population.borrowers": 300,
        **seg(base_intensity=0.2, sms_read=1.0, contact_jump=2.0, full_payment_prob=1.0),
        "ladder.sms.days": [3.0],
        "ladder.sms.hour": 0.0,
    }
    off = simulate(scenario(base, days=20), 8).outcomes
    on = simulate(scenario(base, {"ladder.sms.enabled": True}, days=20), 8).outcomes
    early = off["resolved_day"] < 3.0
    assert early.sum() > 50
    np.testing.assert_array_equal(off["resolved_day"][early], on["resolved_day"][early])
    assert not np.array_equal(off["resolved_day"][~early], on["resolved_day"][~early])


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_a_row_drawn_alone_equals_its_row_in_the_block(purpose: str) -> None:
    """Streams opened late draw their row alone (Streams.lone_row), and a stream holding only
    the head of its row draws the rest when it reaches it (Streams.row_rest); the numbers
    must be the block's, drawn independently here with numpy: the row of a block of 1,024
    borrowers from the block's own generator, then the overflow."""
    s = Streams(11, 3)
    pid, k = list(PURPOSES).index(purpose), PURPOSES[purpose]
    head = HEAD.get(purpose, k)
    for borrower in (0, 1, 1023, 1024, 5 * BLOCK + 517):
        b, row = divmod(borrower, BLOCK)
        seq = np.random.SeedSequence(11, spawn_key=(3, 2, pid, b))
        block = np.random.default_rng(seq).random((BLOCK, k))
        assert list(s.lone_row(pid, borrower)) == block[row, :head].tolist()
        assert list(s.block_row(pid, borrower)) == block[row, :head].tolist()
        if head < k:
            assert list(s.row_rest(pid, borrower)) == block[row, head:].tolist()
        drawn = _draws(s, purpose, borrower, k + 3)
        assert drawn[:k] == block[row].tolist()
        assert drawn[k:] == list(s.overflow(pid, borrower, 0))[:3]


@pytest.mark.parametrize("purpose", ["call", "payment"])
def test_the_overflow_is_one_philox_stream_whatever_the_chunk(purpose: str) -> None:
    """Past its row a stream reads consecutive chunks of one counter-based stream, keyed by
    (the replication's key for the purpose, borrower): the draws equal numpy's own Philox
    generator with that key read in one go, across several chunk boundaries."""
    s = Streams(11, 3)
    pid, k, borrower = list(PURPOSES).index(purpose), PURPOSES[purpose], 5 * BLOCK + 517
    keys = np.random.SeedSequence(11, spawn_key=(3, 3)).generate_state(len(PURPOSES), np.uint64)
    expected = np.random.Generator(
        np.random.Philox(key=np.array([keys[pid], borrower], np.uint64))
    ).random(300)
    drawn = _draws(s, purpose, borrower, k + 300)
    assert drawn[k:] == expected.tolist()
