"""Results of the shipped scenarios are bit-identical to the recorded fingerprints.

The recorded fingerprints (``tests/data/fingerprints.json``, see ``tests/fingerprints.py``)
pin every column of outcomes, daily, monthly and events and every value of the summary, with
and without tracing. A refactoring of the engine must leave all of them unchanged; a new
column or summary key is allowed (the run-directory contract only ever adds).
"""

from __future__ import annotations

import json

import fingerprints as fp
import pytest

RECORDED = json.loads(fp.DATA.read_text())


@pytest.mark.parametrize("key", sorted(RECORDED))
def test_results_match_the_recorded_fingerprint(key: str) -> None:
    name, trace = key.split("/trace=")
    now = fp.fingerprint(name, trace == "True")
    for part, recorded in RECORDED[key].items():
        missing = sorted(set(recorded) - set(now[part]))
        assert not missing, f"{key} {part}: no longer produced: {missing}"
        changed = {k: (v, now[part][k]) for k, v in recorded.items() if now[part][k] != v}
        assert not changed, f"{key} {part}: changed (recorded, now): {changed}"
