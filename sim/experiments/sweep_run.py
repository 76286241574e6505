"""Running a sweep: units of work, the resumable result store, local and Dask execution.

Every (design point, replication) is one unit with a stable id (``p00012-r003``). Its
headline metrics are written atomically into the sweep directory as it finishes, so an
interrupted sweep (Ctrl-C, ``kill -9``, a lost worker) loses at most the units that were
running, and ``resume=True`` runs only the units without a result. Replication r of every
point uses replication r of the root seed, so points are compared on common random numbers,
and a unit's result is the same on one worker, many, or a Dask cluster.

The sweep directory::

    manifest.json           sweep file, base scenario, root seed, design, fingerprint,
                            package version, git commit
    points.parquet          one row per design point: point, one column per parameter
    units/<id>.parquet      one file per finished unit: unit, point, replication, metric,
                            value, numerator, denominator (together a Parquet dataset)
    summaries/<id>.json     the unit's full summary (only with ``save_summaries = true``)
    failures/<id>.json      a unit that raised: its point, parameters, seed and traceback
    results.parquet         every unit's rows in (point, replication, metric) order, written
                            when no unit is missing

Only the headline rows of each unit travel back from the workers, never per-borrower tables,
so a sweep of thousands of units runs in the memory of one replication per worker.
"""

from __future__ import annotations

import json
import os
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import sim
from sim.experiments.designs import assignments, design_points
from sim.experiments.execution import Task, run_units
from sim.experiments.provenance import git_commit
from sim.experiments.replications import headline_rows
from sim.experiments.sweep import Sweep, scenario_for
from sim.results import metrics as registry
from sim.results.rundir import clean_debris, write_file_atomically
from sim.results.summary import jsonable, summarize
from sim.spec import Scenario, to_dict
from sim.spec.params import ScenarioError

_SCHEMA = pa.schema(
    [
        ("unit", pa.string()),
        ("point", pa.int64()),
        ("replication", pa.int64()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("numerator", pa.float64()),
        ("denominator", pa.float64()),
    ]
)
MANIFEST = "manifest.json"
POINTS = "points.parquet"
RESULTS = "results.parquet"

Progress = Callable[[int, int], None]


class SweepDirError(ValueError):
    """The sweep directory cannot be used as asked (names the directory and the fix)."""


def unit_id(point: int, replication: int) -> str:
    """Stable id of a unit: ``p00012-r003``."""
    return f"p{point:05d}-r{replication:03d}"


# --------------------------------------------------------------------------- the unit


def run_unit(
    scenario: Scenario,
    seed: int,
    replication: int,
    metrics: tuple[str, ...],
    want_summary: bool,
) -> dict[str, Any]:
    """Simulate one unit and return its headline rows (and summary if asked).

    Runs in a worker. Never raises: an error comes back as ``{"error": traceback}`` so the
    sweep records it and goes on.
    """
    from sim.engine import simulate  # in the worker: reading a sweep needs no engine

    try:
        records = simulate(scenario, seed, replication=replication)
        summary = summarize(records, scenario)
        wanted = set(metrics)
        rows = [r for r in headline_rows(records, summary) if r[0] in wanted]
        return {"rows": rows, "summary": summary if want_summary else None}
    except Exception:
        return {"error": traceback.format_exc()}


# --------------------------------------------------------------------------- the store


def _write_json(path: Path, doc: Any) -> None:
    text = json.dumps(jsonable(doc), indent=2, sort_keys=False) + "\n"
    write_file_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _write_table(path: Path, table: pa.Table) -> None:
    write_file_atomically(path, lambda tmp: pq.write_table(table, tmp))


@dataclass
class SweepStore:
    """The files of one sweep directory (see the module docstring)."""

    root: Path

    @property
    def units_dir(self) -> Path:
        return self.root / "units"

    def manifest(self) -> dict[str, Any] | None:
        path = self.root / MANIFEST
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def create(self, manifest: dict[str, Any], points: pd.DataFrame) -> None:
        """Lay the directory out in a temporary sibling and rename it into place, so a kill
        at any instant leaves no directory or a complete one (with its manifest)."""
        self.root.parent.mkdir(parents=True, exist_ok=True)
        clean_debris(self.root)  # what an earlier, killed creation left
        tmp = self.root.parent / f".{self.root.name}.tmp-{os.getpid()}"
        try:
            if tmp.exists():
                shutil.rmtree(tmp)
            for sub in ("units", "summaries", "failures"):
                (tmp / sub).mkdir(parents=True)
            _write_table(tmp / POINTS, pa.Table.from_pandas(points, preserve_index=False))
            _write_json(tmp / MANIFEST, manifest)
            os.replace(tmp, self.root)  # over an empty directory, or none
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def clean_temporaries(self) -> int:
        """Remove temporary files a killed run left behind; returns how many."""
        stale = [p for p in self.root.rglob(".*.tmp-*") if p.is_file()]
        for p in stale:
            p.unlink()
        return len(stale)

    def finished(self) -> set[str]:
        """Ids of the units that have a result."""
        return {p.stem for p in self.units_dir.glob("*.parquet")}

    def write_unit(self, uid: str, point: int, rep: int, result: dict[str, Any]) -> None:
        rows = result["rows"]
        cols = {
            "unit": [uid] * len(rows),
            "point": [point] * len(rows),
            "replication": [rep] * len(rows),
            "metric": [r[0] for r in rows],
            "value": [float(r[1]) for r in rows],
            "numerator": [float(r[2]) for r in rows],
            "denominator": [float(r[3]) for r in rows],
        }
        if result.get("summary") is not None:
            _write_json(self.root / "summaries" / f"{uid}.json", result["summary"])
        _write_table(self.units_dir / f"{uid}.parquet", pa.table(cols, schema=_SCHEMA))
        failure = self.root / "failures" / f"{uid}.json"
        if failure.exists():
            failure.unlink()

    def write_failure(self, uid: str, info: dict[str, Any]) -> None:
        _write_json(self.root / "failures" / f"{uid}.json", info)

    def failures(self) -> list[dict[str, Any]]:
        paths = sorted((self.root / "failures").glob("*.json"))
        return [json.loads(p.read_text(encoding="utf-8")) for p in paths]

    def points(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / POINTS)

    def results(self) -> pd.DataFrame:
        """Every finished unit's rows, in (point, replication, metric) order."""
        files = sorted(self.units_dir.glob("*.parquet"))
        if not files:
            return _SCHEMA.empty_table().to_pandas()
        table = pa.concat_tables([pq.read_table(f) for f in files]).to_pandas()
        order = table["metric"].map({name: i for i, name in enumerate(registry.names())})
        table = table.assign(_m=order).sort_values(["point", "replication", "_m"], kind="stable")
        return table.drop(columns="_m").reset_index(drop=True)


# --------------------------------------------------------------------------- the sweep


@dataclass(frozen=True)
class SweepOutcome:
    """What :func:`run_sweep` did: units in the design, run now, already done, failed."""

    directory: Path
    total: int
    ran: int
    skipped: int
    failed: int
    results: pd.DataFrame
    points: pd.DataFrame


def build_manifest(sweep: Sweep, points: pd.DataFrame) -> dict[str, Any]:
    commit, dirty = git_commit()
    return {
        "kind": "sweep",
        "name": sweep.name,
        "description": sweep.description,
        "sweep_file": str(sweep.path) if sweep.path else None,
        "sweep": sweep.source,
        "base_scenario_file": str(sweep.base_path) if sweep.base_path else None,
        "base_scenario": to_dict(sweep.base),
        "overrides": sweep.overrides,
        "seed": sweep.seed,
        "spawn_keys": {"replication r": "SeedSequence(seed, spawn_key=(r,))"},
        "replications": sweep.replications,
        "design": {"kind": sweep.design.kind, **to_dict(sweep.design)},
        "parameters": [to_dict(p) for p in sweep.parameters],
        "metrics": list(sweep.metrics),
        "points": len(points),
        "units": len(points) * sweep.replications,
        "fingerprint": sweep.fingerprint(points),
        "package_version": sim.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
    }


def prepare(
    sweep: Sweep, out_dir: Path, resume: bool, points: pd.DataFrame | None = None
) -> tuple[SweepStore, pd.DataFrame]:
    """Create the sweep directory, or check that a resumed one belongs to this sweep."""
    store = SweepStore(Path(out_dir))
    if points is None:
        points = design_points(sweep)
    for parent in store.root.parents:
        if parent.exists():
            if not parent.is_dir():
                raise SweepDirError(f"--out: {parent} is a file, not a directory")
            break
    if store.root.exists() and not store.root.is_dir():
        raise SweepDirError(f"--out: {store.root} is a file, not a directory")
    existing = store.manifest() if store.root.exists() else None
    if existing is None:
        if store.root.exists() and any(store.root.iterdir()):
            raise SweepDirError(
                f"--out: {store.root} exists and is not a sweep directory; choose another"
            )
        store.create(build_manifest(sweep, points), points)
        return store, points
    if not resume:
        raise SweepDirError(
            f"--out: {store.root} already holds a sweep; add --resume to finish it, "
            "or choose another directory"
        )
    if existing.get("fingerprint") != sweep.fingerprint(points):
        raise SweepDirError(
            f"--resume: {store.root} holds a different sweep (sweep file, base scenario, "
            "seed, replications or design changed); choose another directory"
        )
    store.clean_temporaries()
    return store, points


def point_scenarios(
    sweep: Sweep, points: pd.DataFrame
) -> dict[int, tuple[dict[str, Any], Scenario]]:
    """Each design point's assignments and scenario. Every point is built, so a combination
    that is invalid only together (a calling window ending before it starts) fails here,
    naming the point, before the sweep directory is touched."""
    out = {}
    for row in points.to_dict("records"):
        point = int(row["point"])
        assign = assignments(sweep, row)
        try:
            out[point] = (assign, scenario_for(sweep, assign))
        except ScenarioError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in assign.items())
            raise ScenarioError(f"design point {point} ({shown})", str(exc)) from None
    return out


def run_sweep(
    sweep: Sweep,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> SweepOutcome:
    """Run every unit of ``sweep`` that has no result yet in ``out_dir``.

    ``workers`` local processes (default: all cores), or the Dask cluster at ``scheduler``.
    Without ``resume`` the directory must be new; with it, the directory must hold this very
    sweep (same fingerprint) and only missing or failed units run. ``progress(done, total)``
    counts units with a result. A unit that raises is recorded in ``failures/`` and the rest
    go on.
    """
    from sim.experiments.execution import default_workers

    points = design_points(sweep)
    scenarios = point_scenarios(sweep, points)  # every point valid, before anything is written
    store, points = prepare(sweep, Path(out_dir), resume, points)
    done = store.finished()
    tasks: list[Task] = []
    meta: dict[str, tuple[int, int, dict[str, Any]]] = {}
    for row in points.to_dict("records"):
        assign, scenario = scenarios[int(row["point"])]
        for rep in range(sweep.replications):
            uid = unit_id(int(row["point"]), rep)
            if uid in done:
                continue
            meta[uid] = (int(row["point"]), rep, assign)
            args = (scenario, sweep.seed, rep, sweep.metrics, sweep.save_summaries)
            tasks.append((uid, run_unit, args))
    total = len(points) * sweep.replications
    finished, failed = len(done), 0
    if progress is not None:
        progress(finished, total)
    n_workers = default_workers() if workers is None else workers
    for uid, result in run_units(tasks, n_workers, scheduler):
        point, rep, assign = meta[str(uid)]
        if "error" in result:
            failed += 1
            store.write_failure(
                str(uid),
                {
                    "unit": uid,
                    "point": point,
                    "replication": rep,
                    "seed": sweep.seed,
                    "parameters": assign,
                    "traceback": result["error"],
                },
            )
            continue
        store.write_unit(str(uid), point, rep, result)
        finished += 1
        if progress is not None:
            progress(finished, total)
    results = store.results()
    if finished == total:
        _write_table(store.root / RESULTS, pa.Table.from_pandas(results, preserve_index=False))
    return SweepOutcome(store.root, total, len(tasks) - failed, len(done), failed, results, points)


def load_sweep_results(out_dir: str | Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """(manifest, points, results) of a sweep directory, finished or not."""
    store = SweepStore(Path(out_dir))
    manifest = store.manifest()
    if manifest is None:
        raise SweepDirError(f"{out_dir} is not a sweep directory (no {MANIFEST})")
    return manifest, store.points(), store.results()
