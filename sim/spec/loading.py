"""Loading and validating scenarios: TOML files, dicts, dotted-path overrides.

Every value is checked against its declaration (:func:`sim.spec.params.param`): a bad key or
value raises :class:`~sim.spec.params.ScenarioError` naming its key path and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import typing
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.spec.params import Meta, ScenarioError
from sim.spec.population import RELATIONSHIP_DEFAULTS, SEGMENT_DEFAULTS, Relationship, Segment
from sim.spec.retired import RETIRED
from sim.spec.scenario import Scenario

_NAMED_DEFAULTS: dict[type, dict[str, dict[str, Any]]] = {
    Segment: SEGMENT_DEFAULTS,
    Relationship: RELATIONSHIP_DEFAULTS,
}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_scalar(value: Any, hint: Any, meta: Meta, path: str) -> Any:
    """Convert and range-check one scalar against its declared type and :class:`Meta`."""
    allowed = meta.allowed()
    if hint is bool:
        if not isinstance(value, bool):
            raise ScenarioError(path, f"expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ScenarioError(path, f"expected a string, got {value!r}")
        if meta.choices and value not in meta.choices:
            raise ScenarioError(path, f"{value!r} is not allowed; allowed: {allowed}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(path, f"expected a whole number ({allowed}), got {value!r}")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(path, f"expected a number ({allowed}), got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ScenarioError(path, f"expected a finite number ({allowed}), got {value!r}")
    if (meta.lo is not None and value < meta.lo) or (meta.hi is not None and value > meta.hi):
        raise ScenarioError(path, f"{value!r} is out of range; allowed: {allowed}")
    return value


def _check_value(value: Any, hint: Any, meta: Meta, path: str) -> Any:
    if typing.get_origin(hint) is tuple:
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        if not isinstance(value, list | tuple):
            raise ScenarioError(path, f"expected a list of numbers, got {value!r}")
        if meta.length and not meta.length[0] <= len(value) <= meta.length[1]:
            lo, hi = meta.length
            size = f"exactly {lo}" if lo == hi else f"{lo} to {hi}"
            raise ScenarioError(path, f"expected {size} values, got {len(value)}")
        return tuple(_check_scalar(v, item, meta, f"{path}[{i}]") for i, v in enumerate(value))
    return _check_scalar(value, hint, meta, path)


def _build(cls: type, data: Any, path: str, base: Any = None) -> Any:
    """Build spec dataclass ``cls`` from ``data`` layered over ``base`` (an instance or None)."""
    if not isinstance(data, dict):
        raise ScenarioError(path, f"expected a table of keys, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    keys = {n for n, f in fields.items() if "extensions" not in f.metadata}
    for f in fields.values():
        keys |= set(f.metadata.get("extensions", ()))
    unknown = sorted(set(data) - keys)
    if unknown:
        where = _join(path, unknown[0])
        if where in RETIRED:
            raise ScenarioError(where, f"no longer a key: {RETIRED[where]}")
        raise ScenarioError(where, f"unknown key; allowed keys here: {', '.join(sorted(keys))}")
    hints = _hints(cls)
    base = base if base is not None else cls()
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        current = getattr(base, name)
        sub = _join(path, name)
        if "extensions" in f.metadata:
            kwargs[name] = _build_extensions(f.metadata["extensions"], data, path, current)
        elif name not in data:
            kwargs[name] = current
        elif f.metadata.get("section"):
            kwargs[name] = _build(hints[name], data[name], sub, current)
        elif f.metadata.get("mapping"):
            kwargs[name] = _build_mapping(hints[name], data[name], sub, current)
        else:
            kwargs[name] = _check_value(data[name], hints[name], f.metadata["spec"], sub)
    return cls(**kwargs)


def _build_extensions(
    registry: dict[str, type], data: dict[str, Any], path: str, current: dict[str, Any]
) -> dict[str, Any]:
    """The registered sections (each built from its own keys in ``data``, over ``current``)."""
    out = {}
    for name, cls in registry.items():
        base = current.get(name, cls())
        out[name] = _build(cls, data[name], _join(path, name), base) if name in data else base
    return out


def _build_mapping(hint: Any, data: Any, path: str, current: dict[str, Any]) -> dict[str, Any]:
    item_cls = typing.get_args(hint)[1]
    if not isinstance(data, dict):
        raise ScenarioError(path, f"expected a table of named entries, got {data!r}")
    out = dict(current)
    named = _NAMED_DEFAULTS.get(item_cls, {})
    for name, sub in data.items():
        where = _join(path, name)
        new = False
        if isinstance(sub, dict) and "new" in sub:
            new = sub["new"]
            if not isinstance(new, bool):
                raise ScenarioError(f"{where}.new", f"expected true or false, got {new!r}")
            sub = {k: v for k, v in sub.items() if k != "new"}
        if name in out:
            base = out[name]
        elif name in named or new:
            base = item_cls(**named.get(name, {}))
        else:  # a typo of a built-in name would silently add an entry: ask for intent
            kind = item_cls.__name__.lower()
            close = difflib.get_close_matches(name, [*named, *out], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ScenarioError(
                where,
                f"no {kind} of that name (built-in: {', '.join(named)}); {hint}to add a new "
                "one, put new = true in its table",
            )
        out[name] = _build(item_cls, sub, where, base)
    return out


CONVERSATION_SHARES = (
    "pay_on_call_prob", "promise_prob", "plan_request_prob", "refusal_prob", "dispute_prob",
)  # fmt: skip
"""A segment's shares of the outcomes of a right-party contact, in the order they are drawn
(:mod:`sim.engine.rungs.conversations`); the rest is no outcome."""


def _check_consistency(s: Scenario) -> None:
    """Rules that tie several keys together."""
    seg = s.population.segments
    if sum(v.weight for v in seg.values()) <= 0:
        raise ScenarioError("population.segments", "at least one segment needs a weight > 0")
    rel = s.population.contacts.relationships
    if sum(v.weight for v in rel.values()) <= 0:
        raise ScenarioError(
            "population.contacts.relationships", "at least one relationship needs a weight > 0"
        )
    if sum(s.population.contacts.count_weights) <= 0:
        raise ScenarioError("population.contacts.count_weights", "needs a weight > 0")
    if not s.rules.call_start < s.rules.call_end:
        raise ScenarioError(
            "rules.call_end", f"must be later than rules.call_start ({s.rules.call_start:g})"
        )
    for name, v in seg.items():
        shares = sum(getattr(v, k) for k in CONVERSATION_SHARES)
        if shares > 1 + 1e-9:
            raise ScenarioError(
                f"population.segments.{name}",
                f"the conversation outcome shares ({', '.join(CONVERSATION_SHARES)}) add up "
                f"to {shares:g}; they must add up to at most 1 (the rest is no outcome)",
            )
    for offer in ("grace", "plans", "waiver"):
        o = getattr(s.ladder, offer)
        if o.from_day > o.to_day:
            raise ScenarioError(f"ladder.{offer}.to_day", f"must be >= from_day ({o.from_day:g})")
        if o.min_balance > o.max_balance:
            raise ScenarioError(
                f"ladder.{offer}.max_balance", f"must be >= min_balance ({o.min_balance:g})"
            )
    if s.behaviour.partial_min > s.behaviour.partial_max:
        raise ScenarioError("behaviour.partial_max", "must be >= behaviour.partial_min")
    a = s.agents
    if a.shift_start + a.shift_hours > 24:
        raise ScenarioError(
            "agents.shift_hours", "the shift must end by 24:00 (start + hours <= 24)"
        )
    if min(a.shift_start + a.shift_hours, s.rules.call_end) <= max(
        a.shift_start, s.rules.call_start
    ):
        raise ScenarioError(
            "agents.shift_start",
            f"the shift ({a.shift_start:g}:00 for {a.shift_hours:g} hours) must overlap the "
            f"calling hours (rules.call_start {s.rules.call_start:g} to rules.call_end "
            f"{s.rules.call_end:g}): agents call only inside both",
        )


def build_scenario(data: dict[str, Any] | None = None, base: Scenario | None = None) -> Scenario:
    """Validate ``data`` (nested dict, as parsed from TOML) over ``base`` (default: baseline)."""
    scenario = _build(Scenario, data or {}, "", base)
    _check_consistency(scenario)
    return scenario


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The table in TOML file ``path`` (a ``what`` file: scenario, sweep, calibration).

    Raises :class:`ScenarioError` with one line saying what is wrong, for every way a file
    can be unusable: missing, a directory, unreadable, not UTF-8, not TOML, or nested too
    deeply to parse."""
    path = Path(path)
    if str(path) in ("", "."):
        raise ScenarioError("", f"no {what} file given")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("", f"{what} file not found: {path}") from None
    except IsADirectoryError:
        raise ScenarioError("", f"{path} is a directory, not a {what} file") from None
    except PermissionError:
        raise ScenarioError("", f"{path} cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            "", f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ScenarioError("", f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("", f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError("", f"{path} is not valid TOML: nested too deeply") from None


def plain_copy(value: Any, path: str) -> Any:
    """A deep copy of parsed TOML, refusing what no key of ours can hold (TOML dates and
    times) with an error naming its key path (a sweep keeps one as its base)."""
    if isinstance(value, dict):
        return {k: plain_copy(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_copy(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise ScenarioError(
        path, f"a {type(value).__name__} ({value}) is not allowed here; use a number or a string"
    )


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read a scenario TOML file, apply dotted-path ``overrides`` and validate.

    Raises :class:`ScenarioError` (naming the key path) for any bad key or value, and for a
    file that is missing or not valid TOML.
    """
    path = Path(path)
    data = _extended(path, [])
    own = read_toml(path, "scenario")  # what this file and the overrides set, for advice
    for dotted, value in (overrides or {}).items():
        set_path(data, dotted, value)
        set_path(own, dotted, value)
    data.setdefault("name", path.stem)
    scenario = build_scenario(data)
    from sim.spec.advice import ScenarioWarning, advise

    for message in advise(own, scenario):
        warnings.warn(ScenarioWarning(message), stacklevel=2)
    return scenario


def _extended(path: Path, chain: list[Path]) -> dict[str, Any]:
    """The file's table over the one it ``extends`` (a path relative to it), recursively:
    tables merge key by key, anything else in this file replaces the other's."""
    data = read_toml(path, "scenario")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError("extends", f"expected a file name, got {parent!r}")
    base = (path.parent / parent).resolve()
    if base in chain or base == path.resolve():
        raise ScenarioError("extends", f"{parent} extends itself (through {path.name})")
    merged = _extended(base, [*chain, path.resolve()])
    merged.pop("name", None)  # the name is this file's
    merged.pop("description", None)
    return _merge(merged, data)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """``scenario`` with dotted-path ``overrides`` applied, validated again (a bad key or value
    raises :class:`ScenarioError` naming it)."""
    if not overrides:
        return scenario
    data = to_dict(scenario)
    for dotted, value in overrides.items():
        set_path(data, dotted, value)
    return build_scenario(data)


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data['a']['b']['c'] = value`` for ``dotted = 'a.b.c'``, creating tables."""
    *heads, last = dotted.split(".")
    node = data
    for h in heads:
        node = node.setdefault(h, {})
        if not isinstance(node, dict):
            raise ScenarioError(dotted, f"{h} is not a table")
    node[last] = value


def to_dict(obj: Any) -> Any:
    """Plain-data view of a spec object (tuples become lists, as TOML and JSON want)."""
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            value = to_dict(getattr(obj, f.name))
            if "extensions" in f.metadata:  # registered sections are ordinary keys in a file
                out.update(value)
            else:
                out[f.name] = value
        return out
    if isinstance(obj, dict):
        out = {k: to_dict(v) for k, v in obj.items()}
        for k, v in obj.items():  # a named entry that is not built in says it is new
            if k not in _NAMED_DEFAULTS.get(type(v), {k: None}):
                out[k] = {"new": True, **out[k]}
        return out
    if isinstance(obj, tuple):
        return [to_dict(v) for v in obj]
    return obj


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``: TOML tables as dotted keys (a sweep's or a
    calibration's ``set``)."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, f"{key}."))
        else:
            out[key] = v
    return out


def check_keys(data: Mapping[str, Any], allowed: set[str], path: str) -> None:
    """Raise :class:`ScenarioError` for the first key of ``data`` not in ``allowed``."""
    for key in data:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            raise ScenarioError(where, f"unknown key; allowed: {', '.join(sorted(allowed))}")


def whole_number(
    data: Mapping[str, Any], key: str, prefix: str, lo: int, hi: int, default: int
) -> int:
    """``data[key]`` (or ``default``) as a whole number in ``[lo, hi]``; the error names
    ``prefix + key``. For the top-level numbers of sweep and calibration files."""
    v = data.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ScenarioError(f"{prefix}{key}", f"expected an integer, got {v!r}")
    if not lo <= v <= hi:
        raise ScenarioError(f"{prefix}{key}", f"{v} is out of range; allowed: {lo} to {hi}")
    return v


def base_scenario(
    raw: Mapping[str, Any], path: Path | None, overrides: Mapping[str, Any], what: str
) -> tuple[Scenario, Path, dict[str, Any]]:
    """The base scenario a ``what`` file (sweep, calibration) names: ``base``, relative to
    the file, with the file's ``set`` table and then ``overrides`` applied. Returns the
    scenario, its path and the dotted overrides applied."""
    base_ref = raw.get("base")
    if not isinstance(base_ref, str):
        raise ScenarioError("base", f"missing: the base scenario file, relative to the {what}")
    base_path = (path.parent if path else Path.cwd()) / base_ref
    if not base_path.is_file():
        raise ScenarioError("base", f"scenario file not found: {base_path}")
    sets = raw.get("set", {})
    if not isinstance(sets, dict):
        raise ScenarioError("set", f"expected a table of dotted keys, got {sets!r}")
    applied = {**flatten(sets), **overrides}
    return load_scenario(base_path, applied), base_path, applied
