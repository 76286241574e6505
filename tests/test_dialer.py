"""The call list and the dialer (sim.engine.dialer) on hand-built borrowers: exact sequences.

Day 0 is a Monday. The team works 09:00-17:00 inside calling hours 08:00-22:00 unless a test
says otherwise; times are days (9/24 is 09:00). The queue itself is checked against Erlang C
and A in test_agent_team.py; one agent taking one call at a time is checked from the trace
of random scenarios in test_invariants.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import run, scenario, seg

from sim.engine import dialer
from sim.engine.agent_team import head_count
from sim.engine.rungs.agent_calls import HandleTime
from sim.results.summary import summarize

MIN = 1.0 / 1440.0  # one minute, in days
OPEN = 9.0 / 24.0

CENTRE = {
    "ladder.agent.enabled": True,
    "ladder.agent.start_day": 0.0,
    "ladder.agent.every_days": [1.0],
    "ladder.agent.ring_minutes": 1.0,
    "agents.head_count": 1,
    "agents.shift_start": 9.0,
    "agents.shift_hours": 8.0,
    "agents.weekend_share": 1.0,
    "agents.answer_seconds": 0.0,
    "agents.handle_distribution": "fixed",
    "agents.talk_minutes": 10.0,
    "agents.wrap_minutes": 0.0,
}


def _centre(*layers: dict, **dotted) -> object:
    return scenario(CENTRE, *layers, dotted)


def _dials(rec) -> list[tuple[float, int]]:
    """(time, borrower) of every agent dial, in time order."""
    ev = rec.events
    d = ev[(ev["kind"] == "call") & (ev["channel"] == "agent")]
    return list(zip(d["time"].round(9), d["borrower_id"], strict=True))


@pytest.mark.parametrize(
    ("priority", "order"), [("oldest", [0, 1, 2]), ("newest", [2, 1, 0]), ("fifo", [0, 1, 2])]
)
def test_the_list_is_worked_in_priority_order(priority: str, order: list[int]) -> None:
    """Borrowers enter on days 0, 1 and 2 and are due a call every day; nobody answers, so
    one progressive agent rings each for a minute. On day 2 all three are on the list."""
    sc = _centre(
        {"population.arrival": "inflow", "population.inflow_days": 3},
        {"agents.dialer": "progressive"},
        days=3,
        **{"agents.priority": priority},
    )  # fmt: skip
    dials = _dials(run(sc))
    assert dials[0] == (round(OPEN, 9), 0)
    day2 = [(t, b) for t, b in dials if 2 <= t < 3]
    assert [t for t, _ in day2] == [round(2 + OPEN + k * MIN, 9) for k in range(3)]
    # fifo: all three are due from 00:00 on day 2 (b0 and b1 a day after their first call);
    # b0 and b1 were listed for it after their day-1 calls, b2 only when it entered
    assert [b for _, b in day2] == order


@pytest.mark.parametrize("priority", ["oldest", "newest"])
def test_entry_day_ranks_order_the_list_like_the_keys(priority: str, monkeypatch) -> None:
    """The orders keyed by the entry day code it by its rank among the population's days;
    with too many days for the rank they use the key's bits (order_code). Both give the same
    dials, over ten entry days with several accounts each and a list that is never empty."""
    sc = _centre(
        seg(agent_answer=0.3),
        {"population.arrival": "inflow", "population.inflow_days": 10, "population.borrowers": 60},
        days=14,
        **{"agents.priority": priority},
    )  # fmt: skip
    ranked = _dials(run(sc))
    monkeypatch.setattr(dialer, "MAX_RANKED_DAYS", 1)
    assert _dials(run(sc)) == ranked
    assert len(ranked) > 200


def test_what_is_not_reached_today_stays_on_the_list() -> None:
    """Four-hour calls: the agent takes b0 at 09:00 and b1 at 13:00; b2 is still due at the
    close (17:00) and is the first called the next morning."""
    sc = _centre(seg(agent_answer=1.0), {"agents.talk_minutes": 240.0}, days=2)
    rec = run(sc)
    assert _dials(rec)[:4] == [
        (round(OPEN, 9), 0),
        (round(13 / 24, 9), 1),
        (round(1 + OPEN, 9), 2),
        (round(1 + 13 / 24, 9), 0),
    ]
    d = rec.daily
    assert d.loc[0, ["list_dialled", "list_backlog", "list_due"]].tolist() == [2, 1, 3]
    talks = rec.events[rec.events["kind"] == "agent_call"]
    assert talks["amount"].tolist()[:2] == [240.0, 240.0]
    s = summarize(rec, sc)["agents"]
    assert s["list_penetration"] == pytest.approx(d["list_dialled"].sum() / d["list_due"].sum())


def test_a_call_due_after_hours_waits_for_the_next_opening() -> None:
    sc = _centre({"ladder.agent.start_day": 20 / 24}, days=2)
    assert _dials(run(sc))[0] == (round(1 + OPEN, 9), 0)


def test_predictive_dialing_abandons_answers_beyond_the_free_agents() -> None:
    """Pacing 3 for one agent, everyone answers, nobody waits (max_wait 0): each wave puts
    one call through and drops two, at 09:00 and at 09:10 when the agent is free again."""
    sc = _centre(
        seg(agent_answer=1.0),
        {"population.borrowers": 6, "agents.pacing_ratio": 3.0, "agents.max_wait_seconds": 0.0},
        days=1,
    )
    rec = run(sc)
    ev = rec.events
    talks = ev[ev["kind"] == "agent_call"]
    gone = ev[ev["kind"] == "abandoned"]
    assert talks["time"].round(9).tolist() == [round(OPEN, 9), round(OPEN + 10 * MIN, 9)]
    assert sorted(gone["borrower_id"]) == [1, 2, 4, 5]
    assert gone["time"].round(9).tolist() == [round(OPEN, 9)] * 2 + [round(OPEN + 10 * MIN, 9)] * 2
    assert rec.daily.loc[0, "agent_calls_abandoned"] == 4
    assert rec.outcomes["n_agent_abandoned"].tolist() == [0, 1, 1, 0, 1, 1]
    s = summarize(rec, sc)["agents"]
    assert s["abandonment_rate"] == pytest.approx(4 / 6)
    assert s["service_level"] == pytest.approx(2 / 6)
    assert s["asa_seconds"] == 0.0


def test_an_answer_waits_for_an_agent_within_its_patience() -> None:
    """Two agents, one busy for 10 minutes; waits up to 10 minutes are allowed, so the
    second answer of a three-line wave waits for the first agent to finish."""
    sc = _centre(
        seg(agent_answer=1.0),
        {"population.borrowers": 3, "agents.pacing_ratio": 3.0, "agents.max_wait_seconds": 600.0,
         "agents.patience_seconds": 3600.0},
        days=1,
    )  # fmt: skip
    rec = run(sc)
    talks = rec.events[rec.events["kind"] == "agent_call"]
    assert talks["time"].round(9).tolist() == [round(OPEN, 9), round(OPEN + 10 * MIN, 9)]
    assert rec.daily.loc[0, "agent_calls_abandoned"] == 1  # the third could not wait
    assert rec.daily.loc[0, "agent_wait_seconds"] == pytest.approx(600.0)


def test_the_abandonment_cap_turns_the_dialer_progressive_for_the_day() -> None:
    """The first predictive wave drops two of three answers (2/3 > 3%): the rest of the
    day is progressive, so no more calls are abandoned."""
    sc = _centre(
        seg(agent_answer=1.0),
        {"population.borrowers": 20, "agents.pacing_ratio": 3.0, "agents.max_wait_seconds": 0.0,
         "rules.max_abandoned_share": 0.03},
        days=1,
    )  # fmt: skip
    rec = run(sc)
    assert rec.daily.loc[0, "agent_calls_abandoned"] == 2
    assert rec.daily.loc[0, "agent_calls_served"] == 18 or rec.daily.loc[0, "list_backlog"] > 0
    assert summarize(rec, sc)["agents"]["days_over_abandon_cap"] == 1


def test_progressive_agents_wait_through_the_ringing_and_never_abandon() -> None:
    sc = _centre({"population.borrowers": 4, "agents.dialer": "progressive"}, days=1)
    rec = run(sc)
    assert [t for t, _ in _dials(rec)] == [round(OPEN + k * MIN, 9) for k in range(4)]
    assert rec.daily.loc[0, "agent_ringing_minutes"] == pytest.approx(4.0)
    assert rec.daily["agent_calls_abandoned"].sum() == 0


def test_agents_are_paid_for_their_shifts_busy_or_not() -> None:
    """Two agents, 8-hour shifts, half at weekends, for a week without a call: 5 x 2 x 8 +
    2 x 1 x 8 = 96 paid hours at 60 yuan, all of it idle."""
    sc = _centre(
        {"agents.head_count": 2, "agents.weekend_share": 0.5, "ladder.agent.start_day": 30.0},
        days=7,
    )
    rec = run(sc)
    s = summarize(rec, sc)
    assert s["agents"]["paid_minutes"] == 96 * 60
    assert rec.costs["agent_idle"] == pytest.approx(96 * 60.0)
    assert s["agents"]["cost"] == pytest.approx(96 * 60.0)
    assert s["money"]["cost_total"] == pytest.approx(96 * 60.0)


def test_a_conversation_costs_its_handle_time_and_the_rest_is_idle() -> None:
    sc = _centre(seg(agent_answer=1.0), {"population.borrowers": 1}, days=1)
    rec = run(sc)
    talk = 10 * 60.0 / 60 + 10 * 0.1  # 10 minutes of agent time and of line
    ring = 1.0 * 0.1  # the attempt's ringing, on the line
    assert rec.costs["agent"] == pytest.approx(talk + ring)
    assert rec.costs["agent_idle"] == pytest.approx((8 * 60 - 10) * 60.0 / 60)


def test_no_agents_without_agent_calls() -> None:
    sc = _centre({"ladder.agent.enabled": False}, days=7)
    rec = run(sc)
    assert rec.meta["agents"] == 0 and rec.costs["agent_idle"] == 0


@pytest.mark.parametrize(
    ("per_10k", "borrowers", "absolute", "expected"),
    [(20.0, 10_000, 0, 20), (20.0, 25_000, 0, 50), (20.0, 100, 0, 1), (0.4, 10_000, 0, 1),
     (0.0, 10_000, 0, 0), (20.0, 10_000, 7, 7), (0.0, 100, 3, 3)],
)  # fmt: skip
def test_head_count_is_absolute_or_scales_with_the_population(
    per_10k: float, borrowers: int, absolute: int, expected: int
) -> None:
    sc = scenario(
        {"agents.per_10k_borrowers": per_10k, "population.borrowers": borrowers,
         "agents.head_count": absolute}
    )  # fmt: skip
    assert head_count(sc) == expected


@pytest.mark.parametrize(
    ("talk", "talk_cv", "wrap", "wrap_cv"), [(5.0, 0.8, 0.75, 1.5), (3.0, 0.0, 1.0, 0.5)]
)
def test_lognormal_handle_times_have_the_means_and_cvs_asked_for(
    talk: float, talk_cv: float, wrap: float, wrap_cv: float
) -> None:
    """200,000 draws: each part's sample mean within 4 standard errors, its CV within 5%,
    and talk and wrap-up independent (the correlation of their logs within 4/sqrt(n)),
    though both come from one Box-Muller step."""
    rng = np.random.default_rng(3)
    u, v = rng.random(200_000), rng.random(200_000)
    handle = HandleTime("lognormal", talk, talk_cv, wrap, wrap_cv)
    x = np.array([handle.draw(a, b) for a, b in zip(u.tolist(), v.tolist(), strict=True)])
    for column, mean, cv in ((0, talk, talk_cv), (1, wrap, wrap_cv)):
        y = x[:, column]
        assert abs(y.mean() - mean) <= 4 * mean * cv / math.sqrt(len(y)) + 1e-12
        assert y.std() / y.mean() == pytest.approx(cv, rel=0.05, abs=1e-9)
    if talk_cv and wrap_cv:
        r = np.corrcoef(np.log(x[:, 0]), np.log(x[:, 1]))[0, 1]
        assert abs(r) <= 4 / math.sqrt(len(x))


def test_handle_times_in_the_trace_follow_the_distribution() -> None:
    """Exponential talk and wrap-up (means 5 and 1 minutes): the handle times the agents
    spent, from the trace, average 6 minutes (4 standard errors)."""
    sc = _centre(
        seg(agent_answer=1.0),
        {"population.borrowers": 400, "agents.head_count": 400,
         "agents.handle_distribution": "exponential", "agents.talk_minutes": 5.0,
         "agents.wrap_minutes": 1.0},
        days=6,
    )  # fmt: skip
    rec = run(sc)
    h = rec.events.loc[rec.events["kind"] == "agent_call", "amount"].to_numpy()
    assert len(h) > 1500
    sd = math.sqrt(5.0**2 + 1.0**2)
    assert abs(h.mean() - 6.0) <= 4 * sd / math.sqrt(len(h))


def test_the_balance_order_calls_the_largest_debt_first() -> None:
    """Five different principals, one progressive agent, nobody answers: on day 0 the
    dials come in the order of the balances, read from the outcomes table."""
    sc = _centre(
        seg(principal_sigma=0.8),
        {"population.borrowers": 5, "agents.dialer": "progressive", "agents.priority": "balance"},
        days=1,
    )
    rec = run(sc)
    order = [b for _, b in _dials(rec)]
    by_principal = rec.outcomes.sort_values("principal", ascending=False)["borrower_id"]
    assert len(set(rec.outcomes["principal"])) == 5
    assert order == by_principal.tolist()


def test_nobody_is_called_at_the_weekend_without_weekend_staff() -> None:
    """Weekend share 0: days 5 and 6 (Saturday, Sunday) have no agent on shift, no dial
    and no conversation; the list waits for Monday (day 7)."""
    sc = _centre(
        seg(agent_answer=1.0),
        {"population.borrowers": 3, "agents.weekend_share": 0.0},
        days=9,
    )
    rec = run(sc)
    ev = rec.events
    agent_days = np.floor(ev.loc[(ev["channel"] == "agent"), "time"]).astype(int)
    assert set(agent_days) == {0, 1, 2, 3, 4, 7, 8}
    assert rec.daily.loc[[5, 6], "agents_on_shift"].tolist() == [0, 0]
    assert rec.daily.loc[[5, 6], "agent_paid_minutes"].tolist() == [0, 0]


def test_a_call_put_through_as_the_account_closes_is_cut_not_talked() -> None:
    """The agent call falls due at 09:00 on day 1 and is answered; the answer reaches the
    agent 30 s later, but the account is written off at 09:00:10 in between: the agent's
    time stays booked, no conversation is traced, and the call counts as cut."""
    sc = _centre(
        seg(agent_answer=1.0),
        {"population.borrowers": 1, "ladder.agent.start_day": 1.0 + OPEN},
        {"ladder.write_off_day": 1.0 + OPEN + 10 / 86_400},
        {"agents.answer_seconds": 30.0, "agents.dialer": "progressive"},
        days=3,
    )
    rec = run(sc)
    ev = rec.events
    assert ev["kind"].tolist() == ["enter", "stage", "call", "stage", "resolved"]
    assert ev["detail"][2] == "answered"
    d = rec.daily
    assert d.loc[1, "agent_calls_served"] == 1 and d.loc[1, "agent_calls_cut"] == 1
    assert d.loc[1, "agent_busy_minutes"] == pytest.approx(10.0)


def test_an_account_that_agrees_a_plan_before_its_dial_is_not_dialled_on_its_own() -> None:
    """One agent on four-hour calls: b0 is dialled at 09:00, b1 is due at 13:00. Catching up
    to 13:00, b1 calls in and agrees a plan (so it leaves the list), breaks it in the evening
    and falls due again at midnight. That call must wait for the dialer's next opening
    (09:00), not be dialled by the account itself at once (the rules allow calls from 00:00)."""
    sc = _centre(
        seg(agent_answer=1.0, service_contact_rate=6.0, plan_request_prob=1.0),
        seg(plan_keep_prob=0.0),
        {"population.borrowers": 2, "agents.talk_minutes": 240.0, "rules.call_start": 0.0},
        {"ladder.plans.enabled": True, "ladder.plans.from_day": 0.4},
        {"ladder.plans.first_due_days": 0.4},
        {"ladder.plans.max_per_account": 1, "agents.dialer": "progressive"},
        days=3,
    )
    rec = run(sc, seed=5)
    ev = rec.events
    b1 = ev[ev["borrower_id"] == 1]
    granted = b1[(b1["kind"] == "plan") & (b1["detail"] == "granted")]
    assert granted["time"].between(OPEN, 13 / 24).any(), "the seed no longer sets up the case"
    hours = [round((t % 1) * 24, 6) for t, _ in _dials(rec)]
    assert all(9.0 <= h < 17.0 for h in hours), hours


def test_simpys_clock_keeps_up_with_the_dialer_to_the_day() -> None:
    """The dialer works through its own moments between SimPy events, but not past the end
    of the day: a process watching ``env.now`` never finds the dialer a day ahead of it
    (it was a whole cohort run ahead: the clock stood at the first wake-up)."""
    from sim.engine.core import Model
    from sim.spec import load_scenario

    model = Model(load_scenario("scenarios/baseline.toml", {"population.borrowers": 2000}), 1)
    seen: list[tuple[float, int]] = []

    def watch(env):
        while True:
            yield env.timeout(1.0)
            seen.append((env.now, model.dialer.day))

    model.env.process(watch(model.env))
    model.run()
    assert len(seen) == 179
    assert all(day <= now for now, day in seen), [s for s in seen if s[1] > s[0]][:3]
    assert max(day for _, day in seen) >= 60  # the dialer worked on through the months
