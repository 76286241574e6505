"""The ladder as strategy objects: a rung added from outside the package is sent, costed,
counted and staged with no edit in the package; the ladder's layout (agenda order, stages by
rank, columns) is collected from the rungs; the trigger strategies match the scenario's
choices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from conftest import events_of, run, scenario, seg

from sim.engine import rungs
from sim.engine.rungs.base import Count, Stage
from sim.engine.rungs.emergency_contact import EmergencyContact
from sim.engine.rungs.layout import layout
from sim.engine.rungs.reminders import Reminder
from sim.engine.rungs.triggers import TRIGGERS
from sim.results.summary import summarize
from sim.spec import ScenarioError, to_dict
from sim.spec.ladder import EmergencyContact as EmergencyContactSection
from sim.spec.params import param

# --------------------------------------------------------------------------- a new rung


@dataclass(frozen=True)
class WeChatSection:
    """A WeChat official-account message (the scenario section of the new rung)."""

    enabled: bool = param(False, doc="switch the rung on or off")
    days: tuple[float, ...] = param((3.0,), unit="DPD", lo=0, hi=3650, length=(0, 10))
    hour: float = param(20.0, unit="hour", lo=0, hi=24)
    read_factor: float = param(1.0, lo=0, hi=2)
    effect: float = param(1.0, lo=0, hi=20)
    cost: float = param(0.03, unit="yuan", lo=0, hi=100)


class WeChat(Reminder):
    """The whole new rung: declarations only; sending is the Reminder base's."""

    order = 25  # after push, before the second reminder
    name = section = "wechat"
    spec = WeChatSection
    agenda = ("wechat",)
    stages = (Stage("wechat", 15),)  # after the first reminder, before robot calls
    channels = touches = ("wechat",)
    counts = (Count("n_wechat", "n_wechat"),)
    daily = ("wechat",)


@pytest.fixture
def wechat():
    with rungs.registered(WeChat):
        yield


def test_a_new_message_rung_is_sent_costed_counted_and_staged(wechat) -> None:
    sc = scenario(
        seg(sms_read=1.0),
        {"ladder.wechat.enabled": True, "ladder.wechat.days": [3.0, 6.0]},
        days=10,
    )
    rec = run(sc)
    out = rec.outcomes
    # staged: its stage sits between the reminder and robot calls, by rank
    stages = layout().stages
    assert stages.index("wechat") == stages.index("reminder") + 1
    assert out["reached_wechat"].all() and (out["highest_stage"] == "wechat").all()
    # counted, per account and per day
    assert (out["n_wechat"] == 2).all()
    assert rec.daily["wechat"].iloc[3] == rec.daily["wechat"].iloc[6] == len(out)
    # costed, on its own channel
    assert rec.costs["wechat"] == pytest.approx(2 * 0.03 * len(out))
    np.testing.assert_allclose(out["cost"], 0.06)
    # sent at its days and hour, read, and credited with the repayment that follows
    for b in out["borrower_id"]:
        sent = events_of(rec, b, kind="message", channel="wechat")
        np.testing.assert_allclose(sent["time"] - out["entered_day"][b], [3 + 20 / 24, 6 + 20 / 24])
        assert set(sent["detail"]) == {"read"}
    summary = summarize(rec, sc)
    assert summary["funnel"]["wechat"] == 1.0
    assert summary["costs"]["wechat"] == pytest.approx(rec.costs["wechat"])
    assert "funnel.wechat" in summary["headline"]


def test_a_new_rungs_section_is_validated_and_round_trips(wechat) -> None:
    with pytest.raises(ScenarioError, match=r"ladder\.wechat\.hour: 25\.0 is out of range"):
        scenario({"ladder.wechat.hour": 25.0})
    with pytest.raises(ScenarioError, match=r"ladder\.wechat\.colour: unknown key"):
        scenario({"ladder.wechat.colour": "green"})
    sc = scenario({"ladder.wechat.days": [1.0]})
    assert to_dict(sc)["ladder"]["wechat"]["days"] == [1.0]
    assert sc.ladder.section("wechat").days == (1.0,)


def test_without_the_rung_its_section_is_an_unknown_key() -> None:
    with pytest.raises(ScenarioError, match=r"ladder\.wechat: unknown key"):
        scenario({"ladder.wechat.enabled": True})
    assert "wechat" not in layout().stages


def test_a_rung_cannot_take_a_name_or_a_place_that_is_taken() -> None:
    class Sms2(WeChat):
        name = "sms"

    class Clash(WeChat):
        name = "clash"
        order = 10  # the SMS rung's place

    with pytest.raises(ValueError, match="taken"):
        rungs.register(Sms2)
    with pytest.raises(ValueError, match="share an order"):
        rungs.register(Clash)
    assert "clash" not in [r.name for r in rungs.LADDER]


# --------------------------------------------------------------------------- the layout


def test_the_ladders_layout_is_collected_from_its_rungs() -> None:
    lay = layout()
    assert lay.agenda == (
        "pay", "sms", "push", "second_reminder", "robot", "agent", "promise", "agency",
        "handoff", "ec", "measure", "lost", "litigation", "writeoff", "shock", "dark", "back",
        "service", "plan",
    )  # fmt: skip
    assert lay.stages == (
        "reminder", "robot", "agent", "second_reminder", "measures", "number_rotation",
        "emergency_contact", "identity_check", "field_visit", "agency", "litigation",
        "written_off",
    )  # fmt: skip
    assert lay.channels[-1] == "complaints" and lay.touches[0] == "none"
    assert len(set(lay.channels)) == len(lay.channels)
    assert [c.column for c in lay.counts][-2:] == ["n_calls_answered", "n_complaints"]
    # every rung's declarations are in it
    for rung in rungs.LADDER:
        assert set(rung.agenda) <= set(lay.agenda)
        assert {s.name for s in rung.stages} <= set(lay.stages)
        assert set(rung.channels) <= set(lay.channels)


FIXED_AMOUNTS = ("amount_due", "amount_recovered", "amount_written_off", "amount_waived")
"""Money columns every outcome row has (not a rung's count)."""


def test_the_results_columns_follow_the_layout() -> None:
    rec = run(scenario(days=5), trace=False)
    lay = layout()
    reached = [c.removeprefix("reached_") for c in rec.outcomes if c.startswith("reached_")]
    assert reached == list(lay.stages)
    assert list(rec.costs) == list(lay.channels)
    assert list(rec.recovered_by_channel) == list(lay.touches)
    counted = [c for c in rec.outcomes if c.startswith("n_") or c.startswith("amount_")]
    assert [c for c in counted if c not in FIXED_AMOUNTS] == [c.column for c in lay.counts]
    assert list(rec.daily.columns[1 : 1 + len(lay.daily)]) == list(lay.daily)


def test_every_trigger_the_scenario_allows_is_a_strategy_and_no_other() -> None:
    field = EmergencyContactSection.__dataclass_fields__["trigger"]
    assert set(TRIGGERS) == set(field.metadata["spec"].choices)
    assert EmergencyContact.name == "emergency_contact"


def test_a_day_listed_twice_sends_two_messages() -> None:
    """As before the rungs became objects: every listed day is a message, duplicates too."""
    sc = scenario({"ladder.sms.enabled": True, "ladder.sms.days": [1.0, 1.0, 2.0]}, days=5)
    rec = run(sc)
    assert (rec.outcomes["n_sms"] == 3).all()
    sent = events_of(rec, 0, kind="message", channel="sms")
    np.testing.assert_allclose(sent["dpd"], [1 + 10 / 24, 1 + 10 / 24, 2 + 10 / 24])
