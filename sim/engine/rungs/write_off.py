"""Write-off (``ladder.write_off_day``): an account still open that many days past due is
closed and its balance written off (FFIEC: 180 days for revolving credit)."""

from __future__ import annotations

from typing import Any

from sim.engine.account import Borrower
from sim.engine.rungs.base import Rung, Stage


class WriteOff(Rung):
    """Closes an account still open on the write-off day."""

    order = 110
    name = "write_off"
    agenda = ("writeoff",)
    stages = (Stage("written_off", 120),)

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.slot = self.entry["writeoff"]
        self.day = model.sc.ladder.write_off_day

    def fixed_days(self) -> dict[str, float]:
        return {"writeoff": self.day}

    def on_due(self, b: Borrower, t: float, due: list[float]) -> None:
        self.write_off(b, t)

    def write_off(self, b: Borrower, t: float) -> None:
        """Close the account at ``t``; the unpaid balance is written off."""
        self.model.resolve(b, t, "written_off", stage="written_off")
