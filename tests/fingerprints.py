"""Fingerprints of the shipped scenarios' results, to prove a refactoring changes nothing.

A fingerprint is a SHA-256 per table column (outcomes, daily, monthly, events) and the
flattened summary, value by value. ``tests/data/fingerprints.json`` holds the fingerprints of
the engine as it was when they were recorded; :mod:`tests.test_fingerprints` recomputes them
and requires every recorded column and summary value to be identical, to the bit.

Record them again (only when a change of results is intended, and say why in the commit)::

    .venv/bin/python tests/fingerprints.py --write
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "fingerprints.json"
SCENARIOS = ("baseline", "day14", "no_emergency_contact", "regulated", "inflow")
BORROWERS = 2000
SEED = 7


def column_hash(values: pd.Series) -> str:
    """SHA-256 of a column's values, exactly (floats by their bits, objects by repr)."""
    arr = values.to_numpy()
    if arr.dtype == object:
        data = "\x1f".join(map(repr, arr.tolist())).encode()
    else:
        data = np.ascontiguousarray(arr).tobytes() + str(arr.dtype).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def flatten(doc: Any, prefix: str = "") -> dict[str, str]:
    """The summary as ``dotted.key -> repr(value)`` (floats by repr: every bit counts)."""
    out: dict[str, str] = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix.rstrip(".")] = repr(float(doc)) if isinstance(doc, float) else repr(doc)
    return out


def fingerprint(name: str, trace: bool) -> dict[str, Any]:
    from sim.engine.core import simulate
    from sim.results.summary import summarize
    from sim.spec import load_scenario

    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml", {"population.borrowers": BORROWERS})
    rec = simulate(sc, SEED, trace=trace)
    tables = {"outcomes": rec.outcomes, "daily": rec.daily, "monthly": rec.monthly}
    if trace:
        tables["events"] = rec.events
    doc: dict[str, Any] = {
        table: {c: column_hash(df[c]) for c in df.columns} for table, df in tables.items()
    }
    summary = summarize(rec, sc)
    doc["summary"] = flatten({k: v for k, v in summary.items() if not _nan(v)})
    return doc


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def all_fingerprints() -> dict[str, Any]:
    return {f"{n}/trace={t}": fingerprint(n, t) for n in SCENARIOS for t in (False, True)}


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/fingerprints.py --write")
    DATA.write_text(json.dumps(all_fingerprints(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {DATA}")
