"""Account steps per borrower, by kind: which agenda entries the engine's steps go to.

Runs the baseline (N borrowers, default 100,000) with every agenda handler wrapped in a
counter, and prints the steps per borrower by entry (``pay``, ``sms``, ``robot``, ``agent``,
...), the call attempts run on in a row inside one robot, agent or agency step (each also
a step: :meth:`sim.engine.rungs.calls.Calls.dial`), the total (the run's ``events`` meta), and
the SimPy events the run scheduled (arrivals and the dialer's wake-ups).

    python benchmarks/events_by_kind.py [N]

Not part of ``make test``; docs/performance.md quotes it.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from sim.engine.core import Model
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml", {"population.borrowers": n})
    model = Model(sc, 1)
    steps: Counter[str] = Counter()

    def counted(name, handler):
        def step(b, t, due):
            steps[name] += 1
            handler(b, t, due)

        return step

    model.handlers = [counted(model.agenda[k], h) for k, h in enumerate(model.handlers)]
    scheduled = 0
    schedule = model.env.schedule

    def counting_schedule(*args, **kwargs):
        nonlocal scheduled
        scheduled += 1
        schedule(*args, **kwargs)

    model.env.schedule = counting_schedule  # type: ignore[method-assign]
    records = model.run()
    total = int(records.meta["events"])
    borrowers = int(records.meta["borrowers"])
    print(f"{'kind':<34} {'steps':>12} {'per borrower':>13}")
    for name, count in steps.most_common():
        print(f"{name:<34} {count:>12,} {count / borrowers:>13.2f}")
    in_a_row = total - sum(steps.values())
    print(f"{'call attempts run on in a row':<34} {in_a_row:>12,} {in_a_row / borrowers:>13.2f}")
    print(f"{'account steps (meta events)':<34} {total:>12,} {total / borrowers:>13.2f}")
    print(f"{'SimPy events scheduled':<34} {scheduled:>12,} {scheduled / borrowers:>13.2f}")


if __name__ == "__main__":
    main()
