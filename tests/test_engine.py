"""The engine, event by event: traced runs of one to a few hand-built borrowers.

Every scenario starts from ``conftest.BASE`` (every key explicit, every rung off, one segment
whose probabilities are pinned to 0 or 1 so the trace is deterministic) and switches on only
what the test is about.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import (
    SEGMENT,
    calls_of,
    events_of,
    hour_of_day,
    rel,
    run,
    scenario,
    seg,
)

from sim.engine import core as model
from sim.engine.core import simulate
from sim.results.records import EVENT_KINDS, FINAL_STATES
from sim.results.summary import summarize

TOL = 1e-9  # days: times the engine computes by adding fractions of a day

NEVER_ANSWERS = seg(sms_read=0.0, robot_answer=0.0, agent_answer=0.0, new_number_answer=0.0)
ALWAYS_ANSWERS = seg(sms_read=1.0, robot_answer=1.0, agent_answer=1.0, new_number_answer=1.0)

ROBOT = {
    "ladder.robot.enabled": True,
    "ladder.robot.start_day": 1.0,
    "ladder.robot.end_day": 30.0,
    "ladder.robot.calls_per_day": 3,
    "ladder.robot.hour": 9.0,
}
AGENT = {
    "ladder.agent.enabled": True,
    "ladder.agent.start_day": 2.0,
    "ladder.agent.end_day": 60.0,
    "ladder.agent.every_days": [1.0],
}


def _ec(trigger: str, **values: Any) -> dict[str, Any]:
    out = {"ladder.emergency_contact.trigger": trigger}
    out.update({f"ladder.emergency_contact.{k}": v for k, v in values.items()})
    return out


def _stage_events(records, name: str) -> pd.DataFrame:
    return events_of(records, kind="stage", channel=name)


# --------------------------------------------------------------------------- trace contract


STAGGERED: dict[str, Any] = {
    "population.borrowers": 3,
    "population.arrival": "inflow",
    "population.inflow_days": 3,
}
"""Three hand-built borrowers entering on days 0, 1 and 2."""


def test_trace_uses_only_documented_event_kinds_and_is_time_ordered() -> None:
    sc = scenario(
        ROBOT,
        AGENT,
        _ec("declines", declined_calls=3, unreachable_days=2.0),
        rel(answer_prob=1.0, relay_prob=0.0),
        NEVER_ANSWERS,
        {"ladder.sms.enabled": True, "ladder.sms.days": [0.0, 1.0]},
        days=20,
    )
    rec = run(sc)
    ev = rec.events
    assert list(ev.columns[:7]) == [
        "time",
        "borrower_id",
        "dpd",
        "kind",
        "channel",
        "detail",
        "amount",
    ]
    assert set(ev["kind"]) <= set(EVENT_KINDS)
    assert {"enter", "message", "call", "contact_call", "stage"} <= set(ev["kind"])
    assert ev["time"].is_monotonic_increasing
    entered = rec.outcomes.set_index("borrower_id")["entered_day"]
    np.testing.assert_allclose(ev["dpd"], ev["time"] - entered.loc[ev["borrower_id"]].to_numpy())


def test_no_trace_means_no_events() -> None:
    rec = simulate(scenario(ROBOT, days=5), 1)
    assert rec.events is None


# --------------------------------------------------------------------------- emergency contacts


def _expected_declines_time(records, borrower: int, n: int, d: float) -> float:
    """Time of the first call at which the n-th consecutive unanswered call has happened and
    the borrower has not been reached for d days (computed from the trace itself)."""
    calls = calls_of(records, borrower)
    assert (calls["detail"] != "answered").all()
    entered = records.outcomes.set_index("borrower_id").loc[borrower, "entered_day"]
    for i, t in enumerate(calls["time"]):
        if i + 1 >= n and t - entered >= d:
            return float(t)
    raise AssertionError("the trigger condition never held in the trace")


@pytest.mark.parametrize(
    ("n", "d"),
    [(5, 7.0), (30, 1.0), (1, 0.0), (4, 3.5)],
    ids=["D-binds", "N-binds", "first-call", "both-close"],
)
def test_declines_trigger_fires_exactly_when_n_and_d_both_hold(n: int, d: float) -> None:
    sc = scenario(
        ROBOT,
        AGENT,
        NEVER_ANSWERS,
        _ec("declines", declined_calls=n, unreachable_days=d),
        STAGGERED,
        days=25,
    )
    rec = run(sc)
    out = rec.outcomes.set_index("borrower_id")
    for b in out.index:
        expected = _expected_declines_time(rec, b, n, d)
        stage = events_of(rec, b, kind="stage", channel="emergency_contact")
        assert len(stage) == 1
        assert stage["time"].iloc[0] == pytest.approx(expected, abs=TOL)
        assert out.loc[b, "reached_emergency_contact"]
        assert out.loc[b, "emergency_contact_day"] == pytest.approx(
            expected - out.loc[b, "entered_day"], abs=TOL
        )
        # The contacts are called only from then on.
        contact_calls = events_of(rec, b, kind="contact_call")
        assert len(contact_calls) > 0
        assert (contact_calls["time"] >= expected - TOL).all()


def test_an_answered_call_resets_the_declines_count() -> None:
    """A borrower who answers every call is never 'repeatedly declining'."""
    sc = scenario(
        ROBOT,
        AGENT,
        ALWAYS_ANSWERS,
        _ec("declines", declined_calls=2, unreachable_days=0.0),
        days=20,
    )
    rec = run(sc)
    assert (calls_of(rec)["detail"] == "answered").all()
    assert not rec.outcomes["reached_emergency_contact"].any()
    assert len(events_of(rec, kind="contact_call")) == 0


def test_trigger_never_reaches_nobody() -> None:
    sc = scenario(ROBOT, AGENT, NEVER_ANSWERS, _ec("never"), days=40)
    rec = run(sc)
    assert len(calls_of(rec)) > 30  # plenty of declined calls
    assert not rec.outcomes["reached_emergency_contact"].any()
    assert rec.outcomes["emergency_contact_day"].isna().all()
    assert len(events_of(rec, kind="contact_call")) == 0
    assert (rec.outcomes["n_contact_calls"] == 0).all()


def test_trigger_day_enters_the_stage_at_exactly_dpd_x() -> None:
    sc = scenario(
        ROBOT,
        NEVER_ANSWERS,
        _ec("day", day=14.0),
        {"population.borrowers": 6, "population.arrival": "inflow", "population.inflow_days": 12},
        days=40,
    )
    rec = run(sc)
    out = rec.outcomes
    assert out["entered_day"].nunique() > 1
    assert out["reached_emergency_contact"].all()
    np.testing.assert_allclose(out["emergency_contact_day"], 14.0, atol=TOL)
    stage = _stage_events(rec, "emergency_contact")
    assert len(stage) == len(out)
    np.testing.assert_allclose(stage["dpd"], 14.0, atol=TOL)


@pytest.mark.parametrize(
    ("trigger", "n", "d", "day", "expect"),
    [
        ("either", 5, 7.0, 10.0, "declines"),  # the declines rule holds first (~DPD 7.4)
        ("either", 100, 0.0, 10.0, "day"),  # 100 declines never come: day 10
        ("both", 5, 0.0, 10.0, "day"),  # 5 declines long before day 10: at day 10
        ("both", 40, 0.0, 3.0, "declines"),  # day 3 passed long before the 40th decline
    ],
)
def test_either_and_both_triggers(trigger: str, n: int, d: float, day: float, expect: str) -> None:
    sc = scenario(
        ROBOT,
        AGENT,
        NEVER_ANSWERS,
        _ec(trigger, declined_calls=n, unreachable_days=d, day=day),
        days=30,
    )
    rec = run(sc)
    for b in rec.outcomes["borrower_id"]:
        stage = events_of(rec, b, kind="stage", channel="emergency_contact")
        assert len(stage) == 1
        got = stage["time"].iloc[0]
        if expect == "day":
            assert got == pytest.approx(day, abs=TOL)
        else:
            assert got == pytest.approx(_expected_declines_time(rec, b, n, d), abs=TOL)


# --------------------------------------------------------------------------- reminders


def test_reminders_are_sent_at_their_day_and_hour() -> None:
    sc = scenario(
        NEVER_ANSWERS,
        {
            "ladder.sms.enabled": True,
            "ladder.sms.days": [0.0, 2.0],
            "ladder.sms.hour": 10.0,
            "ladder.push.enabled": True,
            "ladder.push.days": [1.0],
            "ladder.push.hour": 12.5,
            "ladder.second_reminder.enabled": True,
            "ladder.second_reminder.day": 7.0,
            "ladder.second_reminder.hour": 11.0,
            **STAGGERED,
        },
        days=20,
    )
    rec = run(sc)
    out = rec.outcomes.set_index("borrower_id")
    assert out["entered_day"].tolist() == [0.0, 1.0, 2.0]
    for b, entered in out["entered_day"].items():
        msgs = events_of(rec, b, kind="message")
        got = list(zip(msgs["channel"], msgs["dpd"], strict=True))
        expected = [
            ("sms", 10 / 24),
            ("push", 1 + 12.5 / 24),
            ("sms", 2 + 10 / 24),
            ("second_reminder", 7 + 11 / 24),
        ]
        assert [c for c, _ in got] == [c for c, _ in expected]
        for (_, dpd), (_, want) in zip(got, expected, strict=True):
            assert dpd == pytest.approx(want, abs=TOL)
        np.testing.assert_allclose(msgs["time"], entered + np.array([w for _, w in expected]))
        assert (msgs["detail"] == "unread").all()
        assert out.loc[b, "n_sms"] == 2


def test_a_read_reminder_makes_the_borrower_pay_after_it() -> None:
    sc = scenario(
        seg(sms_read=1.0, contact_jump=50.0, full_payment_prob=1.0),
        {"ladder.sms.enabled": True, "ladder.sms.days": [3.0], "ladder.sms.hour": 10.0},
        days=20,
    )
    rec = run(sc)
    out = rec.outcomes
    assert (out["final_state"] == "cured").all()
    assert (out["resolved_day"] > 3 + 10 / 24).all()
    assert (events_of(rec, kind="message")["detail"] == "read").all()


# --------------------------------------------------------------------------- calling hours


def test_every_call_is_inside_calling_hours() -> None:
    sc = scenario(
        NEVER_ANSWERS,
        rel(answer_prob=0.0),
        {
            "rules.call_start": 9.0,
            "rules.call_end": 18.0,
            # robot attempts at 07:30, 15:30 and 23:30: two of three fall outside the hours
            "ladder.robot.enabled": True,
            "ladder.robot.start_day": 0.0,
            "ladder.robot.end_day": 20.0,
            "ladder.robot.calls_per_day": 3,
            "ladder.robot.hour": 7.5,
            # agents' shift 06:00-20:00 is wider than the calling hours
            "agents.shift_start": 6.0,
            "agents.shift_hours": 14.0,
            "ladder.agent.enabled": True,
            "ladder.agent.start_day": 1.0,
            "ladder.agent.every_days": [0.3],
            "ladder.agency.enabled": True,
            "ladder.agency.day": 10.0,
            "ladder.agency.calls_per_week": 20.0,
            "ladder.emergency_contact.trigger": "day",
            "ladder.emergency_contact.day": 3.0,
            "ladder.emergency_contact.attempts_per_contact": 5,
            "ladder.emergency_contact.retry_days": 0.3,
            "population.borrowers": 5,
            "population.arrival": "inflow",
            "population.inflow_days": 5,
        },
        days=20,
    )
    rec = run(sc)
    ev = rec.events
    calls = ev[ev["kind"].isin(["call", "contact_call"])]
    assert set(calls["channel"]) >= {"robot", "agent", "agency"}
    assert (calls["kind"] == "contact_call").sum() > 0
    hours = calls["time"].map(hour_of_day)
    assert (hours >= 9.0 - 1e-6).all(), calls[hours < 9.0 - 1e-6]
    assert (hours < 18.0).all(), calls[hours >= 18.0]
    # the robot attempts due at 07:30 were deferred to the opening time, not dropped
    robot = calls[calls["channel"] == "robot"]["time"].map(hour_of_day)
    assert np.isclose(robot, 9.0, atol=1e-6).any()
    assert rec.meta["calls_outside_hours"] == 0
    assert summarize(rec, sc)["calls_outside_hours"] == 0


# --------------------------------------------------------------------------- contact caps


def _per_day(calls: pd.DataFrame) -> Counter:
    return Counter(zip(calls["borrower_id"], np.floor(calls["time"]).astype(int), strict=True))


BUSY_CALLER = {
    **ROBOT,
    "ladder.robot.start_day": 0.0,
    "ladder.robot.calls_per_day": 4,
    "ladder.robot.hour": 8.0,
    **AGENT,
    "ladder.agent.start_day": 0.0,
    "ladder.agent.every_days": [0.25],
    "ladder.agency.enabled": True,
    "ladder.agency.day": 15.0,
    "ladder.agency.calls_per_week": 28.0,
}


@pytest.mark.parametrize("cap", [0, 2])
def test_max_attempts_per_day(cap: int) -> None:
    sc = scenario(BUSY_CALLER, NEVER_ANSWERS, {"rules.max_attempts_per_day": cap}, days=25)
    rec = run(sc)
    per_day = _per_day(calls_of(rec))
    if cap == 0:  # control: without the cap the same policy calls more often
        assert max(per_day.values()) > 2
    else:
        assert max(per_day.values()) == cap
    channels = set(calls_of(rec)["channel"])
    assert channels == {"robot", "agent", "agency"}


def test_max_attempts_per_rolling_week() -> None:
    sc = scenario(BUSY_CALLER, NEVER_ANSWERS, {"rules.max_attempts_per_week": 7}, days=40)
    rec = run(sc)
    calls = calls_of(rec)
    worst = 0
    for _, g in calls.groupby("borrower_id"):
        t = np.sort(g["time"].to_numpy())
        # calls in the window (t_i - 7, t_i] ending at each call; a call exactly 7 days after
        # another starts a new week (1e-9 days absorbs the rounding of t - 7)
        in_window = np.arange(len(t)) - np.searchsorted(t, t - 7.0 + 1e-9, side="right") + 1
        worst = max(worst, int(in_window.max()))
    assert worst == 7
    assert len(calls) >= 3 * 7 * 5  # the cap binds for five weeks and more


def test_min_gap_between_calls() -> None:
    sc = scenario(
        BUSY_CALLER,
        NEVER_ANSWERS,
        {"rules.min_gap_minutes": 120.0, "ladder.agent.every_days": [0.1]},
        days=25,
    )
    rec = run(sc)
    calls = calls_of(rec)
    gaps = []
    for _, g in calls.groupby("borrower_id"):
        gaps.append(np.diff(np.sort(g["time"].to_numpy())) * 1440.0)
    gaps = np.concatenate(gaps)
    assert gaps.min() >= 120.0 - 1e-5
    assert np.isclose(gaps, 120.0, atol=1e-5).any()  # the rule binds


def test_quiet_days_after_a_conversation() -> None:
    sc = scenario(
        BUSY_CALLER,
        ALWAYS_ANSWERS,
        {"rules.quiet_days_after_conversation": 7.0},
        days=40,
    )
    rec = run(sc)
    calls = calls_of(rec)
    assert (calls["detail"] == "answered").all()
    for _, g in calls.groupby("borrower_id"):
        t = np.sort(g["time"].to_numpy())
        assert len(t) >= 3  # calls resume after each quiet week
        assert np.diff(t).min() >= 7.0 - 1e-9


@pytest.mark.parametrize("cap", [0, 6])
def test_max_unanswered_per_day_for_an_unreachable_borrower(cap: int) -> None:
    sc = scenario(
        seg(unreachable_at_entry=1.0, reappear_rate=0.0, go_dark_rate=0.0),
        NEVER_ANSWERS,
        AGENT,
        {
            "ladder.agent.start_day": 0.0,
            "ladder.agent.every_days": [0.1],
            "ladder.agent.dead_number_days": 0.1,
            "rules.call_start": 0.0,
            "rules.call_end": 24.0,
            "agents.shift_start": 0.0,
            "agents.shift_hours": 24.0,
            "rules.max_unanswered_per_day": cap,
        },
        days=10,
    )
    rec = run(sc)
    calls = calls_of(rec)
    assert (calls["channel"] == "agent").all()
    assert (calls["detail"] == "unreachable").all()
    per_day = _per_day(calls)
    if cap == 0:
        assert max(per_day.values()) >= 9  # every 0.1 days around the clock
    else:
        assert max(per_day.values()) == cap


# --------------------------------------------------------------------------- paying


def test_an_answered_call_leads_to_full_payment_and_no_more_calls() -> None:
    sc = scenario(
        AGENT,
        seg(agent_answer=1.0, contact_jump=50.0, full_payment_prob=1.0),
        {"fees.late_fee_rate": 0.02, "fees.penalty_daily_rate": 0.001, "fees.cap": 0.5},
        days=30,
    )
    rec = run(sc)
    out = rec.outcomes.set_index("borrower_id")
    for b, row in out.iterrows():
        assert row["final_state"] == "cured"
        pay = events_of(rec, b, kind="payment")
        assert len(pay) == 1
        t_pay, amount = pay["time"].iloc[0], pay["amount"].iloc[0]
        assert pay["detail"].iloc[0] == "full"
        assert amount > row["principal"]  # fees were charged and are paid too
        assert amount == pytest.approx(row["amount_due"], abs=1e-6)
        assert row["amount_recovered"] == pytest.approx(row["amount_due"], abs=1e-6)
        assert row["balance_open"] == 0 and row["amount_written_off"] == 0
        assert row["resolved_day"] == pytest.approx(t_pay, abs=TOL)
        calls = calls_of(rec, b)
        answered = calls[calls["detail"] == "answered"]["time"]
        assert len(answered) == 1 and answered.iloc[0] <= t_pay
        assert (calls["time"] <= t_pay).all()
        resolved = events_of(rec, b, kind="resolved")
        assert resolved["detail"].tolist() == ["cured"]


def test_pure_baseline_payment_with_no_contact() -> None:
    sc = scenario(seg(base_intensity=5.0, full_payment_prob=1.0), days=30)
    rec = run(sc)
    out = rec.outcomes
    assert (out["final_state"] == "cured").all()
    assert len(calls_of(rec)) == 0 and len(events_of(rec, kind="message")) == 0
    # with no contact at all, every yuan is a self-cure in the channel attribution
    assert rec.recovered_by_channel["none"] == pytest.approx(out["amount_recovered"].sum())


@pytest.mark.parametrize("channel", ["sms", "agent"])
def test_a_repayment_is_credited_to_the_last_contact(channel: str) -> None:
    """Last-touch attribution: after a read SMS (or an answered agent call) and nothing else,
    the whole repayment is credited to that channel."""
    if channel == "sms":
        layers = (
            seg(sms_read=1.0, contact_jump=50.0, full_payment_prob=1.0),
            {"ladder.sms.enabled": True, "ladder.sms.days": [3.0], "ladder.sms.hour": 10.0},
        )
    else:
        layers = (AGENT, seg(agent_answer=1.0, contact_jump=50.0, full_payment_prob=1.0))
    rec = run(scenario(*layers, days=30))
    total = rec.outcomes["amount_recovered"].sum()
    assert total > 0
    assert rec.recovered_by_channel[channel] == pytest.approx(total)
    assert sum(v for k, v in rec.recovered_by_channel.items() if k != channel) == 0


# --------------------------------------------------------------------------- write-off


def test_write_off_at_exactly_entry_plus_write_off_day() -> None:
    sc = scenario(
        NEVER_ANSWERS,
        {
            "population.borrowers": 30,
            "population.arrival": "inflow",
            "population.inflow_days": 60,
            "ladder.write_off_day": 40.0,
        },
        days=90,
    )
    rec = run(sc)
    out = rec.outcomes
    assert len(out) == 30
    due = out["entered_day"] + 40.0
    off = due <= 90.0
    assert off.sum() > 0 and (~off).sum() > 0
    assert np.isclose(due, 90.0).any()  # one is due exactly at the horizon
    w = out[off]
    assert (w["final_state"] == "written_off").all()
    np.testing.assert_allclose(w["resolved_day"], w["entered_day"] + 40.0, atol=TOL)
    np.testing.assert_allclose(w["amount_written_off"], w["amount_due"], rtol=1e-12)
    assert (w["highest_stage"] == "written_off").all()
    o = out[~off]
    assert (o["final_state"] == "open").all()
    assert o["resolved_day"].isna().all()
    np.testing.assert_allclose(o["balance_open"], o["amount_due"], rtol=1e-12)
    assert (o["amount_written_off"] == 0).all()
    resolved = events_of(rec, kind="resolved")
    assert len(resolved) == off.sum()
    np.testing.assert_allclose(resolved["dpd"], 40.0, atol=TOL)


# --------------------------------------------------------------------------- fraud


def test_fraudulent_identity_is_terminated_after_the_identity_check() -> None:
    honest_and_ghost = {
        "population.segments.test.weight": 0.5,
        **{f"population.segments.ghost.{k}": v for k, v in {**SEGMENT, "fraudulent": True}.items()},
        "population.segments.ghost.weight": 0.5,
        "population.segments.ghost.new": True,
        "population.borrowers": 40,
        "population.arrival": "inflow",
        "population.inflow_days": 10,
        "ladder.lost_contact.enabled": True,
        "ladder.lost_contact.no_contact_days": 12.0,
        "ladder.lost_contact.identity_check_days": 3.0,
        "ladder.lost_contact.field_visit": False,
        "ladder.lost_contact.litigation": False,
    }
    rec = run(scenario(NEVER_ANSWERS, honest_and_ghost, days=60))
    out = rec.outcomes
    fraud = out[out["segment"] == "ghost"]
    honest = out[out["segment"] == "test"]
    assert len(fraud) > 0 and len(honest) > 0
    assert (fraud["final_state"] == "fraud_terminated").all()
    np.testing.assert_allclose(fraud["resolved_day"], fraud["entered_day"] + 15.0, atol=TOL)
    np.testing.assert_allclose(fraud["amount_written_off"], fraud["amount_due"], rtol=1e-12)
    assert (fraud["amount_recovered"] == 0).all()
    assert (honest["final_state"] == "open").all()
    assert out["reached_identity_check"].all()
    stage = _stage_events(rec, "identity_check")
    np.testing.assert_allclose(stage["dpd"], 12.0, atol=TOL)


# --------------------------------------------------------------------------- agency


def test_agency_hand_off_replaces_the_platforms_own_calls() -> None:
    sc = scenario(
        ROBOT,
        AGENT,
        NEVER_ANSWERS,
        {
            "ladder.robot.end_day": 60.0,
            "ladder.agency.enabled": True,
            "ladder.agency.day": 20.0,
            "ladder.agency.calls_per_week": 7.0,
            **STAGGERED,
        },
        days=45,
    )
    rec = run(sc)
    out = rec.outcomes.set_index("borrower_id")
    assert out["reached_agency"].all()
    for b, row in out.iterrows():
        handoff = events_of(rec, b, kind="stage", channel="agency")["time"]
        assert len(handoff) == 1
        t0 = handoff.iloc[0]
        assert t0 == pytest.approx(row["entered_day"] + 20.0, abs=TOL)
        calls = calls_of(rec, b)
        own = calls[calls["channel"].isin(["robot", "agent"])]
        agency = calls[calls["channel"] == "agency"]
        assert (own["time"] < t0).all()
        assert len(own[own["channel"] == "robot"]) > 0 and len(own[own["channel"] == "agent"]) > 0
        assert len(agency) >= 20
        assert (agency["time"] >= t0).all()
        gaps = np.diff(agency["time"].to_numpy())
        np.testing.assert_allclose(gaps, 1.0, atol=1e-6)
        assert row["n_agency_calls"] == len(agency)
        assert row["n_robot_calls"] + row["n_agent_calls"] == len(own)


# --------------------------------------------------------------------------- plans

PLAN = {
    **AGENT,
    "ladder.agent.start_day": 3.0,
    "ladder.plans.enabled": True,
    "ladder.plans.from_day": 0.0,
    "ladder.plans.instalments": 3,
    "ladder.plans.interval_days": 10.0,
    "ladder.plans.first_due_days": 5.0,
    "ladder.plans.max_per_account": 1,
    "ladder.plans.freeze_fees": True,
}


def test_kept_plan_pays_in_instalments_and_completes() -> None:
    sc = scenario(
        PLAN,
        seg(agent_answer=1.0, plan_request_prob=1.0, plan_keep_prob=1.0),
        {"fees.penalty_daily_rate": 0.002},
        days=60,
    )
    rec = run(sc)
    out = rec.outcomes.set_index("borrower_id")
    for b, row in out.iterrows():
        granted = events_of(rec, b, kind="plan", detail="granted")
        assert len(granted) == 1
        tg, owed = granted["time"].iloc[0], granted["amount"].iloc[0]
        pay = events_of(rec, b, kind="payment")
        assert (pay["detail"] == "instalment").all()
        np.testing.assert_allclose(pay["time"] - tg, [5.0, 15.0, 25.0], atol=TOL)
        share = round(owed / 3, 2)
        np.testing.assert_allclose(pay["amount"].iloc[:2], share, atol=1e-9)
        assert pay["amount"].sum() == pytest.approx(owed, abs=1e-6)  # fees frozen meanwhile
        assert row["final_state"] == "plan_completed"
        assert row["resolved_day"] == pytest.approx(tg + 25.0, abs=TOL)
        assert row["amount_recovered"] == pytest.approx(row["amount_due"], abs=1e-6)
        assert row["n_plans"] == 1
        calls = calls_of(rec, b)
        assert (calls["time"] <= tg).all()  # calls pause while the plan is kept
        assert len(calls) >= 1


def test_broken_plan_resumes_collections() -> None:
    sc = scenario(
        PLAN,
        seg(agent_answer=1.0, plan_request_prob=1.0, plan_keep_prob=0.0),
        days=40,
    )
    rec = run(sc)
    out = rec.outcomes.set_index("borrower_id")
    for b, row in out.iterrows():
        granted = events_of(rec, b, kind="plan", detail="granted")["time"]
        broken = events_of(rec, b, kind="plan", detail="broken")["time"]
        assert len(granted) == 1 and len(broken) == 1
        tg, tb = granted.iloc[0], broken.iloc[0]
        assert tb == pytest.approx(tg + 5.0, abs=TOL)
        calls = calls_of(rec, b)["time"]
        assert not ((calls > tg) & (calls < tb)).any()
        assert (calls > tb).sum() >= 10  # daily agent calls again
        assert len(events_of(rec, b, kind="payment")) == 0
        assert row["final_state"] == "open" and row["n_plans"] == 1


# --------------------------------------------------------------------------- reproducibility

LIVELY = {
    "population.borrowers": 150,
    "population.trait_spread": 0.8,
    "population.arrival": "inflow",
    "population.inflow_days": 40,
    "population.contacts.count_weights": [0.3, 0.4, 0.3],
    **rel(answer_prob=0.6, relay_prob=0.5, complaint_prob=0.1),
    **seg(
        sms_read=0.6,
        robot_answer=0.4,
        agent_answer=0.5,
        new_number_answer=0.4,
        base_intensity=0.02,
        contact_jump=0.8,
        escalation_jump=0.5,
        full_payment_prob=0.7,
        fatigue=0.1,
        unreachable_at_entry=0.05,
        go_dark_rate=0.01,
        reappear_rate=0.05,
        service_contact_rate=0.01,
        plan_request_prob=0.2,
        plan_keep_prob=0.8,
        complaint_per_call=0.01,
        complaint_third_party=0.1,
        shock_prob=0.3,
        shock_ability_factor=0.3,
        principal_sigma=0.8,
    ),
    **ROBOT,
    **AGENT,
    "ladder.plans.enabled": True,
    "ladder.sms.enabled": True,
    "ladder.sms.days": [0.0, 1.0],
    "ladder.push.enabled": True,
    "ladder.second_reminder.enabled": True,
    "ladder.emergency_contact.trigger": "either",
    "ladder.number_rotation.enabled": True,
    "ladder.number_rotation.after_unanswered": 4,
    "ladder.measures.enabled": True,
    "ladder.measures.effect": 0.5,
    "ladder.lost_contact.enabled": True,
    "ladder.lost_contact.no_contact_days": 15.0,
    "ladder.lost_contact.field_visit": True,
    "ladder.lost_contact.field_visit_success": 0.5,
    "ladder.lost_contact.litigation": True,
    "ladder.lost_contact.litigation_day": 30.0,
    "ladder.lost_contact.litigation_min_balance": 0.0,
    "ladder.lost_contact.litigation_days": 10.0,
    "ladder.lost_contact.litigation_success": 0.5,
    "ladder.agency.enabled": True,
    "ladder.agency.day": 40.0,
    "ladder.write_off_day": 50.0,
    "agents.per_10k_borrowers": 100.0,
    "days": 70.0,
}


def test_same_seed_same_tables_and_different_seed_different_outcomes() -> None:
    sc = scenario(LIVELY)
    a = simulate(sc, 11, trace=True)
    b = simulate(sc, 11, trace=True)
    for name in ("outcomes", "monthly", "daily", "events"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.costs == b.costs
    # a lively run: many kinds of things happen
    assert len(set(a.outcomes["final_state"])) >= 3
    c = simulate(sc, 12, trace=True)
    assert not a.outcomes.equals(c.outcomes)
    assert not np.array_equal(a.outcomes["resolved_day"], c.outcomes["resolved_day"], True)
    # replications of one seed differ too
    d = simulate(sc, 11, replication=1)
    assert not a.outcomes.equals(d.outcomes)


def test_tracing_does_not_change_the_outcome() -> None:
    sc = scenario(LIVELY)
    pd.testing.assert_frame_equal(
        simulate(sc, 5, trace=True).outcomes, simulate(sc, 5, trace=False).outcomes
    )


def test_progress_reports_accounts_finished_in_order() -> None:
    sc = scenario(LIVELY)
    calls: list[tuple[int, int]] = []
    simulate(sc, 3, progress=lambda done, total: calls.append((done, total)))
    n = sc.population.borrowers
    assert calls, "progress was never called"
    assert all(total == n for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert done[-1] == n
    assert len(calls) >= 2


def test_final_states_are_documented() -> None:
    rec = simulate(scenario(LIVELY), 2)
    assert set(rec.outcomes["final_state"]) <= set(FINAL_STATES)


# --------------------------------------------------------------------------- engine bugs


HANG_SCRIPT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
sys.path.insert(0, sys.argv[1])
from conftest import scenario
from sim.engine.core import simulate
sc = scenario({
    "ladder.robot.enabled": True,
    "ladder.robot.start_day": 1.0,
    "ladder.robot.end_day": 7.0,
    "ladder.robot.calls_per_day": 2,
    "ladder.robot.hour": 9.5,
    "rules.min_gap_minutes": 0.0,
}, days=10)
out = simulate(sc, 1).outcomes
assert (out["n_robot_calls"] >= 2 * 7).all(), out["n_robot_calls"].tolist()
assert (out["n_robot_calls"] <= 3 * 8).all(), out["n_robot_calls"].tolist()
"""


def _run_in_child(script: str, cwd: Path, timeout: float) -> None:
    """Run ``script`` (which asserts its own outcome) in a child process with a time limit, so
    that a run that never ends fails the test instead of hanging the suite."""
    tests_dir = str(Path(__file__).resolve().parent)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script, tests_dir],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"simulate did not finish in {timeout:g} s")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_robot_calls_without_a_minimum_gap_terminate(tmp_path) -> None:
    """Regression: with no minimum gap a cadence that returned the current instant as the
    'next' attempt looped for ever at that instant, allocating random blocks until memory ran
    out. Run in a child process with a time and memory limit so a relapse cannot hang the
    suite."""
    _run_in_child(HANG_SCRIPT, tmp_path, timeout=30)


def test_a_step_that_never_advances_is_reported_not_looped(monkeypatch) -> None:
    """The engine's guard: a handler that leaves its step due at the same instant would
    loop for ever; the account raises, naming the step, once the cap is passed."""
    monkeypatch.setattr(model, "MAX_STEPS_WITHOUT_WAITING", 500)
    sc = scenario({"ladder.sms.enabled": True, "ladder.sms.days": [0.0]}, days=10)
    m = model.Model(sc, 7)
    m.handlers[m.entry["sms"]] = lambda b, t, due: None  # never re-schedules itself
    with pytest.raises(RuntimeError, match=r"made 501 steps without waiting, the last sms"):
        m.run()


CADENCE = {
    "robot": (
        {
            "ladder.robot.enabled": True,
            "ladder.robot.start_day": 0.0,
            "ladder.robot.end_day": 30.0,
            "ladder.robot.calls_per_day": 3,
            "ladder.robot.hour": 9.0,
        },
        1.0 / 3.0,
    ),
    "agent": (
        {
            "ladder.agent.enabled": True,
            "ladder.agent.start_day": 0.0,
            "ladder.agent.end_day": 30.0,
            "ladder.agent.every_days": [0.3],
        },
        0.3,
    ),
    "agency": (
        {
            "ladder.agency.enabled": True,
            "ladder.agency.day": 0.0,
            "ladder.agency.calls_per_week": 5.0,
        },
        7.0 / 5.0,
    ),
}


@pytest.mark.parametrize("min_gap", [0.0, 60.0])
@pytest.mark.parametrize("channel", sorted(CADENCE))
def test_calls_keep_their_cadence(channel: str, min_gap: float) -> None:
    """Regression: float rounding once made a cadence return the attempt just made (or one
    ulp after it) as the next one, giving the borrower an extra call at the same instant or
    min_gap_minutes later (robot 3/day from 09:00, agent every 0.3 days, agency 5/week)."""
    overrides, gap = CADENCE[channel]
    sc = scenario(
        NEVER_ANSWERS,
        overrides,
        {
            "rules.min_gap_minutes": min_gap,
            "rules.call_start": 0.0,
            "rules.call_end": 24.0,
            "agents.shift_start": 0.0,
            "agents.shift_hours": 24.0,
            "population.borrowers": 20,
        },
        days=30,
    )
    rec = run(sc)
    calls = calls_of(rec)
    assert (calls["channel"] == channel).all() and len(calls) >= 20 * 30 / gap * 0.9
    for _, g in calls.groupby("borrower_id"):
        gaps = np.diff(np.sort(g["time"].to_numpy()))
        closest = gaps.min() * 1440
        assert gaps.min() >= gap - 1e-6, f"{channel}: two attempts {closest:.1f} min apart"


# --------------------------------------------------------------------------- more rungs


def test_max_connected_per_day() -> None:
    sc = scenario(BUSY_CALLER, ALWAYS_ANSWERS, {"rules.max_connected_per_day": 1}, days=20)
    rec = run(sc)
    calls = calls_of(rec)
    assert (calls["detail"] == "answered").all()
    per_day = _per_day(calls)
    assert max(per_day.values()) == 1
    assert len(per_day) >= 3 * 19  # every day, all three borrowers


def test_number_rotation_switches_to_the_new_number_answer_probability() -> None:
    sc = scenario(
        AGENT,
        seg(agent_answer=0.0, new_number_answer=1.0),
        {"ladder.number_rotation.enabled": True, "ladder.number_rotation.after_unanswered": 4},
        days=20,
    )
    rec = run(sc)
    for b in rec.outcomes["borrower_id"]:
        calls = calls_of(rec, b)
        assert calls["detail"].tolist()[:5] == ["unanswered"] * 4 + ["answered"]
        stage = events_of(rec, b, kind="stage", channel="number_rotation")
        assert stage["time"].tolist() == [calls["time"].iloc[3]]
        assert (calls["detail"].iloc[4:] == "answered").all()


def test_consent_required_and_nobody_consented_means_no_contact_stage() -> None:
    sc = scenario(
        ROBOT,
        NEVER_ANSWERS,
        _ec("day", day=5.0, require_consent=True),
        {"population.contacts.consent_prob": 0.0, "population.contacts.count_weights": [0, 0, 1]},
        days=20,
    )
    rec = run(sc)
    assert not rec.outcomes["reached_emergency_contact"].any()
    assert len(events_of(rec, kind="contact_call")) == 0


def test_contacts_are_called_once_each_attempt_and_relaying_makes_the_borrower_pay() -> None:
    sc = scenario(
        ROBOT,
        NEVER_ANSWERS,
        seg(escalation_jump=50.0),
        rel(answer_prob=1.0, relay_prob=1.0),
        _ec("day", day=5.0),
        days=20,
    )
    rec = run(sc)
    out = rec.outcomes
    assert (out["final_state"] == "cured").all()
    assert (out["n_third_party_contacts"] == 1).all() and (out["n_contact_calls"] == 1).all()
    for b in out["borrower_id"]:
        cc = events_of(rec, b, kind="contact_call")
        assert cc["detail"].tolist() == ["relayed"]
        pay = events_of(rec, b, kind="payment")
        assert pay["time"].iloc[0] >= cc["time"].iloc[0]


def test_unanswered_contacts_get_their_attempts_retry_days_apart() -> None:
    sc = scenario(
        ROBOT,
        NEVER_ANSWERS,
        rel(answer_prob=0.0),
        _ec("day", day=5.0, attempts_per_contact=3, retry_days=2.0),
        {"population.contacts.count_weights": [0, 1, 0]},
        days=30,
    )
    rec = run(sc)
    out = rec.outcomes
    assert (out["n_contact_calls"] == 6).all()  # two contacts, three attempts each
    for b in out["borrower_id"]:
        t = np.sort(events_of(rec, b, kind="contact_call")["time"].to_numpy())
        # the first call at the first moment inside calling hours (08:00) on DPD 5
        assert t[0] == pytest.approx(5 + 8 / 24, abs=1e-9)
        # the two contacts take turns; each one's attempts are retry_days apart
        np.testing.assert_allclose(t[2:] - t[:-2], 2.0, atol=1e-9)
        assert (np.diff(t) > 0).all()


def test_only_when_unreachable_skips_borrowers_reached_recently() -> None:
    sc = scenario(
        ROBOT,
        ALWAYS_ANSWERS,
        rel(answer_prob=1.0),
        _ec("day", day=5.0, only_when_unreachable=True, unreachable_days=3.0),
        days=20,
    )
    rec = run(sc)
    assert rec.outcomes["reached_emergency_contact"].all()  # the stage is entered ...
    assert len(events_of(rec, kind="contact_call")) == 0  # ... but nobody is phoned


@pytest.mark.parametrize("dark_at_entry", [False, True])
def test_a_borrower_calls_customer_service_only_while_reachable(dark_at_entry: bool) -> None:
    """Service calls make a willing borrower pay (credited to ``service``); a borrower
    unreachable from entry, who never comes back, makes none, as one who goes dark later."""
    sc = scenario(
        seg(
            unreachable_at_entry=float(dark_at_entry),
            reappear_rate=0.0,
            service_contact_rate=2.0,
            contact_jump=50.0,
        ),
        {"population.borrowers": 20},
        days=30,
    )
    rec = run(sc)
    by_service = rec.recovered_by_channel["service"]
    if dark_at_entry:
        assert by_service == 0.0
        assert (rec.outcomes["amount_recovered"] == 0.0).all()
    else:
        assert by_service == pytest.approx(rec.outcomes["amount_recovered"].sum())
        assert (rec.outcomes["final_state"] == "cured").all()


def test_a_dark_phone_reads_nothing_and_answers_nothing() -> None:
    sc = scenario(
        ROBOT,
        ALWAYS_ANSWERS,
        seg(unreachable_at_entry=1.0, reappear_rate=0.0, contact_jump=50.0),
        {"ladder.sms.enabled": True, "ladder.sms.days": [0.0, 1.0, 2.0]},
        days=10,
    )
    rec = run(sc)
    assert (events_of(rec, kind="message")["detail"] == "unread").all()
    assert (calls_of(rec)["detail"] == "unreachable").all()
    assert (rec.outcomes["final_state"] == "open").all()


def test_account_measures_on_their_days() -> None:
    sc = scenario(
        NEVER_ANSWERS,
        {
            "ladder.measures.enabled": True,
            "ladder.measures.freeze_day": 10.0,
            "ladder.measures.report_day": 30.0,
        },
        days=40,
    )
    rec = run(sc)
    stage = _stage_events(rec, "measures")
    assert len(stage) == 3
    np.testing.assert_allclose(stage["dpd"], 10.0, atol=TOL)
    assert rec.outcomes["reached_measures"].all()


def test_litigation_enforcement_recovers_its_share_of_the_balance() -> None:
    sc = scenario(
        NEVER_ANSWERS,
        {
            "ladder.lost_contact.enabled": True,
            "ladder.lost_contact.no_contact_days": 200.0,
            "ladder.lost_contact.litigation": True,
            "ladder.lost_contact.litigation_day": 20.0,
            "ladder.lost_contact.litigation_min_balance": 0.0,
            "ladder.lost_contact.litigation_days": 10.0,
            "ladder.lost_contact.litigation_success": 1.0,
            "ladder.lost_contact.litigation_recovery": 0.6,
            "fees.penalty_daily_rate": 0.0,
        },
        days=40,
    )
    rec = run(sc)
    out = rec.outcomes
    assert out["reached_litigation"].all()
    for b, row in out.set_index("borrower_id").iterrows():
        pay = events_of(rec, b, kind="payment")
        assert pay["detail"].tolist() == ["enforcement"]
        assert pay["dpd"].iloc[0] == pytest.approx(30.0, abs=TOL)
        assert pay["amount"].iloc[0] == pytest.approx(round(0.6 * row["amount_due"], 2))
        assert row["final_state"] == "open"


# --------------------------------------------------------------------------- sub-fen balances

FEN = {
    **seg(base_intensity=50.0, full_payment_prob=0.0),
    "behaviour.partial_min": 0.5,
    "behaviour.partial_max": 0.5,
    "behaviour.payment_jump": 0.0,
    "behaviour.payment_jump_per_share": 0.0,
    "fees.penalty_daily_rate": 0.001,
}


def test_partial_repayments_clear_a_small_balance() -> None:
    rec = run(scenario(FEN, days=10))
    pay = events_of(rec, kind="payment")
    assert (pay["amount"] > 0).all(), f"{(pay['amount'] == 0).sum()} zero-amount repayments"
    assert (rec.outcomes["final_state"] == "cured").all()


FEN_HANG_SCRIPT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
sys.path.insert(0, sys.argv[1])
from conftest import scenario, seg
from sim.engine.core import simulate
sc = scenario(seg(base_intensity=1.0, full_payment_prob=0.0), {
    "behaviour.partial_min": 0.5,
    "behaviour.partial_max": 0.5,
    "behaviour.decay": 0.5,
    "behaviour.payment_jump": 1.0,
    "behaviour.payment_jump_per_share": 0.0,
    "fees.penalty_daily_rate": 0.001,
}, days=30)
out = simulate(sc, 1).outcomes
assert (out["final_state"] == "cured").all(), out["final_state"].tolist()
"""


def test_self_exciting_partial_repayments_terminate(tmp_path) -> None:
    _run_in_child(FEN_HANG_SCRIPT, tmp_path, timeout=10)  # a correct run takes about 1 s


def test_a_freeze_pushed_past_the_report_day_is_followed_by_the_report_not_a_step_back() -> None:
    """Regression: a plan kept over the freeze day defers the freeze; once the plan breaks
    the freeze comes after the credit-report day, and the report used to be scheduled on that
    (past) day, so the account stepped back in time and lived its days again. The report now
    follows the late freeze at once, and the account's steps never go back."""
    sc = scenario(
        PLAN,
        seg(agent_answer=1.0, plan_request_prob=1.0, plan_keep_prob=0.0),
        {
            "ladder.measures.enabled": True,
            "ladder.measures.freeze_day": 10.0,
            "ladder.measures.report_day": 30.0,
            "ladder.plans.first_due_days": 10.0,  # the plan breaks after the freeze day
            "ladder.plans.interval_days": 30.0,
        },
        days=60,
    )
    rec = run(sc)
    for b in rec.outcomes["borrower_id"]:
        measures = events_of(rec, b, kind="measure")
        assert list(measures["detail"]) == ["freeze", "credit_report"]
        freeze, report = measures["time"]
        assert freeze - rec.outcomes["entered_day"][b] > 30.0  # deferred by the plan
        assert report == freeze  # the report was overdue: it follows the freeze at once
        own = rec.events[rec.events["borrower_id"] == b].sort_values("seq")
        assert (own["time"].diff().dropna() >= 0).all()


def test_a_step_earlier_than_the_accounts_last_is_refused(monkeypatch) -> None:
    """The engine's guard: an account never steps back in time; a handler that schedules a
    step in the past makes the run fail, naming the account, the step and both times."""
    sc = scenario({"ladder.sms.enabled": True, "ladder.sms.days": [0.0, 5.0]}, days=10)
    m = model.Model(sc, 7)
    sms = m.entry["sms"]
    send = m.handlers[sms]

    def send_then_rewind(b, t, due):  # after the day-5 reminder, schedule one on day 1
        send(b, t, due)
        if t > 5:
            due[sms] = b.entered + 1.0

    m.handlers[sms] = send_then_rewind
    with pytest.raises(RuntimeError, match=r"account 0: step sms due at t=1\.0.* earlier"):
        m.run()
