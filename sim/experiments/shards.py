"""One large run split into shards by borrower, simulated in parallel, merged exactly.

``run_sharded(scenario, shards=K)`` runs shard k of K (the k-th of K equal ranges of borrower
ids, with its share of the agent team: :func:`sim.engine.core.shard_share`) as one unit of
work each, on local worker processes or a Dask cluster, and merges their records
(:func:`sim.results.merge.merge_records`): outcomes and monthly rows concatenated, daily
counters summed; the summary is then computed from the merged tables.

What holds: borrower i has the same traits and the same random numbers whatever K is
(common random numbers), and the result for a given K is identical on any number of workers
or machines. What changes with K: each shard has its own call list and its share of the
agents, as if each portfolio had its own floor. Borrowers who never meet an agent have the
same history for every K; the others differ by how the floors' queues differ, within
replication noise (docs/performance.md has the measurement).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.experiments.execution import Runner, Task
from sim.results.merge import merge_records
from sim.results.records import Records
from sim.spec import Scenario


def simulate_shard(scenario: Scenario, seed: int, k: int, shards: int, trace: bool) -> Records:
    """Shard ``k`` of ``shards`` (the unit of work of a worker)."""
    from sim.engine import simulate  # here: reading results needs no engine

    return simulate(scenario, seed, trace=trace, shard=(k, shards))


def run_sharded(
    scenario: Scenario,
    shards: int,
    *,
    seed: int | None = None,
    workers: int = 1,
    scheduler: Any = None,
    trace: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Records:
    """Simulate ``scenario`` as ``shards`` shards and return the merged records."""
    if shards < 1:
        raise ValueError(f"shards: must be at least 1, got {shards}")
    seed = scenario.seed if seed is None else seed
    tasks: list[Task] = [
        (k, simulate_shard, (scenario, seed, k, shards, trace)) for k in range(shards)
    ]
    parts: dict[int, Records] = {}
    with Runner(min(workers, shards), scheduler) as runner:
        for k, records in runner.run(tasks):
            parts[int(k)] = records  # type: ignore[arg-type]
            if progress is not None:
                progress(len(parts), shards)
    return merge_records([parts[k] for k in range(shards)])
