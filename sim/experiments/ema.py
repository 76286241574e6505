"""A sweep's results in the EMA workbench's format, for scenario discovery.

``ema_results.tar.gz`` (written by :func:`sim.experiments.sweep_report.write_report`) holds
experiments x outcomes as ``ema_workbench.save_results`` writes them, one experiment per
unit (design point x replication), so ``ema_workbench.load_results`` reads it and PRIM or CART
can look for the conditions under which a policy fails.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def ema_experiments(
    manifest: dict[str, Any], points: pd.DataFrame, results: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Experiments (one row per unit: parameters, scenario, policy, model) and outcomes (one
    array per metric), as ``ema_workbench.perform_experiments`` returns them."""
    params = [p["name"] for p in manifest["parameters"]]
    policy_params = [p["name"] for p in manifest["parameters"] if p["role"] == "policy"]
    values = results.pivot(index=["point", "replication"], columns="metric", values="value")
    values = values.reset_index()
    exp = values[["point", "replication"]].merge(points[["point", *params]], on="point")
    exp["policy"] = (
        exp[policy_params].astype(str).agg("|".join, axis=1) if policy_params else "none"
    )
    exp["scenario"] = [f"p{p}-r{r}" for p, r in zip(exp["point"], exp["replication"], strict=True)]
    exp["model"] = "overdue"
    experiments = exp[[*params, "scenario", "policy", "model"]]
    outcomes = {m: values[m].to_numpy(dtype=float) for m in manifest["metrics"] if m in values}
    return experiments, outcomes


def write_ema(path: Path, experiments: pd.DataFrame, outcomes: dict[str, np.ndarray]) -> None:
    """Write ``ema_workbench.save_results``'s tar.gz format (metadata version 0.1: scalar
    outcomes as header-less CSV, experiments as CSV with their dtypes)."""

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 0  # no timestamps: same results, same bytes
        tar.addfile(info, io.BytesIO(data))

    meta = {
        "version": 0.1,
        "outcomes": [["ScalarOutcome", name, f"{name}.csv"] for name in outcomes],
        "experiments": {k: v.name for k, v in experiments.dtypes.to_dict().items()},
    }
    with tarfile.open(path, "w:gz") as tar:
        add(tar, "experiments.csv", experiments.to_csv(index=False).encode())
        for name, arr in outcomes.items():
            add(tar, f"{name}.csv", pd.Series(arr).to_csv(index=False, header=False).encode())
        add(tar, "metadata.json", json.dumps(meta).encode())
