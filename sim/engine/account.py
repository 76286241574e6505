"""One borrower's state and behaviour: the debt, repayment, answering, going dark, complaining.

Lifecycle: a :class:`Borrower` is created when the account becomes overdue (DPD 0) from the
population's trait arrays; the engine (:mod:`sim.engine.core` and the rungs) then asks it, at
each event, what it does — whether it reads a message or answers a call, when it next repays,
how much. It owns the money: balance, fees, repayments, and month-boundary snapshots for the
recovery curve.

Repayment is a self-exciting point process (Chehrazi & Weber 2015; README, "Modelling
notes"): the intensity is ``base + excess``; ``excess`` jumps after contacts and escalation
(sized by the collectability left at that DPD, :meth:`Borrower.aging`) and after repayments
(not aged: the borrower's own momentum), and decays at rate ``behaviour.decay`` per day;
``base`` = segment base intensity x willingness x ability, which change with income shocks and
account measures, and fades with the age of the debt. The next repayment time is sampled
exactly, not by daily ticks: see :meth:`Borrower.sample_payment`.
"""

from __future__ import annotations

import math
from typing import Any

import cython

from sim.spec import Scenario, Segment

INF = math.inf
MONTH = 30.0  # days in a delinquency bucket


@cython.locals(i=cython.Py_ssize_t, k=cython.Py_ssize_t, best=cython.double, x=cython.double)
def first_due(due: list[float]) -> int:
    """The index of the earliest time in an agenda (the first of equal ones): the step an
    account takes next (:meth:`Model.resume <sim.engine.core.Model.resume>`).

    Pure Python asks ``min`` and ``index``, C loops; compiled, this is a loop over the list's
    floats as C doubles, where ``min`` would compare Python floats one rich comparison at a
    time (it was a tenth of the compiled engine's time)."""
    if not cython.compiled:
        return due.index(min(due))
    k = 0
    best = due[0]
    for i in range(1, len(due)):
        x = due[i]
        if x < best:
            best = x
            k = i
    return k


def _first_event(c: float, r: float, e: float) -> float:
    """Time at which intensity ``c * exp(-r * s)`` has accumulated mass ``e`` (inf if never)."""
    if c <= 0:
        return INF
    if r <= 0:
        return e / c
    if r * e >= c:
        return INF
    return -math.log(1.0 - r * e / c) / r


class Borrower:
    """State of one overdue account. Times are absolute simulation days; money is yuan."""

    __slots__ = (
        # identity and traits
        "bid", "seg", "seg_name", "entered", "willingness", "ability", "p_sms", "p_robot",
        "p_agent", "p_new",
        # random streams
        "rs_pay", "rs_call", "rs_msg", "rs_life", "rs_contact", "rs_platform", "rs_plan",
        "rs_agent", "rs_talk",
        # the engine's hold on the account: its agenda, its steps, the call list
        "agenda", "hold", "listed", "dialling",
        # money
        "principal0", "principal", "fees", "fees_charged", "paid",
        "accrued_to", "late_fee_due", "fees_frozen", "next_boundary", "months",
        # behaviour state
        "in_shock", "shock_end", "dark", "willingness_mult", "excess", "excess_t", "recent",
        "recent_t",
        # platform-side state (owned by the ladder)
        "last_contact", "consec_unanswered", "rotated", "call_day", "attempts_today",
        "unanswered_today", "connected_today", "last_call", "last_conversation", "week",
        "ec_state", "ec_queue", "lost_state", "in_plan", "plan_left", "plan_amount",
        "n_plans", "agency", "call_tod", "pending", "measure_step", "lit_state",
        "last_touch", "plan_kind", "promise", "paused_to", "follow_up",
        # outcome
        "state", "resolved", "stages", "ec_day",
        "n_sms", "n_push", "n_robot", "n_agent", "n_agency", "n_answered", "n_tp_contacts",
        "n_tp_disclosures", "n_contact_calls", "n_complaints", "n_abandoned", "cost",
        "n_promises", "n_kept", "n_broken", "promised", "paid_promised", "n_grace",
        "n_waivers", "waived",
        # state of rungs added from outside the package, created on first use
        "extra",
    )  # fmt: skip

    def __init__(self, bid: int, seg_name: str, seg: Segment, entered: float, principal: float):
        self.bid = bid
        self.seg = seg
        self.seg_name = seg_name
        self.entered = entered
        self.principal0 = self.principal = principal
        self.fees = self.fees_charged = self.paid = 0.0
        self.accrued_to = entered
        self.late_fee_due = True
        self.fees_frozen = False
        self.next_boundary = entered + MONTH
        # (month, balance, paid) at each month boundary crossed, from month 1 (month 0 is
        # the principal, nothing paid); None until the first: most of a cohort's accounts
        # are open at once early in the run, and an empty list costs 56 bytes each.
        self.months: list[tuple[int, float, float]] | None = None
        self.in_shock = False
        self.shock_end = INF
        self.dark = False
        self.willingness_mult = 1.0
        self.excess = 0.0
        self.excess_t = entered
        self.recent = 0.0
        self.recent_t = entered
        self.last_contact = entered
        self.consec_unanswered = 0
        self.rotated = False
        self.call_day = -1
        self.attempts_today = self.unanswered_today = self.connected_today = 0
        self.last_call = -INF
        self.last_conversation = -INF
        # Empty tuples until first used (shared, where an empty list costs 56 bytes each).
        self.week: list[float] | tuple[()] = ()  # calls in the rolling week (contact_rules)
        self.ec_state = 0  # rungs.emergency_contact: NOT_STARTED, CALLING, DONE
        self.ec_queue: list[list] | tuple[()] = ()
        self.lost_state = 0  # rungs.lost_contact: WATCHING, IDENTITY_CHECK, FIELD_VISIT, DONE
        self.in_plan = False
        self.plan_left = 0
        self.plan_amount = 0.0
        self.n_plans = 0
        self.plan_kind = "plan"  # rungs.plans: "plan" (instalments) or "grace" (deferral)
        # rungs.promises: the open promise (end of its day, yuan, yuan paid before it, kind,
        # yuan to waive when kept), None if none; agent calls wait until ``paused_to``; a
        # broken promise's follow-up goes ahead of the call list (``follow_up``).
        self.promise: tuple[float, float, float, str, float] | None = None
        self.paused_to = -INF
        self.follow_up = False
        self.n_promises = self.n_kept = self.n_broken = self.n_grace = self.n_waivers = 0
        self.promised = self.paid_promised = self.waived = 0.0
        self.agency = False
        self.call_tod = 0.5
        self.pending: tuple[float, ...] | None = None  # (start, agent, talk, wrap, offered)
        self.agenda: list[float] = []  # when each kind of step is next due (Model.resume)
        self.hold = INF  # on the call list: no step after this time until the dialer says
        self.listed = 0  # on the call list: the number of its entry there (sim.engine.dialer)
        self.dialling = False  # the dialer is placing this account's agent call now
        self.measure_step = 0  # rungs.measures: FREEZE, CREDIT_REPORT (2: both applied)
        self.lit_state = 0  # rungs.litigation: NOT_FILED, FILED, DONE
        self.last_touch = "none"  # channel of the latest contact, for last-touch attribution
        self.state = "open"
        self.resolved = math.nan
        self.stages = 0
        self.ec_day = math.nan
        self.n_sms = self.n_push = self.n_robot = self.n_agent = self.n_agency = 0
        self.n_answered = self.n_tp_contacts = self.n_tp_disclosures = 0
        self.n_contact_calls = self.n_complaints = self.n_abandoned = 0
        self.cost = 0.0
        self.extra: dict[str, Any] | None = None

    # ------------------------------------------------------------------ money

    @property
    def balance(self) -> float:
        """Amount owed now (principal + unpaid fees), yuan, as of the last :meth:`accrue`."""
        return self.principal + self.fees

    def accrue(self, t: float, sc: Scenario) -> None:
        """Bring fees up to time ``t`` and snapshot every month boundary crossed on the way.

        Penalty interest is linear in the outstanding principal between events, so accruing
        piecewise to each boundary gives the exact balance there without a monthly event.
        """
        if t <= self.accrued_to:  # already accrued (a payment accrues, then resolves, at t)
            return
        while t > self.next_boundary:
            self._accrue_to(self.next_boundary, sc)
            m = round((self.next_boundary - self.entered) / MONTH)
            if self.months is None:
                self.months = []
            self.months.append((m, self.balance, self.paid))
            self.next_boundary += MONTH
        self._accrue_to(t, sc)

    def _accrue_to(self, t: float, sc: Scenario) -> None:
        f = sc.fees
        room = f.cap * self.principal0 - self.fees_charged
        if self.late_fee_due and t >= self.entered + 1.0:
            self.late_fee_due = False
            self._charge(min(f.late_fee_rate * self.principal0, room))
            room = f.cap * self.principal0 - self.fees_charged
        dt = t - self.accrued_to
        if dt > 0 and not self.fees_frozen and room > 0:
            self._charge(min(self.principal * f.penalty_daily_rate * dt, room))
        self.accrued_to = max(self.accrued_to, t)

    def _charge(self, amount: float) -> None:
        if amount > 0:
            self.fees += amount
            self.fees_charged += amount

    def _take(self, amount: float) -> float:
        """Take up to ``amount`` yuan off what is owed, fees first; returns the yuan taken."""
        amount = min(amount, self.balance)
        to_fees = min(amount, self.fees)
        self.fees -= to_fees
        self.principal -= amount - to_fees
        if self.principal < 1e-9 and self.fees < 1e-9:
            self.principal = self.fees = 0.0
        return amount

    def forgive(self, amount: float) -> float:
        """Waive up to ``amount`` yuan of what is owed (fees first, as a payment would go);
        returns the yuan waived, money the lender gives up (``waived``)."""
        amount = self._take(amount)
        self.waived += amount
        return amount

    def pay(self, amount: float) -> float:
        """Apply a repayment (fees first, then principal); returns the amount applied."""
        amount = self._take(amount)
        self.paid += amount
        return amount

    # ------------------------------------------------------------------ repayment intensity

    def ability_now(self) -> float:
        return self.ability * (self.seg.shock_ability_factor if self.in_shock else 1.0)

    def willingness_now(self) -> float:
        return min(1.0, self.willingness * self.willingness_mult)

    def base_rate(self) -> float:
        """Baseline repayment intensity lambda_inf, per day."""
        return self.seg.base_intensity * self.willingness_now() * self.ability_now()

    def decay_to(self, t: float, kappa: float) -> None:
        if t > self.excess_t:
            self.excess *= math.exp(-kappa * (t - self.excess_t))
            self.excess_t = t

    def jump(self, size: float, t: float, kappa: float) -> None:
        """Raise the excess intensity by ``size`` (per day) at time ``t``."""
        self.decay_to(t, kappa)
        self.excess += size

    def aging(self, t: float, gamma: float) -> float:
        """Collectability left at time ``t``: ``exp(-gamma * DPD)`` (1 with no aging)."""
        return math.exp(-gamma * (t - self.entered)) if gamma else 1.0

    def contact_jump(self, effect: float, t: float, gamma: float) -> float:
        """Jump from a reminder read or a call answered at ``t`` (per day)."""
        return (
            self.seg.contact_jump * effect * self.ability_now() * self.willingness_now()
            * self.aging(t, gamma)
        )  # fmt: skip

    def escalation_jump(self, effect: float, t: float, gamma: float) -> float:
        """Jump from escalation; pressure works whatever the willingness, not without money."""
        return self.seg.escalation_jump * effect * self.ability_now() * self.aging(t, gamma)

    def excite(self, size: float, t: float, kappa: float) -> float:
        """:meth:`jump` by ``size`` at ``t``, and return the time of the first event of the
        new component ``size * exp(-kappa * (s - t))`` (days; inf if it never fires, and
        nothing is drawn for no jump or while on a plan): what the jump adds to the next
        repayment."""
        self.jump(size, t, kappa)
        if self.in_plan or size <= 0:
            return INF
        return t + _first_event(size, kappa, -math.log(1.0 - next(self.rs_pay)))

    def sample_payment(self, t: float, kappa: float, gamma: float = 0.0) -> float:
        """Time of the next repayment after ``t`` (days; inf if it never comes).

        The intensity ``b * exp(-gamma * s) + a * exp(-kappa * s)`` (``b``: the baseline,
        aged to ``t``; ``a``: the excess left from jumps) is the sum of two independent
        Poisson processes, so the first event is the earlier of the two first events (Dassios
        & Zhao 2013). Each is sampled exactly by inverting its cumulative intensity
        ``c * (1 - exp(-r * s)) / r``, which has finite total mass ``c / r`` when it decays:
        the process may never fire.
        """
        if t > self.excess_t:
            self.excess *= math.exp(-kappa * (t - self.excess_t))
            self.excess_t = t
        rs = self.rs_pay
        e1 = -math.log(1.0 - next(rs))
        e2 = -math.log(1.0 - next(rs))
        base = self.base_rate()
        if gamma and base > 0:
            base *= math.exp(-gamma * (t - self.entered))
        return t + min(_first_event(base, gamma, e1), _first_event(self.excess, kappa, e2))
