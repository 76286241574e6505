"""Generate the scenario reference, ``docs/scenario_reference.md``, from the spec dataclasses.

Every key's default, unit, allowed range, meaning and source come from its
:func:`sim.spec.params.param` declaration in :mod:`sim.spec`, so the reference cannot
drift from the loader. Regenerate with ``python -m sim reference --write``; a test fails when the
committed file differs from :func:`generate`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.spec.loading import build_scenario
from sim.spec.params import Meta, ScenarioError
from sim.spec.scenario import Scenario

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "scenario_reference.md"
NAME = "NAME"
"""Placeholder for the name of an entry in a named table, e.g. ``population.segments.NAME``."""

COLUMNS = ("key path", "default", "unit", "allowed", "meaning", "source")


@dataclasses.dataclass(frozen=True)
class Section:
    """One table of the reference: a section, or the item keys of a named table."""

    path: str
    cls: type
    value: Any  # the default instance (for a named table: the defaults of a new entry)
    doc: str
    named: dict[str, Any] | None = None  # per-name defaults of a named table


def generate() -> str:
    """The full text of ``docs/scenario_reference.md``."""
    sections = list(walk(Scenario, Scenario(), "", "keys at the top of the file"))
    parts = [_intro(), _contents(sections)]
    parts += [_render(s) for s in sections]
    return "\n\n".join(parts).rstrip() + "\n"


def walk(cls: type, value: Any, path: str, doc: str) -> Iterator[Section]:
    """Yield ``cls``'s section, then its sub-sections and named tables, in declaration order."""
    yield Section(path, cls, value, doc)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        sub = _join(path, f.name)
        if f.metadata.get("section"):
            yield from walk(hints[f.name], getattr(value, f.name), sub, f.metadata["doc"])
        elif "extensions" in f.metadata:
            for name, sub_cls in f.metadata["extensions"].items():
                yield from walk(sub_cls, getattr(value, f.name)[name], _join(path, name), name)
        elif f.metadata.get("mapping"):
            item_cls = typing.get_args(hints[f.name])[1]
            named = getattr(value, f.name)
            yield Section(_join(sub, NAME), item_cls, item_cls(), f.metadata["doc"], named)


def key_paths() -> list[str]:
    """Every documented key path (named tables use ``NAME``), in reference order."""
    return [
        _join(s.path, f.name)
        for s in walk(Scenario, Scenario(), "", "")
        for f in _scalar_fields(s.cls)
    ]


# --------------------------------------------------------------------------- rendering


def _render(s: Section) -> str:
    title = f"`{s.path}`" if s.path else "Top-level keys"
    lines = [f"## {title}", "", _describe(s)]
    rows = [_row(s, f) for f in _scalar_fields(s.cls)]
    if rows:
        lines += ["", *_table(COLUMNS, rows)]
    if s.named is not None:
        lines += ["", *_named_defaults(s)]
    return "\n".join(lines)


def _describe(s: Section) -> str:
    doc = s.doc[:1].upper() + s.doc[1:]
    text = f"*{doc}.* {_clean(s.cls.__doc__ or '')}"
    if s.named is not None:
        parent = s.path.removesuffix("." + NAME)
        text += (
            f" A table of named entries: write `[{parent}.<name>]`. The defaults below are "
            "those of a new name; a built-in name starts from its own defaults (next table)."
        )
    return text


def _row(s: Section, f: dataclasses.Field[Any]) -> tuple[str, ...]:
    meta: Meta = f.metadata["spec"]
    hint = typing.get_type_hints(s.cls)[f.name]
    return (
        f"`{_join(s.path, f.name)}`",
        f"`{_toml(getattr(s.value, f.name))}`",
        meta.unit,
        _allowed(hint, meta),
        meta.doc,
        meta.source,
    )


def _named_defaults(s: Section) -> list[str]:
    assert s.named is not None
    names = list(s.named)
    parent = s.path.removesuffix("." + NAME)
    header = ("key", *(f"`{n}`" for n in names))
    rows = [
        (f"`{f.name}`", *(f"`{_toml(getattr(s.named[n], f.name))}`" for n in names))
        for f in _scalar_fields(s.cls)
    ]
    intro = f"Built-in entries of `{parent}` (the baseline), key by name:"
    return [intro, "", *_table(header, rows)]


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]


def _contents(sections: list[Section]) -> str:
    lines = ["## Sections", ""]
    for s in sections:
        title = f"`{s.path}`" if s.path else "Top-level keys"
        lines.append(f"- [{title}](#{_anchor(title)}): {s.doc}")
    return "\n".join(lines)


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _scalar_fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if "spec" in f.metadata]


def _allowed(hint: Any, meta: Meta) -> str:
    if typing.get_origin(hint) is tuple:
        lo, hi = meta.length or (0, None)
        if hi is None:
            count = f"{lo} or more values"
        elif lo == hi:
            count = f"{lo} values"
        else:
            count = f"{lo} to {hi} values"
        return f"list of {count}, each {meta.allowed()}"
    if hint is bool:
        return "true or false"
    if hint is str:
        return meta.allowed() if meta.choices else "text"
    if hint is int:
        lo = "" if meta.lo is None else f"{int(meta.lo)}"
        hi = "" if meta.hi is None else f"{int(meta.hi)}"
        bounds = f"{lo} to {hi}" if lo and hi else (f">= {lo}" if lo else f"<= {hi}")
        return f"whole number, {bounds}" if lo or hi else "whole number"
    return meta.allowed()


def _toml(v: Any) -> str:
    """A default value as it would be written in a scenario file."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, float):
        short = f"{v:g}"
        return short if float(short) == v else repr(v)
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return str(v)


def _clean(doc: str) -> str:
    """A docstring as one markdown paragraph (Sphinx roles and double backticks removed)."""
    text = " ".join(doc.split())
    text = re.sub(r":\w+:`~?([^`]*)`", r"`\1`", text)
    return text.replace("``", "`")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --------------------------------------------------------------------------- intro


def _example_error(data: dict[str, Any]) -> str:
    try:
        build_scenario(data)
    except ScenarioError as exc:
        return f"error: {exc}"
    raise AssertionError(f"expected {data!r} to be rejected")


def _intro() -> str:
    bad_key = _example_error({"ladder": {"emergency_contact": {"triger": "day"}}})
    bad_value = _example_error({"ladder": {"sms": {"days": [0, -1]}}})
    bad_choice = _example_error({"ladder": {"emergency_contact": {"trigger": "sometimes"}}})
    return f"""\
# Scenario reference

<!-- Generated from the declarations in sim/spec/ by `python -m sim reference --write`.
Do not edit by hand: tests/test_reference.py fails when this file differs from the generated
text. -->

A scenario is a TOML file describing one policy against one population. Every key is optional:
a file only states what differs from the built-in defaults, and the built-in defaults *are* the
baseline scenario (case A's ladder: SMS, robot calls, agent calls, emergency contacts after 5
consecutive declined calls while unreachable). The shipped scenarios are in `scenarios/`.

```toml
name = "day14"
[ladder.emergency_contact]
trigger = "day"   # case C: relatives are contacted around day 14
day = 14
```

## Units

- **days**: durations and horizons; **DPD**: days past due, where day 0 is the first day past
  due (and a Monday).
- **hour**: a clock time in hours of the day, `8.5` = 08:30; calls must fall in
  `[rules.call_start, rules.call_end)`.
- **yuan**: money (principal, fees, costs).
- **per day**: rates, hazards and repayment intensities.
- Probabilities and shares are between 0 and 1; a number written without a decimal point is
  accepted where a decimal is expected.

## How a scenario is merged

1. Start from the built-in defaults (the baseline scenario).
2. Apply the scenario file: each table is merged key by key, so keys you do not write keep
   their defaults. A list replaces the whole default list.
3. Apply command-line overrides: `--borrowers N` (`population.borrowers`), `--days D`
   (`days`), `--seed S` (`seed`) and `--set KEY=VALUE` with a dotted key path and a TOML value,
   e.g. `--set agents.per_10k_borrowers=30` or `--set ladder.emergency_contact.trigger=day` (a
   value that is not valid TOML is taken as a string).
4. Validate: unknown keys are rejected (the message lists the keys allowed there), every value
   is checked against its type and allowed range, and a few rules tie keys together:
   `rules.call_end` later than `rules.call_start`, `behaviour.partial_min` <=
   `behaviour.partial_max`, an agent shift ending by 24:00, and at least one positive weight
   among segments, relationships and `population.contacts.count_weights`.

Named tables (`population.segments.NAME`, `population.contacts.relationships.NAME`) merge per
name: a built-in name (e.g. `avoider`) starts from its own defaults, listed after its key table,
so `[population.segments.avoider]` with only `weight = 0.2` changes nothing else; a new name
starts from the key table's defaults. Built-in entries you do not mention stay in (set
`weight = 0` to drop one). Weights are normalised to sum to 1. `name` defaults to the file name
without `.toml`.

## Errors

A bad scenario stops the run before anything is simulated or written: the command prints one
line naming the dotted key path and exits with code 2, for example

```text
{bad_key}
{bad_value}
{bad_choice}
```

## Calibration targets

The segment weights and levels are tuned together towards published figures
([sources.md](sources.md)): about 86% of principal overdue at DPD 0 repaid within 30 days (Qifu
Technology, Q2 2024) and 40-60% of early-stage delinquent accounts curing with no intervention
(McKinsey, via vendors); case C adds that debt more than three months overdue is recovered in
fewer than 10% of cases; the shrinking-dollar surveys give the exponential shape of that decline
(`behaviour.aging_half_life_days`). The README's "Calibration" section lists what the baseline
reproduces, measured, and `tests/test_calibration.py` keeps it so. The `source` column names
the figure behind each default (`sources.md`: [sources.md](sources.md); "cases A/B/C": the
case articles summarised in [domain.md](domain.md)); "modelling choice" means no published
figure was used."""
