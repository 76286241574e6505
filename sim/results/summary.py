"""Headline numbers from one finished replication.

Pure functions of a :class:`sim.results.records.Records` (and the :class:`Scenario` it
ran): nothing here simulates, prints or writes a file. Everything is vectorised over the
``outcomes``, ``monthly`` and ``daily`` tables (see :mod:`sim.results.records` for their
columns), so a population of a million borrowers is summarised in seconds.

Units: time in days (DPD = days past due, measured from a borrower's ``entered_day``), money in
yuan, shares as fractions in [0, 1]. A share or rate whose denominator is zero is ``None``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.results import metrics
from sim.results.call_centre import agents_summary
from sim.results.conversations import conversations_summary
from sim.results.records import FINAL_STATES, Records, stages
from sim.results.stats import ratio as _ratio
from sim.spec import Scenario

BUCKET_DAYS = 30
"""Width of a delinquency bucket (days); month ``m`` past due is DPD ``30m`` to ``30m + 29``."""
N_BUCKETS = 7
"""Open-account buckets in :func:`daily_table`: six 30-day buckets, then 180+."""
BUCKET_COLUMNS: tuple[str, ...] = tuple(
    f"open_dpd_{BUCKET_DAYS * k}_{BUCKET_DAYS * (k + 1) - 1}" for k in range(N_BUCKETS - 1)
) + (f"open_dpd_{BUCKET_DAYS * (N_BUCKETS - 1)}_plus",)
CURED_STATES: tuple[str, ...] = ("cured", "plan_completed")
"""Final states that count as a cure (the borrower paid everything owed)."""
CURE_WINDOWS: tuple[int, ...] = (3, 7, 30)
"""Days after entry for :func:`summarize`'s ``cure_within_days_by_segment``."""


# --------------------------------------------------------------------------- helpers


def jsonable(obj: Any) -> Any:
    """Plain JSON data: numpy scalars to Python, NaN and infinities to None, tuples to lists."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _median(values: pd.Series | np.ndarray) -> float | None:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return float(np.median(v)) if v.size else None


def _percentile(values: pd.Series | np.ndarray, q: float) -> float | None:
    """Percentile ``q`` (0-100, linear interpolation) ignoring NaN; None if nothing is left."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return float(np.percentile(v, q)) if v.size else None


def bucket_label(month: int) -> str:
    """``"30-59"`` for month 1 past due."""
    return f"{BUCKET_DAYS * month}-{BUCKET_DAYS * (month + 1) - 1}"


def horizon_days(records: Records, scenario: Scenario | None = None) -> float:
    """Simulated horizon (days since the first arrival): ``meta["horizon_days"]``, else the
    scenario's ``days``."""
    if "horizon_days" in records.meta:
        return float(records.meta["horizon_days"])
    if scenario is None:
        raise KeyError("records.meta has no 'horizon_days' and no scenario was given")
    return float(scenario.days)


# --------------------------------------------------------------------------- summary parts


def _cure_columns(out: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean cured mask, days to resolution (NaN while open) and entry day, as arrays."""
    cured = out["final_state"].isin(CURED_STATES).to_numpy()
    entered = out["entered_day"].to_numpy(dtype=float)
    ttr = out["resolved_day"].to_numpy(dtype=float) - entered
    return cured, ttr, entered


def _cure_within(
    cured: np.ndarray, ttr: np.ndarray, entered: np.ndarray, horizon: float, days: float
) -> tuple[np.ndarray, np.ndarray]:
    """(observed, cured-within) masks: observed = followed at least ``days`` before the horizon."""
    observed = entered + days <= horizon
    return observed, observed & cured & (ttr <= days)


def recovery_by_month(out: pd.DataFrame, monthly: pd.DataFrame) -> pd.DataFrame:
    """Monthly rows with ``recovered`` (yuan repaid after the month boundary) and entry day."""
    m = monthly.merge(
        out[["borrower_id", "amount_recovered", "entered_day"]], on="borrower_id", how="left"
    )
    m["recovered"] = m["amount_recovered"].astype(float) - m["paid_before"].astype(float)
    return m


def _recovery_rows(m: pd.DataFrame) -> list[dict[str, Any]]:
    if m.empty:
        return []
    g = m.assign(observed30=m["observed_days"] >= BUCKET_DAYS).groupby("month", sort=True)
    table = g.agg(
        accounts=("borrower_id", "size"),
        balance_at_entry=("balance_at_entry", "sum"),
        recovered=("recovered", "sum"),
        observed_share=("observed30", "mean"),
    )
    return [
        {
            "month": int(month),
            "dpd": bucket_label(int(month)),
            "accounts": int(row.accounts),
            "balance_at_entry": float(row.balance_at_entry),
            "recovered": float(row.recovered),
            "rate": _ratio(row.recovered, row.balance_at_entry),
            "observed_share": float(row.observed_share),
        }
        for month, row in table.iterrows()
    ]


def _roll_rates(m: pd.DataFrame, horizon: float) -> list[dict[str, Any]]:
    """Month m -> m+1 roll rates among accounts followed to the end of month m."""
    if m.empty:
        return []
    months = m["month"].astype(int)
    nxt = pd.DataFrame(
        {
            "borrower_id": m["borrower_id"],
            "month": months - 1,
            "next_balance": m["balance_at_entry"].astype(float),
        }
    )
    j = m.assign(month=months).merge(nxt, on=["borrower_id", "month"], how="left")
    j = j[j["entered_day"] + BUCKET_DAYS * (j["month"] + 1) <= horizon]
    g = j.assign(rolled=j["next_balance"].notna(), next_balance=j["next_balance"].fillna(0.0))
    table = g.groupby("month").agg(
        accounts=("borrower_id", "size"),
        rolled=("rolled", "sum"),
        balance=("balance_at_entry", "sum"),
        next_balance=("next_balance", "sum"),
    )
    rows = []
    for month in range(int(months.min()), int(months.max())):
        if month in table.index:
            t = table.loc[month]
            accounts, rolled = int(t.accounts), int(t.rolled)
            balance, next_balance = float(t.balance), float(t.next_balance)
        else:
            accounts = rolled = 0
            balance = next_balance = 0.0
        rows.append(
            {
                "from_month": month,
                "from_bucket": bucket_label(month),
                "to_bucket": bucket_label(month + 1),
                "accounts": accounts,
                "rolled": rolled,
                "rate": _ratio(rolled, accounts),
                "balance_rate": _ratio(next_balance, balance),
                "balance": balance,
                "next_balance": next_balance,
            }
        )
    return rows


def _segment_order(present: pd.Index, scenario: Scenario | None) -> list[str]:
    """Segments present in the outcomes, in the scenario's order, then any others sorted."""
    names = list(scenario.population.segments) if scenario is not None else []
    have = {str(s) for s in present}
    return [s for s in names if s in have] + sorted(have - set(names))


def _segments(
    out: pd.DataFrame, cured: np.ndarray, ttr: np.ndarray, entered: np.ndarray, horizon: float,
    scenario: Scenario | None,
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    seg = out["segment"].astype(str).to_numpy()
    df = pd.DataFrame(
        {
            "segment": seg,
            "cured": cured,
            "ttc": np.where(cured, ttr, np.nan),
            "ec": out["reached_emergency_contact"].astype(bool).to_numpy(),
            "recovered": out["amount_recovered"].to_numpy(dtype=float),
            "due": out["amount_due"].to_numpy(dtype=float),
        }
    )
    for k in CURE_WINDOWS:
        obs, ok = _cure_within(cured, ttr, entered, horizon, k)
        df[f"obs{k}"], df[f"ok{k}"] = obs, ok
    g = df.groupby("segment", sort=False)
    sums = g.sum(numeric_only=True)
    sizes = g.size()
    medians = g["ttc"].median()
    segments: dict[str, Any] = {}
    within: dict[str, Any] = {}
    for name in _segment_order(sizes.index, scenario):
        n = int(sizes[name])
        s = sums.loc[name]
        segments[name] = {
            "borrowers": n,
            "cure_rate": _ratio(s["cured"], n),
            "median_days_to_cure": medians[name],
            "emergency_contact_share": _ratio(s["ec"], n),
            "recovery_rate": _ratio(s["recovered"], s["due"]),
        }
        within[name] = {f"d{k}": _ratio(s[f"ok{k}"], s[f"obs{k}"]) for k in CURE_WINDOWS}
    return segments, within


def _collection_30d(
    out: pd.DataFrame, monthly: pd.DataFrame, horizon: float
) -> tuple[float, float]:
    """Yuan repaid within 30 days of entry, and the principal overdue at DPD 0, of the accounts
       followed for 30 days: their ratio is the 30-day collection rate (Qifu's figure).
    An account still open at DPD 30 has a month-1 row
       whose ``paid_before`` is what it had repaid by then; any other account finished earlier,
       so all its repayments fall inside the window.
    """
    obs = (out["entered_day"] + 30 <= horizon).to_numpy()
    m1 = monthly.loc[monthly["month"] == 1].set_index("borrower_id")["paid_before"]
    paid = out["borrower_id"].map(m1).fillna(out["amount_recovered"]).to_numpy(dtype=float)
    return float(paid[obs].sum()), float(out["principal"].to_numpy(dtype=float)[obs].sum())


# --------------------------------------------------------------------------- summary


def summarize(records: Records, scenario: Scenario) -> dict[str, Any]:
    """Headline numbers of one replication as plain JSON data (NaN becomes None).

    Keys: borrowers, funnel, funnel_counts, emergency_contact, cure_rate, median_days_to_cure,
    final_states, recovery_by_month_past_due, recovery_after_3_months, roll_rates, money,
    costs, harm, agents, segments, cure_within_days_by_segment, and at top level (copied from
    ``harm``) complaints_per_1000, third_party_disclosures, calls_outside_hours. Days are days
    past due (from entry), money is yuan. Cure = final state ``cured`` or ``plan_completed``.
    Windowed rates (cure within k days, roll rates) count only borrowers followed long enough
    before the horizon.
    """
    out = records.outcomes
    n = len(out)
    horizon = horizon_days(records, scenario)
    cured, ttr, entered = _cure_columns(out)

    funnel_counts = {s: int(out[f"reached_{s}"].astype(bool).sum()) for s in stages(out)}
    funnel = {s: _ratio(c, n) for s, c in funnel_counts.items()}

    ec_mask = out["reached_emergency_contact"].astype(bool).to_numpy()
    ec_days = out["emergency_contact_day"].to_numpy(dtype=float)[ec_mask]
    emergency_contact = {
        "count": int(ec_mask.sum()),
        "share": _ratio(ec_mask.sum(), n),
        "median_day": _median(ec_days),
        "p10_day": _percentile(ec_days, 10),
        "p90_day": _percentile(ec_days, 90),
    }

    median_ttc = _median(ttr[cured])
    cure_rate: dict[str, Any] = {}
    for k in metrics.CURE_DAYS:
        obs, ok = _cure_within(cured, ttr, entered, horizon, k)
        cure_rate[f"d{k}"] = _ratio(ok.sum(), obs.sum())
        cure_rate[f"observed_d{k}"] = int(obs.sum())
        cure_rate[f"cured_d{k}"] = int(ok.sum())
    cure_rate["final"] = _ratio(cured.sum(), n)
    cure_rate["median_days_to_cure"] = median_ttc

    states = out["final_state"].astype(str).value_counts()
    final_states = {s: int(states.get(s, 0)) for s in FINAL_STATES}
    final_states.update({str(s): int(c) for s, c in states.items() if s not in final_states})

    m = recovery_by_month(out, records.monthly)
    m3 = m[m["month"] == 3]
    bal3, rec3 = float(m3["balance_at_entry"].sum()), float(m3["recovered"].sum())
    recovery_after_3 = {
        "accounts": len(m3),
        "balance_at_entry": bal3,
        "recovered": rec3,
        "rate": _ratio(rec3, bal3),
    }

    def total(col: str) -> float:
        return float(out[col].astype(float).sum())

    costs = {c: float(v) for c, v in records.costs.items()}
    costs["total"] = float(sum(costs.values()))
    collected_30d, principal_30d = _collection_30d(out, records.monthly, horizon)
    due, recovered, principal = total("amount_due"), total("amount_recovered"), total("principal")
    written_off, open_balance = total("amount_written_off"), total("balance_open")
    waived = total("amount_waived") if "amount_waived" in out else 0.0
    money = {
        "amount_due": due,
        "recovered": recovered,
        "written_off": written_off,
        "open_balance": open_balance,
        "waived": waived,
        "unaccounted": due - recovered - written_off - open_balance - waived,
        "principal": principal,
        "fees_charged": due - principal,
        "recovery_rate": _ratio(recovered, due),
        "cost_total": costs["total"],
        "net_recovery": recovered - costs["total"],
        "cost_per_yuan_recovered": _ratio(costs["total"], recovered),
        "collection_rate_30d": _ratio(collected_30d, principal_30d),
        "collected_30d": collected_30d,
        "principal_followed_30d": principal_30d,
        "recovered_by_channel": dict(records.recovered_by_channel),
    }

    complaints = int(out["n_complaints"].sum())
    calls = out[["n_robot_calls", "n_agent_calls", "n_agency_calls"]].sum(axis=1)
    harm = {
        "complaints": complaints,
        "complaints_per_1000": _ratio(1000 * complaints, n),
        "third_party_contacts": int(out["n_third_party_contacts"].sum()),
        "third_party_disclosures": int(out["n_third_party_disclosures"].sum()),
        "calls_per_borrower": float(calls.mean()) if n else None,
        "contact_calls": int(out["n_contact_calls"].sum()),
        "calls_outside_hours": int(records.meta.get("calls_outside_hours", 0)),
        "complaints_by_cause": {k: int(v) for k, v in records.complaints_by_cause.items()},
    }

    dials = int(out[["n_robot_calls", "n_agent_calls", "n_agency_calls"]].to_numpy().sum())
    answered = int(out["n_calls_answered"].sum())
    contact = {
        "calls_to_borrower": dials,
        "right_party_contacts": answered,
        "right_party_contact_rate": _ratio(answered, dials),
    }

    agents = agents_summary(records, costs)
    segments, within = _segments(out, cured, ttr, entered, horizon, scenario)
    summary = {
        "borrowers": n,
        "horizon_days": horizon,
        "funnel": funnel,
        "funnel_counts": funnel_counts,
        "emergency_contact": emergency_contact,
        "cure_rate": cure_rate,
        "median_days_to_cure": median_ttc,
        "final_states": final_states,
        "recovery_by_month_past_due": _recovery_rows(m),
        "recovery_after_3_months": recovery_after_3,
        "roll_rates": _roll_rates(m, horizon),
        "money": money,
        "contact": contact,
        "costs": costs,
        "net_recovery": money["net_recovery"],
        "harm": harm,
        "complaints_per_1000": harm["complaints_per_1000"],
        "third_party_disclosures": harm["third_party_disclosures"],
        "calls_outside_hours": harm["calls_outside_hours"],
        "agents": agents,
        "conversations": conversations_summary(records, agents),
        "segments": segments,
        "cure_within_days_by_segment": within,
    }
    summary = jsonable(summary)
    summary["headline"] = metrics.headline(summary, records)
    return summary
