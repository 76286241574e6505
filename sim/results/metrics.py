"""The metric registry: every headline figure, declared once.

A :class:`Metric` names a figure (``money.collection_rate_30d``), says how to read it from a
run's summary as a numerator and a denominator, and carries its label, unit and better
direction. The one list serves the summary's ``headline`` and the text report, replications
and compare (``--best-on``), sweep files and chart labels: a new metric is one entry here
(the call centre's are declared beside their summary, in :mod:`sim.results.call_centre`).

Ratios (shares, rates, per 1,000, utilisation) carry a numerator and a denominator per
replication and are pooled across replications (a ratio estimator); plain figures have
denominator 1. Units: ``share`` (a fraction), ``days``, ``yuan``, ``count`` (per
replication), ``per_1000`` (borrowers), ``seconds``.

Nothing here imports the simulation core: the stages of the ladder, which name the funnel
metrics, are read from the rungs' declarations (or from a summary) when first needed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Summary = Mapping[str, Any]
"""A run's summary (:func:`sim.results.summary.summarize`)."""
Compute = Callable[[Summary, Any], tuple[float, float]]
"""``compute(summary, records)``: a metric's (numerator, denominator) for one run. Most read
the summary; one may read the run's tables (``records``: :class:`~sim.results.records.Records`,
e.g. an outcome column a rung adds), which exist wherever a run is summarised, replicated or
swept (``records`` is None only when just a saved summary is at hand)."""

RECOVERY_MONTHS = 6
"""``recovery_by_month.0`` to ``.5``."""
CURE_DAYS = (7, 14, 30, 60, 90)
"""Points of the cure curve: ``cure_rate.d7`` ... ``cure_rate.d90``."""
ROLL_MONTHS = 5
"""Roll rates from the first five 30-day buckets (DPD 0-29 -> 30-59 to 120-149 -> 150-179)."""
UNITS = ("share", "days", "yuan", "count", "per_1000", "seconds")
DECISION = (
    "money.recovery_rate",
    "money.net_recovery",
    "money.collection_rate_30d",
    "money.cost_total",
    "harm.complaints_per_1000",
    "funnel.emergency_contact",
)
"""What a decision needs first: printouts lead with these (the rest is one flag away)."""


@dataclass(frozen=True)
class Metric:
    """A headline figure: ``compute(summary, records)`` gives (numerator, denominator)."""

    name: str
    label: str
    unit: str
    better: str | None  # "max", "min", or None when neither is better
    compute: Compute
    doc: str = ""

    def value(self, summary: Summary, records: Any = None) -> float:
        """numerator / denominator (NaN when undefined)."""
        num, den = self.compute(summary, records)
        return num / den if den else math.nan


def _num(x: Any) -> float:
    """A summary figure as float; None (no denominator) becomes NaN."""
    return math.nan if x is None else float(x)


def plain(*path: str) -> Compute:
    """A plain figure of the summary at ``path`` (denominator 1)."""

    def compute(s: Summary, records: Any = None) -> tuple[float, float]:
        node: Any = s
        for key in path:
            node = node[key]
        return _num(node), 1.0

    return compute


def _bucket(month: int) -> str:
    return f"{30 * month}-{30 * month + 29}"


# --------------------------------------------------------------------------- the metrics


def _funnel(stage: str) -> Metric:
    def compute(s: Summary, records: Any = None) -> tuple[float, float]:
        return float(s["funnel_counts"].get(stage, 0)), float(s["borrowers"])

    better = "min" if stage in ("emergency_contact", "written_off") else None
    return Metric(
        f"funnel.{stage}",
        f"Reached {stage.replace('_', ' ')}",
        "share",
        better,
        compute,
        f"share of borrowers reaching the {stage.replace('_', ' ')} stage",
    )


def _cure(days: int) -> Metric:
    def compute(s: Summary, records: Any = None) -> tuple[float, float]:
        c = s["cure_rate"]
        return float(c[f"cured_d{days}"]), float(c[f"observed_d{days}"])

    return Metric(
        f"cure_rate.d{days}",
        f"Cured within {days} days",
        "share",
        "max",
        compute,
        f"share of accounts followed {days} days that were cured within {days} days of entry",
    )


def _recovery(month: int) -> Metric:
    def compute(s: Summary, records: Any = None) -> tuple[float, float]:
        for r in s["recovery_by_month_past_due"]:
            if r["month"] == month:
                return float(r["recovered"]), float(r["balance_at_entry"])
        return 0.0, 0.0

    return Metric(
        f"recovery_by_month.{month}",
        f"Recovery rate from DPD {30 * month}",
        "share",
        "max",
        compute,
        f"share of the balance owed at DPD {30 * month} repaid afterwards",
    )


def _roll(month: int, by_balance: bool) -> Metric:
    def compute(s: Summary, records: Any = None) -> tuple[float, float]:
        for r in s["roll_rates"]:
            if r["from_month"] == month:
                if by_balance:
                    return float(r["next_balance"]), float(r["balance"])
                return float(r["rolled"]), float(r["accounts"])
        return 0.0, 0.0

    frm, to = _bucket(month), _bucket(month + 1)
    kind = "balance" if by_balance else "accounts"
    return Metric(
        f"roll_rate{'_balance' if by_balance else ''}.{frm.replace('-', '_')}",
        f"Roll rate DPD {frm} to {to} ({kind})",
        "share",
        "min",
        compute,
        (
            f"balance owed at DPD {30 * month + 30} by accounts followed through DPD {frm}, "
            f"over their balance at DPD {30 * month}"
            if by_balance
            else f"share of accounts followed through DPD {frm} still open at DPD {30 * month + 30}"
        ),
    )


def ratio_of(group: str, num: str, den: str) -> Compute:
    """A ratio of two figures of the summary's ``group`` (pooled across replications)."""

    def compute(s: Summary, records: Any = None) -> tuple[float, float]:
        return _num(s[group][num]), _num(s[group][den])

    return compute


def _complaints(s: Summary, records: Any = None) -> tuple[float, float]:
    return 1000.0 * float(s["harm"]["complaints"]), float(s["borrowers"])


def _fixed_before_funnel() -> list[Metric]:
    # The call centre's figures are declared with their summary (it imports this module).
    from sim.results import call_centre, conversations

    return [
        Metric(
            "emergency_contact.median_day",
            "Median day the emergency-contact stage is reached",
            "days",
            None,
            plain("emergency_contact", "median_day"),
            "median DPD at which borrowers reaching the stage reached it",
        ),
        *(_cure(d) for d in CURE_DAYS),
        *(_recovery(m) for m in range(RECOVERY_MONTHS)),
        Metric(
            "money.collection_rate_30d",
            "30-day collection rate",
            "share",
            "max",
            ratio_of("money", "collected_30d", "principal_followed_30d"),
            "share of the principal overdue at DPD 0 repaid within 30 days (accounts followed "
            "30 days); the figure lenders publish",
        ),
        *(_roll(m, False) for m in range(ROLL_MONTHS)),
        *(_roll(m, True) for m in range(ROLL_MONTHS)),
        Metric(
            "money.recovery_rate",
            "Recovery rate, recovered / owed",
            "share",
            "max",
            ratio_of("money", "recovered", "amount_due"),
            "yuan recovered over yuan owed (principal and fees)",
        ),
        Metric("money.recovered", "Amount recovered", "yuan", "max", plain("money", "recovered")),
        Metric("money.cost_total", "Collection cost", "yuan", "min", plain("money", "cost_total")),
        Metric(
            "money.net_recovery",
            "Net recovery, recovered - cost",
            "yuan",
            "max",
            plain("money", "net_recovery"),
        ),
        Metric(
            "money.cost_per_yuan_recovered",
            "Cost / amount recovered",
            "share",
            "min",
            ratio_of("money", "cost_total", "recovered"),
            "collection cost over the amount recovered",
        ),
        Metric(
            "contact.right_party_contact_rate",
            "Right-party contacts per call attempt",
            "share",
            "max",
            ratio_of("contact", "right_party_contacts", "calls_to_borrower"),
            "calls answered by the borrower over call attempts to the borrower (robot, agent, "
            "agency): the right-party-contact rate per dial",
        ),
        Metric(
            "harm.complaints_per_1000",
            "Complaints per 1,000 borrowers",
            "per_1000",
            "min",
            _complaints,
        ),
        Metric(
            "harm.third_party_contacts",
            "Third-party contacts",
            "count",
            "min",
            plain("harm", "third_party_contacts"),
            "calls to emergency contacts that were answered",
        ),
        Metric(
            "harm.third_party_disclosures",
            "Third-party disclosures",
            "count",
            "min",
            plain("harm", "third_party_disclosures"),
            "answered calls to contacts in which the debt's details were disclosed",
        ),
        *call_centre.METRICS,
        *conversations.METRICS,
    ]


# --------------------------------------------------------------------------- the registry


def ladder_stages() -> tuple[str, ...]:
    """The stages of the ladder as it is now (registered rungs included), in rank order."""
    from sim.engine.rungs.layout import layout

    return layout().stages


def metrics(stages: Sequence[str] | None = None) -> tuple[Metric, ...]:
    """Every headline metric, in report order: the funnel (one per stage of ``stages``,
    default the ladder's), then the rest."""
    return _metrics(tuple(ladder_stages() if stages is None else stages))


@functools.lru_cache(maxsize=16)
def _metrics(stages: tuple[str, ...]) -> tuple[Metric, ...]:
    """The metrics for one list of stages, built once (charts and checks ask often)."""
    return (*(_funnel(s) for s in stages), *_fixed_before_funnel())


def for_summary(summary: Summary) -> tuple[Metric, ...]:
    """The metrics of a run: the funnel over the stages its summary has."""
    return metrics(list(summary["funnel_counts"]))


def by_name(stages: Sequence[str] | None = None) -> dict[str, Metric]:
    return {m.name: m for m in metrics(stages)}


def get(name: str) -> Metric | None:
    """The metric called ``name`` (None if there is none)."""
    return by_name().get(name)


def names() -> list[str]:
    return [m.name for m in metrics()]


def headline(summary: Summary, records: Any = None) -> dict[str, float | None]:
    """Every headline figure of a run, by name (None where undefined)."""
    out: dict[str, float | None] = {}
    for m in for_summary(summary):
        v = m.value(summary, records)
        out[m.name] = None if math.isnan(v) else v
    return out


def rows(summary: Summary, records: Any = None) -> list[tuple[str, float, float, float]]:
    """(metric, value, numerator, denominator) of every headline metric of a run."""
    out = []
    for m in for_summary(summary):
        num, den = m.compute(summary, records)
        out.append((m.name, num / den if den else math.nan, num, den))
    return out


def label(name: str) -> str:
    """A readable name for metric ``name`` (the name itself if unknown)."""
    m = get(name)
    if m is not None:
        return m.label
    group, _, key = name.partition(".")
    if group == "funnel":  # a stage of a ladder that is not this one
        return f"Reached {key.replace('_', ' ')}"
    return name


def unit(name: str) -> str:
    """The unit of metric ``name`` ("" if unknown)."""
    m = get(name)
    if m is not None:
        return m.unit
    return "share" if name.startswith("funnel.") else ""


def better(name: str) -> str | None:
    m = get(name)
    return m.better if m is not None else None


def check(metric: str, direction: str | None = None, name: str = "best_on") -> str:
    """The direction ("max" or "min") in which ``metric`` is better; raises for an unknown
    metric, a bad direction, or a metric with no natural direction and none given."""
    known = by_name()
    if metric not in known:
        choices = ", ".join(m.name for m in known.values() if m.better)
        raise ValueError(f"{name}: unknown metric {metric!r}; choose from {choices}")
    if direction is None:
        direction = known[metric].better
        if direction is None:
            raise ValueError(
                f"{name}: {metric} has no natural direction; give the direction, max or min"
            )
    if direction not in ("max", "min"):
        raise ValueError(f"direction: must be 'max' or 'min', got {direction!r}")
    return direction


def __getattr__(name: str) -> Any:
    """``METRICS``: every headline metric of the ladder as it is now (:func:`metrics`)."""
    if name == "METRICS":
        return metrics()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
