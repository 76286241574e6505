"""The baseline reproduces the seeds' facts and the calibration figures it was tuned to.

One seed-pinned baseline run of 20,000 borrowers (about 5 s) serves every check. The run is
deterministic, so these are regression checks of the calibration; the tolerances are set so
that any other seed passes too (across seeds 11-13 the month-3 recovery rate ranged 0.065 to
0.084 at this size, the 30-day collection rate 0.818 to 0.825).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.engine.core import simulate
from sim.results import summary as metrics
from sim.spec import build_scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
N = 20_000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def baseline() -> dict:
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml", {"population.borrowers": N})
    records = simulate(sc, seed=2024)
    return {"records": records, "summary": metrics.summarize(records, sc)}


def test_emergency_contact_stage_is_a_minority_outcome(baseline: dict) -> None:
    ec = baseline["summary"]["emergency_contact"]
    assert 0.02 < ec["share"] < 0.35  # case A: "in most cases the platform does not"
    assert ec["median_day"] >= 7  # never before the 7 days without contact of the trigger


def test_recovery_after_three_months_is_under_ten_percent(baseline: dict) -> None:
    """Case C: cases more than three months overdue succeed less than 10% of the time."""
    after = baseline["summary"]["recovery_after_3_months"]
    assert after["accounts"] > 300  # enough accounts for the figure to mean something
    assert after["rate"] < 0.10


def test_recovery_falls_with_months_past_due(baseline: dict) -> None:
    rates = [m["rate"] for m in baseline["summary"]["recovery_by_month_past_due"][:5]]
    assert rates == sorted(rates, reverse=True)


def test_forgetful_borrowers_cure_within_days_of_the_sms(baseline: dict) -> None:
    within = baseline["summary"]["cure_within_days_by_segment"]["forgetful"]
    assert within["d3"] > 0.9


def test_thirty_day_collection_rate_is_near_qifu(baseline: dict) -> None:
    """Qifu Q2 2024: 86.3% of principal overdue at DPD 0 repaid within 30 days (S)."""
    assert 0.78 < baseline["summary"]["money"]["collection_rate_30d"] < 0.92


def test_no_call_outside_hours_and_money_conserved(baseline: dict) -> None:
    s = baseline["summary"]
    assert s["calls_outside_hours"] == 0
    assert abs(s["money"]["unaccounted"]) < 1e-6 * s["money"]["amount_due"]


def test_self_cure_without_any_action_is_40_to_60_percent() -> None:
    """McKinsey via vendors: 40-60% of early-stage delinquent accounts self-cure (S/V)."""
    off = {"enabled": False}
    sc = build_scenario(
        {
            "population": {"borrowers": N},
            "ladder": {
                "sms": off,
                "push": off,
                "robot": off,
                "agent": off,
                "second_reminder": off,
                "number_rotation": off,
                "measures": off,
                "lost_contact": off,
                "agency": off,
                "plans": off,
                "emergency_contact": {"trigger": "never"},
            },
        }
    )
    s = metrics.summarize(simulate(sc, seed=2024), sc)
    assert 0.40 <= s["cure_rate"]["d30"] <= 0.60
