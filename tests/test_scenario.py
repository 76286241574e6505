"""Loading and validating scenarios: shipped files, key paths in errors, merge rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sim.spec import (
    Relationship,
    Scenario,
    Segment,
    build_scenario,
    load_scenario,
    to_dict,
    with_overrides,
)
from sim.spec.params import ScenarioError
from sim.spec.population import RELATIONSHIP_DEFAULTS, SEGMENT_DEFAULTS

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.toml"))


def _error(data: dict) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        build_scenario(data)
    return info.value


# --------------------------------------------------------------------------- shipped files


def test_the_four_scenarios_are_shipped() -> None:
    names = {p.stem for p in SHIPPED}
    assert {"baseline", "day14", "no_emergency_contact", "regulated"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description


def test_baseline_file_equals_the_builtin_defaults() -> None:
    scenario = load_scenario(SCENARIOS / "baseline.toml")
    assert scenario == dataclasses.replace(Scenario(), description=scenario.description)
    ec = scenario.ladder.emergency_contact
    assert (ec.trigger, ec.declined_calls) == ("declines", 5)


def test_day14_contacts_relatives_on_day_14() -> None:
    scenario = load_scenario(SCENARIOS / "day14.toml")
    assert scenario.ladder.emergency_contact.trigger == "day"
    assert scenario.ladder.emergency_contact.day == 14
    assert scenario.ladder.second_reminder.day == 7


def test_no_emergency_contact_switches_the_stage_off() -> None:
    scenario = load_scenario(SCENARIOS / "no_emergency_contact.toml")
    assert scenario.ladder.emergency_contact.trigger == "never"


def test_regulated_applies_the_chinese_rules() -> None:
    s = load_scenario(SCENARIOS / "regulated.toml")
    assert (s.rules.call_start, s.rules.call_end) == (8, 22)
    assert s.rules.max_connected_per_day == 3
    assert s.rules.max_unanswered_per_day == 6
    ec = s.ladder.emergency_contact
    assert ec.disclosure == "relay_only"
    assert ec.only_when_unreachable and ec.require_consent
    assert ec.trigger == "declines"


def test_overrides_apply_over_the_file() -> None:
    s = load_scenario(
        SCENARIOS / "baseline.toml",
        {"population.borrowers": 300, "ladder.emergency_contact.trigger": "never"},
    )
    assert s.population.borrowers == 300
    assert s.ladder.emergency_contact.trigger == "never"


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "nope.toml")


def test_invalid_toml_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("days = = 3\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(path)


# --------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"horizon": 10}, "horizon"),
        ({"population": {"size": 10}}, "population.size"),
        ({"ladder": {"emergency_contact": {"triger": "day"}}}, "ladder.emergency_contact.triger"),
        ({"ladder": {"fax": {"enabled": True}}}, "ladder.fax"),
        (
            {"population": {"segments": {"avoider": {"mood": 1}}}},
            "population.segments.avoider.mood",
        ),
        (
            {"population": {"segments": {"gambler": {"new": True, "luck": 1}}}},
            "population.segments.gambler.luck",
        ),
        (
            {"population": {"contacts": {"relationships": {"parent": {"love": 1}}}}},
            "population.contacts.relationships.parent.love",
        ),
    ],
)
def test_unknown_key_names_its_exact_path(data: dict, path: str) -> None:
    err = _error(data)
    assert err.path == path
    assert "unknown key" in err.message
    assert str(err).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("data", "path", "pointer"),
    [
        ({"ladder": {"agent": {"talk_minutes": 6.0}}}, "ladder.agent.talk_minutes",
         "agents.talk_minutes"),
        ({"agents": {"slot_minutes": 30.0}}, "agents.slot_minutes", "exact queue"),
    ],
)  # fmt: skip
def test_a_retired_key_says_where_its_meaning_went(data: dict, path: str, pointer: str) -> None:
    err = _error(data)
    assert err.path == path
    assert "no longer a key" in err.message and pointer in err.message


def test_unknown_key_lists_the_allowed_keys() -> None:
    err = _error({"ladder": {"emergency_contact": {"triger": "day"}}})
    assert "trigger" in err.message and "declined_calls" in err.message


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("data", "path", "allowed"),
    [
        ({"days": 0}, "days", "1 to 3650"),
        ({"population": {"borrowers": 0}}, "population.borrowers", "1 to 5e+07"),
        ({"ladder": {"sms": {"cost": -1}}}, "ladder.sms.cost", "0 to 10000"),
        (
            {"population": {"segments": {"avoider": {"robot_answer": 1.5}}}},
            "population.segments.avoider.robot_answer",
            "0 to 1",
        ),
        ({"ladder": {"sms": {"days": [0, -1]}}}, "ladder.sms.days[1]", "0 to 3650"),
    ],
)
def test_out_of_range_names_path_and_range(data: dict, path: str, allowed: str) -> None:
    err = _error(data)
    assert err.path == path
    assert "out of range" in err.message
    assert allowed in err.message


@pytest.mark.parametrize(
    ("data", "path", "expected"),
    [
        ({"days": "long"}, "days", "1 to 3650"),
        ({"population": {"borrowers": 1.5}}, "population.borrowers", "whole number"),
        ({"population": {"borrowers": True}}, "population.borrowers", "whole number"),
        ({"ladder": {"sms": {"enabled": "yes"}}}, "ladder.sms.enabled", "true or false"),
        ({"name": 3}, "name", "string"),
        ({"ladder": {"sms": {"days": 3}}}, "ladder.sms.days", "list"),
        ({"ladder": {"sms": 3}}, "ladder.sms", "table"),
        ({"population": {"segments": 3}}, "population.segments", "table"),
    ],
)
def test_wrong_type_names_path_and_expectation(data: dict, path: str, expected: str) -> None:
    err = _error(data)
    assert err.path == path
    assert expected in err.message


def test_bad_choice_lists_the_choices() -> None:
    err = _error({"ladder": {"emergency_contact": {"trigger": "sometimes"}}})
    assert err.path == "ladder.emergency_contact.trigger"
    for choice in ("declines", "day", "either", "both", "never"):
        assert repr(choice) in err.message


@pytest.mark.parametrize(
    ("data", "path", "count"),
    [
        ({"population": {"contacts": {"count_weights": [0.5, 0.5]}}}, "count_weights", "3"),
        ({"population": {"contacts": {"count_weights": [0.2] * 4}}}, "count_weights", "3"),
        ({"ladder": {"agent": {"every_days": []}}}, "every_days", "1 to 24"),
        ({"ladder": {"agent": {"every_days": [1.0] * 25}}}, "every_days", "1 to 24"),
    ],
)
def test_list_length_is_checked(data: dict, path: str, count: str) -> None:
    err = _error(data)
    assert err.path.endswith(path)
    assert f"{count} values" in err.message


def test_list_of_the_right_length_is_accepted() -> None:
    s = build_scenario({"ladder": {"agent": {"every_days": [1, 7]}}})
    assert s.ladder.agent.every_days == (1.0, 7.0)


# --------------------------------------------------------------------------- consistency


@pytest.mark.parametrize(("start", "end"), [(22, 8), (9, 9)])
def test_call_end_must_follow_call_start(start: float, end: float) -> None:
    err = _error({"rules": {"call_start": start, "call_end": end}})
    assert err.path == "rules.call_end"
    assert "call_start" in err.message


def test_all_zero_segment_weights_are_rejected() -> None:
    data = {"population": {"segments": {k: {"weight": 0} for k in SEGMENT_DEFAULTS}}}
    assert _error(data).path == "population.segments"


def test_partial_min_above_max_is_rejected() -> None:
    err = _error({"behaviour": {"partial_min": 0.8, "partial_max": 0.5}})
    assert err.path == "behaviour.partial_max"


def test_agent_shift_must_end_by_midnight() -> None:
    assert _error({"agents": {"shift_start": 20, "shift_hours": 6}}).path == "agents.shift_hours"


# --------------------------------------------------------------------------- merging


def test_segment_override_merges_onto_its_named_defaults() -> None:
    s = build_scenario({"population": {"segments": {"avoider": {"weight": 0.4}}}})
    avoider = s.population.segments["avoider"]
    assert avoider.weight == 0.4
    expected = Segment(**{**SEGMENT_DEFAULTS["avoider"], "weight": 0.4})
    assert avoider == expected
    assert avoider.agent_answer == SEGMENT_DEFAULTS["avoider"]["agent_answer"]
    # the other segments are untouched
    for name, values in SEGMENT_DEFAULTS.items():
        if name != "avoider":
            assert s.population.segments[name] == Segment(**values)


def test_new_segment_starts_from_segment_defaults() -> None:
    s = build_scenario(
        {"population": {"segments": {"gambler": {"new": True, "weight": 0.1, "ability": 0.3}}}}
    )
    gambler = s.population.segments["gambler"]
    assert gambler == dataclasses.replace(Segment(), weight=0.1, ability=0.3)
    assert set(SEGMENT_DEFAULTS) < set(s.population.segments)


def test_relationship_override_merges_onto_its_named_defaults() -> None:
    data = {"population": {"contacts": {"relationships": {"friend": {"relay_prob": 0.9}}}}}
    friend = build_scenario(data).population.contacts.relationships["friend"]
    assert friend == Relationship(**{**RELATIONSHIP_DEFAULTS["friend"], "relay_prob": 0.9})


def test_sections_merge_key_by_key() -> None:
    s = build_scenario({"ladder": {"agent": {"start_day": 5}}})
    default = Scenario().ladder.agent
    assert s.ladder.agent == dataclasses.replace(default, start_day=5.0)


def test_push_keeps_its_own_defaults_when_partly_overridden() -> None:
    s = build_scenario({"ladder": {"push": {"cost": 0.01}}})
    assert s.ladder.push == dataclasses.replace(Scenario().ladder.push, cost=0.01)


def test_int_is_accepted_for_a_float_key() -> None:
    s = build_scenario({"days": 90})
    assert s.days == 90.0 and isinstance(s.days, float)


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_to_dict_round_trips(path: Path) -> None:
    scenario = load_scenario(path)
    assert build_scenario(scenario.to_dict()) == scenario


def test_to_dict_round_trips_a_custom_segment() -> None:
    scenario = build_scenario(
        {
            "population": {"segments": {"gambler": {"new": True, "weight": 0.1}}},
            "ladder": {"sms": {"days": []}},
        }
    )
    assert build_scenario(scenario.to_dict()) == scenario


def test_a_misspelt_segment_is_an_error_that_suggests_the_built_in_name() -> None:
    """``--set population.segments.forgetfull.weight=0.7`` used to add a segment holding 41%
    of the borrowers; a new name must now be declared new."""
    with pytest.raises(ScenarioError) as err:
        build_scenario({"population": {"segments": {"forgetfull": {"weight": 0.7}}}})
    assert err.value.path == "population.segments.forgetfull"
    assert "did you mean 'forgetful'?" in str(err.value) and "new = true" in str(err.value)
    with pytest.raises(ScenarioError, match="did you mean 'parent'"):
        build_scenario({"population": {"contacts": {"relationships": {"parnet": {}}}}})


def test_a_new_segment_survives_a_round_trip_through_plain_data() -> None:
    s = build_scenario({"population": {"segments": {"gambler": {"new": True, "weight": 0.2}}}})
    again = with_overrides(s, {"population.segments.gambler.ability": 0.4})
    assert again.population.segments["gambler"].ability == 0.4
    assert to_dict(again)["population"]["segments"]["gambler"]["new"] is True
