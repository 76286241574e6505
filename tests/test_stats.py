"""sim.results.stats: intervals against known distributions, the delta method against the
bootstrap and its own gradient formula, paired differences on hand data, and selecting the best.

Coverage checks run T independent trials with a seeded Generator and accept the observed
coverage within 4 binomial standard errors of the nominal level (a false alarm about 1 run in
15,000, and the seeds are fixed, so a pass is reproducible); an interval with the wrong width
(e.g. z instead of t, or the ratio's covariance left out) misses by many more.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from sim.results import stats

T = 2000


def _coverage_ok(hits: int, trials: int, level: float = 0.95, k: float = 4.0) -> None:
    se = math.sqrt(level * (1 - level) / trials)
    cover = hits / trials
    assert abs(cover - level) <= k * se, f"coverage {cover:.4f}, expected {level} +- {k * se:.4f}"


# --------------------------------------------------------------------------- intervals


def test_mean_interval_is_the_t_interval() -> None:
    x = np.array([3.1, 2.7, 4.0, 3.3, 2.9, 3.8])
    est = stats.mean_interval(x)
    low, high = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert est.value == pytest.approx(x.mean())
    assert (est.low, est.high) == (pytest.approx(low), pytest.approx(high))
    assert est.n == 6


def test_t_interval_covers_the_normal_mean_95_percent() -> None:
    rng = np.random.default_rng(11)
    data = rng.normal(5.0, 2.0, size=(T, 8))  # n = 8: z instead of t would cover ~91%
    hits = sum(stats.mean_interval(row).low <= 5.0 <= stats.mean_interval(row).high for row in data)
    _coverage_ok(hits, T)


def test_ratio_interval_covers_the_pooled_ratio_95_percent() -> None:
    """Replications of a cohort of random size with a random cure probability: the pooled
    ratio estimates E[cured] / E[borrowers] = E[p] = 0.3."""
    rng = np.random.default_rng(12)
    hits = 0
    for _ in range(T):
        den = rng.integers(500, 1500, size=30).astype(float)
        p = rng.beta(3.0, 7.0, size=30)
        num = rng.binomial(den.astype(int), p).astype(float)
        est = stats.ratio_interval(num, den)
        hits += est.low <= 0.3 <= est.high
    _coverage_ok(hits, T)


def test_ratio_interval_agrees_with_the_bootstrap() -> None:
    rng = np.random.default_rng(13)
    den = rng.gamma(20.0, 50.0, size=40)
    num = 0.4 * den + rng.normal(0.0, 40.0, size=40)
    est = stats.ratio_interval(num, den)
    idx = rng.integers(0, 40, size=(4000, 40))
    boot = num[idx].sum(axis=1) / den[idx].sum(axis=1)
    assert est.value == pytest.approx(num.sum() / den.sum())
    assert est.se == pytest.approx(boot.std(ddof=1), rel=0.1)
    low, high = np.percentile(boot, [2.5, 97.5])
    assert est.low == pytest.approx(low, abs=0.25 * est.half_width)
    assert est.high == pytest.approx(high, abs=0.25 * est.half_width)


def test_ratio_interval_is_the_delta_method_gradient_formula() -> None:
    rng = np.random.default_rng(14)
    num, den = rng.gamma(5.0, 2.0, size=12), rng.gamma(9.0, 3.0, size=12)
    r = num.mean() / den.mean()
    grad = np.array([1 / den.mean(), -r / den.mean()])
    var = grad @ np.cov(np.vstack([num, den])) @ grad / 12
    est = stats.ratio_interval(num, den)
    assert est.se == pytest.approx(math.sqrt(var))
    assert est.half_width == pytest.approx(sps.t.ppf(0.975, 11) * math.sqrt(var))


def test_ratio_with_unit_denominator_is_the_mean() -> None:
    x = np.array([1.0, 4.0, 2.0, 8.0])
    a, b = stats.ratio_interval(x, np.ones(4)), stats.mean_interval(x)
    assert (a.value, a.half_width) == (pytest.approx(b.value), pytest.approx(b.half_width))


def test_nan_rows_are_dropped_and_degenerate_cases_are_nan() -> None:
    est = stats.ratio_interval([1.0, np.nan, 3.0, 2.0], [2.0, 2.0, 2.0, np.nan])
    assert est.n == 2 and est.value == pytest.approx(1.0)
    one = stats.mean_interval([5.0])
    assert one.value == 5.0 and math.isnan(one.half_width) and math.isnan(one.p_value)
    zero_den = stats.ratio_interval([0.0, 0.0], [0.0, 0.0])
    assert math.isnan(zero_den.value)
    const = stats.mean_interval([2.0, 2.0, 2.0])
    assert const.half_width == 0.0 and const.significant


# --------------------------------------------------------------------------- paired


def test_paired_difference_on_hand_data() -> None:
    a = [1.0, 2.0, 3.0, 4.0]
    b = [2.0, 4.0, 5.0, 7.0]  # differences 1, 2, 2, 3: mean 2, sd sqrt(2/3)
    ones = [1.0] * 4
    d = stats.paired_difference(a, ones, b, ones)
    assert d.value == pytest.approx(2.0)
    assert d.se == pytest.approx(math.sqrt(2 / 3) / 2)
    assert d.half_width == pytest.approx(3.182446 * math.sqrt(2 / 3) / 2, rel=1e-6)
    assert d.significant
    assert d.p_value == pytest.approx(sps.ttest_rel(b, a).pvalue)
    rel = stats.paired_difference(a, ones, b, ones, relative=True)
    assert rel.value == pytest.approx(18 / 10 - 1)


def test_pairing_removes_the_common_noise() -> None:
    """A shared component cancels in the paired interval and not in an unpaired one."""
    rng = np.random.default_rng(15)
    common = rng.normal(0.0, 10.0, size=20)
    a = 100 + common + rng.normal(0.0, 0.5, size=20)
    b = 101 + common + rng.normal(0.0, 0.5, size=20)
    ones = np.ones(20)
    paired = stats.paired_difference(a, ones, b, ones)
    unpaired = math.sqrt(a.var(ddof=1) / 20 + b.var(ddof=1) / 20)
    assert paired.significant
    assert paired.se < unpaired / 10


def test_paired_ratio_difference_is_the_delta_method_gradient_formula() -> None:
    rng = np.random.default_rng(16)
    ya, yb = rng.gamma(9.0, 3.0, size=15), rng.gamma(9.0, 3.0, size=15)
    xa, xb = 0.3 * ya + rng.normal(0, 1, 15), 0.35 * yb + rng.normal(0, 1, 15)
    m = np.vstack([xa, ya, xb, yb])
    mu = m.mean(axis=1)
    ra, rb = mu[0] / mu[1], mu[2] / mu[3]
    cov = np.cov(m) / 15
    g_diff = np.array([-1 / mu[1], ra / mu[1], 1 / mu[3], -rb / mu[3]])
    d = stats.paired_difference(xa, ya, xb, yb)
    assert d.value == pytest.approx(rb - ra)
    assert d.se == pytest.approx(math.sqrt(g_diff @ cov @ g_diff))
    q = rb / ra  # relative: d(rb / ra) = d(rb) / ra - q d(ra) / ra
    g_rel = np.array([-q / mu[1] / ra, q * ra / mu[1] / ra, 1 / mu[3] / ra, -rb / mu[3] / ra])
    rel = stats.paired_difference(xa, ya, xb, yb, relative=True)
    assert rel.value == pytest.approx(q - 1)
    assert rel.se == pytest.approx(math.sqrt(g_rel @ cov @ g_rel))


def test_paired_difference_covers_95_percent() -> None:
    """Correlated pairs (as under common random numbers) of ratio metrics, true difference
    E[p_b] - E[p_a] = 0.35 - 0.30."""
    rng = np.random.default_rng(17)
    hits = 0
    for _ in range(T):
        den = rng.integers(500, 1500, size=30).astype(float)
        u = rng.random(30)
        pa, pb = 0.2 + 0.2 * u, 0.25 + 0.2 * u  # shared randomness
        na = rng.binomial(den.astype(int), pa).astype(float)
        nb = rng.binomial(den.astype(int), pb).astype(float)
        d = stats.paired_difference(na, den, nb, den)
        hits += d.low <= 0.05 <= d.high
    _coverage_ok(hits, T)


# --------------------------------------------------------------------------- selecting the best


def _systems(rng: np.random.Generator, means: dict[str, float], n: int, sd: float = 0.3) -> dict:
    """Paired replications: a large common component (as under CRN) plus each system's own."""
    common = rng.normal(0.0, 5.0, size=n)
    ones = np.ones(n)
    return {k: (m + common + rng.normal(0.0, sd, size=n), ones) for k, m in means.items()}


def test_select_best_picks_the_known_best() -> None:
    rng = np.random.default_rng(18)
    data = _systems(rng, {"a": 10.0, "b": 10.5, "c": 12.0}, 20)
    sel = stats.select_best(data, "x", "max")
    assert sel.best == "c" and sel.candidates == ["c"]
    assert sel.intervals["c"][0] == 0.0 < sel.intervals["c"][1]
    assert sel.intervals["a"][1] == 0.0 and sel.intervals["b"][1] == 0.0
    low = stats.select_best(data, "x", "min")
    assert low.best == "a"
    assert "Best on x (lower is better): a" in low.statement()


def test_select_best_does_not_separate_equal_systems() -> None:
    """a and b have equal sample means by construction; c is clearly worse."""
    rng = np.random.default_rng(19)
    data = _systems(rng, {"a": 10.0, "c": 8.0}, 20)
    noise = rng.normal(0.0, 0.3, size=20)
    data["b"] = (data["a"][0] + noise - noise.mean(), data["a"][1])
    data = {k: data[k] for k in ("a", "b", "c")}
    sel = stats.select_best(data, "x", "max")
    assert sel.best is None
    assert sel.candidates == ["a", "b"]
    assert "not separated" in sel.statement()


def test_mcb_intervals_cover_simultaneously() -> None:
    """All k intervals contain mu_i - max_{j != i} mu_j together in >= 95% of trials (the
    Bonferroni procedure is conservative: allow a shortfall of 4 SEs only)."""
    rng = np.random.default_rng(20)
    means = {"a": 10.0, "b": 10.3, "c": 10.6}
    truth = {k: m - max(v for j, v in means.items() if j != k) for k, m in means.items()}
    trials, hits = 1000, 0
    for _ in range(trials):
        sel = stats.select_best(_systems(rng, means, 10, sd=1.0), "x", "max")
        hits += all(lo <= truth[k] <= hi for k, (lo, hi) in sel.intervals.items())
    assert hits / trials >= 0.95 - 4 * math.sqrt(0.95 * 0.05 / trials)


def test_select_best_rejects_bad_input() -> None:
    one = {"a": ([1.0, 2.0], [1.0, 1.0])}
    with pytest.raises(ValueError, match="^data: "):
        stats.select_best(one, "x")
    two = {**one, "b": ([1.0, 3.0], [1.0, 1.0])}
    with pytest.raises(ValueError, match="^direction: "):
        stats.select_best(two, "x", "up")


# --------------------------------------------------------------------------- sequential rule


@pytest.mark.parametrize(
    ("value", "half_width", "met"),
    [
        (100.0, 4.0, True),  # 4% of the estimate
        (100.0, 6.0, False),
        (-100.0, 4.0, True),  # relative to |estimate|
        (0.001, 0.0015, True),  # near zero: within the absolute floor 0.002
        (0.001, 0.003, False),
        (math.nan, math.nan, True),  # not defined: more replications cannot help
        (5.0, math.nan, False),  # fewer than two replications
    ],
)
def test_precise_enough(value: float, half_width: float, met: bool) -> None:
    assert stats.precise_enough(value, half_width, 0.05, 0.002) is met
