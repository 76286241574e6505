"""Shared helpers for the engine tests: explicit scenarios built from dotted-path overrides.

The engine's default parameter values are being tuned, so nothing here relies on them: BASE
sets every key of the scenario explicitly, with every collection action switched off, one
borrower segment ("test") and one kind of emergency contact ("test"). Tests layer
dotted-path overrides on top, e.g. ``scenario({"ladder.sms.enabled": True}, days=30)``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import os
import signal
import typing
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy
from hypothesis import settings

from sim.engine.core import simulate
from sim.results.records import Records
from sim.spec import Scenario, build_scenario, set_path

# Property tests (test_invariants.py) draw the same examples on every run of ``make test``, so
# CI passes or fails on the code alone; ``make fuzz`` explores new random examples instead.
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A segment with every trait pinned: never pays on its own, never answers, never reads,
# never goes dark, never calls in, never complains, never asks for a plan.
SEGMENT: dict[str, Any] = {
    "weight": 1.0,
    "fraudulent": False,
    "principal_median": 1000.0,
    "principal_sigma": 0.0,
    "willingness": 1.0,
    "ability": 1.0,
    "base_intensity": 0.0,
    "contact_jump": 0.0,
    "escalation_jump": 0.0,
    "full_payment_prob": 1.0,
    "shock_prob": 0.0,
    "shock_recovery_days": 30.0,
    "shock_ability_factor": 1.0,
    "sms_read": 0.0,
    "robot_answer": 0.0,
    "agent_answer": 0.0,
    "new_number_answer": 0.0,
    "fatigue": 0.0,
    "unreachable_at_entry": 0.0,
    "go_dark_rate": 0.0,
    "reappear_rate": 0.0,
    "service_contact_rate": 0.0,
    "pay_on_call_prob": 0.0,
    "promise_prob": 0.0,
    "promise_keep_prob": 0.0,
    "plan_request_prob": 0.0,
    "refusal_prob": 0.0,
    "dispute_prob": 0.0,
    "plan_keep_prob": 1.0,
    "complaint_per_call": 0.0,
    "complaint_third_party": 0.0,
    "contact_answer_factor": 1.0,
}

RELATIONSHIP: dict[str, Any] = {
    "weight": 1.0,
    "answer_prob": 0.0,
    "relay_prob": 0.0,
    "complaint_prob": 0.0,
}


def _zero_weights(mapping: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {name: {"weight": 0.0} for name in mapping}


_DEFAULT = Scenario()

# Every key of the scenario, explicitly; every rung off.
BASE: dict[str, Any] = {
    "name": "test",
    "description": "",
    "days": 60.0,
    "seed": 12345,
    "population": {
        "borrowers": 3,
        "arrival": "cohort",
        "inflow_days": 30,
        "trait_spread": 0.0,
        "segments": {
            **_zero_weights(_DEFAULT.population.segments),
            "test": {"new": True, **SEGMENT},
        },
        "contacts": {
            "count_weights": [1.0, 0.0, 0.0],
            "warned_prob": 0.0,
            "warned_complaint_factor": 1.0,
            "consent_prob": 1.0,
            "details_relay_factor": 1.0,
            "details_complaint_factor": 1.0,
            "relationships": {
                **_zero_weights(_DEFAULT.population.contacts.relationships),
                "test": {"new": True, **RELATIONSHIP},
            },
        },
    },
    "behaviour": {
        "decay": 0.7,
        "payment_jump": 0.0,
        "payment_jump_per_share": 0.0,
        "partial_min": 0.1,
        "partial_max": 0.9,
        "fatigue_memory_days": 7.0,
        "aging_half_life_days": 0.0,
    },
    "ladder": {
        "sms": {
            "enabled": False,
            "days": [0.0],
            "hour": 10.0,
            "read_factor": 1.0,
            "effect": 1.0,
            "cost": 0.05,
        },
        "push": {
            "enabled": False,
            "days": [2.0],
            "hour": 12.0,
            "read_factor": 1.0,
            "effect": 1.0,
            "cost": 0.0,
        },
        "robot": {
            "enabled": False,
            "start_day": 1.0,
            "end_day": 7.0,
            "calls_per_day": 1,
            "hour": 9.5,
            "effect": 1.0,
            "cost": 0.2,
        },
        "agent": {
            "enabled": False,
            "start_day": 3.0,
            "end_day": 89.0,
            "every_days": [1.0],
            "dead_number_days": 7.0,
            "talk_minutes": 6.0,
            "ring_minutes": 1.0,
            "effect": 1.0,
        },
        "second_reminder": {
            "enabled": False,
            "day": 7.0,
            "hour": 11.0,
            "read_factor": 1.0,
            "effect": 1.0,
            "cost": 0.02,
        },
        "emergency_contact": {
            "trigger": "never",
            "declined_calls": 5,
            "unreachable_days": 7.0,
            "day": 14.0,
            "only_when_unreachable": False,
            "disclosure": "relay_only",
            "require_consent": False,
            "attempts_per_contact": 2,
            "retry_days": 2.0,
            "effect": 1.0,
        },
        "number_rotation": {"enabled": False, "after_unanswered": 8},
        "measures": {
            "enabled": False,
            "freeze_day": 10.0,
            "report_day": 30.0,
            "freeze_willingness": 1.0,
            "report_willingness": 1.0,
            "effect": 0.0,
        },
        "lost_contact": {
            "enabled": False,
            "no_contact_days": 30.0,
            "identity_check_cost": 20.0,
            "identity_check_days": 2.0,
            "field_visit": False,
            "field_visit_days": 14.0,
            "field_visit_cost": 300.0,
            "field_visit_success": 0.0,
            "litigation": False,
            "litigation_day": 120.0,
            "litigation_min_balance": 3000.0,
            "litigation_cost": 1500.0,
            "litigation_days": 45.0,
            "litigation_success": 0.0,
            "litigation_recovery": 0.6,
        },
        "agency": {
            "enabled": False,
            "day": 90.0,
            "commission": 0.3,
            "calls_per_week": 2.0,
            "effect": 1.0,
        },
        "promises": {
            "max_days": 3,
            "broken_keep_factor": 1.0,
            "max_broken": 1000,
            "follow_up_days": 1.0,
            "dispute_days": 14.0,
        },
        "grace": {"enabled": False},
        "waiver": {"enabled": False},
        "plans": {
            "enabled": False,
            "from_day": 0.0,
            "to_day": 3650.0,
            "min_balance": 0.0,
            "max_broken_promises": 1000,
            "instalments": 3,
            "interval_days": 30.0,
            "first_due_days": 7.0,
            "max_per_account": 1,
            "freeze_fees": True,
        },
        "write_off_day": 3650.0,
    },
    "rules": {
        "call_start": 8.0,
        "call_end": 22.0,
        "max_attempts_per_day": 0,
        "max_unanswered_per_day": 0,
        "max_connected_per_day": 0,
        "max_attempts_per_week": 0,
        "min_gap_minutes": 1.0,
        "quiet_days_after_conversation": 0.0,
    },
    "agents": {
        "per_10k_borrowers": 10_000.0,
        "shift_start": 8.0,
        "shift_hours": 14.0,
        "weekend_share": 1.0,
        "slot_minutes": 30.0,
    },
    "fees": {"late_fee_rate": 0.01, "penalty_daily_rate": 0.0005, "cap": 0.24},
    "costs": {"agent_hour": 60.0, "line_minute": 0.1, "complaint": 200.0, "contact_call": 0.5},
    "complaints": {
        "scale": 1.0,
        "robot_call": 1.0,
        "agent_call": 1.0,
        "agency_call": 1.0,
        "call_pressure": 0.0,
        "abandoned_call": 0.0,
        "emergency_contact": 1.0,
        "contact": 1.0,
        "dispute": 0.0,
    },
}


def _prune(data: dict[str, Any], cls: type) -> dict[str, Any]:
    """Drop keys the current spec does not have (the engine's spec is still evolving; a test
    that needs a key sets it itself and fails loudly if it is gone)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "new" and value is True:  # a named entry declared new (not a field)
            out[key] = value
            continue
        if key not in fields:
            continue
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            out[key] = _prune(value, hint)
        elif typing.get_origin(hint) is dict:
            item = typing.get_args(hint)[1]
            out[key] = {name: _prune(v, item) for name, v in value.items()}
        else:
            out[key] = value
    return out


BASE = _prune(BASE, Scenario)

# Switch every rung off (layer over any scenario dict).
ALL_OFF: dict[str, Any] = {
    "ladder.sms.enabled": False,
    "ladder.push.enabled": False,
    "ladder.robot.enabled": False,
    "ladder.agent.enabled": False,
    "ladder.second_reminder.enabled": False,
    "ladder.emergency_contact.trigger": "never",
    "ladder.number_rotation.enabled": False,
    "ladder.measures.enabled": False,
    "ladder.lost_contact.enabled": False,
    "ladder.agency.enabled": False,
    "ladder.plans.enabled": False,
    "ladder.grace.enabled": False,
    "ladder.waiver.enabled": False,
}

SEG = "population.segments.test."
REL = "population.contacts.relationships.test."


def scenario(*layers: dict[str, Any], **dotted: Any) -> Scenario:
    """A Scenario: BASE, then each dict of dotted-path overrides, then keyword overrides.

    Keyword names may contain dots: ``scenario(**{"ladder.sms.enabled": True})``.
    """
    data = copy.deepcopy(BASE)
    for layer in (*layers, dotted):
        for key, value in layer.items():
            set_path(data, key, value)
    return build_scenario(data)


def seg(**values: Any) -> dict[str, Any]:
    """Dotted overrides for the test segment: ``seg(agent_answer=1.0)``."""
    return {SEG + k: v for k, v in values.items()}


def rel(**values: Any) -> dict[str, Any]:
    """Dotted overrides for the test relationship."""
    return {REL + k: v for k, v in values.items()}


def run(sc: Scenario, seed: int = 7, **kw: Any) -> Records:
    """Simulate with tracing on."""
    kw.setdefault("trace", True)
    return simulate(sc, seed, **kw)


def events_of(records: Records, borrower: int | None = None, **match: str) -> pd.DataFrame:
    """Trace rows (time-ordered) of one borrower (or all) whose columns equal ``match``."""
    ev = records.events
    assert ev is not None, "run with trace=True"
    mask = np.ones(len(ev), dtype=bool)
    if borrower is not None:
        mask &= (ev["borrower_id"] == borrower).to_numpy()
    for col, value in match.items():
        mask &= (ev[col] == value).to_numpy()
    return ev[mask].sort_values("time", kind="stable").reset_index(drop=True)


def calls_of(records: Records, borrower: int | None = None) -> pd.DataFrame:
    """Calls to the borrower (robot, agent, agency)."""
    return events_of(records, borrower, kind="call")


OWN_MODULES = {
    "test_engine.py",
    "test_invariants.py",
    "test_statistics.py",
    "test_agents.py",
    "test_streams.py",
}


class Hang(Exception):
    """A test ran past its time limit (the engine may be looping without advancing)."""


_ENGINE_DIRS = (
    str(Path(__file__).resolve().parent.parent / "sim"),
    str(Path(simpy.__file__).resolve().parent),
)


def _in_engine(frame: FrameType | None) -> bool:
    """Whether the interrupted stack is running the simulator (ours or SimPy's code)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(_ENGINE_DIRS):
            return True
        frame = frame.f_back
    return False


def _alarm(signum: int, frame: FrameType | None) -> None:
    # Raised only inside the engine: an alarm landing in pytest's own reporting or in a
    # library's callback (hypothesis's gc hook) would crash the test run instead of failing
    # the test. Outside the engine the repeating timer simply fires again a second later.
    if _in_engine(frame):
        raise Hang("time limit exceeded: the engine may be stuck in a loop")


@pytest.fixture(autouse=True)
def time_limit(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test of ours that runs longer than 120 s (slow tests: 300 s) instead of hanging."""
    if request.path.name not in OWN_MODULES or not hasattr(signal, "setitimer"):
        yield
        return
    seconds = 300 if request.node.get_closest_marker("slow") else 120
    if hasattr(request.function, "hypothesis"):  # a property test: the limit is per 25 examples
        seconds *= max(1.0, settings().max_examples / 25)
    with time_limit_of(seconds):
        yield


@contextlib.contextmanager
def time_limit_of(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` after ``seconds``, and again every second until the block exits.

    Repeating matters: SimPy turns an exception inside one account's process into that
    process's failure, and the run only stops once the queue reaches it, so a second account
    stuck in the same loop would otherwise swallow a single alarm.
    """
    old = signal.signal(signal.SIGALRM, _alarm)
    outer = signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)  # returns the timer it replaces
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer[0] > 0:  # an enclosing limit: put it back (without the time spent here)
            signal.setitimer(signal.ITIMER_REAL, *outer)


def hour_of_day(t: float) -> float:
    return (t - math.floor(t)) * 24.0
