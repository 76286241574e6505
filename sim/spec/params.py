"""Declarative parameters: every scenario key has a default, a unit, an allowed range and a source.

A scenario section is a frozen dataclass whose fields are declared with :func:`param`. The
loader in :mod:`sim.spec.scenario` walks these declarations to validate a TOML file, and
:mod:`sim.spec.reference` walks them to write the scenario reference, so the documentation can
never drift from the code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

CAL = "sources.md"
"""Where a default's published figure is described: ``docs/sources.md``."""
P01 = dict(lo=0.0, hi=1.0)
"""A probability's range."""
RATE = dict(unit="per day", lo=0.0, hi=50.0)
"""A rate's unit and range."""


class ScenarioError(ValueError):
    """A scenario key or value is wrong; ``path`` is the dotted key path (``ladder.sms.days``)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


@dataclass(frozen=True)
class Meta:
    """What the loader and the reference need to know about one key."""

    unit: str = ""
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""
    source: str = ""
    length: tuple[int, int] | None = None  # allowed list length (min, max), for list keys

    def allowed(self) -> str:
        """Human-readable allowed range, used in error messages and the reference."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.lo is not None and self.hi is not None:
            return f"{_fmt(self.lo)} to {_fmt(self.hi)}"
        if self.lo is not None:
            return f">= {_fmt(self.lo)}"
        if self.hi is not None:
            return f"<= {_fmt(self.hi)}"
        return "any"


def _fmt(x: float) -> str:
    return f"{x:g}"


def param(
    default: Any,
    *,
    unit: str = "",
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] = (),
    doc: str = "",
    source: str = "modelling choice",
    length: tuple[int, int] | None = None,
) -> Any:
    """Declare one scenario key (a dataclass field carrying its :class:`Meta`)."""
    meta = {"spec": Meta(unit, lo, hi, choices, doc, source, length)}
    if isinstance(default, list | dict):
        raise TypeError("use a tuple for list defaults; nested sections use section()")
    return dataclasses.field(default=default, metadata=meta)


def section(factory: Any, doc: str = "") -> Any:
    """Declare a nested section (another spec dataclass)."""
    return dataclasses.field(default_factory=factory, metadata={"section": True, "doc": doc})


def mapping(factory: Any, doc: str = "", item_doc: str = "") -> Any:
    """Declare a table of named sub-sections (e.g. segments by name)."""
    return dataclasses.field(
        default_factory=factory, metadata={"mapping": True, "doc": doc, "item_doc": item_doc}
    )


def extensions(registry: dict[str, type], doc: str = "") -> Any:
    """Declare the sections that code registers at run time (a rung added from outside the
    package): ``registry`` maps a section name to its spec dataclass. In a file they are
    ordinary sections (``[ladder.wechat]``); the instance holds them in this field, by name."""
    return dataclasses.field(
        default_factory=lambda: {name: cls() for name, cls in registry.items()},
        metadata={"extensions": registry, "doc": doc},
    )
