"""What agents' conversations achieved: the ``conversations`` part of a run's summary.

One concept, one module, as the collections floor reports it: right-party contacts with an
agent, promises to pay made, kept and broken (and by day past due), the yuan promised and
paid on promise, the hardship help granted under the treatment policy (grace periods, plans,
fee waivers and the yuan waived), yuan collected per paid agent-hour, and complaints by
cause. Read from the outcomes and daily tables and the records' counters
(:func:`conversations_summary`); the headline metrics on it are :data:`METRICS` (part of the
registry, :mod:`sim.results.metrics`). Shares are fractions; None when undefined.
"""

from __future__ import annotations

from typing import Any

from sim.results.metrics import Metric, plain, ratio_of
from sim.results.records import Records
from sim.results.stats import ratio


def conversations_summary(records: Records, agents: dict[str, Any]) -> dict[str, Any]:
    """Promises, help granted, waived fees, agent productivity, complaints by cause."""
    out, daily = records.outcomes, records.daily

    def total(col: str) -> float:
        return float(out[col].astype(float).sum()) if col in out else 0.0

    def accounts_with(col: str) -> int:
        return int((out[col] > 0).sum()) if col in out else 0

    def daily_total(col: str) -> float:
        return float(daily[col].sum()) if col in daily else 0.0

    # Conversations: agent calls put through, less those whose account closed first.
    conversations = daily_total("agent_calls_served") - daily_total("agent_calls_cut")
    dials = total("n_agent_calls")
    made, kept, broken = total("n_promises"), total("n_promises_kept"), total("n_promises_broken")
    promised, paid = total("amount_promised"), total("amount_paid_on_promise")
    n = len(out)
    paid_hours = (agents.get("paid_minutes") or 0.0) / 60.0
    by_agent = float(records.recovered_by_channel.get("agent", 0.0))
    return {
        "conversations": conversations,
        "agent_dials": dials,
        "agent_rpc_rate": ratio(conversations, dials),
        "promises": made,
        "promises_kept": kept,
        "promises_broken": broken,
        "promises_judged": kept + broken,
        "promise_rate": ratio(made, conversations),
        "kept_rate": ratio(kept, kept + broken),
        "amount_promised": promised,
        "amount_paid_on_promise": paid,
        "paid_on_promise_share": ratio(paid, promised),
        "accounts_with_plan": accounts_with("n_plans"),
        "accounts_with_grace": accounts_with("n_grace_periods"),
        "accounts_with_waiver": accounts_with("n_waivers"),
        "borrowers": n,
        "plan_share": ratio(accounts_with("n_plans"), n),
        "amount_waived": total("amount_waived"),
        "recovered_after_agent": by_agent,
        "paid_agent_hours": paid_hours,
        "yuan_per_agent_hour": ratio(by_agent, paid_hours),
        "complaints_by_cause": {k: int(v) for k, v in records.complaints_by_cause.items()},
        "promises_by_dpd": {k: list(v) for k, v in records.promises_by_dpd.items()},
    }


METRICS = [
    Metric(
        "conversations.agent_rpc_rate",
        "Right-party contacts per agent dial",
        "share",
        "max",
        ratio_of("conversations", "conversations", "agent_dials"),
        "agent conversations with the borrower over agent call attempts",
    ),
    Metric(
        "conversations.promise_rate",
        "Promises to pay per agent conversation",
        "share",
        "max",
        ratio_of("conversations", "promises", "conversations"),
        "promises to pay (settlements included) over agent conversations",
    ),
    Metric(
        "conversations.kept_rate",
        "Promises kept",
        "share",
        "max",
        ratio_of("conversations", "promises_kept", "promises_judged"),
        "promises kept over promises kept or broken (those open at the account's close are "
        "neither; near the horizon a promise is judged early only if kept, so a short run "
        "leans high)",
    ),
    Metric(
        "conversations.paid_on_promise_share",
        "Yuan paid on promise / yuan promised",
        "share",
        "max",
        ratio_of("conversations", "amount_paid_on_promise", "amount_promised"),
    ),
    Metric(
        "conversations.yuan_per_agent_hour",
        "Yuan collected per paid agent-hour",
        "yuan",
        "max",
        ratio_of("conversations", "recovered_after_agent", "paid_agent_hours"),
        "yuan repaid with an agent's conversation as the last touch, over paid agent-hours",
    ),
    Metric(
        "conversations.plan_share",
        "Accounts given an instalment plan",
        "share",
        None,
        ratio_of("conversations", "accounts_with_plan", "borrowers"),
    ),
    Metric(
        "conversations.amount_waived",
        "Fees waived",
        "yuan",
        "min",
        plain("conversations", "amount_waived"),
        "yuan waived in settlements kept (money the lender gives up)",
    ),
]
"""The conversations' headline figures, in the metric registry's order."""
