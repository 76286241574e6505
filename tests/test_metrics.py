"""Metrics on small hand-made records, checked against numbers worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.engine.rungs.layout import layout
from sim.results.daily import daily_table, open_by_bucket
from sim.results.records import FINAL_STATES, Records
from sim.results.report import format_summary
from sim.results.summary import BUCKET_COLUMNS, summarize
from sim.spec import build_scenario

CHANNELS, STAGES = layout().channels, layout().stages

HORIZON = 180
NAN = float("nan")

# Five borrowers (horizon 180 days):
#   b1 forgetful  enters day 0,   cured on day 5 (5 days)           highest stage robot
#   b2 forgetful  enters day 10,  plan completed on day 70 (60 days) EC on DPD 14
#   b3 avoider    enters day 0,   written off on day 180             EC on DPD 20
#   b4 avoider    enters day 20,  still open at the horizon          EC on DPD 30
#   b5 forgetful  enters day 170, cured on day 172 (2 days; censored for 30-day windows)
BORROWERS = [
    # id, segment, principal, entered, state, resolved, due, recovered, written_off, open,
    # highest stage, EC day, robot, agent, agency calls, 3rd-party contacts, disclosures,
    # contact calls, complaints
    (1, "forgetful", 1000.0, 0.0, "cured", 5.0, 1010.0, 1010.0, 0.0, 0.0,
     "robot", NAN, 3, 0, 0, 0, 0, 0, 0),
    (2, "forgetful", 2000.0, 10.0, "plan_completed", 70.0, 2100.0, 2100.0, 0.0, 0.0,
     "emergency_contact", 14.0, 5, 4, 0, 1, 0, 2, 0),
    (3, "avoider", 3000.0, 0.0, "written_off", 180.0, 3300.0, 300.0, 3000.0, 0.0,
     "written_off", 20.0, 14, 10, 5, 2, 1, 4, 1),
    (4, "avoider", 1000.0, 20.0, "open", NAN, 1100.0, 200.0, 0.0, 900.0,
     "agency", 30.0, 14, 10, 7, 1, 0, 3, 1),
    (5, "forgetful", 500.0, 170.0, "cured", 172.0, 505.0, 505.0, 0.0, 0.0,
     "reminder", NAN, 1, 0, 0, 0, 0, 0, 0),
]  # fmt: skip

# borrower, month, balance_at_entry, paid_before, observed_days
MONTHLY = [
    (1, 0, 1010.0, 0.0, 5.0),
    (2, 0, 2010.0, 0.0, 30.0),
    (2, 1, 1500.0, 600.0, 30.0),
    (3, 0, 3030.0, 0.0, 30.0),
    (3, 1, 3100.0, 0.0, 30.0),
    (3, 2, 3150.0, 0.0, 30.0),
    (3, 3, 2900.0, 300.0, 30.0),
    (3, 4, 2950.0, 300.0, 30.0),
    (3, 5, 3000.0, 300.0, 30.0),
    (4, 0, 1010.0, 0.0, 30.0),
    (4, 1, 1020.0, 0.0, 30.0),
    (4, 2, 1030.0, 0.0, 30.0),
    (4, 3, 1040.0, 0.0, 30.0),
    (4, 4, 850.0, 200.0, 30.0),
    (4, 5, 860.0, 200.0, 10.0),
    (5, 0, 505.0, 0.0, 2.0),
]

COSTS = {**dict.fromkeys(CHANNELS, 0.0), "sms": 1.0, "robot": 2.5, "agent": 30.0,
         "agency_commission": 60.0, "complaints": 200.0}  # fmt: skip


def _outcomes(rows: list[tuple]) -> pd.DataFrame:
    cols = [
        "borrower_id", "segment", "principal", "entered_day", "final_state", "resolved_day",
        "amount_due", "amount_recovered", "amount_written_off", "balance_open", "highest_stage",
        "emergency_contact_day", "n_robot_calls", "n_agent_calls", "n_agency_calls",
        "n_third_party_contacts", "n_third_party_disclosures", "n_contact_calls",
        "n_complaints",
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols)
    for c in ("principal", "entered_day", "resolved_day", "emergency_contact_day"):
        df[c] = df[c].astype(float)
    top = df["highest_stage"].map({s: i for i, s in enumerate(STAGES)})
    for i, stage in enumerate(STAGES):
        df[f"reached_{stage}"] = (top >= i).to_numpy(dtype=bool)
    for c in ("n_sms", "n_push", "n_calls_answered", "n_plans"):
        df[c] = 0
    df["cost"] = 0.0
    return df


def _daily(days: int, agents: bool = True) -> pd.DataFrame:
    n = days + 1
    d = pd.DataFrame({"day": np.arange(n)})
    for c in ("cures", "amount_recovered", "sms", "push", "robot_calls", "agency_calls",
              "contact_calls", "agent_ringing_minutes", "list_backlog"):  # fmt: skip
        d[c] = 0.0
    on = 1.0 if agents else 0.0
    cap = np.full(n, 960.0 * on)
    cap[6] = 0.0
    busy = np.zeros(n)
    busy[0], busy[2] = 480.0 * on, 864.0 * on
    d["agent_capacity_minutes"] = cap
    d["agent_paid_minutes"] = cap * 1.125  # 9-hour shifts, 8 of them in calling hours
    d["agent_busy_minutes"] = busy
    d["agent_calls"] = np.where(np.arange(n) < 3, 10.0 * on, 0.0)  # dial attempts
    answered, served = np.zeros(n), np.zeros(n)
    answered[0], answered[2] = 7 * on, 3 * on
    served[0], served[2] = 6 * on, 2 * on  # one abandoned each day
    d["agent_calls_answered"] = answered
    d["agent_calls_served"] = served
    d["agent_calls_abandoned"] = answered - served
    d["agent_served_in_time"] = served - np.array([1.0 * on] + [0.0] * (n - 1))
    d["agent_wait_seconds"] = served * 1.5
    d["list_dialled"] = d["agent_calls"]
    d.loc[2, "list_backlog"] = 7.0 * on
    d["list_due"] = d["list_dialled"] + d["list_backlog"]
    return d


def make_records(
    rows: list[tuple] = BORROWERS, monthly: list[tuple] = MONTHLY, agents: bool = True
) -> Records:
    return Records(
        outcomes=_outcomes(rows),
        monthly=pd.DataFrame(
            monthly,
            columns=["borrower_id", "month", "balance_at_entry", "paid_before", "observed_days"],
        ),
        daily=_daily(HORIZON, agents),
        events=None,
        costs=dict(COSTS),
        meta={"horizon_days": HORIZON, "agents": 2, "calls_outside_hours": 0},
    )


@pytest.fixture(scope="module")
def scenario():
    return build_scenario()


@pytest.fixture(scope="module")
def summary(scenario):
    return summarize(make_records(), scenario)


# --------------------------------------------------------------------------- daily table


def test_daily_table_open_accounts_by_bucket():
    records = make_records()
    t = daily_table(records)
    assert len(t) == HORIZON + 1
    assert list(t.columns[: records.daily.shape[1]]) == list(records.daily.columns)
    by_day = t.set_index("day")

    def row(d):
        return {
            c: int(by_day.loc[d, c]) for c in ("open_total", *BUCKET_COLUMNS) if by_day.loc[d, c]
        }

    assert row(0) == {"open_total": 2, "open_dpd_0_29": 2}  # b1, b3
    assert row(5) == {"open_total": 1, "open_dpd_0_29": 1}  # b1 resolved on day 5
    assert row(10) == {"open_total": 2, "open_dpd_0_29": 2}  # b2 enters
    assert row(35) == {"open_total": 3, "open_dpd_0_29": 2, "open_dpd_30_59": 1}
    assert row(70) == {"open_total": 2, "open_dpd_30_59": 1, "open_dpd_60_89": 1}
    assert row(170) == {"open_total": 3, "open_dpd_0_29": 1, "open_dpd_150_179": 2}
    assert row(172) == {"open_total": 2, "open_dpd_150_179": 2}
    assert row(180) == {"open_total": 1, "open_dpd_150_179": 1}  # b3 written off on 180
    # the buckets always add up to the total
    assert (t[list(BUCKET_COLUMNS)].sum(axis=1) == t["open_total"]).all()


def test_open_by_bucket_fractional_days_and_180_plus():
    days = np.arange(0, 250)
    entered = np.array([0.5, 10.0, 3.0])
    resolved = np.array([NAN, 12.0, 3.0])  # third one resolves the day it enters: never open
    got = open_by_bucket(entered, resolved, days)
    total = sum(got.values())
    assert total[0] == 0  # 0.5 > 0: not yet entered
    assert total[1] == 1
    assert got["open_dpd_0_29"][30] == 1  # DPD 29.5
    assert got["open_dpd_30_59"][30] == 0
    assert got["open_dpd_30_59"][31] == 1  # DPD 30.5
    assert got["open_dpd_150_179"][180] == 1  # DPD 179.5
    assert got["open_dpd_180_plus"][181] == 1
    assert got["open_dpd_180_plus"][249] == 1
    assert total[10] == 2 and total[11] == 2 and total[12] == 1  # second open on days 10, 11


# --------------------------------------------------------------------------- summary


def test_summary_is_plain_json(summary):
    text = json.dumps(summary, allow_nan=False)
    assert json.loads(text) == summary
    assert summary["borrowers"] == 5


def test_funnel(summary):
    assert list(summary["funnel"]) == list(STAGES)
    expected = {"reminder": 5, "robot": 4, "agent": 3, "emergency_contact": 3,
                "identity_check": 2, "agency": 2, "litigation": 1, "written_off": 1}  # fmt: skip
    for stage, count in expected.items():
        assert summary["funnel_counts"][stage] == count
        assert summary["funnel"][stage] == pytest.approx(count / 5)


def test_emergency_contact(summary):
    ec = summary["emergency_contact"]
    assert ec["count"] == 3
    assert ec["share"] == pytest.approx(0.6)
    assert ec["median_day"] == 20.0  # days 14, 20, 30
    assert ec["p10_day"] == pytest.approx(15.2)
    assert ec["p90_day"] == pytest.approx(28.0)


def test_cure_rates_with_censoring(summary):
    cr = summary["cure_rate"]
    # b5 (enters day 170) is not observed for 30 days and drops out of the denominator
    assert cr["observed_d30"] == 4
    assert cr["d30"] == pytest.approx(1 / 4)  # only b1 (5 days); b2 took 60
    assert cr["d90"] == pytest.approx(2 / 4)  # b1 and b2
    assert cr["final"] == pytest.approx(3 / 5)  # b1, b2 (plan), b5
    assert summary["median_days_to_cure"] == 5.0  # 2, 5, 60
    assert cr["median_days_to_cure"] == 5.0


def test_final_states(summary):
    assert summary["final_states"] == {
        "cured": 2, "plan_completed": 1, "written_off": 1, "fraud_terminated": 0, "open": 1
    }  # fmt: skip
    assert list(summary["final_states"]) == list(FINAL_STATES)


def test_recovery_by_month(summary):
    rows = {r["month"]: r for r in summary["recovery_by_month_past_due"]}
    assert sorted(rows) == [0, 1, 2, 3, 4, 5]
    m0 = rows[0]
    assert m0["accounts"] == 5
    assert m0["balance_at_entry"] == pytest.approx(7565.0)
    assert m0["recovered"] == pytest.approx(4115.0)
    assert m0["rate"] == pytest.approx(4115 / 7565)
    assert m0["observed_share"] == pytest.approx(3 / 5)
    m1 = rows[1]  # b2 recovered 2100 - 600 after DPD 30, b3 300, b4 200
    assert (m1["accounts"], m1["balance_at_entry"], m1["recovered"]) == (3, 5620.0, 2000.0)
    assert m1["rate"] == pytest.approx(2000 / 5620)
    assert rows[3]["recovered"] == pytest.approx(200.0)  # b3 paid its 300 before DPD 90
    assert rows[4]["rate"] == 0.0
    assert rows[5]["observed_share"] == pytest.approx(0.5)  # b4 followed only 10 days
    after3 = summary["recovery_after_3_months"]
    assert after3["balance_at_entry"] == pytest.approx(3940.0)
    assert after3["recovered"] == pytest.approx(200.0)
    assert after3["rate"] == pytest.approx(200 / 3940)
    assert after3["rate"] < 0.10


def test_roll_rates(summary):
    rolls = summary["roll_rates"]
    assert [(r["from_bucket"], r["to_bucket"]) for r in rolls] == [
        ("0-29", "30-59"), ("30-59", "60-89"), ("60-89", "90-119"), ("90-119", "120-149"),
        ("120-149", "150-179"),
    ]  # fmt: skip
    first = rolls[0]  # b5 (enters day 170) is not followed to DPD 30: excluded
    assert (first["accounts"], first["rolled"]) == (4, 3)
    assert first["rate"] == pytest.approx(0.75)
    assert first["balance_rate"] == pytest.approx(5620 / 7060)
    second = rolls[1]
    assert (second["accounts"], second["rolled"]) == (3, 2)
    assert second["rate"] == pytest.approx(2 / 3)
    assert second["balance_rate"] == pytest.approx(4180 / 5620)
    assert rolls[4]["rate"] == 1.0
    assert rolls[4]["balance_rate"] == pytest.approx(3860 / 3800)


def test_roll_rates_exclude_unobserved_accounts(scenario):
    # b4 enters on day 160: month 0 ends on day 190 > horizon, so it is not counted
    rows = [(*BORROWERS[2][:3], 0.0, *BORROWERS[2][4:]), (*BORROWERS[3][:3], 160.0,
            *BORROWERS[3][4:])]  # fmt: skip
    monthly = [(3, 0, 100.0, 0.0, 30.0), (3, 1, 90.0, 0.0, 30.0), (4, 0, 50.0, 0.0, 20.0)]
    s = summarize(make_records(rows, monthly), scenario)
    (roll,) = s["roll_rates"]
    assert (roll["accounts"], roll["rolled"], roll["rate"]) == (1, 1, 1.0)
    assert roll["balance_rate"] == pytest.approx(0.9)


def test_money_and_costs(summary):
    mo = summary["money"]
    assert mo["amount_due"] == pytest.approx(8015.0)
    assert mo["recovered"] == pytest.approx(4115.0)
    assert mo["written_off"] == pytest.approx(3000.0)
    assert mo["open_balance"] == pytest.approx(900.0)
    assert mo["recovered"] + mo["written_off"] + mo["open_balance"] == pytest.approx(
        mo["amount_due"]
    )
    assert mo["unaccounted"] == pytest.approx(0.0)
    assert mo["principal"] == pytest.approx(7500.0)
    assert mo["fees_charged"] == pytest.approx(515.0)
    assert mo["recovery_rate"] == pytest.approx(4115 / 8015)
    costs = summary["costs"]
    assert set(CHANNELS) <= set(costs)
    assert costs["total"] == pytest.approx(293.5)
    assert costs["agency_commission"] == 60.0
    assert mo["net_recovery"] == pytest.approx(4115 - 293.5)
    assert mo["cost_per_yuan_recovered"] == pytest.approx(293.5 / 4115)


def test_harm(summary):
    h = summary["harm"]
    assert h["complaints"] == 2
    assert h["complaints_per_1000"] == pytest.approx(400.0)
    assert h["third_party_contacts"] == 4
    assert h["third_party_disclosures"] == 1
    assert h["calls_per_borrower"] == pytest.approx(73 / 5)
    assert h["contact_calls"] == 9
    assert h["calls_outside_hours"] == 0
    assert summary["complaints_per_1000"] == h["complaints_per_1000"]
    assert summary["third_party_disclosures"] == 1
    assert summary["calls_outside_hours"] == 0


def test_calls_outside_hours_comes_from_meta(scenario):
    records = make_records()
    records.meta["calls_outside_hours"] = 3
    s = summarize(records, scenario)
    assert s["calls_outside_hours"] == 3 and s["harm"]["calls_outside_hours"] == 3


def test_agents(summary):
    a = summary["agents"]
    assert a["head_count"] == 2
    cap = 960.0 * HORIZON  # 181 days with a shift, less day 6
    assert a["occupancy"] == pytest.approx((480 + 864) / cap)
    assert a["utilisation"] == pytest.approx((480 + 864) / (cap * 1.125))
    assert a["peak_day_occupancy"] == pytest.approx(0.9)
    assert a["abandonment_rate"] == pytest.approx(2 / 10)
    assert a["service_level"] == pytest.approx(7 / 10)
    assert a["asa_seconds"] == pytest.approx(1.5)  # over the calls put through
    assert a["days_over_abandon_cap"] == 2  # 1 of 7 and 1 of 3, both over 3%
    assert a["list_penetration"] == pytest.approx(30 / 37)
    assert a["max_backlog"] == 7
    assert a["mean_backlog"] == pytest.approx(7 / (HORIZON + 1))
    assert a["cost"] == COSTS.get("agent", 0.0) + COSTS.get("agent_idle", 0.0)


def test_segments(summary):
    segs = summary["segments"]
    assert list(segs) == ["forgetful", "avoider"]  # the scenario's order
    f, a = segs["forgetful"], segs["avoider"]
    assert f["borrowers"] == 3 and a["borrowers"] == 2
    assert f["cure_rate"] == 1.0 and a["cure_rate"] == 0.0
    assert f["median_days_to_cure"] == 5.0
    assert a["median_days_to_cure"] is None
    assert f["emergency_contact_share"] == pytest.approx(1 / 3)
    assert a["emergency_contact_share"] == 1.0
    assert f["recovery_rate"] == 1.0
    assert a["recovery_rate"] == pytest.approx(500 / 4400)


def test_cure_within_days_by_segment(summary):
    f = summary["cure_within_days_by_segment"]["forgetful"]
    assert f["d3"] == pytest.approx(1 / 3)  # b5 in 2 days
    assert f["d7"] == pytest.approx(2 / 3)  # b1 and b5 (b5 observed: 170 + 7 <= 180)
    assert f["d30"] == pytest.approx(1 / 2)  # b5 censored; b1 yes, b2 no
    assert summary["cure_within_days_by_segment"]["avoider"] == {"d3": 0.0, "d7": 0.0, "d30": 0.0}


def test_horizon_falls_back_to_scenario():
    records = make_records()
    del records.meta["horizon_days"]
    s = summarize(records, build_scenario({"days": 100.0}))
    assert s["horizon_days"] == 100.0
    assert s["cure_rate"]["observed_d30"] == 4  # b5 (day 170) still excluded
    assert s["cure_rate"]["observed_d90"] == 3  # b1, b3 (day 0) and b2 (day 10); not b4


def test_empty_population_gives_none(scenario):
    s = summarize(make_records(rows=[], monthly=[], agents=False), scenario)
    json.dumps(s, allow_nan=False)
    assert s["borrowers"] == 0
    assert all(v is None for v in s["funnel"].values())
    assert all(v == 0 for v in s["funnel_counts"].values())
    assert s["emergency_contact"] == {
        "count": 0, "share": None, "median_day": None, "p10_day": None, "p90_day": None
    }  # fmt: skip
    assert s["cure_rate"]["d30"] is None and s["cure_rate"]["final"] is None
    assert s["median_days_to_cure"] is None
    assert s["recovery_by_month_past_due"] == [] and s["roll_rates"] == []
    assert s["recovery_after_3_months"]["rate"] is None
    assert s["money"]["recovery_rate"] is None
    assert s["money"]["cost_per_yuan_recovered"] is None
    assert s["complaints_per_1000"] is None and s["harm"]["calls_per_borrower"] is None
    assert s["agents"]["utilisation"] is None and s["agents"]["occupancy"] is None
    assert s["agents"]["peak_day_occupancy"] is None
    assert s["agents"]["asa_seconds"] is None and s["agents"]["abandonment_rate"] is None
    assert s["segments"] == {} and s["cure_within_days_by_segment"] == {}
    text = format_summary(s)
    assert "n/a" in text
    t = daily_table(make_records(rows=[], monthly=[]))
    assert (t["open_total"] == 0).all()


def test_nobody_reaches_month_3(scenario):
    monthly = [r for r in MONTHLY if r[1] < 3]
    s = summarize(make_records(monthly=monthly), scenario)
    assert s["recovery_after_3_months"] == {
        "accounts": 0, "balance_at_entry": 0.0, "recovered": 0.0, "rate": None
    }  # fmt: skip
    assert [r["month"] for r in s["recovery_by_month_past_due"]] == [0, 1, 2]


# --------------------------------------------------------------------------- text report


def test_format_summary(summary):
    text = format_summary(summary)
    lines = text.splitlines()
    assert max(len(line) for line in lines) < 100
    assert "Emergency contact: 3 borrowers (60.0%), median day 20.0" in text
    assert "30 d 25.0%, 60 d " in text and ", 90 d 50.0%" in text
    assert any(line.split()[:3] == ["emergency_contact", "3", "60.0%"] for line in lines)
    month3 = next(line for line in lines if line.split()[:2] == ["3", "90-119"])
    assert month3.split()[2:6] == ["2", "3,940", "200", "5.1%"]
    assert any(line.split()[:5] == ["0-29", "30-59", "4", "3", "75.0%"] for line in lines)
    assert "8,015" in text and "4,115" in text
    assert any(line.split() == ["agency_commission", "60.00"] for line in lines)
    assert any(line.split() == ["total", "293.50"] for line in lines)
    assert "2 complaints (400.00 per 1,000)" in text
    assert "calls outside hours 0" in text
    assert "average speed of answer 1.5 s" in text and "peak day 90.0%" in text
    assert "abandoned 2 (20.0%)" in text


def test_format_summary_uses_only_the_dict(summary):
    changed = json.loads(json.dumps(summary))
    changed["emergency_contact"]["count"] = 12345
    assert "Emergency contact: 12,345 borrowers" in format_summary(changed)


def test_headline_figures_worked_by_hand(summary):
    """The registry's headline on the five hand-made borrowers, worked out by hand."""
    h = summary["headline"]
    # followed 30 days: b1-b4 (b5 enters day 170). Repaid within 30 days: b1 all (1,010; no
    # month-1 row), b2 600 (its month-1 paid_before), b3 and b4 nothing; principal 7,000.
    assert h["money.collection_rate_30d"] == pytest.approx(1610 / 7000)
    assert h["roll_rate.0_29"] == pytest.approx(3 / 4)
    assert h["roll_rate_balance.0_29"] == pytest.approx(5620 / 7060)
    assert h["roll_rate.30_59"] == pytest.approx(2 / 3)
    assert h["cure_rate.d30"] == pytest.approx(1 / 4)  # b1 only
    assert h["funnel.emergency_contact"] == pytest.approx(3 / 5)
    assert h["harm.complaints_per_1000"] == pytest.approx(400.0)
