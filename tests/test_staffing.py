"""The staffing answer of a head-count sweep (sim.experiments.staffing): the marginal value of
one more agent, paired over replications, worked by hand; and a small staffing sweep run end
to end into its report and chart."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from test_sweep import BASE, TINY
from test_sweep_report import _results

from sim.experiments.staffing import head_count_parameter, marginal_values, turning_points
from sim.experiments.sweep import build_sweep
from sim.experiments.sweep_report import write_report
from sim.experiments.sweep_run import run_sweep
from sim.plots.sweep import draw_all
from sim.results import stats

NET = "money.net_recovery"


def test_the_marginal_value_is_the_paired_difference_per_added_agent() -> None:
    """Book a: 1, 2 and 4 agents; book b: 1 and 2. Net recovery per replication (3 each)."""
    points = pd.DataFrame(
        {"point": [0, 1, 2, 3, 4], "book": ["a", "a", "a", "b", "b"], "heads": [1, 2, 4, 1, 2]}
    )
    net = {
        0: [100.0, 110.0, 90.0],
        1: [150.0, 170.0, 130.0],  # +50, +60, +40 on the same replications
        2: [130.0, 160.0, 100.0],  # -20, -10, -30 over two more agents
        3: [10.0, 20.0, 30.0],
        4: [5.0, 25.0, 15.0],  # -5, +5, -15
    }
    res = _results({(p, r): {NET: v} for p, vs in net.items() for r, v in enumerate(vs)})
    m = marginal_values(points, res, "heads")
    assert m[["book", "from", "to"]].values.tolist() == [["a", 1, 2], ["a", 2, 4], ["b", 1, 2]]
    assert m["per_unit"].tolist() == pytest.approx([50.0, -10.0, -5.0])
    half = stats.t_quantile(0.95, 2) * 10.0 / math.sqrt(3)  # sd of (50, 60, 40) is 10
    assert m.loc[0, "low"] == pytest.approx(50.0 - half)
    assert m.loc[1, "high"] == pytest.approx(-10.0 + half / 2)  # sd 10, over 2 agents
    t = turning_points(m).set_index("book")
    assert t.loc["a", "negative_from"] == 2 and t.loc["b", "negative_from"] == 1
    assert bool(t.loc["a", "significant"]) is (-10.0 + half / 2 < 0)


def test_a_sweep_without_the_metric_has_no_marginal_values() -> None:
    points = pd.DataFrame({"point": [0, 1], "heads": [1, 2]})
    res = _results({(0, 0): {"x": 1.0}, (1, 0): {"x": 2.0}})
    assert marginal_values(points, res, "heads").empty


def test_the_head_count_parameter_is_found_by_its_key() -> None:
    manifest = {"parameters": [{"name": "book"}, {"name": "n", "key": "agents.head_count"}]}
    assert head_count_parameter(manifest) == "n"
    assert head_count_parameter({"parameters": [{"name": "x", "key": "days"}]}) is None


def test_a_staffing_sweep_reports_the_marginal_value_and_draws_the_chart(tmp_path: Path) -> None:
    doc = {
        "name": "staffing",
        "base": BASE,
        "seed": 3,
        "replications": 2,
        "metrics": [NET, "money.recovery_rate", "agents.abandonment_rate"],
        "set": dict(TINY),
        "design": {"kind": "grid"},
        "parameters": [
            {"name": "book", "cases": {"cohort": {"population.arrival": "cohort"},
                                       "inflow": {"population.arrival": "inflow"}}},
            {"key": "agents.head_count", "name": "heads", "values": [1, 2, 3]},
        ],
    }  # fmt: skip
    out = tmp_path / "sweep"
    run_sweep(build_sweep(doc), out, workers=1)
    report = write_report(out, draw=draw_all)
    marginal = pd.read_csv(report / "marginal.csv")
    assert len(marginal) == 4  # 1->2 and 2->3, in each book
    assert set(marginal["metric"]) == {NET}
    assert (marginal["low"] <= marginal["per_unit"]).all()
    assert (marginal["per_unit"] <= marginal["high"]).all()
    assert (report / "turning_points.csv").exists()
    assert (report / "staffing.png").stat().st_size > 10_000
