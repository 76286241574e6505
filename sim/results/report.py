"""The plain-text report of a run's summary, for the terminal (``overdue run`` prints it).

It opens with the headline figures of the metric registry (:mod:`sim.results.metrics`), each
with its label and unit, then the detail: funnel, cure, recovery by month, roll rates, money,
costs, harm, agents and segments. Money is in yuan, shares in %.
"""

from __future__ import annotations

from typing import Any

from sim.results import metrics
from sim.results.summary import CURE_WINDOWS, _ratio


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Right-aligned columns (the first left-aligned), two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        rest = zip(r[1:], widths[1:], strict=True)
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in rest]
        return (indent + "  ".join(cells)).rstrip()

    return [line(header)] + [line(r) for r in rows]


def format_summary(summary: dict[str, Any]) -> str:
    """A plain-text report of :func:`summarize`'s output for the terminal (lines < 100 chars)."""
    s = summary
    n = s.get("borrowers", 0)
    lines = [f"Borrowers: {n:,}   horizon: {_num(s.get('horizon_days'))} days", ""]
    lines += headline_lines(s)

    lines.append("Funnel (share of borrowers reaching each rung)")
    counts = s.get("funnel_counts", {})
    lines += _table(
        ["stage", "count", "share"],
        [[k, f"{counts.get(k, 0):,}", _pct(v)] for k, v in s.get("funnel", {}).items()],
    )

    ec = s["emergency_contact"]
    lines += [
        "",
        f"Emergency contact: {ec['count']:,} borrowers ({_pct(ec['share'])}), "
        f"median day {_num(ec['median_day'], 1)} "
        f"(p10 {_num(ec['p10_day'], 1)}, p90 {_num(ec['p90_day'], 1)})",
    ]

    cr = s["cure_rate"]
    lines += [
        "Cure curve (cured within so many days of DPD 0, of the accounts followed that long):",
        "  " + ", ".join(f"{d} d {_pct(cr[f'd{d}'])}" for d in metrics.CURE_DAYS if f"d{d}" in cr),
        f"  finally cured {_pct(cr['final'])}; median days to cure "
        f"{_num(s['median_days_to_cure'], 1)}",
        "Final states: " + ", ".join(f"{k} {v:,}" for k, v in s.get("final_states", {}).items()),
        "",
        "Recovery by month past due (yuan owed at the month's start, repaid afterwards)",
    ]
    lines += _table(
        ["month", "DPD", "accounts", "balance at entry", "recovered", "rate", "observed 30d"],
        [
            [
                str(r["month"]), r["dpd"], f"{r['accounts']:,}",
                _num(r["balance_at_entry"]), _num(r["recovered"]), _pct(r["rate"]),
                _pct(r["observed_share"]),
            ]
            for r in s.get("recovery_by_month_past_due", [])
        ],
    )  # fmt: skip
    r3 = s["recovery_after_3_months"]
    lines += [
        "  (observed 30d: share of the month's accounts still open 30 days after its start)",
        f"  After 3 months past due: {_num(r3['recovered'])} of {_num(r3['balance_at_entry'])}"
        f" yuan recovered ({_pct(r3['rate'])})",
        "",
        "Roll rates (accounts followed to the end of the month)",
    ]
    lines += _table(
        ["from", "to", "accounts", "rolled", "rate", "balance rate"],
        [
            [
                r["from_bucket"], r["to_bucket"], f"{r['accounts']:,}", f"{r['rolled']:,}",
                _pct(r["rate"]), _pct(r["balance_rate"]),
            ]
            for r in s.get("roll_rates", [])
        ],
    )  # fmt: skip

    mo = s["money"]
    lines += [
        "",
        "Money (yuan)",
        *_table(
            ["item", "yuan"],
            [
                ["principal", _num(mo["principal"])],
                ["fees charged", _num(mo["fees_charged"])],
                ["amount due", _num(mo["amount_due"])],
                ["recovered", _num(mo["recovered"])],
                ["written off", _num(mo["written_off"])],
                ["still open", _num(mo["open_balance"])],
                ["fees waived", _num(mo.get("waived", 0.0))],
                ["total cost", _num(mo["cost_total"])],
                ["net recovery", _num(mo["net_recovery"])],
            ],
        ),
        f"  Recovery rate {_pct(mo['recovery_rate'])}; "
        f"cost per yuan recovered {_num(mo['cost_per_yuan_recovered'], 4)}",
        "",
        "Costs by channel (yuan)",
        *_table(["channel", "yuan"], [[k, _num(v, 2)] for k, v in s["costs"].items()]),
        "",
        "Recovered by channel of the last contact before each repayment (yuan)",
        *_table(
            ["channel", "yuan", "share"],
            [
                [k, _num(v), _pct(_ratio(v, mo["recovered"]))]
                for k, v in mo.get("recovered_by_channel", {}).items()
                if v
            ],
        ),
    ]

    h = s["harm"]
    lines += [
        "",
        f"Harm: {h['complaints']:,} complaints ({_num(h['complaints_per_1000'], 2)} per 1,000), "
        f"calls per borrower {_num(h['calls_per_borrower'], 2)}",
        f"  emergency-contact calls {h['contact_calls']:,}, third-party contacts "
        f"{h['third_party_contacts']:,}, disclosures {h['third_party_disclosures']:,}, "
        f"calls outside hours {h['calls_outside_hours']:,}",
    ]
    causes = {k: v for k, v in (h.get("complaints_by_cause") or {}).items() if v}
    if causes:
        lines.append("  complaints by cause:")
        items = [f"{k} {v:,}" for k, v in causes.items()]
        lines += ["    " + ", ".join(items[i : i + 4]) for i in range(0, len(items), 4)]
    c = s.get("conversations")
    if c:
        lines += [
            "",
            f"Conversations: {_num(c['conversations'])} right-party contacts with an agent "
            f"({_pct(c['agent_rpc_rate'])} of agent dials)",
            f"  {_num(c['yuan_per_agent_hour'])} yuan collected per paid agent-hour",
            f"  promises {_num(c['promises'])} ({_pct(c['promise_rate'])} of conversations): "
            f"kept {_num(c['promises_kept'])}, broken {_num(c['promises_broken'])} "
            f"(kept {_pct(c['kept_rate'])})",
            f"  {_num(c['amount_promised'])} yuan promised, "
            f"{_num(c['amount_paid_on_promise'])} paid on promise",
            f"  help granted: grace periods {c['accounts_with_grace']:,}, plans "
            f"{c['accounts_with_plan']:,} ({_pct(c['plan_share'])} of accounts)",
            f"  fee waivers {c['accounts_with_waiver']:,} ({_num(c['amount_waived'])} yuan waived)",
        ]

    a = s["agents"]
    head = "n/a" if a["head_count"] is None else str(a["head_count"])
    lines += [
        "",
        f"Agents: {head}, {_num(a['paid_minutes'] / 60)} paid hours, {_num(a['cost'])} yuan "
        f"({_num(a['cost_per_contact'], 1)} yuan per conversation)",
        f"  occupancy while staffed {_pct(a['occupancy'])} (peak day "
        f"{_pct(a['peak_day_occupancy'])}), of paid time {_pct(a['utilisation'])}",
        f"  answered {_num(a['answered'])}: put through {_num(a['served'])}, abandoned "
        f"{_num(a['abandoned'])} ({_pct(a['abandonment_rate'])})",
        f"  service level {_pct(a['service_level'])}, average speed of answer "
        f"{_num(a['asa_seconds'], 1)} s, {a['days_over_abandon_cap']} days over "
        f"{_pct(a['abandon_cap'])} abandoned",
        f"  call list: {_pct(a['list_penetration'])} of accounts due dialled that day; still "
        f"due at close {_num(a['mean_backlog'], 1)} a day, {_num(a['max_backlog'])} at most",
    ]

    segs = s.get("segments", {})
    if segs:
        within = s.get("cure_within_days_by_segment", {})
        lines += ["", "Segments"]
        lines += _table(
            ["segment", "borrowers", "cured", "median days", "EC share", "recovery",
             "cured 3d", "7d", "30d"],
            [
                [
                    name, f"{v['borrowers']:,}", _pct(v["cure_rate"]),
                    _num(v["median_days_to_cure"], 1), _pct(v["emergency_contact_share"]),
                    _pct(v["recovery_rate"]),
                    *(_pct(within.get(name, {}).get(f"d{k}")) for k in CURE_WINDOWS),
                ]
                for name, v in segs.items()
            ],
        )  # fmt: skip
    return "\n".join(lines) + "\n"


def format_metric(value: float | None, unit: str) -> str:
    """A headline figure in its unit: ``88.1%``, ``12,345,678 yuan``, ``11.6 days``."""
    if value is None:
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "yuan":
        return f"{value:,.0f} yuan"
    if unit == "days":
        return f"{value:,.1f} days"
    if unit == "per_1000":
        return f"{value:,.2f} per 1,000"
    if unit == "seconds":
        return f"{value:,.1f} s"
    return f"{value:,.0f}"


def headline_lines(summary: dict[str, Any]) -> list[str]:
    """The headline figures (the metric registry's), one line each, with a blank line after."""
    values = summary.get("headline") or metrics.headline(summary)
    known = metrics.for_summary(summary)
    first = {name: i for i, name in enumerate(metrics.DECISION)}
    ordered = sorted(known, key=lambda m: first.get(m.name, len(first)))  # stable
    rows = [
        [m.label, format_metric(values.get(m.name), m.unit)]
        for m in ordered
        if not m.name.startswith("funnel.") or m.name == "funnel.emergency_contact"
    ]
    return ["Headline figures", *_table(["figure", "value"], rows), ""]
