"""Print the calibration figures of the README's table: one baseline run of 20,000 borrowers
(seed 2024) and the emergency-contact share and complaints of the shipped policies (seed 5).

    python benchmarks/calibration.py

Not part of ``make test`` (tests/test_calibration.py checks the bounds); run it after a change
to the engine or the defaults and copy the figures into the README.
"""

from __future__ import annotations

from pathlib import Path

from sim.engine.core import simulate
from sim.results import summary as metrics
from sim.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]
N = 20_000


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def main() -> None:
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml", {"population.borrowers": N})
    rec = simulate(sc, seed=2024)
    s = metrics.summarize(rec, sc)
    months = [_pct(m["rate"]) for m in s["recovery_by_month_past_due"][:6]]
    roll = {f"{r['from_bucket']} -> {r['to_bucket']}": r["rate"] for r in s["roll_rates"][:2]}
    print(f"baseline, {N:,} borrowers, seed 2024")
    print("  30-day collection rate  ", _pct(s["money"]["collection_rate_30d"]))
    print("  recovered after DPD 90  ", _pct(s["recovery_after_3_months"]["rate"]))
    print("  recovery by month       ", ", ".join(months))
    print("  forgetful cured <= 3 d  ", _pct(s["cure_within_days_by_segment"]["forgetful"]["d3"]))
    ec = s["emergency_contact"]
    print("  emergency contact       ", _pct(ec["share"]), f"median DPD {ec['median_day']:.1f}")
    print("  roll rates              ", {k: _pct(v) for k, v in roll.items()})
    quiet = load_scenario(
        ROOT / "scenarios" / "baseline.toml",
        {
            "population.borrowers": N,
            "ladder.emergency_contact.trigger": "never",
            **{f"ladder.{r}.enabled": False for r in _RUNGS},
        },
    )
    qs = metrics.summarize(simulate(quiet, seed=2024), quiet)
    print("  cured in 30 d, no action", _pct(qs["cure_rate"]["d30"]))
    print(f"policies, {N:,} borrowers, seed 5: EC share, complaints per 1,000")
    for name in ("baseline", "day14", "no_emergency_contact", "regulated"):
        p = load_scenario(ROOT / "scenarios" / f"{name}.toml", {"population.borrowers": N})
        ps = metrics.summarize(simulate(p, seed=5), p)
        print(f"  {name:22s}", _pct(ps["emergency_contact"]["share"]),
              f"{ps['complaints_per_1000']:.0f}", f"net {ps['net_recovery']:,.0f}")  # fmt: skip


_RUNGS = (
    "sms", "push", "robot", "agent", "second_reminder", "number_rotation", "measures",
    "lost_contact", "agency", "plans",
)  # fmt: skip


if __name__ == "__main__":
    main()
