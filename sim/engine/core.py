"""The engine core: one replication of a scenario as SimPy processes.

Each overdue account (:meth:`Model.resume`) acts only when something happens to it and never
ticks daily. It keeps an agenda: for each kind of step, the time it is next due. The loop
takes the earliest and hands the account to the handler of the rung that owns that step
(:mod:`sim.engine.rungs`), which acts and re-schedules what it affects. Steps that touch only
the account run in its own time order, ahead of the clock; an account due an agent call
joins the call list and parks until the dialer (:mod:`sim.engine.dialer`), which runs on the
SimPy clock, resumes it (see :meth:`Model.resume` for why this changes no result).
Arrivals and the dialer are the only things in SimPy's event queue.

The model holds what the rungs share: the clock, the agent team and its dialer, the contact
rules, the recorder, and the account services every rung uses (:mod:`sim.engine.services`:
stages, costs, the repayment intensity, payments, resolution, complaints). Use
:func:`simulate`; it returns
:class:`~sim.results.records.Records`. The engine never prints or writes files.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import cython
import numpy as np
import simpy

import sim
from sim.engine.account import INF, Borrower, first_due
from sim.engine.agent_team import AgentTeam, Shift, head_count
from sim.engine.contact_rules import ContactRules
from sim.engine.daily_staffing import daily_staffing
from sim.engine.dialer import Dialer
from sim.engine.outcomes import OutcomeTables
from sim.engine.population import Traits, new_account, sample_traits, trait_rows
from sim.engine.rungs import LADDER
from sim.engine.rungs.base import HOOKS, Rung
from sim.engine.rungs.layout import layout
from sim.engine.services import AccountServices
from sim.engine.streams import Streams
from sim.results.records import Recorder, Records
from sim.spec import Scenario

MAX_STEPS_WITHOUT_WAITING = 1_000_000
FLUSH_ACCOUNTS = 8192
"""Finished accounts kept as objects before their rows are recorded as columns."""
"""Guard against an engine bug: a step that re-schedules itself at the same instant would
loop for ever. A real account takes a few hundred steps over a year (one check per step is
cheaper than tracking repeats of the same instant)."""


class Model(AccountServices):
    """One replication: the environment, the rungs, the accounts, and (inherited from
    :class:`~sim.engine.services.AccountServices`) the services the rungs share."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        replication: int = 0,
        trace: bool = False,
        shard: tuple[int, int] = (0, 1),
        trace_dir: Path | None = None,
    ) -> None:
        self.sc = scenario
        self.shard = shard
        self.seed = scenario.seed if seed is None else seed
        self.streams = Streams(self.seed, replication)
        self.horizon = float(scenario.days)
        self.env = simpy.Environment()
        self.days = math.ceil(self.horizon)
        self.trace = trace
        self.kappa = scenario.behaviour.decay
        hl = scenario.behaviour.aging_half_life_days
        self.gamma = math.log(2.0) / hl if hl > 0 else 0.0  # aging rate, per day
        self.population = scenario.population.borrowers
        # A shard draws only its own borrowers' traits (the same values: common random
        # numbers hold), not the whole book's: ten shards of a million would each hold the
        # traits of ten million.
        self.traits: Traits = sample_traits(
            scenario, self.streams, *shard_range(self.population, *shard)
        )
        self.borrowers: list[Borrower | None] = [None] * len(self.traits)
        """The open accounts, at their borrower id less ``traits.first``."""
        self.finished: list[Borrower] = []  # not yet recorded as columns (see _flush)
        self.done = 0
        self.events_processed = 0
        self.next_arrival = 0.0
        """When the next account arrives (days; inf: no more): the dialer never runs past it."""
        self._progress: Callable[[int, int], None] | None = None
        self._next_report = 0

        # The ladder: what each rung declares, collected in ladder order.
        classes = list(LADDER)  # a snapshot: registering a rung later changes no model
        lay = layout(classes)
        self.agenda, self.stages, self.counts = lay.agenda, lay.stages, lay.counts
        self.entry = {name: i for i, name in enumerate(self.agenda)}
        self.stage_bit = {name: 1 << i for i, name in enumerate(self.stages)}
        self.tables = OutcomeTables(lay.stages, lay.counts, self.horizon)
        self.rec = Recorder(
            self.days, trace, lay.daily, lay.channels, lay.touches, trace_dir=trace_dir
        )
        self.rules = ContactRules(scenario.rules)
        ag, rules = scenario.agents, scenario.rules
        # Agents call inside their shift and the calling hours: the team works that window
        # (and is paid for the whole shift, :meth:`_records`).
        opens = max(ag.shift_start, rules.call_start)
        closes = min(ag.shift_start + ag.shift_hours, rules.call_end)
        agents = head_count(scenario) if scenario.ladder.agent.enabled else 0
        agents = shard_share(agents, *shard)
        self.team = AgentTeam(agents, Shift(opens, closes - opens, ag.weekend_share))
        waiting = [e for cls in classes if cls.waits_for_agent for e in cls.agenda[:1]]
        self._agent_entry = self.entry[waiting[0]] if waiting else -1
        """The entry the dialer drives (agent calls; -1: none)."""
        self.dialer = Dialer(self, self.team, self._agent_entry)

        self.rungs: dict[str, Rung] = {cls.name: cls(self) for cls in classes}
        self.hooks: dict[str, list[Callable[..., None]]] = {
            hook: [
                getattr(r, hook)
                for r in self.rungs.values()
                if getattr(type(r), hook) is not getattr(Rung, hook)
            ]
            for hook in HOOKS
        }
        """Per hook, the bound methods of the rungs that override it, in ladder order."""
        for rung in self.rungs.values():
            rung.connect()
        owner = {e: r for r in self.rungs.values() for e in r.agenda}
        self.handlers: list[Callable[[Borrower, float, list[float]], None]] = [
            getattr(owner[e], f"on_{e}", None) or owner[e].on_due for e in self.agenda
        ]
        self._fixed_days = [
            (self.entry[e], dpd) for r in self.rungs.values() for e, dpd in r.fixed_days().items()
        ]
        """(entry, DPD) of the steps every account has on a fixed day past due."""
        self._fixed_times: tuple[float, list[tuple[int, float]]] = (math.nan, [])
        """(entered, [(entry, time)]) for the last account opened."""
        self.starts = [r.start for r in self.rungs.values() if type(r).start is not Rung.start]
        self.pay = self.entry["pay"]
        self._on_reached = self.hooks["on_reached"]
        self._on_payment = self.hooks["on_payment"]
        self._on_close = self.hooks["on_close"]
        self._write_off = self.rungs["write_off"]
        self._blank_agenda = [INF] * len(self.agenda)
        # Agency calls come at a preferred clock time of each account (drawn once) inside
        # the agents' hours, which spreads their load over the day.
        self._call_window = (opens / 24.0, closes / 24.0)
        daily_counters = self.rec.daily  # engine counters by day, looked up once
        self._cures_by_day = daily_counters["cures"]
        self._recovered_by_day = daily_counters["amount_recovered"]

    def rung(self, name: str) -> Any:
        """The rung named ``name`` (``KeyError`` naming the rungs there are)."""
        try:
            return self.rungs[name]
        except KeyError:
            raise KeyError(f"no rung {name!r}; rungs: {', '.join(self.rungs)}") from None

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
            for b in self.borrowers:  # accounts still on the call list live to the horizon
                if b is not None and b.state == "open" and b.hold < INF:
                    b.listed = 0
                    b.hold = INF
                    self.resume(b)
            for b in self.borrowers:
                if b is not None and b.state == "open":
                    self._close_at_horizon(b)
            self.dialer.stop()
            if progress is not None:
                progress(len(self.traits), len(self.traits))
            return self._records()
        finally:
            if was_enabled:
                gc.enable()

    def _arrivals(self) -> Generator[Any, Any, None]:
        """Open accounts as they become overdue (all at once for a cohort)."""
        first = self.traits.first
        order = np.argsort(self.traits.entered_day, kind="stable")  # indices into the traits
        env = self.env
        chunk = 4096
        for lo in range(0, len(order), chunk):
            at = order[lo : lo + chunk]
            for i, row in zip((at + first).tolist(), trait_rows(self.traits, at), strict=True):
                t = row[0]
                if t >= self.horizon:
                    self.next_arrival = INF
                    return
                if t > env.now:
                    self.next_arrival = t
                    yield env.timeout(t - env.now)
                b = new_account(i, row, self.traits, self.sc, self.streams, self._call_window)
                self.borrowers[i - first] = b
                self._open(b)
        self.next_arrival = INF

    @cython.locals(b=Borrower)
    def _open(self, b: Borrower) -> None:
        """Start an account now: its agenda, then its steps up to the first park (or its
        end). It runs in its own time order until it joins the call list; only the dialer
        resumes it then, so accounts cost the event queue nothing."""
        due = self._blank_agenda.copy()
        b.agenda = due
        t0, entered = self.env.now, b.entered
        fixed = self._fixed_times
        if fixed[0] != entered:  # accounts that enter together share these float objects
            fixed = self._fixed_times = (entered, [(k, entered + d) for k, d in self._fixed_days])
        for slot, at in fixed[1]:
            due[slot] = at
        for start in self.starts:
            start(b, t0, due)
        if self.trace:
            self.event(b, t0, "enter", b.seg_name)
        self.resume(b)

    @cython.locals(b=Borrower)
    def resume(self, b: Borrower) -> None:
        """Live the account's steps, from DPD 0 until it is resolved or the horizon.

        The account's steps run in its own time order, ahead of the clock: a step that
        touches nothing but this account (a reminder, a robot call, a repayment, a trigger)
        is applied in sequence without a round-trip through the event queue, since nothing
        another process does can change it. Only agent calls meet another process, the
        dialer: when one falls due the account joins the call list and sets ``b.hold``; the
        account then parks (returns, telling the dialer when its own next step is due)
        before any step later than ``b.hold``, and the dialer resumes it at the dial time,
        or at the close of the day to bring it up to date. So every step happens at its own
        time, as if each waited for the clock. A resolved account, or one with nothing left
        before the horizon, does nothing when resumed.

        The state between resumes is the account's (its agenda, ``b.agenda``), not a
        suspended generator's: a parked account costs no frame (about 240 bytes each, with a
        million open at once).

        An account's time only moves forward: a step due before the previous one is an engine
        bug, and the run stops naming it rather than living the account's days again.
        """
        due, handlers, horizon = b.agenda, self.handlers, self.horizon
        steps = 0
        last = -INF
        while b.state == "open":
            kind = first_due(due)
            t = due[kind]
            if t > b.hold:  # on the call list: wait for the dialer
                self.events_processed += steps
                self.dialer.parked(b, t)
                return
            if t >= horizon:
                break
            if t < last:
                raise RuntimeError(
                    f"account {b.bid}: step {self.agenda[kind]} due at t={t!r} is "
                    f"earlier than its previous step at t={last!r}: an account's time only "
                    "moves forward"
                )
            last = t
            steps += 1
            handlers[kind](b, t, due)
            if steps > MAX_STEPS_WITHOUT_WAITING:
                raise RuntimeError(
                    f"account {b.bid} made {steps:,} steps without waiting, the last "
                    f"{self.agenda[kind]} at t={t!r} (agenda {due}): a step that keeps "
                    "falling due at the same instant is a bug"
                )
        self.events_processed += steps

    def _close_at_horizon(self, b: Borrower) -> None:
        """An account still open when the run stops; a write-off due exactly then happens."""
        at = b.entered + self._write_off.day
        if at <= self.horizon:
            self._write_off.write_off(b, at)
            return
        b.accrue(self.horizon, self.sc)
        for hook in self._on_close:
            hook(b, self.horizon)
        self._finish(b)

    @cython.locals(b=Borrower)
    def _finish(self, b: Borrower) -> None:
        """The account is done (resolved, or open at the horizon)."""
        self.finished.append(b)
        self.done += 1
        # The account draws nothing more: its streams go now, not when its rows are recorded.
        b.rs_pay = b.rs_call = b.rs_msg = b.rs_life = b.rs_contact = b.rs_platform = None
        b.rs_plan = b.rs_agent = b.rs_talk = None
        if len(self.finished) >= FLUSH_ACCOUNTS:
            self._flush()
        if self._progress is not None and self.done >= self._next_report:
            # Report every 0.5% of accounts: simulated days would be a poor measure of work,
            # since an account runs ahead of the clock until it joins the call list.
            total = len(self.traits)
            self._next_report = self.done + max(1, total // 200)
            self._progress(self.done, total)

    def _flush(self) -> None:
        """Record the finished accounts' outcome and monthly rows as columns, and let the
        accounts go: memory then holds the open accounts and a few hundred bytes per
        finished one, not every account of the run."""
        if self.finished:
            self.tables.add(self.finished)
            first = self.traits.first
            for b in self.finished:
                self.borrowers[b.bid - first] = None
            self.finished = []

    # ------------------------------------------------------------------ results

    def _records(self) -> Records:
        """The outcomes table, one row per borrower in id order, and the other records."""
        self._flush()
        outcomes, monthly = self.tables.finish()
        meta = {
            "horizon_days": self.horizon,
            "agents": self.team.head_count,
            "abandon_cap": self.sc.rules.max_abandoned_share,
            "borrowers": self.done,  # accounts that entered before the horizon
            "population": self.population,
            "shard": list(self.shard),
            "seed": self.seed,
            "replication": self.streams.replication,
            "events": self.events_processed,
            "package_version": sim.__version__,
            "stages": list(self.stages),
        }
        daily = daily_staffing(self.dialer, self.rec.days, self.sc.agents.shift_hours)
        # Agents are paid for their shifts, busy or not: what their calls did not use.
        idle = float((daily["agent_paid_minutes"] - daily["agent_busy_minutes"]).sum())
        if "agent_idle" in self.rec.costs:
            self.rec.costs["agent_idle"] += idle / 60.0 * self.sc.costs.agent_hour
        return self.rec.finish(outcomes, monthly, daily, meta)


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    *,
    replication: int = 0,
    trace: bool = False,
    progress: Callable[[int, int], None] | None = None,
    shard: tuple[int, int] = (0, 1),
    trace_dir: Path | None = None,
) -> Records:
    """Run one replication of ``scenario`` and return its records.

    ``seed`` defaults to ``scenario.seed``; ``replication`` selects the child stream of the
    root seed (replications of one seed are independent, and borrower i of replication r sees
    the same random numbers under any policy). ``progress(done, total)`` reports accounts
    finished, about every 0.5% of them. With ``trace`` every contact, answer, payment and
    stage change is in ``events``.

    ``shard = (k, K)`` simulates only shard k of K: the borrowers of the k-th of K equal
    ranges of ids, with their share of the agent team (:func:`shard_share`);
    :mod:`sim.experiments.shards` runs the K shards and merges them. Borrower i has the same
    traits and random numbers whatever K is (common random numbers hold).

    ``trace_dir`` (with ``trace``) streams the trace to ``trace_dir/events.parquet`` in row
    groups as the run goes (:mod:`sim.results.trace_file`) instead of holding it: the same
    table, in ``records.events_file``; ``records.events`` is then None.
    """
    return Model(scenario, seed, replication, trace, shard, trace_dir).run(progress)


def shard_range(n: int, k: int, shards: int) -> tuple[int, int]:
    """Borrower ids ``[lo, hi)`` of shard ``k`` of ``shards`` (contiguous, so a shard reads
    few blocks of the random-number tree)."""
    if not 0 <= k < shards:
        raise ValueError(f"shard: k must be in 0..{shards - 1}, got {k}")
    return n * k // shards, n * (k + 1) // shards


def shard_share(agents: int, k: int, shards: int) -> int:
    """Shard ``k``'s agents: the team split as evenly as whole agents allow (the first
    ``agents % shards`` shards get one more). A floor staffed per portfolio, not one floor
    for the whole book: an approximation, see docs/performance.md."""
    return agents // shards + (1 if k < agents % shards else 0)
