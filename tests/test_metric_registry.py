"""The metric registry: one declaration per headline figure serves the summary, the text
report, replications, compare, sweeps and chart labels."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim import plots
from sim.engine import simulate
from sim.experiments import replications as rp
from sim.experiments.sweep import build_sweep
from sim.results import metrics
from sim.results.report import format_summary
from sim.results.summary import summarize
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run():
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml", {"population.borrowers": 1500})
    rec = simulate(sc, 4)
    return rec, summarize(rec, sc)


def test_names_are_unique_and_every_metric_is_labelled_with_a_known_unit() -> None:
    ms = metrics.metrics()
    assert len({m.name for m in ms}) == len(ms)
    for m in ms:
        assert m.label and m.label != m.name
        assert m.unit in metrics.UNITS
        assert m.better in ("max", "min", None)


def test_the_headline_agrees_with_the_detailed_summary(run) -> None:
    _, s = run
    h = s["headline"]
    assert list(h) == metrics.names()
    assert h["money.collection_rate_30d"] == pytest.approx(s["money"]["collection_rate_30d"])
    assert h["cure_rate.d30"] == pytest.approx(s["cure_rate"]["d30"])
    assert h["money.recovery_rate"] == pytest.approx(s["money"]["recovery_rate"])
    assert h["funnel.emergency_contact"] == pytest.approx(s["funnel"]["emergency_contact"])
    assert h["agents.utilisation"] == pytest.approx(s["agents"]["utilisation"])
    rolls = {r["from_month"]: r for r in s["roll_rates"]}
    assert h["roll_rate.0_29"] == pytest.approx(rolls[0]["rate"])
    assert h["roll_rate_balance.30_59"] == pytest.approx(rolls[1]["balance_rate"])
    months = {r["month"]: r for r in s["recovery_by_month_past_due"]}
    assert h["recovery_by_month.3"] == pytest.approx(months[3]["rate"])


def test_replication_rows_are_the_registrys_numerators_and_denominators(run) -> None:
    rec, s = run
    rows = {m: (v, num, den) for m, v, num, den in rp.headline_rows(rec, s)}
    assert list(rows) == metrics.names()
    for name, (value, num, den) in rows.items():
        if den:
            assert value == pytest.approx(num / den)
            expected = s["headline"][name]
            assert expected is None or value == pytest.approx(expected)
        else:
            assert math.isnan(value)


def test_the_text_report_opens_with_the_headline_figures(run) -> None:
    _, s = run
    text = format_summary(s)
    head = text.split("Funnel")[0]
    assert "Headline figures" in head
    assert "30-day collection rate" in head
    assert "Roll rate DPD 0-29 to 30-59 (accounts)" in head
    assert f"{100 * s['money']['collection_rate_30d']:.1f}%" in head


@pytest.mark.parametrize(
    "metric",
    ["money.collection_rate_30d", "roll_rate.0_29", "roll_rate_balance.30_59", "cure_rate.d30"],
)
def test_every_headline_figure_is_usable_in_compare_sweeps_and_charts(metric: str) -> None:
    assert rp.check_metric(metric) in ("max", "min")
    sweep = build_sweep(
        {
            "name": "t",
            "base": "baseline.toml",
            "replications": 2,
            "metrics": [metric],
            "parameters": [{"key": "agents.per_10k_borrowers", "values": [6, 12]}],
        },
        ROOT / "scenarios" / "sweep.toml",
    )
    assert metric in sweep.metrics
    assert plots.metric_label(metric) == metrics.get(metric).label
    assert plots.metric_unit(metric) == "share"


def test_an_unknown_metric_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"best_on: unknown metric 'money\.nope'.*collection"):
        rp.check_metric("money.nope")
