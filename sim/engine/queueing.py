"""Queueing-theory references for a team of agents: Erlang C (M/M/c) and Erlang A (M/M/c+M).

Computed here rather than taken from a package (none maintained on PyPI covers Erlang A):

* **Erlang C** in closed form, through the Erlang B recursion (numerically stable for
  hundreds of agents): ``P(wait) = c B / (c - a (1 - B))`` with offered load ``a = lambda /
  mu``, and mean wait ``P(wait) / (c mu - lambda)``.
* **Erlang A** (Palm's model, exponential patience at rate ``theta``) as the stationary law of
  its birth-death chain: births at ``lambda``, deaths at ``min(n, c) mu + (n - c)+ theta``,
  truncated far in the tail. By PASTA an arrival waits with probability ``P(N >= c)``; calls
  abandon at rate ``theta E[(N - c)+]``, so ``P(abandon) = theta E[Q] / lambda``, and the
  mean wait (of all arrivals) is ``E[Q] / lambda`` by Little's law.

With ``theta = 0`` and ``lambda < c mu`` the chain gives Erlang C again (a test checks the two
agree). Rates are per minute, waits in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QueueFigures:
    """Stationary figures of a queue (waits in minutes)."""

    p_wait: float
    """Probability an arrival waits at all."""
    mean_wait: float
    """Mean wait of all arrivals (abandoning ones until they hang up)."""
    p_abandon: float = 0.0
    utilisation: float = 0.0
    """Share of agent time busy."""


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` (the stable recursion)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, arrival_rate: float, service_rate: float) -> QueueFigures:
    """M/M/c: ``c`` agents, Poisson arrivals, exponential handle times, nobody hangs up."""
    a = arrival_rate / service_rate
    if a >= c:
        raise ValueError(f"load {a:g} needs more than {c} agents (utilisation >= 1)")
    b = erlang_b(c, a)
    p_wait = c * b / (c - a * (1.0 - b))
    return QueueFigures(p_wait, p_wait / (c * service_rate - arrival_rate), 0.0, a / c)


def erlang_a(
    c: int, arrival_rate: float, service_rate: float, abandon_rate: float, tail: int = 4000
) -> QueueFigures:
    """M/M/c+M: as :func:`erlang_c`, and each waiting caller hangs up at ``abandon_rate``
    (mean patience ``1 / abandon_rate`` minutes). ``tail``: queue lengths kept beyond ``c``."""
    n = np.arange(c + tail + 1)
    deaths = np.minimum(n, c) * service_rate + np.maximum(n - c, 0) * abandon_rate
    # log pi_n = sum_{k<=n} log(lambda / death_k): a running sum keeps huge loads finite
    log_pi = np.concatenate(([0.0], np.cumsum(np.log(arrival_rate / deaths[1:]))))
    pi = np.exp(log_pi - log_pi.max())
    pi /= pi.sum()
    if pi[-1] > 1e-12:
        raise ValueError("tail: the queue is truncated where it still has mass; raise it")
    queue = np.maximum(n - c, 0)
    mean_queue = float((pi * queue).sum())
    busy = float((pi * np.minimum(n, c)).sum())
    return QueueFigures(
        p_wait=float(pi[c:].sum()),
        mean_wait=mean_queue / arrival_rate,
        p_abandon=abandon_rate * mean_queue / arrival_rate,
        utilisation=busy / c,
    )
