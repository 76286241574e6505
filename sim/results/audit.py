"""The compliance audit: every contact rule checked again from the event trace alone.

The engine prevents breaches (:mod:`sim.engine.contact_rules`); this module does not ask it.
It reads what the trace says happened (each call's time, channel and outcome, each contact
call, what contacts were told, every way the borrower was reached) and counts, for each rule,
the events that break it and the borrower who broke it most. An engine bug that breaks a rule
shows up here as a breach; ``tests/test_audit.py`` injects breaches into a clean trace and
checks that each is found.

Rules are read from the run's scenario (``summary.json``); a cap of 0 means no cap, and the
check then reports the figure without breaches. Times are days; a day is ``floor(time)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

BORROWER_CALLS = ("robot", "agent", "agency")
"""Channels of the calls to the borrower that the contact rules bound."""
NO_CONSENT = "(no consent)"


@dataclass(frozen=True)
class Check:
    """One rule checked: what was examined, how many breaches, the worst borrower."""

    name: str
    rule: str
    applies: bool  # the scenario sets this rule (else only the figure is reported)
    examined: int  # events (or borrower-days) looked at
    breaches: int
    worst_borrower: int | None = None
    worst_breaches: int = 0
    note: str = ""

    def as_row(self) -> dict[str, Any]:
        return {
            "check": self.name, "rule": self.rule, "applies": self.applies,
            "examined": self.examined, "breaches": self.breaches,
            "worst_borrower": self.worst_borrower, "worst_breaches": self.worst_breaches,
            "note": self.note,
        }  # fmt: skip


def _worst(borrowers: pd.Series) -> tuple[int | None, int]:
    """The borrower with the most breaches, and how many (ties: the lowest id)."""
    if borrowers.empty:
        return None, 0
    counts = borrowers.value_counts()
    top = counts.max()
    return int(counts[counts == top].index.min()), int(top)


def _check(name: str, rule: str, applies: bool, examined: int, bad: pd.Series,
           note: str = "") -> Check:  # fmt: skip
    """A check from the borrower ids of the breaching events (or borrower-days)."""
    who, n = _worst(bad) if applies else (None, 0)
    return Check(name, rule, applies, examined, int(len(bad)) if applies else 0, who, n, note)


def _hhmm(hour: float) -> str:
    return f"{int(hour):02d}:{round((hour % 1) * 60):02d}"


def audit(events: pd.DataFrame, scenario: Mapping[str, Any]) -> list[Check]:
    """Every rule of ``scenario`` (a plain-data scenario, as in ``summary.json``) checked
    against ``events`` (a run's trace)."""
    rules = scenario["rules"]
    ec = scenario["ladder"]["emergency_contact"]
    ev = events.sort_values(["time", "seq"] if "seq" in events else ["time"], kind="stable")
    calls = ev[(ev["kind"] == "call") & ev["channel"].isin(BORROWER_CALLS)]
    contact = ev[ev["kind"] == "contact_call"]
    day = np.floor(calls["time"].to_numpy())
    out = []

    # calling hours: every call to the borrower or a contact
    start, end = float(rules["call_start"]), float(rules["call_end"])
    every = pd.concat([calls, contact])
    tod = (every["time"] - np.floor(every["time"])) * 24.0
    outside = every.loc[(tod < start - 1e-6) | (tod >= end - 1e-6), "borrower_id"]
    out.append(_check("Calls outside hours", f"no call before {_hhmm(start)} or from "
                      f"{_hhmm(end)} (rules.call_start, rules.call_end)", True, len(every),
                      outside))  # fmt: skip

    # daily caps, per borrower and day
    per_day = calls.assign(day=day)
    for name, key, mask, what in (
        ("Call attempts per day", "max_attempts_per_day", None, "attempts"),
        ("Unanswered calls per day", "max_unanswered_per_day", "unanswered", "unanswered calls"),
        ("Connected calls per day", "max_connected_per_day", "answered", "connected calls"),
    ):
        cap = int(rules[key])
        sel = per_day if mask is None else per_day[per_day["detail"] == mask]
        counts = sel.groupby(["borrower_id", "day"]).size()
        over = counts[counts > cap] if cap else counts.iloc[:0]
        bad = pd.Series(over.index.get_level_values("borrower_id"), dtype="int64")
        most = int(counts.max()) if len(counts) else 0
        out.append(_check(name, f"at most {cap} {what} per borrower per day (rules.{key})"
                          if cap else f"no cap (rules.{key} = 0)", bool(cap), len(counts), bad,
                          f"most in one borrower-day: {most}"))  # fmt: skip

    # a rolling 7-day count (Regulation F's 7 in 7)
    cap = int(rules["max_attempts_per_week"])
    bad_ids, most = [], 0
    for bid, t in calls.groupby("borrower_id")["time"]:
        times = np.sort(t.to_numpy())
        window = np.arange(len(times)) - np.searchsorted(times, times - 7.0, side="right") + 1
        most = max(most, int(window.max()))
        if cap:
            bad_ids += [bid] * int((window > cap).sum())
    out.append(_check("Calls in any 7 days", f"at most {cap} attempts in any rolling 7 days "
                      "(rules.max_attempts_per_week)" if cap else "no cap "
                      "(rules.max_attempts_per_week = 0)", bool(cap), len(calls),
                      pd.Series(bad_ids, dtype="int64"), f"most in 7 days: {most}"))  # fmt: skip

    # minimum gap between two calls to the borrower
    gap = float(rules["min_gap_minutes"]) / 1440.0
    t = calls[["borrower_id", "time"]].sort_values(["borrower_id", "time"], kind="stable")
    same = t["borrower_id"].to_numpy()[1:] == t["borrower_id"].to_numpy()[:-1]
    dt = np.diff(t["time"].to_numpy())
    close = same & (dt < gap - 1e-9)
    too_close = pd.Series(t["borrower_id"].to_numpy()[1:][close])
    out.append(_check("Minimum gap between calls", f"at least {rules['min_gap_minutes']:g} "
                      "minutes between two calls (rules.min_gap_minutes)", gap > 0,
                      int(same.sum()), too_close))  # fmt: skip

    # quiet days after a conversation
    quiet = float(rules["quiet_days_after_conversation"])
    bad_ids = []
    if quiet > 0:
        for bid, g in calls.groupby("borrower_id"):
            times = g["time"].to_numpy()
            talked = times[g["detail"].to_numpy() == "answered"]
            if len(talked) == 0:
                continue
            padded = np.concatenate([[-np.inf], talked])
            prior = padded[np.searchsorted(padded, times, side="left") - 1]  # talked before
            bad_ids += [bid] * int(((times - prior) < quiet - 1e-9).sum())
    out.append(_check("Calls in the quiet days after a conversation",
                      f"no call within {quiet:g} days after an answered call "
                      "(rules.quiet_days_after_conversation)" if quiet else
                      "no quiet period (rules.quiet_days_after_conversation = 0)", quiet > 0,
                      len(calls), pd.Series(bad_ids, dtype="int64")))  # fmt: skip

    # abandoned calls against the day's live answers
    share = float(rules["max_abandoned_share"])
    agent = calls[calls["channel"] == "agent"]
    live = agent[agent["detail"] == "answered"].groupby(np.floor(agent["time"])).size()
    gone = ev[ev["kind"] == "abandoned"]
    dropped = gone.groupby(np.floor(gone["time"])).size()
    days = live.index.union(dropped.index)
    live, dropped = live.reindex(days, fill_value=0), dropped.reindex(days, fill_value=0)
    over = days[(dropped > share * live) & (live > 0)] if share else days[:0]
    total = int(dropped.sum())
    out.append(Check("Abandoned calls", f"at most {100 * share:g}% of a day's live-answered "
                     "agent calls (rules.max_abandoned_share)" if share else "no cap "
                     "(rules.max_abandoned_share = 0)", bool(share), len(days), len(over),
                     note=f"{total:,} abandoned of {int(live.sum()):,} live answers; days "
                     "over the cap are counted as breaches"))  # fmt: skip

    # third parties: what they were told
    told = ev[ev["kind"] == "disclosure"]
    details = told.loc[told["detail"] == "details", "borrower_id"]
    relayed = int((contact["detail"] == "relayed").sum())
    out.append(_check("Debt disclosed to third parties", "a contact may be asked to pass a "
                      "message on, never told about the debt (PIPL; NIFA 2018; CBA 2026)", True,
                      len(told), details, f"{len(told):,} contacts answered; {relayed:,} "
                      "relayed the message"))  # fmt: skip

    # contacts phoned without consent
    no_consent = contact.loc[contact["channel"].str.endswith(NO_CONSENT), "borrower_id"]
    out.append(_check("Contacts phoned without consent", "only contacts who consented "
                      "(ladder.emergency_contact.require_consent)", bool(ec["require_consent"]),
                      len(contact), no_consent,
                      f"{len(no_consent):,} of {len(contact):,} contact calls"))  # fmt: skip

    # contacts phoned while the borrower was reachable
    out.append(_reachable_check(ev, contact, ec))
    return out


def _reachable_check(ev: pd.DataFrame, contact: pd.DataFrame, ec: Mapping[str, Any]) -> Check:
    """Contacts are phoned only once the borrower has not been reached for
    ``unreachable_days``; reached: a robot or agency call answered, an agent conversation (an
    answered call dropped for want of an agent reaches nobody), a payment, a contact who
    relayed, a call to customer service, a field visit that found them."""
    days = float(ec["unreachable_days"])
    reach = ev[  # an answered agent call reaches the borrower only if an agent takes it
        ((ev["kind"] == "call") & (ev["detail"] == "answered") & (ev["channel"] != "agent"))
        | ev["kind"].isin(["agent_call", "payment", "service_call"])
        | ((ev["kind"] == "contact_call") & (ev["detail"] == "relayed"))
        | ((ev["kind"] == "field_visit") & (ev["detail"] == "found"))
    ]
    entered = ev[ev["kind"] == "enter"].set_index("borrower_id")["time"]
    bad_ids = []
    reached = {bid: np.sort(g.to_numpy()) for bid, g in reach.groupby("borrower_id")["time"]}
    for bid, g in contact.groupby("borrower_id"):
        times = g["time"].to_numpy()
        start = float(entered.get(bid, 0.0))  # the engine counts from entry
        r = np.concatenate([[start], reached.get(bid, np.empty(0))])
        prior = r[np.searchsorted(r, times, side="left") - 1]  # the last reach before the call
        prior = np.where(times > start, prior, start)
        bad_ids += [bid] * int(((times - prior) < days - 1e-9).sum())
    applies = bool(ec["only_when_unreachable"])
    return _check("Contacts phoned while the borrower was reachable",
                  f"only after {days:g} days without reaching the borrower "
                  "(ladder.emergency_contact.only_when_unreachable, unreachable_days)", applies,
                  len(contact), pd.Series(bad_ids, dtype="int64"))  # fmt: skip


def table(checks: list[Check]) -> pd.DataFrame:
    return pd.DataFrame([c.as_row() for c in checks])
