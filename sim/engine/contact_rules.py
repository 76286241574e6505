"""The platform's collections policy: when each rung acts, and the rules that bound every call.

Everything here is policy, computed from the scenario and an account's observable state; the
borrower's reaction lives in :mod:`sim.engine.account` and the wiring in :mod:`sim.engine.core`.

* :class:`Schedule` — when reminders are sent, when robot, agent and agency calls are due,
  when the day-based triggers (measures, emergency contacts, agency, litigation, write-off)
  fire. Times are absolute days; an account's DPD is ``t - entered``.
* :class:`ContactRules` — calling hours, daily/weekly caps, minimum gaps, quiet days after a
  conversation: :meth:`ContactRules.earliest` is the first moment a call is allowed.
* :func:`emergency_contact_due` — *when the family is phoned*: the trigger of the
  emergency-contact stage (seed 000: N consecutive declines while unreachable; seed 002:
  around day 14).
"""

from __future__ import annotations

import bisect
import math

from sim.engine.account import MONTH, Borrower
from sim.spec.scenario import Ladder, Rules, Scenario

INF = math.inf
EPS = 1e-7  # days (9 ms): float rounding of clock times


class ContactRules:
    """Rules that bound calls to the borrower (robot, agent and agency calls alike)."""

    def __init__(self, rules: Rules) -> None:
        self.r = rules
        self.start = rules.call_start / 24.0  # fraction of the day
        self.end = rules.call_end / 24.0
        self.gap = rules.min_gap_minutes / 1440.0
        self.caps = (
            rules.max_attempts_per_day,
            rules.max_unanswered_per_day,
            rules.max_connected_per_day,
        )
        self.simple = not (
            any(self.caps) or rules.quiet_days_after_conversation or rules.max_attempts_per_week
        )

    def in_hours(self, t: float) -> bool:
        """Is clock time ``t`` (days) inside the permitted calling hours?"""
        tod = t - math.floor(t)
        return self.start - EPS <= tod < self.end  # EPS: t = day + start rounds down

    def window(self, t: float) -> float:
        """First moment at or after ``t`` inside calling hours."""
        day = math.floor(t)
        tod = t - day
        if tod < self.start:
            return day + self.start
        if tod >= self.end:
            return day + 1 + self.start
        return t

    def earliest(self, b: Borrower, t: float) -> float:
        """First moment at or after ``t`` when the rules allow calling borrower ``b``.

        Each rule that fails moves ``t`` to the first moment it could hold and the checks
        start again; every move is forward, so the loop ends.
        """
        if self.simple:  # only hours and the minimum gap apply: the common case, made cheap
            if t < b.last_call + self.gap:
                t = b.last_call + self.gap
            day = int(t)
            tod = t - day
            if self.start <= tod < self.end:
                return t
        r = self.r
        start, end = self.start, self.end
        cap_att, cap_unans, cap_conn = self.caps
        quiet, cap_week = r.quiet_days_after_conversation, r.max_attempts_per_week
        week = b.week
        if cap_week:  # forget calls that left the week before the time asked about
            cut = bisect.bisect_right(week, t - 7.0 + EPS)
            if cut:
                del week[:cut]
        while True:
            day = int(t)  # times are >= 0, so int() is floor()
            tod = t - day
            if tod < start:
                t = day + start
            elif tod >= end:
                day += 1
                t = day + start
            if b.call_day == day and (
                (cap_att and b.attempts_today >= cap_att)
                or (cap_unans and b.unanswered_today >= cap_unans)
                or (cap_conn and b.connected_today >= cap_conn)
            ):
                t = day + 1 + start
                continue
            if t < b.last_call + self.gap:
                t = b.last_call + self.gap
                continue
            if quiet and t < b.last_conversation + quiet:
                t = b.last_conversation + quiet
                continue
            if cap_week:
                # Calls in the rolling week before t: those after t - 7 (EPS guards the
                # rounding of (c + 7) - 7). Nothing is deleted here: t is only a candidate.
                cut = bisect.bisect_right(week, t - 7.0 + EPS)
                if len(week) - cut >= cap_week:
                    t = week[len(week) - cap_week] + 7.0
                    continue
            return t

    def record(self, b: Borrower, t: float, answered: bool) -> None:
        """Count a call made to ``b`` at ``t`` against the caps."""
        day = int(t)
        if b.call_day != day:
            b.call_day = day
            b.attempts_today = b.unanswered_today = b.connected_today = 0
        b.attempts_today += 1
        if answered:
            b.connected_today += 1
            b.last_conversation = t
        else:
            b.unanswered_today += 1
        b.last_call = t
        if self.r.max_attempts_per_week:
            b.week.append(t)


def _next_after(first: float, gap: float, after: float) -> float:
    """The first time ``first + k * gap`` strictly after ``after`` (``after >= first``).

    Float rounding can make ``first + k * gap`` land on ``after`` itself (or one ulp past
    it), which would repeat the attempt just made; so a slot within EPS of ``after`` counts
    as that attempt.
    """
    t = first + (int((after - first) / gap) + 1) * gap
    return t if t > after + EPS else t + gap


class Schedule:
    """When each rung of the ladder acts on an account (absolute days)."""

    def __init__(self, scenario: Scenario) -> None:
        lad: Ladder = scenario.ladder
        self.lad = lad
        msgs: list[tuple[float, str]] = []
        for name, rung in (("sms", lad.sms), ("push", lad.push)):
            if rung.enabled:
                msgs += [(d + rung.hour / 24.0, name) for d in rung.days]
        sr = lad.second_reminder
        if sr.enabled:
            msgs.append((sr.day + sr.hour / 24.0, "second_reminder"))
        self.messages = sorted(msgs)
        rb = lad.robot
        self.robot_gap = 1.0 / rb.calls_per_day if rb.calls_per_day else INF
        # Plain attributes for the hot path (Schedule.robot runs once per robot call).
        self.robot_on = rb.enabled and bool(rb.calls_per_day)
        self.robot_start, self.robot_hour = rb.start_day, rb.hour / 24.0
        self.robot_end = rb.end_day + 1
        ag = scenario.agents
        rules = scenario.rules
        # Agents call inside their shift and the calling hours; each account gets a fixed
        # preferred clock time there (drawn once), which spreads the load over the day.
        self.call_lo = max(ag.shift_start, rules.call_start) / 24.0
        self.call_hi = min(ag.shift_start + ag.shift_hours, rules.call_end) / 24.0
        a = lad.agent
        self.agent_on = a.enabled
        self.agent_start = a.start_day
        self.agent_gaps = a.every_days
        self.dead_gap = a.dead_number_days
        self.agent_end = a.end_day + 1

    def message(self, b: Borrower, i: int) -> tuple[float, str]:
        """The i-th reminder of the account, or (inf, '') when there are no more."""
        if i >= len(self.messages):
            return INF, ""
        dpd, name = self.messages[i]
        return b.entered + dpd, name

    def robot(self, b: Borrower, after: float) -> float:
        """Next robot attempt strictly after ``after``: ``calls_per_day`` a day from ``hour``."""
        if not self.robot_on or b.agency:
            return INF
        first = b.entered + self.robot_start + self.robot_hour
        if after < first:
            return first
        t = _next_after(first, self.robot_gap, after)
        return t if t - b.entered <= self.robot_end else INF

    def agent(self, b: Borrower, after: float) -> float:
        """Next agent attempt after ``after``: cadence ``every_days[month]`` at the account's
        preferred clock time."""
        if not self.agent_on or b.agency:
            return INF
        first = b.entered + self.agent_start + b.call_tod
        if after < first:
            return first
        gaps = self.agent_gaps
        month = int((after - b.entered) / MONTH)
        gap = gaps[month] if month < len(gaps) else gaps[-1]
        if b.dark and gap < self.dead_gap:  # the last attempt found the line dead
            gap = self.dead_gap
        t = _next_after(first, gap, after)
        return t if t - b.entered <= self.agent_end else INF

    def agency(self, b: Borrower, after: float) -> float:
        """Next agency attempt after ``after``."""
        ac = self.lad.agency
        if not b.agency or ac.calls_per_week <= 0:
            return INF
        gap = 7.0 / ac.calls_per_week
        if b.dark:
            gap = max(gap, self.lad.agent.dead_number_days)
        first = b.entered + ac.day + b.call_tod
        if after < first:
            return first
        return _next_after(first, gap, after)

    def one_offs(self) -> dict[str, float]:
        """Days past due of the steps that fall due on a fixed day whatever happens, for the
        rungs switched on: the first reminder, the agency hand-off, the emergency-contact
        day check (trigger modes that use the day), account measures, lost contact,
        litigation and write-off."""
        lad = self.lad
        ec, lc = lad.emergency_contact, lad.lost_contact
        steps = {
            "message": self.messages[0][0] if self.messages else None,
            "handoff": lad.agency.day if lad.agency.enabled else None,
            "ec": ec.day if ec.trigger in ("day", "either", "both") else None,
            "measure": lad.measures.freeze_day if lad.measures.enabled else None,
            "lost": lc.no_contact_days if lc.enabled else None,
            "litigation": lc.litigation_day if lc.enabled and lc.litigation else None,
            "writeoff": lad.write_off_day,
        }
        return {step: dpd for step, dpd in steps.items() if dpd is not None}


def declines_condition(lad: Ladder, b: Borrower, t: float) -> bool:
    """Seed 000's trigger: N consecutive unanswered calls and no contact for D days."""
    ec = lad.emergency_contact
    return b.consec_unanswered >= ec.declined_calls and t - b.last_contact >= ec.unreachable_days


def emergency_contact_due(lad: Ladder, b: Borrower, t: float, after_decline: bool) -> bool:
    """Should the emergency-contact stage start at ``t``?

    Called after every unanswered call (``after_decline``) and at the day-X time.
    """
    ec = lad.emergency_contact
    mode = ec.trigger
    if mode == "never" or b.ec_state:
        return False
    day_reached = t - b.entered >= ec.day
    if mode == "day":
        return day_reached
    declines = declines_condition(lad, b, t)
    if mode == "declines":
        return declines
    if mode == "either":
        return declines or day_reached
    return declines and day_reached  # both
