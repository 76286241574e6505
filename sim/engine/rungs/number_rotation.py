"""Number rotation (``ladder.number_rotation``): after ``after_unanswered`` consecutive
unanswered agent calls the platform calls from other numbers, which the borrower answers
with their (usually lower) answer probability for an unknown number (case C)."""

from __future__ import annotations

from typing import Any

from sim.engine.account import Borrower
from sim.engine.rungs.base import Rung, Stage


class NumberRotation(Rung):
    """Switches an account's agent calls to other numbers; no agenda of its own (agent
    calls call :meth:`after_unanswered`)."""

    order = 55
    name = section = "number_rotation"
    stages = (Stage("number_rotation", 60),)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.after = self.cfg.after_unanswered

    def after_unanswered(self, b: Borrower, t: float) -> None:
        """``after_unanswered`` agent calls in a row went unanswered: rotate (agent calls ask
        only then, and only while the account is not rotated)."""
        b.rotated = True
        self.model.stage(b, t, "number_rotation")
