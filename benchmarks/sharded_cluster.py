"""A large book on a Dask ``LocalCluster`` of this machine: ``overdue run --shards K``.

Starts a LocalCluster (``--cluster-workers`` processes, one thread each), runs the baseline
with ``N`` borrowers split into ``K`` shards through the command line's ``--scheduler``, and
prints the whole run's wall time, each shard's time on its worker (from the scheduler's task
stream), each worker's peak resident memory, and this process's (which merges the shards
and writes the run directory).

    python benchmarks/sharded_cluster.py 4000000 4 --out /tmp/book4m

Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """This process's high-water resident memory (MB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    from dask.distributed import Client, LocalCluster, get_task_stream

    from sim.cli import main as overdue

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("borrowers", type=int)
    ap.add_argument("shards", type=int)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cluster-workers", type=int, default=2)
    args = ap.parse_args()

    with (
        LocalCluster(
            n_workers=args.cluster_workers, threads_per_worker=1, memory_limit=0,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        t0 = time.time()
        with get_task_stream(client) as tasks:  # each shard's compute time, by worker
            code = overdue([
                "run", str(ROOT / "scenarios" / "baseline.toml"),
                "--borrowers", str(args.borrowers), "--shards", str(args.shards),
                "--scheduler", cluster.scheduler_address, "--out", str(args.out), "--quiet",
            ])  # fmt: skip
        wall = time.time() - t0
        stream = tasks.data
        workers = client.run(peak_rss_mb)
    print(f"exit {code}; {args.borrowers:,} borrowers in {args.shards} shards on "
          f"{args.cluster_workers} workers: {wall:.0f} s wall")  # fmt: skip
    for task in sorted(stream, key=lambda t: t["startstops"][0]["start"]):
        spans = [s for s in task["startstops"] if s["action"] == "compute"]
        if spans:
            s = spans[0]
            print(f"  shard task {task['key']}: {s['stop'] - s['start']:.0f} s on {task['worker']}")
    for address, mb in sorted(workers.items()):
        print(f"  worker {address}: peak RSS {mb:,.0f} MB")
    print(f"  this process (merge, summary, run directory): peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
