"""What agents' conversations achieve, on hand-built borrowers: exact event sequences for
promises kept and broken, the broken promise's next-day follow-up ahead of the list, the
treatment policy's limits, settlements, disputes; statistical checks of the promise and kept
rates against the configured probabilities; a trace audit of every follow-up; complaints by
cause; the weekend head-count and accounts per agent.

Day 0 is a Monday; the team works 09:00-17:00 (``OPEN`` is 09:00). Borrowers never pay on
their own (the test segment's base intensity and jumps are 0), so every payment here is a
conversation's.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import events_of, run, scenario, seg

from sim.engine.agent_team import Shift, head_count
from sim.results.summary import summarize

OPEN = 9.0 / 24.0
TALK = {
    "ladder.agent.enabled": True,
    "ladder.agent.start_day": 0.0,
    "ladder.agent.every_days": [1.0],
    "ladder.agent.effect": 0.0,
    "agents.head_count": 5,
    "agents.shift_start": 9.0,
    "agents.shift_hours": 8.0,
    "agents.weekend_share": 1.0,
    "agents.answer_seconds": 0.0,
    "agents.dialer": "progressive",
    "agents.handle_distribution": "fixed",
    "agents.talk_minutes": 10.0,
    "agents.wrap_minutes": 0.0,
    "fees.late_fee_rate": 0.0,
    "fees.penalty_daily_rate": 0.0,
}


def _talk(*layers: dict, **dotted: object) -> object:
    return scenario(TALK, *layers, dotted)


def _steps(rec, b: int) -> list[tuple[str, str, str]]:
    """(kind, channel, detail) of borrower ``b``'s events in recorded order, calls' channel
    and agent numbers left out (they are checked elsewhere)."""
    ev = rec.events[rec.events["borrower_id"] == b].sort_values("seq")
    rows = []
    for kind, channel, detail in zip(ev["kind"], ev["channel"], ev["detail"], strict=True):
        if kind == "agent_call":
            channel = ""
        rows.append((kind, channel, detail))
    return rows


def test_a_kept_promise_is_paid_by_its_date_and_cures_the_account() -> None:
    sc = _talk(
        seg(agent_answer=1.0, promise_prob=1.0, promise_keep_prob=1.0, full_payment_prob=1.0),
        {"population.borrowers": 1, "ladder.promises.max_days": 3},
        days=10,
    )
    rec = run(sc)
    assert _steps(rec, 0) == [
        ("enter", "test", ""),
        ("stage", "agent", ""),
        ("call", "agent", "answered"),
        ("agent_call", "", "promise"),
        ("promise", "promise", "made"),
        ("payment", "", "promise"),
        ("promise", "promise", "kept"),
        ("resolved", "", "cured"),
    ]
    ev = events_of(rec, 0)
    made = ev[(ev["kind"] == "promise") & (ev["detail"] == "made")].iloc[0]
    paid = ev[ev["kind"] == "payment"].iloc[0]
    assert made["amount"] == pytest.approx(rec.outcomes.loc[0, "principal"])
    assert made["time"] == pytest.approx(OPEN)
    assert made["time"] < paid["time"] <= 4.0  # by the end of day 1, 2 or 3 (day 4 at most)
    row = rec.outcomes.iloc[0]
    assert (row["n_promises"], row["n_promises_kept"], row["n_promises_broken"]) == (1, 1, 0)
    assert row["amount_paid_on_promise"] == pytest.approx(row["amount_promised"])


def test_a_broken_promise_is_followed_up_the_next_day_ahead_of_the_list() -> None:
    """Thirty borrowers arrive over three days and half the calls are answered; promises
    (for the next day) are always broken. One agent works the list newest first, so without
    the follow-up rule the oldest accounts would wait: on every day, each account whose
    promise broke at the day's start is dialled before any other account that day, the first
    at the opening, and none had an agent call while its promise was open."""
    sc = _talk(
        seg(agent_answer=0.5, promise_prob=1.0, promise_keep_prob=0.0),
        {"population.borrowers": 30, "population.arrival": "inflow",
         "population.inflow_days": 3, "agents.head_count": 1, "agents.priority": "newest",
         "ladder.promises.max_days": 1, "ladder.promises.max_broken": 1000},
        days=8,
    )  # fmt: skip
    rec = run(sc)
    ev = rec.events
    broken = ev[(ev["kind"] == "promise") & (ev["detail"] == "broken")]
    assert len(broken) > 10
    assert np.allclose(broken["time"], np.round(broken["time"]))  # midnight: the day's end
    dials = ev[(ev["kind"] == "call") & (ev["channel"] == "agent")].sort_values("seq")
    checked = 0
    for day, group in broken.groupby(broken["time"].round().astype(int)):
        due = set(group["borrower_id"])
        today = dials[(dials["time"] >= day) & (dials["time"] < day + 1)]
        order = today["borrower_id"].tolist()
        firsts = order[: len(due)]
        assert set(firsts) == due, (day, firsts, due)
        assert today.iloc[0]["time"] == pytest.approx(day + OPEN)
        checked += 1
    assert checked >= 3
    made = ev[(ev["kind"] == "promise") & (ev["detail"] == "made")]
    for b, t in zip(made["borrower_id"], made["time"], strict=True):
        mine = dials[(dials["borrower_id"] == b)]["time"].to_numpy()
        assert not ((mine > t) & (mine < math.floor(t) + 2.0 - 1e-9)).any()


def test_no_more_promises_after_max_broken() -> None:
    sc = _talk(
        seg(agent_answer=1.0, promise_prob=1.0, promise_keep_prob=0.0),
        {"population.borrowers": 1, "ladder.promises.max_days": 1, "ladder.promises.max_broken": 1},
        days=12,
    )
    rec = run(sc)
    talks = events_of(rec, 0, kind="agent_call")["detail"].tolist()
    assert talks[:2] == ["promise", "promise"]
    assert set(talks[2:]) == {"none"}
    assert rec.outcomes.loc[0, "n_promises_broken"] == 2


def test_a_plan_is_offered_only_where_the_policy_allows() -> None:
    """Asks for help at every conversation; plans only from DPD 5 to 7 and 500 yuan owed.
    Before DPD 5 the policy has nothing: no_offer; at DPD 5 a plan."""
    base = (
        seg(agent_answer=1.0, plan_request_prob=1.0, plan_keep_prob=0.0),
        {"population.borrowers": 1, "ladder.plans.enabled": True, "ladder.plans.from_day": 5.0,
         "ladder.plans.to_day": 7.0, "ladder.plans.min_balance": 500.0,
         "ladder.plans.max_per_account": 5, "ladder.plans.first_due_days": 1.0},
    )  # fmt: skip
    rec = run(_talk(*base, days=12))
    talks = events_of(rec, 0, kind="agent_call")
    dpd = talks["dpd"].to_numpy()
    outcome = talks["detail"].to_numpy()
    assert (outcome[dpd < 5] == "no_offer").all() and len(outcome[dpd < 5]) == 5
    assert outcome[dpd >= 5][0] == "plan"
    granted = events_of(rec, 0, kind="plan", detail="granted")
    assert ((granted["dpd"] >= 5) & (granted["dpd"] <= 7 + 1e-9)).all()
    assert (outcome[dpd > 7] == "no_offer").all()
    # a balance under the policy's minimum: never a plan
    rec = run(_talk(*base, {"ladder.plans.min_balance": 5000.0}, days=12))
    assert set(events_of(rec, 0, kind="agent_call")["detail"]) == {"no_offer"}
    assert rec.outcomes.loc[0, "n_plans"] == 0


def test_a_grace_period_defers_the_balance_and_cures() -> None:
    sc = _talk(
        seg(agent_answer=1.0, plan_request_prob=1.0, plan_keep_prob=1.0),
        {"population.borrowers": 1, "ladder.grace.enabled": True, "ladder.grace.days": 10.0},
        days=20,
    )
    rec = run(sc)
    assert [s for s in _steps(rec, 0) if s[0] != "enter"] == [
        ("stage", "agent", ""),
        ("call", "agent", "answered"),
        ("agent_call", "", "grace"),
        ("plan", "grace", "granted"),
        ("payment", "", "instalment"),
        ("resolved", "", "cured"),
    ]
    pay = events_of(rec, 0, kind="payment").iloc[0]
    assert pay["time"] == pytest.approx(OPEN + 10.0)
    assert rec.outcomes.loc[0, "n_grace_periods"] == 1


def test_a_settlement_waives_the_fees_when_kept() -> None:
    """A fee waiver from DPD 2: the borrower pays principal only; the fees are waived, money
    the lender gives up, and money stays conserved."""
    sc = _talk(
        seg(agent_answer=1.0, plan_request_prob=1.0, promise_keep_prob=1.0),
        {"population.borrowers": 1, "fees.late_fee_rate": 0.05, "ladder.agent.start_day": 2.0,
         "ladder.waiver.enabled": True, "ladder.waiver.from_day": 2.0,
         "ladder.waiver.fee_share": 1.0},
        days=10,
    )  # fmt: skip
    rec = run(sc)
    row = rec.outcomes.iloc[0]
    assert row["final_state"] == "cured"
    assert row["amount_waived"] == pytest.approx(0.05 * row["principal"], abs=0.011)
    assert row["amount_recovered"] + row["amount_waived"] == pytest.approx(row["amount_due"])
    kinds = [s[:2] for s in _steps(rec, 0)]
    assert ("promise", "settlement") in kinds and ("waiver", "") in kinds
    assert row["n_waivers"] == 1


def test_a_dispute_pauses_agent_calls_while_verified() -> None:
    sc = _talk(
        seg(agent_answer=1.0, dispute_prob=1.0),
        {"population.borrowers": 1, "ladder.promises.dispute_days": 5.0},
        days=12,
    )
    rec = run(sc)
    t = events_of(rec, 0, kind="agent_call")["time"].to_numpy()
    np.testing.assert_allclose(np.diff(t), 5.0, atol=1e-6)


def test_paid_on_the_spot() -> None:
    sc = _talk(seg(agent_answer=1.0, pay_on_call_prob=1.0), {"population.borrowers": 3}, days=5)
    rec = run(sc)
    pay = rec.events[rec.events["kind"] == "payment"]
    assert (pay["detail"] == "on_call").all() and len(pay) == 3
    assert (rec.outcomes["final_state"] == "cured").all()


@pytest.mark.slow
def test_promise_and_kept_rates_match_the_configured_probabilities() -> None:
    """4,000 borrowers, everyone answers: a promise in 40% of conversations, kept with 0.6
    whatever broke before. The rates from the run are binomial estimates of 0.4 and 0.6;
    both must lie within 4 standard errors (a false alarm about once in 16,000 runs)."""
    sc = _talk(
        seg(agent_answer=1.0, promise_prob=0.4, promise_keep_prob=0.6, full_payment_prob=0.0),
        {"population.borrowers": 4000, "agents.head_count": 400,
         "ladder.promises.broken_keep_factor": 1.0, "ladder.promises.max_days": 2},
        days=20,
    )  # fmt: skip
    rec = run(sc)
    ev = rec.events
    talks = ev[ev["kind"] == "agent_call"]
    n = len(talks)
    p = float((talks["detail"] == "promise").mean())
    assert abs(p - 0.4) < 4 * math.sqrt(0.4 * 0.6 / n), (p, n)
    pr = ev[ev["kind"] == "promise"].sort_values("seq")
    c = summarize(rec, sc)["conversations"]
    assert c["promise_rate"] == pytest.approx((pr["detail"] == "made").sum() / c["conversations"])
    judged = (pr["detail"] != "made").sum()
    assert c["kept_rate"] == pytest.approx((pr["detail"] == "kept").sum() / judged)
    # Each promise's fate is the next promise event of its borrower. Only promises whose day
    # ends before the horizon: later ones are judged only if kept (paid early), which would
    # lean the estimate high.
    pr = pr.assign(fate=pr.groupby("borrower_id")["detail"].shift(-1))
    made = pr[(pr["detail"] == "made") & (pr["time"] < sc.days - 3)]
    kept = (made["fate"] == "kept").mean()
    m = len(made)
    assert m > 2000 and made["fate"].isin(["kept", "broken"]).all()
    assert abs(kept - 0.6) < 4 * math.sqrt(0.6 * 0.4 / m), (kept, m)


def audit_follow_ups(events: pd.DataFrame, follow_up_days: float, horizon: float) -> list[int]:
    """Borrowers with a broken promise not followed up: no agent call attempt before the end
    of the follow-up day (``follow_up_days`` after the promised day), though the account was
    still open then and the horizon not reached. From the trace alone."""
    ev = events.sort_values("seq")
    broken = ev[(ev["kind"] == "promise") & (ev["detail"] == "broken")]
    calls = ev[(ev["kind"] == "call") & (ev["channel"] == "agent")]
    closed = ev[ev["kind"].isin(["resolved", "plan", "stage"])]
    late = []
    for b, t in zip(broken["borrower_id"], broken["time"], strict=True):
        deadline = t + follow_up_days  # the end of the follow-up day
        if deadline > horizon:
            continue
        mine = calls[(calls["borrower_id"] == b) & (calls["time"] >= t)]
        if (mine["time"] < deadline).any():
            continue
        gone = closed[
            (closed["borrower_id"] == b) & (closed["time"] >= t) & (closed["time"] < deadline)
        ]
        if gone["kind"].isin(["resolved"]).any() or (gone["channel"] == "agency").any():
            continue
        late.append(int(b))
    return late


def test_every_broken_promise_is_followed_up_within_the_policy_days() -> None:
    """A lively book with enough agents: the audit, from the trace, finds no broken promise
    left without a call by the end of its follow-up day; and it does find one when the
    follow-up is moved later than the audit is told."""
    sc = _talk(
        seg(agent_answer=0.7, promise_prob=0.6, promise_keep_prob=0.3, base_intensity=0.01,
            full_payment_prob=0.5),
        {"population.borrowers": 300, "agents.head_count": 20, "ladder.promises.max_days": 3,
         "ladder.promises.follow_up_days": 1.0},
        days=30,
    )  # fmt: skip
    rec = run(sc)
    n_broken = int(rec.outcomes["n_promises_broken"].sum())
    assert n_broken > 50
    assert audit_follow_ups(rec.events, 1.0, sc.days) == []
    later = run(
        _talk(
            seg(agent_answer=0.7, promise_prob=0.6, promise_keep_prob=0.3),
            {"population.borrowers": 300, "agents.head_count": 20,
             "ladder.promises.follow_up_days": 3.0},
            days=30,
        )
    )  # fmt: skip
    assert audit_follow_ups(later.events, 1.0, sc.days) != []


def test_complaints_carry_their_cause_and_scale() -> None:
    """Robot calls that draw complaints: every complaint event names its cause, the
    summary's counts by cause add up to the complaints, call pressure has its share, and
    complaints.scale = 0 leaves none."""
    layers = (
        seg(complaint_per_call=0.05),
        {"population.borrowers": 200, "ladder.robot.enabled": True, "ladder.robot.start_day": 0.0,
         "ladder.robot.end_day": 20.0, "ladder.robot.calls_per_day": 3,
         "complaints.call_pressure": 0.5, "ladder.agent.enabled": False},
    )  # fmt: skip
    rec = run(_talk(*layers, days=20))
    c = rec.events[rec.events["kind"] == "complaint"]
    assert len(c) > 50
    assert set(c["detail"]) == {"robot_call", "call_pressure"}
    s = summarize(rec, _talk(*layers, days=20))
    by = s["harm"]["complaints_by_cause"]
    assert sum(by.values()) == s["harm"]["complaints"] == len(c)
    none = run(_talk(*layers, {"complaints.scale": 0.0}, days=20))
    assert none.outcomes["n_complaints"].sum() == 0


def test_weekend_head_count_rounds_half_up() -> None:
    shift = Shift(9, 9, 0.5)
    assert [shift.staff(n, 5) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert shift.staff(5, 2) == 5
    assert Shift(9, 9, 0.0).staff(5, 6) == 0


def test_head_count_from_accounts_per_agent() -> None:
    cohort = scenario({"population.borrowers": 10_000, "agents.accounts_per_agent": 2_500.0})
    assert head_count(cohort) == 4
    inflow = scenario(
        {"population.borrowers": 12_000, "population.arrival": "inflow",
         "population.inflow_days": 120, "agents.accounts_per_agent": 1_000.0}
    )  # fmt: skip
    assert head_count(inflow) == 3  # 3,000 new accounts a month
