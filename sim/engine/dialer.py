"""The dialer and its call list: which account an agent calls, and when (``agents``).

Collections floors do not call each account at a time of its own: accounts due an agent call
join a **call list**, and a dialer works the list in priority order (:data:`PRIORITIES`)
within the team's hours, as fast as the agents free up. What is not reached today stays on
the list tomorrow. ``docs/call_centre.md`` gives the design and the figures behind it.

How an account meets the dialer (the engine's side is :meth:`Model.resume`):

* When an account's agent call falls due (its cadence, :mod:`sim.engine.rungs.agent_calls`),
  it **joins** the list (:meth:`Dialer.enlist`) and **parks**: it stops living its own steps
  at that moment, since the dialer may call it at any time after. Nothing is scheduled for
  it in SimPy's event queue.
* The dialer is the only process on the clock. At each wake-up it lets in the accounts whose
  time has come, and dials: it **resumes** the account at the dial time (its own steps up to
  then run first, in its own time order: a payment at 10:00 cures it before a dial at
  15:00, so a cured account is skipped at no cost), and the account's agent step places the
  call. After the call the account runs ahead on its own again until its next agent call.
* **Progressive** dialing takes a free agent first, who waits through the ringing: no call is
  ever abandoned, and the agent loses the ringing time. **Predictive** dialing rings
  ``pacing_ratio`` lines for each agent who will be free when the answers come in
  (``answer_seconds`` later); agents hear no ringing, but an answer that finds no free agent
  within the borrower's patience (at most ``max_wait_seconds``, the 2-second rule) is
  **abandoned**. With ``rules.max_abandoned_share`` the dialer turns progressive for the
  rest of the day whenever the day's abandoned calls exceed that share of its live answers.
* At the close of each day's hours every account still on the list is brought up to that
  time (those that paid, got a plan or left the ladder drop off) and re-sorted: the backlog.
* An account whose promise to pay was broken (``b.follow_up``) is let in ahead of the
  whole list, first come first called: the broken-promise follow-up floors work first.

Events: one SimPy timeout per wake-up, and a wake-up serves a wave of calls; the accounts
themselves cost no event. Times are in days.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import deque
from collections.abc import Callable
from typing import Any

import cython
import numpy as np

from sim.engine.account import INF, Borrower
from sim.engine.agent_team import MINUTES_PER_DAY, AgentTeam, Shift
from sim.engine.call_list import MAX_RANKED_DAYS, SEQ_BITS, SEQ_MASK, CallList, order_code

SECONDS_PER_DAY = 86_400.0
_EPS = 1e-9  # days: clock times computed two ways

PRIORITIES: dict[str, Callable[[Borrower, float], float]] = {
    "oldest": lambda b, listed: b.entered,  # the smallest key is called first
    "newest": lambda b, listed: -b.entered,
    "balance": lambda b, listed: -b.balance,
    "score": lambda b, listed: -b.p_agent * b.balance,  # answer propensity x balance
    "fifo": lambda b, listed: listed,
}
"""Call-list orders, as a key of the account (and the time it was listed): smallest first."""
DYNAMIC = frozenset({"balance", "score"})
"""Orders whose key changes with the account (re-sorted at each day's close)."""
BY_ENTRY_DAY = {"oldest": 1, "newest": -1}
"""Orders keyed by the day an account entered (one key per arrival day; a cohort has one),
and their direction: 1, the earliest day first."""


class Dialer:
    """The call list and the dialer of one agent team; see the module docstring."""

    def __init__(self, model: Any, team: AgentTeam, slot: int) -> None:
        ag, sc = model.sc.agents, model.sc
        self.model, self.env, self.team, self.slot = model, model.env, team, slot
        self.horizon = model.horizon
        self.predictive = ag.dialer == "predictive"
        self.pacing = ag.pacing_ratio
        self.answer = ag.answer_seconds / SECONDS_PER_DAY
        self.ring = sc.ladder.agent.ring_minutes / MINUTES_PER_DAY
        self.cap = sc.rules.max_abandoned_share
        self.key = PRIORITIES[ag.priority]
        # Orders keyed by the entry day: order codes (entry number 0) by day, as a lookup
        # costs less than calling the key; the population's days, sorted, for their ranks.
        by_day = ag.priority in BY_ENTRY_DAY
        self._codes: dict[float, int] | None = {} if by_day else None
        days = np.unique(model.traits.entered_day) if by_day else None
        self._days = days if days is not None and len(days) <= MAX_RANKED_DAYS else None
        self._latest_first = BY_ENTRY_DAY.get(ag.priority) == -1
        self.rekey = ag.priority in DYNAMIC  # the key changes as the account lives
        shift: Shift = team.shift
        self.open = shift.start_hour / 24.0
        self.close = (shift.start_hour + shift.hours) / 24.0
        # Accounts due from a later time, by the moment they are let in (the first moment in
        # hours at or after it): many share one (a day's opening), so a bucket each.
        self.joining: dict[float, list[tuple[float, int, Borrower]]] = {}
        self.joining_at: list[float] = []  # the buckets' moments, a heap
        self.listed = CallList()  # the list: order codes (priority key, seq), smallest first
        self.entries: dict[int, Borrower] = {}  # seq -> account: the live entries on the list
        self.follow_ups: deque[int] = deque()  # entry numbers called before the list
        # Parked accounts (entry numbers) by the day whose close comes first after their own
        # next step: the day's close brings up to date only those, not the whole list.
        self.waking: dict[int, list[int]] = {}
        self.woken_through = -1  # the last day whose close did so
        self.seq = 0
        self.carry = 0.0  # predictive: the fraction of a line owed to the next wave
        self.wake_at = INF
        self._generation = 0
        self.agent: int | None = None  # progressive: the agent waiting for the next dial
        self.dialled = False  # set by the account when its dial took place
        self.day = self.closed_day = -1
        self.answered_today = self.abandoned_today = 0
        n = model.days + 1  # per-day counts: accounts dialled, left on the list, calls cut
        self.dialled_by_day, self.backlog_by_day, self.cut_by_day = (
            array("d", bytes(8 * n)) for _ in range(3)
        )

    # ------------------------------------------------------------------ the list

    @cython.locals(b=Borrower)
    def enlist(self, b: Borrower, t: float) -> None:
        """Account ``b`` is due an agent call from ``t`` (days) on: it joins the list then."""
        self.seq += 1
        b.listed = self.seq  # an entry is live while the account holds its number
        at = self.admission(t)
        b.hold = at  # nobody dials it before then: it lives on up to that moment
        bucket = self.joining.get(at)
        if bucket is None:
            self.joining[at] = [(t, self.seq, b)]
            heapq.heappush(self.joining_at, at)
            if at < self.wake_at:
                self._schedule(at)
        else:
            bucket.append((t, self.seq, b))

    def admission(self, t: float) -> float:
        """The first moment at or after ``t`` inside the team's daily hours."""
        day = math.floor(t)
        tod = t - day
        if tod < self.open:
            return day + self.open
        if tod >= self.close - _EPS:
            return day + 1 + self.open
        return t

    @cython.locals(b=Borrower)
    def _admit(self, now: float) -> None:
        """Let in the accounts due by ``now`` (never before: each lived up to then)."""
        joining_at, listed, key, entries = self.joining_at, self.listed, self.key, self.entries
        codes = self._codes
        while joining_at and joining_at[0] <= now:
            new = []
            for since, seq, b in self.joining.pop(heapq.heappop(joining_at)):
                if b.listed == seq and b.state == "open":
                    entries[seq] = b
                    if b.follow_up:
                        self.follow_ups.append(seq)
                        continue
                    if codes is None:
                        new.append(order_code(key(b, since), seq))
                        continue
                    code = codes.get(b.entered)
                    if code is None:
                        code = codes[b.entered] = self._day_code(b, since)
                    new.append(code | seq)
            listed.add(new)

    def _day_code(self, b: Borrower, since: float) -> int:
        """The order code (entry number 0) of an account of an order keyed by its entry day.

        The day's rank among the population's entry days, not the key's bits, leads the
        code: the same order, and codes below 2**62 (a cohort's are the entry numbers), which
        a heap compares in half the time of the 104-bit codes of :func:`order_code`."""
        days = self._days
        if days is None:  # more distinct days than the rank's bits hold
            return order_code(self.key(b, since), 0)
        rank = int(np.searchsorted(days, b.entered))
        if self._latest_first:
            rank = len(days) - 1 - rank
        return rank << SEQ_BITS

    @cython.locals(b=Borrower)
    def parked(self, b: Borrower, wake: float) -> None:
        """Listed account ``b`` parked with its own next step due at ``wake`` (days)."""
        if wake < self.horizon:
            day = math.ceil(wake - self.close)  # the first close at or after ``wake``
            bucket = self.waking.get(day)
            if bucket is None:
                self.waking[day] = [b.listed]
            else:
                bucket.append(b.listed)

    @cython.locals(b=Borrower)
    def _next_listed(self) -> Borrower | None:
        """Pop the first account on the list still due a call (stale entries drop off)."""
        pop, entries, follow_ups = self.listed.pop, self.entries, self.follow_ups
        while follow_ups:
            seq = follow_ups.popleft()
            b = entries.pop(seq, None)
            if b is not None and b.listed == seq and b.state == "open":
                return b
        while True:
            try:
                seq = pop() & SEQ_MASK
            except IndexError:
                return None
            b = entries.pop(seq, None)
            if b is not None and b.listed == seq and b.state == "open":
                return b

    def stop(self) -> None:
        """The run is over: let go of what the list still holds (entries waiting for a
        close after the horizon), which would otherwise stay in memory to the end."""
        self.waking.clear()
        self.joining.clear()
        self.entries.clear()
        self.follow_ups.clear()
        self.joining_at = []
        self.listed.clear()

    # ------------------------------------------------------------------ the clock

    def _schedule(self, at: float) -> None:
        """Wake at ``at`` unless already due to wake earlier (a later wake-up is dropped).

        While the dialer is awake (``wake_at`` is then -inf) nothing is scheduled: the
        wake-up ends by scheduling the next one, accounts listed meanwhile included."""
        if at >= self.wake_at or at >= self.horizon:
            return
        self.wake_at = at
        self._generation += 1
        generation = self._generation
        delay = at - self.env.now
        self.env.timeout(delay if delay > 0 else 0.0).callbacks.append(
            lambda _: self._wake(generation, at)
        )

    def _wake(self, generation: int, now: float) -> None:
        """Wake-up at ``now`` (days; exactly the time asked for, which ``env.now`` may miss
        in the last bit after ``now - env.now`` was added back).

        The dialer then works on through its own next moments (agents freeing up, the
        close, the next opening) without going back to SimPy's event queue, for as long as
        nothing else can happen first: the only other process is the arrivals, so it stops
        short of the next arrival (an account arriving then may join the list). The same
        moments in the same order, without an event for each wave. It also stops at the
        end of the day, so that SimPy's clock (``env.now``) keeps up with the run to the
        day for anything watching it, at one event per day."""
        if generation != self._generation:  # superseded by an earlier wake-up
            return
        self.wake_at = -INF  # awake
        limit = min(self.model.next_arrival, self.horizon, math.floor(now) + 1.0)
        nxt = self._work(now)
        while nxt < limit:
            nxt = self._work(nxt)
        self.wake_at = INF
        self._schedule(nxt)

    def _work(self, now: float) -> float:
        """What the dialer does at ``now``; returns when it has something to do next."""
        day = int(now)
        if day != self.day:
            self.day, self.answered_today, self.abandoned_today = day, 0, 0
        self._admit(now)
        close_at = day + self.close
        nxt = INF
        if now >= day + self.open - _EPS and now < close_at - _EPS:  # in hours: dial
            if self.entries:
                dial = self._wave(now) if self._predictive_now() else self._progressive(now)
                if dial < INF:
                    nxt = self.admission(max(dial, now + 1.0 / SECONDS_PER_DAY))
                if self.entries and self.closed_day < day:
                    nxt = min(nxt, close_at)
        elif self.entries:
            if now >= close_at - _EPS and self.closed_day < day:
                self._close_day(day, now)
            if self.entries:  # the next opening
                nxt = self.admission(now)
        if self.joining_at:
            nxt = min(nxt, self.joining_at[0])
        return nxt

    def _predictive_now(self) -> bool:
        """Predictive unless the abandonment cap is reached today."""
        cap = self.cap
        return self.predictive and (not cap or self.abandoned_today <= cap * self.answered_today)

    # ------------------------------------------------------------------ dialing

    def _wave(self, now: float) -> float:
        """Predictive: ring ``pacing`` lines per agent free when the answers come in; returns
        when to dial again."""
        team = self.team
        arrive = now + self.answer
        free = team.free_by(now, arrive)
        if free:
            # Fractional pacing: the fraction carries to the next wave (deterministic).
            self.carry += self.pacing * free
            lines = max(1, int(self.carry))
            self.carry -= lines
            while lines and (b := self._next_listed()) is not None:
                lines -= self._dial(b, now)
        ready = team.next_free(now)
        if ready <= arrive:  # an agent still unmatched: redial once the lines stop ringing
            return now + max(self.ring, 1.0 / SECONDS_PER_DAY)
        return ready - self.answer

    def _progressive(self, now: float) -> float:
        """Progressive: one line per free agent, who waits through the ringing."""
        team = self.team
        while self.entries:
            agent = team.take(now)
            if agent is None:
                break
            self.agent = agent
            while self.agent is not None and (b := self._next_listed()) is not None:
                self._dial(b, now)
            if self.agent is not None:  # the list ran out before this agent got a call
                team.release(self.agent, now)
                self.agent = None
        return team.next_free(now)

    @cython.locals(b=Borrower)
    def _dial(self, b: Borrower, now: float) -> bool:
        """Resume ``b`` to place its call now; whether the call was placed."""
        b.listed = 0
        b.dialling = True
        b.hold = now
        b.agenda[self.slot] = now
        self.dialled = False
        self.model.resume(b)
        b.dialling = False
        if self.dialled:
            self.dialled_by_day[int(now)] += 1
        return self.dialled

    def connect(self, t: float, handle: float, patience: float) -> tuple[float, int] | None:
        """An account dialled at ``t`` answered: the agent who takes it and when, or None
        (abandoned). ``handle``: talk + wrap-up, minutes; ``patience``: minutes."""
        self.dialled = True
        self.answered_today += 1
        answered = t + self.answer
        if self.agent is not None:  # progressive: the agent waited through the ringing
            agent, self.agent = self.agent, None
            self.team.occupy(agent, t, answered, handle)
            return answered, agent
        got = self.team.offer(answered, handle, patience)
        if got is None:
            self.abandoned_today += 1
        return got

    def no_answer(self, t: float) -> None:
        """An account dialled at ``t`` did not answer (the line rang ``ring_minutes``)."""
        self.dialled = True
        if self.agent is not None:
            agent, self.agent = self.agent, None
            self.team.occupy(agent, t, t + self.ring, 0.0)

    def cut(self, offered: float) -> None:
        """A call offered at ``offered`` (days) and put through lost its account before the
        agent came on the line: counted by the day it was offered, like the calls served."""
        self.cut_by_day[min(int(offered), len(self.cut_by_day) - 1)] += 1

    @cython.locals(b=Borrower)
    def _close_day(self, day: int, now: float) -> None:
        """The day's hours are over: bring up to now the listed accounts that had a step of
        their own due (those that paid, got a plan or left the ladder drop off), re-sort the
        list if its keys change, and count the backlog.

        Only the accounts in :attr:`waking` up to today are touched, in the order they
        parked: a listed account changes only by living its own steps, so the rest are as
        they were. (Touching every account on the list each evening cost a tenth of the run.)
        """
        self.closed_day = day
        resume, waking, entries = self.model.resume, self.waking, self.entries
        for wake_day in range(self.woken_through + 1, day + 1):
            for seq in waking.pop(wake_day, ()):
                b = entries.get(seq)
                if b is None:  # dialled since it parked
                    continue
                if b.listed == seq and b.state == "open":
                    if min(b.agenda) > now:  # ``wake - close`` rounded up a day early
                        self.waking.setdefault(day + 1, []).append(seq)
                        continue
                    b.hold = now
                    resume(b)  # parks again (a later wake), unless it left the list
                if b.listed != seq or b.state != "open":
                    del entries[seq]
        self.woken_through = day
        if self.rekey:  # every key may have changed
            key = self.key
            self.listed.replace(order_code(key(b, now), seq) for seq, b in entries.items())
        elif len(self.listed) > 2 * len(entries) + 64:  # mostly entries that left: compact
            self.listed.replace(code for code in self.listed if code & SEQ_MASK in entries)
        self.backlog_by_day[min(day, len(self.backlog_by_day) - 1)] = float(len(entries))
