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
    """Per-borrower arrays (length n), indexed by borrower id."""

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


def entry_days(pop: Population, n: int) -> np.ndarray:
    """Day each borrower enters (becomes DPD 0): all at 0, or spread evenly over inflow_days."""
    if pop.arrival == "cohort":
        return np.zeros(n)
    return np.floor(np.arange(n) * pop.inflow_days / n)


def sample_traits(scenario: Scenario, streams: Streams) -> Traits:
    """Draw the whole population of ``scenario.population.borrowers`` borrowers."""
    pop = scenario.population
    n = pop.borrowers
    names = tuple(pop.segments)
    segs = [pop.segments[k] for k in names]
    seg = _categorical(np.array([s.weight for s in segs]), streams.trait("segment").random(n))

    def col(attr: str) -> np.ndarray:
        return np.array([getattr(s, attr) for s in segs], dtype=float)[seg]

    z_principal = streams.trait("principal").standard_normal(n)
    principal = np.round(col("principal_median") * np.exp(col("principal_sigma") * z_principal), 2)
    probs = {
        t: _logit_normal(col(t), pop.trait_spread, streams.trait(t).standard_normal(n))
        for t in PROB_TRAITS
    }
    in_shock = streams.trait("shock").random(n) < col("shock_prob")
    shock_days = streams.trait("shock_days").exponential(1.0, n) * col("shock_recovery_days")
    dark = streams.trait("dark_at_entry").random(n) < col("unreachable_at_entry")

    c = pop.contacts
    rel_names = tuple(c.relationships)
    rel_w = np.array([c.relationships[k].weight for k in rel_names])
    n_contacts = 1 + _categorical(np.array(c.count_weights), streams.trait("n_contacts").random(n))
    rel = _categorical(rel_w, streams.trait("contact_rel").random((n, 3)))
    warned = streams.trait("contact_warned").random((n, 3)) < c.warned_prob
    consent = streams.trait("contact_consent").random((n, 3)) < c.consent_prob
    return Traits(
        segment=seg,
        segment_names=names,
        entered_day=entry_days(pop, n),
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
        call_time=streams.trait("call_time").random(n),
    )


def trait_rows(traits: Traits, ids: np.ndarray) -> list[tuple[Any, ...]]:
    """Trait values of borrowers ``ids`` as plain Python tuples, in :func:`new_account`'s order.

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
    b.rs_contact = b.rs_platform = b.rs_plan = b.rs_agent = None
    b.in_shock = in_shock
    if in_shock:
        b.shock_end = entered + shock_days
    b.dark = dark
    lo, hi = call_window
    b.call_tod = lo + (hi - lo) * call_time
    return b
