"""The command line and the run directory: exit codes, nothing written on error, atomic and
byte-reproducible output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main, parse_set
from sim.results import rundir
from sim.results.rundir import read_run

ROOT = Path(__file__).resolve().parent.parent
BASELINE = str(ROOT / "scenarios" / "baseline.toml")
SMALL = ["--borrowers", "300", "--days", "60", "--seed", "7", "--quiet"]
TINY = ["--borrowers", "50", "--days", "10", "--seed", "7", "--quiet"]

REQUIRED_SUMMARY_KEYS = (
    "funnel",
    "emergency_contact",
    "cure_rate",
    "recovery_by_month_past_due",
    "roll_rates",
    "costs",
    "net_recovery",
    "complaints_per_1000",
    "calls_outside_hours",
    "third_party_disclosures",
    "scenario",
    "seed",
    "package_version",
)


def _leftovers(parent: Path) -> list[Path]:
    """Temporary or set-aside directories that an atomic write must not leave behind."""
    return [*parent.glob(".*.tmp-*"), *parent.glob(".*.old-*")]


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two identical small runs (run1, run2) and a traced one, made once for the module."""
    base = tmp_path_factory.mktemp("runs")
    for name, extra in (("run1", []), ("run2", []), ("traced", ["--trace"])):
        code = main(["run", BASELINE, *SMALL, "--out", str(base / name), *extra])
        assert code == 0
    return base


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (["--set", "ladder.emergency_contact.triger=day"], "ladder.emergency_contact.triger"),
        (["--set", "population.segments.avoider.mood=1"], "population.segments.avoider.mood"),
        (
            ["--set", "ladder.emergency_contact.trigger=sometimes"],
            "ladder.emergency_contact.trigger",
        ),
        (["--set", "rules.call_start=25"], "rules.call_start"),
        (["--set", "rules.call_start=23"], "rules.call_end"),
        (["--borrowers", "0"], "population.borrowers"),
        (["--days", "0"], "days"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_bad_key_or_value_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], path: str
) -> None:
    out = tmp_path / "results" / "bad"
    assert main(["run", BASELINE, *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ")
    assert err.count("\n") == 1
    assert not (tmp_path / "results").exists()


def test_bad_value_names_the_allowed_range(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", BASELINE, "--set", "agents.weekend_share=2", "--out", str(tmp_path)]) == 2
    assert "0 to 1" in capsys.readouterr().err


def test_missing_scenario_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "nope.toml"), "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err
    assert not out.exists()


def test_malformed_set_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--set", "novalue", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("error: --set: ")
    assert not out.exists()


def test_refuses_to_replace_a_directory_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    assert main(["run", BASELINE, *TINY, "--out", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert precious.read_text() == "keep me"


def test_subprocess_bad_key_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "run", BASELINE, "--set", "ladder.fax.enabled=true"]
    proc = subprocess.run(
        [*cmd, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ladder.fax: ")
    assert not out.exists()


# --------------------------------------------------------------------------- --set parsing


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("agents.per_10k_borrowers=30", ("agents.per_10k_borrowers", 30)),
        ('ladder.emergency_contact.trigger="day"', ("ladder.emergency_contact.trigger", "day")),
        ("ladder.emergency_contact.trigger=day", ("ladder.emergency_contact.trigger", "day")),
        ("ladder.sms.enabled=false", ("ladder.sms.enabled", False)),
        ("ladder.sms.days=[0, 2.5]", ("ladder.sms.days", [0, 2.5])),
        (" rules.call_end = 21.5 ", ("rules.call_end", 21.5)),
    ],
)
def test_parse_set(item: str, expected: tuple) -> None:
    assert parse_set(item) == expected


# --------------------------------------------------------------------------- good runs


def test_small_run_writes_the_run_directory(small_runs: Path) -> None:
    run = small_runs / "run1"
    assert {p.name for p in run.iterdir()} == {
        "outcomes.parquet",
        "daily.parquet",
        "monthly.parquet",
        "summary.json",
    }
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    missing = [k for k in REQUIRED_SUMMARY_KEYS if k not in summary]
    assert not missing
    assert summary["calls_outside_hours"] == 0
    assert summary["seed"] == 7
    assert summary["package_version"] == sim.__version__
    assert summary["scenario"]["population"]["borrowers"] == 300
    assert summary["scenario"]["days"] == 60
    assert "meta" in summary
    assert "created" not in summary


def test_run_directory_tables(small_runs: Path) -> None:
    run = read_run(small_runs / "run1")
    assert run["events"] is None
    assert len(run["outcomes"]) == 300
    for col in ("borrower_id", "segment", "final_state", "reached_emergency_contact", "cost"):
        assert col in run["outcomes"].columns
    assert {"borrower_id", "month", "balance_at_entry"} <= set(run["monthly"].columns)
    assert "day" in run["daily"].columns or run["daily"].index.name == "day"
    assert len(run["daily"]) >= 60


def test_trace_writes_events(small_runs: Path) -> None:
    events = pd.read_parquet(small_runs / "traced" / "events.parquet")
    assert len(events) > 0
    assert {"time", "borrower_id", "kind"} <= set(events.columns)


def test_same_seed_gives_identical_files(small_runs: Path) -> None:
    a, b = small_runs / "run1", small_runs / "run2"
    assert (a / "summary.json").read_bytes() == (b / "summary.json").read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "outcomes.parquet"), pd.read_parquet(b / "outcomes.parquet")
    )
    for path in a.iterdir():
        assert path.read_bytes() == (b / path.name).read_bytes(), path.name


def test_no_temporary_directories_remain(small_runs: Path) -> None:
    assert _leftovers(small_runs) == []


def test_summary_printed_with_the_directory(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    assert main(["run", BASELINE, *TINY, "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert str(out) in stdout
    assert stdout.strip() != str(out)  # the summary report came first


def test_existing_run_directory_is_replaced_fully(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", BASELINE, *TINY, "--trace", "--out", str(out)]) == 0
    (out / "stale.txt").write_text("old")
    assert (out / "events.parquet").exists()
    assert main(["run", BASELINE, *TINY, "--out", str(out)]) == 0
    assert not (out / "stale.txt").exists()
    assert not (out / "events.parquet").exists()
    assert (out / "summary.json").exists()
    assert _leftovers(tmp_path) == []


def test_set_overrides_reach_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--set", "agents.per_10k_borrowers=30", "--set", "ladder.emergency_contact.trigger=day"]
    assert main(["run", BASELINE, *TINY, *args, "--out", str(out)]) == 0
    scenario = read_run(out)["summary"]["scenario"]
    assert scenario["agents"]["per_10k_borrowers"] == 30
    assert scenario["ladder"]["emergency_contact"]["trigger"] == "day"


def test_default_out_is_results_slash_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", BASELINE, *TINY]) == 0
    assert (tmp_path / "results" / "baseline" / "summary.json").is_file()


def test_subprocess_good_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "sim", "run", BASELINE, *TINY, "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    assert (out / "summary.json").is_file()


# --------------------------------------------------------------------------- interruption


def test_ctrl_c_during_the_run_exits_130_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.engine import core as model

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(model, "simulate", interrupted)
    out = tmp_path / "run"
    assert main(["run", BASELINE, *TINY, "--out", str(out)]) == 130
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_writing_keeps_the_previous_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    assert main(["run", BASELINE, *TINY, "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    calls = []

    def write_then_interrupt(df: pd.DataFrame, path: Path) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        path.write_bytes(b"partial")

    monkeypatch.setattr(rundir, "write_parquet", write_then_interrupt)
    assert main(["run", BASELINE, *TINY, "--seed", "8", "--out", str(out)]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- replications


DAY14 = str(ROOT / "scenarios" / "day14.toml")
REPS_SMALL = ["--borrowers", "200", "--days", "30", "--seed", "7", "--quiet", "--workers", "1"]


def test_compare_writes_the_output_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp1"
    assert main(["compare", BASELINE, DAY14, "--reps", "3", *REPS_SMALL, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison.csv",
        "comparison.parquet",
        "manifest.json",
        "replications.parquet",
    ]
    reps = pd.read_parquet(out / "replications.parquet")
    assert set(reps["scenario"]) == {"baseline", "day14"}
    assert sorted(set(reps["replication"])) == [0, 1, 2]
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["role"]) == {"champion", "challenger"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 7 and manifest["replications"] == 3
    assert manifest["overrides"]["population.borrowers"] == 200
    printed = capsys.readouterr().out
    assert "diff vs baseline" in printed and "Best on money.net_recovery" in printed
    assert f"output directory: {out}" in printed
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--reps", "0"], "--reps"),
        (["--reps", "-3"], "--reps"),
        (["--reps", "some"], "--reps"),
        (["--reps", "auto", "--precision", "2"], "--precision"),
        (["--reps", "3", "--precision", "0.1"], "--precision"),
        (["--reps", "auto", "--max-reps", "1"], "--max-reps"),
        (["--workers", "0"], "--workers"),
        (["--best-on", "happiness"], "--best-on"),
        (["--set", "ladder.fax=1"], "ladder.fax"),
    ],
)
def test_compare_bad_argument_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], option: str
) -> None:
    out = tmp_path / "cmp"
    assert main(["compare", BASELINE, DAY14, *args, "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {option}: ") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_compare_needs_two_distinct_scenarios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    assert main(["compare", BASELINE, "--quiet", "--out", str(out)]) == 2
    assert "at least two" in capsys.readouterr().err
    assert main(["compare", BASELINE, BASELINE, "--quiet", "--out", str(out)]) == 2
    assert "names must differ" in capsys.readouterr().err
    assert not out.exists()


def test_run_with_reps_writes_a_replication_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reps"
    assert main(["run", BASELINE, "--reps", "3", *REPS_SMALL, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "estimates.csv",
        "estimates.parquet",
        "manifest.json",
        "replications.parquet",
    ]
    est = pd.read_parquet(out / "estimates.parquet")
    assert (est["n"] == 3).all() and set(est["scenario"]) == {"baseline"}
    printed = capsys.readouterr().out
    assert "baseline: 3 replications, root seed 7" in printed
    # an earlier single run in the same directory is replaced, and vice versa
    assert main(["run", BASELINE, *TINY, "--out", str(out)]) == 0
    assert (out / "summary.json").is_file() and not (out / "manifest.json").exists()


def test_run_reps_with_trace_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "reps"
    assert main(["run", BASELINE, "--reps", "3", "--trace", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("error: --trace: ")
    assert not out.exists()


def test_cli_defaults_mirror_the_library() -> None:
    from sim import cli
    from sim.experiments import replications

    for name in ("DEFAULT_REPS", "DEFAULT_PRECISION", "DEFAULT_MAX_REPS", "DEFAULT_BEST_ON"):
        assert getattr(cli, name) == getattr(replications, name)


# --------------------------------------------------------------------------- charts


def test_run_with_plots_draws_the_charts_and_plot_redraws_them(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", BASELINE, *SMALL, "--out", str(out), "--plots"]) == 0
    plots = out / "plots"
    pngs = sorted(p.name for p in plots.glob("*.png"))
    assert {"funnel.png", "recovery_by_month.png", "survival.png"} <= set(pngs)
    assert len(list(plots.glob("*.svg"))) == len(pngs)
    (plots / "funnel.png").unlink()
    assert main(["plot", str(out), "--no-svg"]) == 0  # from the saved results only
    assert (plots / "funnel.png").is_file() and not list(plots.glob("*.svg"))


def test_compare_with_plots_draws_the_forest_plot(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    args = ["compare", BASELINE, DAY14, "--reps", "2", *REPS_SMALL, "--out", str(out), "--plots"]
    assert main(args) == 0
    assert (out / "plots" / "forest.png").is_file()


def test_plot_of_a_directory_that_is_not_a_run_exits_2(tmp_path: Path) -> None:
    assert main(["plot", str(tmp_path)]) == 2
