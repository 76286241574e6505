"""Provenance of an experiment: the ``manifest.json`` of replications and comparisons (what
was run and how to rerun it) and the git commit of the code that ran it."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim.results import metrics, stats
from sim.results.summary import jsonable
from sim.spec import Scenario


def git_commit() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the working tree the package runs from; (None, None) outside git."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", *args], cwd=here, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status)


def manifest(
    kind: str,
    scenarios: Sequence[Scenario],
    paths: Sequence[str | Path | None],
    replications: pd.DataFrame,
    *,
    reps: int | str,
    precision: float | None = None,
    max_reps: int | None = None,
    workers: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    selection: stats.Selection | None = None,
) -> dict[str, Any]:
    """The provenance written as ``manifest.json``: what was run and how to rerun it.

    ``kind`` is "compare" or "replications"; ``paths`` are the scenario files (or None), one
    per scenario; the root seed is the scenarios' (they share it).

    No timestamps or host names, so the same inputs give the same manifest (but for
    ``workers`` and ``git``, which are recorded without affecting results).
    """
    n = int(replications["replication"].nunique())
    commit, dirty = git_commit()
    doc: dict[str, Any] = {
        "kind": kind,
        "package": "overdue",
        "package_version": sim.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "root_seed": scenarios[0].seed,
        "replications": n,
        "reps_requested": reps,
        "precision": precision if reps == "auto" else None,
        "max_reps": max_reps if reps == "auto" else None,
        "workers": workers,
        "confidence_level": stats.LEVEL,
        "spawn_keys": [[r] for r in range(n)],
        "spawn_key_note": (
            "replication r of every scenario uses SeedSequence(root_seed, spawn_key=(r,)); "
            "inside it: population traits (r, 0, crc32(trait)), model-level streams "
            "(r, 1, crc32(name)), borrower blocks (r, 2, purpose, block), per-borrower "
            "overflow (r, 3, purpose, borrower)"
        ),
        "overrides": dict(overrides or {}),
        "scenarios": [
            {
                "name": s.name,
                "role": "champion" if i == 0 else "challenger",
                "path": None if p is None else str(p),
                "scenario": s.to_dict(),
            }
            for i, (s, p) in enumerate(zip(scenarios, paths, strict=True))
        ],
        "metrics": metrics.names(),
    }
    if selection is not None:
        doc["selection"] = {
            "metric": selection.metric,
            "direction": selection.direction,
            "procedure": stats.PROCEDURE,
            "level": selection.level,
            "best": selection.best,
            "candidates": selection.candidates,
            "mcb_intervals": {k: list(v) for k, v in selection.intervals.items()},
            "statement": selection.statement(),
        }
    return jsonable(doc)
