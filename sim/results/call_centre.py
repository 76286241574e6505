"""The call centre's figures: the ``agents`` part of a run's summary and its metrics.

One concept, one module: what the agent team, the dialer and the call list did
(:mod:`sim.engine.dialer`, ``docs/call_centre.md``), read from the daily table and the costs
(:func:`agents_summary`), and the headline metrics declared on it (:data:`METRICS`, part of
the registry in :mod:`sim.results.metrics`). Shares are fractions; None when undefined.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.results.metrics import Metric, plain, ratio_of
from sim.results.records import Records
from sim.results.stats import ratio


def agents_summary(records: Records, costs: dict[str, float]) -> dict[str, Any]:
    """The call centre's figures: staffing, calls put through and abandoned, the list."""
    daily = records.daily

    def total(name: str) -> float:
        return float(daily[name].sum()) if name in daily else 0.0

    cap = daily["agent_capacity_minutes"].to_numpy(dtype=float) if len(daily) else np.zeros(0)
    busy = daily["agent_busy_minutes"].to_numpy(dtype=float) if len(daily) else np.zeros(0)
    working = cap > 0
    answered, abandoned = total("agent_calls_answered"), total("agent_calls_abandoned")
    cap_share = records.meta.get("abandon_cap") or 0.03
    over = 0
    if "agent_calls_answered" in daily:
        ans = daily["agent_calls_answered"].to_numpy(dtype=float)
        ab = daily["agent_calls_abandoned"].to_numpy(dtype=float)
        over = int((ab > cap_share * ans + 1e-9).sum())
    backlog = daily["list_backlog"].to_numpy(dtype=float) if "list_backlog" in daily else busy[:0]
    agent_cost = costs.get("agent", 0.0) + costs.get("agent_idle", 0.0)
    served = total("agent_calls_served")
    return {
        "head_count": records.meta.get("agents"),
        "paid_minutes": total("agent_paid_minutes"),
        "capacity_minutes": float(cap.sum()),
        "busy_minutes": float(busy.sum()),
        "ringing_minutes": total("agent_ringing_minutes"),
        "occupancy": ratio(busy.sum(), cap.sum()),
        "utilisation": ratio(busy.sum(), total("agent_paid_minutes")),
        "peak_day_occupancy": float((busy[working] / cap[working]).max())
        if working.any()
        else None,
        "answered": answered,
        "served": served,
        "abandoned": abandoned,
        "abandonment_rate": ratio(abandoned, answered),
        "abandon_cap": cap_share,
        "days_over_abandon_cap": over,
        "served_in_time": total("agent_served_in_time"),
        "service_level": ratio(total("agent_served_in_time"), answered),
        "wait_seconds": total("agent_wait_seconds"),
        "asa_seconds": ratio(total("agent_wait_seconds"), served),
        "dialled": total("list_dialled"),
        "due": total("list_due"),
        "list_penetration": ratio(total("list_dialled"), total("list_due")),
        "backlog_days": float(backlog.sum()),
        "days": float(len(backlog)),
        "mean_backlog": ratio(backlog.sum(), len(backlog)),
        "max_backlog": float(backlog.max()) if backlog.size else None,
        "cost": agent_cost,
        "cost_per_contact": ratio(agent_cost, served),
    }


METRICS = [
    Metric(
        "agents.service_level",
        "Service level (answered calls put through in time)",
        "share",
        "max",
        ratio_of("agents", "served_in_time", "answered"),
        "live-answered agent calls put through to an agent within agents.service_level_seconds",
    ),
    Metric(
        "agents.asa_seconds",
        "Average speed of answer",
        "seconds",
        "min",
        ratio_of("agents", "wait_seconds", "served"),
        "mean wait of an answered call for its agent, over the calls put through",
    ),
    Metric(
        "agents.abandonment_rate",
        "Abandoned / live-answered calls",
        "share",
        "min",
        ratio_of("agents", "abandoned", "answered"),
        "answered agent calls dropped for want of a free agent (regulators cap this at 3%)",
    ),
    Metric(
        "agents.days_over_abandon_cap",
        "Days over the abandonment cap",
        "count",
        "min",
        plain("agents", "days_over_abandon_cap"),
        "days whose abandoned calls exceeded rules.max_abandoned_share (3% if no cap is set) "
        "of their live-answered calls",
    ),
    Metric(
        "agents.occupancy",
        "Agent occupancy while staffed",
        "share",
        None,
        ratio_of("agents", "busy_minutes", "capacity_minutes"),
        "agent-minutes on calls (talk and wrap-up) over agent-minutes on shift in calling hours",
    ),
    Metric(
        "agents.utilisation",
        "Agent utilisation of paid time",
        "share",
        None,
        ratio_of("agents", "busy_minutes", "paid_minutes"),
        "agent-minutes on calls over agent-minutes paid",
    ),
    Metric(
        "agents.list_penetration",
        "Call-list penetration",
        "share",
        "max",
        ratio_of("agents", "dialled", "due"),
        "accounts dialled over accounts due an agent call, summed over days (an account left "
        "on the list at the day's close counts as due and not dialled that day)",
    ),
    Metric(
        "agents.mean_backlog",
        "Call-list backlog at close",
        "count",
        "min",
        ratio_of("agents", "backlog_days", "days"),
        "accounts still due an agent call at the close of the day, mean over days",
    ),
    Metric(
        "agents.cost",
        "Agent cost (paid hours)",
        "yuan",
        "min",
        plain("agents", "cost"),
        "paid agent-hours, idle time included, and the line time of their calls",
    ),
    Metric(
        "agents.cost_per_contact",
        "Agent cost per conversation",
        "yuan",
        "min",
        ratio_of("agents", "cost", "served"),
        "agent cost over answered calls put through to an agent",
    ),
]
"""The call centre's headline figures, in the metric registry's order."""
