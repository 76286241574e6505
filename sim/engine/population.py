"""Vectorised sampling of the borrower population: segments, traits, emergency contacts.

Every trait is drawn for all ``n`` borrowers from its own stream (:meth:`Streams.trait`) as
standard normals or uniforms and only then transformed with the borrower's segment
parameters. So borrower i's underlying draws are the same under any scenario: changing a
segment's median shifts every borrower of that segment smoothly (common random numbers for
behavioural sweeps), and changing the population size only appends borrowers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cython
import numpy as np

from sim.engine.account import Borrower
from sim.engine.streams import Streams
from sim.spec import Population, Scenario

PROB_TRAITS = (
    "willingness",
    "ability",
    "sms_read",
    "robot_answer",
    "agent_answer",
    "new_number_answer",
)


@dataclass
class Traits:
    """Per-borrower arrays for the borrowers ``first`` to ``first + len(self) - 1``: borrower
    ``i`` is at index ``i - first`` (``first`` is 0 unless a shard drew only its range)."""

    segment: np.ndarray  # int: index into segment_names
    segment_names: tuple[str, ...]
    entered_day: np.ndarray  # float, days
    principal: np.ndarray  # yuan, rounded to the fen
    probs: dict[str, np.ndarray]  # PROB_TRAITS -> probability per borrower
    in_shock: np.ndarray  # bool
    shock_days: np.ndarray  # length of the income shock, days
    dark_at_entry: np.ndarray  # bool: phone dead at DPD 0
    n_contacts: np.ndarray  # 1..3
    contact_rel: np.ndarray  # (n, 3) int: index into relationship_names
    relationship_names: tuple[str, ...]
    contact_warned: np.ndarray  # (n, 3) bool
    contact_consent: np.ndarray  # (n, 3) bool
    call_time: np.ndarray  # uniform [0, 1): where in the calling window agents call the account
    first: int = 0  # id of the borrower at index 0

    def __len__(self) -> int:
        return len(self.segment)


def _logit_normal(median: np.ndarray, spread: float, z: np.ndarray) -> np.ndarray:
    """Probability with the given median and logit-scale sd; medians 0 and 1 stay exact."""
    m = np.clip(median, 1e-9, 1 - 1e-9)
    x = np.log(m / (1 - m)) + spread * z
    p = 1.0 / (1.0 + np.exp(-x))
    return np.where(median <= 0, 0.0, np.where(median >= 1, 1.0, p))


def _categorical(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    cum = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(cum, u, side="right"), len(weights) - 1)


def entry_days(pop: Population, n: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Day borrowers ``lo`` to ``hi - 1`` of ``n`` enter (become DPD 0): all at 0, or spread
    evenly over inflow_days."""
    hi = n if hi is None else hi
    if pop.arrival == "cohort":
        return np.zeros(hi - lo)
    return np.floor(np.arange(lo, hi) * pop.inflow_days / n)


_DISCARD_CHUNK = 1 << 20
"""Draws thrown away at a time when a trait's stream is moved past the borrowers before a
range (normals and exponentials take a varying number of raw outputs each, so they cannot
be skipped by advancing the generator)."""


def _trait_draws(
    streams: Streams, name: str, kind: str, lo: int, hi: int, width: int = 1
) -> np.ndarray:
    """Borrowers ``lo`` to ``hi - 1``'s draws of trait ``name`` (``kind``: ``random``,
    ``standard_normal`` or ``standard_exponential``; ``width`` per borrower): the same values
    as the rows ``lo:hi`` of one draw for the whole population, without holding it."""
    gen = streams.trait(name)
    skip = lo * width
    if kind == "random":  # one 64-bit output per uniform: skipped exactly
        gen.bit_generator.advance(skip)
    else:
        draw = getattr(gen, kind)
        for done in range(0, skip, _DISCARD_CHUNK):
            draw(min(_DISCARD_CHUNK, skip - done))
    out = getattr(gen, kind)((hi - lo) * width)
    return out.reshape(hi - lo, width) if width > 1 else out


def sample_traits(
    scenario: Scenario, streams: Streams, lo: int = 0, hi: int | None = None
) -> Traits:
    """Draw borrowers ``lo`` to ``hi - 1`` (default: the whole population of
    ``scenario.population.borrowers``). Borrower i's traits are the same whatever range it
    is drawn in: a shard draws only its own borrowers."""
    pop = scenario.population
    n = pop.borrowers
    hi = n if hi is None else hi
    names = tuple(pop.segments)
    segs = [pop.segments[k] for k in names]

    def draws(name: str, kind: str = "random", width: int = 1) -> np.ndarray:
        return _trait_draws(streams, name, kind, lo, hi, width)

    seg = _categorical(np.array([s.weight for s in segs]), draws("segment"))

    def col(attr: str) -> np.ndarray:
        return np.array([getattr(s, attr) for s in segs], dtype=float)[seg]

    z_principal = draws("principal", "standard_normal")
    principal = np.round(col("principal_median") * np.exp(col("principal_sigma") * z_principal), 2)
    probs = {
        t: _logit_normal(col(t), pop.trait_spread, draws(t, "standard_normal")) for t in PROB_TRAITS
    }
    in_shock = draws("shock") < col("shock_prob")
    shock_days = draws("shock_days", "standard_exponential") * col("shock_recovery_days")
    dark = draws("dark_at_entry") < col("unreachable_at_entry")

    c = pop.contacts
    rel_names = tuple(c.relationships)
    rel_w = np.array([c.relationships[k].weight for k in rel_names])
    n_contacts = 1 + _categorical(np.array(c.count_weights), draws("n_contacts"))
    rel = _categorical(rel_w, draws("contact_rel", width=3))
    warned = draws("contact_warned", width=3) < c.warned_prob
    consent = draws("contact_consent", width=3) < c.consent_prob
    return Traits(
        segment=seg,
        segment_names=names,
        entered_day=entry_days(pop, n, lo, hi),
        principal=np.maximum(principal, 0.01),
        probs=probs,
        in_shock=in_shock,
        shock_days=shock_days,
        dark_at_entry=dark,
        n_contacts=n_contacts,
        contact_rel=rel,
        relationship_names=rel_names,
        contact_warned=warned,
        contact_consent=consent,
        call_time=draws("call_time"),
        first=lo,
    )


def trait_rows(traits: Traits, ids: np.ndarray) -> list[tuple[Any, ...]]:
    """Trait values of borrowers ``ids`` (indices into ``traits``: ids less ``traits.first``)
    as plain Python tuples, in :func:`new_account`'s order.

    Converting a chunk of columns at once is ~20x faster than indexing numpy scalars
    borrower by borrower.
    """
    p = traits.probs
    cols = [
        traits.entered_day, traits.segment, traits.principal, p["willingness"], p["ability"],
        p["sms_read"], p["robot_answer"], p["agent_answer"], p["new_number_answer"],
        traits.in_shock, traits.shock_days, traits.dark_at_entry, traits.call_time,
    ]  # fmt: skip
    return list(zip(*(c[ids].tolist() for c in cols), strict=True))


@cython.locals(b=Borrower)
def new_account(
    i: int,
    row: tuple[Any, ...],
    traits: Traits,
    scenario: Scenario,
    streams: Streams,
    call_window: tuple[float, float],
) -> Borrower:
    """Borrower ``i``'s account at DPD 0, from its trait ``row`` (:func:`trait_rows`), with its
    random streams; agents call it at a fixed clock time inside ``call_window`` (fractions of a
    day: the shift and the calling hours), drawn once, which spreads the load over the day."""
    (entered, seg, principal, will, abil, p_sms, p_robot, p_agent, p_new, in_shock,
     shock_days, dark, call_time) = row  # fmt: skip
    name = traits.segment_names[seg]
    b = Borrower(i, name, scenario.population.segments[name], entered, principal)
    b.willingness, b.ability = will, abil
    b.p_sms, b.p_robot, b.p_agent, b.p_new = p_sms, p_robot, p_agent, p_new
    stream = streams.stream
    b.rs_pay, b.rs_call = stream("payment", i), stream("call", i)
    b.rs_msg, b.rs_life = stream("message", i), stream("life", i)
    # Most accounts never reach these rungs: their streams open on first use (Model.late).
    b.rs_contact = b.rs_platform = b.rs_plan = b.rs_agent = b.rs_talk = None
    b.in_shock = in_shock
    if in_shock:
        b.shock_end = entered + shock_days
    b.dark = dark
    lo, hi = call_window
    b.call_tod = lo + (hi - lo) * call_time
    return b
