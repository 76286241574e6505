"""The contact rules that bound every call to the borrower (``rules``): calling hours,
daily and weekly caps, the minimum gap between calls, quiet days after a conversation.

:meth:`ContactRules.earliest` is the first moment the rules allow a call to an account;
:meth:`ContactRules.record` counts a call against the caps. Robot, agent and agency calls
(:mod:`sim.engine.rungs.calls`) and calls to emergency contacts go through them. Times are
absolute days.
"""

from __future__ import annotations

import bisect
import math

import cython

from sim.engine.account import Borrower
from sim.spec import Rules

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

    @cython.locals(b=Borrower)
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

    @cython.locals(b=Borrower)
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
            if b.week:
                b.week.append(t)
            else:
                b.week = [t]
