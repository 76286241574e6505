"""sim.experiments.replications: headline rows, common random numbers, the variance
reduction they give, determinism for any worker count, the sequential rule, and the comparison
tables.

Populations are small (300-1,000 borrowers, 30-120 days) so the whole file runs in well under
a minute on two cores.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.engine.core import simulate
from sim.experiments import replications as rp
from sim.results import metrics
from sim.results.summary import summarize
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
DAY14 = ROOT / "scenarios" / "day14.toml"
REGULATED = ROOT / "scenarios" / "regulated.toml"
SMALL = {"population.borrowers": 300, "days": 40.0}


@pytest.fixture(scope="module")
def small_comparison() -> rp.Comparison:
    return rp.compare([BASELINE, DAY14, REGULATED], 4, overrides=SMALL, workers=1, seed=5)


# --------------------------------------------------------------------------- headline rows


def test_headline_rows_match_the_summary() -> None:
    sc = load_scenario(BASELINE, {"population.borrowers": 1000, "days": 120.0})
    records = simulate(sc, 3)
    summary = summarize(records, sc)
    rows = {m: (v, num, den) for m, v, num, den in rp.headline_rows(records, summary)}
    assert list(rows) == [m.name for m in metrics.metrics()]
    assert rows["funnel.emergency_contact"][0] == summary["emergency_contact"]["share"]
    assert rows["funnel.emergency_contact"][1:] == (summary["emergency_contact"]["count"], 1000)
    assert rows["emergency_contact.median_day"][0] == summary["emergency_contact"]["median_day"]
    for k in ("d30", "d90"):
        value, num, den = rows[f"cure_rate.{k}"]
        assert value == pytest.approx(summary["cure_rate"][k])
        assert num == int(num) and den == summary["cure_rate"][f"observed_{k}"]
    for r in summary["recovery_by_month_past_due"]:
        assert rows[f"recovery_by_month.{r['month']}"][0] == pytest.approx(r["rate"])
    assert math.isnan(rows["recovery_by_month.5"][0])  # not reached within 120 days
    money, harm = summary["money"], summary["harm"]
    assert rows["money.recovery_rate"][0] == pytest.approx(money["recovery_rate"])
    assert rows["money.net_recovery"] == (money["net_recovery"], money["net_recovery"], 1.0)
    assert rows["harm.complaints_per_1000"][0] == pytest.approx(harm["complaints_per_1000"])
    assert rows["agents.utilisation"][0] == pytest.approx(summary["agents"]["utilisation"])


def test_runner_replication_r_is_the_engine_with_replication_r() -> None:
    sc = load_scenario(BASELINE, SMALL)
    df = rp.run_replications(sc, 3, seed=9, workers=1)
    assert list(df.columns) == list(rp.COLUMNS)
    assert len(df) == 3 * len(metrics.metrics())
    records = simulate(sc, 9, replication=2)
    expected = rp.headline_rows(records, summarize(records, sc))
    got = df[df["replication"] == 2][["metric", "value", "numerator", "denominator"]]
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True),
        pd.DataFrame(expected, columns=["metric", "value", "numerator", "denominator"]),
        check_dtype=False,
    )


# --------------------------------------------------------------------------- common random numbers


def test_borrowers_treated_identically_have_identical_outcomes() -> None:
    """Emergency contacts from day 14 versus never, replication 3 of one root seed: every
    borrower resolved before day 14 was treated identically by both policies and must have
    the same row; borrowers reached at day 14 must (somewhere) differ, or the test is void."""
    over = {**SMALL, "population.borrowers": 1000, "days": 60.0}
    day = load_scenario(BASELINE, {**over, "ladder.emergency_contact.trigger": "day"})
    never = load_scenario(BASELINE, {**over, "ladder.emergency_contact.trigger": "never"})
    a = simulate(day, 21, replication=3).outcomes
    b = simulate(never, 21, replication=3).outcomes
    early = (a["resolved_day"] - a["entered_day"] < 14).to_numpy()
    assert 300 < early.sum() < 1000
    pd.testing.assert_frame_equal(a[early], b[early], check_exact=True)
    assert a["reached_emergency_contact"].any() and not b["reached_emergency_contact"].any()
    assert not a[~early].equals(b[~early])


def test_common_random_numbers_halve_the_variance_of_the_difference() -> None:
    """Baseline vs day14, emergency-contact share, 40 replications.

    With independent seeds the two runs of a pair are independent, so the variance of their
    difference is var(A) + var(B); the per-policy variances do not depend on how replications
    are paired, so they are estimated from the same runs (free of the noise of a sample
    covariance that is zero in expectation). docs/simulation_practice.md reports the ratio
    measured at scale, also against independently seeded runs.
    """
    over = {"population.borrowers": 500, "days": 60.0}
    cmp = rp.compare([BASELINE, DAY14], 40, overrides=over, workers=2, seed=2024)
    df = cmp.replications
    ec = df[df["metric"] == "funnel.emergency_contact"].pivot(
        index="replication", columns="scenario", values="value"
    )
    a, b = ec["baseline"].to_numpy(), ec["day14"].to_numpy()
    var_crn = np.var(b - a, ddof=1)
    var_independent = np.var(a, ddof=1) + np.var(b, ddof=1)
    ratio = var_crn / var_independent
    print(f"variance ratio CRN / independent: {ratio:.3f}")
    assert ratio <= 0.5


# --------------------------------------------------------------------------- execution


def test_results_are_identical_for_one_and_two_workers() -> None:
    over = {"population.borrowers": 300, "days": 30.0}
    one = rp.compare([BASELINE, DAY14], 3, overrides=over, workers=1, seed=3)
    two = rp.compare([BASELINE, DAY14], 3, overrides=over, workers=2, seed=3)
    pd.testing.assert_frame_equal(one.replications, two.replications, check_exact=True)
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)


def test_auto_stops_at_the_first_count_that_meets_the_precision() -> None:
    # Complaints 20 times as likely: at the defaults' 5 per 1,000, 200 borrowers make one a
    # run, and no count of replications under 60 pins that within 20%.
    over = {"population.borrowers": 200, "days": 30.0, "complaints.scale": 20.0}
    sc = load_scenario(BASELINE, over)
    df = rp.run_replications(sc, "auto", precision=0.2, max_reps=60, workers=1, seed=4)
    n = df["replication"].nunique()
    assert n % rp.AUTO_BATCH == 0 and rp.AUTO_START < n < 60  # needed more than one step
    assert rp.unmet_precision(df, [sc], 0.2) == []
    earlier = df[df["replication"] < n - rp.AUTO_BATCH]
    assert rp.unmet_precision(earlier, [sc], 0.2) != []


def test_auto_warns_at_the_cap() -> None:
    sc = load_scenario(BASELINE, {"population.borrowers": 200, "days": 30.0})
    with pytest.warns(RuntimeWarning, match="max_reps: stopped at 10 replications"):
        df = rp.run_replications(sc, "auto", precision=0.001, max_reps=10, workers=1)
    assert df["replication"].nunique() == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reps": 0}, "^reps: "),
        ({"reps": "many"}, "^reps: "),
        ({"reps": "auto", "precision": 2.0}, "^precision: "),
        ({"reps": "auto", "max_reps": 1}, "^max_reps: "),
        ({"workers": 0}, "^workers: "),
        ({"best_on": "happiness"}, "^best_on: unknown metric 'happiness'"),
        (
            {"best_on": "agents.utilisation"},
            "^best_on: agents.utilisation has no natural direction",
        ),
        ({"best_on": "money.cost_total", "direction": "up"}, "^direction: "),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    progress = []
    with pytest.raises(ValueError, match=message):
        rp.compare(
            [BASELINE, DAY14], overrides=SMALL, progress=lambda d, t: progress.append(d), **kwargs
        )
    assert progress == []  # nothing was simulated


def test_compare_needs_two_distinct_scenarios() -> None:
    with pytest.raises(ValueError, match="^scenarios: compare needs at least two"):
        rp.compare([BASELINE], overrides=SMALL)
    with pytest.raises(ValueError, match="^scenarios: names must differ; repeated: baseline"):
        rp.compare([BASELINE, BASELINE], overrides=SMALL)


def test_all_policies_share_one_root_seed() -> None:
    """A challenger's own seed key is replaced by the champion's (or by ``seed``)."""
    other = load_scenario(DAY14, {**SMALL, "seed": 99})
    cmp = rp.compare([BASELINE, other], 2, overrides=SMALL, workers=1)
    assert cmp.seed == load_scenario(BASELINE).seed
    assert [s.seed for s in cmp.scenarios] == [cmp.seed, cmp.seed]
    given = rp.compare([BASELINE, other], 2, overrides=SMALL, workers=1, seed=11)
    assert [s.seed for s in given.scenarios] == [11, 11]
    with pytest.raises(ValueError, match="^seed: "):
        rp.compare([BASELINE, other], 2, overrides=SMALL, seed=-1)


def test_progress_counts_replications() -> None:
    seen: list[tuple[int, int]] = []
    rp.run_replications(
        BASELINE, 2, overrides=SMALL, workers=1, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 2), (2, 2)]


# --------------------------------------------------------------------------- comparison tables


def test_comparison_table(small_comparison: rp.Comparison) -> None:
    t = small_comparison.table
    assert len(t) == 3 * len(metrics.metrics())
    assert list(t["metric"].iloc[:3]) == ["funnel.reminder"] * 3
    assert list(t["scenario"].iloc[:3]) == ["baseline", "day14", "regulated"]
    champ = t[t["role"] == "champion"]
    assert (champ["scenario"] == "baseline").all() and champ["significant"].isna().all()
    assert champ["diff"].isna().all()
    ch = t[t["role"] == "challenger"].set_index(["metric", "scenario"])
    est = t.set_index(["metric", "scenario"])["estimate"]
    for metric in ("funnel.emergency_contact", "money.net_recovery", "money.recovery_rate"):
        diff = ch.loc[(metric, "day14"), "diff"]
        assert diff == pytest.approx(est[(metric, "day14")] - est[(metric, "baseline")])
    ec = ch.loc[("funnel.emergency_contact", "day14")]
    assert ec["diff"] > 0 and bool(ec["significant"])  # day 14 contacts far more families
    assert ec["diff_low"] == pytest.approx(ec["diff"] - ec["diff_half_width"])


def test_comparison_selection_and_report(small_comparison: rp.Comparison) -> None:
    sel = small_comparison.selection
    assert sel is not None and sel.metric == "money.net_recovery" and sel.direction == "max"
    assert set(sel.candidates) <= {"baseline", "day14", "regulated"} and sel.candidates
    text = small_comparison.format()
    assert "3 policies x 4 replications, root seed 5, champion baseline" in text
    assert "Best on money.net_recovery (higher is better)" in text
    ec_line = next(line for line in text.splitlines() if line.startswith("funnel.emergency"))
    day14_line = text.splitlines()[text.splitlines().index(ec_line) + 1]
    assert "day14" in day14_line and " pp " in day14_line and "*" in day14_line
    assert "recovery_by_month.5" not in text  # not defined within 40 days: left out
    assert max(len(line) for line in text.splitlines()) <= 120  # with units
    # the short form leads with the figures a decision needs, the rest one flag away
    short = small_comparison.format(full=False)
    order = ["Net recovery, recovered - cost", "Recovery rate, recovered / owed",
             "30-day collection rate", "Collection cost", "Complaints per 1,000 borrowers",
             "Reached emergency contact"]  # fmt: skip
    at = [short.index(label) for label in order]
    assert at == sorted(at)
    assert "Recovery rate from DPD 30" not in short
    assert "more metrics: add --full" in short
    assert " yuan" in short and " /1,000" in short


def test_select_best_on_another_metric(small_comparison: rp.Comparison) -> None:
    sel = rp.select_best(small_comparison.replications, "funnel.emergency_contact")
    assert sel.direction == "min" and sel.best == "regulated"


def test_write_and_read_results(small_comparison: rp.Comparison, tmp_path: Path) -> None:
    c = small_comparison
    doc = rp.manifest(
        "compare", c.scenarios, [BASELINE, DAY14, REGULATED], c.replications,
        reps=4, precision=0.05, max_reps=200, workers=1, overrides=SMALL, selection=c.selection,
    )  # fmt: skip
    out = rp.write_results(tmp_path / "cmp", c.replications, {"comparison": c.table}, doc)
    got = rp.read_results(out)
    pd.testing.assert_frame_equal(got["replications"], c.replications)
    pd.testing.assert_frame_equal(got["comparison"], c.table)
    m = got["manifest"]
    assert m["root_seed"] == 5 and m["replications"] == 4
    assert m["spawn_keys"] == [[0], [1], [2], [3]]
    assert [s["name"] for s in m["scenarios"]] == ["baseline", "day14", "regulated"]
    assert m["scenarios"][1]["scenario"]["ladder"]["emergency_contact"]["trigger"] == "day"
    assert m["package_version"] == sim.__version__
    assert m["selection"]["procedure"].startswith("Hsu's multiple comparisons with the best")
    assert (out / "comparison.csv").is_file()


def test_lazy_exports() -> None:
    assert sim.run_replications is rp.run_replications
    assert sim.compare is rp.compare
    with pytest.raises(AttributeError):
        _ = sim.nothing_here  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(sim.__version__, str)
