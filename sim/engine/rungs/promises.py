"""Promises to pay, tracked as a collections floor tracks them (``ladder.promises``).

A promise is an amount (the whole balance, or a part) by the end of a day 1 to ``max_days``
days after the conversation. The borrower keeps it with the segment's ``promise_keep_prob``,
times ``broken_keep_factor`` for each promise broken before (and less in an income shock):
a promise that will be kept is paid at a uniform moment before its deadline. A promise is
**kept** as soon as the promised amount has arrived since it was made, however it came (the
promised payment, or a repayment of the borrower's own); **broken** when its day ends short
of it. A broken promise puts the account on the call list ``follow_up_days`` after the
promised day, ahead of every other account (:mod:`sim.engine.dialer`), and makes the next
promise worth less. Agent calls wait for the follow-up day while a promise is open.

A settlement (``ladder.waiver``) is a promise of the balance less the fees to waive: kept, the
fees are waived (money the lender gives up, ``amount_waived``); fees are frozen meanwhile.
A promise still open when the account closes (written off, or the horizon) is neither kept
nor broken.
"""

from __future__ import annotations

import math
from typing import Any

import cython

from sim.engine.account import INF, Borrower
from sim.engine.rungs.base import Count, Rung

_FEN = 0.005  # yuan: amounts within half a fen are equal


class Promises(Rung):
    """Makes promises (:meth:`promise`, :meth:`settle`), collects and judges them."""

    order = 57
    name = section = "promises"
    agenda = ("promise",)
    counts = (
        Count("n_promises", "n_promises"),
        Count("n_promises_kept", "n_kept"),
        Count("n_promises_broken", "n_broken"),
        Count("amount_promised", "promised", money=True),
        Count("amount_paid_on_promise", "paid_promised", money=True),
        Count("n_waivers", "n_waivers"),
    )

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.slot = self.entry["promise"]
        self.by_dpd = model.rec.promises_by_dpd  # made, kept, broken by day past due
        self.last_dpd = model.rec.days - 1

    def count(self, what: str, b: Borrower, t: float) -> None:
        """One promise ``what`` (made, kept, broken) at ``t``, by its day past due."""
        dpd = int(t - b.entered)
        self.by_dpd[what][dpd if dpd < self.last_dpd else self.last_dpd] += 1

    @cython.locals(b=Borrower)
    def promise(self, b: Borrower, t: float, due: list[float]) -> None:
        """The borrower promises to pay, in a conversation at ``t``: the whole balance, or a
        part (the same shares as a repayment's, :meth:`payment_share`)."""
        m = self.model
        b.accrue(t, m.sc)
        share = m.payment_share(b, m.late(b, "talk"))
        amount = b.balance if not share else round(share * b.balance, 2)
        factor = self.cfg.broken_keep_factor**b.n_broken
        self.make(b, t, due, amount, b.seg.promise_keep_prob * factor, "promise", 0.0)

    @cython.locals(b=Borrower)
    def settle(self, b: Borrower, t: float, due: list[float]) -> None:
        """A fee waiver (``ladder.waiver``): the balance less the fees waived, by a date."""
        w = self.model.sc.ladder.waiver
        b.accrue(t, self.model.sc)
        waive = round(w.fee_share * b.fees, 2)
        b.n_waivers += 1
        b.fees_frozen = True
        keep = b.seg.promise_keep_prob * w.keep_factor * self.cfg.broken_keep_factor**b.n_broken
        self.make(b, t, due, round(b.balance - waive, 2), min(1.0, keep), "settlement", waive)

    @cython.locals(b=Borrower)
    def make(
        self, b: Borrower, t: float, due: list[float], amount: float, keep: float, kind: str,
        waive: float,
    ) -> None:  # fmt: skip
        """Open a promise of ``amount`` yuan, kept with probability ``keep``."""
        m, cfg = self.model, self.cfg
        rs = m.late(b, "talk")
        end = math.floor(t) + 2.0 + int(next(rs) * cfg.max_days)  # the end of day 1..max_days
        if b.in_shock:
            keep *= b.seg.shock_ability_factor**0.5
        kept = next(rs) < keep
        pay_at = t + next(rs) * (end - t)
        b.promise = (end, amount, b.paid, kind, waive)
        b.n_promises += 1
        b.promised += amount
        b.paused_to = end + cfg.follow_up_days - 1.0
        self.count("made", b, t)
        due[self.slot] = pay_at if kept else end
        if m.trace:
            m.event(b, t, "promise", kind, "made", amount)

    @cython.locals(b=Borrower)
    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        """The promised payment (before the deadline), or the deadline: broken."""
        p = b.promise
        due[self.slot] = INF
        if p is None:
            return
        end, amount, base, kind, _ = p
        if t >= end:
            self.broken(b, t, due)
            return
        due[self.slot] = end  # judged kept by on_payment, which clears this
        m = self.model
        b.accrue(t, m.sc)
        owed = min(amount - (b.paid - base), b.balance)
        if owed > _FEN:
            share = 0.0 if owed >= b.balance - _FEN else owed / b.balance
            m.repaid(b, t, due, round(owed, 2) if share else b.balance, kind, share)

    @cython.locals(b=Borrower)
    def on_payment(self, b: Borrower, t: float, amount: float) -> None:
        """Kept once the promised amount has arrived (fees waived for a settlement)."""
        p = b.promise
        if p is None:
            return
        _, promised, base, kind, waive = p
        if b.paid - base < promised - _FEN:
            return
        b.promise = None
        b.n_kept += 1
        b.paid_promised += b.paid - base
        b.agenda[self.slot] = INF
        self.count("kept", b, t)
        m = self.model
        if m.trace:
            m.event(b, t, "promise", kind, "kept", promised)
        if kind == "settlement":
            b.fees_frozen = b.in_plan
            waived = b.forgive(waive)
            if m.trace and waived > 0:
                m.event(b, t, "waiver", "", "", waived)

    @cython.locals(b=Borrower)
    def broken(self, b: Borrower, t: float, due: list[float]) -> None:
        """The promised day ended short of the amount: followed up ahead of the list."""
        end, promised, base, kind, _ = b.promise
        m = self.model
        b.promise = None
        b.n_broken += 1
        b.paid_promised += b.paid - base
        b.follow_up = True
        self.count("broken", b, t)
        if kind == "settlement":
            b.accrue(t, m.sc)
            b.fees_frozen = b.in_plan
        if m.trace:
            m.event(b, t, "promise", kind, "broken", promised)

    @cython.locals(b=Borrower)
    def on_close(self, b: Borrower, t: float) -> None:
        """Open at the account's close: neither kept nor broken; what was paid counts."""
        p = b.promise
        if p is not None:
            b.paid_promised += b.paid - p[2]
            b.promise = None
