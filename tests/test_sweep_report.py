"""Sweep analysis (sim.experiments.sweep_report): point estimates with CIs, the Pareto
front, Sobol'/Morris indices against known answers, the replication-noise warning, and the EMA
workbench export."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.experiments import sweep_report
from sim.experiments.ema import ema_experiments, write_ema
from sim.experiments.sweep_report import (
    noise_share,
    pareto_mask,
    point_estimates,
    sensitivity,
    wide_points,
)
from sim.results import stats


def _results(values: dict[tuple[int, int], dict[str, float]]) -> pd.DataFrame:
    """A results table from {(point, replication): {metric: value}} (denominator 1)."""
    rows = [
        {"unit": f"p{p}-r{r}", "point": p, "replication": r, "metric": m, "value": v,
         "numerator": v, "denominator": 1.0}
        for (p, r), ms in values.items() for m, v in ms.items()
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_point_estimates_are_the_mean_and_t_interval_over_replications() -> None:
    points = pd.DataFrame({"point": [0, 1], "x": [1.0, 2.0]})
    res = _results({(0, 0): {"m": 1.0}, (0, 1): {"m": 3.0}, (0, 2): {"m": 5.0},
                    (1, 0): {"m": 10.0}, (1, 1): {"m": 10.0}, (1, 2): {"m": 13.0}})  # fmt: skip
    est = point_estimates(points, res).set_index("point")
    assert est.loc[0, "estimate"] == 3.0
    half = stats.t_quantile(0.95, 2) * 2.0 / math.sqrt(3)  # sd of (1, 3, 5) is 2
    assert est.loc[0, "half_width"] == pytest.approx(half)
    assert est.loc[1, "estimate"] == 11.0 and est.loc[1, "n"] == 3
    wide = wide_points(points, point_estimates(points, res))
    assert list(wide.columns) == ["point", "x", "m", "m.ci_low", "m.ci_high", "m.n"]


def test_shares_are_pooled_ratios() -> None:
    points = pd.DataFrame({"point": [0]})
    res = pd.DataFrame(
        {"unit": ["a", "b"], "point": [0, 0], "replication": [0, 1], "metric": ["s", "s"],
         "value": [0.1, 0.5], "numerator": [10.0, 50.0], "denominator": [100.0, 100.0]}
    )  # fmt: skip
    assert point_estimates(points, res)["estimate"].iloc[0] == pytest.approx(0.3)


def test_pareto_mask_on_a_hand_example() -> None:
    # objectives: recovery (max), complaints (min)
    v = np.array([[0.8, 10.0], [0.9, 20.0], [0.7, 5.0], [0.8, 12.0], [0.6, 30.0], [0.9, 20.0]])
    mask = pareto_mask(v, ["max", "min"])
    # 3 is dominated by 0; 4 by everything; 1 and 5 tie (neither strictly better): both kept
    assert mask.tolist() == [True, True, True, False, False, True]
    assert not pareto_mask(np.array([[np.nan, 1.0], [0.5, 2.0]]), ["max", "min"])[0]


def test_noise_share_separates_noise_from_signal() -> None:
    rng = np.random.default_rng(0)
    signal = {(p, r): {"m": p + 0.01 * rng.standard_normal()} for p in range(20) for r in range(3)}
    assert noise_share(_results(signal), "m") < 0.001
    noise = {(p, r): {"m": rng.standard_normal()} for p in range(20) for r in range(3)}
    assert noise_share(_results(noise), "m") > 0.5  # about 1 for pure noise


def test_noise_common_to_all_points_is_not_counted() -> None:
    """Common random numbers: a replication's shift shared by every point moves all point
    means alike, so it does not blur the comparison of points."""
    rng = np.random.default_rng(1)
    shift = 5.0 * rng.standard_normal(3)
    common = {
        (p, r): {"m": p + shift[r] + 0.01 * rng.standard_normal()}
        for p in range(20)
        for r in range(3)
    }
    assert noise_share(_results(common), "m") < 0.001


def _salib_case(kind: str, noise_sd: float) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """A synthetic sweep: y = 4 u1 + 2 u2 + 0 u3 on the design's unit samples."""
    from SALib.sample import morris, sobol

    names = ["a", "b", "c"]
    problem = {"num_vars": 3, "names": names, "bounds": [[0.0, 1.0]] * 3}
    if kind == "sobol":
        u = sobol.sample(problem, 1024, calc_second_order=False, seed=1)
        design = {"kind": "sobol", "second_order": False}
    else:
        u = morris.sample(problem, 40, num_levels=4, seed=1)
        design = {"kind": "morris", "levels": 4}
    points = pd.DataFrame({"point": np.arange(len(u))})
    for j, n in enumerate(names):
        points[f"u.{n}"] = u[:, j]
    y = 4 * u[:, 0] + 2 * u[:, 1]
    rng = np.random.default_rng(2)
    res = _results({(p, r): {"y": y[p] + noise_sd * rng.standard_normal()}
                    for p in range(len(u)) for r in range(2)})  # fmt: skip
    manifest = {"design": design, "metrics": ["y"],
                "parameters": [{"name": n, "role": "uncertainty"} for n in names]}  # fmt: skip
    return manifest, points, res


def test_sobol_indices_match_the_analytic_values() -> None:
    """y = 4 u1 + 2 u2, u uniform: Var = (16 + 4) / 12, so S1 = ST = (0.8, 0.2, 0)."""
    manifest, points, res = _salib_case("sobol", noise_sd=1e-4)
    table, notes = sensitivity(manifest, points, point_estimates(points, res), res)
    assert notes == []
    s = table.set_index(["parameter", "index"])
    for p, want in (("a", 0.8), ("b", 0.2), ("c", 0.0)):
        for index in ("S1", "ST"):
            value, conf = s.loc[(p, index), ["value", "conf"]]
            assert abs(value - want) <= max(3 * conf, 0.02), (p, index, value, conf)
    assert table["reliable"].all()


def test_morris_mu_star_ranks_the_parameters() -> None:
    """Elementary effects of y = 4 u1 + 2 u2 are exactly 4, 2 and 0 (mu* likewise)."""
    manifest, points, res = _salib_case("morris", noise_sd=0.0)
    table, _ = sensitivity(manifest, points, point_estimates(points, res), res)
    mu = table[table["index"] == "mu_star"].set_index("parameter")["value"]
    assert mu["a"] == pytest.approx(4.0) and mu["b"] == pytest.approx(2.0)
    assert mu["c"] == pytest.approx(0.0, abs=1e-9)


def test_noisy_replications_flag_the_indices_as_unreliable() -> None:
    manifest, points, res = _salib_case("sobol", noise_sd=5.0)
    table, notes = sensitivity(manifest, points, point_estimates(points, res), res)
    assert not table["reliable"].any()
    assert len(notes) == 1 and notes[0].startswith("y: replication noise")


def test_the_ema_export_loads_in_the_ema_workbench(tmp_path: Path) -> None:
    ema = pytest.importorskip("ema_workbench")
    manifest = {
        "metrics": ["money.recovery_rate", "harm.complaints_per_1000"],
        "parameters": [{"name": "trigger", "role": "policy"},
                       {"name": "decay", "role": "uncertainty"}],
    }  # fmt: skip
    points = pd.DataFrame({"point": [0, 1], "trigger": ["never", "day_14"], "decay": [0.5, 0.9]})
    res = _results({(p, r): {"money.recovery_rate": 0.8 + p / 10 + r / 100,
                             "harm.complaints_per_1000": 50.0 + p}
                    for p in range(2) for r in range(3)})  # fmt: skip
    experiments, outcomes = ema_experiments(manifest, points, res)
    path = tmp_path / "ema.tar.gz"
    write_ema(path, experiments, outcomes)
    exp, out = ema.load_results(str(path))
    assert len(exp) == 6
    assert list(exp.columns) == ["trigger", "decay", "scenario", "policy", "model"]
    assert exp["trigger"].tolist() == ["never"] * 3 + ["day_14"] * 3
    np.testing.assert_allclose(
        out["money.recovery_rate"].ravel(), [0.8, 0.81, 0.82, 0.9, 0.91, 0.92]
    )
    np.testing.assert_allclose(out["harm.complaints_per_1000"].ravel(), [50.0] * 3 + [51.0] * 3)
    assert sweep_report.REPORT_DIR == "report"


# --------------------------------------------------------------------------- the command line

SWEEP = Path(__file__).resolve().parent.parent / "scenarios" / "sweeps" / "ec_trigger_x_agents.toml"
SMALL = ["--borrowers", "200", "--days", "45", "--reps", "2", "--workers", "1", "--quiet"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim.cli import main

    out = tmp_path_factory.mktemp("cli") / "sweep"
    assert main(["sweep", str(SWEEP), *SMALL, "--out", str(out)]) == 0
    return out


def test_sweep_report_writes_tables_charts_and_the_ema_export(swept: Path) -> None:
    from sim.cli import main

    assert main(["sweep-report", str(swept)]) == 0
    rep = swept / "report"
    points = pd.read_csv(rep / "points.csv")
    assert len(points) == 20  # 5 trigger cases x 4 head-counts
    for m in ("money.recovery_rate", "funnel.emergency_contact", "harm.complaints_per_1000"):
        assert {m, f"{m}.ci_low", f"{m}.ci_high"} <= set(points.columns)
        assert (points[f"{m}.ci_low"] <= points[m]).all() and (
            points[m] <= points[f"{m}.ci_high"]
        ).all()
    never = points[points["ec_trigger"] == "never"]
    assert (never["funnel.emergency_contact"] == 0).all()
    pngs = {p.name for p in rep.glob("*.png")}
    assert "heatmap_money_recovery_rate.png" in pngs
    assert "pareto_harm_complaints_per_1000.png" in pngs
    assert "money_recovery_rate_by_agents_per_10k.png" in pngs
    front = pd.read_csv(rep / "pareto.csv")
    assert 1 <= len(front) <= len(points)
    ema = pytest.importorskip("ema_workbench")
    experiments, outcomes = ema.load_results(str(rep / "ema_results.tar.gz"))
    assert len(experiments) == 40 and len(outcomes["money.recovery_rate"]) == 40
    # a second report replaces the first, leaving nothing behind
    assert main(["sweep-report", str(swept)]) == 0
    assert not list(swept.glob(".report.*"))
    # and the whole sweep as one HTML page (overdue report)
    assert main(["report", str(swept)]) == 0
    page = (swept / "report.html").read_text(encoding="utf-8")
    assert "Sweep:" in page and "Pareto" in page.replace("pareto", "Pareto")
    assert page.count("data:image/png;base64,") >= 3


def test_sweep_errors_exit_2_and_write_nothing(tmp_path: Path, swept: Path) -> None:
    from sim.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text(SWEEP.read_text().replace('kind = "grid"', 'kind = "grid"\nshape = 3'))
    out = tmp_path / "never"
    assert main(["sweep", str(bad), *SMALL, "--out", str(out)]) == 2
    assert not out.exists()
    assert main(["sweep", str(SWEEP), *SMALL, "--borrowers", "-5", "--out", str(out)]) == 2
    assert not out.exists()
    assert main(["sweep", str(SWEEP), *SMALL, "--out", str(swept)]) == 2  # needs --resume
    assert main(["sweep", str(SWEEP), *SMALL, "--out", str(swept), "--resume"]) == 0
    assert main(["sweep-report", str(tmp_path)]) == 2


def test_plot_redraws_a_sweep_report_and_every_sweep_chart_is_labelled(swept: Path) -> None:
    from sim.cli import main
    from sim.experiments.sweep_report import report
    from sim.plots import sweep as sweep_plots

    assert main(["plot", str(swept), "--no-svg"]) == 0
    assert (swept / "report" / "pareto.csv").is_file()
    rep = report(swept)
    m, (a, b) = "money.recovery_rate", rep.parameters
    figures = [
        sweep_plots.metric_vs_parameter(rep, m, b),
        sweep_plots.heatmap(rep, m, b, a),
        sweep_plots.pareto(rep, m, "harm.complaints_per_1000"),
    ]
    for fig in figures:
        ax = fig.axes[0]
        assert ax.get_title()
        assert ax.get_xlabel() and ax.get_ylabel()
    assert "(%)" in figures[0].axes[0].get_ylabel()  # a share is shown in percent
    assert "(per 1,000 borrowers)" in figures[2].axes[0].get_ylabel()


def test_sensitivity_confidence_intervals_are_reproducible() -> None:
    """The bootstrap behind the index CIs is seeded: the same sweep, the same report."""
    manifest, points, res = _salib_case("sobol", noise_sd=0.01)
    est = point_estimates(points, res)
    np.random.seed(1)
    first, _ = sensitivity(manifest, points, est, res)
    np.random.seed(2)  # global state must not matter
    second, _ = sensitivity(manifest, points, est, res)
    pd.testing.assert_frame_equal(first, second)


def test_paired_differences_from_a_reference_point_are_paired_t_intervals() -> None:
    from sim.experiments.sweep_report import paired_differences

    res = _results({(0, 0): {"m": 1.0}, (0, 1): {"m": 3.0}, (0, 2): {"m": 5.0},
                    (1, 0): {"m": 2.0}, (1, 1): {"m": 5.0}, (1, 2): {"m": 6.0}})  # fmt: skip
    d = paired_differences(res, reference=0).set_index("point")
    diffs = np.array([1.0, 2.0, 1.0])
    half = stats.t_quantile(0.95, 2) * diffs.std(ddof=1) / math.sqrt(3)
    assert d.loc[1, "diff"] == pytest.approx(diffs.mean())
    assert d.loc[1, "diff_high"] - d.loc[1, "diff"] == pytest.approx(half)
    assert bool(d.loc[1, "significant"]) == (diffs.mean() - half > 0)
    with pytest.raises(ValueError, match="reference"):
        paired_differences(res, reference=7)


def test_sweep_report_reference_writes_paired_differences(swept: Path) -> None:
    from sim.cli import main

    assert main(["sweep-report", str(swept), "--reference", "0"]) == 0
    paired = pd.read_csv(swept / "report" / "paired.csv")
    assert set(paired["point"]) == set(range(1, 20))
    points = pd.read_csv(swept / "report" / "points.csv")
    assert "money.recovery_rate.diff_low" in points.columns
    never = points[points["ec_trigger"] == "never"]  # point 0 is never x 2 per 10k
    assert never["funnel.emergency_contact.diff"].fillna(0).eq(0).all()
    assert main(["sweep-report", str(swept), "--reference", "99"]) == 2
