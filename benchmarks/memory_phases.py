"""Resident memory through the phases of one baseline run: where the peak falls.

A thread samples the process's resident memory every 0.2 s; the run marks its phases
(population drawn, simulation done, tables built, summary, run directory written) and prints
the memory at each and the peak so far.

    python benchmarks/memory_phases.py 300000

Not part of ``make test``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from sim.engine import core
from sim.results.rundir import write_run
from sim.results.summary import summarize
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]
_peak = [0]


def rss_mb() -> int:
    """Resident memory of this process now (MB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def _watch() -> None:
    while True:
        _peak[0] = max(_peak[0], rss_mb())
        time.sleep(0.2)


def mark(phase: str) -> None:
    time.sleep(0.3)  # let the sampler see the phase's end
    print(f"{phase:34s} {rss_mb():6,d} MB now, {_peak[0]:6,d} MB peak so far", flush=True)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    threading.Thread(target=_watch, daemon=True).start()
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml", {"population.borrowers": n})
    mark("imports and scenario")
    build_tables = core.Model._records

    def records(model: core.Model):
        mark("simulation done")
        out = build_tables(model)
        mark("result tables built")
        return out

    core.Model._records = records  # type: ignore[method-assign]
    model = core.Model(sc, sc.seed)
    mark("population drawn")
    rec = model.run(None)
    summary = summarize(rec, sc)
    mark("summary")
    out = Path(tempfile.mkdtemp()) / "run"
    try:
        write_run(out, rec, summary, sc, sc.seed)
        mark("run directory written")
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
