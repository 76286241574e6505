"""Charts of saved results: the computations behind them against hand-worked numbers, the
charts against the summary they draw, and the plots directory's atomic, reproducible output."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text
from scipy.stats import binomtest

from sim import plots
from sim.engine.core import simulate
from sim.engine.rungs.layout import layout
from sim.experiments import replications as rp
from sim.results.rundir import RunDirError, read_run, write_run
from sim.results.summary import summarize
from sim.spec import load_scenario

STAGES = layout().stages

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
DAY14 = ROOT / "scenarios" / "day14.toml"
UNIT = re.compile(r"\(.+\)$")
"""An axis label ends with its unit in parentheses."""


def _write_run(out: Path, borrowers: int, days: float = 180.0) -> Path:
    sc = load_scenario(BASELINE, {"population.borrowers": borrowers, "days": days})
    records = simulate(sc, 3)
    return write_run(out, records, summarize(records, sc), sc, 3)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_run(tmp_path_factory.mktemp("plots") / "run", 2000)


@pytest.fixture(scope="module")
def run(run_dir: Path) -> dict[str, Any]:
    return read_run(run_dir)


@pytest.fixture(scope="module")
def cmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = rp.compare([BASELINE, DAY14], 3, borrowers=300, workers=1)
    out = tmp_path_factory.mktemp("plots") / "cmp"
    tables = {"comparison": result.table}
    return rp.write_results(out, result.replications, tables, {"kind": "compare"})


def _hand_comparison() -> pd.DataFrame:
    """Champion A; challenger B differs significantly on cure_rate.d30, C does not."""
    base = {"metric": "cure_rate.d30", "unit": "share", "n": 10}
    rows = [
        {**base, "scenario": "A", "role": "champion", "estimate": 0.50, "ci_low": 0.48,
         "ci_high": 0.52},
        {**base, "scenario": "B", "role": "challenger", "estimate": 0.52, "ci_low": 0.50,
         "ci_high": 0.54, "diff": 0.02, "diff_low": 0.01, "diff_high": 0.03, "rel_diff": 0.04,
         "rel_diff_low": 0.02, "rel_diff_high": 0.06, "significant": True},
        {**base, "scenario": "C", "role": "challenger", "estimate": 0.51, "ci_low": 0.49,
         "ci_high": 0.53, "diff": 0.01, "diff_low": -0.01, "diff_high": 0.03,
         "rel_diff": 0.02, "rel_diff_low": -0.02, "rel_diff_high": 0.06, "significant": False},
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    table["significant"] = table["significant"].astype("boolean")
    return table


def _check_labels(fig: Figure) -> None:
    """A title; every visible panel has a labelled axis with its unit, the figure has both an
    x and a y label with units; no text smaller than 8 pt."""
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    title = fig.get_suptitle() or axes[0].get_title()
    assert title.strip()
    for ax in axes:
        assert any(UNIT.search(label) for label in (ax.get_xlabel(), ax.get_ylabel())), ax
    assert any(UNIT.search(ax.get_xlabel()) for ax in axes)
    assert any(UNIT.search(ax.get_ylabel()) for ax in axes)
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    assert min(sizes) >= 8


# --------------------------------------------------------------------------- computations


def test_wilson_interval_matches_scipy_and_edges() -> None:
    k = np.array([0, 1, 5, 37, 10])
    n = np.array([10, 10, 10, 200, 10])
    low, high = plots.wilson_interval(k, n)
    for i in range(k.size):
        ref = binomtest(int(k[i]), int(n[i])).proportion_ci(0.95, method="wilson")
        assert low[i] == pytest.approx(ref.low, abs=1e-12)
        assert high[i] == pytest.approx(ref.high, abs=1e-12)
    assert (low[2], high[2]) == pytest.approx((0.236593090512564, 0.7634069094874361))
    assert low[0] == 0.0 and high[-1] == 1.0
    assert np.isnan(plots.wilson_interval(0, 0)).all()
    with pytest.raises(ValueError, match="successes"):
        plots.wilson_interval(11, 10)
    with pytest.raises(ValueError, match="level"):
        plots.wilson_interval(1, 10, level=95)


def test_emergency_contact_curve_counts_only_borrowers_followed_long_enough() -> None:
    outcomes = pd.DataFrame(
        {"entered_day": [0.0, 0.0, 0.0, 10.0], "emergency_contact_day": [np.nan, 2.5, 5.0, 1.0]}
    )
    c = plots.emergency_contact_curve(outcomes, horizon=12.0)
    assert c["dpd"].tolist() == list(range(13))
    # the late entrant (day 10) is followed for 2 days only
    assert c["followed"].tolist() == [4, 4, 4] + [3] * 10
    assert c["reached"].tolist() == [0, 1, 1, 1, 1] + [2] * 8
    assert c["share"].iloc[[0, 1, 3, 5]].tolist() == pytest.approx([0, 1 / 4, 1 / 3, 2 / 3])
    low, high = plots.wilson_interval(2, 3)
    assert (c["low"].iloc[-1], c["high"].iloc[-1]) == pytest.approx((float(low), float(high)))


def test_cure_times_censor_non_cures_at_the_horizon() -> None:
    outcomes = pd.DataFrame(
        {
            "entered_day": [0.0, 0.0, 5.0, 10.0, 0.0],
            "final_state": ["cured", "written_off", "plan_completed", "open", "fraud_terminated"],
            "resolved_day": [3.0, 50.0, 25.0, np.nan, 7.0],
        }
    )
    days, cured = plots.cure_times(outcomes, horizon=100.0)
    assert days.tolist() == [3.0, 100.0, 20.0, 90.0, 100.0]
    assert cured.tolist() == [True, False, True, False, False]
    km = plots.kaplan_meier(days, cured)
    assert km["time"].tolist() == [3.0, 20.0, 90.0, 100.0]
    assert km["survival"].tolist() == pytest.approx([4 / 5, 3 / 5, 3 / 5, 3 / 5])


def test_kaplan_meier_and_greenwood_by_hand() -> None:
    # times 1..5; a censoring at 2 ties with an event (still at risk at 2), another at 4
    km = plots.kaplan_meier([1, 2, 2, 3, 4, 5], [1, 1, 0, 1, 0, 1])
    assert km["time"].tolist() == [1, 2, 3, 4, 5]
    assert km["at_risk"].tolist() == [6, 5, 3, 2, 1]
    assert km["events"].tolist() == [1, 1, 1, 0, 1]
    assert km["censored"].tolist() == [0, 1, 0, 1, 0]
    assert km["survival"].tolist() == pytest.approx([5 / 6, 2 / 3, 4 / 9, 4 / 9, 0.0])
    # Greenwood: S^2 * (1/30, + 1/20, + 1/6, + 0); 0 once nobody is left
    assert km["variance"].tolist() == pytest.approx([5 / 216, 1 / 27, 4 / 81, 4 / 81, 0.0])
    # log-log interval at t = 3: S ** exp(+-z * sqrt(1/4) / |log S|)
    s, z = 4 / 9, 1.959963984540054
    w = z * 0.5 / abs(math.log(s))
    assert km.loc[2, "low"] == pytest.approx(s ** math.exp(w))
    assert km.loc[2, "high"] == pytest.approx(s ** math.exp(-w))
    assert (km["low"] <= km["survival"]).all() and (km["survival"] <= km["high"]).all()
    assert km.loc[4, ["low", "high"]].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="events"):
        plots.kaplan_meier([1, 2], [1])
    with pytest.raises(ValueError, match="durations"):
        plots.kaplan_meier([1, -2], [1, 1])


def test_roll_rate_matrix_by_hand() -> None:
    outcomes = pd.DataFrame(
        {
            "borrower_id": [0, 1, 2],
            "entered_day": [0.0, 0.0, 50.0],
            "final_state": ["written_off", "cured", "open"],
        }
    )
    monthly = pd.DataFrame({"borrower_id": [0, 0, 0, 1, 2, 2], "month": [0, 1, 2, 0, 0, 1]})
    mat = plots.roll_rate_matrix(outcomes, monthly, horizon=100.0)
    assert mat.index.tolist() == ["0-29", "30-59"]
    assert mat["accounts"].tolist() == [3, 1]  # borrower 2 is not followed to DPD 60
    assert mat[plots.NEXT_BUCKET].tolist() == pytest.approx([2 / 3, 1.0])
    assert mat["cured"].tolist() == pytest.approx([1 / 3, 0.0])
    states = mat.drop(columns="accounts")
    assert states.sum(axis=1).tolist() == pytest.approx([1.0, 1.0])


def test_tables_agree_with_the_summary(run: dict[str, Any]) -> None:
    s = run["summary"]
    out, horizon = run["outcomes"], s["horizon_days"]
    rec = plots.recovery_table(out, run["monthly"])
    rows = s["recovery_by_month_past_due"]
    assert rec["month"].tolist() == [r["month"] for r in rows]
    assert rec["accounts"].tolist() == [r["accounts"] for r in rows]
    assert rec["rate"].tolist() == pytest.approx([r["rate"] for r in rows], rel=1e-12)
    assert (rec["low"] < rec["rate"]).all() and (rec["rate"] < rec["high"]).all()
    mat = plots.roll_rate_matrix(out, run["monthly"], horizon)
    assert mat["accounts"].tolist() == [r["accounts"] for r in s["roll_rates"]]
    assert mat[plots.NEXT_BUCKET].tolist() == pytest.approx([r["rate"] for r in s["roll_rates"]])
    ec = plots.emergency_contact_curve(out, horizon)
    assert ec["share"].iloc[-1] == pytest.approx(s["emergency_contact"]["share"])
    km = plots.kaplan_meier(*plots.cure_times(out, horizon))
    assert km["survival"].iloc[-1] == pytest.approx(1 - s["cure_rate"]["final"])


# --------------------------------------------------------------------------- charts


def test_every_chart_is_titled_and_labelled_with_units(run: dict[str, Any], cmp_dir: Path) -> None:
    table = rp.read_results(cmp_dir)["comparison"]
    charts = {**plots.run_charts(run), **plots.comparison_charts(table)}
    charts["forest_relative"] = lambda: plots.forest(table, relative=True)
    charts["two_runs"] = lambda: plots.survival([run, run])
    for name, draw in charts.items():
        fig = draw()
        try:
            _check_labels(fig)
        except AssertionError as exc:
            raise AssertionError(f"chart {name}: {exc}") from exc


def test_funnel_bars_are_the_summary_funnel(run: dict[str, Any], cmp_dir: Path) -> None:
    ax = plots.funnel(run).axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([run["summary"]["funnel"][s] for s in STAGES], abs=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == [s.replace("_", " ") for s in STAGES]
    colours = {tuple(p.get_facecolor()) for p in ax.patches}
    assert len(colours) == len(STAGES)  # one colour per stage
    table = rp.read_results(cmp_dir)["comparison"]
    ax = plots.funnel(table).axes[0]
    est = table.set_index(["scenario", "metric"])["estimate"]
    expected = [est[(p, f"funnel.{s}")] for p in ("baseline", "day14") for s in STAGES]
    assert [p.get_width() for p in ax.patches] == pytest.approx(expected)


def test_recovery_chart_has_the_ten_percent_line(run: dict[str, Any]) -> None:
    ax = plots.recovery_by_month(run).axes[0]
    dashed = [
        line
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and list(line.get_ydata()) == [0.10, 0.10]
    ]
    assert len(dashed) == 1
    rates = [r["rate"] for r in run["summary"]["recovery_by_month_past_due"]]
    assert [p.get_height() for p in ax.patches[1:]] == pytest.approx(rates)  # [0]: the shading
    texts = [t.get_text() for t in ax.texts]
    assert "10%" in texts and "after 3 months past due" in texts


def test_chart_draws_into_a_given_axes(run: dict[str, Any]) -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plots.emergency_contact_by_dpd(run, ax=left) is fig
    assert plots.survival(run, by="segment", ax=right) is fig
    segments = list(run["summary"]["segments"])
    assert len(right.get_lines()) == len(segments)
    with pytest.raises(ValueError, match="by"):
        plots.survival([run, run], by="segment")
    with pytest.raises(ValueError, match="by"):
        plots.survival(run, by="seg")


def test_forest_marks_significant_rows() -> None:
    table = _hand_comparison()
    for relative in (False, True):
        ax = plots.forest(table, relative=relative).axes[0]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["B *", "C"]
        b, c = (line for line in ax.get_lines() if line.get_marker() == "o")
        assert b.get_markerfacecolor() == b.get_color()  # filled
        assert c.get_markerfacecolor() == "white"  # hollow
        assert list(b.get_xdata()) == [0.04 if relative else 0.02]
    with pytest.raises(ValueError, match="metrics"):
        plots.forest(table, metrics=["money.recovered"])
    with pytest.raises(ValueError, match="table"):
        plots.forest(table.drop(columns=["diff"]))


def test_policy_bars_show_estimates_and_star_differences() -> None:
    table = _hand_comparison()
    ax = plots.policy_bars(table, "cure_rate.d30").axes[0]
    assert [p.get_height() for p in ax.patches] == pytest.approx([0.50, 0.52, 0.51])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B *", "C"]
    colours = plots.policy_colours(["A", "B", "C"])
    assert [to_hex(p.get_facecolor()) for p in ax.patches] == [colours[k].lower() for k in "ABC"]
    with pytest.raises(ValueError, match="metric"):
        plots.policy_bars(table, "money.recovered")


def test_policy_colours_are_stable_and_colour_blind_safe() -> None:
    assert plots.policy_colours(["x", "y"]) == {"x": "#0072B2", "y": "#E69F00"}
    assert plots.policy_colours(["y", "x"])["y"] == "#0072B2"  # by position: champion first
    colours = plots.stage_colours(STAGES)
    assert list(colours) == list(STAGES)
    assert len(set(colours.values())) == len(STAGES)
    assert colours["emergency_contact"] == plots.EMPHASIS


def test_apply_style_restyles_a_figure_drawn_elsewhere() -> None:
    fig = Figure()
    fig.set_facecolor("black")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.grid(False)
    assert plots.apply_style(fig) is fig
    assert to_hex(fig.get_facecolor()) == "#ffffff"
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert all(line.get_visible() for line in ax.get_xgridlines())
    assert ax.title.get_fontsize() == plots.STYLE["axes.titlesize"]


# --------------------------------------------------------------------------- writing


def test_plot_run_writes_every_chart_atomically_and_reproducibly(run_dir: Path) -> None:
    paths = plots.plot_run(run_dir)
    names = list(plots.run_charts({}))
    assert paths == [run_dir / "plots" / f"{n}.{f}" for n in names for f in ("png", "svg")]
    for p in paths:
        head = p.read_bytes()[:8]
        assert head == b"\x89PNG\r\n\x1a\n" if p.suffix == ".png" else head.startswith(b"<?xml")
    before = {p.name: p.read_bytes() for p in paths}
    (run_dir / "plots" / "stale.png").write_bytes(b"old")
    again = plots.plot_run(run_dir, formats=("png", "svg"))
    assert again == paths
    assert not (run_dir / "plots" / "stale.png").exists()  # the directory was replaced
    assert {p.name: p.read_bytes() for p in again} == before  # byte-reproducible
    leftovers = [p.name for p in run_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert sorted(p.name for p in (run_dir / "plots").iterdir()) == sorted(
        [*before, "manifest.json"]
    )


def test_plot_run_refuses_bad_formats_and_foreign_directories(
    run_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="formats"):
        plots.plot_run(run_dir, formats=("jpg",))
    with pytest.raises(RunDirError):
        plots.plot_run(tmp_path)  # not a run directory
    foreign = tmp_path / "run"
    foreign.mkdir()
    for name in ("summary.json", "outcomes.parquet", "daily.parquet", "monthly.parquet"):
        (foreign / name).symlink_to(run_dir / name)
    (foreign / "plots").mkdir()
    (foreign / "plots" / "mine.txt").write_text("not a chart")
    with pytest.raises(RunDirError, match="refusing"):
        plots.plot_run(foreign, formats="png")
    assert (foreign / "plots" / "mine.txt").read_text() == "not a chart"


def test_plot_comparison_writes_policy_charts_and_forest(cmp_dir: Path) -> None:
    paths = plots.plot_comparison(cmp_dir, formats=("png",))
    names = [p.name for p in paths]
    assert names[:3] == ["funnel.png", "emergency_contact.png", "recovery_by_month.png"]
    assert names[-1] == "forest.png"
    # money, harm and the call centre, one bar per policy (each defined for these policies)
    assert {"net_recovery.png", "cost.png", "complaints.png"} <= set(names)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_plot_run_on_a_run_too_short_for_roll_rates(tmp_path: Path) -> None:
    short = _write_run(tmp_path / "short", 60, days=20.0)
    paths = plots.plot_run(short, formats=("png",))
    assert len(paths) == len(plots.run_charts({}))
