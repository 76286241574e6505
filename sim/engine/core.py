"""The engine: one replication of a scenario as SimPy processes.

Each overdue account (:meth:`Model.account`) acts only when something happens to it — a
reminder, a call, a repayment, a trigger — and never ticks daily. The account keeps an
agenda: for each kind of step, the time it is next due. It takes the earliest and hands the
account to that step's handler (``_on_<step>``), which acts and re-schedules what it affects.
Steps that touch only the account run in its own time order; an answered agent call, which
needs the shared :class:`~sim.engine.agent_pool.AgentPool`, first waits for the SimPy clock: a
timeout in SimPy's event queue wakes it (see :meth:`Model.account` for why this changes no
result). Arrivals are a SimPy process.

Use :func:`simulate`; it returns :class:`~sim.results.records.Records`. The engine never prints or
writes files.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Generator, Iterator
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import simpy

import sim
from sim.engine.account import INF, MONTH, Borrower
from sim.engine.agent_pool import AgentPool
from sim.engine.contact_rules import (
    EPS,
    ContactRules,
    Schedule,
    emergency_contact_due,
)
from sim.engine.population import Traits, sample_traits
from sim.engine.streams import Streams
from sim.results.records import STAGE_INDEX, STAGES, Recorder, Records
from sim.spec.scenario import Scenario

AGENDA = (
    "pay", "message", "robot", "agent", "agency", "handoff", "ec", "measure", "lost",
    "litigation", "writeoff", "shock", "dark", "back", "service", "plan",
)  # fmt: skip
"""Agenda entries, in the order ties are broken (a repayment first). An account's agenda is
a list of due times indexed by these positions: the earliest is ``min`` of a short list."""
(PAY, MESSAGE, ROBOT, AGENT, AGENCY, HANDOFF, EC, MEASURE, LOST, LITIGATION, WRITEOFF, SHOCK,
 DARK, BACK, SERVICE, PLAN) = range(len(AGENDA))  # fmt: skip


_STAGE_BIT = {name: 1 << i for name, i in STAGE_INDEX.items()}
MAX_STEPS_WITHOUT_WAITING = 1_000_000
"""Guard against an engine bug: a step that re-schedules itself at the same instant would
loop for ever. A real account takes a few hundred steps over a year (one check per step is
cheaper than tracking repeats of the same instant)."""
_LATE_STREAMS = {"contact": "rs_contact", "platform": "rs_platform", "plan": "rs_plan"}
"""Random streams opened on first use (:meth:`Model._late`), and the attribute of each."""

_COUNT_COLUMNS = (
    ("n_sms", "n_sms"), ("n_push", "n_push"), ("n_robot_calls", "n_robot"),
    ("n_agent_calls", "n_agent"), ("n_agency_calls", "n_agency"),
    ("n_calls_answered", "n_answered"), ("n_third_party_contacts", "n_tp_contacts"),
    ("n_third_party_disclosures", "n_tp_disclosures"), ("n_contact_calls", "n_contact_calls"),
    ("n_complaints", "n_complaints"), ("n_plans", "n_plans"),
)  # fmt: skip
"""Outcome count columns and the Borrower attribute behind each."""
_OUTCOME_DTYPES: dict[str, Any] = {
    "bid": np.int64, "seg_name": object, "principal0": float, "entered": float,
    "state": object, "resolved": float, "fees_charged": float, "paid": float,
    "principal": float, "fees": float, "stages": np.int64, "ec_day": float, "cost": float,
    **{attr: np.int64 for _, attr in _COUNT_COLUMNS},
}  # fmt: skip
_OUTCOME_FIELDS = tuple(_OUTCOME_DTYPES)
_OUTCOME_ATTRS = attrgetter(*_OUTCOME_FIELDS)


def _bit_length(x: np.ndarray) -> np.ndarray:
    """Vectorised ``int.bit_length`` for non-negative int64 values below 2**52."""
    out = np.zeros(len(x), dtype=np.int64)
    nz = x > 0
    out[nz] = np.floor(np.log2(x[nz].astype(float))).astype(np.int64) + 1
    return out


class Model:
    """One replication: the environment, the shared pool, the recorder and the handlers."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        replication: int = 0,
        trace: bool = False,
    ) -> None:
        self.sc = scenario
        self.seed = scenario.seed if seed is None else seed
        self.streams = Streams(self.seed, replication)
        self.horizon = float(scenario.days)
        self.env = simpy.Environment()
        self.days = math.ceil(self.horizon)
        self.pool = AgentPool(scenario, self.days)
        self.rules = ContactRules(scenario.rules)
        self.schedule = Schedule(scenario)
        self.rec = Recorder(self.days, trace)
        self.trace = trace
        self.kappa = scenario.behaviour.decay
        hl = scenario.behaviour.aging_half_life_days
        self.gamma = math.log(2.0) / hl if hl > 0 else 0.0  # aging rate, per day
        self.memory = scenario.behaviour.fatigue_memory_days
        self.traits: Traits = sample_traits(scenario, self.streams)
        self.borrowers: list[Borrower | None] = [None] * len(self.traits)
        self.finished: list[Borrower] = []
        self.handlers: list[Callable[[Borrower, float, list[float]], None]] = [
            getattr(self, f"_on_{k}") for k in AGENDA
        ]
        self.events_processed = 0
        self._progress: Callable[[int, int], None] | None = None
        self._next_report = 0
        self.call_pressure = scenario.behaviour.complaint_call_pressure
        self._ring_cost = scenario.ladder.agent.ring_minutes * scenario.costs.line_minute
        self._talk_cost = scenario.ladder.agent.talk_minutes / 60.0 * scenario.costs.agent_hour
        ec = scenario.ladder.emergency_contact
        on_declines = ec.trigger in ("declines", "either", "both")
        self._ec_declines = ec.declined_calls if on_declines else math.inf
        self._hours = (scenario.rules.call_start / 24.0, scenario.rules.call_end / 24.0)
        nr = scenario.ladder.number_rotation
        self.rotation = nr.after_unanswered if nr.enabled else 0
        lc = scenario.ladder.lost_contact
        self._blank_agenda = [INF] * len(AGENDA)
        self._fixed_steps = [(AGENDA.index(k), dpd) for k, dpd in self.schedule.one_offs().items()]
        self._lost_after = lc.no_contact_days if lc.enabled else None  # days without contact
        daily = self.rec.daily  # engine counters by day, looked up once
        self._sms_by_day, self._push_by_day = daily["sms"], daily["push"]
        self._cures_by_day, self._recovered_by_day = daily["cures"], daily["amount_recovered"]
        # Per reminder in schedule order: (rung, cost in yuan, is an SMS, stage, read factor,
        # effect), looked up once here rather than on each of the ~3 per account.
        self._message_steps: list[tuple[str, float, bool, str, float, float]] = []
        for _, name in self.schedule.messages:
            rung = getattr(scenario.ladder, name)
            stage = "second_reminder" if name == "second_reminder" else "reminder"
            step = (name, rung.cost, name == "sms", stage, rung.read_factor, rung.effect)
            self._message_steps.append(step)
        lad, sched = scenario.ladder, self.schedule
        # Per call channel: (name, stage bit, cost per attempt in yuan, answered-call effect,
        # next attempt time, calls by day). An agent attempt costs the ringing; talk time is
        # costed when served. Agency calls cost nothing per attempt (paid by commission).
        by_day = self.rec.daily
        self._dialers: dict[int, tuple[str, int, float, float, Callable[..., float], list]] = {
            ROBOT: ("robot", _STAGE_BIT["robot"], lad.robot.cost, lad.robot.effect, sched.robot,
                    by_day["robot_calls"]),
            AGENT: ("agent", _STAGE_BIT["agent"], self._ring_cost, lad.agent.effect, sched.agent,
                    by_day["agent_calls"]),
            AGENCY: ("agency", _STAGE_BIT["agency"], 0.0, lad.agency.effect, sched.agency,
                     by_day["agency_calls"]),
        }  # fmt: skip
        # What every dial loop reads, in one tuple: unpacking it is cheaper than a dozen
        # attribute loads on each of the ~6 calls to _dial per account.
        rules = self.rules
        self._dial_setup = (
            rules.earliest, rules.record, rules.simple, rules.gap, rules.start, rules.end,
            self._ec_declines, self.rotation, self.horizon, self.days, self.memory,
            self._hours[0] - EPS, self._hours[1], self.rec.costs, self.trace, self.call_pressure,
        )  # fmt: skip

    # ------------------------------------------------------------------ running

    def run(self, progress: Callable[[int, int], None] | None = None) -> Records:
        """Run to the horizon and return the records.

        ``progress(done, total)`` is called as accounts finish (resolved, or still open when
        the run stops), about every 0.5% of them, and once at the end with ``done == total``.
        """
        self.env.process(self._arrivals())
        self._progress = progress
        self._next_report = 0
        # The run allocates millions of small objects that live long; the cyclic garbage
        # collector would rescan them again and again (a third of the run time, measured).
        # SimPy breaks its own reference cycles once an event is processed, so pausing the
        # collector for the run is safe.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.env.run(until=self.horizon)
            for b in self.borrowers:
                if b is not None and b.state == "open":
                    self._close_at_horizon(b)
            if progress is not None:
                progress(len(self.traits), len(self.traits))
            return self._records()
        finally:
            if was_enabled:
                gc.enable()

    def _arrivals(self) -> Generator[Any, Any, None]:
        """Open accounts as they become overdue (all at once for a cohort)."""
        entered = self.traits.entered_day
        order = np.argsort(entered, kind="stable")
        env = self.env
        chunk = 4096
        for lo in range(0, len(order), chunk):
            ids = order[lo : lo + chunk]
            for i, row in zip(ids.tolist(), self._trait_rows(ids), strict=True):
                t = row[0]
                if t >= self.horizon:
                    return
                if t > env.now:
                    yield env.timeout(t - env.now)
                self._open(self._new_borrower(i, row))

    def _open(self, b: Borrower) -> None:
        """Start an account now. It runs in its own time order until it must wait for the
        clock (an answered agent call); only then does it enter the event queue, so most
        accounts, which never reach an agent, cost the event queue nothing."""
        steps = self.account(b)
        delay = next(steps, None)
        if delay is not None:
            self._sleep(steps, delay)

    def _sleep(self, steps: Iterator[float], delay: float) -> None:
        """Run ``steps`` on after ``delay`` days, and after each delay it yields in turn.

        A timeout with a callback, not a SimPy process: a process costs an initialising
        event and a generator hand-off on every wake-up, and an account needs neither.
        """
        env = self.env

        def resume(_: simpy.Event) -> None:
            delay = next(steps, None)
            if delay is not None:
                env.timeout(delay).callbacks.append(resume)

        env.timeout(delay).callbacks.append(resume)

    def _trait_rows(self, ids: np.ndarray) -> list[tuple[Any, ...]]:
        """Trait values of borrowers ``ids`` as plain Python tuples.

        Converting a chunk of columns at once is ~20x faster than indexing numpy scalars
        borrower by borrower.
        """
        tr = self.traits
        p = tr.probs
        cols = [
            tr.entered_day, tr.segment, tr.principal, p["willingness"], p["ability"],
            p["sms_read"], p["robot_answer"], p["agent_answer"], p["new_number_answer"],
            tr.in_shock, tr.shock_days, tr.dark_at_entry, tr.n_contacts, tr.contact_rel,
            tr.contact_warned, tr.contact_consent, tr.call_time,
        ]  # fmt: skip
        return list(zip(*(c[ids].tolist() for c in cols), strict=True))

    def _new_borrower(self, i: int, row: tuple[Any, ...]) -> Borrower:
        (entered, seg, principal, will, abil, p_sms, p_robot, p_agent, p_new, in_shock,
         shock_days, dark, n_contacts, rel, warned, consent, call_time) = row  # fmt: skip
        name = self.traits.segment_names[seg]
        b = Borrower(i, name, self.sc.population.segments[name], entered, principal)
        b.willingness, b.ability = will, abil
        b.p_sms, b.p_robot, b.p_agent, b.p_new = p_sms, p_robot, p_agent, p_new
        # Emergency contacts as (relationships, warned, consent) rows; _start_ec takes the
        # first ``n_contacts`` of each (most accounts never get that far).
        b.contacts = (n_contacts, rel, warned, consent)
        stream = self.streams.stream
        b.rs_pay, b.rs_call = stream("payment", i), stream("call", i)
        b.rs_msg, b.rs_life = stream("message", i), stream("life", i)
        # Most accounts never reach these rungs: their streams open on first use (_late).
        b.rs_contact = b.rs_platform = b.rs_plan = None
        b.in_shock = in_shock
        if in_shock:
            b.shock_end = entered + shock_days
        b.dark = dark
        s = self.schedule
        b.call_tod = s.call_lo + (s.call_hi - s.call_lo) * call_time
        self.borrowers[i] = b
        return b

    def _late(self, b: Borrower, purpose: str) -> Iterator[float]:
        """The borrower's stream for a rarely used ``purpose`` (contact, platform, plan),
        opened on first use. The draws are the same as if it had been opened at entry."""
        attr = _LATE_STREAMS[purpose]
        rs = getattr(b, attr)
        if rs is None:
            rs = self.streams.stream(purpose, b.bid)
            setattr(b, attr, rs)
        return rs

    def account(self, b: Borrower) -> Iterator[float]:
        """The life of one overdue account, from DPD 0 until it is resolved or the horizon.

        The account's steps run in its own time order. Only a step that meets another
        process — an agent call, which uses the shared agent pool — waits for the SimPy clock
        to reach it: the generator yields the delay (days) and :meth:`_sleep` sleeps it in the
        event queue. A step that touches nothing but this account (a reminder, a robot call,
        a repayment, a trigger) is applied in sequence without a round-trip through the event
        queue, since nothing another process does can change it. That halves the run time
        and changes no result: the same steps happen at the same times.
        """
        env = self.env
        due = self._agenda(b, env.now)
        handlers = self.handlers
        horizon = self.horizon
        if self.trace:
            self._event(b, env.now, "enter", b.seg_name)
        steps = 0
        last = env.now
        while b.state == "open":
            t = min(due)
            if t >= horizon:
                break
            if t < last:
                raise RuntimeError(
                    f"account {b.bid}: step {AGENDA[due.index(t)]} due at t={t!r} is earlier "
                    f"than its previous step at t={last!r}: an account's time only moves forward"
                )
            last = t
            kind = due.index(t)
            if kind == AGENT and b.pending is not None and t > env.now:
                self.events_processed += steps
                steps = 0
                yield t - env.now  # an answered call needs the shared agent pool
            steps += 1
            handlers[kind](b, t, due)
            if steps > MAX_STEPS_WITHOUT_WAITING:
                raise RuntimeError(
                    f"account {b.bid} made {steps:,} steps without waiting, the last "
                    f"{AGENDA[kind]} at t={t!r} (agenda {due}): a step that keeps falling due "
                    "at the same instant is a bug"
                )
        self.events_processed += steps

    def _agenda(self, b: Borrower, t: float) -> list[float]:
        """A new account's agenda: when each kind of step is first due (absolute days)."""
        s, seg, e = self.schedule, b.seg, b.entered
        due = self._blank_agenda.copy()
        for kind, dpd in self._fixed_steps:
            due[kind] = e + dpd
        due[PAY] = b.sample_payment(t, self.kappa, self.gamma)
        due[ROBOT] = s.robot(b, t - 1e-9)
        due[AGENT] = s.agent(b, t - 1e-9)
        due[SHOCK] = b.shock_end
        if b.dark:  # unreachable from entry: no calls to customer service until back
            due[BACK] = t + self._exp(b, seg.reappear_rate)
        else:
            due[DARK] = t + self._exp(b, seg.go_dark_rate)
            due[SERVICE] = t + self._exp(b, seg.service_contact_rate)
        return due

    @staticmethod
    def _exp(b: Borrower, rate: float) -> float:
        """Exponential waiting time (days) for a life event of the borrower."""
        if rate <= 0:
            return INF
        return -math.log(1.0 - next(b.rs_life)) / rate

    # ------------------------------------------------------------------ shared steps

    def _event(self, b: Borrower, t: float, kind: str, channel: str = "", detail: str = "",
               amount: float = 0.0) -> None:  # fmt: skip
        self.rec.event(t, b.bid, t - b.entered, kind, channel, detail, amount)

    def _stage(self, b: Borrower, t: float, name: str) -> None:
        bit = _STAGE_BIT[name]
        if not b.stages & bit:
            b.stages |= bit
            if self.trace:
                self._event(b, t, "stage", name)

    def _cost(self, b: Borrower, channel: str, amount: float) -> None:
        self.rec.costs[channel] += amount
        b.cost += amount

    def _repay_time(self, b: Borrower, t: float, due: list[float]) -> None:
        """Re-draw the next repayment after the intensity changed (not while on a plan)."""
        due[PAY] = INF if b.in_plan else b.sample_payment(t, self.kappa, self.gamma)

    def _reached(self, b: Borrower, t: float, due: list[float]) -> None:
        """The borrower was reached (answered, relayed, found, called in, or paid)."""
        b.last_contact = t
        b.consec_unanswered = 0
        if b.lost_state == 0 and self._lost_after is not None:
            due[LOST] = t + self._lost_after

    def _contacted(
        self, b: Borrower, t: float, due: list[float], effect: float, channel: str
    ) -> None:
        """A reminder was read or a call answered on ``channel``: the repayment intensity
        jumps, and later repayments are credited to ``channel`` (last touch)."""
        b.last_touch = channel
        self._excite(b, t, due, b.contact_jump(effect, t, self.gamma))

    def _escalated(
        self, b: Borrower, t: float, due: list[float], effect: float, channel: str
    ) -> None:
        """Escalation (emergency contact relayed, field visit, court summons) raises the
        intensity; later repayments are credited to ``channel`` (last touch)."""
        b.last_touch = channel
        self._excite(b, t, due, b.escalation_jump(effect, t, self.gamma))

    def _excite(self, b: Borrower, t: float, due: list[float], size: float) -> None:
        """Raise the excess repayment intensity by ``size`` (per day) at ``t``.

        The intensity is a sum of independent Poisson components, and the next repayment
        already drawn is still exact given that none came before ``t``; the jump adds one
        more component, decaying at ``kappa``, so the next repayment is the earlier of the
        two (:meth:`Borrower.excite`). One draw instead of re-drawing everything.
        """
        nxt = b.excite(size, t, self.kappa)
        if nxt < due[PAY]:
            due[PAY] = nxt

    def _receive_payment(self, b: Borrower, t: float, amount: float, detail: str) -> float:
        b.accrue(t, self.sc)
        amount = b.pay(amount)
        rec = self.rec
        self._recovered_by_day[rec.day_index(t)] += amount
        rec.recovered_by[b.last_touch] += amount
        if b.agency:
            self._cost(b, "agency_commission", amount * self.sc.ladder.agency.commission)
        if self.trace:
            self._event(b, t, "payment", "", detail, amount)
        return amount

    def _resolve(self, b: Borrower, t: float, state: str) -> None:
        """Close the account in a final state; an unpaid balance is written off."""
        b.accrue(t, self.sc)
        b.state = state
        b.resolved = t
        if state in ("cured", "plan_completed"):
            self._cures_by_day[self.rec.day_index(t)] += 1
        if state == "written_off":
            self._stage(b, t, "written_off")
        self._cancel_agent_call(b)
        if self.trace:
            self._event(b, t, "resolved", "", state)
        self._finish(b, t)

    def _close_at_horizon(self, b: Borrower) -> None:
        """An account still open when the run stops; a write-off due exactly then happens."""
        if b.entered + self.sc.ladder.write_off_day <= self.horizon:
            self._resolve(b, b.entered + self.sc.ladder.write_off_day, "written_off")
            return
        b.accrue(self.horizon, self.sc)
        self._cancel_agent_call(b)
        self._finish(b, self.horizon)

    def _finish(self, b: Borrower, end: float) -> None:
        """The account is done (resolved at ``end``, or open at the horizon)."""
        self.finished.append(b)
        # The account draws nothing more: dropping its streams lets their blocks be freed.
        b.rs_pay = b.rs_call = b.rs_msg = b.rs_life = b.rs_contact = b.rs_platform = None
        b.rs_plan = None
        if self._progress is not None and len(self.finished) >= self._next_report:
            # Report every 0.5% of accounts: simulated days would be a poor measure of work,
            # since an account runs ahead of the clock until it meets the agent pool.
            total = len(self.traits)
            self._next_report = len(self.finished) + max(1, total // 200)
            self._progress(len(self.finished), total)

    def _complaint(self, b: Borrower, t: float, who: str) -> None:
        b.n_complaints += 1
        self._cost(b, "complaints", self.sc.costs.complaint)
        if self.trace:
            self._event(b, t, "complaint", who)

    def _note_call_hours(self, t: float) -> None:
        """Independent check of the calling-hours rule: counts any call outside them."""
        if not self.rules.in_hours(t):
            self.rec.calls_outside_hours += 1

    def _conversation(
        self, b: Borrower, t: float, due: list[float], effect: float, channel: str
    ) -> None:
        """The borrower is on the line: reached, and the repayment intensity jumps."""
        b.n_answered += 1
        self._reached(b, t, due)
        self._contacted(b, t, due, effect, channel)

    # ------------------------------------------------------------------ handlers

    def _on_pay(self, b: Borrower, t: float, due: list[float]) -> None:
        """The borrower repays: in full (the account is cured), or a share of the balance."""
        bh = self.sc.behaviour
        b.accrue(t, self.sc)
        full = b.seg.full_payment_prob * (b.seg.shock_ability_factor if b.in_shock else 1.0)
        share = amount = 0.0
        if next(b.rs_pay) >= full:
            share = bh.partial_min + (bh.partial_max - bh.partial_min) * next(b.rs_pay)
            amount = round(share * b.balance, 2)
            if amount < 0.01 or b.balance - amount < 0.01:  # nothing left worth a fen: clear it
                share = 0.0
        if not share:
            self._receive_payment(b, t, b.balance, "full")
            self._reached(b, t, due)
            self._resolve(b, t, "cured")
            return
        self._receive_payment(b, t, amount, "partial")
        self._reached(b, t, due)
        if b.balance <= 0:
            self._resolve(b, t, "cured")
            return
        b.jump(bh.payment_jump + bh.payment_jump_per_share * share, t, self.kappa)
        due[PAY] = b.sample_payment(t, self.kappa, self.gamma)

    def _on_message(self, b: Borrower, t: float, due: list[float]) -> None:
        """Send the account's next reminder (SMS, push or second reminder)."""
        name, cost, is_sms, stage, read_factor, effect = self._message_steps[b.msg_i]
        b.msg_i += 1
        due[MESSAGE] = self.schedule.message(b, b.msg_i)[0]
        self._cost(b, name, cost)
        day = self.rec.day_index(t)
        if is_sms:
            b.n_sms += 1
            self._sms_by_day[day] += 1
        else:  # in-app push and the second reminder (e-mail, official-account push)
            b.n_push += 1
            self._push_by_day[day] += 1
        if not b.stages & _STAGE_BIT[stage]:
            self._stage(b, t, stage)
        read = not b.dark and next(b.rs_msg) < b.p_sms * read_factor
        if self.trace:
            self._event(b, t, "message", name, "read" if read else "unread")
        if read:
            self._contacted(b, t, due, effect, name)

    def _on_robot(self, b: Borrower, t: float, due: list[float]) -> None:
        if b.in_plan:
            due[ROBOT] = INF
            return
        self._dial(b, t, due, ROBOT)

    def _dial(self, b: Borrower, t: float, due: list[float], kind: int) -> None:
        """Call attempts on one channel (ROBOT, AGENT or AGENCY), starting with the one due now.

        An attempt is allowed by the contact rules (else it moves to the first moment they
        allow), counted against the caps and in the daily series, and answered with the
        channel's probability damped by call fatigue (recent calls, decayed); it may draw a
        complaint, more likely when calls pile up. Robot and agency calls take effect at once;
        an answered agent call needs the shared agent pool, so it is left pending
        (``b.pending = ("connect", t)``) for :meth:`_on_agent` to serve when the clock reaches
        it (the predictive dialer).

        Unanswered attempts are most of an unpaid account's life, so they run here in a row,
        without going back to :meth:`account`, for as long as the next attempt on this channel
        is also the account's next step (the test :meth:`account` makes, ties included); each
        attempt still counts as one step. This is the engine's hot path, so it is written flat.
        """
        channel, stage_bit, cost, effect, next_time, by_day = self._dialers[kind]
        # ``simple``: only calling hours and the minimum gap apply (no caps); that check and
        # the bookkeeping of a call (just its time) are inlined below.
        (earliest, record, simple, gap, start, end, ec_declines, rotation, horizon, last_day,
         memory, lo, hi, costs, trace, cp_pressure) = self._dial_setup  # fmt: skip
        seg = b.seg
        fatigue, cp = seg.fatigue, seg.complaint_per_call
        rs, exp = b.rs_call, math.exp
        steps = 0
        while True:
            if simple:
                ok = b.last_call + gap
                if ok < t:
                    ok = t
                if not start <= ok - int(ok) < end:
                    ok = earliest(b, t)
            else:
                ok = earliest(b, t)
            if ok > t:
                due[kind] = ok
            else:
                if not b.stages & stage_bit:
                    self._stage(b, t, channel)
                if kind == AGENT:
                    b.n_agent += 1
                    p = b.p_new if b.rotated else b.p_agent
                else:
                    if kind == ROBOT:
                        b.n_robot += 1
                        p = b.p_robot
                    else:
                        b.n_agency += 1
                        p = b.p_agent
                    due[kind] = next_time(b, t)
                if cost:
                    costs[channel] += cost
                    b.cost += cost
                day = int(t)
                if not lo <= t - day < hi:  # independent check of the calling hours
                    self.rec.calls_outside_hours += 1
                by_day[day if day < last_day else last_day] += 1
                pressure = b.recent * exp((b.recent_t - t) / memory)
                b.recent = pressure + 1.0
                b.recent_t = t
                answered = False
                if not b.dark:
                    # One uniform decides both the answer and the complaint: given u < pa,
                    # u / pa is again uniform on [0, 1) and independent of the answer (and
                    # likewise (u - pa) / (1 - pa) given u >= pa). Half the draws per call.
                    u = next(rs)
                    pa = p * exp(-fatigue * pressure)
                    answered = u < pa
                    if cp > 0:
                        v = u / pa if answered else (u - pa) / (1.0 - pa)
                        if v < cp * (1.0 + cp_pressure * pressure):
                            self._complaint(b, t, "borrower")
                if simple:
                    b.last_call = t
                else:
                    record(b, t, answered)
                if trace:
                    detail = "answered" if answered else "unreachable" if b.dark else "unanswered"
                    self._event(b, t, "call", channel, detail)
                if answered:
                    if kind == AGENT:
                        b.pending = ("connect", t)  # due[AGENT] stays t: wait for the clock
                    else:
                        self._conversation(b, t, due, effect, channel)
                    self.events_processed += steps
                    return
                b.consec_unanswered += 1
                # Cheap pre-check: without N consecutive declines no trigger mode can fire
                # here (the day-X part of "either" fires from the agenda on day X itself).
                if (
                    b.consec_unanswered >= ec_declines
                    and not b.ec_state
                    and emergency_contact_due(self.sc.ladder, b, t, True)
                ):
                    self._start_ec(b, t, due)
                if kind == AGENT:
                    due[AGENT] = next_time(b, t)
                    if rotation and not b.rotated and b.consec_unanswered >= rotation:
                        b.rotated = True
                        self._stage(b, t, "number_rotation")
            nxt = due[kind]
            if not t < nxt < horizon or min(due) != nxt or due.index(nxt) != kind:
                self.events_processed += steps
                return
            t = nxt
            steps += 1

    def _on_agent(self, b: Borrower, t: float, due: list[float]) -> None:
        """An agent call, placed the way a predictive dialer places it.

        The dialer rings (no agent is on the line yet); only when the borrower answers does
        the call need an agent from the shared pool. So an unanswered attempt is the
        account's own business, while an answered one must meet the pool in time order: the
        account first waits for the clock to reach the answer (``pending = ("connect",)``),
        then books talk time and, if every agent is busy, waits for the start the pool gives
        (``pending = ("talk", ...)``), when the conversation happens.
        """
        if b.in_plan:
            self._cancel_agent_call(b)
            due[AGENT] = INF
            return
        if b.pending is None:  # the dialer rings
            self._dial(b, t, due, AGENT)
            return
        ag = self.sc.ladder.agent
        if b.pending[0] == "connect":  # answered: ask the pool for an agent
            booking = self.pool.book(t, ag.talk_minutes)
            if booking is None:  # no agent left before the horizon: the call is abandoned
                b.pending = None
                due[AGENT] = INF
                return
            b.pending = ("talk", booking[0], booking[1], t)
            due[AGENT] = booking[0]
            if booking[0] > t:
                return
        _, start, slot, requested = b.pending  # the conversation
        b.pending = None
        self.pool.served(requested, t)
        self._cost(b, "agent", self._talk_cost)
        self._conversation(b, t, due, ag.effect, "agent")
        if b.state != "open":
            return
        due[AGENT] = self.schedule.agent(b, t)
        if ag.plan_offer and next(b.rs_call) < b.seg.plan_request_prob:
            self._grant_plan(b, t, due)

    def _cancel_agent_call(self, b: Borrower) -> None:
        """Drop a call in progress; talk time booked with the pool is given back."""
        if b.pending is not None:
            if b.pending[0] == "talk":
                self.pool.release(b.pending[2], self.sc.ladder.agent.talk_minutes)
            b.pending = None

    def _on_handoff(self, b: Borrower, t: float, due: list[float]) -> None:
        """Hand the account to a collection agency: the platform's own calls stop.

        An account keeping a plan is not handed off; the hand-off waits for the next
        instalment and happens only if the plan is broken.
        """
        if b.in_plan:
            due[HANDOFF] = t + self.sc.ladder.plans.interval_days
            return
        due[HANDOFF] = INF
        b.agency = True
        self._stage(b, t, "agency")
        self._cancel_agent_call(b)
        due[ROBOT] = due[AGENT] = INF
        due[AGENCY] = self.schedule.agency(b, t - 1e-9)

    def _on_agency(self, b: Borrower, t: float, due: list[float]) -> None:
        if b.in_plan:
            due[AGENCY] = INF
            return
        self._dial(b, t, due, AGENCY)

    # -- the emergency-contact stage

    def _start_ec(self, b: Borrower, t: float, due: list[float]) -> None:
        """Enter the emergency-contact stage: queue the contacts that may be called."""
        ec = self.sc.ladder.emergency_contact
        n, rel, warned, consent = b.contacts
        eligible = [
            (rel[k], warned[k], consent[k])
            for k in range(n)
            if consent[k] or not ec.require_consent
        ]
        b.ec_state = 2
        if not eligible:
            return
        b.ec_state = 1
        b.ec_day = t - b.entered
        self._stage(b, t, "emergency_contact")
        # Each entry: [relationship, warned, consent, attempts left, next attempt time].
        b.ec_queue = [[*c, ec.attempts_per_contact, t] for c in eligible]
        due[EC] = t

    def _on_ec(self, b: Borrower, t: float, due: list[float]) -> None:
        lad = self.sc.ladder
        ec = lad.emergency_contact
        if b.ec_state == 0:  # the day-X check
            due[EC] = INF
            if emergency_contact_due(lad, b, t, after_decline=False):
                self._start_ec(b, t, due)
            return
        if b.ec_state != 1 or b.in_plan:
            due[EC] = INF
            return
        if ec.only_when_unreachable and b.last_contact + ec.unreachable_days > t:
            due[EC] = b.last_contact + ec.unreachable_days  # reached meanwhile: wait
            return
        ok = self.rules.window(t)
        if ok > t:
            due[EC] = ok
            return
        entry = min(b.ec_queue, key=lambda e: e[4])
        self._call_contact(b, t, due, entry)
        if b.ec_state == 1 and b.ec_queue:
            due[EC] = max(t + 1.0 / 24.0, min(e[4] for e in b.ec_queue))
        else:
            b.ec_state = 2
            due[EC] = INF

    def _call_contact(self, b: Borrower, t: float, due: list[float], entry: list) -> None:
        """Call one emergency contact; a contact who answers is done with."""
        sc = self.sc
        ec, pc = sc.ladder.emergency_contact, sc.population.contacts
        rel = sc.population.contacts.relationships[self.traits.relationship_names[entry[0]]]
        self._note_call_hours(t)
        b.n_contact_calls += 1
        self.rec.daily["contact_calls"][self.rec.day_index(t)] += 1
        self._cost(b, "emergency_contact", sc.costs.contact_call)
        rs = self._late(b, "contact")
        answered = next(rs) < rel.answer_prob * b.seg.contact_answer_factor
        entry[3] -= 1
        entry[4] = t + ec.retry_days
        if not answered:
            if entry[3] <= 0:
                b.ec_queue.remove(entry)
            if self.trace:
                self._event(b, t, "contact_call", "", "unanswered")
            return
        b.ec_queue.remove(entry)
        b.n_tp_contacts += 1
        details = ec.disclosure == "details"
        factor = pc.details_complaint_factor if details else 1.0
        if details:
            b.n_tp_disclosures += 1
        warned = pc.warned_complaint_factor if entry[1] else 1.0
        if next(rs) < rel.complaint_prob * warned * factor:
            self._complaint(b, t, "contact")
        if next(rs) < b.seg.complaint_third_party * factor:
            self._complaint(b, t, "borrower")
        relay_p = rel.relay_prob * (pc.details_relay_factor if details else 1.0)
        relayed = next(rs) < relay_p
        if self.trace:
            self._event(b, t, "contact_call", "", "relayed" if relayed else "answered")
        if relayed:  # seed 000: the mother persuaded the student, who repaid
            b.ec_state = 2
            b.ec_queue = []
            if b.dark:
                self._set_dark(b, t, due, False)
            self._reached(b, t, due)
            self._escalated(b, t, due, ec.effect, "emergency_contact")

    # -- account measures, lost contact, litigation, write-off

    def _on_measure(self, b: Borrower, t: float, due: list[float]) -> None:
        m = self.sc.ladder.measures
        if b.in_plan:
            due[MEASURE] = t + self.sc.ladder.plans.interval_days
            return
        self._stage(b, t, "measures")
        if b.measure_step == 0:
            b.willingness_mult *= m.freeze_willingness
            # A kept plan may have pushed the freeze past the report day: the report then
            # follows at once, never before now (an account's time only moves forward).
            report = b.entered + m.report_day
            due[MEASURE] = (report if report > t else t) if m.report_day > m.freeze_day else INF
        else:
            b.willingness_mult *= m.report_willingness
            due[MEASURE] = INF
        b.measure_step += 1
        if self.trace:
            self._event(b, t, "measure", "", "freeze" if b.measure_step == 1 else "credit_report")
        # The baseline intensity changed too, so the next repayment is drawn afresh.
        b.last_touch = "measures"
        b.jump(b.escalation_jump(m.effect, t, self.gamma), t, self.kappa)
        self._repay_time(b, t, due)

    def _on_lost(self, b: Borrower, t: float, due: list[float]) -> None:
        lc = self.sc.ladder.lost_contact
        due[LOST] = INF
        if b.lost_state == 0:
            if b.last_contact + lc.no_contact_days > t:
                due[LOST] = b.last_contact + lc.no_contact_days
                return
            b.lost_state = 1
            self._stage(b, t, "identity_check")
            self._cost(b, "identity_check", lc.identity_check_cost)
            due[LOST] = t + lc.identity_check_days
        elif b.last_contact + lc.no_contact_days > t:
            # Reached while the procedure ran: it stops, and restarts if contact is lost again.
            b.lost_state = 0
            due[LOST] = b.last_contact + lc.no_contact_days
        elif b.lost_state == 1:
            if b.seg.fraudulent:  # seed 002: identity false -> terminate the agreement
                self._resolve(b, t, "fraud_terminated")
                return
            if not lc.field_visit:
                b.lost_state = 3
                return
            b.lost_state = 2
            due[LOST] = t + lc.field_visit_days
        elif b.lost_state == 2:
            b.lost_state = 3
            self._stage(b, t, "field_visit")
            self._cost(b, "field_visit", lc.field_visit_cost)
            if next(self._late(b, "platform")) < lc.field_visit_success:
                if b.dark:
                    self._set_dark(b, t, due, False)
                self._reached(b, t, due)
                self._escalated(b, t, due, 1.0, "field_visit")

    def _on_litigation(self, b: Borrower, t: float, due: list[float]) -> None:
        lc = self.sc.ladder.lost_contact
        due[LITIGATION] = INF
        if b.lit_state == 0:
            b.accrue(t, self.sc)
            if b.in_plan:
                due[LITIGATION] = t + self.sc.ladder.plans.interval_days
                return
            if b.balance < lc.litigation_min_balance:
                return
            b.lit_state = 1
            self._stage(b, t, "litigation")
            self._cost(b, "litigation", lc.litigation_cost)
            self._escalated(b, t, due, 1.0, "litigation")  # the court summons
            due[LITIGATION] = t + lc.litigation_days
        elif b.lit_state == 1:
            b.lit_state = 2
            if next(self._late(b, "platform")) < lc.litigation_success:
                b.accrue(t, self.sc)
                amount = round(lc.litigation_recovery * b.balance, 2)
                b.last_touch = "litigation"
                self._receive_payment(b, t, amount, "enforcement")
                if b.balance <= 0:
                    self._resolve(b, t, "cured")

    def _on_writeoff(self, b: Borrower, t: float, due: list[float]) -> None:
        self._resolve(b, t, "written_off")

    # -- the borrower's own life

    def _on_shock(self, b: Borrower, t: float, due: list[float]) -> None:
        """The income shock ends: ability recovers, so the baseline intensity rises."""
        due[SHOCK] = INF
        b.decay_to(t, self.kappa)
        b.in_shock = False
        self._repay_time(b, t, due)

    def _set_dark(self, b: Borrower, t: float, due: list[float], dark: bool) -> None:
        b.dark = dark
        if dark:
            due[DARK] = INF
            due[SERVICE] = INF
            due[BACK] = t + self._exp(b, b.seg.reappear_rate)
        else:
            due[BACK] = INF
            due[DARK] = t + self._exp(b, b.seg.go_dark_rate)
            due[SERVICE] = t + self._exp(b, b.seg.service_contact_rate)
        if self.trace:
            self._event(b, t, "reachability", "", "dark" if dark else "back")

    def _on_dark(self, b: Borrower, t: float, due: list[float]) -> None:
        self._set_dark(b, t, due, True)

    def _on_back(self, b: Borrower, t: float, due: list[float]) -> None:
        self._set_dark(b, t, due, False)

    def _on_service(self, b: Borrower, t: float, due: list[float]) -> None:
        """The borrower calls customer service on their own (seeds 000, 001)."""
        due[SERVICE] = t + self._exp(b, b.seg.service_contact_rate)
        self._reached(b, t, due)
        if next(b.rs_life) < b.seg.plan_request_prob and self._grant_plan(b, t, due):
            return
        self._contacted(b, t, due, 1.0, "service")

    # -- instalment plans

    def _grant_plan(self, b: Borrower, t: float, due: list[float]) -> bool:
        """Grant a plan if the policy allows one now; calls pause while it is kept."""
        pl = self.sc.ladder.plans
        if b.in_plan or not pl.enabled or t - b.entered < pl.from_day:
            return False
        if b.n_plans >= pl.max_per_account:
            return False
        b.accrue(t, self.sc)
        b.in_plan = True
        b.n_plans += 1
        b.fees_frozen = pl.freeze_fees
        b.plan_left = pl.instalments
        b.plan_amount = round(b.balance / pl.instalments, 2)
        self._cancel_agent_call(b)
        due[PLAN] = t + pl.first_due_days
        due[PAY] = INF
        if self.trace:
            self._event(b, t, "plan", "", "granted", b.balance)
        return True

    def _on_plan(self, b: Borrower, t: float, due: list[float]) -> None:
        """An instalment falls due: kept (paid) or broken (back to collections)."""
        pl = self.sc.ladder.plans
        if (
            next(self._late(b, "plan"))
            < b.seg.plan_keep_prob * (b.seg.shock_ability_factor if b.in_shock else 1.0) ** 0.5
        ):
            b.plan_left -= 1
            amount = b.balance if b.plan_left <= 0 else min(b.plan_amount, b.balance)
            self._receive_payment(b, t, amount, "instalment")
            self._reached(b, t, due)
            if b.balance <= 0:
                b.in_plan = False
                self._resolve(b, t, "plan_completed")
                return
            due[PLAN] = t + pl.interval_days
            return
        # Broken: collections resume from now.
        b.accrue(t, self.sc)
        b.in_plan = False
        b.fees_frozen = False
        due[PLAN] = INF
        if self.trace:
            self._event(b, t, "plan", "", "broken")
        s = self.schedule
        due[ROBOT] = s.robot(b, t)
        due[AGENT] = s.agent(b, t)
        due[AGENCY] = s.agency(b, t)
        if b.ec_state == 1:
            due[EC] = t
        self._repay_time(b, t, due)

    # ------------------------------------------------------------------ results

    def _records(self) -> Records:
        """The outcomes table, one row per borrower in id order, and the other records."""
        bs = sorted(self.finished, key=attrgetter("bid"))
        # One attrgetter call per borrower, then columns by zip: several times faster than a
        # comprehension per column over a million borrowers.
        rows = list(map(_OUTCOME_ATTRS, bs))
        raw = dict(zip(_OUTCOME_FIELDS, zip(*rows, strict=True), strict=True)) if rows else {}
        get = {f: np.asarray(raw.get(f, ()), dtype=dt) for f, dt in _OUTCOME_DTYPES.items()}
        state = get["state"]
        balance = get["principal"] + get["fees"]
        closed = (state == "written_off") | (state == "fraud_terminated")
        names = np.array(("", *STAGES), dtype=object)
        stages = get["stages"]
        col: dict[str, Any] = {
            "borrower_id": get["bid"],
            "segment": get["seg_name"],
            "principal": get["principal0"],
            "entered_day": get["entered"],
            "final_state": state,
            "resolved_day": get["resolved"],
            "amount_due": get["principal0"] + get["fees_charged"],
            "amount_recovered": get["paid"],
            "amount_written_off": np.where(closed, balance, 0.0),
            "balance_open": np.where(state == "open", balance, 0.0),
            "highest_stage": names[_bit_length(stages)],
        }
        for i, name in enumerate(STAGES):
            col[f"reached_{name}"] = (stages >> i) & 1 == 1
        col["emergency_contact_day"] = get["ec_day"]
        for name, attr in _COUNT_COLUMNS:
            col[name] = get[attr]
        col["cost"] = get["cost"]
        end = np.where(state == "open", self.horizon, get["resolved"])
        monthly = self._monthly(bs, get["bid"], get["entered"], end)
        meta = {
            "horizon_days": self.horizon,
            "agents": self.pool.head_count,
            "borrowers": len(bs),  # accounts that entered before the horizon
            "population": len(self.traits),
            "seed": self.seed,
            "replication": self.streams.replication,
            "events": self.events_processed,
            "package_version": sim.__version__,
        }
        return self.rec.finish(col, monthly, self.pool.daily(), meta)

    @staticmethod
    def _monthly(
        bs: list[Borrower], bid: np.ndarray, entered: np.ndarray, end: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The monthly table's columns: a row per account and month it entered while open,
        in borrower order; ``bid``, ``entered`` and ``end`` (the account's last day:
        resolved, or the horizon) are per account, in the same order as ``bs``."""
        months = list(map(attrgetter("months"), bs))
        counts = np.fromiter(map(len, months), np.int64, len(bs))
        # One float array of (month, balance, paid) rows: months are small integers, exact.
        rows = np.array(list(chain.from_iterable(months)), dtype=float).reshape(-1, 3)
        month = rows[:, 0].astype(np.int64)
        return {
            "borrower_id": np.repeat(bid, counts),
            "month": month,
            "balance_at_entry": rows[:, 1],
            "paid_before": rows[:, 2],
            "observed_days": np.repeat(end, counts) - (np.repeat(entered, counts) + MONTH * month),
        }


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    *,
    replication: int = 0,
    trace: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Records:
    """Run one replication of ``scenario`` and return its records.

    ``seed`` defaults to ``scenario.seed``; ``replication`` selects the child stream of the
    root seed (replications of one seed are independent, and borrower i of replication r sees
    the same random numbers under any policy). ``progress(done, total)`` reports accounts
    finished, about every 0.5% of them. With ``trace`` every contact, answer, payment and
    stage change is in ``events``.
    """
    return Model(scenario, seed, replication, trace).run(progress)
