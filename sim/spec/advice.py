"""Settings that are valid but are probably not what was meant: warnings, not errors.

:func:`advise` looks at the keys a scenario file (with its overrides) sets and says, one
sentence each:

* a key that has **no effect** under the trigger, mode or switch chosen (naming both keys):
  ``ladder.emergency_contact.day`` while the trigger is ``declines``, a rung's settings while
  the rung is off, the predictive dialer's settings under a progressive dialer, ...;
* a value that **looks like a percentage** where a share is expected (``fees.late_fee_rate =
  1`` is 100%, not 1%);
* an **inflow longer than the horizon**, with the number of borrowers it leaves out.

The loader (:func:`sim.spec.loading.load_scenario`) issues them as :class:`ScenarioWarning`;
the command line prints each as a ``warning:`` line.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any

from sim.spec.loading import flatten
from sim.spec.params import Meta
from sim.spec.scenario import Scenario


class ScenarioWarning(UserWarning):
    """A valid setting that is probably a mistake (the message says why)."""


Inert = tuple[str, Callable[[Scenario], bool], Callable[[Scenario], str]]
"""(key, whether it has no effect in this scenario, the setting that makes it so)."""

_EC = "ladder.emergency_contact.trigger"
_INERT: tuple[Inert, ...] = (
    ("ladder.emergency_contact.day",
     lambda s: s.ladder.emergency_contact.trigger not in ("day", "either", "both"),
     lambda s: f"{_EC} is {s.ladder.emergency_contact.trigger!r} (the day counts with "
               "'day', 'either' or 'both')"),
    ("ladder.emergency_contact.declined_calls",
     lambda s: s.ladder.emergency_contact.trigger not in ("declines", "either", "both"),
     lambda s: f"{_EC} is {s.ladder.emergency_contact.trigger!r} (declines count with "
               "'declines', 'either' or 'both')"),
    ("ladder.emergency_contact.unreachable_days",
     lambda s: s.ladder.emergency_contact.trigger not in ("declines", "either", "both"),
     lambda s: f"{_EC} is {s.ladder.emergency_contact.trigger!r}"),
    ("population.inflow_days",
     lambda s: s.population.arrival != "inflow",
     lambda s: f"population.arrival is {s.population.arrival!r}, not 'inflow'"),
    ("agents.per_10k_borrowers",
     lambda s: s.agents.head_count > 0,
     lambda s: f"agents.head_count is {s.agents.head_count} (per 10,000 applies when it is 0)"),
    *(
        (f"agents.{k}",
         lambda s: s.agents.dialer != "predictive",
         lambda s: f"agents.dialer is {s.agents.dialer!r} (it applies to 'predictive')")
        for k in ("pacing_ratio", "patience_seconds", "max_wait_seconds")
    ),
    ("rules.max_abandoned_share",
     lambda s: s.agents.dialer != "predictive",
     lambda s: f"agents.dialer is {s.agents.dialer!r}: a progressive dialer abandons no call"),
    *(
        (f"agents.{k}",
         lambda s: s.agents.handle_distribution != "lognormal",
         lambda s: f"agents.handle_distribution is {s.agents.handle_distribution!r} (the CVs "
                   "apply to 'lognormal')")
        for k in ("talk_cv", "wrap_cv")
    ),
)  # fmt: skip

_PERCENT_DEFAULT = 0.2
"""A share whose default is at most this, set to 1 or more, looks like a percentage."""


def advise(data: Mapping[str, Any], scenario: Scenario) -> list[str]:
    """Warnings about the keys ``data`` (nested, as read from TOML with overrides) sets."""
    given = flatten(data)
    out = []
    for key, inert, why in _INERT:
        if key in given and inert(scenario):
            out.append(f"{key} has no effect: {why(scenario)}")
    for key in sorted(given):
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "ladder" and parts[2] != "enabled":
            rung = getattr(scenario.ladder, parts[1], None)
            if rung is not None and getattr(rung, "enabled", True) is False:
                out.append(f"{key} has no effect: ladder.{parts[1]}.enabled is false")
    for key, value in sorted(given.items()):
        found = _declared(key)
        if found is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        meta, default = found
        if (
            meta.lo == 0
            and meta.hi == 1
            and value >= 1
            and isinstance(default, float)
            and default <= _PERCENT_DEFAULT
        ):
            out.append(
                f"{key} = {value:g} means 100% (a share: {default:g} is {100 * default:g}%); "
                f"if you meant {value:g}%, write {value / 100:g}"
            )
    p = scenario.population
    if p.arrival == "inflow" and p.inflow_days > scenario.days:
        left = round(p.borrowers * (1 - scenario.days / p.inflow_days))
        out.append(
            f"population.inflow_days ({p.inflow_days:g}) is longer than days "
            f"({scenario.days:g}): {left:,} of {p.borrowers:,} borrowers would arrive after "
            "the horizon and are not simulated"
        )
    return out


def _declared(dotted: str) -> tuple[Meta, Any] | None:
    """The declaration (:class:`Meta`) and default of a scalar key, following named tables
    (``population.segments.NAME.weight``); None if there is none."""
    cls: Any = Scenario
    parts = dotted.split(".")
    i = 0
    while i < len(parts):
        if not dataclasses.is_dataclass(cls):
            return None
        fields = {f.name: f for f in dataclasses.fields(cls)}
        f = fields.get(parts[i])
        if f is None:
            for ext in fields.values():  # a registered section (a rung's)
                registry = ext.metadata.get("extensions", {})
                if parts[i] in registry:
                    cls, i = registry[parts[i]], i + 1
                    break
            else:
                return None
            continue
        hint = typing.get_type_hints(cls)[f.name]
        if f.metadata.get("section"):
            cls, i = hint, i + 1
        elif f.metadata.get("mapping"):
            cls, i = typing.get_args(hint)[1], i + 2  # skip the entry's name
        elif i == len(parts) - 1 and "spec" in f.metadata:
            default = f.default if f.default is not dataclasses.MISSING else None
            return f.metadata["spec"], default
        else:
            return None
    return None
