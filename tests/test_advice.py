"""No silent mistakes: keys without effect, shares written as percentages and an inflow
longer than the horizon draw a warning naming the keys; scenario files may extend others."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from sim.cli import main
from sim.spec import flatten, load_scenario, to_dict
from sim.spec.advice import ScenarioWarning
from sim.spec.params import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


_FILE_KEYS = ("ladder.emergency_contact.unreachable_days",)
"""Set by baseline.toml: inert too once an override makes the trigger 'day'."""


def _advice(overrides: dict) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_scenario(BASELINE, overrides)
    return [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"ladder.emergency_contact.day": 10},
         ("ladder.emergency_contact.day", "ladder.emergency_contact.trigger")),
        ({"ladder.emergency_contact.trigger": "day", "ladder.emergency_contact.declined_calls": 3},
         ("ladder.emergency_contact.declined_calls", "ladder.emergency_contact.trigger")),
        ({"population.inflow_days": 30}, ("population.inflow_days", "population.arrival")),
        ({"agents.head_count": 5, "agents.per_10k_borrowers": 3},
         ("agents.per_10k_borrowers", "agents.head_count")),
        ({"agents.dialer": "progressive", "agents.pacing_ratio": 2.0},
         ("agents.pacing_ratio", "agents.dialer")),
        ({"agents.handle_distribution": "fixed", "agents.talk_cv": 1.0},
         ("agents.talk_cv", "agents.handle_distribution")),
        ({"ladder.robot.enabled": False, "ladder.robot.calls_per_day": 3},
         ("ladder.robot.calls_per_day", "ladder.robot.enabled")),
        ({"fees.late_fee_rate": 1}, ("fees.late_fee_rate", "0.01")),
        ({"population.arrival": "inflow", "population.inflow_days": 400, "days": 100.0,
          "population.borrowers": 1000}, ("population.inflow_days", "750 of 1,000")),
    ],
)  # fmt: skip
def test_a_probable_mistake_is_a_warning_naming_the_keys(overrides: dict, names: tuple) -> None:
    advice = _advice(overrides)
    assert advice and all(a.split(" ")[0] in (*names, *_FILE_KEYS) for a in advice), advice
    assert any(all(name in a for name in names) for a in advice), advice


def test_settings_that_take_effect_draw_no_warning() -> None:
    fine = {
        "ladder.emergency_contact.trigger": "either",
        "ladder.emergency_contact.day": 9,
        "fees.late_fee_rate": 0.02,
        "population.arrival": "inflow",
        "population.inflow_days": 30,
    }
    assert _advice(fine) == []


def test_no_shipped_scenario_draws_a_warning() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ScenarioWarning)
            load_scenario(path)


def test_the_command_line_prints_a_warning_line(tmp_path: Path, capsys) -> None:
    argv = ["run", str(BASELINE), "--set", "ladder.emergency_contact.day=10", "--borrowers",
            "50", "--days", "10", "--out", str(tmp_path / "r"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "warning: ladder.emergency_contact.day has no effect: ladder.emergency_contact.trigger "
        "is 'declines' (the day counts with 'day', 'either' or 'both')"
    ]


# --------------------------------------------------------------------------- extends


def test_day14_is_the_baseline_with_the_trigger_on_a_day() -> None:
    """It extends baseline.toml; its day (14) is the default day, stated for the reader."""
    day14 = flatten(to_dict(load_scenario(ROOT / "scenarios" / "day14.toml")))
    base = flatten(to_dict(load_scenario(BASELINE)))
    changed = {k for k, v in day14.items() if base.get(k) != v} - {"name", "description"}
    assert changed == {"ladder.emergency_contact.trigger"}
    assert day14["name"] == "day14"


def test_extends_merges_tables_and_the_file_wins(tmp_path: Path) -> None:
    parent = tmp_path / "parent.toml"
    parent.write_text('name = "parent"\ndays = 90.0\n[ladder.sms]\ndays = [0, 2]\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\n[ladder.sms]\nenabled = false\n')
    s = load_scenario(child)
    assert s.name == "child" and s.days == 90.0
    assert s.ladder.sms.days == (0, 2) and s.ladder.sms.enabled is False


def test_a_cycle_of_extends_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="extends itself"):
        load_scenario(tmp_path / "a.toml")
    (tmp_path / "c.toml").write_text('extends = "missing.toml"\n')
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "c.toml")
