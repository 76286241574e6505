"""What a rung is: the declarations the engine collects and the hooks it calls.

A rung is one mechanism acting on an overdue account: a rung of the platform's ladder (a
reminder, robot calls, the emergency-contact stage, ...) or the borrower's own behaviour
(repaying, life events). Each is a subclass of :class:`Rung` that declares, as class
attributes:

* ``name`` and ``order`` - what it is called and where it stands in the ladder;
* ``section`` - its settings, ``scenario.ladder.<section>`` (None: it reads other sections);
* ``agenda`` - its agenda entries: the kinds of step it takes, each with its own due time per
  account (the engine takes the earliest; ties go to the entry listed first in ladder order);
* ``stages`` - the stages an account can reach through it (:class:`Stage`, with its rank in
  the escalation order), ``channels`` - its cost channels (yuan), ``touches`` - the channels
  it credits repayments to (last touch), ``counts`` - its outcome count columns
  (:class:`Count`), ``daily`` - its daily counters.

and implements ``fixed_days`` or ``start`` (when each entry is first due for a new account:
on a fixed day past due, or depending on the account) and the handlers of
its entries (what it does when due): ``on_due(b, t, due)`` for a rung with one entry, or
``on_<entry>(b, t, due)`` for each entry of a rung with several. ``due`` is the account's
agenda: a list of absolute times (days) indexed by :attr:`Rung.entry`; a handler re-schedules
what it affects, never earlier than ``t``.

Hooks a rung may override, called by the engine when something happens to an account that it
should react to (only rungs that override a hook are called): :meth:`Rung.on_reached`,
:meth:`Rung.on_payment`, :meth:`Rung.on_plan_granted`, :meth:`Rung.on_plan_broken`,
:meth:`Rung.on_handed_off` and :meth:`Rung.on_close`.

Lifecycle: the :class:`~sim.engine.core.Model` builds one instance of each rung per
replication (after numbering every agenda entry), calls :meth:`Rung.connect` once all exist,
then :meth:`Rung.start` for each new account and the handlers and hooks as the run goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sim.engine.account import Borrower
    from sim.engine.core import Model

HOOKS = (
    "on_reached", "on_payment", "on_plan_granted", "on_plan_broken", "on_handed_off", "on_close",
)  # fmt: skip
"""Hooks the engine calls on every rung that overrides them."""


@dataclass(frozen=True)
class Stage:
    """A stage an account can reach: ``reached_<name>`` in the outcomes.

    ``rank`` orders the stages by escalation; an account's ``highest_stage`` is the reached
    stage with the highest rank. The built-in ranks are 10, 20, ... 120 (reminder to
    written_off), so a new stage slots in between (e.g. 15: after the first reminder)."""

    name: str
    rank: float


@dataclass(frozen=True)
class Count:
    """An outcome count column and the account attribute that holds it.

    ``attr`` is a slot of :class:`~sim.engine.account.Borrower` for the built-in rungs; a rung
    added from outside the package keeps its counts in the account's ``extra`` dict under
    ``attr`` (see :meth:`Rung.bump`)."""

    column: str
    attr: str
    money: bool = False
    """A sum of yuan (a float column), not a count."""


class Rung:
    """Base class of every rung; see the module docstring for the contract."""

    name: ClassVar[str] = ""
    """Identifies the rung (``model.rung(name)``); unique within a ladder. A class without a
    name is a base class, not a rung."""
    order: ClassVar[float] = 0.0
    """Position in the ladder: ties between agenda entries due at the same instant go to the
    rung of lower order, and columns follow it. The built-in rungs use 0 (repayment) to 130
    (plans); see :data:`sim.engine.rungs.LADDER`."""
    section: ClassVar[str | None] = None
    agenda: ClassVar[tuple[str, ...]] = ()
    stages: ClassVar[tuple[Stage, ...]] = ()
    channels: ClassVar[tuple[str, ...]] = ()
    touches: ClassVar[tuple[str, ...]] = ()
    counts: ClassVar[tuple[Count, ...]] = ()
    daily: ClassVar[tuple[str, ...]] = ()
    waits_for_agent: ClassVar[bool] = False
    """Its first entry is placed by the dialer through the call list (agent calls)."""
    spec: ClassVar[type | None] = None
    """For a rung added from outside the package: the spec dataclass of its section."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.cfg: Any = model.sc.ladder.section(self.section) if self.section else None
        self.entry = {name: model.entry[name] for name in self.agenda}
        """This rung's agenda entries: name -> position in an account's ``due`` list."""

    def connect(self) -> None:
        """Look up the other rungs this one calls (all rungs exist by now)."""

    def fixed_days(self) -> dict[str, float]:
        """Entries first due on a fixed day past due whatever the account, by entry: DPD.
        Asked once per replication; the engine sets them for every new account (cheaper
        than a :meth:`start` per account, which is for what depends on the account)."""
        return {}

    def start(self, b: Borrower, t: float, due: list[float]) -> None:
        """A new account at ``t``: set when each of this rung's entries is first due, if it
        depends on the account (see :meth:`fixed_days`)."""

    # -- hooks (see HOOKS): the engine calls only the rungs that override them

    def on_reached(self, b: Borrower, t: float, due: list[float]) -> None:
        """The borrower was reached (answered, relayed, found, called in, or paid)."""

    def on_payment(self, b: Borrower, t: float, amount: float) -> None:
        """``amount`` yuan was repaid at ``t``."""

    def on_plan_granted(self, b: Borrower, t: float, due: list[float]) -> None:
        """An instalment plan starts: collection actions pause while it is kept."""

    def on_plan_broken(self, b: Borrower, t: float, due: list[float]) -> None:
        """The plan was broken: collections resume from ``t``."""

    def on_handed_off(self, b: Borrower, t: float, due: list[float]) -> None:
        """The account was handed to a collection agency: the platform's calls stop."""

    def on_close(self, b: Borrower, t: float) -> None:
        """The account is done (resolved, or open at the horizon): drop anything pending."""

    # -- helpers

    def bump(self, b: Borrower, attr: str) -> None:
        """Add one to count ``attr`` of the account (a slot, or a key of ``b.extra``)."""
        try:
            setattr(b, attr, getattr(b, attr) + 1)
        except AttributeError:  # not a slot: a rung from outside the package
            if b.extra is None:
                b.extra = {}
            b.extra[attr] = b.extra.get(attr, 0) + 1
