"""Statistics across replications: confidence intervals, paired differences, selecting the
best policy and the sequential precision rule.

Pure functions of per-replication numbers; nothing here simulates. See
``docs/simulation_practice.md`` for the reasoning.

Every estimate is a ratio of means, ``R = mean(num) / mean(den)`` over replications (a plain
metric has ``den = 1``, so ``R`` is its mean). Its confidence interval comes from the delta
method: ``R`` is linearised into one value per replication,

    z_r = (num_r - R * den_r) / mean(den),

and the interval is the t-interval on the ``z_r``: ``R +- t(n - 1) * sd(z) / sqrt(n)``. With
``den = 1`` this is exactly the ordinary t-interval; for a pooled ratio (recovered / owed,
borrowers reaching a stage / borrowers) it accounts for the covariance of numerator and
denominator. Differences and relative differences between policies run on paired replications
(common random numbers) are linearised the same way, so a paired difference of plain metrics
is exactly the paired t-interval.

Rows with a NaN numerator or denominator are dropped (a replication where a metric is not
defined, e.g. a median of nothing); for paired statistics a pair is dropped if either side is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
"""Default confidence level of every interval."""

ArrayLike = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a symmetric confidence interval, in the metric's own unit.

    ``se`` is the standard error, ``half_width`` = t quantile x ``se``; both are NaN with
    fewer than two replications. ``n`` is the number of replications (or pairs) used.
    """

    value: float
    se: float
    half_width: float
    n: int
    level: float = LEVEL

    @property
    def low(self) -> float:
        return self.value - self.half_width

    @property
    def high(self) -> float:
        return self.value + self.half_width

    @property
    def significant(self) -> bool:
        """The interval excludes 0 (for a difference: the policies differ at this level)."""
        return bool(self.low > 0 or self.high < 0)

    @property
    def p_value(self) -> float:
        """Two-sided p-value of the t-test of ``value = 0`` (NaN with fewer than 2 rows)."""
        if self.n < 2 or math.isnan(self.value):
            return math.nan
        if self.se == 0:
            return 0.0 if self.value != 0 else 1.0
        from scipy import stats  # here: a single run needs no scipy (1 s less to start)

        return float(2.0 * stats.t.sf(abs(self.value) / self.se, self.n - 1))


def t_quantile(level: float, df: int, sides: int = 2) -> float:
    """Student-t quantile for a ``sides``-sided interval at confidence ``level``."""
    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level}")
    alpha = 1.0 - level
    from scipy import stats  # here: a single run needs no scipy (1 s less to start)

    return float(stats.t.ppf(1.0 - alpha / sides, df))


def _linear(value: float, z: np.ndarray, level: float) -> Estimate:
    """The t-interval ``value +- t * sd(z) / sqrt(n)`` on linearised values ``z``."""
    n = int(z.size)
    if n < 2 or math.isnan(value):
        return Estimate(value, math.nan, math.nan, n, level)
    se = float(np.std(z, ddof=1)) / math.sqrt(n)
    return Estimate(value, se, t_quantile(level, n - 1) * se, n, level)


def _clean(*columns: ArrayLike) -> list[np.ndarray]:
    """The columns as float arrays, keeping only rows where none is NaN."""
    arrays = [np.asarray(c, dtype=float) for c in columns]
    if len({a.shape for a in arrays}) != 1:
        raise ValueError("numerators and denominators must have the same length")
    keep = ~np.isnan(np.vstack(arrays)).any(axis=0)
    return [a[keep] for a in arrays]


def ratio(num: float, den: float) -> float | None:
    """``num / den``, or None when the denominator is zero (a figure with no denominator)."""
    return float(num) / float(den) if den else None


def _ratio_terms(num: np.ndarray, den: np.ndarray) -> tuple[float, np.ndarray]:
    """Pooled ratio ``sum(num) / sum(den)`` and its linearised values (NaN if sum(den) = 0)."""
    mean_den = float(den.mean()) if den.size else 0.0
    if mean_den == 0:
        return math.nan, np.full(num.shape, math.nan)
    r = float(num.mean()) / mean_den
    return r, (num - r * den) / mean_den


def mean_interval(values: ArrayLike, level: float = LEVEL) -> Estimate:
    """Mean of per-replication values with its t-interval."""
    (x,) = _clean(values)
    return ratio_interval(x, np.ones_like(x), level)


def ratio_interval(num: ArrayLike, den: ArrayLike, level: float = LEVEL) -> Estimate:
    """Pooled ratio ``sum(num) / sum(den)`` over replications with its delta-method interval."""
    x, y = _clean(num, den)
    r, z = _ratio_terms(x, y)
    return _linear(r, z, level)


def paired_difference(
    num_a: ArrayLike,
    den_a: ArrayLike,
    num_b: ArrayLike,
    den_b: ArrayLike,
    level: float = LEVEL,
    relative: bool = False,
) -> Estimate:
    """``R_b - R_a`` (or ``R_b / R_a - 1`` with ``relative``) over paired replications.

    Row r of a and b must come from the same replication (same random numbers). The interval
    is the t-interval on the paired linearised values, i.e. the delta method on the paired
    replications; for plain metrics (``den = 1``) and ``relative=False`` it is exactly the
    paired t-interval.
    """
    xa, ya, xb, yb = _clean(num_a, den_a, num_b, den_b)
    ra, za = _ratio_terms(xa, ya)
    rb, zb = _ratio_terms(xb, yb)
    if not relative:
        return _linear(rb - ra, zb - za, level)
    if ra == 0 or math.isnan(ra):
        return Estimate(math.nan, math.nan, math.nan, int(xa.size), level)
    q = rb / ra
    return _linear(q - 1.0, (zb - q * za) / ra, level)


# --------------------------------------------------------------------------- selecting the best

PROCEDURE = (
    "Hsu's multiple comparisons with the best (MCB), Bonferroni version for common random "
    "numbers (Nelson & Matejcik 1995)"
)


@dataclass(frozen=True)
class Selection:
    """Result of :func:`select_best`.

    ``intervals`` maps each policy to its simultaneous MCB interval for ``mu_i - best of the
    others`` (oriented so that positive is better). ``candidates`` are the policies no other
    policy beats (``min_j (d_ij + W_ij) >= 0``): a subset that contains the best with
    probability >= ``level``. ``best`` is set when it holds a single policy.
    """

    metric: str
    direction: str
    level: float
    n: int
    estimates: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    candidates: list[str]
    best: str | None

    def statement(self) -> str:
        """One sentence: which policy is best on the metric, with what confidence."""
        how = "higher" if self.direction == "max" else "lower"
        conf = f"{100 * self.level:g}%"
        if self.best is not None:
            return (
                f"Best on {self.metric} ({how} is better): {self.best}, with {conf} "
                f"simultaneous confidence over {self.n} paired replications ({PROCEDURE})."
            )
        names = ", ".join(self.candidates)
        return (
            f"Best on {self.metric} ({how} is better): not separated; {{{names}}} contains the "
            f"best with {conf} simultaneous confidence over {self.n} paired replications "
            f"({PROCEDURE}). More replications may separate them."
        )


def select_best(
    data: Mapping[str, tuple[ArrayLike, ArrayLike]],
    metric: str,
    direction: str = "max",
    level: float = LEVEL,
) -> Selection:
    """Hsu's MCB with Bonferroni-adjusted paired t-intervals (valid under CRN).

    ``data`` maps each policy to its per-replication ``(num, den)``, paired by row. For each
    pair, ``W_ij = t(1 - alpha / (k - 1), n - 1) * S_ij / sqrt(n)`` where ``S_ij`` is the
    standard deviation of the paired linearised differences. With ``d_ij = R_i - R_j``
    (negated for ``direction="min"``) the intervals

        [min(0, min_j (d_ij - W_ij)), max(0, min_j (d_ij + W_ij))]

    hold simultaneously for ``mu_i - max_{j != i} mu_j`` with probability >= ``level``
    (Nelson & Matejcik 1995; Goldsman & Nelson 1998, "Comparing systems via simulation").
    A policy whose lower bound is 0 is the best with that confidence.
    """
    if direction not in ("max", "min"):
        raise ValueError(f"direction: must be 'max' or 'min', got {direction!r}")
    names = list(data)
    k = len(names)
    if k < 2:
        raise ValueError(f"data: need at least two policies to select the best, got {k}")
    columns = _clean(*(c for name in names for c in data[name]))
    n = int(columns[0].size)
    if n < 2:
        raise ValueError(f"{metric}: need at least two paired replications, got {n}")
    sign = 1.0 if direction == "max" else -1.0
    terms = [_ratio_terms(columns[2 * i], columns[2 * i + 1]) for i in range(k)]
    r = np.array([sign * t[0] for t in terms])
    if np.isnan(r).any():
        raise ValueError(f"{metric}: not defined for every policy")
    z = [sign * t[1] for t in terms]
    t_crit = t_quantile(1.0 - (1.0 - level) / (k - 1), n - 1, sides=1)
    intervals: dict[str, tuple[float, float]] = {}
    candidates: list[str] = []
    for i in range(k):
        others = [j for j in range(k) if j != i]
        d = np.array([r[i] - r[j] for j in others])
        w = np.array([t_crit * np.std(z[i] - z[j], ddof=1) / math.sqrt(n) for j in others])
        lower, upper = float((d - w).min()), float((d + w).min())
        intervals[names[i]] = (min(0.0, lower), max(0.0, upper))
        if upper >= 0:  # not beaten by any other policy: may be the best
            candidates.append(names[i])
    return Selection(
        metric=metric,
        direction=direction,
        level=level,
        n=n,
        estimates={m: float(sign * r[i]) for i, m in enumerate(names)},
        intervals=intervals,
        candidates=candidates,
        best=candidates[0] if len(candidates) == 1 else None,
    )


# --------------------------------------------------------------------------- sequential rule


def precise_enough(value: float, half_width: float, precision: float, floor: float) -> bool:
    """The sequential stopping rule for one metric's estimate and CI half-width.

    True when ``half_width`` is within ``precision`` x |value| or within the absolute
    ``floor`` (for metrics near zero, where a relative target is unreachable). A metric that
    is not defined at all (NaN value) cannot be improved by more replications and counts as
    met; one with an undefined half-width (fewer than two replications) does not.
    """
    if math.isnan(value):
        return True
    if math.isnan(half_width):
        return False
    return half_width <= max(precision * abs(value), floor)
