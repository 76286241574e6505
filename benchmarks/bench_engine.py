"""Benchmark: the engine against a bare SimPy daily tick, in one process.

Times a baseline run of N borrowers x D days (default 100,000 x 180) and a bare SimPy loop
of one timeout per borrower-day, and prints both and their ratio: ``--repeat`` pairs (default
3), interleaved, and the ratio of the medians. The target is a ratio of at most 0.33: the
model must be at least 3x faster than a daily tick, which it can only be if borrowers sleep
until their next event.

    python benchmarks/bench_engine.py                    # 100,000 x 180
    python benchmarks/bench_engine.py --borrowers 20000  # quicker look
    python benchmarks/bench_engine.py --against ../old   # this engine vs another checkout

``--scaling 10000,100000,300000,1000000`` (what ``make bench`` adds) then runs each size in
a fresh process (three times, the median, up to 100,000 borrowers) and prints a table: the
process's wall time, the simulation's, the time per borrower against the smallest size's
(flat within 1.2x is the target) and the process's peak RSS (a million borrowers in at most
2 GB is the target).

``--against DIR`` times this checkout's engine against another checkout of the project (with
its own ``.venv``, e.g. ``git worktree add ../old REV && make -C ../old .venv/.installed``):
the two run the same baseline in fresh processes, alternating, and the printout gives both
medians and their ratio. That is how a restructuring shows it costs no speed.

The engine's modules run compiled when the install could build them (``setup.py``);
``OVERDUE_PURE_PYTHON=1 make bench`` times the pure-Python engine. The printout says which ran
(and names any module edited since the build, which runs from source until a reinstall).

Not part of ``make test``; run it with ``make bench``.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import simpy

from sim import _accel
from sim.engine.core import simulate
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def bare_daily_tick(borrowers: int, days: int) -> float:
    """Seconds for a SimPy loop of one timeout per borrower-day (the naive design)."""

    def borrower(env: simpy.Environment):
        for _ in range(days):
            yield env.timeout(1)

    env = simpy.Environment()
    for _ in range(borrowers):
        env.process(borrower(env))
    gc.collect()
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def model_run(scenario_path: Path, borrowers: int, days: int, seed: int) -> tuple[float, int]:
    """Seconds for one baseline replication (population sampling included), and its events."""
    sc = load_scenario(
        scenario_path, {"population.borrowers": borrowers, "days": float(days), "seed": seed}
    )
    gc.collect()
    t0 = time.perf_counter()
    rec = simulate(sc)
    return time.perf_counter() - t0, int(rec.meta["events"])


_TIMED_RUN = """
import gc, json, sys, time
try:
    from sim.engine import simulate
    from sim.spec import load_scenario
except ImportError:  # a checkout from before the package layout (sim.model, sim.scenario)
    from sim.model import simulate
    from sim.scenario import load_scenario
path, n, days, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
sc = load_scenario(path, {"population.borrowers": n, "days": days, "seed": seed})
gc.collect()
t0 = time.perf_counter()
rec = simulate(sc)
print(json.dumps({"seconds": time.perf_counter() - t0, "events": int(rec.meta["events"])}))
"""


def fresh_process(python: Path | str, code: str, args: list, cwd: Path, what: str) -> dict:
    """Run ``code`` with ``args`` in a fresh interpreter; its last line of output, as JSON.
    Exits naming ``what`` if the run fails."""
    proc = subprocess.run(
        [str(python), "-c", code, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"{what} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def timed_run(checkout: Path, scenario_path: Path, borrowers: int, days: int, seed: int) -> float:
    """Seconds for one baseline replication by the engine of ``checkout``, in a fresh process
    of that checkout's virtualenv."""
    python = checkout / ".venv" / "bin" / "python"
    args = [scenario_path, borrowers, days, seed]
    return float(
        fresh_process(python, _TIMED_RUN, args, checkout, f"--against: {checkout}")["seconds"]
    )


_SCALED_RUN = """
import json, sys, time
t0 = time.perf_counter()
from sim.engine import simulate
from sim.spec import load_scenario
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sc = load_scenario(path, {"population.borrowers": n, "seed": seed})
t1 = time.perf_counter()
rec = simulate(sc)
t2 = time.perf_counter()
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child would report its
# parent's peak (this benchmark's own runs) whenever that was higher.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
print(json.dumps({"simulate": t2 - t1, "process": t2 - t0, "peak_mb": peak_kb / 1024,
                  "events": int(rec.meta["events"])}))
"""


REPEATED_UP_TO = 100_000
"""Scaling sizes up to this many borrowers run three times (median); larger ones once."""


def scaling(scenario_path: Path, sizes: list[int], seed: int) -> list[dict]:
    """Wall time and peak RSS of a run per size, each in a fresh process (the whole
    process: imports, population, simulation and the result tables; no files written).

    Sizes up to :data:`REPEATED_UP_TO` run three times and give the run of median simulation
    time: a run of 10,000 borrowers takes half a second, and the smallest size is the base of
    every ratio, so one noisy run of it would move them all (measured: 49 to 63 us per
    borrower in runs a few minutes apart)."""
    rows = []
    for n in sizes:
        what = f"scaling run of {n:,} borrowers"
        args = [scenario_path, n, seed]
        runs = [
            fresh_process(sys.executable, _SCALED_RUN, args, ROOT, what)
            for _ in range(3 if n <= REPEATED_UP_TO else 1)
        ]
        runs.sort(key=lambda r: r["simulate"])
        row = {"borrowers": n, "runs": len(runs), **runs[len(runs) // 2]}
        row["us_per_borrower"] = row["simulate"] / n * 1e6
        rows.append(row)
    return rows


def print_scaling(rows: list[dict]) -> None:
    """The scaling table, with each size's time per borrower against the smallest's."""
    base = rows[0]["us_per_borrower"]
    print(f"{'borrowers':>10} {'process s':>10} {'simulate s':>11} {'us/borrower':>12} "
          f"{'vs first':>9} {'peak RSS':>9}")  # fmt: skip
    for r in rows:
        print(f"{r['borrowers']:>10,} {r['process']:>10.1f} {r['simulate']:>11.1f} "
              f"{r['us_per_borrower']:>12.1f} {r['us_per_borrower'] / base:>9.2f} "
              f"{r['peak_mb']:>7.0f} MB")  # fmt: skip


def against(args: argparse.Namespace) -> None:
    """This checkout's engine against another's, alternating, in fresh processes."""
    other = args.against.resolve()
    if not (other / ".venv" / "bin" / "python").exists():
        sys.exit(f"--against: {other} has no .venv (run `make .venv/.installed` there)")
    this_times, other_times = [], []
    for r in range(args.repeat):
        a = timed_run(ROOT, args.scenario, args.borrowers, args.days, args.seed)
        b = timed_run(other, args.scenario, args.borrowers, args.days, args.seed)
        this_times.append(a)
        other_times.append(b)
        print(f"pair {r + 1}: this {a:6.2f} s, {other.name} {b:6.2f} s, ratio {a / b:.3f}")
    a, b = statistics.median(this_times), statistics.median(other_times)
    print(f"this      {a:8.2f} s  median of {args.repeat}")
    print(f"{other.name:<9} {b:8.2f} s  median of {args.repeat}")
    print(f"ratio     {a / b:8.3f}    (this / {other.name}; above 1 is slower)")
    if args.json:
        doc = {
            "this_seconds_each": [round(x, 2) for x in this_times],
            "other_seconds_each": [round(x, 2) for x in other_times],
            "other": str(other),
            "ratio_of_medians": round(a / b, 3),
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--borrowers", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    ap.add_argument(
        "--repeat", type=int, default=3, help="timed pairs, interleaved (default 3; median)"
    )
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument(
        "--against", type=Path, metavar="DIR", help="time this engine against another checkout"
    )
    ap.add_argument(
        "--scaling",
        default="",
        metavar="N,N,...",
        help="also run these sizes once each in fresh processes and print wall time, time "
        "per borrower and peak RSS (make bench: 10000,100000,300000,1000000)",
    )
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat must be at least 1, got {args.repeat}")
    try:
        sizes = [int(x) for x in args.scaling.split(",") if x.strip()]
    except ValueError:
        ap.error(f"--scaling: whole numbers separated by commas, got {args.scaling!r}")
    if any(n < 1 for n in sizes):
        ap.error(f"--scaling: sizes must be at least 1, got {args.scaling!r}")
    if args.against is not None:
        against(args)
        return

    # Model and bare tick alternate, so a slow spell of a shared machine hits both; the
    # verdict uses the medians.
    model_times, bare_times = [], []
    for r in range(args.repeat):
        model_s, events = model_run(args.scenario, args.borrowers, args.days, args.seed)
        bare_s = bare_daily_tick(args.borrowers, args.days)
        model_times.append(model_s)
        bare_times.append(bare_s)
        print(f"pair {r + 1}: model {model_s:6.2f} s, bare tick {bare_s:6.2f} s, "
              f"ratio {model_s / bare_s:.3f}")  # fmt: skip
    model_s, bare_s = statistics.median(model_times), statistics.median(bare_times)
    ratio = model_s / bare_s
    engine = _accel.describe()
    figures = {
        "engine": engine,
        "borrowers": args.borrowers,
        "days": args.days,
        "repeat": args.repeat,
        "model_seconds": round(model_s, 2),
        "model_seconds_each": [round(x, 2) for x in model_times],
        "model_events": events,
        "events_per_borrower": round(events / args.borrowers, 2),
        "bare_tick_seconds": round(bare_s, 2),
        "bare_tick_seconds_each": [round(x, 2) for x in bare_times],
        "bare_tick_events": args.borrowers * args.days,
        "ratio": round(ratio, 3),
        "ratio_each": [round(m / b, 3) for m, b in zip(model_times, bare_times, strict=True)],
        "target": 0.33,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
    }
    print(f"engine    {engine}")
    print(
        f"model     {model_s:8.2f} s  ({events:,} events, {events / args.borrowers:.1f}/borrower)"
        f"  median of {args.repeat}"
    )
    print(f"bare tick {bare_s:8.2f} s  ({args.borrowers * args.days:,} timeouts)")
    print(f"ratio     {ratio:8.3f}    (target <= 0.33: {'met' if ratio <= 0.33 else 'NOT met'})")
    if sizes:
        print()
        rows = scaling(args.scenario, sizes, args.seed)
        print_scaling(rows)
        figures["scaling"] = rows
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
