"""Parameter sweeps (sim.experiments.sweep, sim.experiments.sweep_run): the sweep file, the
designs, the resumable result store, and identical results on 1 worker, 2 workers and a Dask
cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim.engine
from sim.experiments import sweep_run
from sim.experiments.designs import assignments, design_points
from sim.experiments.sweep import build_sweep, load_sweep, scenario_for
from sim.experiments.sweep_run import SweepDirError, run_sweep, unit_id
from sim.spec.params import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
SWEEPS = ROOT / "scenarios" / "sweeps"
BASE = str(ROOT / "scenarios" / "baseline.toml")
TINY = {"population.borrowers": 200, "days": 45}


def sweep_doc(**extra: Any) -> dict[str, Any]:
    """A small grid: emergency-contact trigger (2 cases) x agents (2 values), 2 replications."""
    doc: dict[str, Any] = {
        "name": "t",
        "base": BASE,
        "seed": 11,
        "replications": 2,
        "metrics": ["money.recovery_rate", "funnel.emergency_contact", "harm.complaints_per_1000"],
        "set": dict(TINY),
        "design": {"kind": "grid"},
        "parameters": [
            {
                "name": "trigger",
                "cases": {
                    "never": {"ladder.emergency_contact.trigger": "never"},
                    "after_3": {
                        "ladder.emergency_contact.trigger": "declines",
                        "ladder.emergency_contact.declined_calls": 3,
                    },
                },
            },
            {"key": "agents.per_10k_borrowers", "values": [4.0, 16.0]},
        ],
    }
    doc.update(extra)
    return doc


# --------------------------------------------------------------------------- the sweep file


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"colour": "red"}, "colour"),
        ({"replications": 0}, "replications"),
        ({"metrics": ["money.nonsense"]}, "metrics[0]"),
        ({"design": {"kind": "fractal"}}, "design.kind"),
        ({"design": {"kind": "grid", "n": 5}}, "design.n"),
        ({"design": {"kind": "sobol", "n": 48}}, "parameters[0]"),
        ({"parameters": [{"key": "agents.per_10k_borrowers", "values": [-1.0]}]},
         "parameters[0].values[0]"),
        ({"parameters": [{"key": "agents.per_10k_borrowers", "low": 1.0, "high": 9.0}]},
         "parameters[0].num"),
        ({"parameters": [{"key": "no.such.key", "values": [1]}]}, "parameters[0].values[0]"),
        ({"parameters": [{"key": "days", "values": [1], "shape": 2}]}, "parameters[0].shape"),
    ],
)  # fmt: skip
def test_a_bad_sweep_file_names_the_key_path(change: dict[str, Any], path: str) -> None:
    with pytest.raises(ScenarioError) as err:
        build_sweep(sweep_doc(**change))
    assert str(err.value).startswith(path), str(err.value)


def test_an_out_of_range_level_reports_the_scenario_key_and_range() -> None:
    doc = sweep_doc(parameters=[{"key": "agents.per_10k_borrowers", "values": [12.0, -3.0]}])
    with pytest.raises(ScenarioError) as err:
        build_sweep(doc)
    msg = str(err.value)
    assert msg.startswith("parameters[0].values[1]")
    assert "agents.per_10k_borrowers" in msg and "allowed" in msg


def test_the_shipped_sweeps_load() -> None:
    files = sorted(SWEEPS.glob("*.toml"))
    assert len(files) >= 2
    for f in files:
        sw = load_sweep(f)
        points = design_points(sw)
        assert len(points) > 1
        scenario_for(sw, assignments(sw, points.iloc[-1].to_dict()))


# --------------------------------------------------------------------------- designs


def test_grid_is_every_combination_first_parameter_slowest() -> None:
    pts = design_points(build_sweep(sweep_doc()))
    assert pts["point"].tolist() == [0, 1, 2, 3]
    assert pts["trigger"].tolist() == ["never", "never", "after_3", "after_3"]
    assert pts["agents.per_10k_borrowers"].tolist() == [4.0, 16.0, 4.0, 16.0]
    sw = build_sweep(sweep_doc())
    assert assignments(sw, pts.iloc[2].to_dict()) == {
        "ladder.emergency_contact.trigger": "declines",
        "ladder.emergency_contact.declined_calls": 3,
        "agents.per_10k_borrowers": 4.0,
    }


def test_a_range_on_a_grid_gives_evenly_spaced_levels() -> None:
    doc = sweep_doc(
        parameters=[
            {"key": "agents.per_10k_borrowers", "low": 4.0, "high": 16.0, "num": 4},
            {"key": "ladder.emergency_contact.declined_calls", "low": 2, "high": 8, "num": 3,
             "integer": True},
        ]
    )  # fmt: skip
    pts = design_points(build_sweep(doc))
    assert sorted(set(pts["agents.per_10k_borrowers"])) == [4.0, 8.0, 12.0, 16.0]
    assert sorted(set(pts["ladder.emergency_contact.declined_calls"])) == [2, 5, 8]


def test_latin_hypercube_hits_every_stratum_once_and_is_seeded() -> None:
    n = 12
    doc = sweep_doc(
        design={"kind": "lhs", "n": n, "seed": 3},
        parameters=[
            {"key": "agents.per_10k_borrowers", "low": 2.0, "high": 26.0},
            {"key": "behaviour.decay", "low": 0.1, "high": 1.3},
        ],
    )
    pts = design_points(build_sweep(doc))
    assert len(pts) == n
    for col, (lo, hi) in (("agents.per_10k_borrowers", (2, 26)), ("behaviour.decay", (0.1, 1.3))):
        strata = np.floor((pts[col] - lo) / (hi - lo) * n).astype(int)
        assert sorted(strata) == list(range(n))
    again = design_points(build_sweep(doc))
    pd.testing.assert_frame_equal(pts, again)
    other = design_points(build_sweep({**doc, "design": {"kind": "lhs", "n": n, "seed": 4}}))
    assert not pts.equals(other)


def test_grid_x_lhs_gives_every_policy_the_same_futures() -> None:
    doc = sweep_doc(
        design={"kind": "grid_x_lhs", "n": 5, "seed": 1},
        parameters=[
            {"key": "agents.per_10k_borrowers", "values": [4.0, 16.0], "role": "policy"},
            {"key": "behaviour.decay", "low": 0.2, "high": 1.0, "role": "uncertainty"},
        ],
    )
    pts = design_points(build_sweep(doc))
    assert len(pts) == 10
    a = pts[pts["agents.per_10k_borrowers"] == 4.0]["behaviour.decay"].to_numpy()
    b = pts[pts["agents.per_10k_borrowers"] == 16.0]["behaviour.decay"].to_numpy()
    np.testing.assert_array_equal(a, b)
    assert len(set(a)) == 5


def test_sobol_and_morris_designs_have_the_textbook_sizes() -> None:
    ranges = [
        {"key": "behaviour.decay", "low": 0.2, "high": 1.0},
        {"key": "agents.per_10k_borrowers", "low": 4.0, "high": 20.0},
        {"key": "behaviour.fatigue_memory_days", "low": 2.0, "high": 14.0},
    ]
    sobol = design_points(
        build_sweep(sweep_doc(design={"kind": "sobol", "n": 8}, parameters=ranges))
    )
    assert len(sobol) == 8 * (3 + 2)  # Saltelli without second order: N (d + 2)
    assert sobol["behaviour.decay"].between(0.2, 1.0).all()
    assert {"u.behaviour.decay", "u.agents.per_10k_borrowers"} <= set(sobol.columns)
    morris = build_sweep(sweep_doc(design={"kind": "morris", "trajectories": 5}, parameters=ranges))
    assert len(design_points(morris)) == 5 * (3 + 1)


# --------------------------------------------------------------------------- running


def _run(doc: dict[str, Any], out: Path, **kw: Any) -> sweep_run.SweepOutcome:
    return run_sweep(build_sweep(doc), out, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small sweep, run once in this process."""
    out = tmp_path_factory.mktemp("sweep") / "ref"
    outcome = _run(sweep_doc(), out, workers=1)
    assert (outcome.total, outcome.ran, outcome.failed) == (8, 8, 0)
    return out


def test_a_sweep_writes_one_file_per_unit_and_a_manifest(reference: Path) -> None:
    units = sorted(p.stem for p in (reference / "units").glob("*.parquet"))
    assert units == [unit_id(p, r) for p in range(4) for r in range(2)]
    manifest, points, results = sweep_run.load_sweep_results(reference)
    for key in ("sweep", "base_scenario", "seed", "design", "package_version", "git_commit"):
        assert key in manifest
    assert manifest["units"] == 8 and len(points) == 4
    assert len(results) == 8 * 3
    assert results["metric"].unique().tolist() == [
        "funnel.emergency_contact", "money.recovery_rate", "harm.complaints_per_1000",
    ]  # fmt: skip
    final = pd.read_parquet(reference / "results.parquet")
    pd.testing.assert_frame_equal(final, results)


def test_the_emergency_contact_trigger_does_what_it_says(reference: Path) -> None:
    _, points, results = sweep_run.load_sweep_results(reference)
    ec = results[results["metric"] == "funnel.emergency_contact"].merge(points, on="point")
    assert (ec[ec["trigger"] == "never"]["value"] == 0).all()
    assert (ec[ec["trigger"] == "after_3"]["value"] > 0).all()


def test_unit_p_r_is_replication_r_of_the_root_seed(reference: Path) -> None:
    """A unit is exactly ``simulate(point's scenario, seed, replication=r)``: every point sees
    replication r's random numbers (common random numbers across the design)."""
    from sim.engine.core import simulate
    from sim.experiments.replications import headline_rows
    from sim.results.summary import summarize

    sw = build_sweep(sweep_doc())
    _, points, results = sweep_run.load_sweep_results(reference)
    sc = scenario_for(sw, assignments(sw, points.iloc[3].to_dict()))
    rec = simulate(sc, 11, replication=1)
    expected = {m: v for m, v, _, _ in headline_rows(rec, summarize(rec, sc))}
    got = results[(results["point"] == 3) & (results["replication"] == 1)]
    for m, v in zip(got["metric"], got["value"], strict=True):
        assert v == expected[m]


def test_two_workers_give_identical_results(reference: Path, tmp_path: Path) -> None:
    outcome = _run(sweep_doc(), tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(outcome.results, sweep_run.load_sweep_results(reference)[2])


@pytest.mark.slow
def test_a_dask_local_cluster_gives_identical_results(reference: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        outcome = _run(sweep_doc(), tmp_path / "dask", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(outcome.results, sweep_run.load_sweep_results(reference)[2])


def test_an_existing_sweep_directory_needs_resume(reference: Path) -> None:
    with pytest.raises(SweepDirError, match="--resume"):
        _run(sweep_doc(), reference, workers=1)


def test_resume_refuses_a_different_sweep(reference: Path) -> None:
    with pytest.raises(SweepDirError, match="different sweep"):
        _run(sweep_doc(seed=12), reference, workers=1, resume=True)


def test_resume_of_a_finished_sweep_runs_nothing(reference: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in (reference / "units").iterdir()}
    outcome = _run(sweep_doc(), reference, workers=1, resume=True)
    assert (outcome.ran, outcome.skipped) == (0, 8)
    assert {p: p.stat().st_mtime_ns for p in (reference / "units").iterdir()} == before


def test_a_failing_unit_is_recorded_and_the_rest_go_on(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sim.engine.simulate

    def flaky(scenario: Any, seed: int, replication: int = 0, **kw: Any) -> Any:
        if scenario.agents.per_10k_borrowers == 16.0 and replication == 1:
            raise ValueError("boom")
        return real(scenario, seed, replication=replication, **kw)

    monkeypatch.setattr(sim.engine, "simulate", flaky)
    out = tmp_path / "flaky"
    outcome = _run(sweep_doc(), out, workers=1)
    assert (outcome.ran, outcome.failed) == (6, 2)
    assert not (out / "results.parquet").exists()  # incomplete: no final table yet
    failures = sweep_run.SweepStore(out).failures()
    assert sorted(f["unit"] for f in failures) == [unit_id(1, 1), unit_id(3, 1)]
    f = failures[0]
    assert f["parameters"]["agents.per_10k_borrowers"] == 16.0 and f["seed"] == 11
    assert "ValueError: boom" in f["traceback"]

    monkeypatch.setattr(sim.engine, "simulate", real)
    again = _run(sweep_doc(), out, workers=1, resume=True)
    assert (again.ran, again.skipped, again.failed) == (2, 6, 0)
    assert sweep_run.SweepStore(out).failures() == []
    pd.testing.assert_frame_equal(again.results, sweep_run.load_sweep_results(reference)[2])


_KILL_SCRIPT = """
import sys
from sim.experiments.sweep import build_sweep
from sim.experiments.sweep_run import run_sweep
import json
if __name__ == "__main__":
    doc = json.loads(sys.argv[1])
    run_sweep(build_sweep(doc), sys.argv[2], workers=1)
"""


def test_kill_9_then_resume_loses_nothing_and_redoes_nothing(
    reference: Path, tmp_path: Path
) -> None:
    import json

    out = tmp_path / "killed"
    doc = sweep_doc(set={"population.borrowers": 600, "days": 60})
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), json.dumps(doc), str(out)])
    units = out / "units"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(list(units.glob("*.parquet"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in units.glob("*.parquet")}
    assert 2 <= len(done) < 8
    for p in done:  # every result present is complete
        assert len(pd.read_parquet(p)) == 3

    outcome = _run(doc, out, workers=1, resume=True)
    assert outcome.skipped == len(done) and outcome.ran == 8 - len(done)
    for p, stamp in done.items():  # finished units were not redone
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == stamp
    assert not list(out.rglob(".*.tmp-*"))
    fresh = _run(doc, tmp_path / "fresh", workers=1)
    pd.testing.assert_frame_equal(outcome.results, fresh.results)
